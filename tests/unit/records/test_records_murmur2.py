"""murmur2 must equal Java's ``org.apache.kafka.common.utils.Utils.murmur2`` bit for bit."""
from __future__ import annotations

import pytest
from records_testlib import implementations

# Inputs and results of Apache Kafka's UtilsTest.testMurmur2 (the Java client's own test vectors).
JAVA_VECTORS = [
    (b"21", -973932308),
    (b"foobar", -790332482),
    (b"a-little-bit-long-string", -985981536),
    (b"a-little-bit-longer-string", -1486304829),
    (b"lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8", -58897971),
    (b"abc", 479470107),
]


@pytest.fixture(params=implementations("hashing"))
def hashing(request):
    return request.param


@pytest.mark.parametrize("data,expected", JAVA_VECTORS)
def test_murmur2_matches_java(hashing, data, expected):
    assert hashing.murmur2(data) == expected


def test_murmur2_takes_any_bytes_like(hashing):
    assert hashing.murmur2(bytearray(b"foobar")) == hashing.murmur2(memoryview(b"xfoobar")[1:]) == -790332482


def test_murmur2_of_every_tail_length_is_a_signed_int32(hashing):
    for n in range(9):
        h = hashing.murmur2(bytes(range(n)))
        assert -(2**31) <= h < 2**31
