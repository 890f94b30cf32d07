"""Fixtures for the consumer's broker tests: the session's broker and a raw producer."""
from __future__ import annotations

import pytest

from consumer_helpers import RawProducer


@pytest.fixture(scope="session")
def consumer_bootstrap(bootstrap_servers: str) -> str:
    """The project's session broker (KAFKAIO_BOOTSTRAP, or one started for the session)."""
    return bootstrap_servers


@pytest.fixture
async def raw_producer(consumer_bootstrap: str):
    async with RawProducer(consumer_bootstrap) as p:
        yield p
