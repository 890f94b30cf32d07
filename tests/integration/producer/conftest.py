"""The broker for the producer's integration tests: the shared dev broker when there is one
(KAFKAIO_BOOTSTRAP or /work/dev-broker.txt), else the suite's ``bootstrap_servers`` fixture, else a
broker of our own for the session."""
from __future__ import annotations

from typing import Iterator

import pytest

from producer_helpers import shared_bootstrap


@pytest.fixture(scope="session")
def producer_bootstrap(request: pytest.FixtureRequest) -> Iterator[str]:
    shared = shared_bootstrap()
    if shared:
        yield shared
        return
    try:
        yield request.getfixturevalue("bootstrap_servers")
        return
    except pytest.FixtureLookupError:
        pass
    from kafkaio.testing.broker import LocalKafkaCluster

    cluster = LocalKafkaCluster(brokers=1)
    cluster.start()
    try:
        yield cluster.bootstrap_servers
    finally:
        cluster.stop()

