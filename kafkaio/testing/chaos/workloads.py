"""Workloads: kafkaio clients doing ordinary work while faults happen, appending every operation
and its outcome to a :class:`~kafkaio.testing.chaos.history.History`.

* :class:`ProducerWorkload`: one idempotent producer (acks=all, 5 requests in flight) writing
  keyed and keyless records to several partitions in bursts, so that several batches of one
  partition are in flight together when a request is lost.
* :class:`GroupWorkload`: a feeder producer plus a consumer group whose members poll, process and
  commit offsets by hand; members join, leave and crash as the schedule says.

Settings are the client's own keyword arguments; ``settings`` overrides the defaults below, which is
how a user points the verifier at their application's configuration.
"""
from __future__ import annotations

import asyncio
import random
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from kafkaio.consumer.subscription import ConsumerRebalanceListener
from kafkaio.errors import KafkaError
from kafkaio.testing.chaos.history import History

__all__ = ["DEFAULT_CONSUMER", "DEFAULT_PRODUCER", "GroupWorkload", "ProducerWorkload", "classify_send_error"]

# Short timeouts so that a lost request is retried, and a run ends, within seconds.
DEFAULT_PRODUCER: dict[str, Any] = {
    "acks": "all", "enable_idempotence": True, "max_in_flight_requests_per_connection": 5,
    "linger_ms": 2, "batch_size": 1024, "request_timeout_ms": 2500, "delivery_timeout_ms": 20000,
    "retry_backoff_ms": 50, "max_block_ms": 10000,
}
DEFAULT_CONSUMER: dict[str, Any] = {
    "enable_auto_commit": False, "auto_offset_reset": "earliest", "session_timeout_ms": 6000,
    "heartbeat_interval_ms": 500, "max_poll_interval_ms": 20000, "request_timeout_ms": 4000,
    "retry_backoff_ms": 100, "max_poll_records": 20,
}

# Errors after which the record is certainly not in the log: the broker refused it outright or it
# never left the client. Anything else (timeouts, closes, sequence errors, lost connections) may
# follow a write whose answer was lost, so its outcome is unknown.
_DEFINITE_FAILURES = frozenset({
    "RecordTooLargeError", "InvalidRecordError", "CorruptRecordError", "SerializationError",
    "InvalidTopicError", "TopicAuthorizationFailedError", "RecordListTooLargeError",
})


def classify_send_error(exc: BaseException) -> str:
    """``failed`` when ``exc`` proves the record was not written, else ``unknown``."""
    return "failed" if type(exc).__name__ in _DEFINITE_FAILURES else "unknown"


async def create_topic(bootstrap: str, topic: str, partitions: int, replication: int = 1) -> None:
    """Create ``topic`` and wait until every partition has a leader. Replicated, it needs two
    in-sync replicas, so that acks=all means a write survives the loss of its leader."""
    from kafkaio.admin import Admin, NewTopic

    configs = {"min.insync.replicas": "2"} if replication > 1 else {}
    async with Admin(bootstrap) as admin:
        await admin.create_topics([NewTopic(topic, partitions, replication, configs=configs)], wait_for_leaders=True)


class _Sender:
    """One producer session: sends numbered records and logs each outcome when it is decided."""

    def __init__(self, name: str, bootstrap: str, topic: str, history: History, rng: random.Random,
                 settings: Mapping[str, Any]) -> None:
        from kafkaio.producer.producer import Producer

        self.name, self.topic, self.history, self.rng = name, topic, history, rng
        self.producer = Producer(bootstrap_servers=bootstrap, **{**DEFAULT_PRODUCER, **settings})
        self.seq = 0
        self.pending: dict[int, dict[str, Any]] = {}

    async def send(self) -> None:
        seq, self.seq = self.seq, self.seq + 1
        value = f"{self.name}:{seq}"
        # half keyed (the key picks the partition), half keyless (the sticky partitioner does)
        key = f"k{self.rng.randrange(13)}" if self.rng.random() < 0.5 else None
        data = {"topic": self.topic, "key": key, "value": value, "seq": seq}
        t0 = self.history.now()
        try:
            fut = await self.producer.send(self.topic, value.encode(), key=None if key is None else key.encode())
        except KafkaError as exc:  # refused before it was buffered: never written
            self.history.append(self.name, "send", "failed", t0=t0, error=repr(exc), **data)
            return
        self.pending[seq] = data

        def done(f: Any) -> None:
            self.pending.pop(seq, None)
            exc = f.exception()
            if exc is None:
                md = f.result()
                self.history.append(self.name, "send", "ok", t0=t0, partition=md.partition, offset=md.offset, **data)
            else:
                self.history.append(self.name, "send", classify_send_error(exc), t0=t0, error=repr(exc), **data)

        fut.add_done_callback(done)

    async def burst(self, until: float, largest: int = 40, pause: float = 0.05) -> None:
        """Send in bursts until history time ``until``."""
        while self.history.now() < until:
            await self.burst_once(largest, pause)

    async def burst_once(self, largest: int = 40, pause: float = 0.05) -> None:
        """One burst of 1 to ``largest`` records, then a pause of up to ``pause`` seconds: several
        batches of one partition end up in flight together."""
        for _ in range(self.rng.randint(1, largest)):
            await self.send()
        await asyncio.sleep(self.rng.uniform(pause / 10, pause))

    async def close(self, timeout: float) -> None:
        """Close within ``timeout`` seconds; records still undecided are logged ``unknown``."""
        try:
            await self.producer.close(timeout=timeout)
        finally:
            for seq, data in list(self.pending.items()):  # no callback came: nobody knows
                self.history.append(self.name, "send", "unknown", error="undecided at close", **data)
            self.pending.clear()


class ProducerWorkload:
    """An idempotent producer writing numbered records to ``partitions`` partitions of ``topic``."""

    kind = "producer"

    def __init__(self, bootstrap: str, history: History, rng: random.Random, topic: str, *,
                 partitions: int = 4, replication: int = 1, settings: Mapping[str, Any] | None = None) -> None:
        self.bootstrap, self.history, self.rng, self.topic = bootstrap, history, rng, topic
        self.partitions, self.replication = partitions, replication
        self.settings = dict(settings or {})
        self.topics = [topic]
        self._sender: _Sender | None = None
        self._sessions = 0
        self._restart = False

    async def setup(self) -> None:
        await create_topic(self.bootstrap, self.topic, self.partitions, self.replication)

    def producer_restart(self) -> bool:
        """Close the producer and go on with a new one (a new producer id: an application restart).
        Takes effect between two bursts; the new session's ``start`` entry says when."""
        self._restart = True
        return True

    async def _new_session(self, until: float) -> _Sender | None:
        """A started producer, retrying while faults keep it from bootstrapping (None at ``until``)."""
        while self.history.now() < until:
            name = f"producer-{self._sessions}"
            self._sessions += 1
            sender = _Sender(name, self.bootstrap, self.topic, self.history, self.rng, self.settings)
            t0 = self.history.now()
            try:
                await sender.producer.start()
            except KafkaError as exc:
                self.history.append(name, "start", "failed", t0=t0, error=repr(exc))
                await sender.producer.close(timeout=1.0)
                continue
            self.history.append(name, "start", "ok", t0=t0)
            return sender
        return None

    async def run(self, until: float) -> None:
        """Produce until history time ``until``, in as many producer sessions as the schedule's
        ``producer_restart`` events ask for."""
        self._sender = await self._new_session(until)
        while self._sender is not None and self.history.now() < until:
            if self._restart:
                self._restart = False
                await self._sender.close(timeout=10.0)
                self._sender = await self._new_session(until)
                continue
            await self._sender.burst_once()

    async def finish(self) -> None:
        """Flush and close (after the faults are lifted); undecided records are ``unknown``."""
        if self._sender is not None:
            await self._sender.close(timeout=30.0)


class _AssignmentLog(ConsumerRebalanceListener):
    """Logs when each assignment begins and ends: the checker needs to know which commits a
    member's starting position could have seen."""

    def __init__(self, history: History, name: str, consumer: Any) -> None:
        self.history, self.name, self.consumer = history, name, consumer

    @staticmethod
    def _names(tps: Any) -> list[str]:
        return sorted(f"{tp.topic}:{tp.partition}" for tp in tps)

    def on_partitions_assigned(self, assigned: Any) -> None:
        self.history.append(self.name, "assigned", "info", gen=self.consumer.group_metadata().generation_id,
                            partitions=self._names(assigned))

    def on_partitions_revoked(self, revoked: Any) -> None:
        self.history.append(self.name, "revoked", "info", partitions=self._names(revoked))


@dataclass
class _Member:
    name: str
    consumer: Any
    task: asyncio.Task[None] | None = None
    stopping: bool = False
    records: int = 0
    rng: random.Random = field(default_factory=random.Random)


class GroupWorkload:
    """A feeder producer and a consumer group of 2 to ``max_members`` members committing by hand."""

    kind = "group"

    def __init__(self, bootstrap: str, history: History, rng: random.Random, topic: str, group: str, *,
                 partitions: int = 4, replication: int = 1, initial_members: int = 2, max_members: int = 4,
                 settings: Mapping[str, Any] | None = None, producer_settings: Mapping[str, Any] | None = None) -> None:
        self.bootstrap, self.history, self.rng, self.topic, self.group = bootstrap, history, rng, topic, group
        self.partitions, self.initial_members, self.max_members = partitions, initial_members, max_members
        self.replication = replication
        self.settings = dict(settings or {})
        self.producer_settings = dict(producer_settings or {})
        self.topics = [topic]
        self.members: list[_Member] = []
        self._next = 0
        self._feeder: _Sender | None = None
        self._ops: list[asyncio.Future[None]] = []

    async def setup(self) -> None:
        await create_topic(self.bootstrap, self.topic, self.partitions, self.replication)

    # -- membership, as the schedule asks -----------------------------------------------------

    def _live(self) -> list[_Member]:
        return [m for m in self.members if not m.stopping]

    def member_join(self) -> str | None:
        """Start one more member (none past ``max_members``); returns its name."""
        if len(self._live()) >= self.max_members:
            return None
        return self._spawn()

    def member_leave(self) -> str | None:
        """Stop a random member cleanly (LeaveGroup); never the last one."""
        live = self._live()
        if len(live) <= 1:
            return None
        m = self.rng.choice(live)
        self._background(self._leave(m))
        return m.name

    def member_crash(self) -> str | None:
        """Abandon a random member without LeaveGroup, as SIGKILL would; never the last one."""
        live = self._live()
        if len(live) <= 1:
            return None
        m = self.rng.choice(live)
        self._background(self._crash(m))
        return m.name

    def _background(self, coro: Any) -> None:
        # Kept until finish() awaits them all, done or not: a leave or crash that raised must not
        # be forgotten.
        self._ops.append(asyncio.ensure_future(coro))

    def _spawn(self) -> str:
        from kafkaio.consumer.consumer import Consumer

        name = f"member-{self._next}"
        self._next += 1
        consumer = Consumer(bootstrap_servers=self.bootstrap, group_id=self.group,
                            client_id=f"chaos-{name}", **{**DEFAULT_CONSUMER, **self.settings})
        m = _Member(name, consumer, rng=random.Random(self.rng.random()))
        self.members.append(m)
        m.task = asyncio.ensure_future(self._member_loop(m))
        return name

    @staticmethod
    def _generation(consumer: Any) -> int:
        return consumer.group_metadata().generation_id

    async def _member_loop(self, m: _Member) -> None:
        from kafkaio.structs import TopicPartition

        h, c = self.history, m.consumer
        t0 = h.now()
        try:
            await c.start()
        except KafkaError as exc:  # e.g. the broker is restarting: this member never came up
            h.append(m.name, "join", "failed", t0=t0, error=repr(exc))
            m.stopping = True
            return
        c.subscribe([self.topic], listener=_AssignmentLog(h, m.name, c))
        h.append(m.name, "join", "ok", t0=t0)
        while not m.stopping:
            g0, t0 = self._generation(c), h.now()
            try:
                batch = await c.getmany(timeout_ms=200)
            except KafkaError as exc:
                h.append(m.name, "poll_error", "failed", t0=t0, error=repr(exc))
                await asyncio.sleep(0.1)
                continue
            g1 = self._generation(c)
            for tp, recs in batch.items():
                h.append(m.name, "poll", "ok", t0=t0, topic=tp.topic, partition=tp.partition,
                         offsets=[r.offset for r in recs], gen_before=g0, gen_after=g1)
                m.records += len(recs)
            if not batch:
                continue
            await asyncio.sleep(m.rng.uniform(0.0, 0.05))  # "processing"
            offsets = {TopicPartition(tp.topic, tp.partition): recs[-1].offset + 1 for tp, recs in batch.items()}
            logged = {f"{tp.topic}:{tp.partition}": off for tp, off in offsets.items()}
            g, t0 = self._generation(c), h.now()
            try:
                await c.commit(offsets)
            except KafkaError as exc:
                # Retries inside commit() may have written it before the error: unknown.
                h.append(m.name, "commit", "unknown", t0=t0, gen=g, offsets=logged, error=repr(exc))
            except asyncio.CancelledError:
                h.append(m.name, "commit", "unknown", t0=t0, gen=g, offsets=logged, error="member crashed")
                raise
            else:
                h.append(m.name, "commit", "ok", t0=t0, gen=g, offsets=logged)

    async def _leave(self, m: _Member) -> None:
        m.stopping = True
        t0 = self.history.now()
        assert m.task is not None
        await m.task
        if not m.consumer._running:  # never started: nothing to leave
            return
        try:
            await m.consumer.stop()
        except KafkaError as exc:
            self.history.append(m.name, "leave", "failed", t0=t0, error=repr(exc))
        else:
            self.history.append(m.name, "leave", "ok", t0=t0)

    async def _crash(self, m: _Member) -> None:
        """An in-process stand-in for SIGKILL: the member's tasks die where they are and its
        connections drop, with no LeaveGroup and no last commit; the broker evicts it after
        session_timeout_ms. Reaches into the consumer's private parts on purpose: no public API
        should offer a way to vanish without cleaning up."""
        m.stopping = True
        t0 = self.history.now()
        c = m.consumer
        tasks = [m.task]
        coordinator = c._coordinator
        if coordinator is not None:
            tasks += [coordinator._task, coordinator._hb_task, getattr(coordinator, "_ac_task", None)]
        tasks += list(getattr(c, "_pending_commits", ()))
        live = [t for t in tasks if t is not None and not t.done()]
        for t in live:
            t.cancel()
        for t in live:
            try:
                await t
            except asyncio.CancelledError:
                pass
        c._running, c._closed = False, True
        if c._fetcher is not None:
            await c._fetcher.close()
        await c._cluster.close()
        self.history.append(m.name, "crash", "ok", t0=t0)

    # -- the run --------------------------------------------------------------------------------

    async def run(self, until: float) -> None:
        """Feed and consume until history time ``until``."""
        self._feeder = _Sender("feeder", self.bootstrap, self.topic, self.history, self.rng,
                               {"linger_ms": 5, **self.producer_settings})
        await self._feeder.producer.start()
        for _ in range(self.initial_members):
            self._spawn()
        await self._feeder.burst(until, largest=8, pause=0.1)  # slower: the members must keep up

    async def finish(self, settle: float = 5.0) -> None:
        """After the faults are lifted: close the feeder, let the group consume for ``settle``
        seconds, then stop every member cleanly."""
        if self._feeder is not None:
            await self._feeder.close(timeout=30.0)
        if self._ops:
            await asyncio.gather(*self._ops)
        await asyncio.sleep(settle)
        for m in self._live():
            await self._leave(m)
        for m in self.members:  # a member whose loop died of an unexpected error: raise it here
            if m.task is not None and m.task.done() and not m.task.cancelled() and m.task.exception():
                raise m.task.exception()  # type: ignore[misc]


DEFAULT_TXN: dict[str, Any] = {
    **DEFAULT_PRODUCER,
    # Short, so that a transaction left open by a crashed or fenced session is aborted by the
    # coordinator before the read-back waits on it.
    "transaction_timeout_ms": 10000,
}


class TxnWorkload:
    """A transactional producer: transactions of 1-30 records over ``partitions`` partitions, 80%
    committed and 20% aborted; restarts reuse the transactional id, fencing the session before.

    Each record is a ``txn_send`` entry (outcome ``info``: a record's fate is its transaction's);
    each transaction a ``txn`` entry: ``ok`` when commit_transaction() returned, ``failed`` when it
    was never asked to commit (so it can only be aborted), ``unknown`` when the commit raised.
    """

    kind = "txn"

    def __init__(self, bootstrap: str, history: History, rng: random.Random, topic: str, transactional_id: str, *,
                 partitions: int = 4, replication: int = 1, settings: Mapping[str, Any] | None = None) -> None:
        self.bootstrap, self.history, self.rng, self.topic = bootstrap, history, rng, topic
        self.transactional_id, self.partitions, self.replication = transactional_id, partitions, replication
        self.settings = dict(settings or {})
        self.topics = [topic]
        self._sessions = 0
        self._seq = 0
        self._txns = 0
        self._restart = False
        self._producer: Any = None
        self._name = ""

    async def setup(self) -> None:
        await create_topic(self.bootstrap, self.topic, self.partitions, self.replication)

    def producer_restart(self) -> bool:
        """Go on with a new producer of the same transactional id (fencing the current one), after
        the transaction in progress."""
        self._restart = True
        return True

    async def _new_session(self, until: float) -> bool:
        from kafkaio.producer.producer import Producer

        while self.history.now() < until:
            self._name = f"txn-{self._sessions}"
            self._sessions += 1
            self._producer = Producer(bootstrap_servers=self.bootstrap, transactional_id=self.transactional_id,
                                      **{**DEFAULT_TXN, **self.settings})
            t0 = self.history.now()
            try:
                await self._producer.start()
            except KafkaError as exc:
                self.history.append(self._name, "start", "failed", t0=t0, error=repr(exc))
                await self._producer.close(timeout=1.0)
                continue
            self.history.append(self._name, "start", "ok", t0=t0)
            return True
        return False

    async def _close_session(self) -> None:
        if self._producer is not None:
            await self._producer.close(timeout=10.0)
            self._producer = None

    async def _one_transaction(self) -> bool:
        """One transaction; False when the session is unusable (fenced, fatal error)."""
        h, p, name = self.history, self._producer, f"{self._name}-t{self._txns}"
        self._txns += 1
        t0 = h.now()
        try:
            p.begin_transaction()
        except KafkaError as exc:
            h.append(self._name, "begin", "failed", t0=t0, txn=name, error=repr(exc))
            return False
        count = self.rng.randint(1, 30)
        commit_called = False
        try:
            for _ in range(count):
                seq, self._seq = self._seq, self._seq + 1
                value = f"{self._name}:{seq}"
                key = f"k{self.rng.randrange(13)}" if self.rng.random() < 0.5 else None
                h.append(self._name, "txn_send", "info", topic=self.topic, key=key, value=value, seq=seq, txn=name)
                await p.send(self.topic, value.encode(), key=None if key is None else key.encode())
            if self.rng.random() < 0.8:
                commit_called = True
                await p.commit_transaction()
                h.append(self._name, "txn", "ok", t0=t0, txn=name, records=count)
            else:
                await p.abort_transaction()
                h.append(self._name, "txn", "failed", t0=t0, txn=name, records=count, error="aborted by the workload")
            return True
        except KafkaError as exc:
            # Never asked to commit: it can only end aborted. Asked and raised: nobody knows.
            h.append(self._name, "txn", "unknown" if commit_called else "failed", t0=t0, txn=name,
                     records=count, error=repr(exc))
        t1 = h.now()
        try:
            await p.abort_transaction()
        except KafkaError as exc:
            h.append(self._name, "abort", "failed", t0=t1, txn=name, error=repr(exc))
            return False
        h.append(self._name, "abort", "ok", t0=t1, txn=name)
        return True

    async def run(self, until: float) -> None:
        """Transactions until history time ``until``."""
        alive = await self._new_session(until)
        while alive and self.history.now() < until:
            if self._restart or not await self._one_transaction():
                self._restart = False
                await self._close_session()
                alive = await self._new_session(until)

    async def finish(self) -> None:
        """Close the session, then start and close one more producer of the transactional id: its
        InitProducerId aborts whatever transaction is still open, so the read-back never waits on
        one."""
        await self._close_session()
        if await self._new_session(self.history.now() + 60.0):
            await self._close_session()
