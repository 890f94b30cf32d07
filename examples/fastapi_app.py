"""A FastAPI service with kafkaio: the producer lives in the app's lifespan, a consumer worker runs
beside the HTTP handlers, and shutdown is graceful (the worker commits and leaves its group, the
producer delivers what is buffered).

    pip install fastapi uvicorn
    KAFKAIO_BOOTSTRAP=localhost:9092 python examples/fastapi_app.py      # serves on 127.0.0.1:8000
    curl -X POST localhost:8000/orders -H 'content-type: application/json' -d '{"id": 1}'
    curl localhost:8000/stats

Settings from the environment: ``KAFKAIO_BOOTSTRAP`` (else a local broker is started), ``PORT``,
``ORDERS_TOPIC``.
"""
from __future__ import annotations

import asyncio
import contextlib
import json
import os
from collections.abc import AsyncGenerator
from typing import Any

import uvicorn
from fastapi import FastAPI, HTTPException

import kafkaio
from kafkaio.errors import KafkaError, KafkaTimeoutError, TopicExistsError
from kafkaio.testing.broker import bootstrap_or_local

TOPIC = os.environ.get("ORDERS_TOPIC", "orders")


class OrderWorker:
    """Consumes the orders topic in a task of its own, committing after each batch."""

    def __init__(self, bootstrap: str) -> None:
        self.processed = 0
        self.consumer = kafkaio.Consumer(TOPIC, bootstrap_servers=bootstrap, group_id=f"{TOPIC}-worker",
                                         enable_auto_commit=False, auto_offset_reset="earliest",
                                         value_deserializer=lambda v: None if v is None else json.loads(v))
        self._task: asyncio.Task[None] | None = None
        self._stopping = False

    async def start(self) -> None:
        await self.consumer.start()
        self._task = asyncio.create_task(self._run(), name="order-worker")

    async def _run(self) -> None:
        while not self._stopping:
            batches = await self.consumer.getmany(timeout_ms=1000)  # {} at once when stop() begins
            for records in batches.values():
                self.processed += len(records)  # a real service would handle each order here
            if batches:
                await self.consumer.commit()

    async def stop(self) -> None:
        self._stopping = True
        await self.consumer.stop()  # wakes the waiting getmany, then leaves the group
        if self._task is not None:
            await self._task


async def create_topic(bootstrap: str) -> None:
    async with kafkaio.Admin(bootstrap_servers=bootstrap) as admin:
        try:
            await admin.create_topics([kafkaio.NewTopic(TOPIC, num_partitions=3, replication_factor=1)],
                                      wait_for_leaders=True)
        except TopicExistsError:
            pass  # created by an earlier run: nothing to do


def create_app(bootstrap: str) -> FastAPI:
    state: dict[str, Any] = {}

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncGenerator[None, None]:
        await create_topic(bootstrap)
        # Fail a request in seconds rather than after the Java defaults (60 s for metadata, 120 s
        # for delivery): see docs/logging.md, "Failing fast in a web application".
        producer = kafkaio.Producer(bootstrap_servers=bootstrap, linger_ms=2, max_block_ms=5000,
                                    request_timeout_ms=5000, delivery_timeout_ms=15000,
                                    value_serializer=lambda v: json.dumps(v).encode())
        worker = OrderWorker(bootstrap)
        await producer.start()
        await worker.start()
        state.update(producer=producer, worker=worker)
        try:
            yield
        finally:
            await worker.stop()
            await producer.close()  # delivers or fails what is still buffered
            print(f"stopped: {worker.processed} orders processed, producer closed", flush=True)

    app = FastAPI(lifespan=lifespan)

    @app.post("/orders")
    async def post_order(order: dict[str, Any]) -> dict[str, int]:
        key = str(order.get("id", "")).encode()
        try:
            md = await state["producer"].send_and_wait(TOPIC, order, key=key)
        except KafkaTimeoutError as exc:
            raise HTTPException(503, f"Kafka did not answer in time: {exc}") from exc
        except KafkaError as exc:
            raise HTTPException(502, f"Kafka refused the order: {exc}") from exc
        return {"partition": md.partition, "offset": md.offset}

    @app.get("/stats")
    async def stats() -> dict[str, int]:
        return {"processed": state["worker"].processed}

    @app.get("/healthz")
    async def healthz() -> dict[str, str]:
        """Liveness: 503 when the producer can no longer send or the worker's consumer is stuck,
        fenced or closed (a restart is what helps then)."""
        checks = {"producer": state["producer"].health(), "consumer": state["worker"].consumer.health()}
        failing = {name: h.reason for name, h in checks.items() if not h.healthy}
        if failing:
            raise HTTPException(503, failing)
        return {name: h.state.value for name, h in checks.items()}

    return app


def main() -> None:
    with bootstrap_or_local(auto_create_topics=False) as bootstrap:
        uvicorn.run(create_app(bootstrap), host="127.0.0.1", port=int(os.environ.get("PORT", "8000")),
                    log_level="warning")


if __name__ == "__main__":
    main()
