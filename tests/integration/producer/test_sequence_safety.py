"""The idempotent producer's promise under the faults that broke it: a record reported delivered is
in the log exactly once, in order; a record reported failed is absent, or its error says that the
outcome is unknown. Every test reads the log back with a separate reader (``read_partition``) and
checks it against what each future reported.

Scenarios (see docs/producer.md, "Delivery guarantees"):
* a produce request lost on the way while a later batch of the same partition is accepted as the
  producer's first: the lost batch is never reported delivered;
* a record too large on one partition bumps the epoch: a batch of another partition whose response
  was lost keeps its epoch and sequence, and is written once;
* a batch whose delivery timeout passes after it was written: the next batch of its partition is
  retried with its own sequence, never re-sequenced, and written once;
* awaiting a record with a timeout, or cancelling its awaiter, changes nothing for the other records
  of its batch, and the batch's buffer memory is released;
* a batch in flight fails at ``delivery_timeout_ms``, not a request timeout later.
"""
from __future__ import annotations

import asyncio

import pytest
from producer_helpers import create_topic, read_partition, unique

from kafkaio.errors import KafkaTimeoutError, RecordTooLargeError
from kafkaio.producer.producer import Producer
from kafkaio.protocol import ApiKey
from kafkaio.testing.delivery import check_log, outcome
from kafkaio.testing.proxy import FaultProxy
from kafkaio.testing.tasks import client_tasks

pytestmark = [pytest.mark.integration, pytest.mark.proxied_broker(auto_create_topics=False)]


async def test_a_lost_first_request_is_never_reported_delivered(proxied_bootstrap: str,
                                                                fault_proxy: FaultProxy) -> None:
    topic = await create_topic(proxied_bootstrap, unique("lostfirst"), 1)
    async with Producer(bootstrap_servers=proxied_bootstrap, linger_ms=0, request_timeout_ms=1500,
                        delivery_timeout_ms=6000, retry_backoff_ms=50, retry_backoff_max_ms=200) as p:
        await p._cluster.wait_for_topic(topic, 30_000)
        dropped = fault_proxy.requests_dropped[ApiKey.PRODUCE]
        fault_proxy.drop_requests(1, api_key=ApiKey.PRODUCE)  # A never reaches the broker
        a = await p.send(topic, b"A")
        while fault_proxy.requests_dropped[ApiKey.PRODUCE] == dropped:
            await asyncio.sleep(0.005)
        b = await p.send(topic, b"B")  # the broker takes B as the producer's first batch here
        outcomes = {b"A": await outcome(a), b"B": await outcome(b)}
    assert fault_proxy.requests_dropped[ApiKey.PRODUCE] == dropped + 1
    assert not isinstance(outcomes[b"B"], BaseException)
    got = [r.value for r in await read_partition(proxied_bootstrap, topic, 0)]
    check_log(got, outcomes)
    assert got[-1] == b"B"  # A, if written at all, is not written after B under the same epoch


async def test_an_epoch_bump_for_one_partition_does_not_resequence_another(proxied_bootstrap: str,
                                                                           fault_proxy: FaultProxy) -> None:
    t0 = await create_topic(proxied_bootstrap, unique("bump-t0"), 1)
    t1 = await create_topic(proxied_bootstrap, unique("bump-t1"), 1, configs={"max.message.bytes": "1000"})
    async with Producer(bootstrap_servers=proxied_bootstrap, linger_ms=0, request_timeout_ms=1500,
                        delivery_timeout_ms=20_000, retry_backoff_ms=50, retry_backoff_max_ms=200) as p:
        await p.send_and_wait(t0, b"warm-up-0")
        await p.send_and_wait(t1, b"warm-up-1")
        seen = fault_proxy.requests_seen[ApiKey.PRODUCE]
        fault_proxy.drop_responses(1, api_key=ApiKey.PRODUCE)  # A is written, its answer lost
        a = await p.send(t0, b"A")
        await fault_proxy.wait_for_requests(seen + 1, api_key=ApiKey.PRODUCE)
        too_large = await p.send(t1, b"x" * 2000)  # refused: the producer bumps its epoch
        with pytest.raises(RecordTooLargeError):
            await too_large
        outcome_a = await outcome(a)
        after = await p.send_and_wait(t0, b"after")
    got0 = [r.value for r in await read_partition(proxied_bootstrap, t0, 0)]
    check_log(got0, {b"A": outcome_a, b"after": after})
    assert got0.count(b"A") == 1
    assert got0 == [b"warm-up-0", b"A", b"after"]


async def test_a_batch_that_expires_after_it_was_written_does_not_resequence_the_next(
        proxied_bootstrap: str, fault_proxy: FaultProxy) -> None:
    topic = await create_topic(proxied_bootstrap, unique("expire-next"), 1)
    async with Producer(bootstrap_servers=proxied_bootstrap, linger_ms=0, request_timeout_ms=1000,
                        delivery_timeout_ms=2500, retry_backoff_ms=500, retry_backoff_max_ms=500) as p:
        await p.send_and_wait(topic, b"warm-up")
        # A's first answer, B's first answer and A's retry's answer are lost: A expires, and its
        # outcome is unknown (it is in the log); B must be retried as B, not re-sequenced
        fault_proxy.drop_responses(3, api_key=ApiKey.PRODUCE)
        a = await p.send(topic, b"A")
        await asyncio.sleep(0.3)
        b = await p.send(topic, b"B")
        outcomes = {b"A": await outcome(a), b"B": await outcome(b)}
        outcomes[b"after"] = await outcome(await p.send(topic, b"after"))
    assert isinstance(outcomes[b"A"], KafkaTimeoutError)
    got = [r.value for r in await read_partition(proxied_bootstrap, topic, 0)]
    check_log(got, outcomes)
    assert got.count(b"B") <= 1


async def test_a_timeout_on_one_record_leaves_its_batch_alone(proxied_bootstrap: str,
                                                              fault_proxy: FaultProxy) -> None:
    topic = await create_topic(proxied_bootstrap, unique("waitfor"), 1)
    p = Producer(bootstrap_servers=proxied_bootstrap, linger_ms=300, buffer_memory=64 * 1024,
                 batch_size=16 * 1024)
    await p.start()
    try:
        await p.send_and_wait(topic, b"warm-up")
        first = await p.send(topic, b"r1")
        second = await p.send(topic, b"r2")
        assert first._batch is second._batch  # one batch, one shared future underneath
        with pytest.raises(TimeoutError):
            await asyncio.wait_for(first, 0.01)

        async def waiter() -> object:
            return await second

        task = asyncio.ensure_future(waiter())
        await asyncio.sleep(0)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        md1, md2 = await first, await second  # neither the timeout nor the cancel touched them
        assert (md1.offset, md2.offset) == (1, 2)
        assert p._accumulator.memory_used == 0
        # the same memory is there for every later batch: two more rounds do not exhaust it
        for i in range(2):
            fut = await p.send(topic, b"again%d" % i)
            with pytest.raises(TimeoutError):
                await asyncio.wait_for(asyncio.shield(asyncio.ensure_future(outcome(fut))), 0.001)
            await fut
        assert p._accumulator.memory_used == 0
    finally:
        await asyncio.wait_for(p.close(0), 10)
    got = [r.value for r in await read_partition(proxied_bootstrap, topic, 0)]
    assert got == [b"warm-up", b"r1", b"r2", b"again0", b"again1"]


async def test_close_zero_after_a_caller_timeout_returns(proxied_bootstrap: str, fault_proxy: FaultProxy) -> None:
    topic = await create_topic(proxied_bootstrap, unique("close0"), 1)
    before = set(client_tasks())  # other tests' clients in this loop are not this one's
    p = Producer(bootstrap_servers=proxied_bootstrap, linger_ms=200)
    await p.start()
    await p.send_and_wait(topic, b"warm-up")
    fut = await p.send(topic, b"r")
    with pytest.raises(TimeoutError):
        await asyncio.wait_for(fut, 0.01)
    await asyncio.wait_for(p.close(0), 10)  # returned at once instead of waiting for ever
    assert fut.done()
    await asyncio.sleep(0)
    assert set(client_tasks()) - before == set()  # nothing the producer started outlives close(0)


async def test_close_leaves_no_task_running(proxied_bootstrap: str, fault_proxy: FaultProxy) -> None:
    topic = await create_topic(proxied_bootstrap, unique("close-tasks"), 1)
    before = set(client_tasks())
    p = Producer(bootstrap_servers=proxied_bootstrap, linger_ms=0, request_timeout_ms=1000,
                 delivery_timeout_ms=5000)
    await p.start()
    await p.send_and_wait(topic, b"warm-up")
    fault_proxy.drop_responses(1, api_key=ApiKey.PRODUCE)
    fut = await p.send(topic, b"in flight")
    await p.close()
    await asyncio.sleep(0)
    assert fut.done() and set(client_tasks()) - before == set()


async def test_an_in_flight_batch_fails_at_its_delivery_timeout(proxied_bootstrap: str,
                                                                fault_proxy: FaultProxy) -> None:
    topic = await create_topic(proxied_bootstrap, unique("inflight-expiry"), 1)
    # The first attempt times out at 2 s; the second is sent at once and is in flight at the 3 s
    # deadline, and its own request timeout (about 4 s) comes a second later. Only the sender's
    # in-flight expiry reports the batch "in flight" at its deadline: without it the record fails
    # later, through the request timeout, with the request's error.
    async with Producer(bootstrap_servers=proxied_bootstrap, linger_ms=0, request_timeout_ms=2000,
                        delivery_timeout_ms=3000, retry_backoff_ms=50, retry_backoff_max_ms=50) as p:
        await p.send_and_wait(topic, b"warm-up")
        fault_proxy.delay(30_000, api_key=ApiKey.PRODUCE)
        fut = await p.send(topic, b"late")
        result = await outcome(fut)
        fault_proxy.delay(0)
    assert isinstance(result, KafkaTimeoutError)
    assert "(in flight, outcome unknown: it may have been written)" in str(result), str(result)
    assert "delivery_timeout_ms=3000" in str(result)
