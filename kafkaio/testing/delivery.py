"""Checking what a producer reported against what the log holds, for tests of delivery guarantees.

``outcomes = {value: await outcome(fut) for value, fut in sent.items()}``, then read the partition
back with a client of its own and ``check_log(values_read, outcomes)``: a record reported delivered
is in the log exactly once; a record reported failed is absent, unless its error says its outcome
is unknown (a batch that may have been written), then it is there at most once.
"""
from __future__ import annotations

from collections.abc import Awaitable, Mapping, Sequence

__all__ = ["check_log", "outcome"]


async def outcome(fut: Awaitable[object]) -> object:
    """The record's metadata, or the exception its delivery failed with."""
    try:
        return await fut
    except Exception as exc:  # noqa: BLE001 - the outcome is what the caller checks
        return exc


def check_log(log_values: Sequence[bytes | None], outcomes: Mapping[bytes, object]) -> None:
    """Assert the delivery rules for every record of ``outcomes`` (value -> :func:`outcome`)
    against the values read back from the log."""
    for value, result in outcomes.items():
        n = log_values.count(value)
        if isinstance(result, BaseException):
            if "outcome unknown" in str(result):
                assert n <= 1, f"{value!r} failed with an unknown outcome but is written {n} times"
            else:
                assert n == 0, f"{value!r} reported failed ({result!r}) but is in the log {n} times"
        else:
            assert n == 1, f"{value!r} reported delivered ({result!r}) but is in the log {n} times"
