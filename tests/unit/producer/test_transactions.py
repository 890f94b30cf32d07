"""The transactional producer's state machine (no broker): which operation is allowed in which
state, which errors are fatal and which only abort the transaction."""
from __future__ import annotations

import pytest

from kafkaio.errors import (
    IllegalStateError,
    InvalidProducerEpochError,
    KafkaError,
    ProducerFencedError,
    RecordTooLargeError,
    TransactionAbortedError,
)
from kafkaio.producer.transactions import TransactionManager, TransactionState as S


class _Batch:
    topic, partition, tp = "t", 0, ("t", 0)


def manager(state: S = S.READY) -> TransactionManager:
    tm = TransactionManager("tid", 60000)
    tm.state = state
    return tm


def test_a_new_manager_is_uninitialized_and_refuses_everything() -> None:
    tm = TransactionManager("tid", 60000)
    assert tm.state is S.UNINITIALIZED
    with pytest.raises(IllegalStateError, match="start"):
        tm.begin()
    with pytest.raises(IllegalStateError):
        tm.check_send()


def test_begin_only_from_ready() -> None:
    tm = manager()
    tm.begin()
    assert tm.state is S.IN_TRANSACTION
    tm.check_send()  # allowed now
    with pytest.raises(IllegalStateError):
        tm.begin()
    for state in (S.COMMITTING, S.ABORTING, S.INITIALIZING):
        with pytest.raises(IllegalStateError):
            manager(state).begin()


@pytest.mark.parametrize("state", [S.READY, S.COMMITTING, S.ABORTING, S.INITIALIZING])
def test_send_outside_an_open_transaction_is_an_illegal_state(state: S) -> None:
    with pytest.raises(IllegalStateError):
        manager(state).check_send()


def test_transitions_follow_the_table() -> None:
    tm = manager(S.UNINITIALIZED)
    for target in (S.INITIALIZING, S.READY, S.IN_TRANSACTION, S.COMMITTING, S.READY,
                   S.IN_TRANSACTION, S.ABORTING, S.INITIALIZING, S.READY):
        tm._transition(target)
        assert tm.state is target
    with pytest.raises(IllegalStateError, match="READY -> COMMITTING"):
        tm._transition(S.COMMITTING)
    with pytest.raises(IllegalStateError):
        manager(S.ABORTABLE_ERROR)._transition(S.COMMITTING)


def test_an_abortable_error_allows_only_abort() -> None:
    tm = manager(S.IN_TRANSACTION)
    tm.abortable(RecordTooLargeError("t-0"))
    assert tm.state is S.ABORTABLE_ERROR
    with pytest.raises(TransactionAbortedError):
        tm.check_send()
    with pytest.raises(RecordTooLargeError):  # commit names the cause
        tm._check_commit()
    with pytest.raises(IllegalStateError):
        tm.begin()
    tm._check_abort()  # allowed
    tm._transition(S.ABORTING)
    tm._finish()
    assert tm.state is S.READY and tm.last_error is None
    tm.begin()


def test_the_first_abortable_error_is_the_one_reported() -> None:
    tm = manager(S.IN_TRANSACTION)
    first = RecordTooLargeError("first")
    tm.abortable(first)
    tm.abortable(KafkaError("second"))
    assert tm.last_error is first


@pytest.mark.parametrize("exc", [ProducerFencedError("fenced"), InvalidProducerEpochError("old epoch")])
def test_fencing_is_fatal_and_sticky(exc: KafkaError) -> None:
    tm = manager(S.IN_TRANSACTION)
    tm.on_batch_failed(_Batch(), exc)  # type: ignore[arg-type]
    assert tm.state is S.FATAL_ERROR
    assert isinstance(tm.last_error, ProducerFencedError)
    for op in (tm.begin, tm.check_send, tm._check_commit, tm._check_abort):
        with pytest.raises(ProducerFencedError):
            op()
    tm.abortable(KafkaError("later"))  # no way back from fatal
    assert tm.state is S.FATAL_ERROR


def test_a_failed_batch_makes_the_transaction_abortable_but_not_while_aborting() -> None:
    tm = manager(S.IN_TRANSACTION)
    tm.on_batch_failed(_Batch(), KafkaError("boom"))  # type: ignore[arg-type]
    assert tm.state is S.ABORTABLE_ERROR
    aborting = manager(S.ABORTING)
    aborting.on_batch_failed(_Batch(), TransactionAbortedError("aborted"))  # type: ignore[arg-type]
    assert aborting.state is S.ABORTING


def test_commit_and_abort_need_an_open_transaction() -> None:
    for state in (S.READY, S.UNINITIALIZED, S.INITIALIZING):
        with pytest.raises(IllegalStateError):
            manager(state)._check_commit()
        with pytest.raises(IllegalStateError):
            manager(state)._check_abort()
    manager(S.COMMITTING)._check_commit()  # a commit that timed out may be called again
    manager(S.ABORTING)._check_abort()
