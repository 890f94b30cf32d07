"""Interception of requests: what a control function sees and what it may answer.

Modelled on franz-go's kfake ``ControlKey``: a test registers a function per API key; the function
sees each request of that key before the fake handles it and decides its fate.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Union


@dataclass(frozen=True)
class RequestInfo:
    """Which request a control function is looking at."""

    api_key: int
    version: int
    correlation_id: int
    client_id: str | None
    node_id: int        # the broker it was sent to
    connection_id: int  # unique per accepted connection, so that a test can tell connections apart


class _Action:
    def __init__(self, name: str) -> None:
        self._name = name

    def __repr__(self) -> str:
        return f"FakeCluster.{self._name}"


DROP = _Action("DROP")
"""The request is swallowed: never handled, never answered (lost on its way to the broker)."""

DROP_RESPONSE = _Action("DROP_RESPONSE")
"""The request is handled normally and its answer is never sent (lost on its way back)."""

CLOSE = _Action("CLOSE")
"""The connection is closed at this request, which is neither handled nor answered."""


@dataclass(frozen=True)
class DELAY:
    """Handle the request normally after ``ms`` milliseconds. The broker answers a connection's
    requests in order, so the requests behind it on the same connection wait too."""

    ms: float


Outcome = Union["dict[str, Any]", _Action, DELAY, None]
ControlFn = Callable[[RequestInfo, "dict[str, Any]"], Outcome]
"""``fn(info, body)`` returns a response body (answered instead of the fake's own), ``DROP``,
``DROP_RESPONSE``, ``CLOSE``, ``DELAY(ms)``, or None to let the next control or the fake decide."""


@dataclass
class Control:
    """A registered control; a one-shot one is removed once it returned something other than None."""

    api_key: int | None  # None: every API
    fn: ControlFn
    persistent: bool
    calls: int = 0
    hits: int = 0
