"""The read-back's parsers, on bytes and text written out by hand: offset commits as stored in
``__consumer_offsets``, and the Java console consumer's output lines."""
from __future__ import annotations

import struct

from kafkaio.testing.chaos.checker import LogRecord
from kafkaio.testing.chaos.readback import parse_console_output, parse_offset_commit


def _string(s: str) -> bytes:
    return struct.pack(">h", len(s)) + s.encode()


def test_an_offset_commit_record() -> None:
    key = struct.pack(">h", 1) + _string("grp") + _string("topic-a") + struct.pack(">i", 7)
    # value v3: version, offset, leader epoch, metadata, commit timestamp
    value = struct.pack(">hqi", 3, 1234, 5) + _string("") + struct.pack(">q", 0)
    assert parse_offset_commit(key, value) == ("grp", "topic-a", 7, 1234)


def test_group_metadata_and_tombstones_are_not_commits() -> None:
    group_key = struct.pack(">h", 2) + _string("grp")
    assert parse_offset_commit(group_key, b"\x00\x03anything") is None
    commit_key = struct.pack(">h", 1) + _string("grp") + _string("t") + struct.pack(">i", 0)
    assert parse_offset_commit(commit_key, None) is None


def test_console_consumer_lines() -> None:
    text = "Partition:0|Offset:4|null|p:1\nPartition:3|Offset:0|k7|a|b\nProcessed a total of 2 messages\n"
    assert parse_console_output(text, "t") == [LogRecord("t", 0, 4, None, "p:1"), LogRecord("t", 3, 0, "k7", "a|b")]
