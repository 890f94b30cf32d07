"""The schema engine: message definitions as data, compiled once per (message, version).

A message is a list of :class:`Field`. A field has a type (``"int32"``, ``"string"``,
``"[]int32"``, ``"[]"`` with ``fields`` for an array of structs, ``"struct"`` with ``fields``),
the versions it exists in, the versions in which it may be null, a default, and optionally a tag
(tagged fields exist only in flexible versions and are written only when they differ from their
default). Versions are written as in Kafka's definitions: ``"0+"``, ``"3-7"``, ``"none"``.

:func:`compile_struct` turns a field list, a version and the flexibility of that version into a
:class:`Codec` whose ``encode(out, dict)`` / ``decode(buf, pos)`` run a precomputed list of
operations: adjacent fixed-width fields are packed and unpacked by one ``struct.Struct``; nothing
about the schema is looked up while encoding or decoding.
"""
from __future__ import annotations

import struct
from dataclasses import dataclass, field as dc_field
from typing import Any, Callable

from kafkaio.errors import KafkaProtocolError
from kafkaio.protocol import primitives as p

_MISSING: Any = object()

Encoder = Callable[[bytearray, Any], None]  # (out, value): append value to out
Decoder = Callable[[Any, int], "tuple[Any, int]"]


def parse_versions(spec: str | None) -> tuple[int, int]:
    """``"3+"`` -> (3, 32767); ``"1-4"`` -> (1, 4); ``"2"`` -> (2, 2); ``"none"``/None -> empty."""
    if spec is None or spec == "none":
        return (1, 0)
    if spec.endswith("+"):
        return (int(spec[:-1]), 0x7FFF)
    if "-" in spec:
        lo, hi = spec.split("-")
        return (int(lo), int(hi))
    return (int(spec), int(spec))


def in_versions(version: int, rng: tuple[int, int]) -> bool:
    return rng[0] <= version <= rng[1]


@dataclass(frozen=True)
class Field:
    """One field of a message or struct (see the module docstring)."""

    name: str
    type: str
    versions: str = "0+"
    fields: tuple["Field", ...] = ()
    nullable: str | None = None
    default: Any = _MISSING
    tag: int | None = None
    tagged: str | None = None  # taggedVersions; defaults to `versions` when `tag` is given
    _ranges: dict = dc_field(default_factory=dict, compare=False, hash=False, repr=False)

    def __post_init__(self) -> None:
        self._ranges["v"] = parse_versions(self.versions)
        self._ranges["n"] = parse_versions(self.nullable)
        self._ranges["t"] = parse_versions(self.tagged if self.tagged is not None else self.versions)

    def present(self, version: int) -> bool:
        return in_versions(version, self._ranges["v"])

    def nullable_in(self, version: int) -> bool:
        return in_versions(version, self._ranges["n"])

    def tagged_in(self, version: int) -> bool:
        return self.tag is not None and in_versions(version, self._ranges["t"])


def F(name: str, type: str, versions: str = "0+", *fields: Field, nullable: str | None = None,
      default: Any = _MISSING, tag: int | None = None, tagged: str | None = None) -> Field:
    """Compact constructor used by the message modules: ``F(name, type, versions, *subfields)``."""
    return Field(name, type, versions, tuple(fields), nullable, default, tag, tagged)


def _type_default(f: Field, version: int) -> Any:
    if f.default is not _MISSING:
        return f.default
    t = f.type
    if t in p.FIXED_FORMATS:
        return False if t == "bool" else (0.0 if t == "float64" else 0)
    if t in ("string",):
        return ""
    if t == "bytes":
        return b""
    if t == "records":
        return None
    if t == "uuid":
        return p.ZERO_UUID
    if t.startswith("[]"):
        return []
    if t == "struct":
        return {sf.name: _type_default(sf, version) for sf in f.fields if sf.present(version)}
    raise ValueError(f"unknown type {t!r} for field {f.name}")


@dataclass
class Codec:
    """Compiled encoder/decoder pair of one struct at one version."""

    encode: Encoder
    decode: Decoder
    defaults: dict[str, Any]


def _scalar_codec(t: str, flexible: bool, nullable: bool) -> tuple[Encoder, Decoder]:
    if t == "string":
        if flexible:
            return ((p.write_compact_nullable_string, p.read_compact_nullable_string) if nullable
                    else (p.write_compact_string, p.read_compact_string))
        return ((p.write_nullable_string, p.read_nullable_string) if nullable
                else (p.write_string, p.read_string))
    if t == "bytes":
        if flexible:
            return ((p.write_compact_nullable_bytes, p.read_compact_nullable_bytes) if nullable
                    else (p.write_compact_bytes, p.read_compact_bytes))
        return ((p.write_nullable_bytes, p.read_nullable_bytes) if nullable
                else (p.write_bytes, p.read_bytes))
    if t == "records":
        if flexible:
            return p.write_compact_nullable_bytes, p.read_compact_records
        return p.write_nullable_bytes, p.read_records
    if t == "uuid":
        return p.write_uuid, p.read_uuid
    if t in p.FIXED_FORMATS:
        s = struct.Struct(">" + p.FIXED_FORMATS[t])
        pack, unpack, size = s.pack, s.unpack_from, s.size

        def enc_fixed(out: bytearray, v: Any) -> None:
            out += pack(v)

        def dec_fixed(buf: Any, pos: int) -> tuple[Any, int]:
            return unpack(buf, pos)[0], pos + size

        return enc_fixed, dec_fixed
    raise ValueError(f"unknown type {t!r}")


def _array_codec(item_enc: Encoder, item_dec: Decoder, flexible: bool, nullable: bool) -> tuple[Encoder, Decoder]:
    pack_i32 = p.INT32.pack
    write_uvarint = p.write_uvarint
    read_len = p.read_array_length

    if flexible:
        def enc_array(out: bytearray, v: Any) -> None:
            if v is None:
                if not nullable:
                    raise KafkaProtocolError("null array where not allowed")
                out.append(0)
                return
            write_uvarint(out, len(v) + 1)
            try:
                for item in v:
                    item_enc(out, item)
            except Exception as exc:  # noqa: BLE001
                _raise_element_error(exc, v, item_enc)
    else:
        def enc_array(out: bytearray, v: Any) -> None:
            if v is None:
                if not nullable:
                    raise KafkaProtocolError("null array where not allowed")
                out += b"\xff\xff\xff\xff"
                return
            out += pack_i32(len(v))
            try:
                for item in v:
                    item_enc(out, item)
            except Exception as exc:  # noqa: BLE001
                _raise_element_error(exc, v, item_enc)

    def dec_array(buf: Any, pos: int) -> tuple[Any, int]:
        n, pos = read_len(buf, pos, flexible, nullable)
        if n < 0:
            return None, pos
        items = []
        append = items.append
        for _ in range(n):
            item, pos = item_dec(buf, pos)
            append(item)
        return items, pos

    return enc_array, dec_array


def _field_codec(f: Field, version: int, flexible: bool) -> tuple[Encoder, Decoder]:
    nullable = f.nullable_in(version)
    t = f.type
    if t == "struct":
        sub = compile_struct(f.fields, version, flexible)
        if nullable:
            # Nullable structs are prefixed by an int8 presence marker (-1 null, 1 present).
            def enc_ns(out: bytearray, v: Any) -> None:
                if v is None:
                    out.append(0xFF)
                else:
                    out.append(1)
                    sub.encode(out, v)

            def dec_ns(buf: Any, pos: int) -> tuple[Any, int]:
                (marker,) = p.INT8.unpack_from(buf, pos)
                if marker < 0:
                    return None, pos + 1
                return sub.decode(buf, pos + 1)

            return enc_ns, dec_ns
        return sub.encode, sub.decode
    if t.startswith("[]"):
        item_type = t[2:]
        if f.fields:
            sub = compile_struct(f.fields, version, flexible)
            ie, idec = sub.encode, sub.decode
        else:
            ie, idec = _scalar_codec(item_type, flexible, False)
        return _array_codec(ie, idec, flexible, nullable)
    return _scalar_codec(t, flexible, nullable)


def _fixed_run_ops(run: list[tuple[str, str, Any]]) -> tuple[Callable, Callable]:
    """One op that packs/unpacks a run of adjacent fixed-width fields with one struct.Struct."""
    s = struct.Struct(">" + "".join(fmt for _, fmt, _ in run))
    pack, unpack, size = s.pack, s.unpack_from, s.size
    if len(run) == 1:
        ((key, _, default),) = run

        def enc1(out: bytearray, d: dict) -> None:
            out += pack(d.get(key, default))

        def dec1(buf: Any, pos: int, d: dict) -> int:
            d[key] = unpack(buf, pos)[0]
            return pos + size

        return enc1, dec1
    keys = tuple(k for k, _, _ in run)
    defaults = tuple(dflt for _, _, dflt in run)
    pairs = tuple(zip(keys, defaults))

    def enc_run(out: bytearray, d: dict) -> None:
        get = d.get
        out += pack(*[get(k, dv) for k, dv in pairs])

    def dec_run(buf: Any, pos: int, d: dict) -> int:
        d.update(zip(keys, unpack(buf, pos)))
        return pos + size

    return enc_run, dec_run


def _var_ops(key: str, default: Any, enc: Encoder, dec: Decoder) -> tuple[Callable, Callable]:
    def enc_op(out: bytearray, d: dict) -> None:
        enc(out, d.get(key, default))

    def dec_op(buf: Any, pos: int, d: dict) -> int:
        d[key], pos = dec(buf, pos)
        return pos

    return enc_op, dec_op


def compile_struct(fields: tuple[Field, ...] | list[Field], version: int, flexible: bool) -> Codec:
    """Compile ``fields`` at ``version``; callers cache the result (see ``kafkaio.protocol.api``)."""
    enc_ops: list[Callable] = []
    dec_ops: list[Callable] = []
    names: list[str] = []
    defaults: dict[str, Any] = {}
    tagged: list[tuple[int, str, Any, Encoder, Decoder]] = []
    run: list[tuple[str, str, Any]] = []

    def flush() -> None:
        if run:
            e, d = _fixed_run_ops(run)
            enc_ops.append(e)
            dec_ops.append(d)
            names.append("/".join(k for k, _, _ in run))
            run.clear()

    for f in fields:
        if not f.present(version):
            continue
        default = _type_default(f, version)
        defaults[f.name] = default
        if flexible and f.tagged_in(version):
            e, d = _field_codec(f, version, True)
            tagged.append((f.tag, f.name, default, e, d))  # type: ignore[arg-type]
            continue
        fmt = p.FIXED_FORMATS.get(f.type)
        if fmt is not None:
            run.append((f.name, fmt, default))
            continue
        flush()
        e, d = _field_codec(f, version, flexible)
        eo, do = _var_ops(f.name, default, e, d)
        enc_ops.append(eo)
        dec_ops.append(do)
        names.append(f.name)
    flush()
    tagged.sort(key=lambda x: x[0])
    enc_ops_t = tuple(enc_ops)
    dec_ops_t = tuple(dec_ops)
    names_t = tuple(names)

    if flexible:
        tag_enc = _tagged_encoder(tagged)
        tag_dec = _tagged_decoder(tagged)

        def encode(out: bytearray, d: dict) -> None:
            try:
                for op in enc_ops_t:
                    op(out, d)
                tag_enc(out, d)
            except Exception as exc:  # noqa: BLE001 - turned into a typed error naming the field
                _raise_encode_error(exc, d, enc_ops_t + (tag_enc,), names_t + ("(tagged fields)",))

        def decode(buf: Any, pos: int) -> tuple[dict, int]:
            d: dict = {}
            for op in dec_ops_t:
                pos = op(buf, pos, d)
            return d, tag_dec(buf, pos, d)
    else:
        def encode(out: bytearray, d: dict) -> None:
            try:
                for op in enc_ops_t:
                    op(out, d)
            except Exception as exc:  # noqa: BLE001
                _raise_encode_error(exc, d, enc_ops_t, names_t)

        def decode(buf: Any, pos: int) -> tuple[dict, int]:
            d: dict = {}
            for op in dec_ops_t:
                pos = op(buf, pos, d)
            return d, pos

    return Codec(encode, decode, defaults)


class FieldEncodeError(KafkaProtocolError):
    """A value in a body being encoded has the wrong type or range; the message names the field
    by its path (``topic_data[0].name``)."""

    def __init__(self, path: str, reason: str) -> None:
        super().__init__(f"cannot encode field {path!r}: {reason}" if path else f"cannot encode: {reason}")
        self.path = path
        self.reason = reason


def _join(prefix: str, inner: str) -> str:
    if not inner:
        return prefix
    return prefix + inner if inner.startswith("[") else f"{prefix}.{inner}"


def _raise_encode_error(exc: Exception, d: Any, ops: tuple, names: tuple) -> None:
    if not isinstance(d, dict):
        raise FieldEncodeError("", f"expected a dict, got {type(d).__name__}") from None
    # Slow path, only on failure: find which field failed so that the message names it.
    for op, name in zip(ops, names):
        try:
            op(bytearray(), d)
        except FieldEncodeError as inner:
            raise FieldEncodeError(_join(name, inner.path), inner.reason) from None
        except Exception as inner:  # noqa: BLE001
            raise FieldEncodeError(name, str(inner)) from None
    raise FieldEncodeError("", str(exc)) from exc


def _raise_element_error(exc: Exception, items: Any, item_enc: Encoder) -> None:
    # Slow path of array encoding: find the failing element so that the path shows its index.
    for i, item in enumerate(items):
        try:
            item_enc(bytearray(), item)
        except FieldEncodeError as inner:
            raise FieldEncodeError(_join(f"[{i}]", inner.path), inner.reason) from None
        except Exception as inner:  # noqa: BLE001
            raise FieldEncodeError(f"[{i}]", str(inner)) from None
    raise FieldEncodeError("", str(exc)) from exc


def _tagged_encoder(tagged: list[tuple[int, str, Any, Encoder, Decoder]]) -> Callable[[bytearray, dict], None]:
    write_uvarint = p.write_uvarint
    if not tagged:
        def enc_none(out: bytearray, d: dict) -> None:
            raw = d.get("_unknown_tagged_fields")
            if not raw:
                out.append(0)
                return
            write_uvarint(out, len(raw))
            for tag in sorted(raw):
                write_uvarint(out, tag)
                write_uvarint(out, len(raw[tag]))
                out += raw[tag]
        return enc_none

    def enc_tags(out: bytearray, d: dict) -> None:
        present = []
        for tag, key, default, enc, _ in tagged:
            v = d.get(key, default)
            if v is not default and v != default:
                buf = bytearray()
                enc(buf, v)
                present.append((tag, buf))
        raw = d.get("_unknown_tagged_fields")
        if raw:
            present.extend(raw.items())
            present.sort(key=lambda x: x[0])
        write_uvarint(out, len(present))
        for tag, buf in present:
            write_uvarint(out, tag)
            write_uvarint(out, len(buf))
            out += buf

    return enc_tags


def _fresh(value: Any) -> Any:
    """A copy of a (nested dict/list) default, so that decoded messages never share objects."""
    if isinstance(value, dict):
        return {k: _fresh(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_fresh(v) for v in value]
    return value


def _tagged_decoder(tagged: list[tuple[int, str, Any, Encoder, Decoder]]) -> Callable[[Any, int, dict], int]:
    by_tag = {tag: (key, dec) for tag, key, _, _, dec in tagged}
    # Mutable defaults are copied per decoded message so that callers may modify them.
    defaults = [(key, default, isinstance(default, (list, dict))) for _, key, default, _, _ in tagged]
    read_uvarint32 = p.read_uvarint32

    def dec_tags(buf: Any, pos: int, d: dict) -> int:
        for key, default, mutable in defaults:
            d[key] = _fresh(default) if mutable else default
        n, pos = read_uvarint32(buf, pos)
        if n == 0:
            return pos
        if n > len(buf) - pos:
            raise KafkaProtocolError(f"malformed tagged fields at byte {pos}")
        last = -1
        for _ in range(n):
            tag, pos = read_uvarint32(buf, pos)
            size, pos = read_uvarint32(buf, pos)
            end = pos + size
            if end > len(buf) or tag <= last:
                raise KafkaProtocolError(f"malformed tagged field {tag} at byte {pos}")
            last = tag
            known = by_tag.get(tag)
            if known is None:
                d.setdefault("_unknown_tagged_fields", {})[tag] = bytes(buf[pos:end])
            else:
                key, dec = known
                value, used = dec(buf[:end], pos)
                if used != end:
                    raise KafkaProtocolError(f"tagged field {tag} has a wrong size at byte {pos}")
                d[key] = value
            pos = end
        return pos

    return dec_tags


@dataclass(frozen=True)
class Api:
    """One Kafka API: its key, the versions kafkaio implements, which of them are flexible, and
    the request and response field lists."""

    key: int
    name: str
    versions: str
    flexible: str
    request: tuple[Field, ...]
    response: tuple[Field, ...]

    @property
    def min_version(self) -> int:
        return parse_versions(self.versions)[0]

    @property
    def max_version(self) -> int:
        return parse_versions(self.versions)[1]

    def is_flexible(self, version: int) -> bool:
        return in_versions(version, parse_versions(self.flexible))


@dataclass(frozen=True)
class StructDef:
    """A standalone versioned struct that is not a request or response (e.g. the consumer
    protocol's subscription and assignment, carried as opaque bytes inside group messages)."""

    name: str
    versions: str
    flexible: str
    fields: tuple[Field, ...]
