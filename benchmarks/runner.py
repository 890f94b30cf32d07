"""Runs one job in its own process and collects its result, its error, and its peak RSS."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from benchmarks.child import RESULT_PREFIX
from benchmarks.settings import Job

REPO_ROOT = Path(__file__).resolve().parent.parent


@dataclass
class Outcome:
    """What one run produced: a result dict when it worked, else the error that stopped it."""

    job: Job
    ok: bool
    result: dict[str, Any] = field(default_factory=dict)
    error: str | None = None
    maxrss_kb: int = 0
    wall_s: float = 0.0

    @property
    def rate(self) -> float | None:
        """Records per second, for throughput runs that worked."""
        if not self.ok or not self.result.get("seconds"):
            return None
        return self.result["records"] / self.result["seconds"]

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "Outcome":
        return cls(Job.from_dict(data["job"]), data["ok"], data["result"], data["error"],
                   data["maxrss_kb"], data["wall_s"])

    def to_dict(self) -> dict[str, Any]:
        return {
            "job": self.job.to_dict(),
            "ok": self.ok,
            "result": self.result,
            "error": self.error,
            "maxrss_kb": self.maxrss_kb,
            "wall_s": self.wall_s,
        }


def python_command(job: Job) -> list[str]:
    return [sys.executable, "-m", "benchmarks.child", json.dumps(job.to_dict())]


def run_command(job: Job, command: list[str], parse) -> Outcome:
    """Start ``command``, wait for it (killing it after ``job.timeout_s``), read its peak RSS from
    ``wait4``, and turn its output into an Outcome with ``parse(stdout) -> dict``."""
    env = dict(os.environ)
    env["PYTHONPATH"] = str(REPO_ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    # An installed client imports from bytecode compiled at install; the tree's modules would be
    # compiled again at every start where this is set, which the group runs' clock would count.
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        start = time.perf_counter()
        proc = subprocess.Popen(command, stdout=out, stderr=err, cwd=REPO_ROOT, env=env,
                                start_new_session=True)
        timed_out = threading.Event()

        def kill() -> None:
            timed_out.set()
            try:
                # stacks first: Python runners print theirs on SIGUSR1 (child.py), the JVM and Go on SIGQUIT
                os.kill(proc.pid, signal.SIGQUIT if job.client in ("java", "franz-go") else signal.SIGUSR1)
                time.sleep(2.0)
                os.killpg(proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass

        timer = threading.Timer(job.timeout_s, kill)
        timer.start()
        try:
            _, status, usage = os.wait4(proc.pid, 0)
        finally:
            timer.cancel()
        proc.returncode = os.waitstatus_to_exitcode(status)  # reaped here, not by Popen
        wall = time.perf_counter() - start
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read(), err.read()
    # KiB on Linux. wait4's figure is at least this harness's own peak RSS (Linux carries the
    # parent's across fork + exec), so the Python children measure their own (child.peak_rss_kb);
    # the JVM runs keep wait4's, which at a few hundred MiB is well above that floor.
    maxrss = usage.ru_maxrss
    if timed_out.is_set():
        # the stacks it printed go to the raw results, for whoever debugs the hang
        return Outcome(job, False, result={"stderr_tail": stderr[-20000:]},
                       error=f"timed out after {job.timeout_s:.0f} s", maxrss_kb=maxrss, wall_s=wall)
    try:
        result = parse(stdout)
        maxrss = result.pop("peak_rss_kb", maxrss)
    except Exception as exc:
        # a child that failed says why in its stderr; one that exited cleanly printed something
        # the parser could not use, and the parser's message says what
        error = _last_error(stderr, proc.returncode) if proc.returncode != 0 else f"{type(exc).__name__}: {exc}"
        return Outcome(job, False, error=error, maxrss_kb=maxrss, wall_s=wall)
    if proc.returncode != 0:
        return Outcome(job, False, result=result, error=_last_error(stderr, proc.returncode),
                       maxrss_kb=maxrss, wall_s=wall)
    if result.get("errors"):
        return Outcome(job, False, result=result, error=f"{result['errors']} records failed",
                       maxrss_kb=maxrss, wall_s=wall)
    return Outcome(job, True, result=result, maxrss_kb=maxrss, wall_s=wall)


def _last_error(stderr: str, returncode: int) -> str:
    """The most telling line of a failed child's stderr (the exception line of a traceback)."""
    lines = [ln.strip() for ln in stderr.strip().splitlines() if ln.strip()]
    for line in reversed(lines):
        if "Error" in line or "Exception" in line or "error" in line:
            return line[:300]
    tail = lines[-1][:300] if lines else "no output"
    return f"exit code {returncode}: {tail}"


def parse_python(stdout: str) -> dict[str, Any]:
    for line in reversed(stdout.splitlines()):
        if line.startswith(RESULT_PREFIX):
            return json.loads(line[len(RESULT_PREFIX):])
    raise RuntimeError("the child printed no result")


def run_job(job: Job) -> Outcome:
    """Run one job with the right command for its client."""
    if job.client == "java":
        from benchmarks.clients import java_perf

        return run_command(job, java_perf.command(job), java_perf.parser(job))
    if job.client == "franz-go":
        from benchmarks.clients import franzgo_bench

        return run_command(job, franzgo_bench.command(job), parse_python)
    return run_command(job, python_command(job), parse_python)
