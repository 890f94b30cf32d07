"""Acknowledgements waiting to be sent, per partition, and their wire form."""
from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

TopicIdPartition = tuple[uuid.UUID, int]


def encode_batches(acks: dict[int, int]) -> list[dict[str, Any]]:
    """``{offset: type}`` as ShareFetch/ShareAcknowledge ``acknowledgement_batches``: one batch per
    run of consecutive offsets, with a single type when the whole run shares it (as Java sends)."""
    out: list[dict[str, Any]] = []
    for first, types in _runs(acks):
        uniform = all(t == types[0] for t in types)
        out.append({"first_offset": first, "last_offset": first + len(types) - 1,
                    "acknowledge_types": [types[0]] if uniform else types})
    return out


def _runs(acks: dict[int, int]) -> Iterator[tuple[int, list[int]]]:
    first = -2
    types: list[int] = []
    for offset in sorted(acks):
        if types and offset == first + len(types):
            types.append(acks[offset])
            continue
        if types:
            yield first, types
        first, types = offset, [acks[offset]]
    if types:
        yield first, types


class PendingAcks:
    """Acknowledgements recorded but not yet sent to one broker, by partition: ``{offset: type}``.

    ``take`` hands them to one request; what a request carried is never sent again (a failed
    acknowledgement is reported, and the record's lock expires on the broker)."""

    def __init__(self) -> None:
        self._by_partition: dict[TopicIdPartition, dict[int, int]] = {}

    def add(self, tp: TopicIdPartition, offset: int, ack_type: int) -> None:
        self._by_partition.setdefault(tp, {})[offset] = ack_type

    def take(self) -> dict[TopicIdPartition, dict[int, int]]:
        taken, self._by_partition = self._by_partition, {}
        return taken

    def __bool__(self) -> bool:
        return bool(self._by_partition)

    def __len__(self) -> int:
        return sum(len(v) for v in self._by_partition.values())
