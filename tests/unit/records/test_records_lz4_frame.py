"""The LZ4 frame kafkaio writes: Kafka's frame layout, readable by any LZ4 frame decoder, the fast
compressor at Kafka's default level (as Java's Lz4BlockOutputStream), high compression otherwise."""
from __future__ import annotations

import random
import struct

import lz4.frame
import pytest

from kafkaio.records import codecs
from kafkaio.records.enums import Compression

# magic, FLG (version 1, independent blocks, no checksums, no size), BD (64 KiB), descriptor checksum
KAFKA_LZ4_HEADER = bytes.fromhex("04224d18604082")


def _letters(n: int, seed: int = 7) -> bytes:
    rnd = random.Random(seed)
    return bytes(rnd.choice(b"ABCDEFGH") for _ in range(n))


@pytest.mark.parametrize("size", [0, 1, 100, 65535, 65536, 65537, 200_000])
@pytest.mark.parametrize("level", [None, 9, 1, 12, 17])
def test_frame_round_trips_through_a_standard_decoder(size: int, level: int | None) -> None:
    data = _letters(size)
    frame = codecs.compress(Compression.LZ4, data, level)
    assert frame[:7] == KAFKA_LZ4_HEADER
    assert frame[-4:] == b"\x00\x00\x00\x00"  # end mark, no content checksum
    assert lz4.frame.decompress(frame) == data
    assert codecs.decompress(Compression.LZ4, frame) == data


def test_blocks_are_at_most_64_kib_and_incompressible_ones_are_stored() -> None:
    data = random.Random(1).randbytes(150_000)  # random bytes do not compress
    frame = codecs.compress(Compression.LZ4, data)
    pos, sizes = 7, []
    while True:
        (word,) = struct.unpack_from("<I", frame, pos)
        pos += 4
        if word == 0:
            break
        assert word & 0x80000000, "an incompressible block is stored uncompressed"
        n = word & 0x7FFFFFFF
        sizes.append(n)
        pos += n
    assert pos == len(frame)
    assert sizes == [65536, 65536, 150_000 - 131072]


def test_default_level_uses_the_fast_compressor_like_java() -> None:
    # Java compresses with lz4's fast compressor at the default level 9 and with the
    # high-compression one at any other level; the fast one gives different, larger output
    data = b"".join(b"%08d" % i + _letters(60, seed=i % 5) for i in range(2000))
    fast = codecs.compress(Compression.LZ4, data, None)
    assert codecs.compress(Compression.LZ4, data, 9) == fast
    high = codecs.compress(Compression.LZ4, data, 12)
    assert len(high) < len(fast)
    assert lz4.frame.decompress(high) == lz4.frame.decompress(fast) == data
