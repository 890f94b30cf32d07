"""A line that could repeat per record is written once, then at most once per interval with a count."""
from __future__ import annotations

import logging

import pytest

from kafkaio._logthrottle import Throttled


def test_first_line_written_then_counted_until_the_interval_then_written_with_the_count(caplog) -> None:
    log = logging.getLogger("kafkaio.test.throttle")
    t = Throttled(log, interval_s=60.0)
    caplog.set_level(logging.WARNING, logger="kafkaio.test.throttle")
    assert t.log(logging.WARNING, "bad record %d", 1, now=100.0)
    assert not any(t.log(logging.WARNING, "bad record %d", i, now=100.0 + i) for i in range(2, 50))
    assert t.left_out == 48
    assert t.log(logging.WARNING, "bad record %d", 99, now=160.0)
    assert t.left_out == 0
    assert [r.getMessage() for r in caplog.records] == [
        "bad record 1", "bad record 99 (48 more like this since the last such line were not logged)"]


@pytest.mark.parametrize("interval", [0.0, 1.0])
def test_lines_far_apart_are_all_written(caplog, interval: float) -> None:
    log = logging.getLogger("kafkaio.test.throttle2")
    t = Throttled(log, interval_s=interval)
    caplog.set_level(logging.INFO, logger="kafkaio.test.throttle2")
    for k in range(3):
        assert t.log(logging.INFO, "line", now=10.0 * k)
    assert [r.getMessage() for r in caplog.records] == ["line"] * 3
