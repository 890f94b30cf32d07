"""The headers a record carries to a retry topic or the dead-letter topic, and reading them back.

Every value is UTF-8 text. A record keeps its own headers; these are added (replacing earlier ones
of the same name, so a record retried twice carries the latest).
"""
from __future__ import annotations

import traceback
from collections.abc import Sequence
from dataclasses import dataclass

ORIGINAL_TOPIC = "kafkaio-original-topic"
ORIGINAL_PARTITION = "kafkaio-original-partition"
ORIGINAL_OFFSET = "kafkaio-original-offset"
ATTEMPTS = "kafkaio-attempts"
STAGE = "kafkaio-retry-stage"
DUE_MS = "kafkaio-due-ms"
EXCEPTION_TYPE = "kafkaio-exception-type"
EXCEPTION_MESSAGE = "kafkaio-exception-message"
EXCEPTION_TRACEBACK = "kafkaio-exception-traceback"
OWN = frozenset({ORIGINAL_TOPIC, ORIGINAL_PARTITION, ORIGINAL_OFFSET, ATTEMPTS, STAGE, DUE_MS,
                 EXCEPTION_TYPE, EXCEPTION_MESSAGE, EXCEPTION_TRACEBACK})
MESSAGE_MAX_CHARS = 1000
TRACEBACK_MAX_CHARS = 2000

Headers = list[tuple[str, bytes | None]]


@dataclass(frozen=True)
class Origin:
    """Where a record was first read, how often it was tried, and which stage it is in."""

    topic: str
    partition: int
    offset: int
    attempts: int = 0
    stage: int = 0
    due_ms: int | None = None


def origin_of(topic: str, partition: int, offset: int, headers: Sequence[tuple[str, bytes | None]] | None) -> Origin:
    """The origin a record carries in its headers, or the record itself when it carries none."""
    found = {k: v for k, v in headers or () if k in OWN and v is not None}
    if ORIGINAL_TOPIC not in found:
        return Origin(topic, partition, offset)
    try:
        due = found.get(DUE_MS)
        return Origin(found[ORIGINAL_TOPIC].decode(), int(found[ORIGINAL_PARTITION]), int(found[ORIGINAL_OFFSET]),
                      int(found.get(ATTEMPTS, b"0")), int(found.get(STAGE, b"0")),
                      int(due) if due is not None else None)
    except (KeyError, ValueError, UnicodeDecodeError):
        return Origin(topic, partition, offset)


def _excerpt(exc: BaseException) -> str:
    text = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
    return text[-TRACEBACK_MAX_CHARS:]


def forward_headers(headers: Sequence[tuple[str, bytes | None]] | None, origin: Origin, attempts: int, stage: int,
                    exc: BaseException, due_ms: int | None) -> Headers:
    """The record's own headers plus the origin, attempts, stage, due time and the exception."""
    out: Headers = [(k, v) for k, v in headers or () if k not in OWN]
    out += [
        (ORIGINAL_TOPIC, origin.topic.encode()),
        (ORIGINAL_PARTITION, str(origin.partition).encode()),
        (ORIGINAL_OFFSET, str(origin.offset).encode()),
        (ATTEMPTS, str(attempts).encode()),
        (STAGE, str(stage).encode()),
        (EXCEPTION_TYPE, f"{type(exc).__module__}.{type(exc).__qualname__}".encode()),
        (EXCEPTION_MESSAGE, str(exc)[:MESSAGE_MAX_CHARS].encode("utf-8", "replace")),
        (EXCEPTION_TRACEBACK, _excerpt(exc).encode("utf-8", "replace")),
    ]
    if due_ms is not None:
        out.append((DUE_MS, str(due_ms).encode()))
    return out
