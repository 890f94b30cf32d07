"""A Produce answer settles a batch only with the result that names its own topic and partition
(fake broker answering through a control): the one-batch request of every ``send_and_wait`` takes
its result in place, and must still match it as the many-batch request does."""
from __future__ import annotations

from typing import Any, Callable

import pytest

from kafkaio import Producer
from kafkaio.errors import KafkaError
from kafkaio.protocol import ApiKey
from kafkaio.structs import LOG_APPEND_TIME
from kafkaio.testing.fake import FakeCluster, RequestInfo

Answer = Callable[[RequestInfo, "dict[str, Any]"], "dict[str, Any]"]


def _success(index: Callable[[int], int] = lambda i: i, topic_id: Any = None,
             base_offset: int = 0, log_append_time: int = -1) -> Answer:
    """A control answering every partition of a Produce request as written, with the partition
    index mapped by ``index`` and, when given, another ``topic_id``."""
    def fn(info: RequestInfo, body: dict[str, Any]) -> dict[str, Any]:
        return {"responses": [
            {"name": td.get("name"), "topic_id": topic_id if topic_id is not None else td.get("topic_id"),
             "partition_responses": [
                 {"index": index(pd["index"]), "error_code": 0, "base_offset": base_offset,
                  "log_append_time_ms": log_append_time, "log_start_offset": 0}
                 for pd in td["partition_data"]]}
            for td in body["topic_data"]], "throttle_time_ms": 0}
    return fn


@pytest.mark.parametrize("idempotent", [True, False])
async def test_a_success_for_another_partition_does_not_deliver_the_record(idempotent: bool) -> None:
    async with FakeCluster(brokers=1, topics={"t": 2}) as fake:
        fake.control(ApiKey.PRODUCE, _success(index=lambda i: 1 - i))
        async with Producer(bootstrap_servers=fake.bootstrap_servers, linger_ms=0, acks="all",
                            enable_idempotence=idempotent) as p:
            with pytest.raises(KafkaError, match="no result for t-0") as caught:
                await p.send_and_wait("t", b"x", partition=0)
    if idempotent:  # the request was written and nothing answered for it: it may be in the log
        assert "outcome unknown" in str(caught.value)


async def test_a_success_for_another_topic_does_not_deliver_the_record() -> None:
    async with FakeCluster(brokers=1, topics={"a": 1, "b": 1}) as fake:
        async with Producer(bootstrap_servers=fake.bootstrap_servers, linger_ms=0, acks="all") as p:
            assert await p.partitions_for("b") == {0}
            fake.control(ApiKey.PRODUCE, _success(topic_id=fake.state.topics["b"].topic_id))
            with pytest.raises(KafkaError, match="no result for a-0"):
                await p.send_and_wait("a", b"x")


@pytest.mark.parametrize("idempotent", [True, False])
async def test_the_record_gets_the_offset_and_time_of_its_partitions_result(idempotent: bool) -> None:
    async with FakeCluster(brokers=1, topics={"t": 1}) as fake:
        fake.control(ApiKey.PRODUCE, _success(base_offset=41, log_append_time=1_700_000_000_007))
        async with Producer(bootstrap_servers=fake.bootstrap_servers, linger_ms=0, acks="all",
                            enable_idempotence=idempotent) as p:
            md = await p.send_and_wait("t", b"x")
    assert (md.partition, md.offset, md.timestamp, md.timestamp_type) == (0, 41, 1_700_000_000_007, LOG_APPEND_TIME)
