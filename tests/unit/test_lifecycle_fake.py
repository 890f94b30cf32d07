"""start() and close() called concurrently, or one during the other (fake broker): every caller of
close() returns only once the client is closed (its records decided, no task of it left), a start()
during a close is refused, and concurrent start() calls make one client."""
from __future__ import annotations

import asyncio
from typing import Any

import pytest

from kafkaio import Admin, Consumer, Producer
from kafkaio.errors import IllegalStateError, KafkaError, ProducerClosedError
from kafkaio.protocol import ApiKey
from kafkaio.testing.fake import DELAY, FakeCluster, RequestInfo
from kafkaio.testing.tasks import client_tasks


def _new(before: set[asyncio.Task[Any]]) -> list[asyncio.Task[Any]]:
    """The client tasks that were not there when the test began."""
    return [t for t in client_tasks() if t not in before]


def _delay_produce(fake: FakeCluster, ms: float) -> None:
    fake.control(ApiKey.PRODUCE, lambda _info, _body: DELAY(ms), persistent=True)


async def test_a_second_close_returns_only_once_the_first_has_closed_the_producer() -> None:
    before = set(client_tasks())   # the session-wide clients of other tests share this loop
    async with FakeCluster(brokers=1, topics={"t": 1}) as fake:
        p = Producer(bootstrap_servers=fake.bootstrap_servers, linger_ms=0)
        await p.start()
        _delay_produce(fake, 300)
        futs = [await p.send("t", b"v%d" % i) for i in range(5)]
        first = asyncio.ensure_future(p.close())
        await asyncio.sleep(0.05)   # the first close() is waiting for the delayed produce
        await p.close()
        assert all(f.done() for f in futs)
        assert _new(before) in ([first], [])
        await first
        assert _new(before) == []
        assert [f.result().offset for f in futs] == [0, 1, 2, 3, 4]


async def test_a_close_with_a_shorter_timeout_during_a_graceful_close_fails_what_is_left() -> None:
    before = set(client_tasks())   # the session-wide clients of other tests share this loop
    async with FakeCluster(brokers=1, topics={"t": 1}) as fake:
        p = Producer(bootstrap_servers=fake.bootstrap_servers, linger_ms=0, max_in_flight_requests_per_connection=1)
        await p.start()
        _delay_produce(fake, 2000)
        futs = [await p.send("t", b"v", partition=0) for _ in range(3)]
        first = asyncio.ensure_future(p.close())
        await asyncio.sleep(0.05)
        await p.close(0)      # as Java's close(Duration.ZERO) from another thread: forces the close
        assert all(f.done() for f in futs)
        await first
        assert _new(before) == []


async def test_start_during_close_is_refused() -> None:
    before = set(client_tasks())   # the session-wide clients of other tests share this loop
    async with FakeCluster(brokers=1, topics={"t": 1}) as fake:
        p = Producer(bootstrap_servers=fake.bootstrap_servers, linger_ms=0)
        await p.start()
        _delay_produce(fake, 300)
        fut = await p.send("t", b"v")
        closing = asyncio.ensure_future(p.close())
        await asyncio.sleep(0.05)
        with pytest.raises(ProducerClosedError):
            await p.start()
        await closing
        assert fut.done() and _new(before) == []


async def test_concurrent_starts_make_one_producer() -> None:
    before = set(client_tasks())   # the session-wide clients of other tests share this loop
    async with FakeCluster(brokers=1, topics={"t": 1}) as fake:
        p = Producer(bootstrap_servers=fake.bootstrap_servers, linger_ms=0)
        await asyncio.gather(p.start(), p.start())
        assert (await p.send_and_wait("t", b"v")).offset == 0
        await p.close()
        assert _new(before) == []


def _count(fake: FakeCluster, api_key: int) -> list[RequestInfo]:
    seen: list[RequestInfo] = []

    def fn(info: RequestInfo, _body: object) -> None:
        seen.append(info)

    fake.control(api_key, fn, persistent=True)
    return seen


async def test_a_second_stop_returns_only_once_the_first_has_closed_the_consumer() -> None:
    before = set(client_tasks())   # the session-wide clients of other tests share this loop
    async with FakeCluster(brokers=1, topics={"t": 2}) as fake:
        c = Consumer("t", bootstrap_servers=fake.bootstrap_servers, group_id="g", heartbeat_interval_ms=50,
                     auto_offset_reset="earliest", fetch_max_wait_ms=10)
        await c.start()
        while not c.assignment():
            await c.getmany(timeout_ms=20)
        leaves = _count(fake, ApiKey.LEAVE_GROUP)
        fake.control(ApiKey.LEAVE_GROUP, lambda _info, _body: DELAY(300))
        first = asyncio.ensure_future(c.stop())
        await asyncio.sleep(0.05)   # the first stop() is waiting for its LeaveGroup's answer
        await c.stop()
        assert _new(before) in ([first], [])
        await first
        assert _new(before) == []
        assert len(leaves) == 1


async def test_start_during_stop_is_refused_and_concurrent_starts_make_one_consumer() -> None:
    before = set(client_tasks())   # the session-wide clients of other tests share this loop
    async with FakeCluster(brokers=1, topics={"t": 2}) as fake:
        c = Consumer("t", bootstrap_servers=fake.bootstrap_servers, group_id="g", heartbeat_interval_ms=50,
                     auto_offset_reset="earliest", fetch_max_wait_ms=10)
        await asyncio.gather(c.start(), c.start())
        while not c.assignment():
            await c.getmany(timeout_ms=20)
        fake.control(ApiKey.LEAVE_GROUP, lambda _info, _body: DELAY(300))
        stopping = asyncio.ensure_future(c.stop())
        await asyncio.sleep(0.05)
        with pytest.raises(IllegalStateError):
            await c.start()
        await stopping
        assert _new(before) == []


async def test_concurrent_starts_and_closes_of_an_admin_client_leave_no_task() -> None:
    before = set(client_tasks())   # the session-wide clients of other tests share this loop
    async with FakeCluster(brokers=1, topics={"t": 1}) as fake:
        admin = Admin(bootstrap_servers=fake.bootstrap_servers)
        await asyncio.gather(admin.start(), admin.start())
        assert "t" in await admin.list_topics()
        first = asyncio.ensure_future(admin.close())
        await asyncio.sleep(0)
        await admin.close()
        assert _new(before) in ([first], [])
        await first
        assert _new(before) == []
        with pytest.raises(IllegalStateError):
            await admin.start()


async def test_a_close_cancelled_again_and_again_does_not_leave_the_next_close_waiting_forever() -> None:
    before = set(client_tasks())   # the session-wide clients of other tests share this loop
    # cancelled while it waits, and again at every step (as asyncio.run cancels the tasks left at
    # its end): the close still ends every task of the client, and another close() returns
    async with FakeCluster(brokers=1, topics={"t": 2}) as fake:
        p = Producer(bootstrap_servers=fake.bootstrap_servers, linger_ms=0)
        await p.start()
        _delay_produce(fake, 300)
        fut = await p.send("t", b"v")
        first = asyncio.ensure_future(p.close())
        await asyncio.sleep(0.05)
        while not first.done():
            first.cancel()
            await asyncio.sleep(0)
        assert first.cancelled()
        await asyncio.wait_for(p.close(), 10)
        assert fut.done() and _new(before) == []

        c = Consumer("t", bootstrap_servers=fake.bootstrap_servers, group_id="g", heartbeat_interval_ms=50,
                     auto_offset_reset="earliest", fetch_max_wait_ms=10)
        await c.start()
        while not c.assignment():
            await c.getmany(timeout_ms=20)
        fake.control(ApiKey.LEAVE_GROUP, lambda _info, _body: DELAY(300))
        first = asyncio.ensure_future(c.stop())
        await asyncio.sleep(0.05)
        while not first.done():
            first.cancel()
            await asyncio.sleep(0)
        assert first.cancelled()
        await asyncio.wait_for(c.stop(), 10)
        assert _new(before) == []


async def _until_no_connection(fake: FakeCluster) -> None:
    """Wait (a bounded while) until the fake has seen every client connection closed."""
    for _ in range(100):
        if fake.open_connections == 0:
            return
        await asyncio.sleep(0.01)


async def test_a_consumer_whose_start_fails_after_the_bootstrap_is_new_again_and_leaves_nothing() -> None:
    # The empty topic name is refused only when start() subscribes, after the bootstrap connected.
    before = set(client_tasks())   # the session-wide clients of other tests share this loop
    async with FakeCluster(brokers=1, topics={"t": 1}) as fake:
        c = Consumer("", bootstrap_servers=fake.bootstrap_servers, group_id="g")
        with pytest.raises(IllegalStateError, match="invalid topic name"):
            await c.start()
        assert "state=new" in repr(c)
        assert _new(before) == []
        await _until_no_connection(fake)
        assert fake.open_connections == 0
        await c.stop()
        assert "state=closed" in repr(c)


async def test_a_consumer_whose_parts_cannot_be_built_is_new_again_leaves_nothing_and_can_start(
        monkeypatch: pytest.MonkeyPatch) -> None:
    import kafkaio.consumer.consumer as consumer_module
    before = set(client_tasks())   # the session-wide clients of other tests share this loop
    real = consumer_module.Fetcher
    broken = True

    def fetcher(*args: Any, **kwargs: Any) -> Any:
        if broken:
            raise RuntimeError("the fetcher cannot be built")
        return real(*args, **kwargs)

    monkeypatch.setattr(consumer_module, "Fetcher", fetcher)
    async with FakeCluster(brokers=1, topics={"t": 1}) as fake:
        c = Consumer("t", bootstrap_servers=fake.bootstrap_servers, group_id="g")
        with pytest.raises(RuntimeError, match="cannot be built"):
            await c.start()
        assert "state=new" in repr(c)
        assert _new(before) == []
        await _until_no_connection(fake)
        assert fake.open_connections == 0
        broken = False
        await c.start()
        assert "state=started" in repr(c)
        await c.stop()
        assert _new(before) == []


async def test_a_producer_whose_bootstrap_failed_leaves_nothing_and_starts_later() -> None:
    before = set(client_tasks())   # the session-wide clients of other tests share this loop
    async with FakeCluster(brokers=1, topics={"t": 1}) as fake:
        refuse = fake.control(ApiKey.METADATA, lambda _info, _body: FakeCluster.CLOSE, persistent=True)
        p = Producer(bootstrap_servers=fake.bootstrap_servers, linger_ms=0, max_block_ms=300)
        with pytest.raises(KafkaError):
            await p.start()
        assert "state=new" in repr(p)
        assert _new(before) == []
        await _until_no_connection(fake)
        assert fake.open_connections == 0
        fake.remove_control(refuse)
        await p.start()
        assert (await p.send_and_wait("t", b"v")).offset == 0
        await p.close()
        assert _new(before) == []
