"""franz-go (Go) as the fastest open client to chase: ``benchmarks/franzgo``, a small Go program
built here with the Go toolchain when there is one, runs each job in its own process and prints
its result line as the Python runners do. Without a toolchain (or when the build fails) the suite
leaves franz-go out and says why in the report."""
from __future__ import annotations

import functools
import hashlib
import json
import os
import shutil
import subprocess
from pathlib import Path

from benchmarks.settings import Job

SOURCE_DIR = Path(__file__).resolve().parent.parent / "franzgo"
BUILD_TIMEOUT_S = 600.0  # the first build downloads franz-go through the Go module proxy


class Unavailable(Exception):
    """The franz-go runner cannot be built here; the message says why."""


def _cache_dir() -> Path:
    root = Path(os.environ.get("KAFKAIO_CACHE") or Path.home() / ".cache" / "kafkaio")
    return root / "bench-franzgo"


def _source_hash() -> str:
    digest = hashlib.sha256()
    for name in ("go.mod", "go.sum", "main.go"):
        digest.update((SOURCE_DIR / name).read_bytes())
    return digest.hexdigest()[:16]


@functools.cache
def binary() -> Path:
    """The built runner, built once per source version (raises :class:`Unavailable`)."""
    go = shutil.which("go")
    if go is None:
        raise Unavailable("no Go toolchain on PATH (`go`): franz-go not measured")
    target = _cache_dir() / f"franzgo-{_source_hash()}"
    if target.exists():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_suffix(".partial")
    try:
        proc = subprocess.run([go, "build", "-o", str(partial), "."], cwd=SOURCE_DIR,
                              capture_output=True, text=True, timeout=BUILD_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        raise Unavailable(f"`go build` of benchmarks/franzgo took over {BUILD_TIMEOUT_S:.0f} s") from None
    if proc.returncode != 0:
        last = (proc.stderr.strip().splitlines() or ["no output"])[-1]
        raise Unavailable(f"`go build` of benchmarks/franzgo failed: {last[:300]}")
    partial.replace(target)
    return target


def unavailable_reason() -> str | None:
    """None when the runner is built (building it if need be), else why it cannot be."""
    try:
        binary()
    except Unavailable as exc:
        return str(exc)
    return None


def command(job: Job) -> list[str]:
    """The runner's command line for this job: the job, as JSON."""
    return [str(binary()), json.dumps(job.to_dict())]
