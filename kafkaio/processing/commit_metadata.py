"""The commit metadata that carries the records finished above the completed watermark.

Format: ``kio1:<watermark>:<ranges>``, where ``<ranges>`` are comma-separated ``start+count`` in
base 36, ``start`` counted from the watermark. The watermark is part of the text so that metadata
read back with a different committed offset (someone else committed without it) is ignored rather
than misapplied. When the ranges do not fit in ``max_bytes`` (the broker refuses metadata larger
than ``offset.metadata.max.bytes``, 4096 by default) only the first ones are written: a restart
then handles the others again, which is allowed, never skips one that was not done.
"""
from __future__ import annotations

from collections.abc import Sequence

PREFIX = "kio1:"
DEFAULT_MAX_BYTES = 4000


def _b36(n: int) -> str:
    digits = "0123456789abcdefghijklmnopqrstuvwxyz"
    if n == 0:
        return "0"
    out = []
    while n:
        n, r = divmod(n, 36)
        out.append(digits[r])
    return "".join(reversed(out))


def encode(watermark: int, done_above: Sequence[int], max_bytes: int = DEFAULT_MAX_BYTES) -> str:
    """Metadata for a commit at ``watermark`` with ``done_above`` (ascending, all > watermark)."""
    head = f"{PREFIX}{watermark}:"
    parts: list[str] = []
    size = len(head)
    i, n = 0, len(done_above)
    while i < n:
        start = done_above[i]
        j = i + 1
        while j < n and done_above[j] == done_above[j - 1] + 1:
            j += 1
        part = f"{_b36(start - watermark)}+{_b36(j - i)}"
        if size + len(part) + 1 > max_bytes:
            break
        parts.append(part)
        size += len(part) + 1
        i = j
    return head + ",".join(parts)


def decode(metadata: str, committed_offset: int) -> frozenset[int]:
    """The offsets done above ``committed_offset``; empty for metadata of another kind or offset."""
    if not metadata.startswith(PREFIX):
        return frozenset()
    try:
        wm_text, _, ranges = metadata[len(PREFIX):].partition(":")
        if int(wm_text) != committed_offset:
            return frozenset()
        done: set[int] = set()
        for part in filter(None, ranges.split(",")):
            start_text, _, count_text = part.partition("+")
            start = committed_offset + int(start_text, 36)
            done.update(range(start, start + int(count_text, 36)))
    except ValueError:
        return frozenset()
    return frozenset(o for o in done if o > committed_offset)
