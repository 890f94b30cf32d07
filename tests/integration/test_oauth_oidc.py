"""OAUTHBEARER with tokens from an OpenID Connect provider (KIP-768), against a broker that
validates them for real: Kafka's ``OAuthBearerValidatorCallbackHandler`` checks each token's RS256
signature against the provider's JWKS, its issuer, audience and expiry.

The provider is a small local one (:class:`kafkaio.testing.oidc.LocalOidcProvider`): a token endpoint for the
client-credentials grant and a JWKS endpoint, over HTTP on loopback. The clients get their tokens
through ``sasl_oauthbearer_token_endpoint_url`` and the client id and secret, as Java's and
librdkafka's do by configuration.
"""
from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

import kafkaio
from kafkaio.errors import AuthenticationError
from kafkaio.testing.broker import BrokerLauncherError, LocalKafkaCluster
from kafkaio.testing.oidc import LocalOidcProvider

pytestmark = [pytest.mark.integration, pytest.mark.slow]

CLIENT_ID, CLIENT_SECRET = "orders-service", "s3cret-never-logged"
AUDIENCE = "kafka"
WAIT_S = 60.0


@pytest.fixture(scope="module")
def oidc() -> Iterator[tuple[LocalOidcProvider, LocalKafkaCluster]]:
    """The provider, and a broker whose SASL_PLAINTEXT listener validates its tokens."""
    with LocalOidcProvider({CLIENT_ID: CLIENT_SECRET}, audience=AUDIENCE) as provider:
        listener = "listener.name.sasl_plaintext.oauthbearer"
        cluster = LocalKafkaCluster(
            brokers=1, listeners=("PLAINTEXT", "SASL_PLAINTEXT"),
            broker_properties={
                f"{listener}.sasl.server.callback.handler.class":
                    "org.apache.kafka.common.security.oauthbearer.OAuthBearerValidatorCallbackHandler",
                f"{listener}.sasl.jaas.config":
                    "org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginModule required ;",
                "sasl.oauthbearer.jwks.endpoint.url": provider.jwks_url,
                "sasl.oauthbearer.expected.audience": AUDIENCE,
                "sasl.oauthbearer.expected.issuer": provider.base_url,
            },
            # Kafka 4 reads the JWKS only from URLs allowed by this system property
            jvm_properties={"org.apache.kafka.sasl.oauthbearer.allowed.urls": provider.jwks_url})
        try:
            cluster.start()
        except BrokerLauncherError as exc:
            pytest.fail(f"cannot start the OAUTHBEARER broker: {exc}", pytrace=False)
        try:
            yield provider, cluster
        finally:
            cluster.stop()


def oidc_settings(provider: LocalOidcProvider, cluster: LocalKafkaCluster, secret: str = CLIENT_SECRET,
                  **extra: Any) -> dict[str, Any]:
    return {"bootstrap_servers": cluster.bootstrap_for("SASL_PLAINTEXT"), "security_protocol": "SASL_PLAINTEXT",
            "sasl_mechanism": "OAUTHBEARER", "sasl_oauthbearer_token_endpoint_url": provider.token_url,
            "sasl_oauthbearer_client_id": CLIENT_ID, "sasl_oauthbearer_client_secret": secret, **extra}


async def test_clients_authenticate_with_tokens_from_the_provider(oidc, caplog: pytest.LogCaptureFixture) -> None:
    provider, cluster = oidc
    caplog.set_level(logging.DEBUG, logger="kafkaio")
    topic = f"oidc-{uuid.uuid4().hex[:8]}"
    issued = provider.tokens_issued
    async with kafkaio.Admin(**oidc_settings(provider, cluster)) as admin:
        await admin.create_topics([kafkaio.NewTopic(topic, 2, 1)])
    async with kafkaio.Producer(**oidc_settings(provider, cluster, sasl_oauthbearer_scope="kafka")) as producer:
        for i in range(10):
            await producer.send(topic, f"m{i}".encode(), partition=i % 2)
        await producer.flush()
        # one token for the producer's connections (bootstrap and broker), kept for its lifetime
        assert producer.config.sasl_oauth_token_provider.fetches == 1
    async with kafkaio.Consumer(topic, group_id=f"g-{topic}", auto_offset_reset="earliest",
                                **oidc_settings(provider, cluster)) as consumer:
        got: list[bytes] = []
        deadline = time.monotonic() + WAIT_S
        while len(got) < 10:
            assert time.monotonic() < deadline, f"consumed {len(got)} of 10"
            got += [r.value for rs in (await consumer.getmany(timeout_ms=500)).values() for r in rs]
    assert sorted(got) == sorted(f"m{i}".encode() for i in range(10))
    assert provider.tokens_issued == issued + 3   # one per client
    assert "kafka" in provider.scopes
    for client_repr in (caplog.text,):
        assert CLIENT_SECRET not in client_repr


async def test_a_wrong_client_secret_fails_start_with_the_providers_answer(oidc,
                                                                            caplog: pytest.LogCaptureFixture) -> None:
    provider, cluster = oidc
    caplog.set_level(logging.DEBUG, logger="kafkaio")
    wrong = "wr0ng-oidc-secret"
    producer = kafkaio.Producer(**oidc_settings(provider, cluster, secret=wrong), max_block_ms=120_000)
    refused = provider.refused
    with pytest.raises(AuthenticationError) as info:
        await asyncio.wait_for(producer.start(), WAIT_S)
    await producer.close()
    message = str(info.value)
    assert "invalid_client" in message and provider.token_url in message and CLIENT_ID in message
    assert provider.refused == refused + 1   # final: not asked again until the deadline
    for text in (message, repr(info.value), repr(producer.config), caplog.text):
        assert wrong not in text


async def test_an_expired_token_is_replaced_for_new_connections(oidc) -> None:
    """Tokens that live 4 s, connections closed after 1 s idle: once the token has expired, the
    client's next connection must bring a new one (the broker refuses expired tokens)."""
    provider, cluster = oidc
    provider.lifetime_s = 4
    try:
        async with kafkaio.Admin(**oidc_settings(provider, cluster, connections_max_idle_ms=1000)) as admin:
            token_provider = admin.config.sasl_oauth_token_provider
            await admin.list_topics()
            assert token_provider.fetches == 1
            await asyncio.sleep(4.5)   # the token expired, and the idle connections were closed
            await asyncio.wait_for(admin.list_topics(), WAIT_S)   # a new connection, a new token
            assert token_provider.fetches == 2
    finally:
        provider.lifetime_s = 3600
