"""Exactly-once consume-transform-produce with kafkaio: read "payments", write one "invoices" record
per payment, and commit the consumed offsets in the same transaction as the output. A crash at any
point leaves either the whole step (outputs + offsets) or none of it; read_committed consumers of
"invoices" never see the results of a step that did not commit.

    python examples/exactly_once.py                 # starts a local broker (needs Java + Maven)
    KAFKAIO_BOOTSTRAP=host:port python examples/exactly_once.py
"""
from __future__ import annotations

import asyncio
import json
import uuid

import kafkaio
from kafkaio.errors import KafkaError, ProducerFencedError
from kafkaio.testing.broker import bootstrap_or_local


async def process(bootstrap: str, payments: str, invoices: str, group: str, worker: str, want: int) -> int:
    # One transactional id per worker, stable across restarts: a restarted worker fences its
    # previous incarnation (a "zombie") and aborts whatever transaction it left open.
    producer = kafkaio.Producer(bootstrap, transactional_id=f"invoicer-{worker}",
                                value_serializer=lambda v: json.dumps(v).encode())
    consumer = kafkaio.Consumer(payments, bootstrap_servers=bootstrap, group_id=group,
                                isolation_level="read_committed",   # never read uncommitted input
                                enable_auto_commit=False,           # offsets go in the transaction
                                auto_offset_reset="earliest",
                                value_deserializer=lambda v: None if v is None else json.loads(v))
    await producer.start()      # InitProducerId: fences older producers with this transactional id
    await consumer.start()
    done = 0
    try:
        while done < want:
            batches = await consumer.getmany(timeout_ms=1000, max_records=100)
            if not batches:
                continue
            try:
                async with producer.transaction():      # commit on success, abort on an exception
                    offsets: dict[kafkaio.TopicPartition, kafkaio.OffsetAndMetadata] = {}
                    for tp, records in batches.items():
                        for r in records:
                            invoice = {"payment": r.value["id"], "amount": r.value["amount"], "vat": 0.2}
                            await producer.send(invoices, invoice, key=r.key)
                            done += 1
                        offsets[tp] = kafkaio.OffsetAndMetadata(records[-1].offset + 1)
                    # the group's offsets commit with the outputs, or not at all (KIP-447 fencing
                    # by the consumer's generation protects against a rebalanced-away member)
                    await producer.send_offsets_to_transaction(offsets, consumer.group_metadata())
            except ProducerFencedError:
                print("fenced by a newer instance of this worker; stopping")
                raise
            except KafkaError as exc:
                # the transaction was aborted: rewind to the last committed offsets and redo it
                print("transaction aborted:", exc)
                for tp in batches:
                    await consumer.seek_to_committed(tp)
                done -= sum(len(v) for v in batches.values())
    finally:
        await consumer.stop()
        await producer.close()
    return done


async def run(bootstrap: str) -> None:
    tag = uuid.uuid4().hex[:8]
    payments, invoices, group = f"payments-{tag}", f"invoices-{tag}", f"invoicer-{tag}"
    # Production clusters run with auto.create.topics.enable=false: create the topics first.
    async with kafkaio.Admin(bootstrap_servers=bootstrap) as admin:
        await admin.create_topics([kafkaio.NewTopic(t, num_partitions=3, replication_factor=1)
                                   for t in (payments, invoices)], wait_for_leaders=True)
    async with kafkaio.Producer(bootstrap, value_serializer=lambda v: json.dumps(v).encode()) as p:
        await (await p.send_many(payments, [(b"customer-%d" % (i % 7), {"id": i, "amount": i * 10})
                                            for i in range(500)]))
    print("invoiced", await process(bootstrap, payments, invoices, group, "1", 500), "payments")
    async with kafkaio.Consumer(invoices, bootstrap_servers=bootstrap, group_id=f"audit-{tag}",
                                isolation_level="read_committed", auto_offset_reset="earliest") as audit:
        seen: list[int] = []
        for _ in range(10):
            for records in (await audit.getmany(timeout_ms=1000)).values():
                seen.extend(json.loads(r.value)["payment"] for r in records)
        print("audit: every payment invoiced exactly once:", sorted(seen) == list(range(500)))


def main() -> None:
    with bootstrap_or_local(broker_properties={"num.partitions": 3}) as bootstrap:
        try:
            asyncio.run(run(bootstrap))
        except KafkaError as exc:
            raise SystemExit(f"failed: {exc}") from exc


if __name__ == "__main__":
    main()
