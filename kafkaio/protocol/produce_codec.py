"""Produce requests encoded straight from their topics and partitions, and Produce responses
decoded straight into tuples: the producer's path of every ``send_and_wait`` round trip.

:class:`ProduceMessage` and :class:`ProduceResult` come from ``kafkaio._speedups.load("produce_codec")``:
the compiled ``_produce_codec`` when built, else its pure twin ``produce_codec_py``, which describes
the codec. This module names the shapes of the data both take and give.
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Union

__all__ = [
    "VERSIONS",
    "NodeEndpoint",
    "PartitionData",
    "PartitionResult",
    "ProduceMessage",
    "ProduceResult",
    "TopicData",
    "TopicResult",
]

Buffer = Union[bytes, bytearray, memoryview]
#: (partition index, records): one partition of a request
PartitionData = tuple[int, Union[Buffer, None]]
#: (topic name, topic id as ``UUID.int``, partitions): one topic of a request; the version picks
#: the name (up to 12) or the id (13 on)
TopicData = tuple[str, int, Sequence[PartitionData]]
#: one partition's answer: (index, error_code, base_offset, log_append_time_ms, log_start_offset,
#: record_errors as (batch_index, message), error_message, current leader id, leader epoch)
PartitionResult = tuple[int, int, int, int, int, list[tuple[int, Union[str, None]]], Union[str, None], int, int]
#: (topic name, or None from version 13; topic id as ``UUID.int``, or 0 before 13; partitions)
TopicResult = tuple[Union[str, None], int, list[PartitionResult]]
#: a node the response names: (node_id, host, port, rack)
NodeEndpoint = tuple[int, str, int, Union[str, None]]

if TYPE_CHECKING:  # the compiled module's stub types both implementations
    from kafkaio._speedups._produce_codec import VERSIONS as VERSIONS
    from kafkaio._speedups._produce_codec import ProduceMessage as ProduceMessage
    from kafkaio._speedups._produce_codec import ProduceResult as ProduceResult
else:
    from kafkaio._speedups import load as _load

    _impl = _load("produce_codec")
    ProduceMessage = _impl.ProduceMessage
    ProduceResult = _impl.ProduceResult
    VERSIONS = _impl.VERSIONS
