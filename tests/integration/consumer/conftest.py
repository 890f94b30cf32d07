"""Fixtures for the consumer's broker tests: a bootstrap address and a raw producer."""
from __future__ import annotations

import pytest

from consumer_helpers import RawProducer, bootstrap


@pytest.fixture(scope="session")
def consumer_bootstrap(request: pytest.FixtureRequest) -> str:
    try:
        return bootstrap()
    except RuntimeError:
        # Fall back on the project's session broker fixture when it exists.
        return request.getfixturevalue("bootstrap_servers")


@pytest.fixture
async def raw_producer(consumer_bootstrap: str):
    async with RawProducer(consumer_bootstrap) as p:
        yield p
