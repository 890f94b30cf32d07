"""Snapshots to feed the telemetry code: every metric zero unless given."""
from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable

import pytest

from kafkaio.metrics.snapshot import NetworkMetrics, ProducerMetrics


def zeros(cls: type, **values: object) -> object:
    """A ``cls`` snapshot with every number 0 (the network's too) but ``values``."""
    args: dict[str, object] = {}
    for f in dataclasses.fields(cls):
        if f.name == "network":
            args[f.name] = zeros(NetworkMetrics)
        elif f.name != "records_lag":
            args[f.name] = 0.0 if "float" in str(f.type) else 0
    args.update(values)
    return cls(**args)


@pytest.fixture
def producer_snapshot() -> Callable[[int], ProducerMetrics]:
    """``sent`` records sent; the batch size average unmeasured (NaN)."""
    def make(sent: int) -> ProducerMetrics:
        return zeros(ProducerMetrics, record_send_total=sent, batch_size_avg=math.nan)  # type: ignore[return-value]
    return make


@pytest.fixture
def zero_snapshot() -> Callable[..., object]:
    return zeros
