"""BrokerConnection's asyncio shell against the fake: the states it goes through, and a request
that fails to encode leaving the request-timeout timer the core counts on."""
from __future__ import annotations

import asyncio
from typing import Any

import pytest

from kafkaio.config import CommonConfig
from kafkaio.conn import BrokerConnection
from kafkaio.conn_core import ConnState
from kafkaio.errors import KafkaTimeoutError
from kafkaio.protocol import ApiKey
from kafkaio.protocol.compiler import FieldEncodeError
from kafkaio.testing.fake import DROP, FakeCluster, RequestInfo
from kafkaio.testing.fake.control import Outcome


def _connection(fake: FakeCluster, **kw: Any) -> BrokerConnection:
    host, port = fake.bootstrap_servers.split(":")
    return BrokerConnection(host, int(port), 0,
                            CommonConfig.from_kwargs(bootstrap_servers=fake.bootstrap_servers, **kw))


async def test_a_connection_goes_from_new_to_ready_to_closed() -> None:
    async with FakeCluster(topics={"a": 1}) as fake:
        conn = _connection(fake)
        seen = [(conn.state, conn.connected)]
        await conn.connect()
        seen.append((conn.state, conn.connected))
        await conn.close()
        seen.append((conn.state, conn.connected))
    assert seen == [(ConnState.NEW, False), (ConnState.READY, True), (ConnState.CLOSED, False)]
    assert conn.closed


async def test_a_request_that_cannot_be_encoded_does_not_keep_later_ones_from_timing_out() -> None:
    async with FakeCluster(topics={"a": 1}) as fake:
        # ApiVersions' timer, still armed after its answer, must not be what times the lost one out
        conn = _connection(fake, request_timeout_ms=1000, api_version_request_timeout_ms=60000)
        await conn.connect()

        def drop(info: RequestInfo, body: dict[str, Any]) -> Outcome:
            return DROP

        fake.control(ApiKey.METADATA, drop, persistent=True)
        try:
            with pytest.raises(FieldEncodeError, match="topics"):
                # its deadline (0.2 s) is the earliest: the timer is armed for it
                await conn.request(ApiKey.METADATA, {"topics": 5}, timeout_ms=200)
            lost = conn.request(ApiKey.METADATA, {"topics": [{"name": "a"}], "allow_auto_topic_creation": False})
            with pytest.raises(KafkaTimeoutError):
                await asyncio.wait_for(lost, 10.0)
        finally:
            await conn.close()
    assert conn.closed
