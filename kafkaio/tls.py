"""TLS for broker connections: building the ``ssl.SSLContext`` from the configuration.

``ssl_context`` wins when given. Otherwise a context is made from ``ssl_cafile`` (trusted CAs;
the system store when absent), ``ssl_certfile``/``ssl_keyfile`` (a client certificate for mutual
TLS), with hostname verification on unless ``ssl_check_hostname`` is False.
"""
from __future__ import annotations

import ssl
from typing import Protocol

from kafkaio.errors import ConfigError, SslAuthenticationError

__all__ = ["SslAuthenticationError", "TlsSettings", "build_ssl_context", "describe_tls_failure", "security_protocol"]

TLS_PROTOCOLS = ("SSL", "SASL_SSL")
SASL_PROTOCOLS = ("SASL_PLAINTEXT", "SASL_SSL")
SECURITY_PROTOCOLS = ("PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL")


class TlsSettings(Protocol):
    """The settings TLS is made from (every client config has them)."""

    @property
    def security_protocol(self) -> str: ...
    @property
    def ssl_context(self) -> ssl.SSLContext | None: ...
    @property
    def ssl_cafile(self) -> str | None: ...
    @property
    def ssl_certfile(self) -> str | None: ...
    @property
    def ssl_keyfile(self) -> str | None: ...
    @property
    def ssl_password(self) -> str | None: ...
    @property
    def ssl_check_hostname(self) -> bool: ...


def security_protocol(config: TlsSettings) -> str:
    """The configured ``security_protocol``, upper-cased and checked."""
    proto = str(config.security_protocol or "PLAINTEXT").upper()
    if proto not in SECURITY_PROTOCOLS:
        raise ConfigError(f"security_protocol must be one of {', '.join(SECURITY_PROTOCOLS)}, not {proto!r}")
    return proto


def build_ssl_context(config: TlsSettings) -> ssl.SSLContext | None:
    """The context to wrap connections in, or None when ``security_protocol`` does not use TLS."""
    if security_protocol(config) not in TLS_PROTOCOLS:
        return None
    ctx = config.ssl_context
    if ctx is not None:
        if not isinstance(ctx, ssl.SSLContext):
            raise ConfigError("ssl_context must be an ssl.SSLContext")
        return ctx
    cafile, certfile, keyfile = config.ssl_cafile, config.ssl_certfile, config.ssl_keyfile
    try:
        ctx = ssl.create_default_context(ssl.Purpose.SERVER_AUTH, cafile=cafile)
        if certfile:
            ctx.load_cert_chain(certfile, keyfile, password=config.ssl_password)
    except (OSError, ssl.SSLError) as exc:
        # Name the files, never a key password.
        raise ConfigError(f"cannot load TLS files (ssl_cafile={cafile!r}, ssl_certfile={certfile!r}, "
                          f"ssl_keyfile={keyfile!r}): {exc.__class__.__name__}: {getattr(exc, 'strerror', None) or exc}") from None
    ctx.check_hostname = bool(config.ssl_check_hostname)
    return ctx


def describe_tls_failure(host: str, port: int, exc: BaseException) -> SslAuthenticationError:
    """A clear, non-retriable error for a failed TLS handshake with ``host:port``."""
    ssl_reason = str(getattr(exc, "reason", None) or "")
    if isinstance(exc, ssl.SSLCertVerificationError):
        reason = f"certificate verify failed: {exc.verify_message or exc.reason}"
        hint = " (check ssl_cafile/ssl_context, and ssl_check_hostname for name mismatches)"
    elif "ALERT" in ssl_reason:
        # The broker sent a TLS alert: it refused us (most often a missing or untrusted client
        # certificate when ssl.client.auth=required).
        reason = f"the broker refused the session: {ssl_reason.lower().replace('_', ' ')}"
        hint = " (check ssl_certfile/ssl_keyfile: does the broker require and trust a client certificate?)"
    else:
        reason = ssl_reason or str(exc)
        hint = " (is the listener really TLS, and do both sides share a TLS version and cipher?)"
    return SslAuthenticationError(f"TLS handshake with {host}:{port} failed: {reason}{hint}")
