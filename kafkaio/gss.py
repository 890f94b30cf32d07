"""Kerberos security contexts for SASL/GSSAPI: the ``gssapi`` package when it is importable, else
a ctypes binding to the system's MIT Kerberos library (:mod:`kafkaio._gss_ctypes`).

Both give a :class:`GssContext`: a client context towards ``service@host`` with the credentials of
a principal from a keytab, or those of the ticket cache (``KRB5CCNAME``, ``kinit``).
"""
from __future__ import annotations

from typing import Any, Protocol

from kafkaio.errors import AuthenticationError, ConfigError

__all__ = ["GssContext", "backend_name", "open_context"]


class GssContext(Protocol):
    """What the GSSAPI mechanism needs of a security context."""

    @property
    def complete(self) -> bool: ...

    def step(self, token: bytes | None) -> bytes: ...

    def unwrap(self, data: bytes) -> bytes: ...

    def wrap(self, data: bytes) -> bytes: ...

    def close(self) -> None: ...


class _PackageContext:
    """:class:`GssContext` on the ``gssapi`` package (python-gssapi)."""

    def __init__(self, gssapi: Any, service: str, host: str, principal: str | None, keytab: str | None) -> None:
        self._gssapi = gssapi
        target = gssapi.Name(f"{service}@{host}", gssapi.NameType.hostbased_service)
        creds = None
        if principal is not None or keytab is not None:
            store = {"client_keytab": keytab, "ccache": f"MEMORY:kafkaio-{id(self)}"} if keytab else None
            desired = gssapi.Name(principal, gssapi.NameType.user) if principal else None
            creds = gssapi.Credentials(name=desired, usage="initiate", store=store)
        flags = (gssapi.RequirementFlag.mutual_authentication | gssapi.RequirementFlag.out_of_sequence_detection
                 | gssapi.RequirementFlag.integrity)
        self._ctx = gssapi.SecurityContext(name=target, creds=creds, mech=gssapi.MechType.kerberos,
                                           flags=flags, usage="initiate")

    @property
    def complete(self) -> bool:
        return bool(self._ctx.complete)

    def step(self, token: bytes | None) -> bytes:
        out: bytes | None = self._ctx.step(token)  # the gssapi package is untyped
        return out or b""

    def unwrap(self, data: bytes) -> bytes:
        message: bytes = self._ctx.unwrap(data).message
        return message

    def wrap(self, data: bytes) -> bytes:
        message: bytes = self._ctx.wrap(data, False).message
        return message

    def close(self) -> None:
        self._ctx = None


def _package() -> Any:
    try:
        import gssapi  # type: ignore[import-not-found]  # stub gap: optional, untyped
    except ImportError:
        return None
    return gssapi


def backend_name() -> str:
    """Which binding :func:`open_context` uses: ``"gssapi"`` (the package) or ``"ctypes"``."""
    return "gssapi" if _package() is not None else "ctypes"


def open_context(service: str, host: str, principal: str | None, keytab: str | None) -> GssContext:
    """A client context towards ``service@host``. Raises :class:`ConfigError` when no Kerberos
    library is installed, :class:`AuthenticationError` when the credentials cannot be had."""
    gssapi = _package()
    try:
        if gssapi is not None:
            return _PackageContext(gssapi, service, host, principal, keytab)
        from kafkaio._gss_ctypes import GssCtypesContext, GssError

        try:
            return GssCtypesContext(service, host, principal, keytab)
        except GssError as exc:
            raise AuthenticationError(f"GSSAPI: {exc}") from None
    except OSError as exc:
        raise ConfigError(f"sasl_mechanism GSSAPI needs MIT Kerberos (libgssapi_krb5.so.2) or the gssapi "
                          f"package: {exc}") from None
    except (AuthenticationError, ConfigError):
        raise
    except Exception as exc:  # noqa: BLE001 - the gssapi package's own errors (GSSError and others)
        raise AuthenticationError(f"GSSAPI: {exc}") from None
