"""The fake's log and the broker's idempotence rules, without sockets."""
from __future__ import annotations

import pytest

from kafkaio.errors import ErrorCode
from kafkaio.records import BatchBuilder
from kafkaio.testing.fake.state import PartitionLog, ProduceError


def batch(pid: int, epoch: int, seq: int, n: int = 1) -> bytes:
    b = BatchBuilder()
    for i in range(n):
        b.append(1000 + i, None, b"v%d" % (seq + i))
    return bytes(b.build(producer_id=pid, producer_epoch=epoch, base_sequence=seq))


def test_batches_get_consecutive_offsets() -> None:
    log = PartitionLog(0, 1_000_000)
    assert log.append(batch(-1, -1, -1, 3)) == 0
    assert log.append(batch(-1, -1, -1, 2)) == 3
    assert log.high_watermark == 5
    assert [b.base_offset for b in log.batches] == [0, 3]


def test_a_producer_with_no_state_may_start_at_any_sequence() -> None:
    log = PartitionLog(0, 1_000_000)
    assert log.append(batch(7, 0, 5)) == 0  # KIP-360: the broker cannot know what came before


def test_a_duplicate_of_a_recent_batch_is_answered_with_its_offset_and_not_written() -> None:
    log = PartitionLog(0, 1_000_000)
    log.append(batch(7, 0, 0, 2))
    log.append(batch(7, 0, 2))
    assert log.append(batch(7, 0, 0, 2)) == 0
    assert len(log.batches) == 2


def test_a_gap_is_out_of_order() -> None:
    log = PartitionLog(0, 1_000_000)
    log.append(batch(7, 0, 0))
    with pytest.raises(ProduceError) as e:
        log.append(batch(7, 0, 2))
    assert e.value.code == ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER


def test_an_old_sequence_beyond_the_five_remembered_is_out_of_order() -> None:
    log = PartitionLog(0, 1_000_000)
    for seq in range(6):
        log.append(batch(7, 0, seq))
    with pytest.raises(ProduceError) as e:
        log.append(batch(7, 0, 0))
    assert e.value.code == ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER
    assert len(log.batches) == 6


def test_a_new_epoch_must_start_at_zero_and_an_old_epoch_is_fenced() -> None:
    log = PartitionLog(0, 1_000_000)
    log.append(batch(7, 0, 0))
    with pytest.raises(ProduceError) as e:
        log.append(batch(7, 1, 1))
    assert e.value.code == ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER
    log.append(batch(7, 1, 0))
    with pytest.raises(ProduceError) as e:
        log.append(batch(7, 0, 1))
    assert e.value.code == ErrorCode.INVALID_PRODUCER_EPOCH


def test_a_produce_of_two_batches_is_refused_as_kafka_refuses_it_from_produce_v3() -> None:
    log = PartitionLog(0, 1_000_000)
    with pytest.raises(ProduceError) as e:
        log.append(batch(-1, -1, -1) + batch(-1, -1, -1))
    assert e.value.code == ErrorCode.INVALID_RECORD and log.batches == []


def test_a_record_set_over_max_message_bytes_is_refused() -> None:
    log = PartitionLog(0, 100)
    with pytest.raises(ProduceError) as e:
        log.append(batch(-1, -1, -1, 10))
    assert e.value.code == ErrorCode.MESSAGE_TOO_LARGE
    assert log.batches == []
