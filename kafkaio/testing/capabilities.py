"""What a broker offers, as its ApiVersions answer says, and the skips of tests that need more.

The suite runs against every Kafka release of the matrix (docs/broker-matrix.md). A test that
needs something only newer releases have asks for it by what the broker advertises (an API
version, a finalized feature level), never by comparing release numbers, and is skipped with a
reason naming the feature and the first release that has it::

    caps = await read_capabilities(bootstrap)          # or the suite's ``broker_capabilities`` fixture
    caps.require(CONSUMER_PROTOCOL)                    # pytest.skip(...) on Kafka 3.9
    caps.require_api(ApiKey.PRODUCE, 12, "Produce v12 (KIP-890 transaction v2, Kafka 4.0+)")
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pytest

__all__ = [
    "CONSUMER_PROTOCOL",
    "SHARE_GROUPS",
    "TRANSACTION_V2",
    "BrokerCapabilities",
    "FeatureNeed",
    "read_capabilities",
]


@dataclass(frozen=True)
class FeatureNeed:
    """A broker feature (KIP-584 feature flag) that must be finalized at ``level`` or above."""

    feature: str
    level: int
    what: str  # the user-visible name and the first release that finalizes it


CONSUMER_PROTOCOL = FeatureNeed("group.version", 1, "the KIP-848 consumer group protocol (Kafka 4.0+)")
TRANSACTION_V2 = FeatureNeed("transaction.version", 2, "transaction v2 (KIP-890, Kafka 4.0+)")
SHARE_GROUPS = FeatureNeed("share.version", 1, "share groups (KIP-932, Kafka 4.1+ with share.version 1)")


@dataclass(frozen=True)
class BrokerCapabilities:
    """One broker's ApiVersions answer: API version ranges, finalized and supported feature levels."""

    api_ranges: Mapping[int, tuple[int, int]]
    finalized: Mapping[str, int]  # feature -> finalized max level (absent: not finalized)
    supported: Mapping[str, int]  # feature -> highest level the broker's release knows

    @classmethod
    def from_api_versions(cls, response: Mapping[str, Any]) -> BrokerCapabilities:
        """From a decoded ApiVersions response (v3+ for the features; older ones have none)."""
        return cls(
            api_ranges={k["api_key"]: (k["min_version"], k["max_version"]) for k in response["api_keys"]},
            finalized={f["name"]: f["max_version_level"] for f in response.get("finalized_features") or ()},
            supported={f["name"]: f["max_version"] for f in response.get("supported_features") or ()},
        )

    def max_version(self, api_key: int) -> int | None:
        """The newest version of ``api_key`` the broker offers, None if it does not list the API."""
        found = self.api_ranges.get(api_key)
        return None if found is None else found[1]

    def has(self, need: FeatureNeed) -> bool:
        return self.finalized.get(need.feature, 0) >= need.level

    def knows(self, feature: str) -> bool:
        """Whether the broker's release has ``feature`` at all (a level above 0 it could finalize).

        Needs an ApiVersions v4+ answer: in v3 a Kafka 4 broker leaves out the features whose
        lowest level is 0 (``share.version``, ``group.version``)."""
        return self.supported.get(feature, 0) >= 1

    def require(self, need: FeatureNeed) -> None:
        """Skip the calling test unless the broker has finalized ``need``."""
        if not self.has(need):
            level = self.finalized.get(need.feature)
            state = "does not finalize it" if level is None else f"finalizes it at {level}"
            pytest.skip(f"needs {need.what}: feature {need.feature} >= {need.level}; this broker {state}")

    def require_api(self, api_key: int, version: int, what: str) -> None:
        """Skip the calling test unless the broker offers ``api_key`` at ``version``."""
        newest = self.max_version(api_key)
        if newest is None or newest < version:
            offered = "does not list the API" if newest is None else f"offers up to v{newest}"
            pytest.skip(f"needs {what}; this broker {offered}")


async def read_capabilities(bootstrap_servers: str) -> BrokerCapabilities:
    """Ask one broker of ``bootstrap_servers`` for its ApiVersions (through a short-lived Admin)."""
    from kafkaio.admin import Admin

    async with Admin(bootstrap_servers=bootstrap_servers, client_id="kafkaio-capabilities") as admin:
        cluster = admin.cluster
        node = cluster.least_loaded_node()
        if node is None:
            await cluster.refresh_metadata()
            node = cluster.least_loaded_node()
        if node is None:
            raise RuntimeError(f"no broker in the metadata of {bootstrap_servers}")
        conn = await cluster.connection(node)
        if conn.api_versions_response is None:
            raise RuntimeError(f"broker {node} of {bootstrap_servers} answered no ApiVersions")
        return BrokerCapabilities.from_api_versions(conn.api_versions_response)
