"""Share sessions (KIP-932): one per (member, share-partition leader). Like a fetch session
(KIP-227), the first ShareFetch (epoch 0) names every partition, later ones only the partitions
added and forgotten; each answered request moves the epoch on. Pure: builds bodies, takes answers."""
from __future__ import annotations

import uuid
from typing import Any

from kafkaio.errors import ErrorCode

INITIAL_EPOCH = 0
FINAL_EPOCH = -1
_INT32_MAX = 2**31 - 1

TopicIdPartition = tuple[uuid.UUID, int]
# Answers after which the broker holds no session for this member: start again from epoch 0.
SESSION_LOST = frozenset({ErrorCode.SHARE_SESSION_NOT_FOUND, ErrorCode.INVALID_SHARE_SESSION_EPOCH,
                          ErrorCode.SHARE_SESSION_LIMIT_REACHED})


def next_epoch(epoch: int) -> int:
    """The epoch after ``epoch`` (Java's ``ShareRequestMetadata.nextEpoch``: wraps to 1)."""
    if epoch < 0:
        return FINAL_EPOCH
    return 1 if epoch == _INT32_MAX else epoch + 1


class ShareSession:
    """The partitions a broker holds in this member's session, and the next epoch to send.

    One request at a time: a body is built with :meth:`fetch_body` or :meth:`acknowledge_body`,
    and its answer (or loss) applied with :meth:`answered` before the next is built."""

    def __init__(self) -> None:
        self.epoch = INITIAL_EPOCH
        self.partitions: set[TopicIdPartition] = set()
        self._added: set[TopicIdPartition] = set()
        self._removed: set[TopicIdPartition] = set()
        self._closing = False

    @property
    def open(self) -> bool:
        """The broker holds a session (acknowledgements can be sent in it)."""
        return self.epoch > INITIAL_EPOCH

    def fetch_body(self, group_id: str, member_id: str, wanted: set[TopicIdPartition],
                   acks: dict[TopicIdPartition, list[dict[str, Any]]], *, max_wait_ms: int, min_bytes: int,
                   max_bytes: int, max_records: int, acquire_mode: int) -> dict[str, Any]:
        """A ShareFetch for ``wanted`` carrying ``acks`` (acknowledgement batches by partition).

        ``acks`` must be empty on a new session (epoch 0): the broker refuses them there."""
        assert not acks or self.open, "acknowledgements need an open share session"
        if self.open:
            self._added = wanted - self.partitions
            self._removed = (self.partitions - wanted) - set(acks)
        else:
            self._added, self._removed = set(wanted), set()
        self._closing = False
        listed = self._added | set(acks)
        return {
            "group_id": group_id, "member_id": member_id, "share_session_epoch": self.epoch,
            "max_wait_ms": max_wait_ms, "min_bytes": min_bytes, "max_bytes": max_bytes,
            "max_records": max_records, "batch_size": max_records, "share_acquire_mode": acquire_mode,
            "topics": _by_topic(listed, acks),
            "forgotten_topics_data": [
                {"topic_id": tid, "partitions": sorted(p for t, p in self._removed if t == tid)}
                for tid in sorted({t for t, _ in self._removed}, key=str)],
        }

    def acknowledge_body(self, group_id: str, member_id: str, acks: dict[TopicIdPartition, list[dict[str, Any]]],
                         *, renew: bool = False, final: bool = False) -> dict[str, Any]:
        """A ShareAcknowledge carrying ``acks`` in the open session; ``final`` closes the session
        (the broker then releases every record this member still holds through it)."""
        assert self.open, "acknowledgements need an open share session"
        self._added, self._removed = set(acks), set()
        self._closing = final
        return {
            "group_id": group_id, "member_id": member_id,
            "share_session_epoch": FINAL_EPOCH if final else self.epoch, "is_renew_ack": renew,
            "topics": _by_topic(set(acks), acks),
        }

    def answered(self, error_code: int) -> None:
        """Apply the top-level error code of the answer to the last body built."""
        if self._closing:
            self.reset()
        elif error_code == ErrorCode.NONE:
            self.partitions = (self.partitions | self._added) - self._removed
            self.epoch = next_epoch(self.epoch)
        elif error_code in SESSION_LOST:
            self.reset()
        self._added, self._removed, self._closing = set(), set(), False

    def reset(self) -> None:
        """Forget the session (its request got no answer, or the broker lost it): start from epoch 0."""
        self.epoch = INITIAL_EPOCH
        self.partitions = set()


def _by_topic(listed: set[TopicIdPartition], acks: dict[TopicIdPartition, list[dict[str, Any]]]) -> list[dict[str, Any]]:
    topics: dict[uuid.UUID, list[dict[str, Any]]] = {}
    for tid, p in sorted(listed, key=lambda tp: (str(tp[0]), tp[1])):
        topics.setdefault(tid, []).append({"partition_index": p, "acknowledgement_batches": acks.get((tid, p), [])})
    return [{"topic_id": tid, "partitions": parts} for tid, parts in topics.items()]
