"""A header name UTF-8 cannot encode (a lone surrogate, as ``os.fsdecode`` can make) is the
caller's error on every path a record takes: ``SerializationError`` raised by the call, nothing
appended, no buffer memory kept, and the producer goes on."""
from __future__ import annotations

from typing import Any

import pytest

from kafkaio import Producer
from kafkaio.errors import SerializationError
from kafkaio.testing.fake import FakeCluster

BAD = [("\ud800", b"x")]


async def _send(p: Producer, how: str) -> Any:
    if how == "send_and_wait":
        return await p.send_and_wait("t", b"bad", headers=BAD)
    if how == "send_many":
        return await p.send_many("t", [(None, b"bad", BAD)])
    return await p.send("t", b"bad", headers=BAD)


async def _deliver(p: Producer, value: bytes) -> None:
    fut = await p.send("t", value)
    await p.flush()  # now, not after the linger
    await fut


@pytest.mark.parametrize("how, linger_ms", [
    ("send", 0),  # a new batch for the record
    ("send", 60_000),  # into the open batch
    ("send_and_wait", 0),
    ("send_many", 60_000),
])
async def test_an_unencodable_header_name_is_a_serialization_error_on_every_path(how: str, linger_ms: int) -> None:
    async with FakeCluster(topics={"t": 1}) as fake:
        async with Producer(bootstrap_servers=fake.bootstrap_servers, linger_ms=linger_ms) as p:
            await _deliver(p, b"warm-up")
            if linger_ms:
                await p.send("t", b"open")  # the partition has an open batch with room
            used = p._accumulator.memory_used
            with pytest.raises(SerializationError, match="header"):
                await _send(p, how)
            assert p._accumulator.memory_used == used
            await _deliver(p, b"after")
        got = [r.value for r in fake.records("t", 0)]
    assert b"bad" not in got and got[-1] == b"after"
