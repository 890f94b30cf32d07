"""Child-process entry point: ``python -m benchmarks.child '<job json>'`` runs one job with one
Python client and prints its result as one JSON line prefixed with ``RESULT_PREFIX``."""
from __future__ import annotations

import importlib
import json
import sys

from benchmarks.clients import MODULES
from benchmarks.settings import Job

RESULT_PREFIX = "BENCH-RESULT "


def main(argv: list[str]) -> int:
    job = Job.from_dict(json.loads(argv[0]))
    module = importlib.import_module(f"benchmarks.clients.{MODULES[job.client]}")
    result = module.run(job)
    sys.stdout.write(RESULT_PREFIX + json.dumps(result) + "\n")
    sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
