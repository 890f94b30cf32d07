"""Standalone versioned structs (``encode_struct`` / ``decode_struct``), such as the consumer
protocol's subscription and assignment."""
from __future__ import annotations

from typing import Any

from kafkaio.errors import KafkaProtocolError, UnsupportedVersionError
from kafkaio.protocol import primitives as p
from kafkaio.protocol.messages.consumer_protocol import STRUCTS
from kafkaio.protocol.compiler import Codec, compile_struct
from kafkaio.protocol.schema import StructDef, in_versions, parse_versions

_DEFS: dict[str, StructDef] = {s.name: s for s in STRUCTS}
_codecs: dict[tuple[str, int], Codec] = {}


def struct_versions(name: str) -> tuple[int, int]:
    """(min, max) version of struct ``name`` that kafkaio implements."""
    return parse_versions(_def(name).versions)


def _def(name: str) -> StructDef:
    try:
        return _DEFS[name]
    except KeyError:
        raise KafkaProtocolError(f"unknown struct {name!r}") from None


def _codec(name: str, version: int) -> Codec:
    codec = _codecs.get((name, version))
    if codec is None:
        d = _def(name)
        lo, hi = parse_versions(d.versions)
        if not lo <= version <= hi:
            raise UnsupportedVersionError(f"{name} v{version} is not implemented (versions {lo}-{hi})")
        codec = compile_struct(d.fields, version, in_versions(version, parse_versions(d.flexible)))
        _codecs[(name, version)] = codec
    return codec


def encode_struct(name: str, version: int, body: dict[str, Any]) -> bytes:
    """Encode ``body`` as struct ``name`` at ``version`` (no version prefix)."""
    out = bytearray()
    _codec(name, version).encode(out, body)
    return bytes(out)


def decode_struct(name: str, version: int, data: bytes | memoryview, allow_trailing: bool = False) -> dict[str, Any]:
    """Decode struct ``name`` at ``version`` from ``data`` (no version prefix)."""
    buf = memoryview(data)
    try:
        body, pos = _codec(name, version).decode(buf, 0)
    except (KafkaProtocolError, UnsupportedVersionError):
        raise
    except Exception as exc:  # noqa: BLE001 - bad bytes become one typed error
        raise KafkaProtocolError(f"cannot decode {name} v{version}: {exc}") from None
    if pos != len(buf) and not allow_trailing:
        raise KafkaProtocolError(f"{name} v{version}: {len(buf) - pos} unexpected trailing bytes")
    return body


def encode_versioned_struct(name: str, version: int, body: dict[str, Any]) -> bytes:
    """The Java consumer protocol's form: an int16 version, then the struct."""
    return p.INT16.pack(version) + encode_struct(name, version, body)


def decode_versioned_struct(name: str, data: bytes) -> tuple[int, dict[str, Any]]:
    """Read an int16 version, then the struct. A version newer than kafkaio knows is read with the
    newest version it knows, ignoring the trailing fields, as the Java client does (newer
    versions only append fields)."""
    if len(data) < 2:
        raise KafkaProtocolError(f"{name}: {len(data)} bytes is too short for a version")
    (version,) = p.INT16.unpack_from(data, 0)
    lo, hi = struct_versions(name)
    if version < lo:
        raise KafkaProtocolError(f"{name}: invalid version {version}")
    use = min(version, hi)
    return version, decode_struct(name, use, memoryview(data)[2:], allow_trailing=version > hi)
