"""A record the deserializer cannot handle, against a real broker, through getone()/async for (the
getmany() case is in tests/integration/test_client_failures.py): a typed error naming the record,
the records before it handed out, the position left on it, other partitions unaffected."""
from __future__ import annotations

import asyncio
import time

import pytest

import kafkaio
from kafkaio.errors import SerializationError
from kafkaio.structs import TopicPartition as TP

from consumer_helpers import unique

pytestmark = pytest.mark.integration

NO_HANG_S = 30.0


def value(b: bytes) -> str:
    if b == b"BAD":
        raise ValueError("cannot decode")
    return b.decode()


async def next_or_error(consumer: kafkaio.Consumer) -> object:
    try:
        return await asyncio.wait_for(consumer.getone(), NO_HANG_S)
    except SerializationError as exc:
        return exc


async def test_getone_and_async_for_stop_on_the_bad_record_until_seeked_past(consumer_bootstrap, raw_producer) -> None:
    topic = unique()
    await raw_producer.create_topic(topic, 2)
    # One batch, so the bad record sits in the middle of what one fetch brings.
    await raw_producer.send_batch(topic, 0, [b"v0", b"v1", b"BAD", b"v3"])
    await raw_producer.send_batch(topic, 1, [b"w0", b"w1"])
    tp0, tp1 = TP(topic, 0), TP(topic, 1)
    async with kafkaio.Consumer(bootstrap_servers=consumer_bootstrap, auto_offset_reset="earliest",
                                value_deserializer=value) as c:
        c.assign([tp0, tp1])
        seen: dict[int, list[str]] = {0: [], 1: []}
        error: SerializationError | None = None
        deadline = time.monotonic() + NO_HANG_S
        while error is None and time.monotonic() < deadline:
            got = await next_or_error(c)
            if isinstance(got, SerializationError):
                error = got
            else:
                seen[got.partition].append(got.value)  # type: ignore[attr-defined]
        assert error is not None
        assert error.topic_partition == tp0 and error.offset == 2  # type: ignore[attr-defined]
        assert isinstance(error.__cause__, ValueError)
        assert topic in str(error) and "offset 2" in str(error)
        assert seen[0] == ["v0", "v1"]
        assert await c.position(tp0) == 2
        # Not seeked past: the next reads of tp0 fail the same way (tp1's records still arrive).
        again = None
        while again is None and time.monotonic() < deadline:
            got = await next_or_error(c)
            if isinstance(got, SerializationError):
                again = got
            else:
                assert got.partition == 1  # type: ignore[attr-defined]
                seen[1].append(got.value)  # type: ignore[attr-defined]
        assert again is not None and again.offset == 2  # type: ignore[attr-defined]
        assert await c.position(tp0) == 2

        c.seek(tp0, error.offset + 1)  # type: ignore[attr-defined]
        async for record in c:
            seen[record.partition].append(record.value)
            if seen[0] == ["v0", "v1", "v3"] and len(seen[1]) == 2:
                break
        assert seen == {0: ["v0", "v1", "v3"], 1: ["w0", "w1"]}
        assert await c.position(tp0) == 4 and await c.position(tp1) == 2


async def test_async_for_raises_a_failing_key_deserializer_as_serialization_error(consumer_bootstrap,
                                                                                   raw_producer) -> None:
    topic = unique()
    await raw_producer.create_topic(topic, 1)
    await raw_producer.send_batch(topic, 0, [b"a", b"b"], keys=[b"k0", b"\xff"])
    tp = TP(topic, 0)
    async with kafkaio.Consumer(bootstrap_servers=consumer_bootstrap, auto_offset_reset="earliest",
                                key_deserializer=lambda k: k.decode("utf-8")) as c:
        c.assign([tp])
        keys = []
        with pytest.raises(SerializationError) as info:
            async with asyncio.timeout(NO_HANG_S):
                async for record in c:
                    keys.append(record.key)
        assert keys == ["k0"]
        assert info.value.offset == 1 and isinstance(info.value.__cause__, UnicodeDecodeError)  # type: ignore[attr-defined]
        assert "key_deserializer" in str(info.value)
        assert await c.position(tp) == 1
