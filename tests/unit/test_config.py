"""Configuration: Java defaults, validation of values and combinations, dotted keys, secret masking."""
from __future__ import annotations

import dataclasses
import ssl

import pytest

from kafkaio.config import AdminConfig, CommonConfig, ConsumerConfig, ProducerConfig, ShareConsumerConfig, settings_table
from kafkaio.errors import ConfigError


def error_of(cls: type[CommonConfig], **kw: object) -> str:
    with pytest.raises(ConfigError) as info:
        cls.from_kwargs(**kw)
    return str(info.value)


# ---------------------------------------------------------------- defaults (Java client, Kafka 4.1)

def test_producer_defaults_match_java_4_1() -> None:
    c = ProducerConfig()
    assert c.acks == -1
    assert c.enable_idempotence is True and c.idempotence_enabled is True
    assert c.linger_ms == 5  # KIP-1030, Kafka 4.0
    assert c.batch_size == 16384
    assert c.buffer_memory == 33554432
    assert c.max_block_ms == 60000
    assert c.max_request_size == 1048576
    assert c.delivery_timeout_ms == 120000
    assert c.request_timeout_ms == 30000
    assert c.max_in_flight_requests_per_connection == 5
    assert c.retries == 2147483647
    assert c.retry_backoff_ms == 100 and c.retry_backoff_max_ms == 1000
    assert c.reconnect_backoff_ms == 50 and c.reconnect_backoff_max_ms == 1000
    assert c.compression_type == "none" and c.compression_level is None
    assert c.transaction_timeout_ms == 60000
    assert c.metadata_max_age_ms == 300000 and c.metadata_max_idle_ms == 300000
    assert c.connections_max_idle_ms == 540000
    assert c.receive_buffer_bytes == 32768 and c.send_buffer_bytes == 131072
    assert c.partitioner is None and c.partitioner_ignore_keys is False
    assert c.security_protocol == "PLAINTEXT"


def test_consumer_defaults_match_java_4_1() -> None:
    c = ConsumerConfig()
    assert c.group_id is None
    assert c.auto_offset_reset == "latest"
    assert c.fetch_min_bytes == 1 and c.fetch_max_wait_ms == 500
    assert c.fetch_max_bytes == 52428800 and c.max_partition_fetch_bytes == 1048576
    assert c.max_poll_records == 500 and c.max_poll_interval_ms == 300000
    assert c.session_timeout_ms == 45000 and c.heartbeat_interval_ms == 3000
    assert c.partition_assignment_strategy == ("range", "cooperative-sticky")
    assert c.isolation_level == "read_uncommitted"
    assert c.check_crcs and c.exclude_internal_topics and c.allow_auto_create_topics
    assert c.auto_commit_interval_ms == 5000
    assert c.default_api_timeout_ms == 60000
    assert c.receive_buffer_bytes == 65536
    assert c.group_protocol == "classic"
    # No group: no auto-commit (Java turns the default off); rebalance timeout follows max.poll.interval.ms.
    assert c.enable_auto_commit is False
    assert c.rebalance_timeout_ms == 300000
    assert ConsumerConfig.from_kwargs(group_id="g").enable_auto_commit is True


def test_admin_defaults() -> None:
    c = AdminConfig()
    assert c.connections_max_idle_ms == 300000
    assert c.default_api_timeout_ms == 60000 and c.request_timeout_ms == 30000
    assert c.retries == 2147483647


# ---------------------------------------------------------------- names, types, ranges

def test_unknown_setting_names_it_and_suggests() -> None:
    msg = error_of(ProducerConfig, lnger_ms=5)
    assert "lnger_ms" in msg and "linger_ms" in msg
    assert "batch_size" in error_of(ProducerConfig, max_batch_size=100)
    # A consumer setting is unknown to the producer.
    assert "group_id" in error_of(ProducerConfig, group_id="g")


@pytest.mark.parametrize("kw, name", [
    ({"linger_ms": "5"}, "linger_ms"),
    ({"linger_ms": -1}, "linger_ms"),
    ({"batch_size": True}, "batch_size"),
    ({"retries": -1}, "retries"),
    ({"max_in_flight_requests_per_connection": 0}, "max_in_flight_requests_per_connection"),
    ({"enable_idempotence": "yes"}, "enable_idempotence"),
    ({"compression_type": "brotli"}, "compression_type"),
    ({"acks": 2}, "acks"),
    ({"acks": True}, "acks"),
    ({"bootstrap_servers": "localhost"}, "bootstrap_servers"),
    ({"bootstrap_servers": "h:99999"}, "bootstrap_servers"),
    ({"bootstrap_servers": []}, "bootstrap_servers"),
    ({"key_serializer": "str"}, "key_serializer"),
    ({"security_protocol": "TLS"}, "security_protocol"),
    ({"ssl_cafile": "/nonexistent/ca.pem"}, "ssl_cafile"),
    ({"ssl_context": object()}, "ssl_context"),
    ({"metadata_max_idle_ms": 10}, "metadata_max_idle_ms"),
])
def test_bad_producer_values_name_the_setting(kw: dict, name: str) -> None:
    assert error_of(ProducerConfig, **kw).startswith(name + ":")


def test_acks_normalised() -> None:
    for given, want in [("all", -1), ("ALL", -1), (-1, -1), ("-1", -1), (0, 0), ("0", 0), (1, 1), ("1", 1)]:
        assert ProducerConfig.from_kwargs(acks=given, enable_idempotence=False).acks == want


def test_bootstrap_servers_forms() -> None:
    c = ProducerConfig.from_kwargs(bootstrap_servers=" a:1, b:2 ,[::1]:3")
    assert c.bootstrap_servers == ("a:1", "b:2", "[::1]:3")
    assert c.bootstrap_addresses() == [("a", 1), ("b", 2), ("::1", 3)]
    assert ProducerConfig.from_kwargs(bootstrap_servers=["x:9"]).bootstrap_servers == ("x:9",)


def test_config_is_frozen_and_replace_revalidates() -> None:
    c = ProducerConfig.from_kwargs(linger_ms=10)
    with pytest.raises(dataclasses.FrozenInstanceError):
        c.linger_ms = 3  # type: ignore[misc]
    with pytest.raises(ConfigError):
        dataclasses.replace(c, linger_ms=-2)
    assert dataclasses.replace(c, batch_size=1).batch_size == 1


# ---------------------------------------------------------------- producer combinations (Java rules)

@pytest.mark.parametrize("kw, name", [
    ({"acks": 1}, "acks"),
    ({"acks": 0}, "acks"),
    ({"retries": 0}, "retries"),
    ({"max_in_flight_requests_per_connection": 6}, "max_in_flight_requests_per_connection"),
])
def test_explicit_idempotence_with_incompatible_value_raises(kw: dict, name: str) -> None:
    assert error_of(ProducerConfig, enable_idempotence=True, **kw).startswith(name + ":")


@pytest.mark.parametrize("kw", [{"acks": 1}, {"acks": 0}, {"retries": 0},
                                {"max_in_flight_requests_per_connection": 6}])
def test_default_idempotence_is_silently_disabled_by_incompatible_value(kw: dict) -> None:
    c = ProducerConfig.from_kwargs(**kw)
    assert c.idempotence_enabled is False
    assert c.enable_idempotence is True  # what the user left, unchanged; the decision is recorded apart


def test_explicit_idempotence_with_compatible_values() -> None:
    c = ProducerConfig.from_kwargs(enable_idempotence=True, acks="all", max_in_flight_requests_per_connection=5)
    assert c.idempotence_enabled is True
    assert ProducerConfig.from_kwargs(enable_idempotence=False).idempotence_enabled is False


def test_transactional_id_requires_idempotence() -> None:
    assert error_of(ProducerConfig, transactional_id="t", enable_idempotence=False).startswith("transactional_id:")
    # Default idempotence switched off by acks=1 also makes a transactional id invalid (as in Java).
    assert error_of(ProducerConfig, transactional_id="t", acks=1).startswith("transactional_id:")
    assert ProducerConfig.from_kwargs(transactional_id="t").idempotence_enabled is True


def test_delivery_timeout_floor() -> None:
    msg = error_of(ProducerConfig, delivery_timeout_ms=30000, linger_ms=10)
    assert msg.startswith("delivery_timeout_ms:") and "30010" in msg
    assert ProducerConfig.from_kwargs(delivery_timeout_ms=30010, linger_ms=10).delivery_timeout_ms == 30010
    # Left at its default, it grows to the floor instead (KafkaProducer.configureDeliveryTimeout).
    assert ProducerConfig.from_kwargs(linger_ms=100000).delivery_timeout_ms == 130000


def test_compression_levels() -> None:
    assert ProducerConfig.from_kwargs(compression_type="lz4").compression_level == 9
    assert ProducerConfig.from_kwargs(compression_type="zstd").compression_level == 3
    assert ProducerConfig.from_kwargs(compression_type="gzip").compression_level == -1
    c = ProducerConfig.from_kwargs(compression_type="GZIP", compression_level=6)
    assert c.compression_type == "gzip" and c.compression_level == 6 and c.compression_gzip_level == 6
    assert ProducerConfig.from_kwargs(compression_type="zstd", compression_zstd_level=-5).compression_level == -5
    assert error_of(ProducerConfig, compression_type="lz4", compression_level=18).startswith("compression_level:")
    assert error_of(ProducerConfig, compression_type="snappy", compression_level=1).startswith("compression_level:")
    assert error_of(ProducerConfig, compression_gzip_level=10).startswith("compression_gzip_level:")


# ---------------------------------------------------------------- consumer combinations

@pytest.mark.parametrize("kw, name", [
    ({"group_instance_id": "i"}, "group_instance_id"),
    ({"enable_auto_commit": True}, "enable_auto_commit"),
    ({"group_id": "g", "auto_offset_reset": "smallest"}, "auto_offset_reset"),
    ({"group_id": "g", "auto_offset_reset": "by_duration:1 day"}, "auto_offset_reset"),
    ({"group_id": "g", "isolation_level": "serializable"}, "isolation_level"),
    ({"group_id": "g", "heartbeat_interval_ms": 45000}, "heartbeat_interval_ms"),
    ({"group_id": "g", "partition_assignment_strategy": "fair"}, "partition_assignment_strategy"),
    ({"group_id": "g", "partition_assignment_strategy": []}, "partition_assignment_strategy"),
    ({"group_id": "g", "max_poll_records": 0}, "max_poll_records"),
    ({"group_id": "g", "group_protocol": "consumer", "session_timeout_ms": 10000}, "session_timeout_ms"),
    ({"group_id": "g", "group_remote_assignor": "uniform"}, "group_remote_assignor"),
    ({"group_id": "g", "value_deserializer": 3}, "value_deserializer"),
])
def test_bad_consumer_settings_name_the_setting(kw: dict, name: str) -> None:
    assert error_of(ConsumerConfig, **kw).startswith(name + ":")


def test_consumer_accepted_forms() -> None:
    c = ConsumerConfig.from_kwargs(group_id="g", auto_offset_reset="EARLIEST", isolation_level="read_committed",
                                   partition_assignment_strategy="org.apache.kafka.clients.consumer.RoundRobinAssignor,sticky",
                                   max_poll_interval_ms=1000, heartbeat_interval_ms=100, session_timeout_ms=200)
    assert c.auto_offset_reset == "earliest" and c.isolation_level == "read_committed"
    assert c.partition_assignment_strategy == ("roundrobin", "sticky")
    assert c.rebalance_timeout_ms == 1000
    d = ConsumerConfig.from_kwargs(group_id="g", auto_offset_reset="by_duration:P1DT2H30M")
    assert d.auto_offset_reset_duration_ms == (86400 + 2 * 3600 + 30 * 60) * 1000

    class MyAssignor:
        name = "mine"

        def assign(self, *a: object) -> None: ...

    mine = MyAssignor()
    assert ConsumerConfig.from_kwargs(group_id="g", partition_assignment_strategy=[mine, "range"]) \
        .partition_assignment_strategy == (mine, "range")
    assert ConsumerConfig.from_kwargs(group_id="g", group_protocol="consumer").group_protocol == "consumer"


def test_admin_default_api_timeout_floor() -> None:
    assert error_of(AdminConfig, default_api_timeout_ms=1000).startswith("default_api_timeout_ms:")
    assert AdminConfig.from_kwargs(request_timeout_ms=90000).default_api_timeout_ms == 90000


# ---------------------------------------------------------------- security

def test_sasl_requirements() -> None:
    # GSSAPI, the Java default, from the ticket cache: nothing more to set
    assert ProducerConfig.from_kwargs(security_protocol="SASL_PLAINTEXT").sasl_mechanism == "GSSAPI"
    assert error_of(ProducerConfig, security_protocol="SASL_PLAINTEXT", sasl_plain_username="u",
                    sasl_plain_password="p").startswith("sasl_mechanism:")
    assert error_of(ProducerConfig, security_protocol="SASL_PLAINTEXT",
                    sasl_kerberos_principal="alice@R").startswith("sasl_kerberos_keytab:")
    assert error_of(ProducerConfig, security_protocol="SASL_SSL", sasl_mechanism="PLAIN",
                    sasl_plain_username="u").startswith("sasl_plain_password:")
    assert error_of(ProducerConfig, security_protocol="SASL_SSL",
                    sasl_mechanism="OAUTHBEARER").startswith("sasl_oauth_token_provider:")
    c = ProducerConfig.from_kwargs(security_protocol="sasl_ssl", sasl_mechanism="scram-sha-512",
                                   sasl_plain_username="u", sasl_plain_password="p")
    assert c.security_protocol == "SASL_SSL" and c.sasl_mechanism == "SCRAM-SHA-512"
    ctx = ssl.create_default_context()
    assert ProducerConfig.from_kwargs(security_protocol="SSL", ssl_context=ctx).ssl_context is ctx


def test_repr_masks_secrets() -> None:
    def provider() -> str:
        return "tok-SECRET-3"

    c = ConsumerConfig.from_kwargs(security_protocol="SASL_SSL", sasl_mechanism="PLAIN", sasl_plain_username="alice",
                                   sasl_plain_password="pw-SECRET-1", ssl_password="pw-SECRET-2")
    o = AdminConfig.from_kwargs(security_protocol="SASL_SSL", sasl_mechanism="OAUTHBEARER",
                                sasl_oauth_token_provider=provider)
    for text in (repr(c), str(c), repr(o)):
        assert "SECRET" not in text and "function" not in text
    assert "alice" in repr(c) and "***" in repr(c) and "***" in repr(o)


# ---------------------------------------------------------------- dotted (Java-style) keys

def test_from_dotted_converts_strings() -> None:
    c = ProducerConfig.from_dotted({"bootstrap.servers": "h1:9092,h2:9092", "linger.ms": "20", "acks": "1",
                                    "enable.idempotence": "false", "compression.type": "zstd",
                                    "max.in.flight.requests.per.connection": 1, "client.id": "app"})
    assert c.bootstrap_servers == ("h1:9092", "h2:9092")
    assert (c.linger_ms, c.acks, c.enable_idempotence, c.compression_type) == (20, 1, False, "zstd")
    assert c.max_in_flight_requests_per_connection == 1 and c.client_id == "app"
    assert c.explicit_settings >= {"linger_ms", "acks", "enable_idempotence"}


def test_from_dotted_explicit_idempotence_conflict_raises() -> None:
    with pytest.raises(ConfigError, match="^acks:"):
        ProducerConfig.from_dotted({"enable.idempotence": "true", "acks": "1"})


def test_from_dotted_errors_name_the_java_key() -> None:
    with pytest.raises(ConfigError, match=r"^linger\.ms:"):
        ProducerConfig.from_dotted({"linger.ms": "soon"})
    with pytest.raises(ConfigError, match=r"^enable\.idempotence:"):
        ProducerConfig.from_dotted({"enable.idempotence": "yes"})
    with pytest.raises(ConfigError, match="did you mean 'linger.ms'"):
        ProducerConfig.from_dotted({"linger.msec": "5"})
    with pytest.raises(ConfigError, match="cannot be used from Python"):
        ProducerConfig.from_dotted({"key.serializer": "com.example.AvroSerializer"})


def test_from_dotted_java_specific_keys() -> None:
    c = ConsumerConfig.from_dotted({
        "group.id": "g",
        "security.protocol": "SASL_SSL", "sasl.mechanism": "SCRAM-SHA-256",
        "sasl.jaas.config": 'org.apache.kafka.common.security.scram.ScramLoginModule required '
                            'username="bob" password="s3cret";',
        "ssl.endpoint.identification.algorithm": "",
        "value.deserializer": "org.apache.kafka.common.serialization.StringDeserializer",
        "metrics.recording.level": "INFO",  # ignored: no meaning here
        "partition.assignment.strategy": "org.apache.kafka.clients.consumer.CooperativeStickyAssignor",
    })
    assert (c.sasl_plain_username, c.sasl_plain_password) == ("bob", "s3cret")
    assert c.ssl_check_hostname is False
    assert c.value_deserializer is not None and c.value_deserializer(b"caf\xc3\xa9") == "caf\u00e9"
    assert c.partition_assignment_strategy == ("cooperative-sticky",)
    k = ConsumerConfig.from_dotted({
        "security.protocol": "SASL_SSL", "sasl.mechanism": "GSSAPI", "sasl.kerberos.service.name": "kafka-prod",
        "sasl.jaas.config": 'com.sun.security.auth.module.Krb5LoginModule required useKeyTab=true '
                            'storeKey=true keyTab="/etc/security/app.keytab" principal="app@EXAMPLE.COM";'})
    assert (k.sasl_kerberos_keytab, k.sasl_kerberos_principal) == ("/etc/security/app.keytab", "app@EXAMPLE.COM")
    assert k.sasl_kerberos_service_name == "kafka-prod"
    cache = ConsumerConfig.from_dotted({"security.protocol": "SASL_SSL", "sasl.jaas.config":
                                        "com.sun.security.auth.module.Krb5LoginModule required useTicketCache=true;"})
    assert cache.sasl_mechanism == "GSSAPI" and cache.sasl_kerberos_keytab is None
    p = ProducerConfig.from_dotted({"value.serializer": "org.apache.kafka.common.serialization.StringSerializer",
                                    "key.serializer": "org.apache.kafka.common.serialization.ByteArraySerializer"})
    assert p.value_serializer is not None and p.value_serializer("x") == b"x" and p.key_serializer is None


def test_from_dotted_overrides() -> None:
    def ser(v: object) -> bytes:
        return repr(v).encode()

    c = ProducerConfig.from_dotted({"linger.ms": "1"}, key_serializer=ser)
    assert c.key_serializer is ser and c.linger_ms == 1


def test_every_setting_is_documented() -> None:
    for cls in (ProducerConfig, ConsumerConfig, AdminConfig, ShareConsumerConfig):
        table = settings_table(cls)
        for name in cls.setting_fields():
            assert f"`{name}`" in table


def test_configuration_doc_lists_every_setting_as_declared() -> None:
    from pathlib import Path

    doc = (Path(__file__).parents[2] / "docs" / "configuration.md").read_text()
    rows = {line for line in doc.splitlines() if line.startswith("| `")}
    for cls in (ProducerConfig, ConsumerConfig, AdminConfig, ShareConsumerConfig):
        for line in settings_table(cls).splitlines()[2:]:
            # Same name, Java name, default and meaning as declared in kafkaio/config/.
            assert line in rows, f"docs/configuration.md is out of date for {cls.__name__}: {line}"


def test_share_consumer_settings_are_checked_at_construction() -> None:
    with pytest.raises(ConfigError, match="^group_id: a share consumer needs a group_id"):
        ShareConsumerConfig.from_kwargs()
    with pytest.raises(ConfigError, match="^share_acknowledgement_mode: must be one of implicit, explicit"):
        ShareConsumerConfig.from_kwargs(group_id="g", share_acknowledgement_mode="manual")
    with pytest.raises(ConfigError, match="^max_poll_records"):
        ShareConsumerConfig.from_kwargs(group_id="g", max_poll_records=0)
    c = ShareConsumerConfig.from_dotted({"group.id": "g", "share.acknowledgement.mode": "explicit",
                                         "share.acquire.mode": "record_limit"})
    assert (c.share_acknowledgement_mode, c.share_acquire_mode) == ("explicit", "record_limit")
