"""The compiled speedups and their pure twins agree: byte-identical batches, identical decoding,
identical varints and hashes, on random records, headers, nulls, codecs and timestamps."""
from __future__ import annotations

import copy
import importlib
import pickle

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kafkaio.records import Compression


def _pair(name):
    try:
        compiled = importlib.import_module(f"kafkaio._speedups._{name}")
    except ImportError:
        pytest.skip("compiled speedups not built")
    return compiled, importlib.import_module(f"kafkaio._speedups.{name}_py")


def _fields(rec):
    return (rec.topic, rec.partition, rec.offset, rec.timestamp, rec.timestamp_type, rec.key, rec.value,
            list(rec.headers), rec.leader_epoch)


timestamps = st.one_of(st.integers(-1, 2**45), st.sampled_from([-1, 0, 2**63 - 1, 2**62]))
payloads = st.one_of(st.none(), st.binary(max_size=300))
headers = st.one_of(
    st.none(),
    st.lists(st.tuples(st.text(max_size=8), st.one_of(st.none(), st.binary(max_size=30))), max_size=4),
)
records = st.lists(st.tuples(timestamps, payloads, payloads, headers), min_size=1, max_size=40)
codecs = st.sampled_from(list(Compression))
producer_states = st.tuples(st.integers(-1, 2**63 - 1), st.integers(-1, 2**15 - 1), st.integers(-1, 2**31 - 1))

SETTINGS = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@SETTINGS
@given(recs=records, codec=codecs, batch_size=st.integers(61, 6000), transactional=st.booleans(),
       state=producer_states)
def test_builders_are_byte_identical_and_readers_agree(recs, codec, batch_size, transactional, state):
    compiled, pure = _pair("records")
    builders = [m.BatchBuilder(codec, batch_size, transactional=transactional) for m in (compiled, pure)]
    accepted = []
    for ts, key, value, hdrs in recs:
        deltas = [b.append(ts, key, value, hdrs) for b in builders]
        assert deltas[0] == deltas[1]
        assert builders[0].estimated_size() == builders[1].estimated_size()
        if deltas[0] == -1:
            break
        accepted.append((ts, key, value, hdrs or []))
    assert builders[0].record_count == builders[1].record_count == len(accepted)
    data = [b.build(*state) for b in builders]
    assert data[0] == data[1]
    decoded = []
    for m in (compiled, pure):
        [batch] = list(m.read_batches(data[0]))
        assert (batch.producer_id, batch.producer_epoch, batch.base_sequence) == state
        assert batch.is_transactional == transactional and batch.compression == codec
        decoded.append([_fields(r) for r in batch.records("topic", 2)])
    assert decoded[0] == decoded[1]
    assert [(d[5], d[6], d[7]) for d in decoded[0]] == [(k, v, h) for _, k, v, h in accepted]
    assert [d[3] for d in decoded[0]] == [ts for ts, *_ in accepted]
    assert [d[2] for d in decoded[0]] == list(range(len(accepted)))


@SETTINGS
@given(value=st.integers(-(2**31), 2**31 - 1), wide=st.integers(-(2**63), 2**63 - 1),
       unsigned=st.integers(0, 2**32 - 1))
def test_varint_encoders_agree(value, wide, unsigned):
    compiled, pure = _pair("varint")
    for fn, v in (("encode_varint", value), ("encode_varlong", wide), ("encode_unsigned_varint", unsigned)):
        assert getattr(compiled, fn)(v) == getattr(pure, fn)(v)
    assert compiled.size_of_varint(value) == pure.size_of_varint(value) == len(pure.encode_varint(value))
    assert compiled.decode_varlong(pure.encode_varlong(wide)) == (wide, len(pure.encode_varlong(wide)))


def _outcome(fn, data, pos):
    try:
        return fn(data, pos)
    except Exception as exc:  # noqa: BLE001 - the type is what must agree
        return type(exc).__name__


@SETTINGS
@given(data=st.binary(max_size=12), pos=st.integers(0, 12))
def test_varint_decoders_agree_on_any_bytes(data, pos):
    compiled, pure = _pair("varint")
    for fn in ("decode_varint", "decode_varlong", "decode_unsigned_varint"):
        assert _outcome(getattr(compiled, fn), data, pos) == _outcome(getattr(pure, fn), data, pos)


@SETTINGS
@given(data=st.binary(max_size=64))
def test_murmur2_agrees(data):
    compiled, pure = _pair("hashing")
    assert compiled.murmur2(data) == pure.murmur2(data)


@pytest.mark.parametrize("given_headers", [None, [], [("h", b"v")]])
def test_consumer_record_headers_agree(given_headers):
    compiled, pure = _pair("records")
    made = [m.ConsumerRecord("t", 0, 1, 2, 0, None, b"v", given_headers) for m in (compiled, pure)]
    # None reads as [] in both (a record without headers), and the list read is kept
    assert made[0].headers == made[1].headers == (given_headers or [])
    for rec in made:
        rec.headers.append(("x", None))
        assert rec.headers[-1] == ("x", None)


def test_metadata_cells_agree():
    """Both cells hold exactly what was last written, by identity, and nothing else (no attributes
    beyond ``current``: a reader cannot hang state on the cluster's cell)."""
    first, second = object(), object()
    for cell in (m.MetadataCell(first) for m in _pair("metadata_cell")):
        assert cell.current is first
        cell.current = second
        assert cell.current is second
        with pytest.raises(AttributeError):
            cell.other = first
    for m in _pair("metadata_cell"):  # subscripted as the stub declares it (a Generic)
        assert m.MetadataCell[int](first).current is first


@pytest.mark.parametrize("duplicate", [copy.copy, copy.deepcopy, pickle.dumps])
def test_metadata_cells_refuse_to_be_copied_alike(duplicate):
    """One owner per state: a copy of the cluster's cell would be a second cell that its one writer
    never updates, so both twins refuse copies and pickles with the same TypeError."""
    for m in _pair("metadata_cell"):
        with pytest.raises(TypeError, match="a MetadataCell is not copied"):
            duplicate(m.MetadataCell(object()))
