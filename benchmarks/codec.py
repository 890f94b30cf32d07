"""Record codec micro-benchmark: runs engineer C's ``benchmarks/records.py`` (kafkaio's batch
builder and reader against aiokafka's, ns/record) in a child process and returns its rows."""
from __future__ import annotations

import json
import subprocess
import sys

from benchmarks.runner import REPO_ROOT

_CHILD = ("import json, sys\n"
          "from benchmarks.records import run\n"
          "print(json.dumps(run(*map(int, sys.argv[1:]))))\n")


def run(quick: bool, timeout_s: float = 300.0) -> tuple[list[dict], str | None]:
    """(rows, None) when it worked, else ([], the error)."""
    reps, batches, records = (3, 50, 128) if quick else (9, 200, 128)
    try:
        proc = subprocess.run([sys.executable, "-c", _CHILD, str(reps), str(batches), str(records)],
                              capture_output=True, text=True, cwd=REPO_ROOT, timeout=timeout_s)
    except subprocess.TimeoutExpired:
        return [], f"timed out after {timeout_s:.0f} s"
    if proc.returncode != 0:
        lines = proc.stderr.strip().splitlines()
        return [], lines[-1] if lines else f"exit code {proc.returncode}"
    return json.loads(proc.stdout.strip().splitlines()[-1]), None


PARAMETERS = ("128 records per batch, 10-byte keys, 100-byte values; encode into builders of "
              "batch_size 16384 (the producer's default) and 1 MiB; decode with the CRC check that both "
              "consumers run by default (check_crcs) and without it; median of the repetitions")
