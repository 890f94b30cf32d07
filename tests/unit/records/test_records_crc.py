"""The compiled batch CRC-32C (carry-less multiplication) against the crc32c package, byte for byte."""
from __future__ import annotations

import os
import pathlib
import platform
import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kafkaio._speedups import checksums_py

_records = pytest.importorskip("kafkaio._speedups._records", reason="compiled speedups not built")
crc_of = _records._crc32c_of
CASTAGNOLI = 0x11EDC6F41  # x^32 + ... : the CRC-32C polynomial, normal bit order


def test_the_fast_path_is_used_where_the_cpu_has_it():
    # otherwise the comparisons below would only cover the package's path
    if platform.machine() not in ("x86_64", "AMD64") or not pathlib.Path("/proc/cpuinfo").exists():
        pytest.skip("CPU flags only read on x86-64 Linux")
    flags = pathlib.Path("/proc/cpuinfo").read_text().split()
    assert _records._CRC32C_HARDWARE == ("pclmulqdq" in flags and "sse4_2" in flags)


@pytest.mark.parametrize("offset", [0, 1, 3, 8, 15])
def test_every_length_up_to_a_kilobyte_at_every_alignment(offset):
    rnd = random.Random(offset)
    data = bytes(rnd.getrandbits(8) for _ in range(1100 + offset))
    view = memoryview(data)[offset:]
    for n in range(1025):
        assert crc_of(view[:n]) == checksums_py.crc32c(view[:n]), n


@pytest.mark.parametrize("n", [4095, 4096, 16000, 65535, 65536, 65537, 1 << 20])
def test_large_buffers_including_those_checked_without_the_gil(n):
    data = os.urandom(n)
    assert crc_of(data) == checksums_py.crc32c(data)


@pytest.mark.parametrize("byte", [0x00, 0xFF, 0x80, 0x01])
def test_constant_buffers(byte):
    # all-zero and all-one inputs exercise the reduction steps with degenerate lanes
    for n in (64, 65, 127, 128, 4096 + 7):
        assert crc_of(bytes([byte]) * n) == checksums_py.crc32c(bytes([byte]) * n)


def test_known_check_value():
    assert crc_of(b"123456789") == 0xE3069283  # the standard CRC-32C check value


@settings(max_examples=300, deadline=None)
@given(st.binary(min_size=0, max_size=3000))
def test_random_inputs(data):
    assert crc_of(data) == checksums_py.crc32c(data)


def _pmod(a: int, p: int) -> int:
    while a.bit_length() >= p.bit_length():
        a ^= p << (a.bit_length() - p.bit_length())
    return a


def _reflect(v: int, bits: int) -> int:
    return int(f"{v:0{bits}b}"[::-1], 2)


def test_folding_constants_in_the_source_follow_from_the_polynomial():
    # each constant is bit-reflected (x^n mod P) shifted left once (the white paper's convention);
    # the Barrett pair is P itself and floor(x^64 / P), both reflected over 33 bits
    src = pathlib.Path(_records.__file__).with_name("_records.pyx")
    if not src.exists():
        pytest.skip("source not shipped next to the module")
    text = src.read_text()
    quotient, rem = 0, 1 << 64
    while rem.bit_length() >= CASTAGNOLI.bit_length():
        shift = rem.bit_length() - CASTAGNOLI.bit_length()
        quotient |= 1 << shift
        rem ^= CASTAGNOLI << shift
    expected = [_reflect(_pmod(1 << n, CASTAGNOLI), 32) << 1 for n in (512 - 32, 512 + 32, 128 - 32, 128 + 32, 64)]
    expected += [_reflect(quotient, 33), _reflect(CASTAGNOLI, 33)]
    for value in expected:
        assert f"{value:#x}" in text, hex(value)
