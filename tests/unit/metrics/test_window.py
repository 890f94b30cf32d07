"""The windowed stats behind metrics(): rates and averages from readings of running totals, and
the two-window maximum."""
from __future__ import annotations

import math

import pytest

from kafkaio.metrics.window import RateWindow, WindowedMax


def test_the_first_reading_covers_the_time_since_start() -> None:
    w = RateWindow(start=100.0, width=2, window_s=30.0)
    elapsed, delta = w.read(110.0, (50, 5))
    assert elapsed == 10.0
    assert delta == (50.0, 5.0)
    assert RateWindow.rate(elapsed, delta[0]) == 5.0


def test_a_reading_is_compared_with_the_newest_one_at_least_a_window_old() -> None:
    w = RateWindow(start=0.0, width=1, window_s=30.0)
    w.read(10.0, (100,))
    w.read(35.0, (400,))
    # at 50 s the window starts at 20 s: the reading at 10 s is the newest one before it
    elapsed, delta = w.read(50.0, (700,))
    assert (elapsed, delta) == (40.0, (600.0,))
    # at 70 s the window starts at 40 s: the reading at 35 s
    elapsed, delta = w.read(70.0, (1000,))
    assert (elapsed, delta) == (35.0, (600.0,))


def test_rare_readings_cover_the_time_since_the_previous_one() -> None:
    w = RateWindow(start=0.0, width=1, window_s=30.0)
    w.read(300.0, (3000,))
    elapsed, delta = w.read(600.0, (3300,))
    assert (elapsed, delta) == (300.0, (300.0,))


def test_a_reading_at_the_same_time_or_earlier_has_rate_zero_not_an_error() -> None:
    w = RateWindow(start=5.0, width=1)
    elapsed, delta = w.read(4.0, (0,))
    assert elapsed == 0.0
    assert RateWindow.rate(elapsed, delta[0]) == 0.0


def test_frequent_readings_are_not_all_kept() -> None:
    w = RateWindow(start=0.0, width=1, window_s=30.0)
    for i in range(1, 20_001):   # metrics() called every 5 ms for 100 s
        elapsed, delta = w.read(i / 200.0, (i,))
    assert len(w) <= 62
    # still compared with a reading at least a window old: at most one spacing (1 s) older
    assert 30.0 <= elapsed <= 31.0 and delta[0] == pytest.approx(elapsed * 200)


def test_average_is_nan_without_values_as_in_java() -> None:
    assert RateWindow.average(10.0, 4.0) == 2.5
    assert math.isnan(RateWindow.average(0.0, 0.0))


def test_windowed_max_keeps_the_current_and_previous_window() -> None:
    m = WindowedMax(window_s=10.0)
    assert math.isnan(m.value(0.0))
    m.record(0.0, 5.0)
    m.record(3.0, 2.0)
    assert m.value(4.0) == 5.0
    m.record(12.0, 1.0)          # a new window [12, 22): the one before it still counts
    assert m.value(13.0) == 5.0
    assert m.value(22.0) == 1.0  # [12, 22) is now the previous window
    assert math.isnan(m.value(32.0))
    m.record(40.0, 3.0)          # not adjacent to the last window: nothing older counts
    assert m.value(41.0) == 3.0


@pytest.mark.parametrize("values", [(1.0, 9.0, 4.0), (9.0, 1.0, 4.0)])
def test_windowed_max_within_one_window(values: tuple[float, ...]) -> None:
    m = WindowedMax(window_s=10.0)
    for i, v in enumerate(values):
        m.record(float(i), v)
    assert m.value(5.0) == 9.0


def test_merge_takes_what_the_other_still_holds() -> None:
    closed, live = WindowedMax(window_s=10.0), WindowedMax(window_s=10.0)
    live.record(12.0, 7.0)
    closed.merge(live, 12.0)
    assert closed.value(13.0) == 7.0
    stale = WindowedMax(window_s=10.0)
    stale.record(0.0, 99.0)
    closed.merge(stale, 25.0)    # two windows later nothing is left in it
    assert closed.value(25.0) == 7.0
