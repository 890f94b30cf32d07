"""BrokerCapabilities: what an ApiVersions answer offers, and the skips it decides."""
from __future__ import annotations

from typing import Any

import pytest

from kafkaio.protocol import ApiKey
from kafkaio.testing.capabilities import CONSUMER_PROTOCOL, TRANSACTION_V2, BrokerCapabilities


def answer(features: dict[str, int], produce_max: int) -> dict[str, Any]:
    """An ApiVersions v4 body as a broker with ``features`` finalized (and supported) sends it."""
    return {
        "api_keys": [{"api_key": ApiKey.PRODUCE, "min_version": 0, "max_version": produce_max}],
        "supported_features": [{"name": n, "min_version": 0, "max_version": v} for n, v in features.items()],
        "finalized_features": [{"name": n, "min_version_level": v, "max_version_level": v}
                               for n, v in features.items()],
    }


KAFKA_39 = BrokerCapabilities.from_api_versions(answer({"metadata.version": 21}, 11))
KAFKA_44 = BrokerCapabilities.from_api_versions(
    answer({"metadata.version": 33, "group.version": 1, "transaction.version": 2, "share.version": 2}, 13))


def test_features_and_versions_are_read_from_the_answer() -> None:
    assert KAFKA_44.has(CONSUMER_PROTOCOL) and KAFKA_44.has(TRANSACTION_V2) and KAFKA_44.knows("share.version")
    assert not KAFKA_39.has(CONSUMER_PROTOCOL) and not KAFKA_39.knows("share.version")
    assert KAFKA_39.max_version(ApiKey.PRODUCE) == 11 and KAFKA_39.max_version(ApiKey.SHARE_FETCH) is None


def test_a_broker_without_the_feature_skips_the_test_naming_feature_and_release() -> None:
    with pytest.raises(pytest.skip.Exception, match=r"KIP-848 .*Kafka 4\.0\+.*group\.version >= 1.*does not finalize"):
        KAFKA_39.require(CONSUMER_PROTOCOL)
    with pytest.raises(pytest.skip.Exception, match=r"Produce v12 \(Kafka 4\.0\+\); this broker offers up to v11"):
        KAFKA_39.require_api(ApiKey.PRODUCE, 12, "Produce v12 (Kafka 4.0+)")
    with pytest.raises(pytest.skip.Exception, match="does not list the API"):
        KAFKA_39.require_api(ApiKey.SHARE_FETCH, 0, "ShareFetch")


def test_a_broker_with_the_feature_lets_the_test_run() -> None:
    KAFKA_44.require(CONSUMER_PROTOCOL)
    KAFKA_44.require(TRANSACTION_V2)
    KAFKA_44.require_api(ApiKey.PRODUCE, 12, "Produce v12")
