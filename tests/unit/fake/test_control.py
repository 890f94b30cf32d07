"""``FakeCluster.control``: answering, delaying, dropping and closing, one-shot or persistent."""
from __future__ import annotations

import asyncio
import struct
from typing import Any

import pytest

from kafkaio.errors import ErrorCode, KafkaTimeoutError
from kafkaio.producer.producer import Producer
from kafkaio.protocol import ApiKey
from kafkaio.protocol.api import client_versions, decode_response, encode_request
from kafkaio.testing.fake import CLOSE, DELAY, FakeCluster, RequestInfo


def _error_answer(code: int) -> Any:
    """A control answering every partition of a Produce request with ``code``."""
    def fn(info: RequestInfo, body: dict[str, Any]) -> dict[str, Any]:
        return {"responses": [{"name": td.get("name"), "topic_id": td.get("topic_id"), "partition_responses": [
            {"index": pd["index"], "error_code": code, "base_offset": -1} for pd in td["partition_data"]]}
            for td in body["topic_data"]]}
    return fn


async def test_an_answer_from_a_control_replaces_the_fakes_and_a_one_shot_control_ends() -> None:
    async with FakeCluster(topics={"t": 1}) as fake:
        c = fake.control(ApiKey.PRODUCE, _error_answer(ErrorCode.NOT_LEADER_OR_FOLLOWER))  # retriable
        async with Producer(bootstrap_servers=fake.bootstrap_servers, linger_ms=0, retry_backoff_ms=1) as p:
            md = await p.send_and_wait("t", b"x")
        produces = [i for i in fake.requests if i.api_key == ApiKey.PRODUCE]
        assert [r.value for r in fake.records("t", 0)] == [b"x"]
    assert (c.calls, c.hits) == (1, 1)
    assert len(produces) == 2 and md.offset == 0  # refused once by the control, then written


async def test_a_persistent_control_stays_and_none_lets_the_fake_answer() -> None:
    seen: list[int] = []

    def spy(info: RequestInfo, body: dict[str, Any]) -> None:
        seen.append(info.correlation_id)

    async with FakeCluster(topics={"t": 1}) as fake:
        fake.control(ApiKey.PRODUCE, spy, persistent=True)
        async with Producer(bootstrap_servers=fake.bootstrap_servers, linger_ms=0) as p:
            for i in range(3):
                await p.send_and_wait("t", b"%d" % i)
        assert len(fake.records("t", 0)) == 3
    assert len(seen) == 3


async def test_a_delayed_request_is_answered_after_it() -> None:
    async with FakeCluster(topics={"t": 1}) as fake:
        fake.control(ApiKey.PRODUCE, lambda info, body: DELAY(5))
        async with Producer(bootstrap_servers=fake.bootstrap_servers, linger_ms=0) as p:
            md = await p.send_and_wait("t", b"late")
    assert md.offset == 0


async def test_close_cuts_the_connection_without_an_answer() -> None:
    async with FakeCluster(topics={"t": 1}) as fake:
        async with Producer(bootstrap_servers=fake.bootstrap_servers, linger_ms=0, retry_backoff_ms=1) as p:
            await p.send_and_wait("t", b"first")
            fake.control(ApiKey.PRODUCE, lambda info, body: CLOSE)
            await p.send_and_wait("t", b"second")  # retried on a new connection
        conns = {i.connection_id for i in fake.requests if i.api_key == ApiKey.PRODUCE}
        assert [r.value for r in fake.records("t", 0)] == [b"first", b"second"]
    assert len(conns) == 2


async def test_a_failing_control_is_reported_when_the_fake_closes() -> None:
    def broken(info: RequestInfo, body: dict[str, Any]) -> None:
        raise ValueError("bug in the test's control")

    fake = FakeCluster(topics={"t": 1})
    await fake.start()
    fake.control(ApiKey.PRODUCE, broken)
    p = Producer(bootstrap_servers=fake.bootstrap_servers, linger_ms=0, request_timeout_ms=200,
                 delivery_timeout_ms=200, retry_backoff_ms=1)
    await p.start()
    fut = await p.send("t", b"x")
    with pytest.raises(KafkaTimeoutError):  # every attempt's connection was cut until the deadline
        await fut
    await p.close()
    with pytest.raises(RuntimeError) as e:
        await fake.__aexit__(None, None, None)
    assert isinstance(e.value.__cause__, ValueError)


async def test_api_versions_advertises_what_the_fake_answers_at_the_clients_versions() -> None:
    async with FakeCluster() as fake:
        host, port = fake.bootstrap_servers.split(":")
        reader, writer = await asyncio.open_connection(host, int(port))
        writer.write(encode_request(ApiKey.API_VERSIONS, 3, 7, "raw", {}))
        (size,) = struct.unpack(">i", await reader.readexactly(4))
        body = decode_response(ApiKey.API_VERSIONS, 3, await reader.readexactly(size))
        writer.close()
    ranges = {k["api_key"]: (k["min_version"], k["max_version"]) for k in body["api_keys"]}
    assert body["error_code"] == 0
    assert ranges[ApiKey.PRODUCE] == client_versions(ApiKey.PRODUCE)
    assert ApiKey.DELETE_TOPICS not in ranges  # not implemented, so never offered to a client


async def test_duplicate_sequence_completes_the_batch_as_written_and_acknowledges_its_sequences() -> None:
    """The sender settles an answer of "already written" as it settles a written batch: a success
    (without an offset), and the sequence bookkeeping acknowledges the batch's sequences."""
    async with FakeCluster(topics={"t": 1}) as fake:
        fake.control(ApiKey.PRODUCE, _error_answer(ErrorCode.DUPLICATE_SEQUENCE_NUMBER))
        async with Producer(bootstrap_servers=fake.bootstrap_servers, linger_ms=0, enable_idempotence=True) as p:
            dup = await p.send_and_wait("t", b"already there", partition=0)
            idem = p._idem
            assert idem is not None
            entry = idem._partitions[("t", 0)]
            # nothing left in flight, and the next batch takes the next sequence
            assert (dup.offset, entry.last_acked, entry.first_acked, len(entry.in_flight)) == (-1, 0, 0, 0)
            await p.send_and_wait("t", b"next", partition=0)
            assert [r.sequence for r in fake.records("t", 0)] == [1]
            assert entry.last_acked == 1
