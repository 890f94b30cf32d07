"""Deserializers in the collector (no broker): a record that fails stops its partition in front of it,
with the records before it handed out, a typed error, and nothing skipped; others go on."""
from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest

from fetch_helpers import FetchPath
from kafkaio.consumer.subscription import SubscriptionState
from kafkaio.errors import SerializationError
from kafkaio.records import BatchBuilder
from kafkaio.structs import TopicPartition as TP

TOPIC = "t"


def one_batch(values: list[bytes], keys: list[bytes] | None = None) -> memoryview:
    b = BatchBuilder(batch_size=1 << 30)
    for i, v in enumerate(values):
        b.append(0, None if keys is None else keys[i], v, [])
    return memoryview(bytes(b.build()))


def value(b: bytes) -> str:
    if b == b"BAD":
        raise ValueError("cannot decode")
    return b.decode()


def make(**deserializers: Any) -> tuple[FetchPath, SubscriptionState]:
    subs = SubscriptionState("earliest")
    subs.assign_manually([TP(TOPIC, 0), TP(TOPIC, 1)])
    for st in subs.assignment.values():
        st.seek(0)
    return FetchPath(subs, **deserializers), subs


def respond(f: FetchPath, subs: SubscriptionState, p: int, records: memoryview) -> None:
    f._apply(subs.assignment[TP(TOPIC, p)], {"error_code": 0, "high_watermark": 100, "last_stable_offset": 100,
                                             "log_start_offset": 0, "aborted_transactions": None,
                                             "records": records})


def test_drain_returns_the_good_records_then_raises_with_the_position_on_the_bad_one() -> None:
    f, subs = make(value_deserializer=value)
    respond(f, subs, 0, one_batch([b"v0", b"v1", b"BAD", b"v3"]))
    respond(f, subs, 1, one_batch([b"w0"]))
    st0 = subs.assignment[TP(TOPIC, 0)]
    out: dict = {}
    assert f.drain(100, out) == 2
    assert [r.value for r in out[TP(TOPIC, 0)]] == ["v0", "v1"]
    assert st0.position == 2
    with pytest.raises(SerializationError) as info:
        f.drain(100, {})
    assert info.value.topic_partition == TP(TOPIC, 0) and info.value.offset == 2  # type: ignore[attr-defined]
    assert isinstance(info.value.__cause__, ValueError)
    # Nothing after the bad record was consumed: the partition is fetched again from it.
    assert st0.position == 2 and st0.fetch_offset == 2 and f.buffer.peek(st0) is None and st0.fetchable
    out = {}
    assert f.drain(100, out) == 1 and [r.value for r in out[TP(TOPIC, 1)]] == ["w0"]
    # The same data again (not seeked past) fails again; after seeking past it, v3 comes.
    respond(f, subs, 0, one_batch([b"v0", b"v1", b"BAD", b"v3"]))
    with pytest.raises(SerializationError):
        f.drain(100, {})
    st0.seek(3)
    respond(f, subs, 0, one_batch([b"v0", b"v1", b"BAD", b"v3"]))
    out = {}
    assert f.drain(100, out) == 1 and [(r.offset, r.value) for r in out[TP(TOPIC, 0)]] == [(3, "v3")]
    assert st0.position == 4


def test_next_record_hands_out_up_to_the_bad_record_then_raises() -> None:
    f, subs = make(value_deserializer=value)
    respond(f, subs, 0, one_batch([b"v0", b"BAD", b"v2"]))
    assert f.next_record().value == "v0"
    with pytest.raises(SerializationError) as info:
        f.next_record()
    assert info.value.offset == 1  # type: ignore[attr-defined]
    assert subs.assignment[TP(TOPIC, 0)].position == 1
    assert f.next_record() is None


def test_a_failing_first_record_raises_at_once_and_key_failures_name_the_key() -> None:
    f, subs = make(key_deserializer=lambda k: k.decode("utf-8"))
    respond(f, subs, 0, one_batch([b"a", b"b"], keys=[b"\xff", b"k1"]))
    with pytest.raises(SerializationError, match="key_deserializer") as info:
        f.drain(100, {})
    assert info.value.offset == 0 and isinstance(info.value.__cause__, UnicodeDecodeError)  # type: ignore[attr-defined]
    assert subs.assignment[TP(TOPIC, 0)].position == 0


def test_a_full_budget_before_the_bad_record_defers_the_error_to_the_next_call() -> None:
    f, subs = make(value_deserializer=value)
    respond(f, subs, 0, one_batch([b"v0", b"v1", b"BAD"]))
    out: dict = {}
    assert f.drain(2, out) == 2 and [r.value for r in out[TP(TOPIC, 0)]] == ["v0", "v1"]
    with pytest.raises(SerializationError):
        f.drain(2, {})
