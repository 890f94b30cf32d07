"""A local OpenID Connect provider for tests: a token endpoint for the OAuth 2 client-credentials
grant and the JWKS endpoint that publishes its signing key, over HTTP on loopback.

It issues RS256 JWTs that a Kafka broker configured with ``OAuthBearerValidatorCallbackHandler``
(``sasl.oauthbearer.jwks.endpoint.url`` = :attr:`LocalOidcProvider.jwks_url`,
``sasl.oauthbearer.expected.issuer`` = :attr:`LocalOidcProvider.base_url`, the audience given)
accepts. Needs the ``cryptography`` package.
"""
from __future__ import annotations

import base64
import json
import threading
import time
import urllib.parse
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

__all__ = ["LocalOidcProvider"]


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _uint(n: int) -> bytes:
    return n.to_bytes((n.bit_length() + 7) // 8, "big")


class LocalOidcProvider:
    """A token endpoint (client-credentials grant, HTTP Basic client authentication of
    ``clients``: id -> secret) issuing RS256 JWTs for ``audience`` that live ``lifetime_s`` seconds,
    and the JWKS endpoint that publishes their key. ``fail_with`` = an HTTP status makes the token
    endpoint answer every request with it (e.g. 503)."""

    def __init__(self, clients: dict[str, str], audience: str = "kafka", lifetime_s: int = 3600) -> None:
        from cryptography.hazmat.primitives.asymmetric import rsa

        self.clients = dict(clients)
        self.audience = audience
        self.lifetime_s = lifetime_s
        self.fail_with: int | None = None
        self.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.kid = uuid.uuid4().hex[:8]
        self.tokens_issued = 0
        self.refused = 0
        self.scopes: list[str | None] = []
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._thread = threading.Thread(target=self._server.serve_forever, name="oidc-provider", daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    @property
    def token_url(self) -> str:
        return self.base_url + "/token"

    @property
    def jwks_url(self) -> str:
        return self.base_url + "/jwks"

    def __enter__(self) -> "LocalOidcProvider":
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    def jwks(self) -> dict[str, Any]:
        numbers = self.key.public_key().public_numbers()
        return {"keys": [{"kty": "RSA", "kid": self.kid, "use": "sig", "alg": "RS256",
                          "n": _b64url(_uint(numbers.n)), "e": _b64url(_uint(numbers.e))}]}

    def issue(self, subject: str) -> str:
        """A signed token for ``subject``."""
        from cryptography.hazmat.primitives import hashes
        from cryptography.hazmat.primitives.asymmetric import padding

        now = int(time.time())
        header = {"alg": "RS256", "typ": "JWT", "kid": self.kid}
        claims = {"iss": self.base_url, "sub": subject, "aud": self.audience, "iat": now, "nbf": now - 5,
                  "exp": now + self.lifetime_s, "scope": "kafka"}
        signing_input = f"{_b64url(json.dumps(header).encode())}.{_b64url(json.dumps(claims).encode())}"
        signature = self.key.sign(signing_input.encode(), padding.PKCS1v15(), hashes.SHA256())
        return f"{signing_input}.{_b64url(signature)}"

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        provider = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:  # quiet
                pass

            def _answer(self, status: int, body: dict[str, Any]) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self) -> None:
                if self.path == "/jwks":
                    self._answer(200, provider.jwks())
                else:
                    self._answer(404, {"error": "not_found"})

            def do_POST(self) -> None:
                form = urllib.parse.parse_qs(self.rfile.read(int(self.headers.get("Content-Length", 0))).decode())
                basic = self.headers.get("Authorization", "")
                try:
                    user, _, secret = base64.b64decode(basic.removeprefix("Basic ")).decode().partition(":")
                except ValueError:
                    user, secret = "", ""
                user, secret = urllib.parse.unquote(user), urllib.parse.unquote(secret)
                if provider.fail_with is not None:
                    self._answer(provider.fail_with, {"error": "temporarily_unavailable"})
                elif self.path != "/token" or form.get("grant_type") != ["client_credentials"]:
                    self._answer(400, {"error": "unsupported_grant_type"})
                elif provider.clients.get(user) != secret or not secret:
                    provider.refused += 1
                    self._answer(401, {"error": "invalid_client", "error_description": "client authentication failed"})
                else:
                    provider.tokens_issued += 1
                    scope = form.get("scope")
                    provider.scopes.append(scope[0] if scope else None)
                    self._answer(200, {"access_token": provider.issue(user), "token_type": "Bearer",
                                       "expires_in": provider.lifetime_s})

        return Handler
