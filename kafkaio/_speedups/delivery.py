"""What both twins of ``_producer`` need of their collaborators, without importing the producer.

The partition appender compares the cluster's metadata (read from the :class:`MetadataHolder` of a
:class:`MetadataSource`) by identity with the one its partition counts came from. A record's awaitable holds its batch (the producer's ``ProducerBatch``, which satisfies
:class:`DeliveryBatch`) and derives the record's ``RecordMetadata`` from the batch's future. A batch
the broker refused as too large is split into parts; it then resolves with
:data:`SPLIT_BASE_OFFSET` and :func:`follow_split` finds the part that holds a record.
"""
from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any, Protocol

__all__ = ["SPLIT_BASE_OFFSET", "DeliveryBatch", "MetadataHolder", "MetadataSource", "OpenBuilder", "UntrackedRecords", "follow_split"]

# the base offset an original batch resolves with once all its split parts are done
SPLIT_BASE_OFFSET = -2


class MetadataHolder(Protocol):
    """The current cluster metadata in one field (``metadata_cell``'s ``MetadataCell``); a refresh replaces it."""

    @property
    def current(self) -> object:
        """The metadata (read only here: the cluster is its one writer)."""
        ...


class MetadataSource(Protocol):
    """What owns the current cluster metadata (the cluster): its holder, the one object it writes
    each new metadata into and the append path reads it from."""

    @property
    def metadata_cell(self) -> MetadataHolder: ...


class OpenBuilder(Protocol):
    """The open batch's builder, as the append path uses it."""

    def append(self, timestamp_ms: int, key: Any, value: Any, headers: Any = ...) -> int:
        """The record's offset delta, or -1 when the batch is full."""
        ...

    def estimated_size(self) -> int:
        """The batch's size so far, before compression (what each record adds is counted)."""
        ...


class UntrackedRecords(Protocol):
    """A batch's ``UntrackedFutures``, as the per-record path uses it."""

    def track_all(self) -> None: ...


class DeliveryBatch(Protocol):
    """A producer batch as the per-record path reads it."""

    @property
    def topic(self) -> str: ...

    @property
    def partition(self) -> int: ...

    @property
    def future(self) -> asyncio.Future[tuple[int, int]]:
        """Resolved with ``(base_offset, log_append_time_ms)`` or the batch's error."""
        ...

    @property
    def untracked(self) -> UntrackedRecords:
        """The batch's record futures left out of the cyclic garbage collector (the compiled path)."""
        ...

    @property
    def builder(self) -> OpenBuilder | None:
        """None once the batch was drained (built)."""
        ...

    @property
    def split_parts(self) -> Sequence[tuple[DeliveryBatch, int]] | None:
        """Per offset delta, the part holding that record and its delta there (set by a split)."""
        ...


def follow_split(batch: DeliveryBatch, delta: int) -> tuple[DeliveryBatch, int]:
    """The part (and the delta within it) holding record ``delta`` of a batch that was split."""
    while True:
        parts = batch.split_parts
        if parts is None:
            return batch, delta
        batch, delta = parts[delta]
