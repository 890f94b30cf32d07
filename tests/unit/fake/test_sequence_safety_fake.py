"""Fake-broker twins of tests/integration/producer/test_sequence_safety.py: the idempotent
producer's promise -- a record reported delivered is in the log exactly once, in order; a record
reported failed is absent unless its error says that the outcome is unknown -- under a lost request
or a lost answer, produced exactly with ``FakeCluster.control`` instead of a fault proxy.

The fake applies the broker's sequence rules (state.py), so what it stores is what Kafka would.
"""
from __future__ import annotations

import asyncio
from typing import Any

import pytest

from kafkaio.errors import RecordTooLargeError
from kafkaio.producer.producer import Producer
from kafkaio.protocol import ApiKey
from kafkaio.testing.delivery import check_log, outcome
from kafkaio.testing.fake import DROP, DROP_RESPONSE, FakeCluster, RequestInfo

# Short request timeouts: a request the fake swallows must fail fast for the test to run in
# milliseconds; nothing below asserts on time.
FAST = dict(linger_ms=0, request_timeout_ms=300, delivery_timeout_ms=5000, retry_backoff_ms=10,
            retry_backoff_max_ms=50)


def _produces_to(fake: FakeCluster, topic: str, action: object, seen: asyncio.Event) -> Any:
    """A control that applies ``action`` to the first Produce request carrying ``topic`` (by name,
    or by id from v13 on)."""
    def fn(info: RequestInfo, body: dict[str, Any]) -> object:
        topic_id = fake.state.topics[topic].topic_id
        if any(td.get("name") == topic or td.get("topic_id") == topic_id for td in body["topic_data"]):
            seen.set()
            return action
        return None
    return fn


async def test_a_lost_first_request_is_never_reported_delivered() -> None:
    # Until the fake acknowledges a first batch of the partition, the producer sends its batches
    # one at a time: B waits for A, A's request is lost and retried, and both are written in order
    # (before, B was taken as the producer's first while A was lost, and A could only fail).
    async with FakeCluster(topics={"t": 1}) as fake:
        async with Producer(bootstrap_servers=fake.bootstrap_servers, linger_ms=0, request_timeout_ms=100,
                            delivery_timeout_ms=3000, retry_backoff_ms=10, retry_backoff_max_ms=50) as p:
            await p._cluster.wait_for_topic("t", 5000)
            dropped = asyncio.Event()
            fake.control(ApiKey.PRODUCE, _produces_to(fake, "t", DROP, dropped))  # A never reaches the broker
            a = await p.send("t", b"A")
            await dropped.wait()
            b = await p.send("t", b"B")
            outcomes = {b"A": await outcome(a), b"B": await outcome(b)}
        got = [r.value for r in fake.records("t", 0)]
    check_log(got, outcomes)
    assert got == [b"A", b"B"]  # both written once, in the order sent


async def test_an_epoch_bump_for_one_partition_does_not_resequence_another() -> None:
    async with FakeCluster(topics={"t0": 1, "t1": (1, 1000)}) as fake:
        async with Producer(bootstrap_servers=fake.bootstrap_servers, **FAST) as p:
            await p.send_and_wait("t0", b"warm-up-0")
            await p.send_and_wait("t1", b"warm-up-1")
            written = asyncio.Event()
            fake.control(ApiKey.PRODUCE, _produces_to(fake, "t0", DROP_RESPONSE, written))  # A written, answer lost
            a = await p.send("t0", b"A")
            await written.wait()
            too_large = await p.send("t1", b"x" * 2000)  # refused: the producer bumps its epoch
            with pytest.raises(RecordTooLargeError):
                await too_large
            outcome_a = await outcome(a)
            after = await p.send_and_wait("t0", b"after")
        got0 = [r.value for r in fake.records("t0", 0)]
        got1 = [r.value for r in fake.records("t1", 0)]
    check_log(got0, {b"A": outcome_a, b"after": after})
    assert got0 == [b"warm-up-0", b"A", b"after"]
    assert got1 == [b"warm-up-1"]


async def test_a_lost_answer_followed_by_later_answers_closes_the_connection_and_retries() -> None:
    # request_timeout_ms is long: only the correlation check (conn.py, _on_frame) can notice the
    # lost answer, by seeing B's answer first; the retries then go out on a new connection.
    async with FakeCluster(topics={"t": 1}) as fake:
        async with Producer(bootstrap_servers=fake.bootstrap_servers, linger_ms=0,
                            request_timeout_ms=30_000, delivery_timeout_ms=60_000,
                            retry_backoff_ms=10, retry_backoff_max_ms=50) as p:
            await p.send_and_wait("t", b"warm-up")
            written = asyncio.Event()
            fake.control(ApiKey.PRODUCE, _produces_to(fake, "t", DROP_RESPONSE, written))
            a = await p.send("t", b"A")
            await written.wait()
            b = await p.send("t", b"B")
            outcomes = {b"A": await outcome(a), b"B": await outcome(b)}
        got = fake.records("t", 0)
        produce_conns = [i.connection_id for i in fake.requests if i.api_key == ApiKey.PRODUCE]
    assert not any(isinstance(o, BaseException) for o in outcomes.values()), outcomes
    check_log([r.value for r in got], outcomes)
    assert [r.value for r in got] == [b"warm-up", b"A", b"B"]
    assert [r.sequence for r in got] == [0, 1, 2]  # written once each, never re-sequenced
    assert outcomes[b"A"].offset == 1 and outcomes[b"B"].offset == 2  # type: ignore[attr-defined]
    assert len(set(produce_conns)) == 2  # the connection that lost an answer was closed


async def test_a_batch_that_expires_after_it_was_written_does_not_resequence_the_next() -> None:
    # A's first answer, B's first answer and A's retry's answer are lost: A expires with an
    # unknown outcome (it is in the log); B must be retried as B, never re-sequenced.
    async with FakeCluster(topics={"t": 1}) as fake:
        async with Producer(bootstrap_servers=fake.bootstrap_servers, linger_ms=0, request_timeout_ms=100,
                            delivery_timeout_ms=250, retry_backoff_ms=50, retry_backoff_max_ms=50) as p:
            await p.send_and_wait("t", b"warm-up")
            lost = [0]

            def lose_three(info: RequestInfo, body: dict[str, Any]) -> object:
                lost[0] += 1
                return DROP_RESPONSE if lost[0] <= 3 else None

            fake.control(ApiKey.PRODUCE, lose_three, persistent=True)
            a = await p.send("t", b"A")
            b = await p.send("t", b"B")
            outcomes = {b"A": await outcome(a), b"B": await outcome(b)}
            outcomes[b"after"] = await outcome(await p.send("t", b"after"))
        got = fake.records("t", 0)
    values = [r.value for r in got]
    check_log(values, outcomes)
    assert values.count(b"A") == 1 and values.count(b"B") == 1  # each written once, by the fake's rules
    assert values[:3] == [b"warm-up", b"A", b"B"]
    assert [r.sequence for r in got[:3]] == [0, 1, 2]
