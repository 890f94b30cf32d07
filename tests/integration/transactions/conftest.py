"""Transactions run against the session broker (``bootstrap_servers``: KAFKAIO_BOOTSTRAP or a local
KRaft broker); this directory's helpers are importable by the tests and the pipeline worker.

Every test runs twice: with the classic transaction protocol (v1) and with transaction v2
(KIP-890), which kafkaio uses when the broker has finalized ``transaction.version`` 2 (on an older
broker both runs are v1)."""
from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))


@pytest.fixture(autouse=True)
def _every_transaction_version(txn_version: int) -> int:
    """Every test here runs under both transaction protocols (the suite's ``txn_version``)."""
    return txn_version
