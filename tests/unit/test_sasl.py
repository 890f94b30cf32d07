"""SASL mechanisms as sans-IO exchanges: RFC vectors and a small independent SCRAM server."""
from __future__ import annotations

import base64
import hashlib
import hmac
import os

import pytest

from kafkaio.errors import AuthenticationError, ConfigError
from kafkaio.sasl import (
    GssapiMechanism,
    OAuthBearerMechanism,
    PlainMechanism,
    ScramMechanism,
    create_mechanism,
)


class _Cfg:
    def __init__(self, **kw: object) -> None:
        self.sasl_mechanism = kw.get("sasl_mechanism")
        self.sasl_plain_username = kw.get("sasl_plain_username")
        self.sasl_plain_password = kw.get("sasl_plain_password")
        self.sasl_oauth_token_provider = kw.get("sasl_oauth_token_provider")
        self.sasl_kerberos_service_name = kw.get("sasl_kerberos_service_name", "kafka")
        self.sasl_kerberos_domain_name = kw.get("sasl_kerberos_domain_name")
        self.sasl_kerberos_principal = kw.get("sasl_kerberos_principal")
        self.sasl_kerberos_keytab = kw.get("sasl_kerberos_keytab")


async def test_plain_message_and_completion() -> None:
    mech = PlainMechanism("alice", "s3cret")
    assert await mech.start() == b"\0alice\0s3cret"
    assert not mech.complete
    assert mech.step(b"") is None
    assert mech.complete


def test_plain_rejects_nul_and_missing_password() -> None:
    with pytest.raises(ConfigError):
        PlainMechanism("a\0b", "x")
    with pytest.raises(ConfigError):
        PlainMechanism("alice", None)  # type: ignore[arg-type]


async def test_scram_sha256_rfc7677_vector() -> None:
    mech = ScramMechanism("SCRAM-SHA-256", "user", "pencil", nonce="rOprNGfwEbeRWgbNEkqO")
    assert await mech.start() == b"n,,n=user,r=rOprNGfwEbeRWgbNEkqO"
    server_first = b"r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096"
    client_final = mech.step(server_first)
    assert client_final == (
        b"c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,"
        b"p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ="
    )
    assert mech.step(b"v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=") is None
    assert mech.complete


async def test_scram_sha256_rejects_forged_server_signature() -> None:
    mech = ScramMechanism("SCRAM-SHA-256", "user", "pencil", nonce="rOprNGfwEbeRWgbNEkqO")
    await mech.start()
    mech.step(b"r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096")
    forged = base64.b64encode(b"\0" * 32)
    with pytest.raises(AuthenticationError, match="SCRAM-SHA-256"):
        mech.step(b"v=" + forged)
    assert not mech.complete


class _ScramServer:
    """An independent RFC 5802 server side, written from the RFC, to check the client against."""

    def __init__(self, hash_name: str, password: str, iterations: int = 4096) -> None:
        self.hash_name = hash_name
        self.salt = os.urandom(16)
        self.iterations = iterations
        salted = hashlib.pbkdf2_hmac(hash_name, password.encode(), self.salt, iterations)
        client_key = hmac.new(salted, b"Client Key", hash_name).digest()
        self.stored_key = hashlib.new(hash_name, client_key).digest()
        self.server_key = hmac.new(salted, b"Server Key", hash_name).digest()

    def first(self, client_first: bytes) -> bytes:
        assert client_first.startswith(b"n,,")
        self.client_first_bare = client_first[3:].decode()
        attrs = dict(p.split("=", 1) for p in self.client_first_bare.split(","))
        self.user = attrs["n"]
        self.nonce = attrs["r"] + "SERVERNONCE"
        salt = base64.b64encode(self.salt).decode()
        self.server_first = f"r={self.nonce},s={salt},i={self.iterations}"
        return self.server_first.encode()

    def final(self, client_final: bytes) -> tuple[bool, bytes]:
        text = client_final.decode()
        without_proof, proof_part = text.rsplit(",p=", 1)
        auth = f"{self.client_first_bare},{self.server_first},{without_proof}".encode()
        signature = hmac.new(self.stored_key, auth, self.hash_name).digest()
        client_key = bytes(a ^ b for a, b in zip(base64.b64decode(proof_part), signature))
        ok = hashlib.new(self.hash_name, client_key).digest() == self.stored_key
        server_sig = hmac.new(self.server_key, auth, self.hash_name).digest()
        return ok, b"v=" + base64.b64encode(server_sig)


@pytest.mark.parametrize("mechanism,hash_name", [("SCRAM-SHA-256", "sha256"), ("SCRAM-SHA-512", "sha512")])
async def test_scram_round_trip_against_independent_server(mechanism: str, hash_name: str) -> None:
    server = _ScramServer(hash_name, "pa,ss=word")
    mech = ScramMechanism(mechanism, "us=er,x", "pa,ss=word")
    client_first = await mech.start()
    server_first = server.first(client_first)
    assert server.user == "us=3Der=2Cx"  # RFC 5802 saslname escaping
    ok, server_final = server.final(mech.step(server_first))
    assert ok
    assert mech.step(server_final) is None
    assert mech.complete


async def test_scram_wrong_password_fails_at_server_and_client() -> None:
    server = _ScramServer("sha512", "right")
    mech = ScramMechanism("SCRAM-SHA-512", "bob", "wrong")
    server_first = server.first(await mech.start())
    ok, server_final = server.final(mech.step(server_first))
    assert not ok
    with pytest.raises(AuthenticationError, match="SCRAM-SHA-512") as info:
        mech.step(server_final)
    assert "wrong" not in str(info.value) and "right" not in str(info.value)


@pytest.mark.parametrize(
    "server_first",
    [
        b"r=OTHERNONCE,s=AAAA,i=4096",  # nonce does not extend ours
        b"r=abcXYZ,s=AAAA,i=10",  # too few iterations
        b"r=abcXYZ,s=!!notbase64,i=4096",
        b"garbage",
        b"\xff\xfe",
        b"e=unknown-user",
    ],
)
async def test_scram_malformed_server_first(server_first: bytes) -> None:
    mech = ScramMechanism("SCRAM-SHA-256", "u", "p", nonce="abc")
    await mech.start()
    with pytest.raises(AuthenticationError, match="SCRAM-SHA-256"):
        mech.step(server_first)


async def test_oauthbearer_with_async_callable_and_provider_object() -> None:
    async def provider() -> str:
        return "tok.en.value"

    mech = OAuthBearerMechanism(provider)
    assert await mech.start() == b"n,,\x01auth=Bearer tok.en.value\x01\x01"
    assert mech.step(b"") is None
    assert mech.complete

    class Provider:
        async def token(self) -> str:
            return "abc"

        def extensions(self) -> dict[str, str]:
            return {"traceId": "42"}

    mech = OAuthBearerMechanism(Provider())
    assert await mech.start() == b"n,,\x01auth=Bearer abc\x01traceId=42\x01\x01"


async def test_oauthbearer_rejected_token_acknowledges_then_fails() -> None:
    async def provider() -> str:
        return "secret-token"

    mech = OAuthBearerMechanism(provider)
    await mech.start()
    assert mech.step(b'{"status":"invalid_token"}') == b"\x01"
    with pytest.raises(AuthenticationError, match="OAUTHBEARER") as info:
        mech.step(b"")
    assert "secret-token" not in str(info.value)


async def test_oauthbearer_empty_token_is_an_error() -> None:
    async def provider() -> str:
        return ""

    with pytest.raises(AuthenticationError, match="OAUTHBEARER"):
        await OAuthBearerMechanism(provider).start()


def test_create_mechanism_and_reprs_hide_secrets() -> None:
    for name in ("PLAIN", "SCRAM-SHA-256", "scram-sha-512"):
        mech = create_mechanism(_Cfg(sasl_mechanism=name, sasl_plain_username="u",
                                     sasl_plain_password="hunter2"), "broker1")
        assert mech.name == name.upper()
        assert "hunter2" not in repr(mech)

    async def provider() -> str:
        return "tkn"

    mech = create_mechanism(_Cfg(sasl_mechanism="OAUTHBEARER", sasl_oauth_token_provider=provider), "broker1")
    assert mech.name == "OAUTHBEARER"
    gss = create_mechanism(_Cfg(sasl_mechanism="GSSAPI", sasl_kerberos_keytab="/k/alice.keytab",
                                sasl_kerberos_principal="alice@R"), "broker1")
    assert isinstance(gss, GssapiMechanism) and (gss.service_name, gss.host) == ("kafka", "broker1")
    assert create_mechanism(_Cfg(sasl_mechanism="GSSAPI", sasl_kerberos_domain_name="kafka.example"),
                            "broker1").host == "kafka.example"  # type: ignore[attr-defined]
    with pytest.raises(ConfigError, match="OAUTHBEARER"):
        create_mechanism(_Cfg(sasl_mechanism="OAUTHBEARER"), "broker1")


class _FakeGss:
    """A GssContext that needs two context tokens, then unwraps/wraps by tagging."""

    def __init__(self, offer_ok: bool = True) -> None:
        self.complete = False
        self.steps: list[bytes | None] = []
        self.closed = False

    def step(self, token: bytes | None) -> bytes:
        self.steps.append(token)
        if token is None:
            return b"ap-req"
        self.complete = True
        return b""

    def unwrap(self, data: bytes) -> bytes:
        assert data.startswith(b"wrapped:")
        return data[len(b"wrapped:"):]

    def wrap(self, data: bytes) -> bytes:
        return b"wrapped:" + data

    def close(self) -> None:
        self.closed = True


async def test_gssapi_establishes_the_context_then_answers_the_offer_without_a_layer(monkeypatch) -> None:
    ctx = _FakeGss()
    monkeypatch.setattr("kafkaio.gss.open_context", lambda *args: ctx)
    mech = GssapiMechanism("kafka", "broker1")
    assert await mech.start() == b"ap-req"
    assert mech.step(b"ap-rep") == b""  # mutual authentication done; the server's turn
    assert mech.step(b"wrapped:\x01\x00\x10\x00") == b"wrapped:\x01\x00\x00\x00"
    assert not mech.complete
    assert mech.step(b"") is None and mech.complete and ctx.closed
    assert ctx.steps == [None, b"ap-rep"]


async def test_gssapi_refuses_a_server_that_insists_on_a_security_layer(monkeypatch) -> None:
    ctx = _FakeGss()
    monkeypatch.setattr("kafkaio.gss.open_context", lambda *args: ctx)
    mech = GssapiMechanism("kafka", "broker1")
    await mech.start()
    mech.step(b"ap-rep")
    with pytest.raises(AuthenticationError, match="security layer"):
        mech.step(b"wrapped:\x04\x00\x10\x00")  # integrity only


async def test_a_gss_failure_is_an_authentication_error_naming_the_service_principal(monkeypatch) -> None:
    class Failing(_FakeGss):
        def step(self, token: bytes | None) -> bytes:
            raise RuntimeError("Server not found in Kerberos database")

    ctx = Failing()
    monkeypatch.setattr("kafkaio.gss.open_context", lambda *args: ctx)
    mech = GssapiMechanism("kafka", "broker1", "alice@R", "/k/alice.keytab")
    with pytest.raises(AuthenticationError, match="kafka/broker1.*Server not found") as info:
        await mech.start()
    assert not info.value.retriable and ctx.closed
    assert "alice.keytab" in repr(mech)  # a path, not a secret
