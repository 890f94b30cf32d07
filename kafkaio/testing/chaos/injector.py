"""Applies a :class:`~kafkaio.testing.chaos.schedule.Schedule` to a running system: proxy faults,
broker signals and restarts, membership changes. Each event is logged in the history as an
``op="fault"`` entry when it is set, so that violation excerpts show what was happening."""
from __future__ import annotations

import asyncio
import os
import signal
import time
from typing import TYPE_CHECKING, Any

from kafkaio.protocol import ApiKey, decode_response, encode_response
from kafkaio.testing.chaos.history import History
from kafkaio.testing.chaos.schedule import Fault, Schedule

if TYPE_CHECKING:
    from kafkaio.testing.broker import LocalKafkaCluster
    from kafkaio.testing.proxy import RequestInfo

__all__ = ["Injector"]


def _early(info: RequestInfo) -> bool:
    """One of the first requests of its connection (correlation ids count up from 0 per connection)."""
    return info.correlation_id < 8


NOT_COORDINATOR, COORDINATOR_NOT_AVAILABLE = 16, 15


def _reencode(info: RequestInfo, body: dict[str, Any]) -> bytes:
    return bytes(encode_response(info.api_key, info.api_version, info.correlation_id, body))[4:]


def not_coordinator(info: RequestInfo, payload: bytes) -> bytes:
    """The broker's OffsetCommit response with every partition answered NOT_COORDINATOR (whether
    the broker wrote the offsets or not: the client cannot tell, as after a lost response)."""
    body = decode_response(ApiKey.OFFSET_COMMIT, info.api_version, payload)
    for t in body["topics"]:
        for p in t["partitions"]:
            p["error_code"] = NOT_COORDINATOR
    return _reencode(info, body)


def coordinator_not_available(info: RequestInfo, payload: bytes) -> bytes:
    """The broker's FindCoordinator response with the coordinator unknown (every version's shape)."""
    body = decode_response(ApiKey.FIND_COORDINATOR, info.api_version, payload)
    for holder in [body, *body.get("coordinators", ())]:
        if "error_code" in holder:
            holder.update(error_code=COORDINATOR_NOT_AVAILABLE, node_id=-1, host="", port=-1)
    return _reencode(info, body)


class Injector:
    """Plays ``schedule`` against ``proxies`` (one FaultProxy per node, or a single one),
    ``cluster`` (a LocalKafkaCluster, or None when the brokers are not ours: broker faults are then
    skipped) and ``workload`` (for ``member_*`` and ``producer_restart`` events)."""

    def __init__(self, schedule: Schedule, history: History, proxies: Any, cluster: LocalKafkaCluster | None,
                 workload: Any) -> None:
        self.schedule, self.history, self.cluster, self.workload = schedule, history, cluster, workload
        self.proxies = list(proxies) if isinstance(proxies, (list, tuple)) else [proxies]
        self.injected: dict[str, int] = {}
        self._restorers: list[asyncio.Future[None]] = []  # kept until finish(): their errors surface there
        self._stopped: dict[int, int] = {}  # node index -> pid of a SIGSTOPped broker
        self._restarts: dict[int, asyncio.Future[None]] = {}  # node index -> restart in progress

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
        node = f.node % len(self.proxies)
        p = self.proxies[node]
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
        elif f.kind == "coordinator_error":
            p.rewrite_responses(not_coordinator, f.count, api_key=ApiKey.OFFSET_COMMIT)
            until = time.monotonic() + f.duration
            # matching nothing once over: the proxy hands an answer to the first rule that
            # matches it, and this one would otherwise hide every later event's lookup rule
            p.rewrite_responses(coordinator_not_available, None, api_key=ApiKey.FIND_COORDINATOR,
                                predicate=lambda info: time.monotonic() < until)
        elif f.kind == "pause":
            p.pause()
            self._later(f.duration, p.resume)
        elif f.kind in ("broker_stop", "broker_kill"):
            restart = self._restarts.get(node)
            if self.cluster is None or node in self._stopped or (restart is not None and not restart.done()):
                return False
            if f.kind == "broker_stop":
                pid = self.cluster.brokers[node].pid
                if pid is None:
                    return False
                os.killpg(pid, signal.SIGSTOP)
                self._stopped[node] = pid
                self._later(f.duration, lambda: self._continue_broker(node))
            else:
                # A JVM start takes many seconds here: restart in a thread so the event loop (and the
                # proxies on it) keeps running.
                await asyncio.to_thread(self.cluster.kill_broker, node)
                self._restarts[node] = asyncio.ensure_future(asyncio.to_thread(self.cluster.start_broker, node))
        elif f.kind == "member_pause":
            return self.workload.member_pause(f.duration) or False
        elif f.kind.startswith("member_") or f.kind == "producer_restart":
            name = getattr(self.workload, f.kind)()
            return name or False
        else:
            raise ValueError(f"unknown fault kind {f.kind!r}")
        return True

    def _continue_broker(self, node: int) -> None:
        pid = self._stopped.pop(node, None)
        if pid is not None:
            try:
                os.killpg(pid, signal.SIGCONT)
            except ProcessLookupError:  # killed meanwhile: nothing to wake
                pass

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
        for node in list(self._stopped):
            self._continue_broker(node)
        for restart in self._restarts.values():
            await restart  # a restart cannot be cancelled halfway (it runs in a thread)
        for proxy in self.proxies:
            proxy.reset()
        if self.cluster is not None:
            for node, broker in enumerate(self.cluster.brokers):
                if not broker.running:
                    await asyncio.to_thread(self.cluster.start_broker, node)
