"""A FastAPI worker that handles orders concurrently with kafkaio.processing: in order per customer,
up to 100 at once, a failing order retried in place, then through two retry topics, then put in a
dead-letter topic; shutdown is graceful (the running orders finish, the watermarks are committed).

    pip install fastapi uvicorn
    KAFKAIO_BOOTSTRAP=localhost:9092 python examples/processing_app.py     # serves on 127.0.0.1:8000
    curl -X POST localhost:8000/orders -H 'content-type: application/json' -d '{"id": 1, "customer": "c7"}'
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
from kafkaio.errors import KafkaError, TopicExistsError
from kafkaio.processing import Processor, RetryPolicy
from kafkaio.testing.broker import bootstrap_or_local

TOPIC = os.environ.get("ORDERS_TOPIC", "orders")
POLICY = RetryPolicy(attempts=2, retry_backoff_ms=50, retry_topic_delays_ms=(200, 500))


class PaymentDeclined(Exception):
    """What the payment service answers for an order that can never succeed."""


class OrderHandler:
    """The work for one order: a call to another service (here a 10 ms sleep)."""

    def __init__(self) -> None:
        self.handled = 0
        self.last_seq: dict[str, int] = {}
        self.out_of_order = 0

    async def __call__(self, record: kafkaio.ConsumerRecord) -> None:
        order: dict[str, Any] = json.loads(record.value)
        await asyncio.sleep(0.01)
        if order.get("decline"):
            raise PaymentDeclined(f"order {order['id']} declined")
        customer = str(order["customer"])
        if order["seq"] < self.last_seq.get(customer, -1):
            self.out_of_order += 1
        self.last_seq[customer] = order["seq"]
        self.handled += 1


async def create_topics(bootstrap: str) -> None:
    names = [TOPIC, *POLICY.retry_topics(TOPIC), POLICY.dead_letter_topic(TOPIC)]
    async with kafkaio.Admin(bootstrap_servers=bootstrap) as admin:
        for name in names:
            with contextlib.suppress(TopicExistsError):  # created by an earlier run
                await admin.create_topics([kafkaio.NewTopic(name, num_partitions=3, replication_factor=1)],
                                          wait_for_leaders=True)


def create_app(bootstrap: str) -> FastAPI:
    state: dict[str, Any] = {}

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncGenerator[None, None]:
        await create_topics(bootstrap)
        producer = kafkaio.Producer(bootstrap_servers=bootstrap, linger_ms=2, max_block_ms=5000,
                                    request_timeout_ms=5000, delivery_timeout_ms=15000)
        consumer = kafkaio.Consumer(bootstrap_servers=bootstrap, group_id=f"{TOPIC}-processor",
                                    enable_auto_commit=False, auto_offset_reset="earliest")
        handler = OrderHandler()
        await producer.start()
        await consumer.start()
        processor = Processor(consumer, handler, topics=[TOPIC], ordering="key", max_in_flight=100,
                              retry=POLICY, producer=producer)
        task = asyncio.create_task(processor.run(), name="order-processor")
        state.update(producer=producer, consumer=consumer, processor=processor, handler=handler)
        try:
            yield
        finally:
            await processor.stop()     # the running orders finish, the watermarks are committed
            await task
            await consumer.stop()
            await producer.close()
            metrics = processor.metrics()
            print(f"stopped: {handler.handled} orders handled, {metrics.dead_letter_total} dead-lettered, "
                  f"{handler.out_of_order} out of order", flush=True)

    app = FastAPI(lifespan=lifespan)

    @app.post("/orders")
    async def post_order(order: dict[str, Any]) -> dict[str, int]:
        try:
            md = await state["producer"].send_and_wait(TOPIC, json.dumps(order).encode(),
                                                       key=str(order["customer"]).encode())
        except KafkaError as exc:
            raise HTTPException(503, f"Kafka refused the order: {exc}") from exc
        return {"partition": md.partition, "offset": md.offset}

    @app.get("/stats")
    async def stats() -> dict[str, int]:
        m = state["processor"].metrics()
        return {"handled": state["handler"].handled, "dead_lettered": m.dead_letter_total,
                "in_flight": m.in_flight, "out_of_order": state["handler"].out_of_order}

    @app.get("/healthz")
    async def healthz() -> dict[str, str]:
        health = state["consumer"].health()
        if not health.healthy:
            raise HTTPException(503, health.reason)
        return {"consumer": health.state.value, "processor": state["processor"].state.value}

    return app


def main() -> None:
    with bootstrap_or_local(auto_create_topics=False) as bootstrap:
        uvicorn.run(create_app(bootstrap), host="127.0.0.1", port=int(os.environ.get("PORT", "8000")),
                    log_level="warning")


if __name__ == "__main__":
    main()
