"""Transactions run against the session broker (``bootstrap_servers``: KAFKAIO_BOOTSTRAP or a local
KRaft broker); this directory's helpers are importable by the tests and the pipeline worker."""
from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
