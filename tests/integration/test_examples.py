"""Every example in examples/ runs against a broker configured as production clusters are
(``auto.create.topics.enable=false``), as a user would run it (a separate process, the broker given
in ``KAFKAIO_BOOTSTRAP``). The web apps are driven over HTTP and stopped with SIGTERM; what they
produced is read back."""
from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import sys
import uuid
from pathlib import Path

import aiohttp
import pytest

import kafkaio
from kafkaio.structs import TopicPartition

pytestmark = [pytest.mark.integration, pytest.mark.proxied_broker(auto_create_topics=False)]

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
RUN_TIMEOUT_S = 180


def _env(bootstrap: str, **extra: str) -> dict[str, str]:
    env = dict(os.environ, KAFKAIO_BOOTSTRAP=bootstrap, PYTHONUNBUFFERED="1")
    env.update(extra)
    return env


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def _run(script: str, bootstrap: str) -> str:
    proc = await asyncio.create_subprocess_exec(
        sys.executable, str(EXAMPLES / script), env=_env(bootstrap),
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT)
    out, _ = await asyncio.wait_for(proc.communicate(), RUN_TIMEOUT_S)
    text = out.decode()
    assert proc.returncode == 0, f"{script} exited {proc.returncode}:\n{text}"
    return text


@pytest.mark.parametrize("script,expect", [
    ("quickstart.py", "OK"),
    ("produce.py", "records delivered to"),
    ("consume.py", ""),
    ("exactly_once.py", "every payment invoiced exactly once: True"),
])
async def test_example_runs(script: str, expect: str, proxied_bootstrap: str) -> None:
    out = await _run(script, proxied_bootstrap)
    assert expect in out, out


async def _status(http: aiohttp.ClientSession, url: str) -> int | None:
    """The HTTP status of ``url``; None while nothing listens there yet."""
    try:
        async with http.get(url) as resp:
            return resp.status
    except aiohttp.ClientConnectorError:
        return None


async def _wait_until_serving(url: str, proc: asyncio.subprocess.Process) -> None:
    async with aiohttp.ClientSession() as http:
        for _ in range(600):
            assert proc.returncode is None, "the app exited before serving"
            if await _status(http, url) == 200:
                return
            await asyncio.sleep(0.1)
    raise AssertionError(f"{url} never answered")


async def _stop(proc: asyncio.subprocess.Process, *, reraises: bool = False) -> str:
    """SIGTERM, and the exit status of a graceful stop: 0, or the signal itself for a server that
    raises it again once it has shut down (uvicorn does, as a process should)."""
    proc.send_signal(signal.SIGTERM)
    out, _ = await asyncio.wait_for(proc.communicate(), 60)
    ok = (0, -signal.SIGTERM) if reraises else (0,)
    assert proc.returncode in ok, f"exited {proc.returncode} on SIGTERM:\n{out.decode()}"
    return out.decode()


async def _read_topic(bootstrap: str, topic: str, want: int) -> list[kafkaio.ConsumerRecord]:
    out: list[kafkaio.ConsumerRecord] = []
    async with kafkaio.Consumer(bootstrap_servers=bootstrap, auto_offset_reset="earliest") as consumer:
        parts = await consumer.partitions_for_topic(topic)
        consumer.assign([TopicPartition(topic, p) for p in parts])
        for _ in range(120):
            for records in (await consumer.getmany(timeout_ms=500)).values():
                out.extend(records)
            if len(out) >= want:
                break
    return out


async def _start_orders_app(script: str, bootstrap: str, topic: str) -> tuple[asyncio.subprocess.Process, str]:
    """An orders web app of examples/ on a free port, with its topic: (process, base URL)."""
    port = _free_port()
    proc = await asyncio.create_subprocess_exec(
        sys.executable, str(EXAMPLES / script), env=_env(bootstrap, PORT=str(port), ORDERS_TOPIC=topic),
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT)
    return proc, f"http://127.0.0.1:{port}"


async def test_fastapi_app_under_1000_requests(proxied_bootstrap: str) -> None:
    topic = f"orders-{uuid.uuid4().hex[:8]}"
    proc, base = await _start_orders_app("fastapi_app.py", proxied_bootstrap, topic)
    try:
        await _wait_until_serving(f"{base}/healthz", proc)
        gate = asyncio.Semaphore(50)

        async def post(http: aiohttp.ClientSession, i: int) -> dict:
            async with gate, http.post(f"{base}/orders", json={"id": i}) as resp:
                assert resp.status == 200, await resp.text()
                return await resp.json()

        async with aiohttp.ClientSession() as http:
            answers = await asyncio.gather(*(post(http, i) for i in range(1000)))
            assert len({(a["partition"], a["offset"]) for a in answers}) == 1000
            for _ in range(600):  # the app's own consumer worker processes every order
                async with http.get(f"{base}/stats") as resp:
                    if (await resp.json())["processed"] >= 1000:
                        break
                await asyncio.sleep(0.1)
            async with http.get(f"{base}/stats") as resp:
                assert (await resp.json())["processed"] == 1000
            async with http.get(f"{base}/healthz") as resp:   # the clients' health() behind it
                assert resp.status == 200, await resp.text()
                assert (await resp.json())["consumer"] == "stable"
    finally:
        out = await _stop(proc, reraises=True) if proc.returncode is None else ""
    assert "stopped: 1000 orders processed, producer closed" in out  # the lifespan's shutdown ran
    got = await _read_topic(proxied_bootstrap, topic, 1000)
    assert sorted(json.loads(r.value)["id"] for r in got) == list(range(1000))


async def test_aiohttp_app(proxied_bootstrap: str) -> None:
    port, topic = _free_port(), f"events-{uuid.uuid4().hex[:8]}"
    proc = await asyncio.create_subprocess_exec(
        sys.executable, str(EXAMPLES / "aiohttp_app.py"),
        env=_env(proxied_bootstrap, PORT=str(port), EVENTS_TOPIC=topic),
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        await _wait_until_serving(f"{base}/healthz", proc)
        async with aiohttp.ClientSession() as http:
            for i in range(100):
                async with http.post(f"{base}/events", data=b"event-%d" % i) as resp:
                    assert resp.status == 200, await resp.text()
    finally:
        if proc.returncode is None:
            await _stop(proc)
    got = await _read_topic(proxied_bootstrap, topic, 100)
    assert sorted(r.value for r in got) == sorted(b"event-%d" % i for i in range(100))


async def test_worker_stops_gracefully_on_sigterm(proxied_bootstrap: str) -> None:
    topic, group = f"work-{uuid.uuid4().hex[:8]}", f"workers-{uuid.uuid4().hex[:8]}"
    async with kafkaio.Admin(bootstrap_servers=proxied_bootstrap) as admin:
        await admin.create_topics([kafkaio.NewTopic(topic, 2, 1)], wait_for_leaders=True)
    async with kafkaio.Producer(bootstrap_servers=proxied_bootstrap) as p:
        await (await p.send_many(topic, [b"job-%d" % i for i in range(300)]))
    proc = await asyncio.create_subprocess_exec(
        sys.executable, str(EXAMPLES / "worker.py"), env=_env(proxied_bootstrap, WORK_TOPIC=topic, WORK_GROUP=group),
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT)
    assert proc.stdout is not None
    processed = 0
    while processed < 300:
        line = (await asyncio.wait_for(proc.stdout.readline(), RUN_TIMEOUT_S)).decode()
        assert line, "the worker exited early"
        if line.startswith("processed "):
            processed = int(line.split()[1])
    out = await _stop(proc)
    assert "stopped after 300 records" in out
    async with kafkaio.Admin(bootstrap_servers=proxied_bootstrap) as admin:
        committed = await admin.list_consumer_group_offsets(group)
    assert sum(o.offset for o in committed.values()) == 300


async def test_prometheus_exporter_serves_the_clients_metrics(proxied_bootstrap: str) -> None:
    port, topic = _free_port(), f"events-{uuid.uuid4().hex[:8]}"
    async with kafkaio.Admin(bootstrap_servers=proxied_bootstrap) as admin:
        await admin.create_topics([kafkaio.NewTopic(topic, 2, 1)], wait_for_leaders=True)
    proc = await asyncio.create_subprocess_exec(
        sys.executable, str(EXAMPLES / "prometheus_exporter.py"),
        env=_env(proxied_bootstrap, PORT=str(port), METRICS_TOPIC=topic, RECORDS="200"),
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}/metrics"
    want = ['kafka_producer_record_send_total{client_id="example-producer"} 200.0',
            'kafka_consumer_records_consumed_total{client_id="example-consumer"} 200.0',
            f'kafka_consumer_records_lag{{client_id="example-consumer",partition="0",topic="{topic}"}} 0.0',
            f'kafka_consumer_records_lag{{client_id="example-consumer",partition="1",topic="{topic}"}} 0.0']
    try:
        await _wait_until_serving(url, proc)
        async with aiohttp.ClientSession() as http:
            for _ in range(600):
                async with http.get(url) as resp:
                    text = await resp.text()
                if all(line in text.splitlines() for line in want):
                    break
                await asyncio.sleep(0.1)
        missing = [line for line in want if line not in text.splitlines()]
        assert not missing, f"{missing} not in:\n{text}"
        assert 'kafka_producer_request_latency_avg{client_id="example-producer"}' in text
    finally:
        out = await _stop(proc) if proc.returncode is None else ""
    assert "exporter stopped" in out


async def test_processing_app_orders_per_customer_and_dead_letters(proxied_bootstrap: str) -> None:
    topic = f"orders-{uuid.uuid4().hex[:8]}"
    proc, base = await _start_orders_app("processing_app.py", proxied_bootstrap, topic)
    customers, per_customer = 20, 15
    declined = {(c, s) for c in range(customers) for s in range(per_customer) if (c + s) % 25 == 0}
    try:
        await _wait_until_serving(f"{base}/healthz", proc)

        async def orders_of(http: aiohttp.ClientSession, c: int) -> None:
            for s in range(per_customer):   # one customer's orders in sequence: their order in the log
                order = {"id": c * 100 + s, "customer": f"c{c}", "seq": s, "decline": (c, s) in declined}
                async with http.post(f"{base}/orders", json=order) as resp:
                    assert resp.status == 200, await resp.text()

        async with aiohttp.ClientSession() as http:
            await asyncio.gather(*(orders_of(http, c) for c in range(customers)))
            for _ in range(600):
                async with http.get(f"{base}/stats") as resp:
                    stats = await resp.json()
                if stats["handled"] + stats["dead_lettered"] >= customers * per_customer:
                    break
                await asyncio.sleep(0.1)
    finally:
        out = await _stop(proc, reraises=True) if proc.returncode is None else ""
    total = customers * per_customer
    assert f"stopped: {total - len(declined)} orders handled, {len(declined)} dead-lettered, 0 out of order" in out, out
    dead = await _read_topic(proxied_bootstrap, f"{topic}-dlt", len(declined))
    assert sorted(json.loads(r.value)["id"] for r in dead) == sorted(c * 100 + s for c, s in declined)
    assert all(dict(r.headers)["kafkaio-original-topic"] == topic.encode() for r in dead)
