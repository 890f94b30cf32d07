"""Message definitions as data: fields, version ranges, APIs and standalone structs.

A message is a tuple of :class:`Field`. A field has a type (``"int32"``, ``"string"``,
``"[]int32"``, ``"[]"`` with ``fields`` for an array of structs, ``"struct"`` with ``fields``),
the versions it exists in, the versions in which it may be null, a default, and optionally a tag
(tagged fields exist only in flexible versions and are written only when they differ from their
default). Versions are written as in Kafka's definitions: ``"0+"``, ``"3-7"``, ``"none"``.
:mod:`kafkaio.protocol.compiler` turns these definitions into encoders and decoders.
"""
from __future__ import annotations

from dataclasses import dataclass, field as dc_field
from typing import Any

MISSING: Any = object()  # "no default given": the type's natural default applies


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
    default: Any = MISSING
    tag: int | None = None
    tagged: str | None = None  # taggedVersions; defaults to `versions` when `tag` is given
    _ranges: dict[str, tuple[int, int]] = dc_field(default_factory=dict, compare=False, hash=False, repr=False)

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
      default: Any = MISSING, tag: int | None = None, tagged: str | None = None) -> Field:
    """Compact constructor used by the message modules: ``F(name, type, versions, *subfields)``."""
    return Field(name, type, versions, tuple(fields), nullable, default, tag, tagged)


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
