"""The order of one member's commits and each commit's outcome per partition.

A commit whose attempt failed is retried; by then a newer commit of some of its partitions may have
been asked for. Sent after it, the older offset would be the one the broker keeps, so the retry
leaves those partitions to the newer commit, and their outcome is that commit's: the older commit
succeeds only once the newer one committed them (or left them in turn to one that did). The ledger
numbers the commits, knows which pending commit is the newest of each partition, and keeps a
commit's outcome only as long as an older pending commit refers to it.
"""
from __future__ import annotations

import asyncio
from collections.abc import Iterable

from kafkaio.errors import KafkaError, KafkaTimeoutError
from kafkaio.structs import TopicPartition


class PendingCommit:
    """One commit as asked for: the partitions it committed itself, those it left to a newer
    commit, and, once decided, the error of each partition it failed to commit."""

    __slots__ = ("number", "partitions", "committed", "handed", "failed", "decided")

    def __init__(self, number: int, partitions: Iterable[TopicPartition]) -> None:
        self.number = number
        self.partitions = frozenset(partitions)
        self.committed: set[TopicPartition] = set()
        self.handed: dict[TopicPartition, PendingCommit] = {}   # left to a newer commit
        self.failed: dict[TopicPartition, KafkaError] = {}
        self.decided = asyncio.Event()

    def __repr__(self) -> str:
        return f"PendingCommit(#{self.number})"


class CommitLedger:
    """The commits of one member in the order they were asked for; owned by its coordinator."""

    def __init__(self) -> None:
        self._asked = 0
        self._newest: dict[TopicPartition, PendingCommit] = {}   # undecided commits only

    def begin(self, partitions: Iterable[TopicPartition]) -> PendingCommit:
        """A new commit of ``partitions``: the newest of each; an older undecided commit of the
        same partition leaves it to this one from its next attempt on."""
        self._asked += 1
        commit = PendingCommit(self._asked, partitions)
        for tp in commit.partitions:
            older = self._newest.get(tp)
            if older is not None:
                older.handed[tp] = commit
            self._newest[tp] = commit
        return commit

    def committed(self, commit: PendingCommit, partitions: Iterable[TopicPartition]) -> None:
        """The broker accepted ``commit``'s offsets of ``partitions``."""
        for tp in partitions:
            commit.committed.add(tp)
            if self._newest.get(tp) is commit:
                del self._newest[tp]

    def finish(self, commit: PendingCommit, error: BaseException | None) -> None:
        """``commit``'s call ended, with ``error`` unless it succeeded: each partition it neither
        committed nor left to a newer commit failed with that error (a caller that gave up,
        cancelled: unknown, as a timeout)."""
        if error is not None and not isinstance(error, KafkaError):
            error = KafkaTimeoutError(f"commit #{commit.number} was cancelled before its outcome was known")
        for tp in commit.partitions:
            if self._newest.get(tp) is commit:
                del self._newest[tp]
            if error is not None and tp not in commit.committed and tp not in commit.handed:
                commit.failed[tp] = error
        commit.decided.set()

    def pending(self) -> int:
        """How many partitions have an undecided commit."""
        return len(self._newest)

    async def await_newer(self, commit: PendingCommit, deadline: float,
                          undecided: type[KafkaError] = KafkaTimeoutError) -> None:
        """Wait, until ``deadline`` (the loop's clock), for the outcome of the partitions
        ``commit`` left to newer commits. Raises the error of the first one that failed (its
        type: CommitFailedError, RebalanceInProgressError, ... as the newer commit got it),
        ``undecided`` when one is still undecided at the deadline, or KafkaTimeoutError when its
        caller cancelled it before its outcome was known; the message names what was committed
        and what not."""
        left = {tp: newer for tp, newer in commit.handed.items() if tp not in commit.committed}
        failures: dict[TopicPartition, KafkaError] = {}
        for tp in sorted(left):
            error = await self._outcome(left[tp], tp, deadline, undecided)
            if error is not None:
                failures[tp] = error
        if not failures:
            return
        first = failures[min(failures)]
        raise type(first)(
            f"{sorted(failures)} were left to a newer commit of this member (sent after it, this "
            f"commit's offsets would have rewound them), which did not commit them: {first}. "
            f"Committed: {sorted(commit.committed)}") from first

    async def _outcome(self, newer: PendingCommit, tp: TopicPartition, deadline: float,
                       undecided: type[KafkaError]) -> KafkaError | None:
        """None when ``newer`` (or one it left ``tp`` to in turn) committed ``tp``, else the error."""
        loop = asyncio.get_running_loop()
        while True:
            if not newer.decided.is_set():
                try:
                    await asyncio.wait_for(newer.decided.wait(), max(deadline - loop.time(), 0))
                except asyncio.TimeoutError:
                    return undecided(f"the newer commit of {tp} was not decided in time")
            if tp in newer.committed:
                return None
            if tp in newer.handed:
                newer = newer.handed[tp]
                continue
            return newer.failed[tp]
