"""Failures at the level of the public clients, against real brokers: each gets a clear, typed error
quickly, and nothing else is lost.

- unreachable bootstrap (a closed loopback port): NoBrokersAvailableError naming the address;
- wrong SASL password: AuthenticationError at once, the password nowhere in errors, reprs or logs;
- producer: records too large (client limit, broker limit), unknown topic with auto-creation off,
  send after close, close(timeout) while the broker is unreachable;
- consumer: a topic that does not exist, auto_offset_reset="none" without a committed offset or
  after seeking past the end, commits after the member lost its partitions.

Corrupt bytes from the wire are not covered here: FaultProxy can drop, delay, cut and pause traffic
but does not rewrite bytes, and feeding the fetcher a corrupt batch without a broker is not
allowed in integration tests (the records tests cover corrupt batches at the decoder level).

Brokers: the session broker (``bootstrap_servers``) for most tests; ``kafka_secure_cluster`` for
SASL; one broker of this module's own, behind a FaultProxy and with topic auto-creation off.
"""
from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
import subprocess
import sys
import threading
import time
import uuid
from typing import Any, AsyncIterator, Callable

import pytest

from kafkaio.admin import Admin, NewTopic
from kafkaio.consumer.consumer import Consumer
from kafkaio.errors import (
    AuthenticationError,
    CommitFailedError,
    IllegalArgumentError,
    IllegalStateError,
    InvalidReplicationFactorError,
    InvalidTopicError,
    KafkaConnectionError,
    KafkaError,
    KafkaTimeoutError,
    NoBrokersAvailableError,
    NoOffsetForPartitionError,
    OffsetOutOfRangeError,
    ProducerClosedError,
    RecordTooLargeError,
    SerializationError,
    TopicExistsError,
    UnknownTopicOrPartitionError,
)
from kafkaio.producer.producer import Producer
from kafkaio.protocol import ApiKey
from kafkaio.structs import TopicPartition
from kafkaio.testing.proxy import FaultProxy, proxied_cluster
from kafkaio.testing.tasks import client_tasks

pytestmark = [pytest.mark.integration]

NO_HANG_S = 30.0  # generous: only proves that a call returns instead of hanging
WRONG_PASSWORD = "wr0ng-Pa55word-never-logged"


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def closed_port_address() -> str:
    """A loopback port nothing listens on (bound, then released: connecting is refused)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"127.0.0.1:{port}"


async def read_values(bootstrap: str, topic: str, count: int, partition: int = 0) -> list[bytes]:
    """Every value of ``topic``/``partition`` from the start, until ``count`` arrived (bounded)."""
    consumer = Consumer(bootstrap_servers=bootstrap, auto_offset_reset="earliest")
    await consumer.start()
    try:
        consumer.assign([TopicPartition(topic, partition)])
        out: list[bytes] = []
        deadline = time.monotonic() + NO_HANG_S
        while len(out) < count and time.monotonic() < deadline:
            for records in (await consumer.getmany(timeout_ms=500)).values():
                out.extend(r.value for r in records)
        return out
    finally:
        await consumer.stop()


async def timed(coro: Any) -> tuple[Any, float]:
    start = time.monotonic()
    result = await asyncio.wait_for(coro, NO_HANG_S * 2)
    return result, time.monotonic() - start


# ------------------------------------------------------------------------ a broker of our own


@pytest.fixture(scope="module")
async def proxied() -> AsyncIterator[tuple[Any, FaultProxy]]:
    """One broker behind a FaultProxy, with topic auto-creation off (the launcher's default is on)."""
    async with proxied_cluster(1, auto_create_topics=False) as (cluster, proxies):
        yield cluster, proxies[0]


@pytest.fixture
async def proxy(proxied: tuple[Any, FaultProxy]) -> AsyncIterator[FaultProxy]:
    proxied[1].reset()
    yield proxied[1]
    proxied[1].reset()


# ------------------------------------------------------------------------ unreachable brokers


CLIENT_FACTORIES: dict[str, Callable[..., Any]] = {
    # Each with a short bootstrap deadline: Producer uses max_block_ms, the others request_timeout_ms.
    "producer": lambda **kw: Producer(max_block_ms=1500, request_timeout_ms=1500, **kw),
    "consumer": lambda **kw: Consumer(request_timeout_ms=1500, **kw),
    "admin": lambda **kw: Admin(request_timeout_ms=1500, default_api_timeout_ms=1500, **kw),
}


@pytest.mark.parametrize("client", CLIENT_FACTORIES)
async def test_unreachable_bootstrap_names_the_address(client: str, caplog: pytest.LogCaptureFixture) -> None:
    address = closed_port_address()
    c = CLIENT_FACTORIES[client](bootstrap_servers=address, reconnect_backoff_ms=50, reconnect_backoff_max_ms=200)
    started = time.time()
    with caplog.at_level(logging.WARNING, logger="kafkaio"):
        with pytest.raises((NoBrokersAvailableError, KafkaConnectionError)) as info:
            await asyncio.wait_for(c.start(), NO_HANG_S)
    assert address in str(info.value)
    assert info.value.retriable
    # one warning, at the first failed attempt, naming the address (not silence for the whole wait)
    warnings = [r for r in caplog.records if "no bootstrap server answered yet" in r.getMessage()]
    assert len(warnings) == 1 and address in warnings[0].getMessage()
    assert warnings[0].created - started < 1.0, "the warning came only at the end of the wait"
    await asyncio.wait_for(c.close(), NO_HANG_S)  # closing a client that never started is clean
    await asyncio.wait_for(c.close(), NO_HANG_S)  # and idempotent


@pytest.mark.parametrize("client", CLIENT_FACTORIES)
async def test_a_start_that_fails_leaves_no_connection_or_task(client: str, proxy: FaultProxy) -> None:
    """A broker that accepts the connection but never answers Metadata: start() fails at its
    deadline and closes what it opened, so the application's close() has nothing to find."""
    before = set(client_tasks())
    proxy.drop_responses(None, api_key=ApiKey.METADATA)
    c = CLIENT_FACTORIES[client](bootstrap_servers=proxy.bootstrap_servers, reconnect_backoff_ms=50,
                                 reconnect_backoff_max_ms=200)
    with pytest.raises((NoBrokersAvailableError, KafkaConnectionError, KafkaTimeoutError)):
        await asyncio.wait_for(c.start(), NO_HANG_S)
    assert proxy.connections_accepted > 0  # it did connect: there was something to close
    assert set(client_tasks()) - before == set()
    # the proxy sees the client's side of each link close (EOF) one loop pass or a few later
    deadline = time.monotonic() + NO_HANG_S
    while proxy.open_connections and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
    assert proxy.open_connections == 0, f"{proxy.open_connections} connection(s) left open by a failed start()"
    await c.close()


async def test_an_outage_is_one_warning_and_its_end_is_logged(proxy: FaultProxy,
                                                               caplog: pytest.LogCaptureFixture) -> None:
    """The metadata refresh retries every backoff while the cluster is unreachable; an operator
    reading WARNINGs sees the outage once, and its end, not a line per attempt."""
    caplog.set_level(logging.DEBUG, logger="kafkaio")
    async with Admin(bootstrap_servers=proxy.bootstrap_servers, request_timeout_ms=1000, retry_backoff_ms=50,
                     retry_backoff_max_ms=200, metadata_max_age_ms=100, reconnect_backoff_ms=50,
                     reconnect_backoff_max_ms=200) as admin:
        await admin.list_topics()
        proxy.refuse_connections()
        proxy.cut()
        deadline = time.monotonic() + NO_HANG_S
        failed = lambda: [r for r in caplog.records if "metadata refresh failed" in r.getMessage()]  # noqa: E731
        while len(failed()) < 5:   # several attempts failed
            assert time.monotonic() < deadline, f"{len(failed())} failed refreshes logged"
            await asyncio.sleep(0.1)
        proxy.refuse_connections(False)
        while not any("metadata refresh works again" in r.getMessage() for r in caplog.records):
            assert time.monotonic() < deadline, "the end of the outage was not logged"
            await asyncio.sleep(0.1)
    assert [r.levelno for r in failed()].count(logging.WARNING) == 1, [r.getMessage() for r in failed()]


# ------------------------------------------------------------------------ wrong credentials


@pytest.mark.slow
@pytest.mark.parametrize("mechanism", ["PLAIN", "SCRAM-SHA-256"])
@pytest.mark.parametrize("client", CLIENT_FACTORIES)
async def test_wrong_sasl_password_fails_fast_and_never_shows_it(
        kafka_secure_cluster: Any, client: str, mechanism: str, caplog: pytest.LogCaptureFixture) -> None:
    user = next(iter(kafka_secure_cluster.users))
    caplog.set_level(logging.DEBUG, logger="kafkaio")
    # A long deadline: the failure must come from the broker's answer, not from waiting it out.
    make = {
        "producer": lambda **kw: Producer(max_block_ms=120_000, **kw),
        "consumer": lambda **kw: Consumer(request_timeout_ms=120_000, **kw),
        "admin": lambda **kw: Admin(request_timeout_ms=120_000, **kw),
    }[client]
    c = make(bootstrap_servers=kafka_secure_cluster.bootstrap_for("SASL_PLAINTEXT"),
             security_protocol="SASL_PLAINTEXT", sasl_mechanism=mechanism,
             sasl_plain_username=user, sasl_plain_password=WRONG_PASSWORD)
    started = time.monotonic()
    with pytest.raises(AuthenticationError) as info:
        await asyncio.wait_for(c.start(), 150)
    assert time.monotonic() - started < 60  # the broker's refusal is final: no retrying until the deadline
    await c.close()
    err: BaseException | None = info.value
    texts = [repr(c), str(c), repr(c.config), str(c.config), caplog.text]
    while err is not None:  # the whole chain of causes
        texts += [str(err), repr(err)]
        err = err.__cause__ or err.__context__
    for text in texts:
        assert WRONG_PASSWORD not in text
    assert any(r.name.startswith("kafkaio") for r in caplog.records)  # the logger did log something


# ------------------------------------------------------------------------ producer


async def test_record_over_max_request_size_fails_at_send_and_others_are_delivered(
        bootstrap_servers: str, topic: str) -> None:
    async with Producer(bootstrap_servers=bootstrap_servers, max_request_size=10_000, linger_ms=20) as p:
        before = [await p.send(topic, b"before-%d" % i) for i in range(5)]
        with pytest.raises(RecordTooLargeError, match="max_request_size"):
            await p.send(topic, b"x" * 20_000)
        after = [await p.send(topic, b"after-%d" % i) for i in range(5)]
        await asyncio.wait_for(p.flush(), NO_HANG_S)
        offsets = [f.result().offset for f in before + after]
    assert offsets == sorted(offsets) and len(set(offsets)) == 10
    got = await read_values(bootstrap_servers, topic, 10)
    assert got == [b"before-%d" % i for i in range(5)] + [b"after-%d" % i for i in range(5)]


async def test_record_over_topic_max_message_bytes_fails_its_future_and_later_records_succeed(
        bootstrap_servers: str, topic_factory: Any) -> None:
    topic = await topic_factory(configs={"max.message.bytes": "2000"})
    async with Producer(bootstrap_servers=bootstrap_servers, linger_ms=0, request_timeout_ms=10_000,
                        delivery_timeout_ms=30_000) as p:
        await p.send_and_wait(topic, b"first")
        big = await p.send(topic, b"B" * 5000)
        with pytest.raises(RecordTooLargeError):
            await asyncio.wait_for(big, NO_HANG_S)
        # The idempotent producer's sequence numbers must not be left with a gap by the failed batch.
        later = [await p.send_and_wait(topic, b"later-%d" % i) for i in range(3)]
    assert [md.offset for md in later] == [1, 2, 3]
    assert await read_values(bootstrap_servers, topic, 4) == [b"first", b"later-0", b"later-1", b"later-2"]


async def test_record_over_topic_limit_does_not_take_its_batch_mates_down(
        bootstrap_servers: str, topic_factory: Any) -> None:
    """The Java producer splits a batch the broker refused with MESSAGE_TOO_LARGE and resends the
    parts, so only the oversized record fails; records that happened to share its batch succeed."""
    topic = await topic_factory(configs={"max.message.bytes": "2000"})
    async with Producer(bootstrap_servers=bootstrap_servers, linger_ms=200, request_timeout_ms=10_000,
                        delivery_timeout_ms=30_000) as p:
        await p.send_and_wait(topic, b"warm-up")
        small1 = await p.send(topic, b"small-1")
        big = await p.send(topic, b"B" * 5000)   # the same batch as small-1 and small-2 (linger 200 ms)
        small2 = await p.send(topic, b"small-2")
        await asyncio.wait_for(p.flush(), NO_HANG_S)
        assert isinstance(big.exception(), RecordTooLargeError)
        assert small1.exception() is None and small2.exception() is None
    assert await read_values(bootstrap_servers, topic, 3) == [b"warm-up", b"small-1", b"small-2"]


@pytest.mark.slow  # starts a broker of its own (once per module)
async def test_unknown_topic_without_auto_creation_fails_after_max_block_ms(
        proxied: tuple[Any, FaultProxy], proxy: FaultProxy, caplog: pytest.LogCaptureFixture) -> None:
    bootstrap = proxied[0].bootstrap_servers
    missing = unique("no-such-topic")
    async with Producer(bootstrap_servers=bootstrap, max_block_ms=2000) as p:
        started = time.time()
        with caplog.at_level(logging.WARNING, logger="kafkaio"):
            with pytest.raises((KafkaTimeoutError, UnknownTopicOrPartitionError)) as info:
                await asyncio.wait_for(p.send(missing, b"v"), NO_HANG_S)
        assert missing in str(info.value)
        warnings = [r for r in caplog.records if "is not available" in r.getMessage()]
        assert len(warnings) == 1 and missing in warnings[0].getMessage()
        assert warnings[0].created - started < 1.0, "the warning came only at the end of the wait"
        with pytest.raises((KafkaTimeoutError, UnknownTopicOrPartitionError)):
            await asyncio.wait_for(p.partitions_for(missing), NO_HANG_S)
    async with Admin(bootstrap_servers=bootstrap) as admin:
        assert missing not in await admin.list_topics()


async def test_send_before_start_and_after_close_raise_typed_errors(bootstrap_servers: str, topic: str) -> None:
    p = Producer(bootstrap_servers=bootstrap_servers)
    with pytest.raises(IllegalStateError):
        await p.send(topic, b"too early")
    await p.start()
    md = await p.send_and_wait(topic, b"ok")
    await p.close()
    with pytest.raises(ProducerClosedError):
        await p.send(topic, b"too late")
    with pytest.raises(ProducerClosedError):
        await p.send_many(topic, [b"too", b"late"])
    with pytest.raises(ProducerClosedError):
        await p.start()
    await p.close()  # idempotent
    assert md.offset == 0


@pytest.mark.slow  # starts a broker of its own (once per module)
async def test_close_with_timeout_while_broker_unreachable_fails_every_pending_record(
        proxied: tuple[Any, FaultProxy], proxy: FaultProxy) -> None:
    cluster = proxied[0]
    bootstrap = cluster.bootstrap_servers
    topic = unique("close-unreachable")
    async with Admin(bootstrap_servers=bootstrap) as admin:
        await admin.create_topics([NewTopic(topic, 2, 1)], wait_for_leaders=True)
    p = Producer(bootstrap_servers=bootstrap, linger_ms=0, request_timeout_ms=60_000, delivery_timeout_ms=120_000)
    await p.start()
    await p.send_and_wait(topic, b"warm-up", partition=0)
    await p.send_and_wait(topic, b"warm-up", partition=1)
    proxy.pause()  # the broker stops answering (connections stay open, nothing flows)
    try:
        futures = [await p.send(topic, b"pending-%d" % i, partition=i % 2) for i in range(50)]
        many = await p.send_many(topic, [b"m-%d" % i for i in range(20)], partition=0)
        await asyncio.sleep(0.3)  # let the sender put some of them in flight
        _, elapsed = await timed(p.close(1.0))
    finally:
        proxy.resume()
    assert all(f.done() for f in futures)
    errors = [f.exception() for f in futures]
    assert all(isinstance(e, KafkaError) for e in errors), {type(e).__name__ for e in errors}
    with pytest.raises(KafkaError):
        await asyncio.wait_for(many, NO_HANG_S)
    assert elapsed < NO_HANG_S


async def test_bad_record_arguments_raise_and_lose_nothing_else(bootstrap_servers: str, topic: str) -> None:
    async with Producer(bootstrap_servers=bootstrap_servers, max_block_ms=1500, linger_ms=5) as p:
        first = await p.send(topic, b"first")
        with pytest.raises(SerializationError, match="value"):
            await p.send(topic, {"not": "bytes"})
        with pytest.raises(SerializationError, match="key"):
            await p.send(topic, b"v", key=12)
        with pytest.raises(IllegalArgumentError):
            await p.send(topic, b"v", partition=-1)
        with pytest.raises(IllegalArgumentError):
            await p.send(topic, b"v", partition="0")
        with pytest.raises(KafkaTimeoutError, match="partition 7"):  # the topic has one partition
            await asyncio.wait_for(p.send(topic, b"v", partition=7), NO_HANG_S)
        last = await p.send(topic, b"last")
        await asyncio.wait_for(p.flush(), NO_HANG_S)
        assert first.exception() is None and last.exception() is None
    assert await read_values(bootstrap_servers, topic, 2) == [b"first", b"last"]


# ------------------------------------------------------------------------ admin


async def test_admin_per_item_errors_are_typed(bootstrap_servers: str, topic: str) -> None:
    missing = unique("missing")
    async with Admin(bootstrap_servers=bootstrap_servers, request_timeout_ms=10_000, default_api_timeout_ms=15_000) as admin:
        with pytest.raises(TopicExistsError) as info:
            await admin.create_topics([NewTopic(topic, 1, 1), NewTopic(missing + ".bad/name", 1, 1)])
        results = info.value.results  # type: ignore[attr-defined]
        assert isinstance(results[topic], TopicExistsError)
        assert isinstance(results[missing + ".bad/name"], InvalidTopicError)
        with pytest.raises(InvalidReplicationFactorError):
            await admin.create_topics([NewTopic(missing, 1, 99)])
        with pytest.raises(UnknownTopicOrPartitionError):
            await admin.delete_topics([missing], timeout_ms=5000)
        assert missing not in await admin.list_topics()
        assert topic in await admin.list_topics()  # the failed calls touched nothing else


# ------------------------------------------------------------------------ consumer


async def test_subscribe_to_a_missing_topic_consumes_nothing_and_closes_cleanly(bootstrap_servers: str) -> None:
    missing = unique("missing-topic")
    consumer = Consumer(bootstrap_servers=bootstrap_servers, group_id=unique("g"), allow_auto_create_topics=False,
                        request_timeout_ms=5000)
    await consumer.start()
    try:
        consumer.subscribe([missing])
        got = await asyncio.wait_for(consumer.getmany(timeout_ms=2500), NO_HANG_S)
        assert got == {}
        assert consumer.assignment() == set()
    finally:
        await asyncio.wait_for(consumer.stop(), NO_HANG_S)
    async with Admin(bootstrap_servers=bootstrap_servers) as admin:
        assert missing not in await admin.list_topics()  # allow_auto_create_topics=False was honoured


async def _produce(bootstrap: str, topic: str, n: int) -> None:
    async with Producer(bootstrap_servers=bootstrap, linger_ms=0) as p:
        for i in range(n):
            await p.send_and_wait(topic, b"v%d" % i)


async def _poll_until_error(consumer: Any, seconds: float = NO_HANG_S) -> BaseException:
    """getmany() until it raises; fail (instead of hanging) when it does not within ``seconds``."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            got = await consumer.getmany(timeout_ms=300)
        except KafkaError as exc:
            return exc
        assert not got, f"records were handed out: {got}"
    pytest.fail("no error surfaced to the application")


async def test_offset_reset_none_without_committed_offset_raises(bootstrap_servers: str, topic: str) -> None:
    await _produce(bootstrap_servers, topic, 3)
    tp = TopicPartition(topic, 0)
    consumer = Consumer(bootstrap_servers=bootstrap_servers, group_id=unique("g"), auto_offset_reset="none",
                        enable_auto_commit=False)
    await consumer.start()
    try:
        consumer.assign([tp])
        err = await _poll_until_error(consumer)
        assert isinstance(err, NoOffsetForPartitionError) and topic in str(err)
        with pytest.raises(NoOffsetForPartitionError):
            await asyncio.wait_for(consumer.position(tp), NO_HANG_S)
        # The application can recover by choosing a position: consuming then works.
        await consumer.seek_to_beginning(tp)
        got = await consumer.getmany(timeout_ms=5000)
        assert [r.value for r in got.get(tp, [])][:1] == [b"v0"]
    finally:
        await asyncio.wait_for(consumer.stop(), NO_HANG_S)


async def test_seek_past_the_end_with_reset_none_raises_offset_out_of_range(bootstrap_servers: str, topic: str) -> None:
    await _produce(bootstrap_servers, topic, 3)
    tp = TopicPartition(topic, 0)
    consumer = Consumer(bootstrap_servers=bootstrap_servers, auto_offset_reset="none")
    await consumer.start()
    try:
        consumer.assign([tp])
        consumer.seek(tp, 1000)
        err = await _poll_until_error(consumer)
        assert isinstance(err, OffsetOutOfRangeError) and "1000" in str(err)
        with pytest.raises(IllegalStateError, match="not assigned"):
            consumer.seek(TopicPartition(topic, 5), 0)
        consumer.seek(tp, 1)  # a valid position afterwards works
        got = await consumer.getmany(timeout_ms=5000)
        assert [r.value for r in got.get(tp, [])] == [b"v1", b"v2"]
    finally:
        await asyncio.wait_for(consumer.stop(), NO_HANG_S)


async def test_failing_deserializer_raises_typed_error_and_loses_no_record(bootstrap_servers: str, topic: str) -> None:
    """As the Java consumer: a record that cannot be deserialized raises a typed error naming its
    partition and offset, the records before it are handed out, and the position stays on it, so
    the application can seek past it without losing anything else."""
    async with Producer(bootstrap_servers=bootstrap_servers, linger_ms=50) as p:
        futs = [await p.send(topic, v) for v in (b"v0", b"v1", b"BAD", b"v3")]
        await p.flush()
        assert all(f.exception() is None for f in futs)

    def value(b: bytes) -> str:
        if b == b"BAD":
            raise ValueError("cannot decode")
        return b.decode()

    tp = TopicPartition(topic, 0)
    consumer = Consumer(bootstrap_servers=bootstrap_servers, auto_offset_reset="earliest", value_deserializer=value)
    await consumer.start()
    try:
        consumer.assign([tp])
        seen: list[str] = []
        error: BaseException | None = None
        deadline = time.monotonic() + NO_HANG_S
        while error is None and time.monotonic() < deadline:
            try:
                seen += [r.value for r in (await consumer.getmany(timeout_ms=300)).get(tp, [])]
            except Exception as exc:  # noqa: BLE001 - the type is asserted below
                error = exc
        assert isinstance(error, SerializationError), repr(error)
        assert seen == ["v0", "v1"]
        assert await consumer.position(tp) == 2
        consumer.seek(tp, 3)
        got = await consumer.getmany(timeout_ms=5000)
        assert [r.value for r in got.get(tp, [])] == ["v3"]
    finally:
        await asyncio.wait_for(consumer.stop(), NO_HANG_S)


async def test_commit_after_losing_the_partitions_raises_commit_failed(bootstrap_servers: str, topic: str) -> None:
    """A member that does not poll within max_poll_interval_ms leaves the group; its partitions go to
    another member, and its commit then fails with CommitFailedError instead of overwriting."""
    await _produce(bootstrap_servers, topic, 3)
    tp = TopicPartition(topic, 0)
    group = unique("g")
    settings = dict(bootstrap_servers=bootstrap_servers, group_id=group, auto_offset_reset="earliest",
                    enable_auto_commit=False, session_timeout_ms=10_000, heartbeat_interval_ms=300)
    slow = Consumer(topic, max_poll_interval_ms=2000, **settings)
    other = Consumer(topic, **settings)
    await slow.start()
    try:
        deadline = time.monotonic() + NO_HANG_S
        got: list[Any] = []
        while not got and time.monotonic() < deadline:
            got = (await slow.getmany(timeout_ms=500)).get(tp, [])
        assert got, "the first member never received records"
        await other.start()
        await asyncio.sleep(3.5)  # slow does not poll: it leaves after max_poll_interval_ms
        deadline = time.monotonic() + NO_HANG_S
        while tp not in other.assignment() and time.monotonic() < deadline:
            await other.getmany(timeout_ms=300)
        assert tp in other.assignment()
        with pytest.raises(CommitFailedError):
            await asyncio.wait_for(slow.commit({tp: got[-1].offset + 1}), NO_HANG_S)
        async with Admin(bootstrap_servers=bootstrap_servers) as admin:
            committed = await admin.list_consumer_group_offsets(group)
        assert committed.get(tp) is None  # nothing was written by the expelled member
    finally:
        await asyncio.wait_for(other.stop(), NO_HANG_S)
        await asyncio.wait_for(slow.stop(), NO_HANG_S)


async def test_commit_without_a_group_and_before_start_raise_illegal_state(bootstrap_servers: str, topic: str) -> None:
    tp = TopicPartition(topic, 0)
    no_group = Consumer(bootstrap_servers=bootstrap_servers)
    with pytest.raises(IllegalStateError):
        await no_group.commit({tp: 1})  # not started
    await no_group.start()
    try:
        no_group.assign([tp])
        with pytest.raises(IllegalStateError, match="group_id"):
            await no_group.commit({tp: 1})
    finally:
        await no_group.stop()
    with pytest.raises(IllegalStateError):
        await no_group.getmany()  # stopped


# ------------------------------------------------------------------------ loops and leaks


async def test_a_producer_used_from_another_loop_raises_at_once(bootstrap_servers: str, topic: str) -> None:
    p = Producer(bootstrap_servers=bootstrap_servers)
    other = asyncio.new_event_loop()
    thread = threading.Thread(target=other.run_forever, daemon=True)
    thread.start()
    try:
        await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(p.start(), other))
        started = time.monotonic()
        with pytest.raises(IllegalStateError, match="another event loop"):
            await p.send_and_wait(topic, b"v")
        with pytest.raises(IllegalStateError, match="another event loop"):
            await p.send(topic, b"v", headers=[("h", b"1")])
        with pytest.raises(IllegalStateError, match="another event loop"):
            await p.send_many(topic, [b"a", b"b"])
        with pytest.raises(IllegalStateError, match="another event loop"):
            await p.flush()
        assert time.monotonic() - started < NO_HANG_S
    finally:
        await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(p.close(), other))
        other.call_soon_threadsafe(other.stop)
        thread.join(10)
        other.close()


async def test_a_consumer_used_from_another_loop_raises_at_once(bootstrap_servers: str, topic: str) -> None:
    c = Consumer(bootstrap_servers=bootstrap_servers, group_id=f"g-{uuid.uuid4().hex[:8]}")
    tp = TopicPartition(topic, 0)

    async def start() -> None:
        await c.start()
        c.assign([tp])

    async with _other_loop() as run_there:
        await run_there(start())
        try:
            started = time.monotonic()
            with pytest.raises(IllegalStateError, match="this consumer was started on another event loop"):
                await c.getmany(timeout_ms=60_000)
            with pytest.raises(IllegalStateError, match="another event loop"):
                await c.getone()
            with pytest.raises(IllegalStateError, match="another event loop"):
                await c.commit({tp: 0})
            with pytest.raises(IllegalStateError, match="another event loop"):
                await c.position(tp)
            with pytest.raises(IllegalStateError, match="another event loop"):
                await c.stop()
            assert time.monotonic() - started < NO_HANG_S
        finally:
            await run_there(c.stop())


async def test_an_admin_used_from_another_loop_raises_at_once(bootstrap_servers: str) -> None:
    admin = Admin(bootstrap_servers=bootstrap_servers)
    async with _other_loop() as run_there:
        await run_there(admin.start())
        try:
            started = time.monotonic()
            with pytest.raises(IllegalStateError, match="this admin client was started on another event loop"):
                await admin.list_topics()
            with pytest.raises(IllegalStateError, match="another event loop"):
                await admin.close()
            assert time.monotonic() - started < NO_HANG_S
        finally:
            await run_there(admin.close())


@contextlib.asynccontextmanager
async def _other_loop() -> AsyncIterator[Callable[[Any], Any]]:
    """A second event loop in a thread; yields ``run_there(coro)``, awaiting ``coro`` run on it."""
    other = asyncio.new_event_loop()
    thread = threading.Thread(target=other.run_forever, daemon=True)
    thread.start()

    async def run_there(coro: Any) -> Any:
        return await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(coro, other))

    try:
        yield run_there
    finally:
        other.call_soon_threadsafe(other.stop)
        thread.join(10)
        other.close()


@pytest.mark.parametrize("client,shown", [("Producer", "<kafkaio.Producer state=started"),
                                          ("Consumer", "<kafkaio.Consumer group_id=None state=started"),
                                          ("Admin", "<kafkaio.Admin started>")])
def test_a_client_never_closed_is_reported(client: str, shown: str, bootstrap_servers: str) -> None:
    code = (
        "import asyncio, gc, kafkaio\n"
        "async def main():\n"
        f"    c = kafkaio.{client}(bootstrap_servers={bootstrap_servers!r})\n"
        "    await c.start()\n"
        "asyncio.run(main())\n"
        "gc.collect()\n"
    )
    done = subprocess.run([sys.executable, "-W", "always::ResourceWarning", "-c", code],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert f"ResourceWarning: unclosed {shown}" in done.stderr
