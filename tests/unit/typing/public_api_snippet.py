"""What a user's code sees of the clients' public API, for tests/unit/test_typing.py: every
``reveal_type`` here must name a real type, never ``Any`` (a record's key and value are ``Any`` by
design: the deserializers decide them, so they are not revealed here)."""
from __future__ import annotations

import kafkaio


async def produce(p: kafkaio.Producer) -> None:
    reveal_type(await p.send_and_wait("t", b"v"))
    reveal_type(await p.send("t", b"v"))
    reveal_type(await p.partitions_for("t"))


async def consume(c: kafkaio.Consumer, tp: kafkaio.TopicPartition) -> None:
    reveal_type(await c.getone())
    reveal_type(await c.getmany(timeout_ms=100))
    async for record in c:
        reveal_type(record)
        reveal_type(record.offset)
        reveal_type(record.headers)
    reveal_type(await c.committed(tp))
    reveal_type(await c.position(tp))
    reveal_type(c.assignment())
    reveal_type(c.group_metadata())


async def admin(a: kafkaio.Admin) -> None:
    reveal_type(await a.list_topics())
    reveal_type(await a.describe_acls())
    reveal_type(await a.create_acls([]))
    reveal_type(await a.delete_acls([]))
