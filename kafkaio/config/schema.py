"""How a setting is declared: one dataclass field per setting, whose metadata (kind, range,
choices, secrecy, Java name, doc) drives validation, the Java-name mapping and the docs."""
from __future__ import annotations

import dataclasses
from dataclasses import field
from typing import Any

INT32_MAX = 2**31 - 1


def setting(
    default: Any,
    kind: str,
    doc: str,
    *,
    minimum: int | None = None,
    maximum: int | None = None,
    choices: tuple[str, ...] | None = None,
    secret: bool = False,
    java: str | None = "",
) -> Any:
    """Declare one setting: a dataclass field whose metadata drives validation and the docs.

    ``kind`` is one of int, bool, str, opt_str, opt_int, callable, servers, acks, assignors,
    ssl_context, token_provider, path. ``java`` is the Java name ('' derives it from the field
    name; None marks a kafkaio-only setting).
    """
    meta = {"kind": kind, "doc": doc, "minimum": minimum, "maximum": maximum, "choices": choices,
            "secret": secret, "java": java}
    if isinstance(default, (list, dict, set)):
        return field(default_factory=lambda: type(default)(default), metadata=meta)
    return field(default=default, metadata=meta)


def declared_default(f: dataclasses.Field[Any]) -> Any:
    """The default of a setting as declared, before coercion."""
    factory = f.default_factory
    return factory() if callable(factory) else f.default
