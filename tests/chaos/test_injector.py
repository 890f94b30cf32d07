"""The injector against stand-ins for the proxy, the cluster and the workload: each kind of fault
becomes the right call, is logged in the history, and finish() undoes what is still in force."""
from __future__ import annotations

from typing import Any

import time

from kafkaio.protocol import ApiKey, decode_response, encode_response
from kafkaio.testing.chaos.history import History
from kafkaio.testing.chaos.injector import Injector, coordinator_not_available, not_coordinator
from kafkaio.testing.chaos.schedule import Fault, Schedule


class FakeProxy:
    def __init__(self) -> None:
        self.calls: list[tuple[Any, ...]] = []
        self.rewriters: list[Any] = []
        self.predicates: list[Any] = []

    def drop_requests(self, count: int, api_key: int | None = None, predicate: Any = None) -> None:
        self.calls.append(("drop_requests", count, api_key, predicate is not None))

    def drop_responses(self, count: int, api_key: int | None = None, predicate: Any = None) -> None:
        self.calls.append(("drop_responses", count, api_key, predicate is not None))

    def cut_after_requests(self, count: int, api_key: int | None = None, predicate: Any = None) -> None:
        self.calls.append(("cut_after_requests", count, api_key, predicate is not None))

    def cut(self) -> None:
        self.calls.append(("cut",))

    def rewrite_responses(self, fn: Any, count: int | None = 1, api_key: int | None = None,
                          predicate: Any = None) -> None:
        self.calls.append(("rewrite_responses", count, api_key))
        self.rewriters.append(fn)
        self.predicates.append(predicate)

    def delay(self, ms: float, api_key: int | None = None) -> None:
        self.calls.append(("delay", ms, api_key))

    def pause(self) -> None:
        self.calls.append(("pause",))

    def resume(self) -> None:
        self.calls.append(("resume",))

    def reset(self) -> None:
        self.calls.append(("reset",))


class FakeWorkload:
    def __init__(self) -> None:
        self.events: list[str] = []

    def member_join(self) -> str:
        self.events.append("join")
        return "member-9"

    def member_leave(self) -> None:  # nobody to leave: not applied
        self.events.append("leave")
        return None


async def test_each_fault_becomes_its_call_and_is_logged() -> None:
    faults = (
        Fault(0.0, "drop_request", 0, 2, 0.0, True),
        Fault(0.0, "drop_response", 8, 1),
        Fault(0.0, "cut_after", None, 3),
        Fault(0.0, "cut"),
        Fault(0.0, "delay", 1, 1, 5.0),
        Fault(0.0, "pause", None, 1, 5.0),
        Fault(0.0, "member_join"),
        Fault(0.0, "member_leave"),
        Fault(0.0, "broker_stop", None, 1, 1.0),   # no cluster of ours: skipped
    )
    history, proxy, workload = History(), FakeProxy(), FakeWorkload()
    injector = Injector(Schedule(1, "group", 10.0, faults), history, proxy, None, workload)
    await injector.run(history.now())
    await injector.finish()
    assert proxy.calls == [
        ("drop_requests", 2, 0, True), ("drop_responses", 1, 8, False), ("cut_after_requests", 3, None, False),
        ("cut",), ("delay", 5000.0, 1), ("pause",),
        ("reset",),  # finish(): the delay and the pause are still in force, reset lifts them
    ]
    assert workload.events == ["join", "leave"]
    logged = [(e["kind"], e["applied"]) for e in history.of("fault")]
    assert logged == [("drop_request", True), ("drop_response", True), ("cut_after", True), ("cut", True),
                      ("delay", True), ("pause", True), ("member_join", "member-9"), ("member_leave", False),
                      ("broker_stop", False)]
    assert injector.injected == {"drop_request": 1, "drop_response": 1, "cut_after": 1, "cut": 1, "delay": 1,
                                 "pause": 1, "member_join": 1}


async def test_with_several_nodes_each_fault_goes_to_its_node_s_proxy() -> None:
    faults = (Fault(0.0, "cut", node=2), Fault(0.0, "drop_request", 0, 1, node=1), Fault(0.0, "pause", None, 1, 5.0))
    history, proxies = History(), [FakeProxy(), FakeProxy(), FakeProxy()]
    injector = Injector(Schedule(1, "producer", 10.0, faults, brokers=3), history, proxies, None, FakeWorkload())
    await injector.run(history.now())
    await injector.finish()
    assert [p.calls for p in proxies] == [
        [("pause",), ("reset",)], [("drop_requests", 1, 0, False), ("reset",)], [("cut",), ("reset",)]]


class FakeGroup:
    def __init__(self) -> None:
        self.events: list[tuple[str, float]] = []

    def member_kill(self) -> str:
        self.events.append(("kill", 0.0))
        return "member-1"

    def member_pause(self, duration: float) -> str | None:
        self.events.append(("pause", duration))
        return "member-2" if duration > 1 else None   # e.g. nobody left to pause


async def test_member_kill_and_pause_reach_the_workload_with_the_pause_s_length() -> None:
    faults = (Fault(0.0, "member_kill"), Fault(0.0, "member_pause", None, 1, 8.5), Fault(0.0, "member_pause", None, 1, 0.5))
    history, workload = History(), FakeGroup()
    injector = Injector(Schedule(1, "group", 10.0, faults), history, FakeProxy(), None, workload)
    await injector.run(history.now())
    await injector.finish()
    assert workload.events == [("kill", 0.0), ("pause", 8.5), ("pause", 0.5)]
    assert [(e["kind"], e["applied"]) for e in history.of("fault")] == [
        ("member_kill", "member-1"), ("member_pause", "member-2"), ("member_pause", False)]
    assert injector.injected == {"member_kill": 1, "member_pause": 1}


class Info:
    def __init__(self, api_key: int, api_version: int) -> None:
        self.api_key, self.api_version, self.correlation_id = api_key, api_version, 7


def _find_coordinator(version: int) -> bytes:
    body = {"throttle_time_ms": 0, "error_code": 0, "error_message": None, "node_id": 1, "host": "h", "port": 9,
            "coordinators": [{"key": "g", "node_id": 1, "host": "h", "port": 9, "error_code": 0, "error_message": None}]}
    return bytes(encode_response(ApiKey.FIND_COORDINATOR, version, 7, body))[4:]


async def test_a_coordinator_error_refuses_commits_then_hides_the_coordinator_for_a_while() -> None:
    history, proxy = History(), FakeProxy()
    injector = Injector(Schedule(1, "group", 10.0, (Fault(0.0, "coordinator_error", None, 2, 0.2),)), history, proxy,
                        None, FakeWorkload())
    await injector.run(history.now())
    assert proxy.calls == [("rewrite_responses", 2, ApiKey.OFFSET_COMMIT), ("rewrite_responses", None, ApiKey.FIND_COORDINATOR)]
    commits, lookups = proxy.rewriters
    assert commits is not_coordinator and proxy.predicates[0] is None
    info = Info(ApiKey.FIND_COORDINATOR, 4)
    hidden = decode_response(ApiKey.FIND_COORDINATOR, 4, lookups(info, _find_coordinator(4)))
    assert [(c["error_code"], c["node_id"]) for c in hidden["coordinators"]] == [(15, -1)]
    active = proxy.predicates[1]
    assert active(info)
    time.sleep(0.25)
    # past its duration the rule matches no answer: the proxy hands a response to the first rule
    # that matches it, so a rule still matching would hide the next coordinator_error's rule
    assert not active(info)
    await injector.finish()
    assert injector.injected == {"coordinator_error": 1}
    assert "coordinator_error x2 for 0.20s" in history.of("fault")[0]["describe"]


def test_the_rewritten_answers_carry_the_coordinator_errors_in_each_version() -> None:
    old = decode_response(ApiKey.FIND_COORDINATOR, 3, coordinator_not_available(Info(ApiKey.FIND_COORDINATOR, 3),
                                                                                _find_coordinator(3)))
    assert (old["error_code"], old["node_id"]) == (15, -1)
    body = {"throttle_time_ms": 0, "topics": [{"name": "t", "partitions": [
        {"partition_index": 0, "error_code": 0}, {"partition_index": 1, "error_code": 0}]}]}
    info = Info(ApiKey.OFFSET_COMMIT, 8)
    refused = decode_response(ApiKey.OFFSET_COMMIT, 8, not_coordinator(
        info, bytes(encode_response(ApiKey.OFFSET_COMMIT, 8, 7, body))[4:]))
    assert [p["error_code"] for p in refused["topics"][0]["partitions"]] == [16, 16]
