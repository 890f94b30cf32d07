"""The connect-phase exchanges of a broker connection: ApiVersions negotiation, then the SASL
handshake and authentication.

Each step is a coroutine driven by the connection through ``send`` (one request in the connect
phase, its decoded response body); nothing here touches a socket or the connection's state.
"""
from __future__ import annotations

from collections.abc import Awaitable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol, cast

from kafkaio.errors import (AuthenticationError, ErrorCode, RebootstrapRequiredError, UnsupportedVersionError,
                            error_for_code)
from kafkaio.protocol import ApiKey, api_name, client_versions, negotiate_version
from kafkaio.sasl import SaslMechanism

if TYPE_CHECKING:
    from kafkaio.protocol.bodies import ApiVersionsResponse, SaslAuthenticateResponse, SaslHandshakeResponse

CLIENT_SOFTWARE_NAME = "kafkaio"


class HandshakeSend(Protocol):
    """Send one connect-phase request at an explicit version; its decoded response body."""

    def __call__(self, api_key: int, version: int, body: dict[str, Any],
                 timeout: float) -> Awaitable[dict[str, Any]]: ...


@dataclass(frozen=True)
class Negotiated:
    """What ApiVersions settled: the broker's answer (None before it gave one), its (min, max) per
    API, and the highest version of each API both sides support (APIs without one are left out)."""

    response: ApiVersionsResponse | None
    ranges: dict[int, tuple[int, int]]
    versions: dict[int, int]


def unsupported_message(peer: str, api_key: int, ranges: Mapping[int, tuple[int, int]]) -> str:
    """Why no version of ``api_key`` can be used with ``peer``."""
    theirs = ranges.get(api_key)
    offer = f"offers v{theirs[0]}-v{theirs[1]}" if theirs else "does not offer it"
    return f"{peer} {offer}; no version of {api_name(api_key)} in common with kafkaio"


def _software_version() -> str:
    from kafkaio import __version__

    return __version__


async def negotiate_versions(send: HandshakeSend, peer: str, timeout: float,
                             expected: tuple[str, int] | None = None) -> Negotiated:
    """Ask ``peer`` for its API versions (KIP-511: with the client's software name and version),
    retrying once within the ApiVersions range it offers when it refuses ours.

    ``expected``: the cluster id and node id the client means to reach (KIP-1242, v5); a broker
    that is not that node answers REBOOTSTRAP_REQUIRED, raised as :class:`RebootstrapRequiredError`."""
    body: dict[str, Any] = {"client_software_name": CLIENT_SOFTWARE_NAME,
                            "client_software_version": _software_version()}
    if expected is not None:
        body["cluster_id"], body["node_id"] = expected
    version = client_versions(ApiKey.API_VERSIONS)[1]
    for _ in range(2):
        resp = cast("ApiVersionsResponse", await send(ApiKey.API_VERSIONS, version, body, timeout))
        code = resp["error_code"]
        ranges = {k["api_key"]: (k["min_version"], k["max_version"]) for k in resp["api_keys"]}
        if code == ErrorCode.UNSUPPORTED_VERSION:
            # The broker answered in v0 with the ApiVersions range it supports: retry within it.
            theirs = ranges.get(ApiKey.API_VERSIONS, (0, 0))
            version = negotiate_version(ApiKey.API_VERSIONS, theirs[0], theirs[1])
            continue
        if code == ErrorCode.REBOOTSTRAP_REQUIRED and expected is not None:
            raise RebootstrapRequiredError(
                f"{peer} is not node {expected[1]} of cluster {expected[0]} (KIP-1242): the address now "
                "serves another node or cluster; the client bootstraps again")
        if code:
            raise error_for_code(code)(f"ApiVersions to {peer}")
        versions: dict[int, int] = {}
        for api_key, (lo, hi) in ranges.items():
            try:
                versions[api_key] = negotiate_version(api_key, lo, hi)
            except (UnsupportedVersionError, KeyError, ValueError):
                continue  # an API we do not implement, or no overlap: version() will say so
        return Negotiated(resp, ranges, versions)
    raise UnsupportedVersionError(f"{peer} rejected every ApiVersions version")


async def authenticate(send: HandshakeSend, mech: SaslMechanism, negotiated: Negotiated, peer: str,
                       timeout: float) -> int:
    """SaslHandshake then SaslAuthenticate rounds until ``mech`` is complete; the session lifetime
    the broker gave (ms, KIP-368; 0: unlimited). Raises :class:`AuthenticationError` when the
    broker refuses the mechanism or the credentials."""

    def version(api_key: int) -> int:
        if api_key not in negotiated.versions:
            raise UnsupportedVersionError(unsupported_message(peer, api_key, negotiated.ranges))
        return negotiated.versions[api_key]

    name = mech.name
    handshake = cast("SaslHandshakeResponse", await send(
        ApiKey.SASL_HANDSHAKE, version(ApiKey.SASL_HANDSHAKE), {"mechanism": name}, timeout))
    code = handshake["error_code"]
    if code:
        enabled = ", ".join(handshake["mechanisms"]) or "none"
        raise error_for_code(code)(
            f"SASL mechanism {name} is not enabled on {peer} (enabled: {enabled})")
    auth_version = version(ApiKey.SASL_AUTHENTICATE)
    session_lifetime_ms = 0
    message: bytes | None = await mech.start()
    while message is not None:
        resp = cast("SaslAuthenticateResponse", await send(
            ApiKey.SASL_AUTHENTICATE, auth_version, {"auth_bytes": message}, timeout))
        code = resp["error_code"]
        if code:
            detail = resp["error_message"] or "credentials rejected"
            raise AuthenticationError(f"SASL {name} authentication with {peer} failed: {detail}")
        message = mech.step(bytes(resp["auth_bytes"]))
        session_lifetime_ms = resp["session_lifetime_ms"]
    if not mech.complete:
        raise AuthenticationError(f"SASL {name} exchange with {peer} ended early")
    return session_lifetime_ms
