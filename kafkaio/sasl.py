"""SASL mechanisms as sans-IO exchanges: PLAIN, SCRAM-SHA-256, SCRAM-SHA-512, OAUTHBEARER, GSSAPI.

A mechanism knows nothing about sockets or Kafka framing. The connection drives it:

    mech = create_mechanism(config, host)
    message = await mech.start()              # the client's first message
    while message is not None:
        reply = <send message in SaslAuthenticate, receive auth_bytes>
        message = mech.step(reply)            # next client message, or None when done

``step`` raises :class:`AuthenticationError` naming the mechanism when the server's reply is
malformed or fails verification (a SCRAM server signature that does not match means the server
does not know the password: it is not who it claims to be).

Secrets (passwords, tokens, derived SCRAM keys) are kept in private slots and never appear in
``repr()``, ``str()`` or exception messages.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import inspect
import os
import re
from typing import Any, Callable, Protocol

from kafkaio.errors import AuthenticationError, ConfigError

MECHANISMS = ("PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512", "OAUTHBEARER", "GSSAPI")


class SaslMechanism(Protocol):
    """What the connection needs from a mechanism."""

    name: str

    async def start(self) -> bytes: ...

    def step(self, challenge: bytes) -> bytes | None: ...

    @property
    def complete(self) -> bool: ...


# ---------------------------------------------------------------------------------------- PLAIN


class PlainMechanism:
    """RFC 4616: one message ``authzid NUL authcid NUL password``; the server replies empty."""

    name = "PLAIN"
    __slots__ = ("username", "_password", "_done")

    def __init__(self, username: str, password: str | None) -> None:
        if not username or password is None:
            raise ConfigError("sasl_mechanism PLAIN needs sasl_plain_username and sasl_plain_password")
        if "\0" in username or "\0" in password:
            raise ConfigError("sasl_plain_username/sasl_plain_password must not contain NUL")
        self.username = username
        self._password = password
        self._done = False

    async def start(self) -> bytes:
        return b"\0" + self.username.encode() + b"\0" + self._password.encode()

    def step(self, challenge: bytes) -> bytes | None:
        self._done = True
        return None

    @property
    def complete(self) -> bool:
        return self._done

    def __repr__(self) -> str:
        return f"PlainMechanism(username={self.username!r}, password=<hidden>)"


# ----------------------------------------------------------------------------------------- SCRAM

_SCRAM_HASHES = {"SCRAM-SHA-256": "sha256", "SCRAM-SHA-512": "sha512"}
# Kafka refuses fewer iterations than this (ScramMechanism minIterations).
_MIN_ITERATIONS = 4096
_ATTR = re.compile(r"^([A-Za-z])=(.*)$", re.S)


def _saslname(username: str) -> str:
    """RFC 5802 5.1: ``=`` and ``,`` in a user name are written ``=3D`` and ``=2C``."""
    return username.replace("=", "=3D").replace(",", "=2C")


def _parse_attrs(message: bytes, mechanism: str) -> dict[str, str]:
    try:
        text = message.decode("utf-8")
    except UnicodeDecodeError:
        raise AuthenticationError(f"{mechanism}: server sent a message that is not UTF-8") from None
    attrs: dict[str, str] = {}
    for part in text.split(","):
        match = _ATTR.match(part)
        if match is None:
            raise AuthenticationError(f"{mechanism}: malformed server message")
        attrs.setdefault(match.group(1), match.group(2))
    return attrs


class ScramMechanism:
    """RFC 5802 / RFC 7677 client: client-first, server-first, client-final, server-final."""

    __slots__ = ("name", "username", "_password", "_hash", "_nonce", "_client_first_bare",
                 "_server_signature", "_state")

    def __init__(self, mechanism: str, username: str, password: str | None, nonce: str | None = None) -> None:
        if mechanism not in _SCRAM_HASHES:
            raise ConfigError(f"unknown SCRAM mechanism {mechanism!r}")
        if not username or password is None:
            raise ConfigError(f"sasl_mechanism {mechanism} needs sasl_plain_username and sasl_plain_password")
        self.name = mechanism
        self.username = username
        self._password = password
        self._hash = _SCRAM_HASHES[mechanism]
        # Printable, no commas: base64 of random bytes without '=' padding.
        self._nonce = nonce or base64.b64encode(os.urandom(24)).decode().rstrip("=")
        self._client_first_bare = ""
        self._server_signature = b""
        self._state = 0  # 0 new, 1 sent client-first, 2 sent client-final, 3 verified

    def _hmac(self, key: bytes, msg: bytes) -> bytes:
        return hmac.new(key, msg, self._hash).digest()

    async def start(self) -> bytes:
        self._client_first_bare = f"n={_saslname(self.username)},r={self._nonce}"
        self._state = 1
        # gs2 header "n,,": no channel binding, no authzid.
        return ("n,," + self._client_first_bare).encode()

    def step(self, challenge: bytes) -> bytes | None:
        if self._state == 1:
            return self._client_final(challenge)
        if self._state == 2:
            self._verify_server_final(challenge)
            return None
        raise AuthenticationError(f"{self.name}: unexpected server message after the exchange ended")

    def _client_final(self, server_first: bytes) -> bytes:
        attrs = _parse_attrs(server_first, self.name)
        if "e" in attrs:
            raise AuthenticationError(f"{self.name}: server rejected the client: {attrs['e']}")
        nonce, salt_b64, iterations_text = attrs.get("r"), attrs.get("s"), attrs.get("i")
        if nonce is None or salt_b64 is None or iterations_text is None:
            raise AuthenticationError(f"{self.name}: server-first message lacks r, s or i")
        if not nonce.startswith(self._nonce) or len(nonce) <= len(self._nonce):
            raise AuthenticationError(f"{self.name}: server nonce does not extend the client nonce")
        try:
            salt = base64.b64decode(salt_b64, validate=True)
            iterations = int(iterations_text)
        except ValueError:
            raise AuthenticationError(f"{self.name}: malformed salt or iteration count") from None
        if iterations < _MIN_ITERATIONS:
            raise AuthenticationError(f"{self.name}: iteration count {iterations} is below {_MIN_ITERATIONS}")
        # Kafka salts the raw UTF-8 password (no SASLprep), so must we.
        salted = hashlib.pbkdf2_hmac(self._hash, self._password.encode(), salt, iterations)
        client_key = self._hmac(salted, b"Client Key")
        stored_key = hashlib.new(self._hash, client_key).digest()
        server_key = self._hmac(salted, b"Server Key")
        without_proof = f"c=biws,r={nonce}"  # biws = base64("n,,")
        auth_message = f"{self._client_first_bare},{server_first.decode()},{without_proof}".encode()
        client_signature = self._hmac(stored_key, auth_message)
        proof = bytes(a ^ b for a, b in zip(client_key, client_signature))
        self._server_signature = self._hmac(server_key, auth_message)
        self._state = 2
        return f"{without_proof},p={base64.b64encode(proof).decode()}".encode()

    def _verify_server_final(self, server_final: bytes) -> None:
        attrs = _parse_attrs(server_final, self.name)
        if "e" in attrs:
            raise AuthenticationError(f"{self.name}: authentication failed: {attrs['e']}")
        try:
            signature = base64.b64decode(attrs.get("v", ""), validate=True)
        except ValueError:
            signature = b""
        if not signature or not hmac.compare_digest(signature, self._server_signature):
            raise AuthenticationError(f"{self.name}: server signature does not verify")
        self._state = 3

    @property
    def complete(self) -> bool:
        return self._state == 3

    def __repr__(self) -> str:
        return f"ScramMechanism({self.name}, username={self.username!r}, password=<hidden>)"


# ----------------------------------------------------------------------------------- OAUTHBEARER


TokenProvider = Any  # callable returning (an awaitable of) a token, or an object with .token()


async def _maybe_await(value: Any) -> Any:
    if inspect.isawaitable(value):
        return await value
    return value


class OAuthBearerMechanism:
    """RFC 7628 client for Kafka's OAUTHBEARER.

    ``token_provider`` is either an async callable returning the token string, or an object with
    an async ``token()`` method and optionally ``extensions() -> dict[str, str]`` (the shape
    aiokafka users know as ``AbstractTokenProvider``). The token is fetched anew on every
    connection and every re-authentication (KIP-368) so a provider can refresh it.

    On a rejected token the server answers with a JSON error as a challenge; the client must then
    send a lone ``\\x01`` and the server ends the exchange with an error, which the connection
    turns into :class:`AuthenticationError`.
    """

    name = "OAUTHBEARER"
    __slots__ = ("_provider", "_state", "_server_error")

    def __init__(self, token_provider: TokenProvider) -> None:
        if token_provider is None:
            raise ConfigError("sasl_mechanism OAUTHBEARER needs sasl_oauth_token_provider")
        self._provider = token_provider
        self._state = 0
        self._server_error = ""

    async def start(self) -> bytes:
        provider = self._provider
        if hasattr(provider, "token") and callable(provider.token):
            token = await _maybe_await(provider.token())
            get_ext: Callable[[], Any] | None = getattr(provider, "extensions", None)
            extensions = await _maybe_await(get_ext()) if callable(get_ext) else None
        elif callable(provider):
            token = await _maybe_await(provider())
            extensions = None
        else:
            raise ConfigError("sasl_oauth_token_provider must be an async callable or have a token() method")
        if not isinstance(token, str) or not token:
            raise AuthenticationError("OAUTHBEARER: the token provider returned no token")
        parts = [f"auth=Bearer {token}"]
        for key, value in (extensions or {}).items():
            if key == "auth" or not re.fullmatch(r"[A-Za-z]+", key):
                raise ConfigError(f"OAUTHBEARER: invalid SASL extension name {key!r}")
            parts.append(f"{key}={value}")
        self._state = 1
        return ("n,," + "\x01" + "\x01".join(parts) + "\x01\x01").encode()

    def step(self, challenge: bytes) -> bytes | None:
        if self._state == 1 and challenge:
            # The server's JSON error; acknowledge it so the server can fail the exchange.
            self._server_error = challenge.decode("utf-8", "replace")[:500]
            self._state = 2
            return b"\x01"
        if self._state == 2:
            raise AuthenticationError(f"OAUTHBEARER: token rejected: {self._server_error}")
        self._state = 3
        return None

    @property
    def server_error(self) -> str:
        """The server's JSON error description after a rejected token ('' otherwise)."""
        return self._server_error

    @property
    def complete(self) -> bool:
        return self._state == 3

    def __repr__(self) -> str:
        return "OAuthBearerMechanism(token_provider=<hidden>)"


# ---------------------------------------------------------------------------------------- GSSAPI


class GssapiMechanism:
    """RFC 4752 client (Kerberos V5 through GSS-API), as Kafka's brokers speak it.

    The security context's tokens go back and forth until it is established; the server then
    sends a wrapped 4-byte offer (security layers, maximum message size), and the client answers
    wrapped: no security layer (Kafka uses TLS for that), no authorization id. ``host`` is the
    broker's host name (or ``sasl_kerberos_domain_name``): the service principal is
    ``service_name/host@REALM``.
    """

    name = "GSSAPI"
    __slots__ = ("service_name", "host", "principal", "keytab", "_ctx", "_state")

    def __init__(self, service_name: str, host: str, principal: str | None = None,
                 keytab: str | None = None) -> None:
        if not service_name:
            raise ConfigError("sasl_mechanism GSSAPI needs sasl_kerberos_service_name")
        self.service_name = service_name
        self.host = host
        self.principal = principal
        self.keytab = keytab
        self._ctx: Any = None
        self._state = 0  # 0 new, 1 establishing the context, 2 awaiting the offer, 3 answered, 4 done

    async def start(self) -> bytes:
        from kafkaio.gss import open_context

        self._ctx = open_context(self.service_name, self.host, self.principal, self.keytab)
        self._state = 1
        return self._call("gss_init_sec_context", self._ctx.step, None)

    def step(self, challenge: bytes) -> bytes | None:
        ctx = self._ctx
        if self._state == 1:
            if ctx.complete:  # the server's answer to our last context token is the wrapped offer
                self._state = 2
                return self.step(challenge)
            token = self._call("gss_init_sec_context", ctx.step, challenge)
            return token
        if self._state == 2:
            offer = self._call("gss_unwrap", ctx.unwrap, challenge)
            if len(offer) != 4 or not offer[0] & 1:
                raise AuthenticationError("GSSAPI: the server does not offer to go without a security layer")
            reply = self._call("gss_wrap", ctx.wrap, b"\x01\x00\x00\x00")  # no layer, no authzid
            self._state = 3
            return reply
        if self._state == 3:
            self._close()
            self._state = 4
            return None
        raise AuthenticationError("GSSAPI: unexpected server message after the exchange ended")

    def _call(self, what: str, fn: Callable[[Any], bytes], arg: Any) -> bytes:
        try:
            return fn(arg)
        except AuthenticationError:
            self._close()
            raise
        except Exception as exc:  # noqa: BLE001 - the binding's own errors
            self._close()
            raise AuthenticationError(f"GSSAPI ({self.service_name}/{self.host}): {what}: {exc}") from None

    def _close(self) -> None:
        if self._ctx is not None:
            self._ctx.close()

    @property
    def complete(self) -> bool:
        return self._state == 4

    def __repr__(self) -> str:
        return (f"GssapiMechanism(service={self.service_name!r}, host={self.host!r}, "
                f"principal={self.principal!r}, keytab={self.keytab!r})")


# -------------------------------------------------------------------------------------- factory


class SaslSettings(Protocol):
    """The settings a SASL mechanism is made from (every client config has them)."""

    @property
    def sasl_mechanism(self) -> str | None: ...
    @property
    def sasl_plain_username(self) -> str | None: ...
    @property
    def sasl_plain_password(self) -> str | None: ...
    @property
    def sasl_oauth_token_provider(self) -> Any: ...
    @property
    def sasl_kerberos_service_name(self) -> str: ...
    @property
    def sasl_kerberos_domain_name(self) -> str | None: ...
    @property
    def sasl_kerberos_principal(self) -> str | None: ...
    @property
    def sasl_kerberos_keytab(self) -> str | None: ...


def create_mechanism(config: SaslSettings, host: str) -> SaslMechanism:
    """Build the mechanism named by ``config.sasl_mechanism`` from the config's credentials, for a
    connection to broker host ``host``."""
    name = (config.sasl_mechanism or "PLAIN").upper()
    username = config.sasl_plain_username
    password = config.sasl_plain_password
    if name == "PLAIN":
        return PlainMechanism(username or "", password)
    if name in _SCRAM_HASHES:
        return ScramMechanism(name, username or "", password)
    if name == "OAUTHBEARER":
        return OAuthBearerMechanism(config.sasl_oauth_token_provider)
    if name == "GSSAPI":
        return GssapiMechanism(config.sasl_kerberos_service_name, config.sasl_kerberos_domain_name or host,
                               config.sasl_kerberos_principal, config.sasl_kerberos_keytab)
    raise ConfigError(f"sasl_mechanism {name!r} is not supported (choose one of {', '.join(MECHANISMS)})")

