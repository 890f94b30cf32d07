"""Invalid Processor and RetryPolicy settings raise ConfigError at construction, naming the
setting; the retry policy's decisions per stage."""
from __future__ import annotations

from typing import Any

import pytest

import kafkaio
from kafkaio.errors import ConfigError
from kafkaio.processing import Processor, RetryPolicy
from kafkaio.processing.retry_policy import Outcome


async def nothing(record: kafkaio.ConsumerRecord) -> None:
    return None


def consumer(**settings: Any) -> kafkaio.Consumer:
    base: dict[str, Any] = dict(bootstrap_servers="localhost:1", group_id="g", enable_auto_commit=False)
    base.update(settings)
    return kafkaio.Consumer(**base)


@pytest.mark.parametrize("settings,kwargs,name", [
    ({"group_id": None}, {}, "group_id"),
    ({"enable_auto_commit": True}, {}, "enable_auto_commit"),
    ({}, {"ordering": "per-key"}, "ordering"),
    ({}, {"on_revoke": "ignore"}, "on_revoke"),
    ({}, {"max_in_flight": 0}, "max_in_flight"),
    ({}, {"max_buffered_records": -1}, "max_buffered_records"),
    ({}, {"commit_interval_ms": 0}, "commit_interval_ms"),
    ({}, {"retry": RetryPolicy(retry_topic_delays_ms=(10,))}, "producer"),
])
def test_invalid_settings_name_the_setting(settings: dict[str, Any], kwargs: dict[str, Any], name: str) -> None:
    with pytest.raises(ConfigError, match=f"^{name}:"):
        Processor(consumer(**settings), nothing, **kwargs)


def test_invalid_retry_policy() -> None:
    with pytest.raises(ConfigError, match="^attempts:"):
        RetryPolicy(attempts=0)
    with pytest.raises(ConfigError, match="^retry_topic_delays_ms:"):
        RetryPolicy(retry_topic_delays_ms=(-1,))


def test_retry_policy_stages() -> None:
    p = RetryPolicy(attempts=2, retry_topic_delays_ms=(100, 200), retriable=lambda e: isinstance(e, KeyError))
    exc = KeyError("x")
    assert p.decide(exc, "t", 0, 1).outcome is Outcome.RETRY_IN_PLACE
    d = p.decide(exc, "t", 0, 2)
    assert (d.outcome, d.topic, d.delay_ms) == (Outcome.RETRY_TOPIC, "t-retry-1", 100.0)
    d = p.decide(exc, "t", 1, 2)
    assert (d.outcome, d.topic, d.delay_ms) == (Outcome.RETRY_TOPIC, "t-retry-2", 200.0)
    assert p.decide(exc, "t", 2, 2).outcome is Outcome.DEAD_LETTER
    assert p.decide(exc, "t", 2, 2).topic == "t-dlt"
    assert p.decide(ValueError(), "t", 0, 1).topic == "t-dlt"      # not retriable: at once
    assert RetryPolicy(dead_letter=False).decide(exc, "t", 0, 1).outcome is Outcome.RAISE
    assert p.retry_topics("t") == ["t-retry-1", "t-retry-2"]
