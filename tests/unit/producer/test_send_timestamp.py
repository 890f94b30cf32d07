"""A record's timestamp given by the caller: milliseconds from 0 to 2**63-1, as Java's
ProducerRecord (which refuses a negative one); anything else is refused with
IllegalArgumentError at send() / send_many(), and the producer goes on (fake broker)."""
from __future__ import annotations

from typing import Any

import pytest

from kafkaio import Producer
from kafkaio.errors import IllegalArgumentError
from kafkaio.testing.fake import FakeCluster

BAD = [-1, -(1 << 63), 1 << 63, 1 << 70, True, 1.5, "1700000000000"]
IDS = ["minus-one", "int64-min", "past-int64", "huge", "bool", "float", "str"]


@pytest.mark.parametrize("ts", BAD, ids=IDS)
async def test_send_refuses_a_timestamp_out_of_range_and_sends_the_next_record(ts: Any) -> None:
    async with FakeCluster(brokers=1, topics={"t": 1}) as fake:
        async with Producer(bootstrap_servers=fake.bootstrap_servers, linger_ms=0) as p:
            await p.send_and_wait("t", b"first", partition=0)  # an open path: the common record's
            for partition in (0, None):
                with pytest.raises(IllegalArgumentError, match="timestamp_ms"):
                    await p.send("t", b"bad", partition=partition, timestamp_ms=ts)
            md = await p.send_and_wait("t", b"next", timestamp_ms=(1 << 63) - 1)
    assert md.timestamp == (1 << 63) - 1
    assert [r.value for r in fake.records("t", 0)] == [b"first", b"next"]


@pytest.mark.parametrize("ts", BAD, ids=IDS)
async def test_send_many_refuses_a_timestamp_out_of_range_before_any_record(ts: Any) -> None:
    async with FakeCluster(brokers=1, topics={"t": 1}) as fake:
        async with Producer(bootstrap_servers=fake.bootstrap_servers, linger_ms=0) as p:
            await p.send_and_wait("t", b"first")
            with pytest.raises(IllegalArgumentError, match="timestamp_ms"):
                await p.send_many("t", [b"a", b"b"], timestamp_ms=ts)
            mds = await (await p.send_many("t", [b"c"], timestamp_ms=0))
    assert [md.timestamp for md in mds] == [0]
    assert [r.value for r in fake.records("t", 0)] == [b"first", b"c"]
