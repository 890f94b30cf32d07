"""The client processes of the group workloads, without a broker: a member whose broker is not
there keeps trying to join; it is paused and woken, stopped cleanly or abandoned with the run, and
its history comes back merged into the runner's."""
from __future__ import annotations

import asyncio
import os
import random
import shutil
import signal
import socket
import time

import pytest

from kafkaio.testing.chaos.history import History
from kafkaio.testing.chaos.workloads import _ProcessWorkload


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _member_cfg() -> dict:
    return {"role": "member", "bootstrap": f"127.0.0.1:{_closed_port()}", "group": "g", "topic": "t",
            "settings": {"request_timeout_ms": 1000}, "assignor": "range", "seed": 1}


def _state(pid: int) -> str:
    with open(f"/proc/{pid}/stat") as f:
        return f.read().rsplit(")", 1)[1].split()[0]


async def _until(check, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "timed out"
        await asyncio.sleep(0.1)


async def test_a_member_process_is_paused_woken_and_stopped_and_its_history_merged() -> None:
    history = History()
    w = _ProcessWorkload(history, random.Random(1))
    p = w._spawn("member-0", _member_cfg())
    await _until(lambda: any(e["op"] == "join" for e in p.entries()))   # it runs, and logs
    assert w._pause(p, 0.3) == "member-0"
    await _until(lambda: _state(p.proc.pid) == "T", timeout=5.0)   # really stopped
    await w._wake_all()   # the pause runs its course: SIGCONT
    assert not p.paused
    await w._stop_all(timeout=30.0)
    assert p.exited.result() == 0   # SIGTERM: it stopped trying and exited cleanly
    await w._wind_down()
    mine = [e for e in history.entries if e["proc"] == "member-0"]
    joins = [e for e in mine if e["op"] == "join"]
    assert joins and all(e["outcome"] == "failed" for e in joins) and "stopped" in [e["op"] for e in mine]
    assert [e["i"] for e in history.entries] == list(range(len(history.entries)))
    assert [e["t"] for e in history.entries] == sorted(e["t"] for e in history.entries)
    assert any(e["op"] == "fault" and e["kind"] == "member_resume" for e in history.entries)
    assert not w.workdir.exists()


async def test_an_abandoned_run_kills_its_processes_even_one_still_starting() -> None:
    w = _ProcessWorkload(History(), random.Random(2))
    running = w._spawn("member-0", _member_cfg())
    await _until(lambda: running.proc is not None)
    starting = w._spawn("member-1", _member_cfg())   # abandoned before its process exists
    try:
        await w.abandon()
        assert running.exited.result() == -signal.SIGKILL
        assert starting.exited.result() == -signal.SIGKILL
        for p in (running, starting):
            with pytest.raises(ProcessLookupError):   # no such process any more
                os.kill(p.proc.pid, 0)
        assert w.workdir.exists()   # kept for the report of the failed run
    finally:
        shutil.rmtree(w.workdir, ignore_errors=True)
