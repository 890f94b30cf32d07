"""Generates :mod:`kafkaio.protocol.bodies`: one ``TypedDict`` per request, response and struct.

Run ``python -m kafkaio.protocol.gen_types`` after changing a schema in
``kafkaio/protocol/messages``; a unit test fails while the checked-in file differs from what this
module renders.

A response or struct type names every field of every version kafkaio implements, all required:
the decoder fills a field absent in the negotiated version with its schema default. A field
nullable in any version is typed ``X | None``. Nested structs become their own types, named by
their path (``ProduceResponse`` -> ``ProduceResponseResponses`` ->
``ProduceResponseResponsesPartitionResponses``). Request types are ``total=False`` (the encoder
writes the default of a field left out) and take any sequence for an array and any bytes-like
object for bytes and records.
"""
from __future__ import annotations

import sys
from pathlib import Path

from kafkaio.protocol.messages import ALL_APIS
from kafkaio.protocol.messages.consumer_protocol import STRUCTS
from kafkaio.protocol.schema import Field, parse_versions

_SCALARS = {"int8": "int", "int16": "int", "int32": "int", "int64": "int", "uint16": "int",
            "bool": "bool", "float64": "float", "string": "str", "uuid": "uuid.UUID"}
_HEADER = '''"""TypedDicts of every request, response and struct body (generated: do not edit).

Written by ``python -m kafkaio.protocol.gen_types`` from the schemas in
``kafkaio/protocol/messages``; see that module for the rules.
"""
from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import TypedDict
'''


def _camel(name: str) -> str:
    return "".join(part[:1].upper() + part[1:] for part in name.split("_"))


def _nullable(f: Field, lo: int, hi: int) -> bool:
    n_lo, n_hi = parse_versions(f.nullable)
    return n_lo <= min(n_hi, hi) and max(n_lo, lo) <= n_hi


class _Renderer:
    """Renders the TypedDicts of one message tree, nested types first."""

    def __init__(self, lo: int, hi: int, request: bool) -> None:
        self.lo, self.hi, self.request = lo, hi, request
        self.blocks: list[str] = []

    def _type(self, f: Field, owner: str) -> str:
        t = f.type
        if t == "struct" or (t == "[]" and f.fields) or (t.startswith("[]") and f.fields):
            sub = owner + _camel(f.name)
            self.render(sub, f.fields, f"The ``{f.name}`` of :class:`{owner}`")
            inner = sub
        elif t.startswith("[]"):
            inner = self._scalar(t[2:])
        else:
            inner = self._scalar(t)
        if t.startswith("[]"):
            inner = f"Sequence[{inner}]" if self.request else f"list[{inner}]"
        return f"{inner} | None" if _nullable(f, self.lo, self.hi) else inner

    def _scalar(self, t: str) -> str:
        if t in ("bytes", "records"):
            if self.request:
                return "bytes | bytearray | memoryview"
            return "bytes" if t == "bytes" else "memoryview"
        return _SCALARS[t]

    def render(self, name: str, fields: tuple[Field, ...], what: str) -> None:
        lines = []
        for f in fields:
            f_lo, f_hi = parse_versions(f.versions)
            if f_lo > self.hi or f_hi < self.lo:
                continue  # in no version kafkaio implements
            lines.append(f"    {f.name}: {self._type(f, name)}")
        total = ", total=False" if self.request else ""
        body = "\n".join(lines) if lines else "    pass"
        self.blocks.append(f'class {name}(TypedDict{total}):\n    """{what}."""\n\n{body}\n')


def render() -> str:
    """The text of ``kafkaio/protocol/bodies.py``."""
    blocks: list[str] = []
    for api in sorted(ALL_APIS, key=lambda a: a.key):
        lo, hi = parse_versions(api.versions)
        for kind, fields, request in (("Request", api.request, True), ("Response", api.response, False)):
            r = _Renderer(lo, hi, request)
            r.render(api.name + kind, fields, f"{api.name} {kind.lower()} (API key {api.key}, v{lo}-{hi})")
            blocks += r.blocks
    for struct in STRUCTS:
        lo, hi = parse_versions(struct.versions)
        r = _Renderer(lo, hi, False)
        r.render(struct.name, struct.fields, f"{struct.name} (v{lo}-{hi})")
        blocks += r.blocks
    return _HEADER + "".join("\n\n" + b for b in blocks)


def main() -> None:
    """Write ``bodies.py`` next to this module (or print it with ``--stdout``)."""
    text = render()
    if "--stdout" in sys.argv[1:]:
        sys.stdout.write(text)
        return
    Path(__file__).with_name("bodies.py").write_text(text)


if __name__ == "__main__":
    main()
