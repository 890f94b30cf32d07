"""Child-process entry point: ``python -m benchmarks.child '<job json>'`` runs one job with one
Python client and prints its result as one JSON line prefixed with ``RESULT_PREFIX``.

SIGUSR1 makes the child print every thread's stack and every asyncio task's stack to stderr (the
harness sends it before killing a run that timed out, so a hang leaves evidence). The child exits by
itself if the harness that started it dies."""
from __future__ import annotations

import faulthandler
import importlib
import json
import os
import signal
import sys
import threading
import time

from benchmarks.clients import MODULES
from benchmarks.settings import Job

RESULT_PREFIX = "BENCH-RESULT "


def _exit_when_orphaned(parent: int) -> None:
    """Runs are in their own session (so the harness can kill their process group): without this
    a run whose harness was killed would keep going, and keep loading the machine."""
    while True:
        time.sleep(1.0)
        if os.getppid() != parent:
            os._exit(3)


def peak_rss_kb() -> int:
    """This process's peak RSS in KiB, counted from its own ``exec``.

    Not ``ru_maxrss``: Linux carries the parent's peak across fork/vfork + exec into the child's
    ``ru_maxrss`` (and so into what ``wait4`` reports), so every child would read at least the
    harness's own RSS. ``VmHWM`` belongs to the memory map made by ``exec``."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # no /proc: the best there is


def main(argv: list[str]) -> int:
    faulthandler.register(signal.SIGUSR1, all_threads=True, chain=True)
    threading.Thread(target=_exit_when_orphaned, args=(os.getppid(),), daemon=True).start()
    job = Job.from_dict(json.loads(argv[0]))
    module = importlib.import_module(f"benchmarks.clients.{MODULES[job.client]}")
    result = module.run(job)
    result["peak_rss_kb"] = peak_rss_kb()
    sys.stdout.write(RESULT_PREFIX + json.dumps(result) + "\n")
    sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
