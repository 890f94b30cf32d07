"""A minimal ctypes binding to MIT Kerberos's GSS-API (``libgssapi_krb5.so.2``): only the calls
Kafka's GSSAPI exchange needs (credentials from a keytab or a ticket cache, a host-based service
name, ``gss_init_sec_context``, ``gss_wrap``/``gss_unwrap`` of the security-layer message, release).

Used by :mod:`kafkaio.gss` when the ``gssapi`` package is not importable (it needs the Kerberos
headers to build); the runtime library is all this needs.
"""
from __future__ import annotations

import ctypes
import ctypes.util
from ctypes import POINTER, Structure, byref, c_char_p, c_int, c_size_t, c_uint32, c_void_p

__all__ = ["GssCtypesContext", "GssError", "load"]

GSS_C_MUTUAL_FLAG = 2
GSS_C_SEQUENCE_FLAG = 8
GSS_C_INTEG_FLAG = 32
GSS_C_INITIATE = 1
GSS_C_INDEFINITE = 0xFFFFFFFF
GSS_S_COMPLETE = 0
GSS_S_CONTINUE_NEEDED = 1
_GSS_C_GSS_CODE = 1
_GSS_C_MECH_CODE = 2
_ROUTINE_ERROR_MASK = 0xFF << 16
_CALLING_ERROR_MASK = 0xFF << 24


class GssError(Exception):
    """A GSS-API call failed; the message is the library's own (``gss_display_status``)."""


class _Buffer(Structure):
    _fields_ = [("length", c_size_t), ("value", c_void_p)]


class _Oid(Structure):
    _fields_ = [("length", c_uint32), ("elements", c_void_p)]


class _KeyValue(Structure):
    _fields_ = [("key", c_char_p), ("value", c_char_p)]


class _KeyValueSet(Structure):
    _fields_ = [("count", c_uint32), ("elements", POINTER(_KeyValue))]


_lib: ctypes.CDLL | None = None


def load() -> ctypes.CDLL:
    """The library, its functions typed (raises :class:`OSError` when it is not installed)."""
    global _lib
    if _lib is not None:
        return _lib
    lib = ctypes.CDLL(ctypes.util.find_library("gssapi_krb5") or "libgssapi_krb5.so.2")
    u32p = POINTER(c_uint32)
    lib.gss_import_name.argtypes = [u32p, POINTER(_Buffer), POINTER(_Oid), POINTER(c_void_p)]
    lib.gss_acquire_cred_from.argtypes = [u32p, c_void_p, c_uint32, c_void_p, c_int,
                                          POINTER(_KeyValueSet), POINTER(c_void_p), c_void_p, u32p]
    lib.gss_init_sec_context.argtypes = [u32p, c_void_p, POINTER(c_void_p), c_void_p, POINTER(_Oid), c_uint32,
                                         c_uint32, c_void_p, POINTER(_Buffer), c_void_p, POINTER(_Buffer),
                                         u32p, u32p]
    lib.gss_wrap.argtypes = [u32p, c_void_p, c_int, c_uint32, POINTER(_Buffer), POINTER(c_int), POINTER(_Buffer)]
    lib.gss_unwrap.argtypes = [u32p, c_void_p, POINTER(_Buffer), POINTER(_Buffer), POINTER(c_int), u32p]
    lib.gss_release_buffer.argtypes = [u32p, POINTER(_Buffer)]
    lib.gss_release_name.argtypes = [u32p, POINTER(c_void_p)]
    lib.gss_release_cred.argtypes = [u32p, POINTER(c_void_p)]
    lib.gss_delete_sec_context.argtypes = [u32p, POINTER(c_void_p), c_void_p]
    lib.gss_display_status.argtypes = [u32p, c_uint32, c_int, c_void_p, u32p, POINTER(_Buffer)]
    for name in ("gss_import_name", "gss_acquire_cred_from", "gss_init_sec_context", "gss_wrap", "gss_unwrap",
                 "gss_release_buffer", "gss_release_name", "gss_release_cred", "gss_delete_sec_context",
                 "gss_display_status"):
        getattr(lib, name).restype = c_uint32
    _lib = lib
    return lib


def _oid(lib: ctypes.CDLL, symbol: str) -> ctypes._Pointer[_Oid]:
    """An OID the library exports as a ``gss_OID`` variable."""
    return POINTER(_Oid).in_dll(lib, symbol)


def _status_text(lib: ctypes.CDLL, code: int, kind: int) -> list[str]:
    texts: list[str] = []
    minor = c_uint32()
    context = c_uint32(0)
    while True:
        buf = _Buffer()
        lib.gss_display_status(byref(minor), code, kind, None, byref(context), byref(buf))
        if buf.length:
            texts.append(ctypes.string_at(buf.value, buf.length).decode("utf-8", "replace"))
        lib.gss_release_buffer(byref(minor), byref(buf))
        if not context.value:
            return texts


def _check(lib: ctypes.CDLL, what: str, major: int, minor: c_uint32) -> None:
    if major & (_ROUTINE_ERROR_MASK | _CALLING_ERROR_MASK):
        texts = _status_text(lib, major, _GSS_C_GSS_CODE)
        if minor.value:
            texts += _status_text(lib, minor.value, _GSS_C_MECH_CODE)
        raise GssError(f"{what}: {'; '.join(texts) or hex(major)}")


def _buffer(data: bytes) -> tuple[_Buffer, ctypes.Array[ctypes.c_char]]:
    raw = ctypes.create_string_buffer(data, len(data))
    return _Buffer(len(data), ctypes.cast(raw, c_void_p)), raw


def _take(lib: ctypes.CDLL, buf: _Buffer) -> bytes:
    data = ctypes.string_at(buf.value, buf.length) if buf.length else b""
    lib.gss_release_buffer(byref(c_uint32()), byref(buf))
    return data


class GssCtypesContext:
    """One client security context towards ``service@host`` (see :class:`kafkaio.gss.GssContext`)."""

    def __init__(self, service: str, host: str, principal: str | None, keytab: str | None) -> None:
        self._lib = lib = load()
        self._name = c_void_p()
        self._cred = c_void_p()
        self._ctx = c_void_p()
        self.complete = False
        minor = c_uint32()
        target, _keep = _buffer(f"{service}@{host}".encode())
        _check(lib, "gss_import_name", lib.gss_import_name(
            byref(minor), byref(target), _oid(lib, "GSS_C_NT_HOSTBASED_SERVICE"), byref(self._name)), minor)
        if principal is not None or keytab is not None:
            self._acquire(principal, keytab)

    def _acquire(self, principal: str | None, keytab: str | None) -> None:
        """Credentials of ``principal`` (else the keytab's first), from ``keytab`` (else the ticket cache)."""
        lib = self._lib
        minor = c_uint32()
        desired = c_void_p()
        if principal is not None:
            name, _keep = _buffer(principal.encode())
            _check(lib, f"gss_import_name({principal})", lib.gss_import_name(
                byref(minor), byref(name), _oid(lib, "GSS_C_NT_USER_NAME"), byref(desired)), minor)
        pairs = [(b"client_keytab", keytab.encode())] if keytab is not None else []
        if keytab is not None:  # tickets got with the keytab stay in this context's memory
            pairs.append((b"ccache", f"MEMORY:kafkaio-{id(self)}".encode()))
        elements = (_KeyValue * max(len(pairs), 1))(*[_KeyValue(k, v) for k, v in pairs])
        store = _KeyValueSet(len(pairs), elements)
        try:
            _check(lib, "gss_acquire_cred_from", lib.gss_acquire_cred_from(
                byref(minor), desired, GSS_C_INDEFINITE, None, GSS_C_INITIATE, byref(store),
                byref(self._cred), None, None), minor)
        finally:
            if desired.value:
                lib.gss_release_name(byref(c_uint32()), byref(desired))

    def step(self, token: bytes | None) -> bytes:
        """``gss_init_sec_context`` with the server's ``token`` (None at first); the token to send."""
        lib = self._lib
        minor = c_uint32()
        out = _Buffer()
        flags = c_uint32()
        if token is None:
            inp = None
        else:
            buf, _keep = _buffer(token)
            inp = byref(buf)
        major = lib.gss_init_sec_context(
            byref(minor), self._cred, byref(self._ctx), self._name, _oid(lib, "gss_mech_krb5"),
            GSS_C_MUTUAL_FLAG | GSS_C_SEQUENCE_FLAG | GSS_C_INTEG_FLAG, 0, None, inp, None, byref(out),
            byref(flags), None)
        data = _take(lib, out)
        _check(lib, "gss_init_sec_context", major, minor)
        self.complete = major & 0xFFFF == GSS_S_COMPLETE
        return data

    def unwrap(self, data: bytes) -> bytes:
        lib = self._lib
        minor = c_uint32()
        buf, _keep = _buffer(data)
        out = _Buffer()
        major = lib.gss_unwrap(byref(minor), self._ctx, byref(buf), byref(out), None, None)
        result = _take(lib, out)
        _check(lib, "gss_unwrap", major, minor)
        return result

    def wrap(self, data: bytes) -> bytes:
        lib = self._lib
        minor = c_uint32()
        buf, _keep = _buffer(data)
        out = _Buffer()
        major = lib.gss_wrap(byref(minor), self._ctx, 0, 0, byref(buf), None, byref(out))
        result = _take(lib, out)
        _check(lib, "gss_wrap", major, minor)
        return result

    def close(self) -> None:
        """Release the context, the credentials and the name (idempotent)."""
        lib = self._lib
        minor = c_uint32()
        if self._ctx.value:
            lib.gss_delete_sec_context(byref(minor), byref(self._ctx), None)
        if self._cred.value:
            lib.gss_release_cred(byref(minor), byref(self._cred))
        if self._name.value:
            lib.gss_release_name(byref(minor), byref(self._name))

    def __del__(self) -> None:
        self.close()
