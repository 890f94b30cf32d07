"""ClientCredentialsTokenProvider against a local token endpoint (no broker): the token is kept for
most of its lifetime, concurrent connections share one request, the endpoint's refusals become
typed errors naming it, and the secret shows nowhere; and the settings that build it."""
from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest

from kafkaio.config import ProducerConfig
from kafkaio.errors import AuthenticationError, ConfigError, KafkaConnectionError
from kafkaio.oauth import ClientCredentialsTokenProvider
from kafkaio.testing.oidc import LocalOidcProvider

ID, SECRET = "svc", "top-secret-value"


@pytest.fixture(scope="module")
def idp() -> Iterator[LocalOidcProvider]:
    with LocalOidcProvider({ID: SECRET}) as provider:
        yield provider


@pytest.fixture(autouse=True)
def _healthy(idp: LocalOidcProvider) -> Iterator[None]:
    idp.fail_with, idp.lifetime_s = None, 3600
    yield
    idp.fail_with, idp.lifetime_s = None, 3600


async def test_the_token_is_kept_and_concurrent_callers_share_one_request(idp: LocalOidcProvider) -> None:
    provider = ClientCredentialsTokenProvider(idp.token_url, ID, SECRET, "kafka")
    issued = idp.tokens_issued
    tokens = await asyncio.gather(*(provider.token() for _ in range(5)))
    assert len(set(tokens)) == 1 and tokens[0].count(".") == 2
    assert await provider.token() == tokens[0]
    assert idp.tokens_issued == issued + 1 and provider.fetches == 1 and idp.scopes[-1] == "kafka"


async def test_a_token_past_its_refresh_window_is_fetched_again(idp: LocalOidcProvider) -> None:
    idp.lifetime_s = 1
    provider = ClientCredentialsTokenProvider(idp.token_url, ID, SECRET, refresh_window_factor=0.5)
    await provider.token()
    await asyncio.sleep(0.6)   # half the lifetime passed: the next caller gets a new token
    await provider.token()
    assert provider.fetches == 2


async def test_a_cancelled_caller_does_not_fail_the_others(idp: LocalOidcProvider) -> None:
    provider = ClientCredentialsTokenProvider(idp.token_url, ID, SECRET)
    first = asyncio.ensure_future(provider.token())
    second = asyncio.ensure_future(provider.token())
    await asyncio.sleep(0)
    first.cancel()
    assert (await second).count(".") == 2


async def test_wrong_credentials_are_an_authentication_error_naming_the_endpoint(idp: LocalOidcProvider) -> None:
    provider = ClientCredentialsTokenProvider(idp.token_url, ID, "wrong-secret")
    with pytest.raises(AuthenticationError) as info:
        await provider.token()
    assert "invalid_client" in str(info.value) and idp.token_url in str(info.value) and ID in str(info.value)
    assert "wrong-secret" not in str(info.value) and "wrong-secret" not in repr(provider)


async def test_an_unavailable_endpoint_is_a_retriable_connection_error(idp: LocalOidcProvider) -> None:
    idp.fail_with = 503
    with pytest.raises(KafkaConnectionError) as info:
        await ClientCredentialsTokenProvider(idp.token_url, ID, SECRET).token()
    assert info.value.retriable and "HTTP 503" in str(info.value)
    with pytest.raises(KafkaConnectionError, match="could not be reached"):
        await ClientCredentialsTokenProvider("http://127.0.0.1:9/token", ID, SECRET, timeout_s=2).token()


def test_settings_build_one_provider_per_client_and_hide_the_secret(idp: LocalOidcProvider) -> None:
    c = ProducerConfig.from_dotted({"security.protocol": "SASL_SSL", "sasl.mechanism": "OAUTHBEARER",
                                    "sasl.oauthbearer.token.endpoint.url": idp.token_url,
                                    "sasl.oauthbearer.client.credentials.client.id": ID,
                                    "sasl.oauthbearer.client.credentials.client.secret": SECRET,
                                    "sasl.oauthbearer.scope": "kafka"})
    provider = c.sasl_oauth_token_provider
    assert isinstance(provider, ClientCredentialsTokenProvider)
    assert (provider.token_endpoint_url, provider.client_id, provider.scope) == (idp.token_url, ID, "kafka")
    assert SECRET not in repr(c) and SECRET not in str(c) and SECRET not in repr(provider)


@pytest.mark.parametrize(("settings", "named"), [
    ({"sasl_oauthbearer_token_endpoint_url": "ftp://idp/token", "sasl_oauthbearer_client_id": ID,
      "sasl_oauthbearer_client_secret": SECRET}, "sasl_oauthbearer_token_endpoint_url"),
    ({"sasl_oauthbearer_token_endpoint_url": "https://idp/token", "sasl_oauthbearer_client_secret": SECRET},
     "sasl_oauthbearer_client_id"),
    ({"sasl_oauthbearer_token_endpoint_url": "https://idp/token", "sasl_oauthbearer_client_id": ID},
     "sasl_oauthbearer_client_secret"),
    ({"sasl_oauthbearer_token_endpoint_url": "https://idp/token", "sasl_oauthbearer_client_id": ID,
      "sasl_oauthbearer_client_secret": SECRET, "sasl_oauth_token_provider": lambda: "t"},
     "sasl_oauthbearer_token_endpoint_url"),
    ({}, "sasl_oauth_token_provider"),
])
def test_invalid_oauthbearer_settings_name_the_setting(settings: dict, named: str) -> None:
    with pytest.raises(ConfigError, match=f"^{named}: "):
        ProducerConfig.from_kwargs(security_protocol="SASL_PLAINTEXT", sasl_mechanism="OAUTHBEARER", **settings)
