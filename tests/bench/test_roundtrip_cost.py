"""The round-trip cost counter leaves the broker as it found it: the topic it sends to is deleted."""
from __future__ import annotations

import asyncio

import pytest

from benchmarks import roundtrip_cost
from kafkaio.admin import Admin


async def _topics(bootstrap: str) -> set[str]:
    async with Admin(bootstrap_servers=bootstrap) as admin:
        return {t for t in await admin.list_topics() if t.startswith("roundtrip-cost-")}


def test_the_counted_round_trips_delete_their_topic(kafkaio_bootstrap: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KAFKAIO_BOOTSTRAP", kafkaio_bootstrap)
    monkeypatch.setenv("WARMUP", "1")
    before = asyncio.run(_topics(kafkaio_bootstrap))
    asyncio.run(roundtrip_cost._round_trips(2, None))
    assert asyncio.run(_topics(kafkaio_bootstrap)) == before
