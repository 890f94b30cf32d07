"""OAUTHBEARER tokens from an OpenID Connect / OAuth 2 token endpoint (KIP-768's client side).

:class:`ClientCredentialsTokenProvider` runs the OAuth 2 client-credentials grant (RFC 6749 4.4)
against ``token_endpoint_url``, as Java's ``OAuthBearerLoginCallbackHandler`` and librdkafka's
``sasl.oauthbearer.method=oidc`` do: client id and secret in HTTP Basic authentication, an
optional ``scope``; the ``access_token`` of the answer is the token. It is kept and handed to
every new connection until ``refresh_window_factor`` of its lifetime (``expires_in``, else the
JWT's ``exp`` claim) has passed; then the next connection fetches a new one. Concurrent
connections share one request.

A client builds one from its settings (``sasl_oauthbearer_token_endpoint_url`` and friends), or
an application passes one as ``sasl_oauth_token_provider``.
"""
from __future__ import annotations

import asyncio
import base64
import json
import ssl
import time
import urllib.error
import urllib.parse
import urllib.request
from typing import Any

from kafkaio.errors import AuthenticationError, KafkaConnectionError

__all__ = ["ClientCredentialsTokenProvider"]

_ERROR_BODY_LIMIT = 300


class ClientCredentialsTokenProvider:
    """Access tokens by the client-credentials grant, cached for most of their lifetime."""

    def __init__(self, token_endpoint_url: str, client_id: str, client_secret: str, scope: str | None = None,
                 *, timeout_s: float = 10.0, refresh_window_factor: float = 0.8,
                 ssl_context: ssl.SSLContext | None = None) -> None:
        if not token_endpoint_url.startswith(("https://", "http://")):
            raise ValueError(f"token_endpoint_url must be an http(s) URL, not {token_endpoint_url!r}")
        if not 0.5 <= refresh_window_factor <= 1.0:
            raise ValueError("refresh_window_factor must be between 0.5 and 1.0")
        self.token_endpoint_url = token_endpoint_url
        self.client_id = client_id
        self._secret = client_secret
        self.scope = scope
        self.timeout_s = timeout_s
        self.refresh_window_factor = refresh_window_factor
        self._ssl_context = ssl_context
        self._token: str | None = None
        self._refresh_at = 0.0
        self._fetching: asyncio.Future[str] | None = None
        self.fetches = 0  # token requests answered with a token

    async def token(self) -> str:
        """A valid access token: the cached one, or a new one from the endpoint."""
        if self._token is not None and time.monotonic() < self._refresh_at:
            return self._token
        if self._fetching is None or self._fetching.done():
            self._fetching = asyncio.ensure_future(self._fetch())
        # shielded: one caller's cancellation must not fail the others waiting on the same request
        return await asyncio.shield(self._fetching)

    async def _fetch(self) -> str:
        started = time.monotonic()
        status, body = await asyncio.to_thread(self._post)
        if status != 200:
            raise self._refusal(status, body)
        try:
            answer = json.loads(body)
            token = answer["access_token"]
        except (ValueError, KeyError, TypeError):
            raise AuthenticationError(f"OAUTHBEARER: the token endpoint {self.token_endpoint_url} answered "
                                      f"without an access_token") from None
        if not isinstance(token, str) or not token:
            raise AuthenticationError(f"OAUTHBEARER: the token endpoint {self.token_endpoint_url} answered "
                                      f"an empty access_token")
        lifetime = _lifetime_s(answer.get("expires_in"), token)
        self._token = token
        self._refresh_at = started + lifetime * self.refresh_window_factor
        self.fetches += 1
        return token

    def _post(self) -> tuple[int, bytes]:
        """The token request (blocking; run in a worker thread)."""
        form = {"grant_type": "client_credentials"}
        if self.scope:
            form["scope"] = self.scope
        # RFC 6749 2.3.1: both parts form-encoded before the Basic encoding
        pair = f"{urllib.parse.quote(self.client_id, safe='')}:{urllib.parse.quote(self._secret, safe='')}"
        request = urllib.request.Request(
            self.token_endpoint_url, data=urllib.parse.urlencode(form).encode(), method="POST",
            headers={"Authorization": "Basic " + base64.b64encode(pair.encode()).decode(),
                     "Content-Type": "application/x-www-form-urlencoded", "Accept": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=self.timeout_s, context=self._ssl_context) as resp:
                return resp.status, resp.read()
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read()
        except (urllib.error.URLError, OSError, TimeoutError) as exc:
            reason = getattr(exc, "reason", exc)
            raise KafkaConnectionError(f"OAUTHBEARER: the token endpoint {self.token_endpoint_url} could not be "
                                       f"reached: {reason}") from None

    def _refusal(self, status: int, body: bytes) -> Exception:
        """The error for a non-200 answer: the endpoint's own ``error``/``error_description``."""
        detail = body[:_ERROR_BODY_LIMIT].decode("utf-8", "replace")
        try:
            parsed = json.loads(body)
            if isinstance(parsed, dict) and "error" in parsed:
                detail = " ".join(str(parsed[k]) for k in ("error", "error_description") if parsed.get(k))
        except ValueError:
            pass
        message = (f"OAUTHBEARER: the token endpoint {self.token_endpoint_url} refused client "
                   f"{self.client_id!r} (HTTP {status}): {detail}")
        if status >= 500 or status == 429:
            return KafkaConnectionError(message)  # the endpoint's trouble: a later attempt may succeed
        return AuthenticationError(message)

    def __repr__(self) -> str:
        return (f"ClientCredentialsTokenProvider(token_endpoint_url={self.token_endpoint_url!r}, "
                f"client_id={self.client_id!r}, client_secret=<hidden>, scope={self.scope!r})")


def _lifetime_s(expires_in: Any, token: str) -> float:
    """Seconds the token is valid: ``expires_in`` if the endpoint gave it, else the JWT's ``exp``
    claim, else a minute (the token is then fetched again for each connection after that)."""
    if isinstance(expires_in, (int, float)) and expires_in > 0:
        return float(expires_in)
    if isinstance(expires_in, str) and expires_in.isdigit():
        return float(expires_in)
    try:
        payload = token.split(".")[1]
        claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
        return max(0.0, float(claims["exp"]) - time.time())
    except (IndexError, ValueError, KeyError, TypeError):
        return 60.0
