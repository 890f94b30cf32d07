"""A connection the peer closes between the TCP connect and the ApiVersions request (a fault proxy
whose broker is down accepts and hangs up at once) must fail connect(), not hang it.

Found by the fault-schedule verifier (group seed 8, one broker: a member reconnecting while the
broker restarted never came back; its connect() waited forever on an ApiVersions request written
to a connection that was already closed, whose timeout could no longer close anything)."""
from __future__ import annotations

import asyncio

import pytest

from kafkaio.config import CommonConfig
from kafkaio.conn import BrokerConnection
from kafkaio.errors import KafkaConnectionError


async def test_connect_fails_when_the_peer_hangs_up_before_the_versions_are_asked() -> None:
    async def hang_up(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.close()

    server = await asyncio.start_server(hang_up, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    config = CommonConfig.from_kwargs(bootstrap_servers=f"127.0.0.1:{port}", request_timeout_ms=1000)
    conn = BrokerConnection("127.0.0.1", port, -1, config)
    opened = conn._open_socket

    async def open_then_let_the_close_land() -> None:
        await opened()
        await asyncio.sleep(0.2)  # the peer's close is read before the versions are asked

    conn._open_socket = open_then_let_the_close_land  # type: ignore[method-assign]
    try:
        with pytest.raises(KafkaConnectionError):
            await asyncio.wait_for(conn.connect(), 5.0)
    finally:
        server.close()
        await server.wait_closed()
    assert conn.closed
