"""Small value types shared by the producer, the consumer and the admin client."""
from __future__ import annotations

from typing import NamedTuple


class TopicPartition(NamedTuple):
    """A partition of a topic."""

    topic: str
    partition: int


class OffsetAndMetadata(NamedTuple):
    """An offset to commit (the next offset to read) with optional metadata and leader epoch."""

    offset: int
    metadata: str = ""
    leader_epoch: int = -1
