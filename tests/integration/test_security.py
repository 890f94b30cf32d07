"""Security against a real broker with SASL_PLAINTEXT, SSL and SASL_SSL listeners: every SASL
mechanism (PLAIN, SCRAM-SHA-256/512, OAUTHBEARER with unsecured JWTs), TLS with a CA file or an
SSLContext, hostname verification, untrusted certificates and wrong credentials."""
from __future__ import annotations

import asyncio
import base64
import json
import logging
import ssl
import time
import uuid
from typing import Iterator

import pytest
from sasl_helpers import renews_in_place

from kafkaio.admin import Admin, NewTopic
from kafkaio.cluster import Cluster
from kafkaio.config import CommonConfig
from kafkaio.conn import BrokerConnection
from kafkaio.errors import AuthenticationError
from kafkaio.protocol import ApiKey
from kafkaio.tls import SslAuthenticationError

FETCH_BY_NAME = 12  # these raw Fetch requests name their topic (v13+ would need its id)

pytestmark = [pytest.mark.integration, pytest.mark.slow]

USER, PASSWORD = "alice", "alice-secret"
REAUTH_MS = 6000
_OAUTH_JAAS = "org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginModule required;"


@pytest.fixture(scope="module")
def secure_cluster() -> Iterator[object]:
    from kafkaio.testing.broker import LocalKafkaCluster

    cluster = LocalKafkaCluster(
        listeners=("PLAINTEXT", "SASL_PLAINTEXT", "SSL", "SASL_SSL"),
        users={"admin": "admin-secret", USER: PASSWORD},
        broker_properties={
            # The launcher's SCRAM/PLAIN setup plus OAUTHBEARER with Kafka's unsecured-JWT validator.
            "sasl.enabled.mechanisms": "PLAIN,SCRAM-SHA-256,SCRAM-SHA-512,OAUTHBEARER",
            "listener.name.sasl_plaintext.oauthbearer.sasl.jaas.config": _OAUTH_JAAS,
            "listener.name.sasl_ssl.oauthbearer.sasl.jaas.config": _OAUTH_JAAS,
            # KIP-368: SASL sessions end after this; the client must renew them in place.
            "connections.max.reauth.ms": str(REAUTH_MS),
        },
    )
    cluster.start()
    try:
        yield cluster
    finally:
        cluster.stop()


def _config(bootstrap: str, **kw: object) -> CommonConfig:
    kw.setdefault("reconnect_backoff_max_ms", 5000)
    return CommonConfig.from_kwargs(bootstrap_servers=bootstrap, **kw)


async def _round_trip(config: CommonConfig) -> None:
    """Bootstrap, then a request on a pooled (authenticated) connection to a broker."""
    cluster = Cluster(config)
    try:
        await cluster.bootstrap(timeout_ms=20000)
        node = next(iter(cluster.metadata.brokers))
        resp = await cluster.request(node, ApiKey.METADATA, {"topics": []})
        assert resp["brokers"]
        conn = await cluster.connection(node)
        assert conn.connected
    finally:
        await cluster.close()


def _unsecured_jwt(subject: str) -> str:
    def part(obj: dict) -> str:
        return base64.urlsafe_b64encode(json.dumps(obj).encode()).decode().rstrip("=")

    now = int(time.time())
    return f"{part({'alg': 'none'})}.{part({'sub': subject, 'iat': now, 'exp': now + 3600})}."


@pytest.mark.parametrize("mechanism", ["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"])
async def test_sasl_plaintext_mechanisms(secure_cluster, mechanism: str) -> None:
    await _round_trip(_config(secure_cluster.bootstrap_for("SASL_PLAINTEXT"), security_protocol="SASL_PLAINTEXT",
                              sasl_mechanism=mechanism, sasl_plain_username=USER, sasl_plain_password=PASSWORD))


async def test_oauthbearer_with_async_token_provider(secure_cluster) -> None:
    calls = []

    async def provider() -> str:
        calls.append(1)
        return _unsecured_jwt(USER)

    await _round_trip(_config(secure_cluster.bootstrap_for("SASL_PLAINTEXT"), security_protocol="SASL_PLAINTEXT",
                              sasl_mechanism="OAUTHBEARER", sasl_oauth_token_provider=provider))
    assert len(calls) >= 2  # a fresh token for the bootstrap and for the pooled connection


async def test_oauthbearer_rejected_token(secure_cluster) -> None:
    async def provider() -> str:
        return "not.a-valid.token"

    cluster = Cluster(_config(secure_cluster.bootstrap_for("SASL_PLAINTEXT"), security_protocol="SASL_PLAINTEXT",
                              sasl_mechanism="OAUTHBEARER", sasl_oauth_token_provider=provider))
    try:
        with pytest.raises(AuthenticationError, match="OAUTHBEARER") as info:
            await cluster.bootstrap(timeout_ms=20000)
        assert "not.a-valid.token" not in str(info.value)
    finally:
        await cluster.close()


async def test_ssl_with_cafile(secure_cluster) -> None:
    await _round_trip(_config(secure_cluster.bootstrap_for("SSL"), security_protocol="SSL",
                              ssl_cafile=str(secure_cluster.ca_file)))


async def test_ssl_with_context(secure_cluster) -> None:
    ctx = ssl.create_default_context(cafile=str(secure_cluster.ca_file))
    await _round_trip(_config(secure_cluster.bootstrap_for("SSL"), security_protocol="SSL", ssl_context=ctx))


@pytest.mark.parametrize("mechanism", ["PLAIN", "SCRAM-SHA-512"])
async def test_sasl_ssl(secure_cluster, mechanism: str) -> None:
    await _round_trip(_config(secure_cluster.bootstrap_for("SASL_SSL"), security_protocol="SASL_SSL",
                              ssl_cafile=str(secure_cluster.ca_file), sasl_mechanism=mechanism,
                              sasl_plain_username=USER, sasl_plain_password=PASSWORD))


async def test_ssl_untrusted_certificate_is_a_clear_error(secure_cluster, tmp_path) -> None:
    import trustme

    other_ca = tmp_path / "other-ca.pem"
    trustme.CA().cert_pem.write_to_path(str(other_ca))
    bootstrap = secure_cluster.bootstrap_for("SSL")
    cluster = Cluster(_config(bootstrap, security_protocol="SSL", ssl_cafile=str(other_ca)))
    try:
        started = time.monotonic()
        with pytest.raises(SslAuthenticationError, match="certificate verify failed") as info:
            await cluster.bootstrap(timeout_ms=20000)
        assert bootstrap.split(",")[0] in str(info.value)
        assert not info.value.retriable
        assert time.monotonic() - started < 15  # raised at once, not after the bootstrap timeout
    finally:
        await cluster.close()


async def test_ssl_hostname_is_verified(secure_cluster) -> None:
    """Reach the broker as 127.0.0.2 (not in its certificate) through a raw TCP proxy."""
    from kafkaio.testing.proxy import FaultProxy

    host, port = secure_cluster.bootstrap_for("SSL").split(",")[0].rsplit(":", 1)
    proxy = FaultProxy((host, int(port)), listen_host="127.0.0.2", framing=False)
    await proxy.start()
    try:
        strict = _config(proxy.bootstrap_servers, security_protocol="SSL", ssl_cafile=str(secure_cluster.ca_file))
        conn = BrokerConnection("127.0.0.2", proxy.port, -1, strict)
        with pytest.raises(SslAuthenticationError, match="127.0.0.2"):
            await conn.connect()
        relaxed = _config(proxy.bootstrap_servers, security_protocol="SSL", ssl_cafile=str(secure_cluster.ca_file),
                          ssl_check_hostname=False)
        conn = BrokerConnection("127.0.0.2", proxy.port, -1, relaxed)
        await conn.connect()
        try:
            assert (await conn.request(ApiKey.METADATA, {"topics": []}))["brokers"]
        finally:
            await conn.close()
    finally:
        await proxy.stop()


@pytest.mark.parametrize("protocol,mechanism", [
    ("SASL_PLAINTEXT", "PLAIN"), ("SASL_PLAINTEXT", "SCRAM-SHA-256"),
    ("SASL_PLAINTEXT", "SCRAM-SHA-512"), ("SASL_SSL", "SCRAM-SHA-256"),
])
async def test_wrong_password_fails_fast_without_reconnecting(secure_cluster, caplog, protocol: str,
                                                             mechanism: str) -> None:
    from kafkaio.testing.proxy import FaultProxy

    wrong = "Wr0ng-Pa55word-xyz"
    host, port = secure_cluster.bootstrap_for(protocol).split(",")[0].rsplit(":", 1)
    proxy = FaultProxy((host, int(port)), framing=protocol == "SASL_PLAINTEXT")
    await proxy.start()
    extra = {"ssl_cafile": str(secure_cluster.ca_file)} if protocol == "SASL_SSL" else {}
    config = _config(proxy.bootstrap_servers, security_protocol=protocol, sasl_mechanism=mechanism,
                     sasl_plain_username=USER, sasl_plain_password=wrong, **extra)
    cluster = Cluster(config)
    caplog.set_level(logging.DEBUG)
    try:
        with pytest.raises(AuthenticationError, match=mechanism) as info:
            await cluster.bootstrap(timeout_ms=20000)
        assert not info.value.retriable
        assert proxy.connections_accepted == 1
        # Trying again right away re-raises without another connection (no reconnect storm).
        with pytest.raises(AuthenticationError, match=mechanism):
            await cluster.bootstrap(timeout_ms=20000)
        assert proxy.connections_accepted == 1
        for text in (str(info.value), repr(info.value), repr(config), repr(cluster), caplog.text):
            assert wrong not in text
    finally:
        await cluster.close()
        await proxy.stop()


@pytest.mark.parametrize("protocol,mechanism", [("SASL_PLAINTEXT", "SCRAM-SHA-512"), ("SASL_SSL", "PLAIN")])
async def test_the_sasl_session_is_renewed_on_the_same_connection(secure_cluster, protocol: str,
                                                                  mechanism: str) -> None:
    extra = {"ssl_cafile": str(secure_cluster.ca_file)} if protocol == "SASL_SSL" else {}
    cluster = Cluster(_config(secure_cluster.bootstrap_for(protocol), security_protocol=protocol,
                              sasl_mechanism=mechanism, sasl_plain_username=USER, sasl_plain_password=PASSWORD,
                              **extra))
    try:
        await cluster.bootstrap(timeout_ms=20000)
        await renews_in_place(cluster, 2, REAUTH_MS)
    finally:
        await cluster.close()


async def test_a_refused_re_authentication_fails_the_connection_with_the_authentication_error(
        secure_cluster, caplog) -> None:
    """The token provider's second token has expired: the broker refuses the renewal."""
    tokens: list[str] = []

    async def provider() -> str:
        now = int(time.time())
        exp = now + 3600 if not tokens else now - 60
        tokens.append(f"{_jwt_part({'alg': 'none'})}.{_jwt_part({'sub': USER, 'iat': now - 120, 'exp': exp})}.")
        return tokens[-1]

    async def valid_token() -> str:
        now = int(time.time())
        return f"{_jwt_part({'alg': 'none'})}.{_jwt_part({'sub': USER, 'iat': now - 120, 'exp': now + 3600})}."

    caplog.set_level(logging.DEBUG)
    bootstrap = secure_cluster.bootstrap_for("SASL_PLAINTEXT")
    # an empty partition, for a fetch the broker holds for its max_wait_ms
    topic = f"reauth-{uuid.uuid4().hex[:8]}"
    async with Admin(bootstrap_servers=bootstrap, security_protocol="SASL_PLAINTEXT", sasl_mechanism="OAUTHBEARER",
                     sasl_oauth_token_provider=valid_token) as admin:
        await admin.create_topics([NewTopic(topic, 1, 1)], wait_for_leaders=True)
        leader_id = (await admin.describe_topics([topic]))[topic].partitions[0].leader
        leader = next(b for b in (await admin.describe_cluster()).brokers if b.node_id == leader_id)
    fetch = {"min_bytes": 1, "topics": [{"topic": topic, "partitions": [
        {"partition": 0, "fetch_offset": 0, "partition_max_bytes": 1 << 20}]}]}
    probe = BrokerConnection(leader.host, leader.port, leader.node_id,
                             _config(bootstrap, security_protocol="SASL_PLAINTEXT", sasl_mechanism="OAUTHBEARER",
                                     sasl_oauth_token_provider=valid_token))
    await probe.connect()
    try:  # until the leader knows it leads the new partition (NOT_LEADER_OR_FOLLOWER before)
        for _ in range(100):
            resp = await probe.request(ApiKey.FETCH, {**fetch, "max_wait_ms": 0}, version=FETCH_BY_NAME)
            if resp["responses"][0]["partitions"][0]["error_code"] == 0:
                break
            await asyncio.sleep(0.1)
    finally:
        await probe.close()
    conn = BrokerConnection(leader.host, leader.port, leader.node_id,
                            _config(bootstrap, security_protocol="SASL_PLAINTEXT",
                                    sasl_mechanism="OAUTHBEARER", sasl_oauth_token_provider=provider))
    await conn.connect()
    try:
        assert conn.session_lifetime_ms > 0
        lifetime_s = conn.session_lifetime_ms / 1000
        # a long poll written before the renewal is due, still waiting when the renewal starts
        long_poll = asyncio.ensure_future(conn.request(ApiKey.FETCH, {**fetch, "max_wait_ms": conn.session_lifetime_ms * 2},
                                                       version=FETCH_BY_NAME, timeout_ms=conn.session_lifetime_ms * 4))
        await asyncio.sleep(lifetime_s * 0.96)
        assert not long_poll.done()
        with pytest.raises(AuthenticationError, match="OAUTHBEARER") as info:
            await conn.request(ApiKey.METADATA, {"topics": []})
        # Written before the renewal, the long poll was answered before it: a Kafka broker answers
        # a connection's requests in order, so none written earlier is left without its answer
        # when a renewal is refused; only the requests held for after it fail.
        assert (await long_poll)["responses"][0]["partitions"][0]["error_code"] == 0
        assert len(tokens) == 2 and conn.reauthentications == 0
        assert conn.closed and isinstance(conn.close_error, AuthenticationError)
        assert not info.value.retriable
        for text in (str(info.value), repr(conn), caplog.text):
            assert tokens[0] not in text and tokens[1] not in text
    finally:
        await conn.close()


def _jwt_part(obj: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(obj).encode()).decode().rstrip("=")


def _first_address(bootstrap: str) -> tuple[str, int]:
    host, port = bootstrap.split(",")[0].rsplit(":", 1)
    return host, int(port)


@pytest.fixture(scope="module")
def mtls_cluster() -> Iterator[object]:
    from kafkaio.testing.broker import LocalKafkaCluster

    cluster = LocalKafkaCluster(listeners=("SSL",), ssl_client_auth="required")
    cluster.start()
    try:
        yield cluster
    finally:
        cluster.stop()


async def test_mutual_tls_with_client_certificate_files(mtls_cluster) -> None:
    certs = mtls_cluster.certs
    await _round_trip(_config(mtls_cluster.bootstrap_servers, security_protocol="SSL",
                              ssl_cafile=str(certs.ca_file), ssl_certfile=str(certs.client_cert_file),
                              ssl_keyfile=str(certs.client_key_file)))


async def test_mutual_tls_without_client_certificate_is_refused(mtls_cluster) -> None:
    cluster = Cluster(_config(mtls_cluster.bootstrap_servers, security_protocol="SSL",
                              ssl_cafile=str(mtls_cluster.certs.ca_file)))
    try:
        # With TLS 1.3 the broker's refusal arrives as an alert on the first read after the
        # handshake; it is still reported as a TLS failure and not retried.
        with pytest.raises(SslAuthenticationError, match="bad certificate|certificate required") as info:
            await cluster.bootstrap(timeout_ms=20000)
        assert mtls_cluster.bootstrap_servers.split(",")[0] in str(info.value)
        assert not info.value.retriable
    finally:
        await cluster.close()
