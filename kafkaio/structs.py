"""Small value types shared by the producer, the consumer and the admin client."""
from __future__ import annotations

from enum import Enum
from typing import NamedTuple


class TopicPartition(NamedTuple):
    """A partition of a topic."""

    topic: str
    partition: int


CREATE_TIME = 0  # a record's timestamp is the producer's create time
LOG_APPEND_TIME = 1  # ... the broker's log append time (message.timestamp.type=LogAppendTime)


class RecordMetadata(NamedTuple):
    """Where a record was written: its topic, partition and offset, and its timestamp.

    ``offset`` is -1 when it is unknown (``acks=0``, or a retry the broker recognised as a duplicate
    of an earlier write without telling the offset). ``timestamp`` is the record's create time, or the
    broker's log append time when the topic uses ``message.timestamp.type=LogAppendTime``
    (``timestamp_type`` then is 1).
    """

    topic: str
    partition: int
    offset: int
    timestamp: int
    timestamp_type: int = CREATE_TIME


class OffsetAndMetadata(NamedTuple):
    """An offset to commit (the next offset to read) with optional metadata and leader epoch."""

    offset: int
    metadata: str = ""
    leader_epoch: int = -1


class GroupMembershipOperation(str, Enum):
    """What a group member does with its membership when it closes (KIP-1092; Java's
    ``CloseOptions.GroupMembershipOperation``)."""

    #: Leave the group: its partitions are reassigned at once. A static member leaves for good.
    LEAVE_GROUP = "leave_group"
    #: Stay in the group: the coordinator keeps the member until its session times out, so a
    #: restart within the session (same ``group_instance_id``) gets its partitions back without a
    #: rebalance. A dynamic member sends no leave at all.
    REMAIN_IN_GROUP = "remain_in_group"
    #: Static members remain, dynamic members leave.
    DEFAULT = "default"

    def leaves(self, static: bool) -> bool:
        """Whether a member (``static``: it has a ``group_instance_id``) leaves the group."""
        return self is GroupMembershipOperation.LEAVE_GROUP or (
            self is GroupMembershipOperation.DEFAULT and not static)
