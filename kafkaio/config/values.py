"""Checking one setting's value against its declaration: kind, range, choices; the parsers of
the compound kinds (servers, acks, assignors, ISO-8601 durations)."""
from __future__ import annotations

import os
import re
import ssl
from typing import Any, Mapping

from kafkaio.errors import ConfigError

ASSIGNOR_NAMES = {
    "range": "range",
    "roundrobin": "roundrobin",
    "sticky": "sticky",
    "cooperative-sticky": "cooperative-sticky",
    "org.apache.kafka.clients.consumer.RangeAssignor": "range",
    "org.apache.kafka.clients.consumer.RoundRobinAssignor": "roundrobin",
    "org.apache.kafka.clients.consumer.StickyAssignor": "sticky",
    "org.apache.kafka.clients.consumer.CooperativeStickyAssignor": "cooperative-sticky",
}

_DURATION_RE = re.compile(
    r"^P(?:(?P<d>\d+)D)?(?:T(?:(?P<h>\d+)H)?(?:(?P<m>\d+)M)?(?:(?P<s>\d+(?:\.\d+)?)S)?)?$", re.IGNORECASE
)


def fail(name: str, problem: str) -> ConfigError:
    return ConfigError(f"{name}: {problem}")


def describe(value: Any) -> str:
    return f"{type(value).__name__} {value!r}" if not callable(value) else type(value).__name__


def coerce(name: str, meta: Mapping[str, Any], value: Any, from_text: bool) -> Any:
    """Check ``value`` against the setting's kind, range and choices; return the normal form."""
    kind = meta["kind"]
    if kind in ("int", "opt_int"):
        if value is None and kind == "opt_int":
            return None
        if from_text and isinstance(value, str):
            try:
                value = int(value.strip())
            except ValueError:
                raise fail(name, f"expected an integer, got {value!r}") from None
        if isinstance(value, bool) or not isinstance(value, int):
            raise fail(name, f"expected an integer, got {describe(value)}")
        lo, hi = meta["minimum"], meta["maximum"]
        if lo is not None and value < lo:
            raise fail(name, f"must be at least {lo}, got {value}")
        if hi is not None and value > hi:
            raise fail(name, f"must be at most {hi}, got {value}")
        return value
    if kind == "bool":
        if from_text and isinstance(value, str) and value.strip().lower() in ("true", "false"):
            return value.strip().lower() == "true"
        if not isinstance(value, bool):
            raise fail(name, f"expected True or False, got {describe(value)}")
        return value
    if kind in ("str", "opt_str", "path"):
        if value is None and kind != "str":
            return None
        if not isinstance(value, str):
            raise fail(name, f"expected a string, got {type(value).__name__ if meta['secret'] else describe(value)}")
        if meta["choices"] is not None:
            normal = value.strip().lower() if meta["choices"][0].islower() else value.strip().upper()
            if normal not in meta["choices"]:
                raise fail(name, f"must be one of {', '.join(meta['choices'])}; got {value!r}")
            return normal
        if kind == "path" and not os.path.exists(value):
            raise fail(name, f"file {value!r} does not exist")
        return value
    if kind == "callable":
        if value is not None and not callable(value):
            raise fail(name, f"expected a callable or None, got {describe(value)}")
        return value
    if kind == "ssl_context":
        if value is not None and not isinstance(value, ssl.SSLContext):
            raise fail(name, f"expected an ssl.SSLContext or None, got {describe(value)}")
        return value
    if kind == "token_provider":
        if value is not None and not (callable(value) or callable(getattr(value, "token", None))):
            raise fail(name, "expected a callable or an object with a token() method")
        return value
    if kind == "servers":
        return parse_servers(name, value)
    if kind == "acks":
        return parse_acks(name, value)
    if kind == "assignors":
        return parse_assignors(name, value)
    raise AssertionError(f"unknown setting kind {kind!r}")  # a declaration bug, not user input


def parse_servers(name: str, value: Any) -> tuple[str, ...]:
    if isinstance(value, str):
        items = [s.strip() for s in value.split(",")]
    elif isinstance(value, (list, tuple)) and all(isinstance(s, str) for s in value):
        items = [s.strip() for s in value]
    else:
        raise fail(name, f"expected 'host:port,...' or a list of 'host:port', got {describe(value)}")
    items = [s for s in items if s]
    if not items:
        raise fail(name, "at least one host:port is required")
    for item in items:
        split_host_port(item, name)
    return tuple(items)


def split_host_port(address: str, setting_name: str = "bootstrap_servers") -> tuple[str, int]:
    """``"host:port"`` or ``"[v6]:port"`` -> (host, port); ConfigError naming the setting if malformed."""
    host, sep, port = address.rpartition(":")
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise fail(setting_name, f"{address!r} is not host:port")
    return host, int(port)


def parse_acks(name: str, value: Any) -> int:
    text = str(value).strip().lower() if not isinstance(value, bool) else ""
    table = {"all": -1, "-1": -1, "0": 0, "1": 1}
    if text not in table:
        raise fail(name, f'must be "all", -1, 0 or 1; got {value!r}')
    return table[text]


def parse_assignors(name: str, value: Any) -> tuple[Any, ...]:
    items = [s.strip() for s in value.split(",") if s.strip()] if isinstance(value, str) else value
    if not isinstance(items, (list, tuple)) or not items:
        raise fail(name, "expected a non-empty list of assignor names or assignor objects")
    out: list[Any] = []
    for item in items:
        if isinstance(item, str):
            key = item.strip() if "." in item else item.strip().lower()
            if key not in ASSIGNOR_NAMES:
                raise fail(name, f"unknown assignor {item!r}; known: range, roundrobin, sticky, cooperative-sticky")
            out.append(ASSIGNOR_NAMES[key])
        elif callable(getattr(item, "assign", None)) or callable(getattr(item, "name", None)) or hasattr(item, "name"):
            out.append(item)
        else:
            raise fail(name, f"{item!r} is neither an assignor name nor an assignor object")
    return tuple(out)


def parse_duration_ms(text: str) -> int | None:
    match = _DURATION_RE.match(text)
    if match is None or not any(match.groupdict().values()):
        return None
    d, h, m, s = (match.group(g) for g in "dhms")
    seconds = int(d or 0) * 86400 + int(h or 0) * 3600 + int(m or 0) * 60 + float(s or 0)
    return int(seconds * 1000)


def mask(value: Any) -> str:
    return "None" if value is None else "'***'"
