"""The Processor: concurrent handling of a consumer's records, in order per key, with committed
completed watermarks, backpressure, rebalance safety, retries and dead letters.

It runs on the consumer's public API only: ``getmany``, ``pause``/``resume``, ``commit`` with
explicit offsets, ``committed`` and a :class:`~kafkaio.ConsumerRebalanceListener` of its own.
The pure parts are in their own modules: :mod:`.ordering` (which records may run together),
:mod:`.watermark` (what may be committed), :mod:`.backpressure` (what to pause),
:mod:`.retry_policy` (what a failure leads to), :mod:`.dead_letter` (the headers).
"""
from __future__ import annotations

import asyncio
import contextlib
import enum
import functools
import heapq
import logging
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Hashable, Iterable
from typing import TYPE_CHECKING, Any

from kafkaio._logthrottle import Throttled
from kafkaio.consumer.subscription import ConsumerRebalanceListener, call_listener
from kafkaio.errors import (CommitFailedError, ConfigError, IllegalStateError, KafkaError, KafkaTimeoutError,
                            RebalanceInProgressError)
from kafkaio.processing import commit_metadata
from kafkaio.processing.backpressure import Backpressure
from kafkaio.processing.dead_letter import Headers, Origin, forward_headers, origin_of
from kafkaio.processing.dedup import DedupGuard
from kafkaio.processing.ordering import KeyedQueue, Ordering, ordering_key
from kafkaio.processing.retry_policy import Outcome, RetryPolicy
from kafkaio.processing.metrics import ProcessorMetrics
from kafkaio.processing.watermark import PartitionWatermark
from kafkaio.retry import ExponentialBackoff
from kafkaio.structs import OffsetAndMetadata, TopicPartition
from kafkaio.waiting import within

if TYPE_CHECKING:
    from kafkaio.consumer.consumer import Consumer
    from kafkaio.producer.producer import Producer
    from kafkaio.records import ConsumerRecord

log = logging.getLogger("kafkaio.processing")

Handler = Callable[["ConsumerRecord"], Awaitable[Any]]


class OnRevoke(enum.Enum):
    """What happens to the running handlers of revoked partitions: ``WAIT`` for them (up to
    ``revoke_timeout_ms``, then cancel), or ``CANCEL`` them at once."""

    WAIT = "wait"
    CANCEL = "cancel"


class ProcessorState(enum.Enum):
    CREATED = "created"
    RUNNING = "running"
    STOPPING = "stopping"
    STOPPED = "stopped"


_TRANSITIONS: dict[ProcessorState, frozenset[ProcessorState]] = {
    ProcessorState.CREATED: frozenset({ProcessorState.RUNNING, ProcessorState.STOPPED}),
    ProcessorState.RUNNING: frozenset({ProcessorState.STOPPING}),
    ProcessorState.STOPPING: frozenset({ProcessorState.STOPPED}),
    ProcessorState.STOPPED: frozenset(),
}


def _size(record: ConsumerRecord) -> int:
    size = 0
    for part in (record.key, record.value):
        if isinstance(part, (bytes, bytearray, memoryview, str)):
            size += len(part)
    return size


class _Partition:
    """One assignment of one partition: its watermark, running tasks, records waiting for a due time."""

    __slots__ = ("tp", "watermark", "tasks", "delayed", "committed")

    def __init__(self, tp: TopicPartition, skip: Iterable[int]) -> None:
        self.tp = tp
        self.watermark = PartitionWatermark(skip)
        self.tasks: set[asyncio.Task[None]] = set()
        self.delayed = 0
        self.committed: tuple[int, str] | None = None


class _Abandoned(Exception):
    """A record's hand-off was given up because its partition was revoked: not finished here."""


class _Work:
    __slots__ = ("part", "record", "key", "size", "origin", "marked_done")

    def __init__(self, part: _Partition, record: ConsumerRecord, key: Hashable, size: int,
                 origin: Origin | None) -> None:
        self.part = part
        self.record = record
        self.key = key
        self.size = size
        self.origin = origin       # None for a record of an original topic: it is its own origin
        self.marked_done = False   # by a transactional hand-off, which commits it as finished


def _positive(name: str, value: int) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise ConfigError(f"{name}: must be a positive integer, got {value!r}")
    return value


class Processor:
    """Hands each record of ``consumer`` to ``async def handler(record)``, up to ``max_in_flight``
    at once, and commits per partition the offset below which every record is done.

    ``async with Processor(consumer, handler, ordering="key") as p: await p.run()``. See
    docs/processing.md for every setting.
    """

    def __init__(
        self,
        consumer: Consumer,
        handler: Handler,
        *,
        topics: Iterable[str] | None = None,
        ordering: str | Ordering = "key",
        max_in_flight: int = 256,
        max_buffered_records: int | None = None,
        max_buffered_bytes: int = 64 * 1024 * 1024,
        commit_interval_ms: int = 1000,
        commit_done_in_metadata: bool = True,
        on_revoke: str | OnRevoke = "wait",
        revoke_timeout_ms: int = 30_000,
        stop_timeout_ms: int = 30_000,
        poll_timeout_ms: int = 100,
        retry: RetryPolicy | None = None,
        producer: Producer | None = None,
        dedup: DedupGuard | None = None,
        listener: ConsumerRebalanceListener | None = None,
    ) -> None:
        cfg = consumer.config
        if cfg.group_id is None:
            raise ConfigError("group_id: the processor commits its watermarks to a consumer group; "
                              "the consumer needs a group_id")
        if cfg.enable_auto_commit:
            raise ConfigError("enable_auto_commit: must be False with a Processor (an auto commit "
                              "would commit records still being handled)")
        try:
            self._ordering = Ordering(ordering)
            self._on_revoke = OnRevoke(on_revoke)
        except ValueError as exc:
            raise ConfigError(f"{'ordering' if 'Ordering' in str(exc) else 'on_revoke'}: {exc}") from None
        self._max_in_flight = _positive("max_in_flight", max_in_flight)
        buffered = max_buffered_records if max_buffered_records is not None else max(1000, 4 * max_in_flight)
        _positive("max_buffered_records", buffered)
        _positive("max_buffered_bytes", max_buffered_bytes)
        self._commit_interval = _positive("commit_interval_ms", commit_interval_ms) / 1000.0
        self._revoke_timeout = _positive("revoke_timeout_ms", revoke_timeout_ms) / 1000.0
        self._stop_timeout = _positive("stop_timeout_ms", stop_timeout_ms) / 1000.0
        self._metadata_full = Throttled(log)
        self._poll_timeout_ms = _positive("poll_timeout_ms", poll_timeout_ms)
        if retry is not None and retry.uses_topics and producer is None:
            raise ConfigError("producer: a RetryPolicy with retry topics or a dead-letter topic needs a producer")
        self._transactional = producer is not None and producer.config.transactional_id is not None
        if self._transactional and cfg.isolation_level != "read_committed":
            raise ConfigError("isolation_level: with a transactional producer the hand-offs to retry topics "
                              "are transactions; the consumer must read them with read_committed")
        if self._transactional and not commit_done_in_metadata:
            raise ConfigError("commit_done_in_metadata: a transactional hand-off marks the record finished "
                              "in the commit metadata; it cannot be turned off with a transactional producer")
        if listener is not None and not isinstance(listener, ConsumerRebalanceListener):
            raise ConfigError("listener: must be a kafkaio.ConsumerRebalanceListener")
        self._consumer = consumer
        self._handler = handler
        self._topics = set(topics) if topics is not None else None
        self._metadata = commit_done_in_metadata
        self._retry = retry
        self._producer = producer
        self._dedup = dedup
        self._user_listener = listener
        self._state = ProcessorState.CREATED
        self._queue: KeyedQueue[_Work] = KeyedQueue(self._max_in_flight)
        self._bp = Backpressure(buffered, max_buffered_bytes)
        self._parts: dict[TopicPartition, _Partition] = {}
        self._epochs: Counter[TopicPartition] = Counter()       # bumped when a partition is released
        self._retry_topics: set[str] = set()
        self._delayed: list[tuple[int, int, _Work]] = []        # (due_ms, seq, work), a heap
        self._delay_seq = 0
        self._delay_timer: asyncio.TimerHandle | None = None
        self._delay_paused: set[TopicPartition] = set()
        self._paused: set[TopicPartition] = set()              # what this processor told the consumer
        self._commit_lock = asyncio.Lock()
        self._handoff_backoff = ExponentialBackoff(100, 2000)
        self._commit_task: asyncio.Task[None] | None = None     # the periodic commits
        self._failure: BaseException | None = None
        self._stop_requested = asyncio.Event()
        self._room = asyncio.Event()        # set when the buffer drained to half: worth polling again
        self._stopped = asyncio.Event()
        self._counts: Counter[str] = Counter()

    def __repr__(self) -> str:
        return (f"<Processor {self._state.value} ordering={self._ordering.value} "
                f"max_in_flight={self._max_in_flight} partitions={len(self._parts)}>")

    @property
    def state(self) -> ProcessorState:
        return self._state

    def _set_state(self, new: ProcessorState) -> None:
        if new not in _TRANSITIONS[self._state]:
            raise IllegalStateError(f"processor cannot go from {self._state.value} to {new.value}")
        self._state = new

    # -- lifecycle -------------------------------------------------------------------------------

    async def __aenter__(self) -> Processor:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    async def run(self) -> None:
        """Consume and handle until :meth:`stop` (or a handler failure that no policy takes, which
        is raised here after the in-flight records finished and the watermarks were committed)."""
        self._set_state(ProcessorState.RUNNING)
        self._subscribe()
        self._start_periodic_commits()
        consumer = self._consumer
        try:
            while not self._stop_requested.is_set() and self._failure is None:
                if self._bp.records * 4 >= self._bp.max_records * 3:
                    # Plenty to do: a poll now would return a record or two at a time. Wait until
                    # half is done (or poll_timeout_ms, so polling, and with it the consumer's
                    # max_poll_interval_ms, goes on).
                    self._room.clear()
                    with contextlib.suppress(asyncio.TimeoutError):
                        await within(self._room.wait(), self._poll_timeout_ms / 1000.0)
                self._apply_pauses()
                batch = await consumer.getmany(timeout_ms=self._poll_timeout_ms, max_records=self._bp.room())
                if batch:
                    await self._accept(batch)
        finally:
            self._set_state(ProcessorState.STOPPING)   # before anything awaits: no periodic commit restarts
            await self._stop_periodic_commits()
            await self._shutdown()
        if self._failure is not None:
            raise self._failure

    async def stop(self) -> None:
        """Stop fetching, wait for the running handlers (up to ``stop_timeout_ms``, then cancel
        them), commit the watermarks, and return once :meth:`run` has ended. Records received but
        not started are left for the next owner. Idempotent."""
        if self._state is ProcessorState.CREATED:
            self._set_state(ProcessorState.STOPPED)
            return
        self._stop_requested.set()
        await self._stopped.wait()

    def _subscribe(self) -> None:
        consumer = self._consumer
        topics = self._topics if self._topics is not None else consumer.subscription()
        if not topics:
            if consumer.assignment():
                return   # manual assignment: no group rebalances, so no listener
            raise ConfigError("topics: the consumer has no subscription; pass topics=[...]")
        if self._retry is not None:
            originals = {t for t in topics}
            for t in originals:
                self._retry_topics.update(self._retry.retry_topics(t))
            topics = set(topics) | self._retry_topics
        consumer.subscribe(sorted(topics), listener=_Listener(self))

    # -- receiving -------------------------------------------------------------------------------

    async def _accept(self, batch: dict[TopicPartition, list[ConsumerRecord]]) -> None:
        known = {tp: self._parts.get(tp) for tp in batch}
        new = [tp for tp, part in known.items() if part is None]
        if new:
            epochs = {tp: self._epochs[tp] for tp in new}
            skips = await asyncio.gather(*(self._done_in_earlier_run(tp) for tp in new))
            assigned = self._consumer.assignment()
            for tp, skip in zip(new, skips):
                if self._epochs[tp] == epochs[tp] and tp in assigned and tp not in self._parts:
                    self._parts[tp] = known[tp] = _Partition(tp, skip)
        now_ms = int(time.time() * 1000)
        for tp, records in batch.items():
            part = known[tp]
            if part is None or self._parts.get(tp) is not part:
                continue   # released while the lookup above was awaited: the next owner reads them
            retry_topic = tp.topic in self._retry_topics
            for record in records:
                self._receive(part, record, retry_topic, now_ms)
        self._pump()

    async def _done_in_earlier_run(self, tp: TopicPartition) -> frozenset[int]:
        if not self._metadata:
            return frozenset()
        committed = await self._consumer.committed(tp)
        if committed is None:
            return frozenset()
        return commit_metadata.decode(committed.metadata, committed.offset)

    def _receive(self, part: _Partition, record: ConsumerRecord, retry_topic: bool, now_ms: int) -> None:
        tp = part.tp
        if not part.watermark.hand_out(record.offset):
            self._counts["skipped_done"] += 1
            return
        origin = origin_of(tp.topic, tp.partition, record.offset, record.headers) if retry_topic else None
        work = _Work(part, record, ordering_key(self._ordering, tp, record.key, record.offset), _size(record), origin)
        self._bp.add(tp, work.size)
        if origin is not None and origin.due_ms is not None and origin.due_ms > now_ms:
            # Not due: wait outside the handler slots, and fetch no more of this retry partition
            # (its later records are due later) until it is.
            part.delayed += 1
            self._delay_paused.add(tp)
            self._delay_seq += 1
            heapq.heappush(self._delayed, (origin.due_ms, self._delay_seq, work))
            self._schedule_delayed()
        else:
            self._queue.submit(work.key, work)

    def _schedule_delayed(self) -> None:
        if self._delay_timer is not None:
            self._delay_timer.cancel()
            self._delay_timer = None
        if self._delayed:
            wait = max(0.0, self._delayed[0][0] / 1000.0 - time.time())
            self._delay_timer = asyncio.get_running_loop().call_later(wait, self._release_due)

    def _release_due(self) -> None:
        self._delay_timer = None
        now_ms = time.time() * 1000
        while self._delayed and self._delayed[0][0] <= now_ms:
            _, _, work = heapq.heappop(self._delayed)
            part = work.part
            part.delayed -= 1
            if part.delayed == 0:
                self._delay_paused.discard(part.tp)
            self._queue.submit(work.key, work)
        self._schedule_delayed()
        self._pump()

    def _apply_pauses(self) -> None:
        assigned = self._consumer.assignment()
        self._bp.update(assigned)
        want = (self._bp.paused | self._delay_paused) & assigned
        pause, resume = want - self._paused, (self._paused - want) & assigned
        if pause:
            self._consumer.pause(*pause)
        if resume:
            self._consumer.resume(*resume)
        self._paused = want

    # -- handling --------------------------------------------------------------------------------

    def _pump(self) -> None:
        if self._stop_requested.is_set():
            return
        loop = asyncio.get_running_loop()
        while (item := self._queue.take()) is not None:
            key, work = item
            task = loop.create_task(self._execute(work))
            work.part.tasks.add(task)
            task.add_done_callback(functools.partial(self._finished, key, work))

    def _finished(self, key: Hashable, work: _Work, task: asyncio.Task[None]) -> None:
        part = work.part
        part.tasks.discard(task)
        self._queue.finish(key)
        self._bp.remove(part.tp, work.size)
        if self._bp.records * 2 <= self._bp.max_records:
            self._room.set()
        if not task.cancelled():
            exc = task.exception()
            if isinstance(exc, _Abandoned):
                pass
            elif exc is None:
                if not work.marked_done:
                    part.watermark.done(work.record.offset)
                self._counts["handled"] += 1
            elif self._failure is None:
                self._failure = exc
                log.error("processor: stopping: handling %s offset %d failed: %r", part.tp,
                          work.record.offset, exc)
        self._pump()

    @staticmethod
    def _origin(work: _Work) -> Origin:
        if work.origin is not None:
            return work.origin
        record = work.record
        return Origin(record.topic, record.partition, record.offset)

    async def _execute(self, work: _Work) -> None:
        record = work.record
        if work.origin is not None and (due_ms := work.origin.due_ms) is not None:
            # The timer runs on the loop's monotonic clock; the due time is wall-clock.
            while (left := due_ms / 1000.0 - time.time()) > 0:
                await asyncio.sleep(left)
        dedup = self._dedup
        record_id: Hashable = None
        if dedup is not None:
            origin = self._origin(work)
            record_id = (dedup.record_id(record) if dedup.record_id is not None
                         else (origin.topic, origin.partition, origin.offset))
            if await dedup.store.seen(record_id):
                self._counts["skipped_duplicates"] += 1
                return
        attempts = 0
        while True:
            try:
                await self._handler(record)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 - the user's handler: the policy decides
                attempts += 1
                self._counts["failed_attempts"] += 1
                if self._retry is None:
                    raise
                origin = self._origin(work)
                decision = self._retry.decide(exc, origin.topic, origin.stage, attempts)
                if decision.outcome is Outcome.RETRY_IN_PLACE:
                    self._counts["retried_in_place"] += 1
                    await asyncio.sleep(decision.delay_ms / 1000.0)
                    continue
                if decision.outcome is Outcome.RAISE:
                    raise
                await self._forward(work, exc, origin.attempts + attempts, decision.topic,
                                    decision.delay_ms if decision.outcome is Outcome.RETRY_TOPIC else None)
                return
            else:
                if dedup is not None:
                    await dedup.store.remember(record_id)
                return

    async def _forward(self, work: _Work, exc: BaseException, attempts: int, topic: str,
                       delay_ms: float | None) -> None:
        """Send the record on to a retry topic (``delay_ms`` given) or the dead-letter topic, and
        wait for the acknowledgement: only then is the record done here."""
        assert self._producer is not None
        record, origin = work.record, self._origin(work)
        stage = origin.stage + 1 if delay_ms is not None else origin.stage
        due = int(time.time() * 1000 + delay_ms) if delay_ms is not None else None
        headers = forward_headers(record.headers, origin, attempts, stage, exc, due)
        if self._transactional:
            await self._forward_in_transaction(work, topic, headers)
        else:
            fut = await self._producer.send(topic, value=record.value, key=record.key, headers=headers)
            await fut
        self._counts["sent_to_retry_topics" if delay_ms is not None else "dead_lettered"] += 1
        log.info("processor: %s offset %d (first read at %s-%d offset %d, %d attempts) went to %s after %r",
                 work.part.tp, record.offset, origin.topic, origin.partition, origin.offset, attempts, topic, exc)

    async def _forward_in_transaction(self, work: _Work, topic: str, headers: Headers) -> None:
        """Send the record on and commit its partition's offsets, with the record among the
        finished ones, in one transaction: after a crash either both happened (the record is
        skipped) or neither (it is handled again)."""
        assert self._producer is not None
        part, record = work.part, work.record
        attempt = 0
        while True:
            async with self._commit_lock:   # one transaction at a time; no plain commit in between
                if self._parts.get(part.tp) is not part:
                    raise _Abandoned()     # revoked meanwhile: the next owner handles the record
                watermark, done = part.watermark.preview_done(record.offset)
                meta = commit_metadata.encode(watermark, done)
                if record.offset > watermark and record.offset not in commit_metadata.decode(meta, watermark):
                    self._metadata_full.log(logging.WARNING, "processor: %s offset %d: the commit metadata is full, "
                                            "the hand-off to %s may be repeated after a crash", part.tp,
                                            record.offset, topic)
                try:
                    async with self._producer.transaction():
                        await self._producer.send(topic, value=record.value, key=record.key, headers=headers)
                        await self._producer.send_offsets_to_transaction(
                            {part.tp: OffsetAndMetadata(watermark, meta)}, self._consumer.group_metadata())
                except (CommitFailedError, RebalanceInProgressError, KafkaTimeoutError) as exc:
                    # Aborted: a rebalance fenced the offsets, or the broker was slow. Try again
                    # while the partition is still ours.
                    log.info("processor: %s offset %d: hand-off transaction aborted (%r), trying again",
                             part.tp, record.offset, exc)
                else:
                    # Finished now, under the lock: a plain commit after this one must not
                    # commit the record as unfinished again.
                    part.watermark.done(record.offset)
                    work.marked_done = True
                    part.committed = (watermark, meta)
                    return
            await asyncio.sleep(self._handoff_backoff.backoff_ms(attempt) / 1000.0)
            attempt += 1

    # -- committing ------------------------------------------------------------------------------

    async def _commit_loop(self) -> None:
        while True:
            await asyncio.sleep(self._commit_interval)
            await self._commit(list(self._parts.values()))

    def _offsets(self, parts: Iterable[_Partition]) -> dict[_Partition, tuple[int, str]]:
        out: dict[_Partition, tuple[int, str]] = {}
        for part in parts:
            wm = part.watermark.watermark
            if wm is None:
                continue
            meta = commit_metadata.encode(wm, part.watermark.done_above()) if self._metadata else ""
            if part.committed != (wm, meta):
                out[part] = (wm, meta)
        return out

    def _start_periodic_commits(self) -> None:
        if self._state is ProcessorState.RUNNING and self._commit_task is None:
            self._commit_task = asyncio.get_running_loop().create_task(
                self._commit_loop(), name="kafkaio-processor-commit")

    async def _stop_periodic_commits(self) -> None:
        """Cancel the periodic commits, including one under way: a commit that waits for a retry
        would otherwise be sent after the revocation's, and move the committed offset back."""
        task, self._commit_task = self._commit_task, None
        if task is not None:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)

    async def _commit(self, parts: list[_Partition]) -> None:
        """Commit the watermarks of ``parts`` that moved, one commit at a time (so a later
        watermark is never overtaken by an earlier one); a commit refused because of a rebalance
        is logged (the revocation commits what matters)."""
        async with self._commit_lock:
            wanted = self._offsets(parts)
            if not wanted:
                return
            offsets = {p.tp: OffsetAndMetadata(wm, meta) for p, (wm, meta) in wanted.items()}
            try:
                await self._consumer.commit(offsets)
            except (CommitFailedError, KafkaError) as exc:
                log.warning("processor: commit of %d partitions failed: %r", len(offsets), exc)
                return
            for part, done in wanted.items():
                part.committed = done

    # -- rebalances and stopping -----------------------------------------------------------------

    async def _release(self, tps: set[TopicPartition], commit: bool, cancel: bool) -> None:
        """Stop handling ``tps``: drop their records not started, wait for (or cancel) the running
        ones, commit their watermarks (when still owned), forget them."""
        for tp in tps:
            self._epochs[tp] += 1
        parts = [p for p in (self._parts.pop(tp, None) for tp in tps) if p is not None]
        for work in self._queue.remove(lambda w: w.part.tp in tps):
            self._bp.remove(work.part.tp, work.size)
        if any(p.delayed for p in parts):
            kept = []
            for entry in self._delayed:
                if entry[2].part.tp in tps:
                    self._bp.remove(entry[2].part.tp, entry[2].size)
                else:
                    kept.append(entry)
            heapq.heapify(kept)
            self._delayed = kept
            self._schedule_delayed()
        tasks = {t for p in parts for t in p.tasks}
        if tasks:
            if cancel or self._on_revoke is OnRevoke.CANCEL:
                for t in tasks:
                    t.cancel()
            _, late = await asyncio.wait(tasks, timeout=self._revoke_timeout)
            for t in late:
                t.cancel()
            if late:
                await asyncio.wait(late)
        if commit and parts:
            await self._stop_periodic_commits()
            try:
                await self._commit(parts)
            finally:
                self._start_periodic_commits()
        self._bp.forget(tps)
        self._delay_paused -= tps
        self._paused -= tps

    async def _shutdown(self) -> None:
        self._stop_requested.set()
        try:
            if self._delay_timer is not None:
                self._delay_timer.cancel()
            tasks = {t for p in self._parts.values() for t in p.tasks}
            if tasks:
                _, late = await asyncio.wait(tasks, timeout=self._stop_timeout)
                for t in late:
                    t.cancel()
                if late:
                    await asyncio.wait(late)
            await self._commit(list(self._parts.values()))
            if self._paused and self._consumer.assignment():
                self._consumer.resume(*(self._paused & self._consumer.assignment()))
        finally:
            self._paused = set()
            self._set_state(ProcessorState.STOPPED)
            self._stopped.set()

    # -- introspection ---------------------------------------------------------------------------

    def metrics(self) -> ProcessorMetrics:
        lag: dict[TopicPartition, int] = {}
        for tp, part in self._parts.items():
            wm = part.watermark.watermark
            hw = self._consumer.highwater(tp)
            if wm is not None and hw is not None:
                lag[tp] = max(0, hw - wm)
        c = self._counts
        return ProcessorMetrics(
            in_flight=self._queue.running, buffered_records=self._bp.records, buffered_bytes=self._bp.bytes,
            handled_total=c["handled"], failed_attempts_total=c["failed_attempts"],
            retries_in_place_total=c["retried_in_place"], retry_topic_sends_total=c["sent_to_retry_topics"],
            dead_letter_total=c["dead_lettered"], skipped_done_total=c["skipped_done"],
            skipped_duplicates_total=c["skipped_duplicates"], paused_partitions=len(self._paused), watermark_lag=lag)


class _Listener(ConsumerRebalanceListener):
    """The processor's rebalance listener; the user's listener runs after it."""

    def __init__(self, processor: Processor) -> None:
        self._p = processor

    async def on_partitions_revoked(self, revoked: set[TopicPartition]) -> None:
        await self._p._release(set(revoked), commit=True, cancel=False)
        if self._p._user_listener is not None:
            await call_listener(self._p._user_listener.on_partitions_revoked, revoked)

    async def on_partitions_assigned(self, assigned: set[TopicPartition]) -> None:
        if self._p._user_listener is not None:
            await call_listener(self._p._user_listener.on_partitions_assigned, assigned)

    async def on_partitions_lost(self, lost: set[TopicPartition]) -> None:
        await self._p._release(set(lost), commit=False, cancel=True)
        if self._p._user_listener is not None:
            await call_listener(self._p._user_listener.on_partitions_lost, lost)
