"""The in-memory LRU store of the dedup guard."""
from __future__ import annotations

from kafkaio.processing import InMemoryLRUStore

async def test_lru_store_forgets_the_oldest() -> None:
    store = InMemoryLRUStore(max_size=2)
    await store.remember("a")
    await store.remember("b")
    assert await store.seen("a")                   # a is now the newest
    await store.remember("c")
    assert await store.seen("a") and await store.seen("c") and not await store.seen("b")
