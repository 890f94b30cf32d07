"""``client.state`` and ``client.health()`` against a real broker: what a liveness endpoint sees
as the clients start, work, get stuck, recover, fail for good and close."""
from __future__ import annotations

import asyncio
import time
import uuid

import pytest

import kafkaio
from kafkaio import ConsumerState, ProducerState
from kafkaio.errors import ProducerFencedError

pytestmark = pytest.mark.integration

WAIT_S = 60.0   # upper bound for waits on a loaded machine; never asserted as a duration


def unique(prefix: str = "health") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


async def wait_for(predicate, what: str) -> None:
    deadline = time.monotonic() + WAIT_S
    while not predicate():
        assert time.monotonic() < deadline, what
        await asyncio.sleep(0.05)


async def test_producer_state_and_health_through_its_life(bootstrap_servers: str) -> None:
    p = kafkaio.Producer(bootstrap_servers=bootstrap_servers, linger_ms=0)
    assert p.state is ProducerState.CREATED and not p.health()
    await p.start()
    try:
        health = p.health()
        assert health.healthy and health.state is ProducerState.IDLE and health.last_ack is None
        before = time.time()
        await p.send_and_wait(unique(), b"x")
        health = p.health()
        assert health.healthy and health.state is ProducerState.IDLE
        assert health.last_ack is not None and health.last_ack >= before - 1
    finally:
        await p.close()
    health = p.health()
    assert health.state is ProducerState.CLOSED and not health.healthy and "closed" in health.reason


async def test_a_fenced_transactional_producer_is_fatal_and_unhealthy(bootstrap_servers: str) -> None:
    txn_id, topic = unique("txn"), unique()
    old = kafkaio.Producer(bootstrap_servers=bootstrap_servers, transactional_id=txn_id)
    await old.start()
    try:
        async with kafkaio.Producer(bootstrap_servers=bootstrap_servers, transactional_id=txn_id):
            old.begin_transaction()
            await old.send(topic, b"zombie")
            with pytest.raises(ProducerFencedError):
                await old.commit_transaction()
        health = old.health()
        assert old.state is ProducerState.FATAL and not health.healthy
        assert "ProducerFenced" in health.reason
    finally:
        await old.close()


async def test_consumer_state_and_health_through_a_poll_timeout(bootstrap_servers: str) -> None:
    """A member that stops polling leaves the group after max_poll_interval_ms: LOST and unhealthy,
    naming the cause; polling again rejoins it: STABLE and healthy."""
    topic = unique()
    async with kafkaio.Admin(bootstrap_servers=bootstrap_servers) as admin:
        await admin.create_topics([kafkaio.NewTopic(topic, 1, 1)])
    c = kafkaio.Consumer(topic, bootstrap_servers=bootstrap_servers, group_id=unique("g"),
                         heartbeat_interval_ms=300, session_timeout_ms=6000, max_poll_interval_ms=2000)
    assert c.state is ConsumerState.CREATED and not c.health()
    await c.start()
    try:
        deadline = time.monotonic() + WAIT_S
        while c.state is not ConsumerState.STABLE:
            assert time.monotonic() < deadline, "the consumer did not join"
            await c.getmany(timeout_ms=100)
        await wait_for(lambda: c.health().last_heartbeat is not None, "no heartbeat was accepted")
        assert c.health().healthy

        await wait_for(lambda: c.state is ConsumerState.LOST, "no poll-timeout leave")   # no polls now
        health = c.health()
        assert not health.healthy and "max_poll_interval_ms" in health.reason

        deadline = time.monotonic() + WAIT_S
        while c.state is not ConsumerState.STABLE:
            assert time.monotonic() < deadline, "the consumer did not rejoin"
            await c.getmany(timeout_ms=100)
        assert c.health().healthy
    finally:
        await c.stop()
    assert c.state is ConsumerState.CLOSED and not c.health()
