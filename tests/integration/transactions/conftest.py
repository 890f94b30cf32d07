"""Transactions run against the session broker (``bootstrap_servers``: KAFKAIO_BOOTSTRAP or a local
KRaft broker); this directory's helpers are importable by the tests and the pipeline worker.

Every test runs twice: with the classic transaction protocol (v1) and with transaction v2
(KIP-890), which kafkaio uses when the broker has finalized ``transaction.version`` 2 (on an older
broker both runs are v1)."""
from __future__ import annotations

import sys
from pathlib import Path
from typing import Iterator

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from kafkaio.producer.transactions import TransactionManager  # noqa: E402


@pytest.fixture(params=[1, 2], ids=["txn-v1", "txn-v2"], autouse=True)
def txn_version(request: pytest.FixtureRequest) -> Iterator[int]:
    saved = TransactionManager.max_transaction_version
    TransactionManager.max_transaction_version = request.param
    try:
        yield request.param
    finally:
        TransactionManager.max_transaction_version = saved
