"""The telemetry task against a scripted broker connection: the requests it sends, the terminating
push on close, errors kept from the application and logged once, no task left after close()."""
from __future__ import annotations

import asyncio
import logging
import random
import uuid
from typing import Any

import pytest

from kafkaio.errors import ErrorCode, KafkaConnectionError
from kafkaio.protocol import ApiKey
from kafkaio.testing.tasks import client_tasks
from kafkaio.telemetry.reporter import TelemetryReporter

metrics_pb2 = pytest.importorskip("opentelemetry.proto.metrics.v1.metrics_pb2")

ID = uuid.uuid4()


class Conn:
    """Answers GetTelemetrySubscriptions with ``subscription`` and every push with ``push_error``."""

    def __init__(self, subscription: dict[str, Any], offered: bool = True) -> None:
        self.subscription = subscription
        self.offered = offered
        self.push_error = 0
        self.requests: list[tuple[int, dict[str, Any]]] = []
        self.fail_with: Exception | None = None

    def supports(self, api_key: int) -> bool:
        return self.offered

    async def request(self, api_key: int, body: dict[str, Any], timeout_ms: float | None = None) -> dict[str, Any]:
        self.requests.append((api_key, body))
        if self.fail_with is not None:
            raise self.fail_with
        if api_key == ApiKey.GET_TELEMETRY_SUBSCRIPTIONS:
            return {"error_code": 0, **self.subscription}
        return {"error_code": self.push_error, "throttle_time_ms": 0}

    def pushes(self) -> list[dict[str, Any]]:
        return [body for key, body in self.requests if key == ApiKey.PUSH_TELEMETRY]


class Cluster:
    def __init__(self, conn: Conn) -> None:
        self.conn = conn

    def least_loaded_node(self) -> int:
        return 1

    async def connection(self, node_id: int) -> Conn:
        return self.conn


def subscription(metrics: list[str], interval_ms: int = 20, codecs: list[int] | None = None) -> dict[str, Any]:
    return {"client_instance_id": ID, "subscription_id": 5, "push_interval_ms": interval_ms,
            "accepted_compression_types": [] if codecs is None else codecs, "telemetry_max_bytes": 1 << 20,
            "delta_temporality": True, "requested_metrics": metrics}


@pytest.fixture
def reporter(producer_snapshot: Any) -> Any:
    def make(conn: Conn, snapshot: Any = None) -> TelemetryReporter:
        return TelemetryReporter(Cluster(conn), "producer", snapshot or (lambda: producer_snapshot(3)), {}, 1000,
                                 rng=random.Random(0))
    return make


def telemetry_tasks() -> list[asyncio.Task[Any]]:
    """The reporter's tasks still running; other clients' tasks on the session's loop (a session
    fixture's admin, when integration tests ran first in the same session) are not the reporter's."""
    return [t for t in client_tasks() if t.get_name().startswith("kafkaio-telemetry")]


async def until(predicate: Any) -> None:
    for _ in range(500):
        if predicate():
            return
        await asyncio.sleep(0.01)
    raise AssertionError("condition not reached")


async def test_subscribes_pushes_and_ends_with_a_terminating_push(reporter: Any) -> None:
    conn = Conn(subscription(["org.apache.kafka.producer.record.send"]))
    r = reporter(conn)
    r.start()
    await until(lambda: len(conn.pushes()) >= 2)
    await r.close()
    assert conn.requests[0] == (ApiKey.GET_TELEMETRY_SUBSCRIPTIONS, {"client_instance_id": uuid.UUID(int=0)})
    pushes = conn.pushes()
    assert [p["terminating"] for p in pushes] == [False] * (len(pushes) - 1) + [True]
    assert all(p["client_instance_id"] == ID and p["subscription_id"] == 5 and p["compression_type"] == 0
               for p in pushes)
    names = {m.name for p in pushes for m in metrics_pb2.MetricsData.FromString(p["metrics"])
             .resource_metrics[0].scope_metrics[0].metrics}
    assert names == {"org.apache.kafka.producer.record.send.total", "org.apache.kafka.producer.record.send.rate"}
    assert telemetry_tasks() == []


async def test_no_requested_metrics_no_push_and_no_terminating_push(reporter: Any) -> None:
    conn = Conn(subscription([]))
    r = reporter(conn)
    r.start()
    await until(lambda: r.core.subscription is not None)
    await r.close()
    assert conn.pushes() == [] and telemetry_tasks() == []


async def test_a_broker_without_telemetry_gets_no_request(reporter: Any) -> None:
    conn = Conn(subscription(["*"]), offered=False)
    r = reporter(conn)
    r.start()
    await until(lambda: r.core.state.name == "SUBSCRIPTION_NEEDED" and r.core.wait_ms(0) != 0)
    await r.close()
    assert conn.requests == []


async def test_the_accepted_codec_compresses_the_payload(reporter: Any) -> None:
    from kafkaio.records.codecs import decompress

    conn = Conn(subscription(["*"], codecs=[4, 1]))
    r = reporter(conn)
    r.start()
    await until(lambda: len(conn.pushes()) >= 1)
    await r.close()
    push = conn.pushes()[0]
    assert push["compression_type"] == 4
    assert metrics_pb2.MetricsData.FromString(decompress(4, push["metrics"])).resource_metrics


async def test_failures_never_reach_the_client_and_warn_once(reporter: Any, caplog: pytest.LogCaptureFixture) -> None:
    calls = 0

    def broken() -> Any:
        nonlocal calls
        calls += 1
        raise RuntimeError("snapshot failed")

    conn = Conn(subscription(["*"], interval_ms=10))
    r = reporter(conn, broken)
    with caplog.at_level(logging.DEBUG, logger="kafkaio.telemetry"):
        r.start()
        await until(lambda: calls >= 3)
        await r.close()
    warnings = [rec for rec in caplog.records if rec.name == "kafkaio.telemetry" and rec.levelno >= logging.WARNING]
    assert len(warnings) == 1 and "snapshot failed" in warnings[0].getMessage()
    assert conn.pushes() == [] and telemetry_tasks() == []


async def test_unknown_subscription_id_fetches_the_subscription_again(reporter: Any) -> None:
    conn = Conn(subscription(["*"]))
    conn.push_error = ErrorCode.UNKNOWN_SUBSCRIPTION_ID
    r = reporter(conn)
    r.start()
    await until(lambda: sum(k == ApiKey.GET_TELEMETRY_SUBSCRIPTIONS for k, _ in conn.requests) >= 2)
    await r.close()
    second = [b for k, b in conn.requests if k == ApiKey.GET_TELEMETRY_SUBSCRIPTIONS][1]
    assert second == {"client_instance_id": ID}


async def test_a_lost_connection_is_logged_once_and_retried_later(reporter: Any,
                                                                  caplog: pytest.LogCaptureFixture) -> None:
    conn = Conn(subscription(["*"]))
    conn.fail_with = KafkaConnectionError("broker gone")
    r = reporter(conn)
    with caplog.at_level(logging.WARNING, logger="kafkaio.telemetry"):
        r.start()
        await until(lambda: len(conn.requests) == 1 and r.core.state.name == "SUBSCRIPTION_NEEDED")
        assert r.core.wait_ms(0) is not None and r.core.wait_ms(0) > 60_000   # Java's 5 minutes
        await r.close()
    assert [rec.getMessage() for rec in caplog.records] == [
        "telemetry request to broker 1 failed: KafkaConnectionError('broker gone')"]
    assert telemetry_tasks() == []


async def test_the_instance_id_is_awaited_until_the_first_subscription(reporter: Any) -> None:
    conn = Conn(subscription([]))
    r = reporter(conn)
    assert await r.wait_for_instance_id(0) is None   # not asked yet
    r.start()
    assert await r.wait_for_instance_id(30) == ID
    await r.close()


class GatedConn(Conn):
    """Holds the answer to the first push until ``release`` is set (the broker has the push)."""

    def __init__(self, subscription: dict[str, Any]) -> None:
        super().__init__(subscription)
        self.release = asyncio.Event()

    async def request(self, api_key: int, body: dict[str, Any], timeout_ms: float | None = None) -> dict[str, Any]:
        resp = await super().request(api_key, body, timeout_ms)
        if api_key == ApiKey.PUSH_TELEMETRY and len(self.pushes()) == 1:
            await self.release.wait()
        return resp


def _delta_total(push: dict[str, Any], name: str) -> float:
    metrics = metrics_pb2.MetricsData.FromString(push["metrics"]).resource_metrics[0].scope_metrics[0].metrics
    return sum(p.as_double for m in metrics if m.name == name for p in m.sum.data_points)


async def test_close_during_a_push_waits_for_its_answer_and_never_sends_a_delta_twice(reporter: Any) -> None:
    conn = GatedConn(subscription(["org.apache.kafka.producer.record.send"]))
    r = reporter(conn)   # the snapshot always says 3 records sent
    r.start()
    await until(lambda: len(conn.pushes()) == 1)   # the first push is with the broker, unanswered
    closing = asyncio.ensure_future(r.close())
    await asyncio.sleep(0.05)
    conn.release.set()   # the broker accepts it: those 3 are counted there
    await closing
    pushes = conn.pushes()
    assert [p["terminating"] for p in pushes] == [False, True]
    total = "org.apache.kafka.producer.record.send.total"
    assert [_delta_total(p, total) for p in pushes] == [3.0, 0.0]
    assert telemetry_tasks() == []
