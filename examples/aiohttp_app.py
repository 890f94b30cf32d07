"""An aiohttp service with kafkaio: the producer is a cleanup context of the application (started
with it, closed with it), and each request produces one record.

    pip install aiohttp
    KAFKAIO_BOOTSTRAP=localhost:9092 python examples/aiohttp_app.py      # serves on 127.0.0.1:8080
    curl -X POST localhost:8080/events -d 'hello'

Settings from the environment: ``KAFKAIO_BOOTSTRAP`` (else a local broker is started), ``PORT``,
``EVENTS_TOPIC``.
"""
from __future__ import annotations

import os
from collections.abc import AsyncIterator, Callable

from aiohttp import web

import kafkaio
from kafkaio.errors import KafkaError, KafkaTimeoutError, TopicExistsError
from kafkaio.testing.broker import bootstrap_or_local

TOPIC = os.environ.get("EVENTS_TOPIC", "events")
PRODUCER = web.AppKey("producer", kafkaio.Producer)


def kafka_context(bootstrap: str) -> Callable[[web.Application], AsyncIterator[None]]:
    """The application's cleanup context: topic and producer, set up before serving, closed after."""

    async def context(app: web.Application) -> AsyncIterator[None]:
        async with kafkaio.Admin(bootstrap_servers=bootstrap) as admin:
            try:
                await admin.create_topics([kafkaio.NewTopic(TOPIC, num_partitions=3, replication_factor=1)],
                                          wait_for_leaders=True)
            except TopicExistsError:
                pass  # created by an earlier run
        async with kafkaio.Producer(bootstrap_servers=bootstrap, max_block_ms=5000,
                                    request_timeout_ms=5000, delivery_timeout_ms=15000) as producer:
            app[PRODUCER] = producer
            yield  # the application runs; on shutdown the producer delivers what is buffered
    return context


async def post_event(request: web.Request) -> web.Response:
    body = await request.read()
    try:
        md = await request.app[PRODUCER].send_and_wait(TOPIC, body)
    except KafkaTimeoutError as exc:
        raise web.HTTPServiceUnavailable(text=f"Kafka did not answer in time: {exc}") from exc
    except KafkaError as exc:
        raise web.HTTPBadGateway(text=f"Kafka refused the event: {exc}") from exc
    return web.json_response({"partition": md.partition, "offset": md.offset})


async def healthz(request: web.Request) -> web.Response:
    return web.json_response({"status": "ok"})


def create_app(bootstrap: str) -> web.Application:
    app = web.Application()
    app.cleanup_ctx.append(kafka_context(bootstrap))
    app.router.add_post("/events", post_event)
    app.router.add_get("/healthz", healthz)
    return app


def main() -> None:
    with bootstrap_or_local(auto_create_topics=False) as bootstrap:
        web.run_app(create_app(bootstrap), host="127.0.0.1", port=int(os.environ.get("PORT", "8080")),
                    print=None)


if __name__ == "__main__":
    main()
