"""Bad configuration reaches the public clients (Producer, Consumer, Admin) as a ConfigError raised
by the constructor, naming the setting; secrets never appear in the error text or in a repr.

tests/unit/test_config.py checks the config dataclasses themselves; these tests go through the
constructors and ``from_config`` that applications call, so a client that skipped validation (or
validated later, at start()) would fail here. No broker is involved: nothing here connects.
"""
from __future__ import annotations

from typing import Any, Callable

import pytest

from kafkaio.admin import Admin
from kafkaio.config import AdminConfig
from kafkaio.consumer.consumer import Consumer
from kafkaio.errors import ConfigError, IllegalArgumentError, KafkaError
from kafkaio.producer.producer import Producer

SECRET = "pa55-word-do-not-print"
Factory = Callable[..., Any]

CLIENTS: dict[str, Factory] = {
    "producer": lambda **kw: Producer(**kw),
    "consumer": lambda **kw: Consumer(**kw),
    "admin": lambda **kw: Admin(**kw),
}


def _raises_naming(factory: Factory, setting: str, **kw: Any) -> ConfigError:
    with pytest.raises(ConfigError) as info:
        factory(**kw)
    assert setting in str(info.value), f"{info.value!s} does not name {setting}"
    assert isinstance(info.value, KafkaError) and isinstance(info.value, ValueError)
    return info.value


# ------------------------------------------------------------------------------ every client


@pytest.mark.parametrize("client", CLIENTS)
def test_unknown_setting_is_named_with_a_suggestion(client: str) -> None:
    err = _raises_naming(CLIENTS[client], "request_timout_ms", request_timout_ms=100)
    assert "request_timeout_ms" in str(err)  # the did-you-mean hint


@pytest.mark.parametrize("client", CLIENTS)
@pytest.mark.parametrize(("kw", "setting"), [
    ({"request_timeout_ms": "30000"}, "request_timeout_ms"),      # str where an int is expected
    ({"request_timeout_ms": True}, "request_timeout_ms"),         # bool is not an int here
    ({"retry_backoff_ms": -1}, "retry_backoff_ms"),               # below the minimum
    ({"bootstrap_servers": "localhost"}, "bootstrap_servers"),    # no port
    ({"bootstrap_servers": "host:99999"}, "bootstrap_servers"),   # port out of range
    ({"bootstrap_servers": 9092}, "bootstrap_servers"),           # wrong type
    ({"security_protocol": "TLS"}, "security_protocol"),          # not a choice
    ({"ssl_cafile": "/nonexistent/ca.pem"}, "ssl_cafile"),
    ({"reconnect_backoff_ms": 500, "reconnect_backoff_max_ms": 100}, "reconnect_backoff_max_ms"),
])
def test_wrong_values_are_named(client: str, kw: dict, setting: str) -> None:
    _raises_naming(CLIENTS[client], setting, **kw)


@pytest.mark.parametrize("client", CLIENTS)
@pytest.mark.parametrize(("kw", "setting"), [
    ({"sasl_mechanism": "PLAIN", "sasl_plain_password": SECRET}, "sasl_plain_username"),
    ({"sasl_mechanism": "PLAIN", "sasl_plain_username": "u"}, "sasl_plain_password"),
    ({"sasl_plain_username": "u", "sasl_plain_password": SECRET}, "sasl_mechanism"),  # GSSAPI default
    ({"sasl_mechanism": "OAUTHBEARER"}, "sasl_oauth_token_provider"),
])
def test_incomplete_sasl_is_named_and_never_shows_the_password(client: str, kw: dict, setting: str) -> None:
    err = _raises_naming(CLIENTS[client], setting, security_protocol="SASL_PLAINTEXT", **kw)
    assert SECRET not in str(err) and SECRET not in repr(err)


@pytest.mark.parametrize("client", CLIENTS)
@pytest.mark.parametrize("bad_secret", [SECRET.encode(), 12345678, [SECRET]])
def test_secret_of_the_wrong_type_is_named_but_not_shown(client: str, bad_secret: Any) -> None:
    """A password passed as bytes (a common slip) must not be echoed back in the error."""
    err = _raises_naming(CLIENTS[client], "sasl_plain_password", security_protocol="SASL_PLAINTEXT",
                         sasl_mechanism="PLAIN", sasl_plain_username="u", sasl_plain_password=bad_secret)
    text = str(err) + repr(err)
    assert SECRET not in text and repr(bad_secret) not in text and str(bad_secret) not in text


@pytest.mark.parametrize("client", CLIENTS)
def test_ssl_password_of_the_wrong_type_is_not_shown(client: str) -> None:
    err = _raises_naming(CLIENTS[client], "ssl_password", ssl_password=SECRET.encode())
    assert SECRET not in str(err) + repr(err)


@pytest.mark.parametrize("client", CLIENTS)
def test_repr_of_client_and_config_hide_secrets(client: str) -> None:
    c = CLIENTS[client](bootstrap_servers="127.0.0.1:9", security_protocol="SASL_PLAINTEXT",
                        sasl_mechanism="SCRAM-SHA-256", sasl_plain_username="alice", sasl_plain_password=SECRET)
    for text in (repr(c), str(c), repr(c.config), str(c.config)):
        assert SECRET not in text
    assert "sasl_plain_password='***'" in repr(c.config)


# ------------------------------------------------------------------------------ producer


@pytest.mark.parametrize(("kw", "setting"), [
    ({"acks": 2}, "acks"),
    ({"acks": "leader"}, "acks"),
    ({"compression_type": "brotli"}, "compression_type"),
    ({"compression_type": "snappy", "compression_level": 3}, "compression_level"),
    ({"compression_type": "gzip", "compression_level": 12}, "compression_level"),
    ({"enable_idempotence": True, "acks": 1}, "acks"),
    ({"enable_idempotence": True, "retries": 0}, "retries"),
    ({"enable_idempotence": True, "max_in_flight_requests_per_connection": 6},
     "max_in_flight_requests_per_connection"),
    ({"transactional_id": "tx", "enable_idempotence": False}, "transactional_id"),
    ({"delivery_timeout_ms": 1000, "request_timeout_ms": 5000}, "delivery_timeout_ms"),
    ({"linger_ms": 5.5}, "linger_ms"),
    ({"key_serializer": "str"}, "key_serializer"),
    ({"partitioner": 3}, "partitioner"),
    ({"max_batch_size": 100}, "max_batch_size"),   # aiokafka's name: the message names ours
])
def test_producer_bad_settings(kw: dict, setting: str) -> None:
    _raises_naming(Producer, setting, **kw)


def test_producer_aiokafka_name_points_to_ours() -> None:
    err = _raises_naming(Producer, "max_batch_size", max_batch_size=100)
    assert "batch_size" in str(err).replace("max_batch_size", "")


def test_producer_from_config_names_the_java_key() -> None:
    _raises_naming(lambda **kw: Producer.from_config({"bootstrap.servers": "127.0.0.1:9", "linger.msec": "5"}),
                   "linger.msec")
    _raises_naming(lambda **kw: Producer.from_config({"bootstrap.servers": "127.0.0.1:9", "linger.ms": "soon"}),
                   "linger.ms")
    _raises_naming(lambda **kw: Producer.from_config({"key.serializer": "com.example.AvroSerializer"}),
                   "key.serializer")


def test_producer_on_delivery_must_be_callable() -> None:
    with pytest.raises((ConfigError, IllegalArgumentError)) as info:
        Producer(bootstrap_servers="127.0.0.1:9", on_delivery="print")
    assert "on_delivery" in str(info.value)


# ------------------------------------------------------------------------------ consumer


@pytest.mark.parametrize(("kw", "setting"), [
    ({"auto_offset_reset": "smallest"}, "auto_offset_reset"),      # kafka-python 0.8 name
    ({"auto_offset_reset": "by_duration:yesterday"}, "auto_offset_reset"),
    ({"enable_auto_commit": True}, "enable_auto_commit"),           # no group_id
    ({"group_instance_id": "static-1"}, "group_instance_id"),       # no group_id
    ({"group_id": "g", "heartbeat_interval_ms": 50_000}, "heartbeat_interval_ms"),
    ({"group_id": "g", "group_protocol": "consumer", "session_timeout_ms": 10_000}, "session_timeout_ms"),
    ({"group_id": "g", "group_protocol": "eager"}, "group_protocol"),
    ({"group_id": "g", "group_remote_assignor": "uniform"}, "group_remote_assignor"),
    ({"partition_assignment_strategy": ["fair"]}, "partition_assignment_strategy"),
    ({"partition_assignment_strategy": []}, "partition_assignment_strategy"),
    ({"isolation_level": "serializable"}, "isolation_level"),
    ({"max_poll_records": 0}, "max_poll_records"),
    ({"value_deserializer": b"json"}, "value_deserializer"),
])
def test_consumer_bad_settings(kw: dict, setting: str) -> None:
    _raises_naming(Consumer, setting, **kw)


def test_consumer_from_config_names_the_java_key() -> None:
    _raises_naming(lambda **kw: Consumer.from_config({"group.id": "g", "auto.offset.rest": "earliest"}),
                   "auto.offset.rest")
    _raises_naming(lambda **kw: Consumer.from_config({"group.id": "g", "enable.auto.commit": "maybe"}),
                   "enable.auto.commit")


def test_consumer_topics_without_group_id_fail_at_construction() -> None:
    """Subscribing needs a group; finding out only at start() is too late (the rule: incompatible
    configuration raises at construction, naming the setting)."""
    with pytest.raises(ConfigError, match="group_id"):
        Consumer("orders", bootstrap_servers="127.0.0.1:9")


# ------------------------------------------------------------------------------ admin


def test_admin_bad_combinations() -> None:
    _raises_naming(Admin, "default_api_timeout_ms", default_api_timeout_ms=1000, request_timeout_ms=5000)
    _raises_naming(lambda **kw: Admin.from_config({"bootstrap.servers": "127.0.0.1:9", "retries": "-1"}),
                   "retries")
    with pytest.raises(IllegalArgumentError):
        Admin(config=AdminConfig(), request_timeout_ms=100)  # a config and settings: ambiguous


def test_a_producer_takes_a_producer_config() -> None:
    from kafkaio.config import ProducerConfig

    cfg = ProducerConfig.from_kwargs(bootstrap_servers="h:9092", linger_ms=3)
    assert Producer(config=cfg).config is cfg
    _raises_naming(lambda **kw: Producer(config=cfg, **kw), "linger_ms", linger_ms=7)
    _raises_naming(lambda **kw: Producer(**kw), "config", config={"linger.ms": 3})


def test_topics_given_as_a_list_are_refused_at_construction() -> None:
    with pytest.raises(ConfigError, match=r"separate arguments"):
        Consumer(["t"], group_id="g")
    with pytest.raises(ConfigError, match="topics"):
        Consumer("t", 5, group_id="g")  # type: ignore[arg-type]


@pytest.mark.parametrize("build", [
    lambda: Consumer(["t"]),                          # refused in _init, after _config is set
    lambda: Consumer(bootstrap_servers="h:1", no_such_setting=1),  # refused before _init
    lambda: Consumer.from_config({"group.protocol": "eager"}),
    lambda: Producer(bootstrap_servers="h:1", no_such_setting=1),
    lambda: Admin(bootstrap_servers="h:1", no_such_setting=1),
], ids=["consumer-topics", "consumer-setting", "consumer-from-config", "producer", "admin"])
def test_a_client_refused_at_construction_is_finalized_silently(build: Callable[[], Any]) -> None:
    """The unclosed-client finalizers (ResourceWarning) run on half-built objects too: nothing raised
    from them, and no warning, since the client never started."""
    import gc
    import sys
    import warnings

    unraisable: list[Any] = []
    previous, sys.unraisablehook = sys.unraisablehook, unraisable.append
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            with pytest.raises((ConfigError, IllegalArgumentError, TypeError)):
                build()
            gc.collect()
    finally:
        sys.unraisablehook = previous
    assert [u.exc_value for u in unraisable] == []
    assert [w for w in caught if issubclass(w.category, ResourceWarning)] == []
