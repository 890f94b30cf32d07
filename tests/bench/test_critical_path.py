"""benchmarks.critical_path: how the stamps of a run are cut into round trips (no broker)."""
from __future__ import annotations

from benchmarks.critical_path import _INDEX, _Stamps


def _stamps(events: list[tuple[str, int]]) -> _Stamps:
    stamps = _Stamps()
    stamps.events = [(_INDEX[name], ns) for name, ns in events]
    return stamps


def test_a_round_trip_runs_from_a_read_to_the_next_write_with_the_ready_before_that_read() -> None:
    stamps = _stamps([
        ("idle", 5), ("ready", 10), ("read", 12), ("decoded", 15), ("read_done", 20),
        ("idle", 21), ("ready", 22),  # the next pass: the caller wakes
        ("resumed", 30), ("built", 40), ("write", 50),
        ("idle", 60), ("ready", 200), ("read", 205), ("write", 260),
    ])
    rounds = stamps.rounds()
    assert len(rounds) == 2
    first = rounds[0]
    assert (first[_INDEX["ready"]], first[_INDEX["read"]], first[_INDEX["write"]]) == (10, 12, 50)
    assert first[_INDEX["resumed"]] == 30
    assert (rounds[1][_INDEX["ready"]], rounds[1][_INDEX["read"]]) == (200, 205)


def test_stamps_before_the_first_read_and_after_the_last_write_belong_to_no_round_trip() -> None:
    stamps = _stamps([("resumed", 1), ("write", 2), ("read", 10), ("write", 20), ("read", 30), ("decoded", 31)])
    rounds = stamps.rounds()
    assert [(r[_INDEX["read"]], r[_INDEX["write"]]) for r in rounds] == [(10, 20)]


def test_the_brokers_turn_runs_from_a_write_to_the_first_idle_ready_and_read_after_it() -> None:
    stamps = _stamps([
        ("write", 100), ("idle", 110), ("idle", 111), ("ready", 180), ("read", 185), ("ready", 190),
        ("write", 300), ("ready", 400), ("read", 402),
    ])
    after = stamps.after_write()
    assert after["write -> idle"] == [10]
    assert after["write -> ready"] == [80, 100]
    assert after["write -> read"] == [85, 102]


def test_a_watched_point_runs_its_action_only_while_stamping_is_on() -> None:
    stamps = _Stamps()
    seen: list[int] = []
    stamps.watch = {_INDEX["read"]: lambda: seen.append(1)}
    stamps.stamp(_INDEX["read"])
    stamps.on = True
    stamps.stamp(_INDEX["read"])
    stamps.stamp(_INDEX["write"])
    assert seen == [1]
    assert [point for point, _ in stamps.events] == [_INDEX["read"], _INDEX["write"]]


def test_the_end_of_the_measured_round_trips_stops_what_the_last_read_started() -> None:
    from benchmarks.critical_path import Hooks

    stamps = _Stamps()
    counting: list[bool] = []
    hooks = Hooks(stamps, on_read=lambda: counting.append(True), on_end=lambda: counting.append(False))
    stamps.on = True
    hooks.read()  # the last response: no write follows it
    hooks.end()
    assert counting == [True, False]
    assert not stamps.on
    hooks.read()  # the close's reads count nothing
    assert counting == [True, False]
