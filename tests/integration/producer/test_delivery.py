"""The producer against a real broker: acks levels, compression, headers and timestamps, keyed
partitioning, ordering and exactly-once writes of the idempotent producer, limits, retries."""
from __future__ import annotations

import asyncio
import logging

import pytest
from producer_helpers import create_topic, read_partition, read_topic, unique

from kafkaio.errors import (
    IllegalArgumentError,
    KafkaError,
    KafkaTimeoutError,
    ProducerClosedError,
    RecordTooLargeError,
    SerializationError,
)
from kafkaio.producer.partitioner import partition_for_key
from kafkaio.producer.producer import Producer

pytestmark = pytest.mark.integration


@pytest.mark.parametrize("acks", [0, 1, "all"])
async def test_each_acks_level_delivers(producer_bootstrap: str, acks) -> None:
    topic = await create_topic(producer_bootstrap, unique("acks"), 1)
    async with Producer(bootstrap_servers=producer_bootstrap, acks=acks) as p:
        futs = [await p.send(topic, f"v{i}".encode()) for i in range(50)]
        mds = [await f for f in futs]
        assert p.config.idempotence_enabled == (acks == "all")
    if acks == 0:
        assert {md.offset for md in mds} == {-1}  # nothing is acknowledged: offsets unknown
    else:
        assert [md.offset for md in mds] == list(range(50))
    got = await read_partition(producer_bootstrap, topic, 0, want=50)  # acks=0: maybe not appended yet
    assert [r.value for r in got] == [f"v{i}".encode() for i in range(50)]


@pytest.mark.parametrize("codec,attr", [("none", 0), ("gzip", 1), ("snappy", 2), ("lz4", 3), ("zstd", 4)])
async def test_every_compression_codec_round_trips(producer_bootstrap: str, codec: str, attr: int) -> None:
    topic = await create_topic(producer_bootstrap, unique(f"codec-{codec}"), 1)
    values = [(b"record-%d-" % i) * 20 for i in range(300)]
    async with Producer(bootstrap_servers=producer_bootstrap, compression_type=codec) as p:
        await (await p.send_many(topic, values))
    got = await read_partition(producer_bootstrap, topic, 0)
    assert [r.value for r in got] == values
    assert {r.compression for r in got} == {attr}


async def test_headers_keys_and_create_timestamps_round_trip(producer_bootstrap: str) -> None:
    topic = await create_topic(producer_bootstrap, unique("headers"), 1)
    async with Producer(bootstrap_servers=producer_bootstrap, client_id="kafkaio-producer-test") as p:
        md = await p.send_and_wait(topic, b"v", key=b"k", timestamp_ms=1_600_000_000_123,
                                   headers=[("trace", b"abc"), ("empty", None), ("trace", b"again")])
        md2 = await p.send_and_wait(topic, None, key=b"tombstone")
    assert (md.timestamp, md.timestamp_type) == (1_600_000_000_123, 0)
    got = await read_partition(producer_bootstrap, topic, 0)
    assert got[0].key == b"k" and got[0].value == b"v" and got[0].timestamp == 1_600_000_000_123
    assert got[0].headers == [("trace", b"abc"), ("empty", None), ("trace", b"again")]
    assert got[1].value is None and got[1].offset == md2.offset


async def test_headers_as_a_mapping_and_bad_headers(producer_bootstrap: str) -> None:
    topic = await create_topic(producer_bootstrap, unique("headers-map"), 1)
    async with Producer(bootstrap_servers=producer_bootstrap) as p:
        await p.send_and_wait(topic, b"v", headers={"trace": b"abc", "text": "caf\u00e9", "none": None})
        await (await p.send_many(topic, [(b"k", b"w", {"one": b"1"})]))
        for bad, reason in [(["trace"], "pair"), ([(1, b"x")], "name must be str"),
                            ([("n", 5)], "must be bytes, str or None"), (42, "a list of .str, bytes. pairs or a mapping")]:
            with pytest.raises(SerializationError, match=reason):
                await p.send(topic, b"v", headers=bad)
    got = await read_partition(producer_bootstrap, topic, 0)
    assert got[0].headers == [("trace", b"abc"), ("text", "caf\u00e9".encode()), ("none", None)]
    assert got[1].headers == [("one", b"1")] and len(got) == 2


async def test_headers_of_every_form_mixed_in_open_batches(producer_bootstrap: str) -> None:
    """send()'s fast path (a record appended to an open batch) takes headers in their usual form
    and leaves the others to the general path: every record lands with its own headers, and a
    refused one changes nothing for the records around it."""
    topic = await create_topic(producer_bootstrap, unique("headers-mix"), 1)
    forms: list = [[("a", b"1")], (("b", None),), [("c", b"3"), ("c", b"4")], {"d": b"5"},
                   [["e", b"6"]], [("f", "caf\u00e9")], [], None, [("\u00fc", b"")]]
    expected = [[("a", b"1")], [("b", None)], [("c", b"3"), ("c", b"4")], [("d", b"5")],
                [("e", b"6")], [("f", "caf\u00e9".encode())], [], [], [("\u00fc", b"")]]
    async with Producer(bootstrap_servers=producer_bootstrap, linger_ms=50) as p:
        futs = []
        for i in range(200):
            futs.append(await p.send(topic, b"v%d" % i, headers=forms[i % len(forms)]))
            if i == 100:
                with pytest.raises(SerializationError, match="must be bytes, str or None"):
                    await p.send(topic, b"refused", headers=[("n", 5)])
        mds = [await f for f in futs]
    assert [md.offset for md in mds] == list(range(200))
    got = await read_partition(producer_bootstrap, topic, 0)
    assert [(r.value, r.headers) for r in got] == [(b"v%d" % i, expected[i % len(forms)]) for i in range(200)]


async def test_log_append_time_is_reported_back(producer_bootstrap: str) -> None:
    topic = await create_topic(producer_bootstrap, unique("lat"), 1,
                               configs={"message.timestamp.type": "LogAppendTime"})
    async with Producer(bootstrap_servers=producer_bootstrap) as p:
        md = await p.send_and_wait(topic, b"v", timestamp_ms=1000)
    assert md.timestamp_type == 1 and md.timestamp > 1000
    [rec] = await read_partition(producer_bootstrap, topic, 0)
    assert rec.timestamp == md.timestamp and rec.timestamp_type == 1


async def test_keyed_records_land_where_the_java_client_puts_them(producer_bootstrap: str) -> None:
    topic = await create_topic(producer_bootstrap, unique("keys"), 6)
    keys = [f"user-{i}".encode() for i in range(60)]
    async with Producer(bootstrap_servers=producer_bootstrap) as p:
        mds = [await f for f in [await p.send(topic, b"v", key=k) for k in keys]]
    for k, md in zip(keys, mds):
        assert md.partition == partition_for_key(k, 6)
    stored = await read_topic(producer_bootstrap, topic, 6)
    for part, records in stored.items():
        assert all(partition_for_key(r.key, 6) == part for r in records)
    assert sum(len(r) for r in stored.values()) == 60


async def test_keyless_records_use_sticky_batches_over_all_partitions(producer_bootstrap: str) -> None:
    topic = await create_topic(producer_bootstrap, unique("sticky"), 3)
    async with Producer(bootstrap_servers=producer_bootstrap, batch_size=1024, linger_ms=0) as p:
        mds = await (await p.send_many(topic, [b"x" * 100] * 300))
    parts = [md.partition for md in mds]
    assert set(parts) == {0, 1, 2}
    # sticky: long runs on one partition, not round-robin per record
    switches = sum(1 for a, b in zip(parts, parts[1:]) if a != b)
    assert switches < 100


async def test_explicit_partition_is_honoured_and_a_missing_one_times_out(producer_bootstrap: str) -> None:
    topic = await create_topic(producer_bootstrap, unique("explicit"), 3)
    async with Producer(bootstrap_servers=producer_bootstrap, max_block_ms=1500) as p:
        await p._cluster.wait_for_topic(topic, 30_000)  # metadata first: max_block_ms is short
        md = await p.send_and_wait(topic, b"v", key=b"whatever", partition=2)
        assert md.partition == 2
        with pytest.raises(KafkaTimeoutError) as info:
            await p.send(topic, b"v", partition=7)
        assert "partition 7" in str(info.value)
        with pytest.raises(IllegalArgumentError):
            await p.send(topic, b"v", partition=-1)


async def test_idempotent_producer_writes_each_record_once_in_order(producer_bootstrap: str) -> None:
    topic = await create_topic(producer_bootstrap, unique("idem"), 2)
    n = 5000
    async with Producer(bootstrap_servers=producer_bootstrap, batch_size=2048, linger_ms=1) as p:
        futs = [await p.send(topic, str(i).encode(), partition=i % 2) for i in range(n)]
        await p.flush()
        assert all(f.done() for f in futs)
        mds = [f.result() for f in futs]
    for part in (0, 1):
        got = await read_partition(producer_bootstrap, topic, part)
        assert [int(r.value) for r in got] == list(range(part, n, 2))
        assert {r.producer_id for r in got} != {-1} and len({r.producer_id for r in got}) == 1
        # sequences are contiguous per partition
        seqs = sorted({(r.base_sequence) for r in got})
        assert seqs[0] == 0
    assert [md.offset for md in mds if md.partition == 0] == list(range(n // 2))


async def test_send_many_accepts_values_pairs_and_triples(producer_bootstrap: str) -> None:
    topic = await create_topic(producer_bootstrap, unique("many"), 1)
    records = [b"plain", (b"k1", b"v1"), (b"k2", b"v2", [("h", b"x")])]
    async with Producer(bootstrap_servers=producer_bootstrap) as p:
        mds = await (await p.send_many(topic, records))
    assert [md.offset for md in mds] == [0, 1, 2]
    got = await read_partition(producer_bootstrap, topic, 0)
    assert [(r.key, r.value, r.headers) for r in got] == [
        (None, b"plain", []), (b"k1", b"v1", []), (b"k2", b"v2", [("h", b"x")])]



async def test_send_many_with_headers_reads_back_as_it_returned(producer_bootstrap: str) -> None:
    """Records of several batches and partitions, most of them in the appender's common form and
    some only the general path takes: the log holds each where its metadata says, headers intact."""
    topic = await create_topic(producer_bootstrap, unique("many-headers"), 3)
    hdrs = [("trace", b"t-%d"), ("none", None)]
    records: list = []
    for i in range(3000):
        value = b"%05d" % i + b"x" * 50
        headers = [(k, v % i if v is not None else None) for k, v in hdrs]
        records.append([value, (None, value), (None, value, headers), (b"k%d" % (i % 5), value, tuple(headers)),
                        (None, value, dict(headers)), (None, value, [["as-list", b"1"]])][i % 6])
    async with Producer(bootstrap_servers=producer_bootstrap, batch_size=4096, linger_ms=2) as p:
        mds = []
        for start in range(0, len(records), 1000):
            mds += await (await p.send_many(topic, records[start:start + 1000]))
    stored = await read_topic(producer_bootstrap, topic, 3)
    assert sum(len(v) for v in stored.values()) == len(records)
    at = {(part, r.offset): r for part, recs in stored.items() for r in recs}
    for item, md in zip(records, mds):
        key, value, headers = (item + (None,))[:3] if isinstance(item, tuple) else (None, item, None)
        r = at[(md.partition, md.offset)]
        want_headers = [tuple(h) for h in (headers.items() if isinstance(headers, dict) else headers or [])]
        assert (r.key, r.value, r.headers) == (key, value, want_headers)
    for part in range(3):  # offsets of each partition in the order send_many returned them
        offsets = [md.offset for md in mds if md.partition == part]
        assert offsets == sorted(offsets) == list(range(len(offsets)))

async def test_too_large_record_fails_at_send_without_disturbing_others(producer_bootstrap: str) -> None:
    topic = await create_topic(producer_bootstrap, unique("large"), 1)
    async with Producer(bootstrap_servers=producer_bootstrap, max_request_size=10_000) as p:
        before = await p.send(topic, b"before")
        with pytest.raises(RecordTooLargeError) as info:
            await p.send(topic, b"x" * 20_000)
        assert "max_request_size" in str(info.value)
        after = await p.send(topic, b"after")
        assert (await before).offset + 1 == (await after).offset
    assert [r.value for r in await read_partition(producer_bootstrap, topic, 0)] == [b"before", b"after"]


async def test_serializers_and_delivery_callback(producer_bootstrap: str) -> None:
    topic = await create_topic(producer_bootstrap, unique("serde"), 1)
    seen: list = []
    async with Producer(bootstrap_servers=producer_bootstrap, key_serializer=lambda k: k.encode(),
                        value_serializer=lambda v: repr(v).encode(),
                        on_delivery=lambda md, exc: seen.append((md.offset if md else None, exc))) as p:
        await p.send_and_wait(topic, {"a": 1}, key="k")
        await (await p.send_many(topic, [("k2", [1, 2])]))
    assert seen == [(0, None), (1, None)]
    got = await read_partition(producer_bootstrap, topic, 0)
    assert [(r.key, r.value) for r in got] == [(b"k", b"{'a': 1}"), (b"k2", b"[1, 2]")]


async def test_a_raising_delivery_callback_is_logged_once_and_delivers_everything(producer_bootstrap: str,
                                                                                   caplog) -> None:
    """A callback that raises for every record must neither break delivery nor write a line per
    record: one ERROR with the traceback, the rest counted."""
    topic = await create_topic(producer_bootstrap, unique("cb"), 1)

    def broken(md: object, exc: object) -> None:
        raise RuntimeError("callback bug")

    caplog.set_level(logging.ERROR, logger="kafkaio")
    async with Producer(bootstrap_servers=producer_bootstrap, on_delivery=broken) as p:
        futures = [await p.send(topic, b"%d" % i) for i in range(200)]
        assert [(await f).offset for f in futures] == list(range(200))
    lines = [r for r in caplog.records if "on_delivery callback raised" in r.getMessage()]
    assert len(lines) == 1 and lines[0].exc_info is not None and "callback bug" in str(lines[0].exc_info[1])


async def test_bad_input_gets_typed_errors(producer_bootstrap: str) -> None:
    topic = await create_topic(producer_bootstrap, unique("bad"), 1)
    async with Producer(bootstrap_servers=producer_bootstrap) as p:
        with pytest.raises(SerializationError):
            await p.send(topic, 12345)
        with pytest.raises(SerializationError):
            await p.send(topic, b"v", headers=[(b"not-str", b"v")])
        assert (await p.send_and_wait(topic, "text")).offset == 0
    with pytest.raises(ProducerClosedError):
        await p.send(topic, b"late")


async def test_from_config_takes_java_style_keys(producer_bootstrap: str) -> None:
    topic = await create_topic(producer_bootstrap, unique("dotted"), 1)
    p = Producer.from_config({"bootstrap.servers": producer_bootstrap, "linger.ms": 0,
                              "compression.type": "lz4", "acks": "all"})
    assert p.config.linger_ms == 0 and p.config.compression_type == "lz4"
    await p.start()
    try:
        assert (await p.send_and_wait(topic, b"v")).offset == 0
        assert await p.partitions_for(topic) == {0}
    finally:
        await p.stop()


async def test_flush_waits_for_everything_sent_so_far(producer_bootstrap: str) -> None:
    topic = await create_topic(producer_bootstrap, unique("flush"), 2)
    async with Producer(bootstrap_servers=producer_bootstrap, linger_ms=60_000) as p:
        futs = [await p.send(topic, b"v", partition=i % 2) for i in range(100)]
        assert not any(f.done() for f in futs)  # a minute of linger: nothing sent yet
        await asyncio.wait_for(p.flush(), 30)
        assert all(f.done() and f.exception() is None for f in futs)


async def test_send_and_wait_with_linger_0_keeps_order_and_concurrent_senders_share_batches(
        producer_bootstrap: str) -> None:
    # send_and_wait with linger_ms=0 sends a new batch from the call when nothing is in flight;
    # callers waiting concurrently must still fill one batch while that request is out
    topic = await create_topic(producer_bootstrap, unique("ship"), 1)
    async with Producer(bootstrap_servers=producer_bootstrap, linger_ms=0) as p:
        for i in range(20):
            md = await p.send_and_wait(topic, b"one-%d" % i)
            assert md.offset == i
        mds = await asyncio.gather(*(p.send_and_wait(topic, b"many-%d" % i) for i in range(200)))
        assert [md.offset for md in mds] == list(range(20, 220))
    got = await read_partition(producer_bootstrap, topic, 0)
    assert [r.value for r in got] == [b"one-%d" % i for i in range(20)] + [b"many-%d" % i for i in range(200)]
    assert len({r.base_sequence for r in got[:20]}) == 20  # one at a time: a batch each
    # the first caller's record goes at once; the other 199 join one batch while it is out
    # (sending each new batch as it opened would make one per in-flight slot, 6 or more)
    assert len({r.base_sequence for r in got[20:]}) <= 3


async def test_an_unexpected_error_writing_a_request_fails_the_records_instead_of_stranding_them(
        producer_bootstrap: str, monkeypatch: pytest.MonkeyPatch) -> None:
    from kafkaio.conn import BrokerConnection

    topic = await create_topic(producer_bootstrap, unique("strand"), 1)
    async with Producer(bootstrap_servers=producer_bootstrap, linger_ms=0) as p:
        await p.send_and_wait(topic, b"warm-up")

        def broken(*args: object, **kwargs: object) -> None:
            raise RuntimeError("injected bug")

        monkeypatch.setattr(BrokerConnection, "start_request", broken)
        with pytest.raises(KafkaError, match="injected bug"):
            await asyncio.wait_for(p.send_and_wait(topic, b"v"), 30)
        monkeypatch.undo()
        assert (await p.send_and_wait(topic, b"after")).offset == 1
