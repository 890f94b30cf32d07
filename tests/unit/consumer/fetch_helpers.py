"""The fetch path as the consumer wires it (fetcher -> buffer -> collector), over a config made
here, for the fetcher's and the collector's unit tests (no broker)."""
from __future__ import annotations

import struct
from types import SimpleNamespace
from typing import Any

import crc32c

from kafkaio.consumer.fetch_buffer import FetchBuffer
from kafkaio.consumer.fetch_collector import FetchCollector
from kafkaio.consumer.fetcher import Fetcher
from kafkaio.consumer.subscription import PartitionState, SubscriptionState
from kafkaio.protocol import ApiKey, decode_response, encode_response
from kafkaio.records import BatchBuilder


def batch(base_offset: int, values: list[bytes], *, pid: int = -1, transactional: bool = False,
          control: int | None = None) -> bytes:
    b = BatchBuilder(batch_size=1 << 30, transactional=transactional)
    if control is not None:
        b.append(0, struct.pack(">hh", 0, control), b"\x00\x00\x00\x00\x00\x00", [])
    else:
        for v in values:
            b.append(0, None, v, [])
    data = bytearray(b.build(producer_id=pid, producer_epoch=0 if pid >= 0 else -1,
                             base_sequence=0 if pid >= 0 else -1))
    struct.pack_into(">q", data, 0, base_offset)
    if control is not None:
        attrs = struct.unpack_from(">h", data, 21)[0] | 0x20 | 0x10
        struct.pack_into(">h", data, 21, attrs)
        struct.pack_into(">I", data, 17, crc32c.crc32c(bytes(data[21:])))
    return bytes(data)


class FetchPath:
    """A fetcher and a collector over one buffer: the fetcher's routing (``_apply``, ...) and the
    collector's draining (``drain``, ``next_record``, ``discard``) on one object."""

    def __init__(self, subs: SubscriptionState, cluster: Any = None, **config: Any) -> None:
        settings = dict(isolation_level="read_uncommitted", check_crcs=True, retry_backoff_ms=100,
                        max_partition_fetch_bytes=1 << 20, fetch_max_wait_ms=500, key_deserializer=None,
                        value_deserializer=None, metadata_max_age_ms=300_000, client_rack=None)
        settings.update(config)
        cfg: Any = SimpleNamespace(**settings)
        self.buffer = FetchBuffer()
        self.fetcher = Fetcher(cluster, cfg, subs, None, self.buffer)  # type: ignore[arg-type]  # no positions: nothing here looks offsets up
        self.collector = FetchCollector(cfg, subs, self.buffer, self.fetcher.wakeup)

    def _apply(self, st: PartitionState, p: dict[str, Any]) -> bool:
        """The fetcher's ``_apply`` of a partition answer written in part (``p``): the other
        fields as the decoder fills them."""
        return bool(self.fetcher._apply(st, fetch_partition(p)))

    def __getattr__(self, name: str) -> Any:
        part = self.collector if hasattr(self.collector, name) else self.fetcher
        return getattr(part, name)


def fetch_partition(fields: dict[str, Any]) -> Any:
    """A Fetch v16 partition answer with ``fields``, through the codec (every other field at its
    schema default)."""
    body = {"responses": [{"partitions": [fields]}]}
    payload = bytes(encode_response(ApiKey.FETCH, 16, 0, body))[4:]
    return decode_response(ApiKey.FETCH, 16, payload)["responses"][0]["partitions"][0]
