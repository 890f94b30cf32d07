"""Every incompatible producer configuration raises ConfigError at construction, naming the setting."""
from __future__ import annotations

import pytest

from kafkaio import ConfigError
from kafkaio.producer.producer import Producer


@pytest.mark.parametrize("settings,name", [
    (dict(enable_idempotence=True, acks=1), "acks"),
    (dict(enable_idempotence=True, acks=0), "acks"),
    (dict(enable_idempotence=True, max_in_flight_requests_per_connection=6), "max_in_flight_requests_per_connection"),
    (dict(enable_idempotence=True, retries=0), "retries"),
    (dict(delivery_timeout_ms=1000, linger_ms=5, request_timeout_ms=30000), "delivery_timeout_ms"),
    (dict(transactional_id="tx", enable_idempotence=False), "transactional_id"),
    (dict(compression_type="brotli"), "compression_type"),
    (dict(acks="most"), "acks"),
    (dict(linger_ms=-1), "linger_ms"),
    (dict(batch_size=-5), "batch_size"),
    (dict(no_such_setting=1), "no_such_setting"),
])
def test_incompatible_settings_raise_config_error(settings: dict, name: str) -> None:
    with pytest.raises(ConfigError) as info:
        Producer(bootstrap_servers="127.0.0.1:9", **settings)
    assert name in str(info.value)


def test_idempotence_is_on_by_default_with_java_defaults() -> None:
    p = Producer(bootstrap_servers="127.0.0.1:9")
    cfg = p.config
    assert cfg.idempotence_enabled and cfg.acks == -1 and cfg.max_in_flight_requests_per_connection == 5
    assert cfg.retries == 2**31 - 1 and cfg.delivery_timeout_ms == 120000 and cfg.linger_ms == 5


def test_idempotence_left_at_default_yields_to_acks_1_like_java() -> None:
    p = Producer(bootstrap_servers="127.0.0.1:9", acks=1)
    assert not p.config.idempotence_enabled


def test_from_config_maps_dotted_keys_and_rejects_bad_ones() -> None:
    p = Producer.from_config({"bootstrap.servers": "127.0.0.1:9", "linger.ms": 7, "enable.idempotence": "false",
                              "acks": "1", "max.in.flight.requests.per.connection": 1})
    assert p.config.linger_ms == 7 and p.config.acks == 1 and not p.config.idempotence_enabled
    with pytest.raises(ConfigError):
        Producer.from_config({"bootstrap.servers": "127.0.0.1:9", "enable.idempotence": "true", "acks": "0"})


async def test_send_before_start_is_a_typed_error() -> None:
    from kafkaio.errors import IllegalStateError

    p = Producer(bootstrap_servers="127.0.0.1:9")
    with pytest.raises(IllegalStateError):
        await p.send("t", b"v")
    await p.close()  # closing a never-started producer is harmless
