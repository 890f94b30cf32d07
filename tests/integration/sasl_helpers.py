"""What the SASL tests share: waiting for a pooled connection to renew its session in place."""
from __future__ import annotations

import asyncio
import time

from kafkaio.cluster import Cluster
from kafkaio.protocol import ApiKey


async def renews_in_place(cluster: Cluster, renewals: int, session_ms: int) -> None:
    """Send a Metadata request now and then on the first broker's pooled connection until it has
    renewed its SASL session ``renewals`` times (KIP-368); fails unless the same connection, still
    open and unbroken, did so within ``renewals + 1`` sessions."""
    node = next(iter(cluster.metadata.brokers))
    conn = await cluster.connection(node)
    assert 0 < conn.session_lifetime_ms <= session_ms
    deadline = time.monotonic() + (renewals + 1) * session_ms / 1000
    while conn.reauthentications < renewals:
        assert time.monotonic() < deadline, f"the session was renewed {conn.reauthentications} times"
        resp = await cluster.request(node, ApiKey.METADATA, {"topics": []})
        assert resp is not None and resp["brokers"]
        await asyncio.sleep(0.2)
    assert await cluster.connection(node) is conn and conn.connected and conn.close_error is None
    assert 0 < conn.session_lifetime_ms <= session_ms
