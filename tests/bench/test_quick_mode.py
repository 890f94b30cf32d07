"""What `python -m benchmarks --quick` leaves out to fit its 3-minute budget, and that the report says so."""
from __future__ import annotations

from typing import Any

import pytest

from benchmarks import processing


class _Topics:
    def __init__(self) -> None:
        self.made: list[str] = []

    def create(self, prefix: str, partitions: int) -> str:
        self.made.append(prefix)
        return prefix

    def delete(self, name: str) -> None:
        pass


def _measure(monkeypatch: pytest.MonkeyPatch, quick: bool) -> list[dict[str, Any]]:
    def child(mode: str, cfg: dict[str, Any], timeout_s: float) -> dict[str, Any]:
        return {} if mode == "fill" else {"rate": 1.0, "most_running": 1, "p99_ms": 1.0, "latency_records": 1}

    monkeypatch.setattr(processing, "_child", child)
    rows, error = processing.run("b:9092", _Topics(), quick)  # type: ignore[arg-type]
    assert error is None
    return rows


def test_quick_processing_measures_the_first_key_count_only(monkeypatch: pytest.MonkeyPatch) -> None:
    quick = _measure(monkeypatch, quick=True)
    assert {r["keys"] for r in quick} == {processing.KEY_COUNTS[0]}
    assert len(quick) == len(processing.RUNS)
    full = _measure(monkeypatch, quick=False)
    assert {r["keys"] for r in full} == set(processing.KEY_COUNTS)


def test_the_processing_parameters_say_what_quick_leaves_out() -> None:
    assert f"the {processing.KEY_COUNTS[0]:,}-key topic only with `--quick`" in processing.PARAMETERS
