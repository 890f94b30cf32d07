"""What the transactional producer does about each error code of each coordinator request.

One table per request, as the Java client's ``TransactionManager`` has one handler per request
(Kafka 4.4): the codes a handler names and what it does about each, and what it does about the
codes it does not name. An unnamed retriable code is retried by every handler; an unnamed code that
is not retriable is fatal, except for AddPartitionsToTxn, which makes the transaction abortable.
"""
from __future__ import annotations

import enum
from typing import Mapping, NamedTuple

from kafkaio.errors import ErrorCode, error_for_code

__all__ = ["Outcome", "TxnRequest", "outcome", "severity"]

E = ErrorCode


class Outcome(enum.Enum):
    """What the client does about an error code."""

    REDISCOVER = "look the coordinator up again, then retry"
    RETRY = "retry after retry_backoff_ms"
    RETRY_SOON_FIRST_ADD = "retry after 20 ms while no partition is in the transaction, else as RETRY"
    FENCED = "fatal: ProducerFencedError"
    FATAL = "fatal"
    ABORTABLE = "abortable"
    ABORTABLE_BUMP = "abortable; the abort bumps the epoch (classic protocol)"
    COMMIT_FAILED = "abortable, as CommitFailedError"


class TxnRequest(enum.Enum):
    """The transactional producer's requests, each with its own handling."""

    FIND_COORDINATOR = "FindCoordinator"
    INIT_PRODUCER_ID = "InitProducerId"
    ADD_PARTITIONS = "AddPartitionsToTxn"
    ADD_OFFSETS = "AddOffsetsToTxn"
    TXN_OFFSET_COMMIT = "TxnOffsetCommit"
    END_TXN_COMMIT = "EndTxn(commit)"
    END_TXN_ABORT = "EndTxn(abort)"


class _Handling(NamedTuple):
    named: Mapping[int, Outcome]
    otherwise: Outcome  # an unnamed code that is not retriable


O = Outcome
_COORDINATOR_MOVED: dict[int, Outcome] = {E.NOT_COORDINATOR: O.REDISCOVER, E.COORDINATOR_NOT_AVAILABLE: O.REDISCOVER}
_FENCED: dict[int, Outcome] = {E.INVALID_PRODUCER_EPOCH: O.FENCED, E.PRODUCER_FENCED: O.FENCED}
# the three requests to the transaction coordinator inside a transaction name the same codes
_IN_TRANSACTION: dict[int, Outcome] = {
    **_COORDINATOR_MOVED, **_FENCED,
    E.TRANSACTIONAL_ID_AUTHORIZATION_FAILED: O.FATAL,
    E.INVALID_TXN_STATE: O.FATAL,
    E.INVALID_PRODUCER_ID_MAPPING: O.FATAL,
    E.UNKNOWN_PRODUCER_ID: O.ABORTABLE_BUMP,
    E.TRANSACTION_ABORTABLE: O.ABORTABLE,
}

_HANDLING: dict[TxnRequest, _Handling] = {
    TxnRequest.FIND_COORDINATOR: _Handling({
        E.TRANSACTIONAL_ID_AUTHORIZATION_FAILED: O.FATAL,
        E.GROUP_AUTHORIZATION_FAILED: O.ABORTABLE,
        E.TRANSACTION_ABORTABLE: O.ABORTABLE,
    }, O.FATAL),
    TxnRequest.INIT_PRODUCER_ID: _Handling({
        **_COORDINATOR_MOVED, **_FENCED,
        # Java lets initTransactions() be called again after these (ABORTABLE_ERROR, then the
        # sender moves it back to UNINITIALIZED): not fatal
        E.TRANSACTIONAL_ID_AUTHORIZATION_FAILED: O.ABORTABLE,
        E.CLUSTER_AUTHORIZATION_FAILED: O.ABORTABLE,
        E.TRANSACTION_ABORTABLE: O.ABORTABLE,
    }, O.FATAL),
    TxnRequest.ADD_PARTITIONS: _Handling({
        **_IN_TRANSACTION,
        # the previous transaction's markers are still being written: the new transaction's
        # first add waits less (the only handler that names the code)
        E.CONCURRENT_TRANSACTIONS: O.RETRY_SOON_FIRST_ADD,
        E.TOPIC_AUTHORIZATION_FAILED: O.ABORTABLE,
        E.OPERATION_NOT_ATTEMPTED: O.ABORTABLE,  # another partition failed; alone, still an error
    }, O.ABORTABLE),
    TxnRequest.ADD_OFFSETS: _Handling({
        **_IN_TRANSACTION,
        E.GROUP_AUTHORIZATION_FAILED: O.ABORTABLE,
    }, O.FATAL),
    TxnRequest.TXN_OFFSET_COMMIT: _Handling({
        **_COORDINATOR_MOVED, **_FENCED,
        E.REQUEST_TIMED_OUT: O.REDISCOVER,
        E.GROUP_AUTHORIZATION_FAILED: O.ABORTABLE,
        E.FENCED_INSTANCE_ID: O.ABORTABLE,
        E.TRANSACTION_ABORTABLE: O.ABORTABLE,
        # the consumer's group metadata no longer commits (GROUP_ID_NOT_FOUND and
        # STALE_MEMBER_EPOCH are v6's names for what older versions answer ILLEGAL_GENERATION)
        E.UNKNOWN_MEMBER_ID: O.COMMIT_FAILED,
        E.ILLEGAL_GENERATION: O.COMMIT_FAILED,
        E.GROUP_ID_NOT_FOUND: O.COMMIT_FAILED,
        E.STALE_MEMBER_EPOCH: O.COMMIT_FAILED,
        E.TRANSACTIONAL_ID_AUTHORIZATION_FAILED: O.FATAL,
        E.UNSUPPORTED_FOR_MESSAGE_FORMAT: O.FATAL,
    }, O.FATAL),
    TxnRequest.END_TXN_COMMIT: _Handling(_IN_TRANSACTION, O.FATAL),
    # an abort the coordinator cannot complete leaves nothing for the application to do
    TxnRequest.END_TXN_ABORT: _Handling({**_IN_TRANSACTION, E.TRANSACTION_ABORTABLE: O.FATAL}, O.FATAL),
}

_SEVERITY = {O.FENCED: 0, O.FATAL: 0, O.COMMIT_FAILED: 1, O.ABORTABLE: 1, O.ABORTABLE_BUMP: 1,
             O.REDISCOVER: 2, O.RETRY: 2, O.RETRY_SOON_FIRST_ADD: 2}


def outcome(request: TxnRequest, code: int) -> Outcome:
    """What to do about a non-zero error ``code`` in the answer to ``request``."""
    handling = _HANDLING[request]
    named = handling.named.get(code)
    if named is not None:
        return named
    if error_for_code(code).retriable:
        return Outcome.RETRY
    return handling.otherwise


def severity(request: TxnRequest, code: int) -> int:
    """Sort key of a per-partition error: fatal first, then abortable, then retried."""
    return _SEVERITY[outcome(request, code)]
