"""A consume-transform-produce worker for the exactly-once crash test (run as a subprocess).

    python pipeline_worker.py BOOTSTRAP INPUT OUTPUT GROUP TRANSACTIONAL_ID [TRANSACTION_VERSION]

Reads INPUT (read_committed, as a static member of GROUP), writes ``b"out:" + value`` with the same
key to OUTPUT, and commits the consumed offsets in the same transaction. Prints ``committed N``
after each commit. Runs until killed; every restart with the same transactional id fences (and
aborts the open transaction of) the instance before it.
"""
from __future__ import annotations

import asyncio
import sys

import kafkaio
from kafkaio.structs import OffsetAndMetadata


async def main(bootstrap: str, src: str, dst: str, group: str, txn_id: str) -> None:
    # the producer first: its InitProducerId aborts the killed instance's open transaction, which
    # the consumer's committed-offset lookup (require_stable) would otherwise wait for
    producer = kafkaio.Producer(bootstrap, transactional_id=txn_id, linger_ms=2)
    await producer.start()
    consumer = kafkaio.Consumer(src, bootstrap_servers=bootstrap, group_id=group,
                                group_instance_id=f"{txn_id}-member", session_timeout_ms=10000,
                                isolation_level="read_committed", enable_auto_commit=False,
                                auto_offset_reset="earliest")
    await consumer.start()
    commits = 0
    try:
        while True:
            batches = await consumer.getmany(timeout_ms=200, max_records=40)
            if not batches:
                continue
            async with producer.transaction():
                offsets = {}
                for tp, records in batches.items():
                    for r in records:
                        await producer.send(dst, b"out:" + r.value, key=r.key)
                    offsets[tp] = OffsetAndMetadata(records[-1].offset + 1)
                await producer.send_offsets_to_transaction(offsets, consumer.group_metadata())
            commits += 1
            print(f"committed {commits}", flush=True)
    finally:
        await consumer.stop()
        await producer.close()


if __name__ == "__main__":
    if len(sys.argv) > 6:
        from kafkaio.producer.transactions import TransactionManager

        TransactionManager.max_transaction_version = int(sys.argv[6])
    asyncio.run(main(*sys.argv[1:6]))
