"""The compiled reader's _Source (the fetched buffer batches read from) holds an export of that
buffer until it is freed. Caught in a reference cycle with the buffer's memoryview, the garbage
collector must not try to release the memoryview while the export stands (BufferError, reported
as an unraisable exception in tp_clear, seen in the unit suite)."""
from __future__ import annotations

import gc
import sys
from typing import Any

import pytest

import kafkaio

pytestmark = pytest.mark.skipif(not kafkaio.speedups_enabled(), reason="the compiled reader's buffer holder")


def test_a_cycle_through_a_source_and_its_memoryview_is_collected_cleanly(monkeypatch: pytest.MonkeyPatch) -> None:
    from kafkaio._speedups import _records

    unraisable: list[Any] = []
    monkeypatch.setattr(sys, "unraisablehook", unraisable.append)
    for _ in range(10):
        view = memoryview(bytearray(b"x" * 100))
        cycle: list[Any] = [view, _records._Source(view)]
        cycle.append(cycle)
        del view, cycle
        gc.collect()
    assert [type(u.exc_value).__name__ for u in unraisable] == []
