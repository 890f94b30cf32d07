"""The connect-phase steps (ApiVersions, SASL) driven by a scripted broker instead of a socket."""
from __future__ import annotations

from typing import Any

import pytest

from kafkaio.errors import AuthenticationError, ErrorCode, UnsupportedVersionError
from kafkaio.handshake import CLIENT_SOFTWARE_NAME, Negotiated, authenticate, negotiate_versions
from kafkaio.protocol import ApiKey, client_versions
from kafkaio.sasl import PlainMechanism

PEER = "broker 1 at h:9092"


class Script:
    """Answers each request with the next scripted body and records what was asked."""

    def __init__(self, *answers: dict[str, Any]) -> None:
        self.answers = list(answers)
        self.asked: list[tuple[int, int, dict[str, Any], float]] = []

    async def __call__(self, api_key: int, version: int, body: dict[str, Any], timeout: float) -> dict[str, Any]:
        self.asked.append((api_key, version, body, timeout))
        return self.answers.pop(0)


def api(key: int, lo: int, hi: int) -> dict[str, int]:
    return {"api_key": key, "min_version": lo, "max_version": hi}


async def test_versions_are_negotiated_per_api_and_unknown_or_disjoint_apis_left_out() -> None:
    metadata_max = client_versions(ApiKey.METADATA)[1]
    answer = {"error_code": 0, "api_keys": [api(ApiKey.METADATA, 0, 1000), api(ApiKey.PRODUCE, 1000, 1001),
                                            api(9999, 0, 1)]}
    send = Script(answer)
    got = await negotiate_versions(send, PEER, 5.0)
    assert got.versions == {ApiKey.METADATA: metadata_max}
    assert got.ranges[ApiKey.PRODUCE] == (1000, 1001) and got.response is answer
    ((key, version, body, timeout),) = send.asked
    assert (key, version, timeout) == (ApiKey.API_VERSIONS, client_versions(ApiKey.API_VERSIONS)[1], 5.0)
    assert body["client_software_name"] == CLIENT_SOFTWARE_NAME


async def test_a_refused_api_versions_version_is_retried_within_the_brokers_range() -> None:
    send = Script({"error_code": ErrorCode.UNSUPPORTED_VERSION, "api_keys": [api(ApiKey.API_VERSIONS, 0, 2)]},
                  {"error_code": 0, "api_keys": [api(ApiKey.API_VERSIONS, 0, 2)]})
    got = await negotiate_versions(send, PEER, 5.0)
    assert [v for _, v, _, _ in send.asked] == [client_versions(ApiKey.API_VERSIONS)[1], 2]
    assert got.versions[ApiKey.API_VERSIONS] == 2


async def test_a_broker_refusing_every_api_versions_version_is_unsupported() -> None:
    refused = {"error_code": ErrorCode.UNSUPPORTED_VERSION, "api_keys": [api(ApiKey.API_VERSIONS, 0, 0)]}
    with pytest.raises(UnsupportedVersionError, match="rejected every ApiVersions version"):
        await negotiate_versions(Script(refused, refused), PEER, 5.0)


def sasl_versions() -> Negotiated:
    ranges: dict[int, tuple[int, int]] = {ApiKey.SASL_HANDSHAKE: (0, 1), ApiKey.SASL_AUTHENTICATE: (0, 2)}
    return Negotiated({}, ranges, {ApiKey.SASL_HANDSHAKE: 1, ApiKey.SASL_AUTHENTICATE: 2})


async def test_plain_authenticates_in_one_round_and_returns_the_session_lifetime() -> None:
    send = Script({"error_code": 0, "mechanisms": ["PLAIN"]},
                  {"error_code": 0, "auth_bytes": b"", "session_lifetime_ms": 60000})
    lifetime = await authenticate(send, PlainMechanism("alice", "secret"), sasl_versions(), PEER, 5.0)
    assert lifetime == 60000
    assert [(k, v) for k, v, _, _ in send.asked] == [(ApiKey.SASL_HANDSHAKE, 1), (ApiKey.SASL_AUTHENTICATE, 2)]
    assert send.asked[1][2]["auth_bytes"] == b"\0alice\0secret"


async def test_a_mechanism_the_broker_has_not_enabled_names_the_enabled_ones() -> None:
    send = Script({"error_code": ErrorCode.UNSUPPORTED_SASL_MECHANISM, "mechanisms": ["SCRAM-SHA-512"]})
    with pytest.raises(AuthenticationError, match=r"PLAIN is not enabled on .*enabled: SCRAM-SHA-512"):
        await authenticate(send, PlainMechanism("alice", "secret"), sasl_versions(), PEER, 5.0)


async def test_rejected_credentials_raise_authentication_error_with_the_brokers_message() -> None:
    send = Script({"error_code": 0, "mechanisms": ["PLAIN"]},
                  {"error_code": ErrorCode.SASL_AUTHENTICATION_FAILED, "error_message": "bad password"})
    with pytest.raises(AuthenticationError, match="PLAIN authentication with broker 1 .* failed: bad password"):
        await authenticate(send, PlainMechanism("alice", "secret"), sasl_versions(), PEER, 5.0)


async def test_a_broker_without_sasl_authenticate_is_unsupported() -> None:
    negotiated = Negotiated({}, {ApiKey.SASL_HANDSHAKE: (0, 1)}, {ApiKey.SASL_HANDSHAKE: 1})
    send = Script({"error_code": 0, "mechanisms": ["PLAIN"]})
    with pytest.raises(UnsupportedVersionError, match="does not offer it"):
        await authenticate(send, PlainMechanism("alice", "secret"), negotiated, PEER, 5.0)
