"""Workloads: kafkaio clients doing ordinary work while faults happen, appending every operation
and its outcome to a :class:`~kafkaio.testing.chaos.history.History`.

* :class:`ProducerWorkload`: one idempotent producer (acks=all, 5 requests in flight) writing
  keyed and keyless records to several partitions in bursts, so that several batches of one
  partition are in flight together when a request is lost.
* :class:`GroupWorkload`: a feeder producer plus a consumer group whose members, each a process of
  its own, poll, process and commit offsets by hand; members join, leave, are SIGKILLed and
  SIGSTOPped as the schedule says.
* :class:`TxnWorkload`: a transactional producer committing and aborting transactions.
* :class:`CtpWorkload`: consume-transform-produce: a feeder writes input records, transactional
  processors (processes) read them ``read_committed`` and write one output record per input record,
  committing the consumed offsets in the same transaction.

Settings are the client's own keyword arguments; ``settings`` overrides the defaults below, which is
how a user points the verifier at their application's configuration.
"""
from __future__ import annotations

import asyncio
import json
import os
import random
import shutil
import signal
import sys
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kafkaio.errors import KafkaError
from kafkaio.testing.chaos.history import History
from kafkaio.testing.chaos.schedule import assignment_strategy

if TYPE_CHECKING:
    from kafkaio.producer.producer import Producer

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


def _check_consumer_settings(bootstrap: str, settings: Mapping[str, Any], assignor: str | None) -> None:
    """Build (and drop) a consumer with the members' settings, so that a wrong one is a ConfigError
    here rather than a traceback in every member process."""
    from kafkaio.consumer.consumer import Consumer

    extra = {"partition_assignment_strategy": assignment_strategy(assignor, "member-0")} if assignor else {}
    Consumer(bootstrap_servers=bootstrap, group_id="chaos-settings-check", **{**DEFAULT_CONSUMER, **extra, **settings})


class _ClientProcess:
    """One client process of :mod:`kafkaio.testing.chaos.procs`: started, stopped (SIGTERM),
    SIGKILLed, SIGSTOPped and SIGCONTinued by the workload; its history file is merged at the end."""

    def __init__(self, name: str, cfg: dict[str, Any], workdir: Path, history: History) -> None:
        self.name, self.history = name, history
        self.history_path = workdir / f"{name}.jsonl"
        self.stderr_path = workdir / f"{name}.stderr"
        self.log_path = workdir / f"{name}.log"  # the client's own logging (INFO)
        self.cfg = {**cfg, "name": name, "history_path": str(self.history_path), "history_start": history.start,
                    "log_path": str(self.log_path), "parent_pid": os.getpid()}
        self.proc: asyncio.subprocess.Process | None = None
        self.stopping = False   # asked to stop (SIGTERM): a clean exit is expected
        self.killed = False     # SIGKILLed by the schedule
        self.paused = False
        self.doomed = False     # the run failed: kill it as soon as it exists
        self.exited: asyncio.Future[int] = asyncio.get_running_loop().create_future()

    async def start(self) -> None:
        with open(self.stderr_path, "wb") as err:
            self.proc = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "kafkaio.testing.chaos.procs", json.dumps(self.cfg),
                stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.DEVNULL, stderr=err)
        if self.doomed:  # the run was abandoned while it was starting
            self.proc.kill()
        elif self.stopping:  # asked to stop while it was starting
            self.proc.send_signal(signal.SIGTERM)
        code = await self.proc.wait()
        self.exited.set_result(code)

    @property
    def alive(self) -> bool:
        return not self.exited.done() and not self.stopping and not self.killed

    def _signal(self, sig: int) -> bool:
        if self.proc is None or self.exited.done():
            return False
        try:
            self.proc.send_signal(sig)
        except ProcessLookupError:  # exited, not reaped yet
            return False
        return True

    def stop(self) -> None:
        self.stopping = True
        self.resume()
        self._signal(signal.SIGTERM)

    def dump_tasks(self) -> None:
        self._signal(signal.SIGUSR1)

    def kill(self) -> bool:
        self.killed = self._signal(signal.SIGKILL)
        return self.killed

    def pause(self) -> bool:
        self.paused = self._signal(signal.SIGSTOP)
        return self.paused

    def resume(self) -> None:
        if self.paused:
            self.paused = False
            self._signal(signal.SIGCONT)

    def unexpected_exit(self, code: int) -> str | None:
        """Why ``code`` shows a defect of the workload itself (None: an exit the run asked for or
        a client error the process reported)."""
        from kafkaio.testing.chaos.procs import EXIT_FATAL

        if code == 0 or code == EXIT_FATAL or (self.killed and code == -signal.SIGKILL):
            return None
        if self.stopping and code == -signal.SIGTERM:  # asked to stop before it had set its handler
            return None
        tail = self.stderr_path.read_text(errors="replace")[-3000:] if self.stderr_path.exists() else ""
        return f"{self.name} exited with {code}:\n{tail}"

    def entries(self) -> list[dict[str, Any]]:
        return History.read_jsonl_file(str(self.history_path)) if self.history_path.exists() else []


class _ProcessWorkload:
    """What the group workloads share: a feeder, client processes, the schedule's process faults
    (``member_kill``, ``member_pause``) and the merge of the processes' histories."""

    def __init__(self, history: History, rng: random.Random) -> None:
        self.history, self.rng = history, rng
        self.procs: list[_ClientProcess] = []
        self.workdir = Path(tempfile.mkdtemp(prefix="kafkaio-chaos-"))
        self._ops: list[asyncio.Future[Any]] = []
        self._wakes: list[asyncio.Future[None]] = []  # SIGCONTs to come
        self._errors: list[str] = []
        self._finishing = False

    def _background(self, coro: Any) -> None:
        # Kept until finish() awaits them all, done or not: one that raised must not be forgotten.
        self._ops.append(asyncio.ensure_future(coro))

    def _live(self) -> list[_ClientProcess]:
        return [p for p in self.procs if p.alive]

    def _spawn(self, name: str, cfg: dict[str, Any]) -> _ClientProcess:
        """Start a client process (in the background: it counts as live from now on)."""
        p = _ClientProcess(name, cfg, self.workdir, self.history)
        self.procs.append(p)
        self._background(p.start())
        self._background(self._watch(p))
        return p

    async def _watch(self, p: _ClientProcess) -> None:
        code = await p.exited
        why = p.unexpected_exit(code)
        if why is not None:
            self._errors.append(why)
        await self._exited(p, code)

    async def _exited(self, p: _ClientProcess, code: int) -> None:
        """A process ended (the processor workload starts another in its place)."""

    def _kill(self, p: _ClientProcess) -> str | None:
        t0 = self.history.now()
        if not p.kill():
            return None
        self.history.append(p.name, "kill", "ok", t0=t0, signal="SIGKILL")
        return p.name

    def _pause(self, p: _ClientProcess, duration: float) -> str | None:
        if not p.pause():
            return None
        self.history.append(p.name, "stopped", "info", signal="SIGSTOP", duration=duration)

        async def wake() -> None:
            await asyncio.sleep(duration)
            if p.paused:
                p.resume()
                self.history.append("injector", "fault", "info", kind="member_resume", api_key=None, count=1,
                                    duration=duration, applied=p.name,
                                    describe=f"SIGCONT {p.name} after {duration:.2f}s")

        self._wakes.append(asyncio.ensure_future(wake()))
        return p.name

    async def _wake_all(self) -> None:
        """Wait for every pause to run its course (a pause cut short at the end of a run would
        never outlast the session), so that every process is running again."""
        if self._wakes:
            await asyncio.gather(*self._wakes)
        self._wakes.clear()
        for p in self.procs:
            p.resume()

    async def _stop_all(self, timeout: float = 60.0) -> None:
        await self._wake_all()
        for p in self.procs:
            if not p.exited.done() and not p.killed:
                p.stop()
        for p in self.procs:
            try:
                await asyncio.wait_for(asyncio.shield(p.exited), timeout)
            except asyncio.TimeoutError:
                p.dump_tasks()  # where it hangs, into its stderr
                await asyncio.sleep(1.0)
                p.kill()
                await p.exited
                tail = p.stderr_path.read_text(errors="replace")[-6000:]
                self._errors.append(f"{p.name} did not stop within {timeout:g}s of SIGTERM; its tasks:\n{tail}")

    async def abandon(self) -> None:
        """The run failed before finish(): SIGKILL every process still there, so that none goes on
        into the next schedule (their files stay in ``workdir`` for the report)."""
        self._finishing = True
        for p in self.procs:
            p.doomed = True
            if not p.exited.done():
                p.resume()
                p.kill()
        if self.procs:
            await asyncio.wait([p.exited for p in self.procs], timeout=30.0)
        for op in (*self._ops, *self._wakes):
            op.cancel()

    async def _wind_down(self) -> None:
        """Every process ended: await the background work, merge the histories, raise what went wrong."""
        if self._ops:
            await asyncio.gather(*self._ops)
        self.history.merge(e for p in self.procs for e in p.entries())
        if self._errors:
            raise RuntimeError("client process failed: " + "\n".join(self._errors))
        shutil.rmtree(self.workdir, ignore_errors=True)


class GroupWorkload(_ProcessWorkload):
    """A feeder producer and a consumer group of 2 to ``max_members`` members, each a process of its
    own (:func:`kafkaio.testing.chaos.procs.run_member`), committing by hand after each batch
    (``commit="manual"``), with commit_async after each batch, not waiting for it (``"async"``), or
    with ``enable_auto_commit`` (``"auto"``)."""

    kind = "group"

    def __init__(self, bootstrap: str, history: History, rng: random.Random, topic: str, group: str, *,
                 partitions: int = 4, replication: int = 1, initial_members: int = 2, max_members: int = 4,
                 settings: Mapping[str, Any] | None = None, producer_settings: Mapping[str, Any] | None = None,
                 assignor: str | None = None, commit: str = "manual") -> None:
        super().__init__(history, rng)
        if commit not in ("manual", "async", "auto"):
            raise ValueError(f"commit must be manual, async or auto, not {commit!r}")
        self.bootstrap, self.topic, self.group, self.commit = bootstrap, topic, group, commit
        self.partitions, self.initial_members, self.max_members = partitions, initial_members, max_members
        self.replication, self.assignor = replication, assignor
        self.settings = dict(settings or {})
        self.producer_settings = dict(producer_settings or {})
        self.topics = [topic]
        self._next = 0
        self._feeder: _Sender | None = None

    async def setup(self) -> None:
        _check_consumer_settings(self.bootstrap, self.settings, self.assignor)
        await create_topic(self.bootstrap, self.topic, self.partitions, self.replication)

    # -- membership, as the schedule asks -----------------------------------------------------

    def member_join(self) -> str | None:
        """Start one more member (none past ``max_members``); returns its name."""
        if len(self._live()) >= self.max_members:
            return None
        name = f"member-{self._next}"
        self._next += 1
        cfg = {"role": "member", "bootstrap": self.bootstrap, "group": self.group, "topic": self.topic,
               "settings": self.settings, "assignor": self.assignor, "commit": self.commit,
               "seed": self.rng.random()}
        self._spawn(name, cfg)
        return name

    def _victim(self) -> _ClientProcess | None:
        """A random running member, never the last one that is not paused."""
        live = [p for p in self._live() if not p.paused]
        return self.rng.choice(live) if len(live) > 1 else None

    def member_leave(self) -> str | None:
        """Stop a random member cleanly (SIGTERM: it leaves the group); never the last one."""
        p = self._victim()
        if p is None:
            return None
        p.stop()
        return p.name

    def member_kill(self) -> str | None:
        """SIGKILL a random member: no LeaveGroup, no last commit; the broker evicts it after
        session_timeout_ms. Never the last one."""
        p = self._victim()
        return None if p is None else self._kill(p)

    def member_pause(self, duration: float) -> str | None:
        """SIGSTOP a random member for ``duration`` seconds (past its session: it is evicted while
        it sleeps, and on SIGCONT must find out that it was fenced); never the last one."""
        p = self._victim()
        return None if p is None else self._pause(p, duration)

    # -- the run --------------------------------------------------------------------------------

    async def run(self, until: float) -> None:
        """Feed and consume until history time ``until``."""
        self._feeder = _Sender("feeder", self.bootstrap, self.topic, self.history, self.rng,
                               {"linger_ms": 5, **self.producer_settings})
        await self._feeder.producer.start()
        for _ in range(self.initial_members):
            self.member_join()
        await self._feeder.burst(until, largest=8, pause=0.1)  # slower: the members must keep up

    async def finish(self, settle: float = 5.0) -> None:
        """After the faults are lifted: let paused members wake, close the feeder, let the group consume
        for ``settle`` seconds, then stop every member cleanly and merge their histories."""
        await self._wake_all()
        if self._feeder is not None:
            await self._feeder.close(timeout=30.0)
        await asyncio.sleep(settle)
        await self._stop_all()
        await self._wind_down()


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
        self._producer: Producer | None = None
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
        assert p is not None  # a session is open
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


class CtpWorkload(_ProcessWorkload):
    """Consume-transform-produce: a feeder writes numbered records to ``topic``; ``processors``
    transactional processors, each a process of its own with a transactional id per slot and all
    in one consumer group, read them ``read_committed``, write one record per input record to
    ``output`` and commit the consumed offsets with ``send_offsets_to_transaction`` in the same
    transaction (:func:`kafkaio.testing.chaos.procs.run_processor`).

    The schedule kills a processor (``member_kill``: SIGKILL, a new process of the same slot and
    transactional id takes over, fencing it), pauses one past its session (``member_pause``: the
    other takes its partitions; woken, its transaction must fail) or restarts one cleanly
    (``producer_restart``). A processor that cannot tell where its transaction stands exits and is
    replaced the same way.
    """

    kind = "ctp"

    def __init__(self, bootstrap: str, history: History, rng: random.Random, topic: str, output: str, group: str,
                 transactional_id: str, *, partitions: int = 4, replication: int = 1, processors: int = 2,
                 settings: Mapping[str, Any] | None = None, producer_settings: Mapping[str, Any] | None = None,
                 assignor: str | None = None) -> None:
        super().__init__(history, rng)
        self.bootstrap, self.topic, self.output, self.group = bootstrap, topic, output, group
        self.transactional_id, self.partitions, self.replication = transactional_id, partitions, replication
        self.processors, self.assignor = processors, assignor
        self.settings = dict(settings or {})
        self.producer_settings = dict(producer_settings or {})
        self.topics = [topic, output]
        self._slots: dict[int, _ClientProcess] = {}
        self._slot_of: dict[str, int] = {}
        self._next = 0
        self._finishing = False
        self._feeder: _Sender | None = None

    def tid(self, slot: int) -> str:
        return f"{self.transactional_id}-{slot}"

    async def setup(self) -> None:
        _check_consumer_settings(self.bootstrap, self.settings, self.assignor)
        await create_topic(self.bootstrap, self.topic, self.partitions, self.replication)
        await create_topic(self.bootstrap, self.output, self.partitions, self.replication)

    def _start_slot(self, slot: int) -> _ClientProcess:
        name = f"ctp-{self._next}"
        self._next += 1
        cfg = {"role": "processor", "bootstrap": self.bootstrap, "group": self.group, "topic": self.topic,
               "output": self.output, "transactional_id": self.tid(slot), "settings": self.settings,
               "producer_settings": self.producer_settings, "assignor": self.assignor, "seed": self.rng.random()}
        p = self._spawn(name, cfg)
        self._slots[slot], self._slot_of[name] = p, slot
        return p

    async def _exited(self, p: _ClientProcess, code: int) -> None:
        """Whatever ended a processor during the run (a kill, a restart, a client error it could
        not go on from), a new process of its slot takes over."""
        slot = self._slot_of[p.name]
        if self._finishing or self._slots.get(slot) is not p:
            return
        await asyncio.sleep(0.2)
        if not self._finishing:
            self._start_slot(slot)

    def _running(self) -> list[_ClientProcess]:
        return [p for p in self._slots.values() if p.alive and not p.paused]

    def member_kill(self) -> str | None:
        """SIGKILL a processor mid-whatever; a new one of its transactional id takes over."""
        live = self._running()
        return self._kill(self.rng.choice(live)) if live else None

    def member_pause(self, duration: float) -> str | None:
        """SIGSTOP a processor past its session (never the last one running)."""
        live = self._running()
        return self._pause(self.rng.choice(live), duration) if len(live) > 1 else None

    def producer_restart(self) -> str | None:
        """Stop a processor cleanly (SIGTERM); a new one of its transactional id takes over."""
        live = self._running()
        if not live:
            return None
        p = self.rng.choice(live)
        p.stop()
        return p.name

    async def run(self, until: float) -> None:
        """Feed the input until history time ``until`` while the processors transform it."""
        self._feeder = _Sender("feeder", self.bootstrap, self.topic, self.history, self.rng,
                               {"linger_ms": 5, **self.producer_settings})
        await self._feeder.producer.start()
        for slot in range(self.processors):
            self._start_slot(slot)
        await self._feeder.burst(until, largest=8, pause=0.1)

    async def finish(self, settle: float = 8.0) -> None:
        """Let paused processors wake, close the feeder, let the processors catch up for ``settle``
        seconds, stop them, then start and close one producer of each transactional id (its
        InitProducerId ends whatever is still open, so the read-back never waits on it)."""
        await self._wake_all()
        if self._feeder is not None:
            await self._feeder.close(timeout=30.0)
        await asyncio.sleep(settle)
        self._finishing = True
        await self._stop_all()
        from kafkaio.producer.producer import Producer

        for slot in range(self.processors):
            producer = Producer(bootstrap_servers=self.bootstrap, transactional_id=self.tid(slot),
                                **{**DEFAULT_TXN, **self.producer_settings})
            try:
                await producer.start()
            finally:
                await producer.close(timeout=10.0)
        await self._wind_down()
        # A process killed between its records and its transaction's outcome: nobody knows it.
        decided = {e["txn"] for e in self.history.entries if e["op"] == "txn"}
        undecided: dict[str, list[dict[str, Any]]] = {}
        for e in self.history.entries:
            if e["op"] == "txn_send" and e["txn"] not in decided:
                undecided.setdefault(e["txn"], []).append(e)
        for txn, sends in undecided.items():
            self.history.append(sends[0]["proc"], "txn", "unknown", t0=sends[0]["t0"], txn=txn, records=len(sends),
                                error="the process was killed before the outcome was known")
