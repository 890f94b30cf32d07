"""The broker for the producer's integration tests: the suite's session broker (which honours
KAFKAIO_BOOTSTRAP)."""
from __future__ import annotations

import pytest


@pytest.fixture(scope="session")
def producer_bootstrap(bootstrap_servers: str) -> str:
    return bootstrap_servers
