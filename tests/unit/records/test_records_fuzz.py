"""Fuzzing the readers: mutated valid batches and random bytes must decode or raise
CorruptRecordError, never crash, hang or raise anything else; the compiled and the pure reader agree.

The compiled reader also runs over many random mutations in a child process, so that a crash (a
segfault from an out-of-bounds read) fails this test instead of killing the test run."""
from __future__ import annotations

import os
import pathlib
import subprocess
import sys

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from records_testlib import both, decode_all

from kafkaio.records import Compression
from kafkaio.records import legacy


def _seed_batches() -> list[bytes]:
    from kafkaio._speedups import records_py

    seeds = []
    for codec in Compression:
        b = records_py.BatchBuilder(codec, 1 << 20, transactional=codec % 2 == 1)
        for i in range(6):
            b.append(1000 + 7 * i, None if i == 2 else b"key%d" % i, None if i == 4 else b"value" * i,
                     [("h%d" % i, None if i % 2 else b"hv")] if i % 3 else None)
        seeds.append(b.build(3, 1, 10))
    msgs = [(5, 100, b"a", b"b"), (6, 101, None, b"c")]
    for magic in (0, 1):
        for codec in (0, 1, 2, 3):
            seeds.append(legacy.encode_message_set(msgs, magic, codec))
    return seeds


SEEDS = _seed_batches()


@st.composite
def mutated(draw):
    data = bytearray(draw(st.sampled_from(SEEDS)))
    for _ in range(draw(st.integers(1, 4))):
        kind = draw(st.sampled_from(["flip", "set", "insert", "delete", "truncate", "extend"]))
        pos = draw(st.integers(0, max(len(data) - 1, 0)))
        if kind == "flip" and data:
            data[pos] ^= 1 << draw(st.integers(0, 7))
        elif kind == "set" and data:
            data[pos] = draw(st.sampled_from([0x00, 0x01, 0x7F, 0x80, 0xFF]))
        elif kind == "insert":
            data[pos:pos] = draw(st.binary(min_size=1, max_size=8))
        elif kind == "delete":
            del data[pos:pos + draw(st.integers(1, 8))]
        elif kind == "truncate":
            del data[pos:]
        else:
            data += draw(st.binary(max_size=80))
    return bytes(data)


FUZZ = settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _check(data: bytes) -> None:
    compiled, pure = both("records")
    for check_crcs in (False, True):
        results = [decode_all(m, data, check_crcs) for m in (compiled, pure)]
        for r in results:
            if r and r[-1][0] == "error":
                assert r[-1][1] == "CorruptRecordError", r[-1]
        assert results[0] == results[1]


@FUZZ
@given(data=mutated())
def test_mutated_batches(data):
    _check(data)


@FUZZ
@given(data=st.binary(max_size=200))
def test_random_bytes(data):
    _check(data)


@FUZZ
@given(prefix=st.binary(min_size=12, max_size=12), magic=st.sampled_from([0, 1, 2]), rest=st.binary(max_size=150))
def test_random_bytes_after_a_plausible_header(prefix, magic, rest):
    # a length that fits the buffer and a valid magic get the fuzz past the framing checks
    body = bytes(4) + bytes([magic]) + rest
    _check(prefix[:8] + len(body).to_bytes(4, "big") + body)


@pytest.mark.parametrize(("tracing", "seed", "count"), [(False, "1234", "20000"), (True, "4321", "5000")],
                         ids=["untraced", "tracemalloc"])
def test_compiled_reader_survives_many_random_mutations_in_a_child_process(tmp_path, tracing, seed, count):
    # under tracemalloc the reader makes its objects through PyObject_Init (another path): fuzz it too
    both("records")
    here = str(pathlib.Path(__file__).parent)
    env = {**os.environ, "PYTHONTRACEMALLOC": "1"} if tracing else None
    proc = subprocess.run([sys.executable, str(pathlib.Path(here) / "fuzz_child.py"), seed, here, count],
                          capture_output=True, text=True, timeout=240, env=env)
    assert proc.returncode == 0 and proc.stdout.strip() == "ok", (proc.returncode, proc.stderr[-2000:])
