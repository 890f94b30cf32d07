"""Suite-wide fixtures: kafkaio's own pytest plugin (broker, topics, event loop) plus one guard.

See kafkaio/testing/suite.py (and the public plugin it builds on, kafkaio/testing/fixtures.py) and docs/testing.md.
"""
from __future__ import annotations

from pathlib import Path

import pytest

pytest_plugins = ["kafkaio.testing.suite"]

_UNIT_DIR = Path(__file__).parent / "unit"
_BROKER_FIXTURES = {
    "kafka_cluster", "bootstrap_servers", "kafka_admin", "kafka_secure_cluster", "topic", "topic_factory",
    "kafkaio_broker", "kafkaio_bootstrap", "kafkaio_topic",
}


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Unit tests never start a broker; integration tests are marked ``integration``."""
    for item in items:
        path = Path(str(item.path))
        if _UNIT_DIR in path.parents:
            used = _BROKER_FIXTURES.intersection(getattr(item, "fixturenames", ()))
            if used:
                raise pytest.UsageError(
                    f"{item.nodeid} is a unit test but uses {sorted(used)}: tests that need a broker "
                    "belong in tests/integration"
                )
        else:
            item.add_marker(pytest.mark.integration)
