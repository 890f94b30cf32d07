"""Stub of the compiled ``_produce_codec`` (twin: ``produce_codec_py``): the Produce request as data."""
from collections.abc import Sequence

from kafkaio.protocol.produce_codec import NodeEndpoint, TopicData, TopicResult

__all__ = ["ProduceMessage", "ProduceResult"]

FIRST_FLEXIBLE: int
FIRST_TAGGED_LEADER: int
FIRST_TOPIC_ID: int
VERSIONS: range

class ProduceResult:
    """A decoded Produce response: its topics, ``throttle_time_ms``, and the leaders' endpoints."""

    topics: list[TopicResult]
    throttle_time_ms: int
    node_endpoints: list[NodeEndpoint]
    def __init__(self, topics: list[TopicResult], throttle_time_ms: int, node_endpoints: list[NodeEndpoint]) -> None: ...

class ProduceMessage:
    """A Produce request as data, encoded and decoded by the functions of this module."""

    transactional_id: str | None
    acks: int
    timeout_ms: int
    topics: Sequence[TopicData]
    def __init__(self, transactional_id: str | None, acks: int, timeout_ms: int,
                 topics: Sequence[TopicData]) -> None: ...
    def encode_body(self, out: bytearray, version: int) -> None: ...
    @staticmethod
    def decode_body(buf: memoryview, pos: int, version: int) -> tuple[ProduceResult, int]: ...
