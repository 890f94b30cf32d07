"""Applies a :class:`~kafkaio.testing.chaos.schedule.Schedule` to a running system: proxy faults,
broker signals and restarts, membership changes. Each event is logged in the history as an
``op="fault"`` entry when it is set, so that violation excerpts show what was happening."""
from __future__ import annotations

import asyncio
import os
import signal
from typing import Any

from kafkaio.testing.chaos.history import History
from kafkaio.testing.chaos.schedule import Fault, Schedule

__all__ = ["Injector"]


def _early(info: Any) -> bool:
    """One of the first requests of its connection (correlation ids count up from 0 per connection)."""
    return info.correlation_id < 8


class Injector:
    """Plays ``schedule`` against ``proxy`` (a FaultProxy), ``cluster`` (a LocalKafkaCluster, or
    None when the broker is not ours: broker faults are then skipped) and ``workload`` (for
    ``member_*`` events)."""

    def __init__(self, schedule: Schedule, history: History, proxy: Any, cluster: Any, workload: Any) -> None:
        self.schedule, self.history, self.proxy, self.cluster, self.workload = schedule, history, proxy, cluster, workload
        self.injected: dict[str, int] = {}
        self._restorers: list[asyncio.Future[None]] = []  # kept until finish(): their errors surface there
        self._stopped_pid: int | None = None
        self._restart: asyncio.Future[None] | None = None

    async def run(self, start: float) -> None:
        """Apply each fault at ``start + fault.at`` (history time)."""
        for fault in self.schedule.faults:
            wait = start + fault.at - self.history.now()
            if wait > 0:
                await asyncio.sleep(wait)
            applied = await self._apply(fault)
            self.history.append("injector", "fault", "info", kind=fault.kind, api_key=fault.api_key,
                                count=fault.count, duration=fault.duration, applied=applied,
                                describe=fault.describe())
            if applied:
                self.injected[fault.kind] = self.injected.get(fault.kind, 0) + 1

    async def _apply(self, f: Fault) -> bool | str:
        p = self.proxy
        early = _early if f.early else None
        if f.kind == "drop_request":
            p.drop_requests(f.count, api_key=f.api_key, predicate=early)
        elif f.kind == "drop_response":
            p.drop_responses(f.count, api_key=f.api_key, predicate=early)
        elif f.kind == "cut_after":
            p.cut_after_requests(f.count, api_key=f.api_key, predicate=early)
        elif f.kind == "cut":
            p.cut()
        elif f.kind == "delay":
            p.delay(f.duration * 1000, api_key=f.api_key)
            self._later(f.duration * 2, lambda: p.delay(0))
        elif f.kind == "pause":
            p.pause()
            self._later(f.duration, p.resume)
        elif f.kind in ("broker_stop", "broker_kill"):
            if self.cluster is None or self._stopped_pid is not None or (
                    self._restart is not None and not self._restart.done()):
                return False
            if f.kind == "broker_stop":
                pid = self.cluster.brokers[0].pid
                if pid is None:
                    return False
                os.killpg(pid, signal.SIGSTOP)
                self._stopped_pid = pid
                self._later(f.duration, self._continue_broker)
            else:
                # A JVM start takes many seconds here: restart in a thread so the event loop (and the
                # proxy on it) keeps running.
                await asyncio.to_thread(self.cluster.kill_broker, 0)
                self._restart = asyncio.ensure_future(asyncio.to_thread(self.cluster.start_broker, 0))
        elif f.kind.startswith("member_") or f.kind == "producer_restart":
            name = getattr(self.workload, f.kind)()
            return name or False
        else:
            raise ValueError(f"unknown fault kind {f.kind!r}")
        return True

    def _continue_broker(self) -> None:
        if self._stopped_pid is not None:
            try:
                os.killpg(self._stopped_pid, signal.SIGCONT)
            except ProcessLookupError:  # killed meanwhile by a broker_kill: nothing to wake
                pass
            self._stopped_pid = None

    def _later(self, delay: float, fn: Any) -> None:
        async def run() -> None:
            await asyncio.sleep(delay)
            fn()

        self._background(run())

    def _background(self, coro: Any) -> None:
        self._restorers.append(asyncio.ensure_future(coro))

    async def finish(self) -> None:
        """Undo every fault still in force (and wait for a broker restart in progress), so that the
        workload can wind down and the read-back sees a healthy system."""
        cancelled = [t for t in self._restorers if not t.done()]
        for task in cancelled:
            task.cancel()  # what they would have undone, reset() below undoes now
        for task in self._restorers:
            try:
                await task
            except asyncio.CancelledError:
                if task not in cancelled:
                    raise
        self._restorers.clear()
        self._continue_broker()
        if self._restart is not None:
            await self._restart  # a restart cannot be cancelled halfway (it runs in a thread)
        self.proxy.reset()
        if self.cluster is not None and not self.cluster.brokers[0].running:
            await asyncio.to_thread(self.cluster.start_broker, 0)
