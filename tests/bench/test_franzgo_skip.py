"""Without a Go toolchain the suite leaves franz-go out and says why."""
from __future__ import annotations

import shutil

import pytest

from benchmarks.clients import franzgo_bench


def test_without_go_franzgo_is_skipped_with_the_reason(monkeypatch: pytest.MonkeyPatch) -> None:
    from benchmarks.__main__ import _available

    franzgo_bench.binary.cache_clear()
    monkeypatch.setattr(shutil, "which", lambda name: None)
    try:
        clients, skipped = _available(["kafkaio", "franz-go"])
    finally:
        franzgo_bench.binary.cache_clear()
    assert clients == ["kafkaio"]
    assert "no Go toolchain" in skipped["franz-go"]
