"""An optional guard that skips records already handled, for handlers with external side effects.

The processor handles a record at least once; after a crash the records that were in flight are
handled again. A handler whose effect is not idempotent can pass a :class:`DedupGuard`: a record
whose id is in the store is skipped, and the id is remembered once the handler returned. The
default id is where the record was first read (a record from a retry topic keeps its original
topic, partition and offset); pass ``record_id`` to use an id from the record itself. The store is
pluggable (:class:`DedupStore`): the in-memory LRU default forgets on restart, a shared store
(Redis, SQL) remembers across restarts and members.
"""
from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any, Protocol, runtime_checkable


@runtime_checkable
class DedupStore(Protocol):
    """Where handled ids are kept."""

    async def seen(self, record_id: Hashable) -> bool: ...

    async def remember(self, record_id: Hashable) -> None: ...


class InMemoryLRUStore:
    """The ids of the last ``max_size`` records handled, in this process."""

    def __init__(self, max_size: int = 100_000) -> None:
        if max_size < 1:
            raise ValueError("max_size must be at least 1")
        self.max_size = max_size
        self._ids: OrderedDict[Hashable, None] = OrderedDict()

    def __len__(self) -> int:
        return len(self._ids)

    async def seen(self, record_id: Hashable) -> bool:
        if record_id in self._ids:
            self._ids.move_to_end(record_id)
            return True
        return False

    async def remember(self, record_id: Hashable) -> None:
        self._ids[record_id] = None
        self._ids.move_to_end(record_id)
        while len(self._ids) > self.max_size:
            self._ids.popitem(last=False)


class DedupGuard:
    """Skips records whose id the store has seen; ``record_id(record) -> id`` overrides the
    default (original topic, partition, offset)."""

    def __init__(self, store: DedupStore | None = None,
                 record_id: Callable[[Any], Hashable] | None = None) -> None:
        self.store: DedupStore = store if store is not None else InMemoryLRUStore()
        self.record_id = record_id
        self.skipped = 0
