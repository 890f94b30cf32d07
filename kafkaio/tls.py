"""TLS for broker connections: building the ``ssl.SSLContext`` from the configuration.

``ssl_context`` wins when given. Otherwise a context is made from ``ssl_cafile`` (trusted CAs;
the system store when absent), ``ssl_certfile``/``ssl_keyfile`` (a client certificate for mutual
TLS), with hostname verification on unless ``ssl_check_hostname`` is False.
"""
from __future__ import annotations

import ssl
from typing import Any

from kafkaio.errors import AuthenticationError, ConfigError

TLS_PROTOCOLS = ("SSL", "SASL_SSL")
SASL_PROTOCOLS = ("SASL_PLAINTEXT", "SASL_SSL")
SECURITY_PROTOCOLS = ("PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL")


class SslAuthenticationError(AuthenticationError):
    """The TLS handshake failed (untrusted certificate, wrong host name, protocol mismatch).

    Not retriable: the same handshake will fail the same way. (Shim: belongs in kafkaio.errors.)
    """

    errno = -1
    code_name = None


def security_protocol(config: Any) -> str:
    """The configured ``security_protocol``, upper-cased and checked."""
    proto = str(getattr(config, "security_protocol", None) or "PLAINTEXT").upper()
    if proto not in SECURITY_PROTOCOLS:
        raise ConfigError(f"security_protocol must be one of {', '.join(SECURITY_PROTOCOLS)}, not {proto!r}")
    return proto


def build_ssl_context(config: Any) -> ssl.SSLContext | None:
    """The context to wrap connections in, or None when ``security_protocol`` does not use TLS."""
    if security_protocol(config) not in TLS_PROTOCOLS:
        return None
    ctx = getattr(config, "ssl_context", None)
    if ctx is not None:
        if not isinstance(ctx, ssl.SSLContext):
            raise ConfigError("ssl_context must be an ssl.SSLContext")
        return ctx
    cafile = getattr(config, "ssl_cafile", None)
    certfile = getattr(config, "ssl_certfile", None)
    keyfile = getattr(config, "ssl_keyfile", None)
    try:
        ctx = ssl.create_default_context(ssl.Purpose.SERVER_AUTH, cafile=cafile)
        if certfile:
            ctx.load_cert_chain(certfile, keyfile, password=getattr(config, "ssl_password", None))
    except (OSError, ssl.SSLError) as exc:
        # Name the files, never a key password.
        raise ConfigError(f"cannot load TLS files (ssl_cafile={cafile!r}, ssl_certfile={certfile!r}, "
                          f"ssl_keyfile={keyfile!r}): {exc.__class__.__name__}: {getattr(exc, 'strerror', None) or exc}") from None
    check = getattr(config, "ssl_check_hostname", True)
    ctx.check_hostname = True if check is None else bool(check)
    return ctx


def describe_tls_failure(host: str, port: int, exc: BaseException) -> SslAuthenticationError:
    """A clear, non-retriable error for a failed TLS handshake with ``host:port``."""
    if isinstance(exc, ssl.SSLCertVerificationError):
        reason = f"certificate verify failed: {exc.verify_message or exc.reason}"
        hint = " (check ssl_cafile/ssl_context, and ssl_check_hostname for name mismatches)"
    elif "ALERT" in (getattr(exc, "reason", None) or ""):
        # The broker sent a TLS alert: it refused us (most often a missing or untrusted client
        # certificate when ssl.client.auth=required).
        reason = f"the broker refused the session: {exc.reason.lower().replace('_', ' ')}"
        hint = " (check ssl_certfile/ssl_keyfile: does the broker require and trust a client certificate?)"
    else:
        reason = getattr(exc, "reason", None) or str(exc)
        hint = " (is the listener really TLS, and do both sides share a TLS version and cipher?)"
    return SslAuthenticationError(f"TLS handshake with {host}:{port} failed: {reason}{hint}")
