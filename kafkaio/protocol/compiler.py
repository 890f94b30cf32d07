"""The compiler: turns field lists into fast encoders and decoders, once per (struct, version).

:func:`compile_struct` produces a :class:`Codec` whose ``encode(out, body)`` appends a body dict
to a bytearray and whose ``decode(buf, pos)`` returns ``(body, new_pos)``. Each struct becomes
straight-line generated Python: adjacent fixed-width fields are packed and unpacked by one
``struct.Struct``, arrays of fixed-width values by one ``struct`` call, decoded values stay in
locals until one dict display builds the result, and structs that carry no tagged fields take a
fast path. Nothing about the schema is looked up while encoding or decoding. On an encoding error a
slow path re-runs the per-field encoders to name the failing field.
"""
from __future__ import annotations

import struct
import uuid
from dataclasses import dataclass
from typing import Any, Callable

from kafkaio.errors import FieldEncodeError, KafkaProtocolError
from kafkaio.protocol import primitives as p
from kafkaio.protocol.schema import MISSING, Field

Encoder = Callable[[bytearray, Any], None]  # (out, value): append value to out
Decoder = Callable[[Any, int], "tuple[Any, int]"]
Body = dict[str, Any]  # a decoded (or to be encoded) struct: field name -> value
StructEncoder = Callable[[bytearray, Body], None]
StructDecoder = Callable[[Any, int], "tuple[Body, int]"]
FixedRun = list[tuple[str, str, Any]]  # adjacent fixed-width fields: (name, struct format, default)
TaggedField = tuple[int, str, Any, Encoder, Decoder]  # (tag, name, default, encoder, decoder)


def _type_default(f: Field, version: int) -> Any:
    if f.default is not MISSING:
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
        return {sf.name: _type_default(sf, version) for sf in f.fields}
    raise ValueError(f"unknown type {t!r} for field {f.name}")


@dataclass
class Codec:
    """Compiled encoder/decoder pair of one struct at one version."""

    encode: StructEncoder
    decode: StructDecoder
    defaults: dict[str, Any]


@dataclass(frozen=True)
class _FixedStep:
    """A run of adjacent fixed-width fields, packed and unpacked by one struct."""

    run: tuple[tuple[str, str, Any], ...]
    packer: struct.Struct


@dataclass(frozen=True)
class _VarStep:
    """One variable-width field (string, bytes, array, struct...)."""

    key: str
    default: Any
    enc: Encoder
    dec: Decoder
    sub: Codec | None  # the element struct of an array of structs
    compact: bool
    nullable: bool


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
        items: list[Any] = []
        append = items.append
        for _ in range(n):
            item, pos = item_dec(buf, pos)
            append(item)
        return items, pos

    return enc_array, dec_array


def _fixed_array_codec(fmt: str, flexible: bool, nullable: bool) -> tuple[Encoder, Decoder]:
    """Arrays of fixed-width scalars (replica lists, partition ids) in one struct call each way."""
    size = struct.calcsize(">" + fmt)
    pack_i32 = p.INT32.pack
    write_uvarint = p.write_uvarint
    read_len = p.read_array_length
    pack, unpack_from = struct.pack, struct.unpack_from

    def enc_fixed_array(out: bytearray, v: Any) -> None:
        if v is None:
            if not nullable:
                raise KafkaProtocolError("null array where not allowed")
            out += b"\x00" if flexible else b"\xff\xff\xff\xff"
            return
        n = len(v)
        if flexible:
            write_uvarint(out, n + 1)
        else:
            out += pack_i32(n)
        out += pack(f">{n}{fmt}", *v)

    def dec_fixed_array(buf: Any, pos: int) -> tuple[Any, int]:
        n, pos = read_len(buf, pos, flexible, nullable)
        if n < 0:
            return None, pos
        return list(unpack_from(f">{n}{fmt}", buf, pos)), pos + n * size

    return enc_fixed_array, dec_fixed_array


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
            fmt = p.FIXED_FORMATS.get(item_type)
            if fmt is not None:
                return _fixed_array_codec(fmt, flexible, nullable)
            ie, idec = _scalar_codec(item_type, flexible, False)
        return _array_codec(ie, idec, flexible, nullable)
    return _scalar_codec(t, flexible, nullable)


def _fixed_run_encoder(run: FixedRun) -> StructEncoder:
    """Encode a run of adjacent fixed-width fields with one struct.Struct (slow-path twin of the
    generated code, used to locate a failing field)."""
    pack = struct.Struct(">" + "".join(fmt for _, fmt, _ in run)).pack
    pairs = tuple((k, dflt) for k, _, dflt in run)

    def enc_run(out: bytearray, d: Body) -> None:
        get = d.get
        out += pack(*[get(k, dv) for k, dv in pairs])

    return enc_run


def _var_encoder(key: str, default: Any, enc: Encoder) -> StructEncoder:
    def enc_op(out: bytearray, d: Body) -> None:
        enc(out, d.get(key, default))

    return enc_op


def compile_struct(fields: tuple[Field, ...] | list[Field], version: int, flexible: bool) -> Codec:
    """Compile ``fields`` at ``version``; callers cache the result (see ``kafkaio.protocol.api``)."""
    enc_ops: list[StructEncoder] = []
    names: list[str] = []
    plan: list[_FixedStep | _VarStep] = []
    defaults: dict[str, Any] = {}
    tagged: list[TaggedField] = []
    absent: list[tuple[str, Any]] = []
    run: FixedRun = []

    def flush() -> None:
        if run:
            enc_ops.append(_fixed_run_encoder(run))
            names.append("/".join(k for k, _, _ in run))
            plan.append(_FixedStep(tuple(run), struct.Struct(">" + "".join(fmt for _, fmt, _ in run))))
            run.clear()

    for f in fields:
        default = _type_default(f, version)
        if not f.present(version):
            absent.append((f.name, default))
            continue
        defaults[f.name] = default
        tag = f.tag
        if flexible and tag is not None and f.tagged_in(version):
            e, d = _field_codec(f, version, True)
            tagged.append((tag, f.name, default, e, d))
            continue
        fmt = p.FIXED_FORMATS.get(f.type)
        if fmt is not None:
            run.append((f.name, fmt, default))
            continue
        flush()
        e, d = _field_codec(f, version, flexible)
        enc_ops.append(_var_encoder(f.name, default, e))
        names.append(f.name)
        sub = None
        if f.type == "[]" or (f.type.startswith("[]") and f.fields):
            sub = compile_struct(f.fields, version, flexible)
        plan.append(_VarStep(f.name, default, e, d, sub, flexible, f.nullable_in(version)))
    flush()
    tagged.sort(key=lambda x: x[0])
    return _generate(plan, tuple(enc_ops), tuple(names), tagged, absent, flexible, defaults)


def _generate(plan: list[_FixedStep | _VarStep], enc_ops: tuple[StructEncoder, ...],
              names: tuple[str, ...], tagged: list[TaggedField], absent: list[tuple[str, Any]],
              flexible: bool, defaults: dict[str, Any]) -> Codec:
    """Generate straight-line encode/decode functions for one compiled struct.

    The closures in ``enc_ops`` do the same work one field at a time; they are kept for the slow
    path that names the failing field. The generated code unrolls the field loop, keeps decoded
    values in locals and builds the dict once, which halves the cost of a struct."""
    ns: dict[str, Any] = {"RLEN": p.read_array_length, "Exception": Exception, "WUV": p.write_uvarint,
                          "PI32": p.INT32.pack, "list": list, "str": str,
                          "UnicodeDecodeError": UnicodeDecodeError}
    enc_lines = ["def encode(out, d):", "    try:", "        get = d.get"]
    dec_lines = ["def decode(buf, pos):"]
    keys: list[tuple[str, str]] = []
    for i, step in enumerate(plan):
        if isinstance(step, _FixedStep):
            run, s = step.run, step.packer
            ns[f"P{i}"], ns[f"U{i}"] = s.pack, s.unpack_from
            args = []
            for j, (key, _, default) in enumerate(run):
                ns[f"D{i}_{j}"] = default
                args.append(f"get({key!r}, D{i}_{j})")
                keys.append((key, f"v{i}_{j}"))
            enc_lines.append(f"        out += P{i}({', '.join(args)})")
            targets = ", ".join(f"v{i}_{j}" for j in range(len(run)))
            dec_lines.append(f"    {targets}, = U{i}(buf, pos)")
            dec_lines.append(f"    pos += {s.size}")
        else:
            key, default, enc, dec = step.key, step.default, step.enc, step.dec
            sub, compact, nullable = step.sub, step.compact, step.nullable
            ns[f"E{i}"], ns[f"D{i}"] = enc, default
            keys.append((key, f"v{i}"))
            if sub is None and enc in (p.write_compact_string, p.write_compact_nullable_string):
                # Compact strings (topic names, member ids...) inline for the common case: a str
                # of under 127 bytes each way; anything else (None, other types, long or invalid
                # strings) through the primitive, for its checks and messages.
                ns[f"R{i}"] = dec
                enc_lines += [
                    f"        x = get({key!r}, D{i})",
                    "        if x.__class__ is str:",
                    "            x = x.encode('utf-8')",
                    "            n = len(x) + 1",
                    "            if n < 0x80:",
                    "                out.append(n)",
                    "            else:",
                    "                WUV(out, n)",
                    "            out += x",
                    "        else:",
                    f"            E{i}(out, x)",
                ]
                dec_lines += [
                    "    b = buf[pos] if pos < len(buf) else 0",
                    "    if 0 < b < 0x80 and pos + b <= len(buf):",
                    "        try:",
                    f"            v{i} = str(buf[pos + 1:pos + b], 'utf-8')",
                    "        except UnicodeDecodeError:",
                    f"            v{i}, pos = R{i}(buf, pos)",
                    "        else:",
                    "            pos += b",
                ]
                if enc is p.write_compact_nullable_string:
                    # null (an error message of a partition that has none, say) without a call
                    dec_lines += [
                        "    elif b == 0 and pos < len(buf):",
                        f"        v{i} = None",
                        "        pos += 1",
                    ]
                dec_lines += [
                    "    else:",
                    f"        v{i}, pos = R{i}(buf, pos)",
                ]
            elif sub is None and enc in (p.write_compact_bytes, p.write_compact_nullable_bytes):
                # Compact bytes and record sets (a Produce request's batch) inline for a bytes
                # value with a length of one or two varint bytes; anything else (None, other
                # buffer types, other lengths, wrong types) through the primitive.
                enc_lines += [
                    f"        x = get({key!r}, D{i})",
                    "        if x.__class__ is bytes and len(x) < 0x3fff:",
                    "            n = len(x) + 1",
                    "            if n < 0x80:",
                    "                out.append(n)",
                    "            else:",
                    "                out.append((n & 0x7f) | 0x80)",
                    "                out.append(n >> 7)",
                    "            out += x",
                    "        else:",
                    f"            E{i}(out, x)",
                ]
                ns[f"R{i}"] = dec
                dec_lines.append(f"    v{i}, pos = R{i}(buf, pos)")
            elif sub is None and enc is p.write_uuid:
                # a topic id: its 16 bytes without write_uuid's call and UUID.bytes' property
                ns["UUID"], ns[f"R{i}"] = uuid.UUID, dec
                enc_lines += [
                    f"        x = get({key!r}, D{i})",
                    "        if x.__class__ is UUID:",
                    "            out += x.int.to_bytes(16, 'big')",
                    "        else:",
                    f"            E{i}(out, x)",
                ]
                dec_lines.append(f"    v{i}, pos = R{i}(buf, pos)")
            elif sub is None:
                enc_lines.append(f"        E{i}(out, get({key!r}, D{i}))")
                ns[f"R{i}"] = dec
                dec_lines.append(f"    v{i}, pos = R{i}(buf, pos)")
            else:
                # Arrays of structs are encoded and decoded inline: one call per element, not
                # two. Anything but a list (None, a tuple, a wrong type) goes through the array's
                # own encoder, which writes null or raises with its checks and messages; a failing
                # element sends the whole struct to FAIL, whose slow path names it.
                ns[f"S{i}"], ns[f"SE{i}"] = sub.decode, sub.encode
                enc_lines += [
                    f"        x = get({key!r}, D{i})",
                    "        if x.__class__ is not list:",
                    f"            E{i}(out, x)",
                    "        else:",
                ]
                if compact:
                    enc_lines += [
                        "            n = len(x) + 1",
                        "            if n < 0x80:",
                        "                out.append(n)",
                        "            else:",
                        "                WUV(out, n)",
                    ]
                else:
                    enc_lines.append("            out += PI32(len(x))")
                enc_lines += [
                    "            for y in x:",
                    f"                SE{i}(out, y)",
                ]
                if compact:
                    # the common case (a short non-null array that fits) without RLEN's call;
                    # anything else through RLEN, for its checks and messages
                    dec_lines += [
                        "    b = buf[pos] if pos < len(buf) else 0",
                        "    if 0 < b < 0x80 and b <= len(buf) - pos:",
                        "        n = b - 1",
                        "        pos += 1",
                        "    else:",
                        f"        n, pos = RLEN(buf, pos, True, {nullable})",
                    ]
                else:
                    dec_lines.append(f"    n, pos = RLEN(buf, pos, False, {nullable})")
                dec_lines += [
                    "    if n < 0:",
                    f"        v{i} = None",
                    "    else:",
                    f"        v{i} = []",
                    f"        ap = v{i}.append",
                    "        for _ in range(n):",
                    f"            x, pos = S{i}(buf, pos)",
                    "            ap(x)",
                ]
    # Fields absent in this version take their schema default, so that a decoded body has every
    # field the schema names at any version; mutable defaults are fresh per decoded body.
    items = [f"{k!r}: {v}" for k, v in keys]
    for a, (key, default) in enumerate(absent):
        items.append(f"{key!r}: {_default_expr(ns, f'A{a}', default)}")
    if flexible:
        # Most structs carry no tagged fields: that case builds the dict with the tag defaults in
        # one go; otherwise the general tagged-field reader runs.
        tag_items = []
        for t, (_, key, default, _, _) in enumerate(tagged):
            tag_items.append(f"{key!r}: {_default_expr(ns, f'T{t}', default)}")
        dec_lines += [
            "    if buf[pos] == 0:",
            "        return {" + ", ".join(items + tag_items) + "}, pos + 1",
            "    d = {" + ", ".join(items) + "}",
        ]
        ns["TAGENC"] = _tagged_encoder(tagged)
        ns["TAGDEC"] = _tagged_decoder(tagged)
        if tagged:
            enc_lines.append("        TAGENC(out, d)")
        else:  # no tagged field in the schema: a zero count unless the caller carries unknown ones
            enc_lines += [
                "        if get('_unknown_tagged_fields'):",
                "            TAGENC(out, d)",
                "        else:",
                "            out.append(0)",
            ]
        dec_lines.append("    return d, TAGDEC(buf, pos, d)")
        fail_ops, fail_names = enc_ops + (ns["TAGENC"],), names + ("(tagged fields)",)
    else:
        dec_lines.append("    return {" + ", ".join(items) + "}, pos")
        fail_ops, fail_names = enc_ops, names
    if len(enc_lines) == 3:
        enc_lines.append("        pass")
    enc_lines += ["    except Exception as exc:", "        FAIL(exc, d)"]

    def fail(exc: Exception, d: Any) -> None:
        _raise_encode_error(exc, d, fail_ops, fail_names)

    ns["FAIL"] = fail
    exec(compile("\n".join(enc_lines + [""] + dec_lines), "<kafkaio.protocol codec>", "exec"), ns)  # noqa: S102
    return Codec(ns["encode"], ns["decode"], defaults)


def _default_expr(ns: dict[str, Any], name: str, default: Any) -> str:
    """The generated expression of a decoded field's default, a fresh object when it is mutable:
    an empty list literal, a dict display of a struct's defaults, a call of a copier bound to
    ``name`` for other lists, else the default bound to ``name``."""
    if isinstance(default, list) and not default:
        return "[]"
    if isinstance(default, dict):
        items = (f"{k!r}: {_default_expr(ns, f'{name}_{i}', v)}" for i, (k, v) in enumerate(default.items()))
        return "{" + ", ".join(items) + "}"
    if isinstance(default, list):
        ns[name] = _copier(default)
        return f"{name}()"
    ns[name] = default
    return name


def _join(prefix: str, inner: str) -> str:
    if not inner:
        return prefix
    return prefix + inner if inner.startswith("[") else f"{prefix}.{inner}"


def _raise_encode_error(exc: Exception, d: Any, ops: tuple[StructEncoder, ...],
                        names: tuple[str, ...]) -> None:
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


def _tagged_encoder(tagged: list[TaggedField]) -> StructEncoder:
    write_uvarint = p.write_uvarint
    if not tagged:
        def enc_none(out: bytearray, d: Body) -> None:
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

    def enc_tags(out: bytearray, d: Body) -> None:
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
    if not value:
        return type(value)()
    if isinstance(value, dict):
        return {k: _fresh(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_fresh(v) for v in value]
    return value


def _copier(default: Any) -> Callable[[], Any]:
    """The cheapest function that returns a fresh copy of ``default``."""
    if isinstance(default, dict) and not any(isinstance(v, (list, dict)) for v in default.values()):
        return default.copy
    if isinstance(default, list) and not default:
        return list
    return lambda: _fresh(default)


def _tagged_decoder(tagged: list[TaggedField]) -> Callable[[Any, int, Body], int]:
    by_tag = {tag: (key, dec) for tag, key, _, _, dec in tagged}
    # Mutable defaults are copied per decoded message so that callers may modify them.
    immutable = {key: default for _, key, default, _, _ in tagged if not isinstance(default, (list, dict))}
    mutable = [(key, _copier(default)) for _, key, default, _, _ in tagged if isinstance(default, (list, dict))]
    read_tagged_fields = p.read_tagged_fields

    def dec_tags(buf: Any, pos: int, d: Body) -> int:
        if immutable:
            d.update(immutable)
        for key, copy in mutable:
            d[key] = copy()
        if buf[pos] == 0:  # the common case: no tagged fields (IndexError past the end is wrapped)
            return pos + 1
        found, after = read_tagged_fields(buf, pos)
        for tag, pos, end in found:
            known = by_tag.get(tag)
            if known is None:
                d.setdefault("_unknown_tagged_fields", {})[tag] = bytes(buf[pos:end])
            else:
                key, dec = known
                value, used = dec(buf[:end], pos)
                if used != end:
                    raise KafkaProtocolError(f"tagged field {tag} has a wrong size at byte {pos}")
                d[key] = value
        return after

    return dec_tags
