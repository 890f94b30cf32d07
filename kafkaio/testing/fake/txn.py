"""The transaction coordinator's state (KIP-98; KIP-890's transaction protocol version 2 when the
cluster finalized ``transaction.version`` 2): per transactional id its producer id and epoch, the
partitions and groups of the open transaction, and the offsets committed in it, written to the group
only when the transaction commits.
"""
from __future__ import annotations

import uuid
from dataclasses import dataclass, field

from kafkaio.errors import ErrorCode
from kafkaio.testing.fake.state import ClusterState


@dataclass
class Transaction:
    transactional_id: str
    producer_id: int
    epoch: int
    partitions: set[tuple[str, int]] = field(default_factory=set)
    groups: set[str] = field(default_factory=set)
    # group -> (topic, partition) -> (offset, leader epoch, metadata), until the commit
    offsets: dict[str, dict[tuple[str, int], tuple[int, int, str | None]]] = field(default_factory=dict)
    # group -> (topic, partition) -> the topic id an offset was committed under (TxnOffsetCommit v6)
    offset_ids: dict[str, dict[tuple[str, int], uuid.UUID]] = field(default_factory=dict)
    # how the last transaction ended (True: committed), until the next one starts or InitProducerId:
    # an EndTxn retried after its answer was lost gets the same answer (CompleteCommit/CompleteAbort)
    last_end: bool | None = None

    @property
    def ongoing(self) -> bool:
        return bool(self.partitions or self.groups)


def init(state: ClusterState, transactional_id: str, producer_id: int, epoch: int) -> tuple[int, int, int]:
    """InitProducerId for a transactional id: (error, producer id, epoch). An open transaction is
    aborted and the epoch bumped, which fences the previous producer of the id."""
    txn = state.transactions.get(transactional_id)
    if txn is None:
        txn = Transaction(transactional_id, state.new_producer_id(), 0)
        state.transactions[transactional_id] = txn
        return ErrorCode.NONE, txn.producer_id, txn.epoch
    if producer_id >= 0 and (producer_id, epoch) != (txn.producer_id, txn.epoch):
        return ErrorCode.PRODUCER_FENCED, -1, -1
    if txn.ongoing:
        end(state, txn, commit=False)
    txn.epoch += 1
    txn.last_end = None
    return ErrorCode.NONE, txn.producer_id, txn.epoch


def check(state: ClusterState, transactional_id: str, producer_id: int, epoch: int) -> tuple[int, Transaction | None]:
    """The error for a request of (producer id, epoch) on ``transactional_id``, and its transaction."""
    txn = state.transactions.get(transactional_id)
    if txn is None or txn.producer_id != producer_id:
        return ErrorCode.INVALID_PRODUCER_ID_MAPPING, None
    if epoch != txn.epoch:
        return ErrorCode.PRODUCER_FENCED, None
    return ErrorCode.NONE, txn


def end(state: ClusterState, txn: Transaction, commit: bool, bump: bool = False) -> int:
    """Write the markers to every partition of the transaction and, on commit, its offsets.
    ``bump`` (transaction v2): the markers carry the next epoch, which the producer continues with.

    A transaction to which nothing was added cannot end (INVALID_TXN_STATE), except a classic
    EndTxn retried after the transaction ended the same way (answered as the first), and a
    transaction v2 abort, which bumps the epoch all the same, as Kafka 4.4's coordinator does: a
    v2 producer cannot tell whether its Produce reached the broker and started the transaction."""
    if not txn.ongoing:
        if not bump and txn.last_end is commit:
            return ErrorCode.NONE
        if bump and not commit:
            txn.epoch += 1
            txn.last_end = False
            return ErrorCode.NONE
        return ErrorCode.INVALID_TXN_STATE
    if bump:
        txn.epoch += 1
    for topic, partition in sorted(txn.partitions):
        log = state.partition(topic, partition)
        if log is not None:
            log.write_marker(txn.producer_id, txn.epoch, commit)
    if commit:
        for group, offsets in txn.offsets.items():
            state.committed.setdefault(group, {}).update(offsets)
            by_id = txn.offset_ids.get(group, {})
            for key in offsets:
                if key in by_id:
                    state.committed_ids.setdefault(group, {})[key] = by_id[key]
                else:   # committed by name
                    state.committed_ids.get(group, {}).pop(key, None)
    txn.partitions, txn.groups, txn.offsets, txn.offset_ids = set(), set(), {}, {}
    txn.last_end = commit
    state.notify_append()
    return ErrorCode.NONE


def retried_end(state: ClusterState, transactional_id: str, producer_id: int, epoch: int,
                commit: bool) -> Transaction | None:
    """The transaction a transaction v2 EndTxn of ``epoch`` is a retry of: its answer was lost, the
    epoch it bumped is the current one, the transaction ended the same way and nothing started
    since. The coordinator answers such a retry as the first (KIP-890)."""
    txn = state.transactions.get(transactional_id)
    if (txn is None or txn.producer_id != producer_id or epoch != txn.epoch - 1 or txn.ongoing
            or txn.last_end is not commit):
        return None
    return txn


def owner_of(state: ClusterState, producer_id: int) -> Transaction | None:
    """The transaction state of a producer id, if it is transactional."""
    for txn in state.transactions.values():
        if txn.producer_id == producer_id:
            return txn
    return None
