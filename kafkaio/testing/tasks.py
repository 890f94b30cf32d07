"""Which asyncio tasks of the running loop run kafkaio's client code: a test of shutdown asserts that
none is left once every client is closed."""
from __future__ import annotations

import asyncio
import os
from typing import Any

__all__ = ["client_tasks"]

_PACKAGE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
_TESTING = os.path.join(_PACKAGE, "testing")


def client_tasks() -> list[asyncio.Task[Any]]:
    """The running loop's unfinished tasks whose coroutine is kafkaio's client code (the testing
    tools, such as the fault proxy, are not counted)."""
    out = []
    for task in asyncio.all_tasks():
        if task.done():
            continue
        code = getattr(task.get_coro(), "cr_code", None)
        filename = os.path.abspath(code.co_filename) if code is not None else ""
        if filename.startswith(_PACKAGE + os.sep) and not filename.startswith(_TESTING + os.sep):
            out.append(task)
    return out
