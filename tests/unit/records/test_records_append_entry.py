"""BatchBuilder.append's C fast entry: the usual call takes append_plain(), every other call the general
path; both must write byte-identical batches and raise the same errors (and agree with the pure twin)."""
from __future__ import annotations

import platform

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from records_testlib import both

from kafkaio.records import Compression

# lengths on both sides of the 1- and 2-byte varint boundaries (zigzag doubles: 63/64, 8191/8192)
_LENGTHS = st.sampled_from([0, 1, 3, 4, 7, 8, 9, 15, 16, 17, 63, 64, 65, 100, 8191, 8192])
_FIELD = st.one_of(st.none(), _LENGTHS.map(lambda n: bytes(range(256)) * (n // 256) + bytes(range(n % 256))))
_RECORD = st.tuples(st.integers(-1, 1 << 62), _FIELD, _FIELD)


def test_the_fast_entry_is_installed_on_cpython():
    compiled, _ = both("records")
    # the benchmark and the producer go through it; where it cannot be installed nothing changes but speed
    assert compiled._APPEND_FAST_ENTRY is (platform.python_implementation() == "CPython")


def _build(impl, records, batch_size: int, call: str) -> tuple[list[int], bytes]:
    b = impl.BatchBuilder(Compression.NONE, batch_size)
    deltas = []
    for ts, key, value in records:
        if call == "fast":
            deltas.append(b.append(ts, key, value))
        elif call == "fast4":
            deltas.append(b.append(ts, key, value, None))
        else:  # a keyword argument always takes the general path
            deltas.append(b.append(ts, key, value=value, headers=None))
    return deltas, b.build()


@settings(max_examples=200, deadline=None)
@given(records=st.lists(_RECORD, min_size=1, max_size=150), batch_size=st.sampled_from([64, 1024, 16384, 1 << 20]))
def test_fast_and_general_paths_write_identical_batches(records, batch_size):
    compiled, pure = both("records")
    expected = _build(pure, records, batch_size, "general")
    assert _build(compiled, records, batch_size, "fast") == expected
    assert _build(compiled, records, batch_size, "fast4") == expected
    assert _build(compiled, records, batch_size, "general") == expected


@pytest.mark.parametrize("batch_size", [16384, 1 << 20])
def test_a_long_batch_is_identical_through_every_call(batch_size):
    # past the cached offset deltas' first varint boundary (64) and the batch-size limit at 16 KiB
    compiled, pure = both("records")
    records = [(1_700_000_000_000 + (i * 37) % 1000 - 500, None if i % 11 == 0 else b"key-%06d" % i,
                None if i % 13 == 0 else bytes([i % 256]) * (i % 300)) for i in range(600)]
    expected = _build(pure, records, batch_size, "general")
    assert -1 in expected[0] if batch_size == 16384 else -1 not in expected[0]
    for call in ("fast", "fast4", "general"):
        assert _build(compiled, records, batch_size, call) == expected


def test_records_the_fast_entry_declines_take_the_general_path():
    compiled, pure = both("records")
    outputs = []
    for impl in (compiled, pure):
        b = impl.BatchBuilder(Compression.NONE, 1024)  # room for about 900 bytes before it is full
        got = [
            b.append(1, bytearray(b"key"), memoryview(b"value")),  # bytes-like, not bytes
            b.append(2, b"k", b"v", [("h", b"x")]),  # headers
            b.append(3, b"k", b"v", []),  # empty headers: same bytes as none
            b.append(2**40, b"k", b"v"),  # a timestamp delta of several varint bytes
        ]
        first = b.build()
        got.append(b.append(4, b"k", b"v"))  # after build(): the buffer is taken back first
        got.append(b.append(5, None, b"x" * 5000))  # does not fit: -1, nothing written
        got.append(b.append(6, None, None))
        outputs.append((got, first, b.build()))
    assert outputs[0] == outputs[1]
    assert outputs[0][0][-2] == -1


def test_a_first_record_larger_than_the_buffer_grows_it_through_the_general_path():
    compiled, pure = both("records")
    for batch_size in (1024, 16384):
        batches = [impl.BatchBuilder(Compression.NONE, batch_size) for impl in (compiled, pure)]
        for b in batches:
            assert b.append(7, b"k", b"v" * (3 * batch_size)) == 0
            assert b.append(8, b"k", b"v") == -1
        assert batches[0].build() == batches[1].build()


@pytest.mark.parametrize("bad, error", [
    (1.5, TypeError), ("5", TypeError), (None, TypeError), (2**63, OverflowError), (-(2**63) - 1, OverflowError),
    (-2, ValueError),
])
def test_bad_timestamps_raise_the_same_error_in_both(bad, error):
    for impl in both("records"):
        b = impl.BatchBuilder(Compression.NONE, 16384)
        with pytest.raises(error):
            b.append(bad, b"k", b"v")
        with pytest.raises(error):
            b.append(bad, b"k", b"v", None)
        assert b.record_count == 0
        assert b.append(True, b"k", b"v") == 0  # bool is an int


@pytest.mark.parametrize("args", [(), (1,), (1, b"k"), (1, b"k", b"v", None, 5)])
def test_wrong_argument_counts_are_type_errors(args):
    for impl in both("records"):
        with pytest.raises(TypeError):
            impl.BatchBuilder(Compression.NONE, 16384).append(*args)


def test_wrong_key_and_value_types_are_type_errors():
    for impl in both("records"):
        b = impl.BatchBuilder(Compression.NONE, 16384)
        with pytest.raises(TypeError, match="key"):
            b.append(1, 5, b"v")
        with pytest.raises(TypeError, match="value"):
            b.append(1, b"k", "text")
        assert b.record_count == 0


def _pattern(n: int, seed: int) -> bytes:
    return bytes((i * 7 + seed) % 256 for i in range(n))


def test_every_field_length_is_copied_exactly():
    # the compiled builder and reader copy fields of up to 128 bytes with overlapping 4-, 8-, 16-, 32- or
    # 64-byte moves chosen by length: every length across those classes, as key and as value, must
    # come out byte for byte (against the pure twin) and read back unchanged
    compiled, pure = both("records")
    records = [(1_700_000_000_000, _pattern(n, 1), _pattern(300 - n, 2)) for n in range(301)]
    for call in ("fast", "general"):
        data = _build(compiled, records, 1 << 20, call)[1]
        assert data == _build(pure, records, 1 << 20, "general")[1]
        for impl in (compiled, pure):
            got = [(r.key, r.value) for batch in impl.read_batches(data, True) for r in batch.records("t", 0)]
            assert got == [(key, value) for _, key, value in records]
