"""What the admin calls return: descriptions of the cluster, topics, configs, groups, offsets
and producers."""
from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from enum import IntEnum

from kafkaio.structs import TopicPartition

class ConfigSource(IntEnum):
    UNKNOWN = 0
    DYNAMIC_TOPIC_CONFIG = 1
    DYNAMIC_BROKER_CONFIG = 2
    DYNAMIC_DEFAULT_BROKER_CONFIG = 3
    STATIC_BROKER_CONFIG = 4
    DEFAULT_CONFIG = 5
    DYNAMIC_BROKER_LOGGER_CONFIG = 6
    CLIENT_METRICS_CONFIG = 7
    GROUP_CONFIG = 8


@dataclass(frozen=True)
class Node:
    node_id: int
    host: str
    port: int
    rack: str | None = None


@dataclass(frozen=True)
class ClusterDescription:
    cluster_id: str | None
    controller_id: int
    brokers: list[Node]


@dataclass(frozen=True)
class PartitionDescription:
    partition: int
    leader: int | None
    replicas: list[int]
    isr: list[int]
    offline_replicas: list[int]
    leader_epoch: int


@dataclass(frozen=True)
class TopicDescription:
    name: str
    topic_id: uuid.UUID | None
    is_internal: bool
    partitions: list[PartitionDescription]


@dataclass(frozen=True)
class ConfigSynonym:
    name: str
    value: str | None
    source: ConfigSource


@dataclass(frozen=True)
class ConfigEntry:
    name: str
    value: str | None  # None for sensitive settings and unset ones
    source: ConfigSource
    read_only: bool
    is_sensitive: bool
    synonyms: list[ConfigSynonym] = field(default_factory=list)
    config_type: int = 0
    documentation: str | None = None

    @property
    def is_default(self) -> bool:
        return self.source == ConfigSource.DEFAULT_CONFIG


@dataclass(frozen=True)
class GroupListing:
    group_id: str
    protocol_type: str
    state: str | None
    group_type: str | None


@dataclass(frozen=True)
class MemberDescription:
    member_id: str
    group_instance_id: str | None
    client_id: str
    client_host: str
    assignment: list[TopicPartition]  # decoded from the consumer protocol ([] for other protocols)
    subscription: list[str] | None  # subscribed topics, when the metadata could be decoded
    raw_metadata: bytes = b""
    raw_assignment: bytes = b""
    member_epoch: int = -1  # consumer-protocol (KIP-848) groups only
    target_assignment: list[TopicPartition] | None = None  # KIP-848: where the member is heading


@dataclass(frozen=True)
class GroupDescription:
    group_id: str
    state: str
    protocol_type: str
    protocol: str  # the assignor of the current generation (classic) or the server assignor (KIP-848)
    members: list[MemberDescription]
    coordinator: int
    authorized_operations: int | None = None
    group_type: str = "classic"  # "consumer" for KIP-848 groups
    group_epoch: int = -1  # KIP-848 groups only


@dataclass(frozen=True)
class ListOffsetsResult:
    offset: int
    timestamp: int
    leader_epoch: int


@dataclass(frozen=True)
class ProducerState:
    """What a partition leader remembers of one idempotent or transactional producer."""

    producer_id: int
    producer_epoch: int
    last_sequence: int
    last_timestamp: int
    coordinator_epoch: int
    current_txn_start_offset: int  # -1 when no transaction is open on this partition


@dataclass(frozen=True)
class ShareMemberDescription:
    """One member of a share group, as ShareGroupDescribe reports it."""

    member_id: str
    client_id: str
    client_host: str
    rack_id: str | None
    member_epoch: int
    subscribed_topics: list[str]
    assignment: list[TopicPartition]  # other members may be assigned the same partitions


@dataclass(frozen=True)
class ShareGroupDescription:
    """A share group (KIP-932): state, epochs, assignor and members."""

    group_id: str
    state: str
    group_epoch: int
    assignment_epoch: int
    assignor: str
    members: list[ShareMemberDescription]
    coordinator: int


@dataclass(frozen=True)
class SharePartitionOffset:
    """Where a share group stands on one partition: the first offset not yet acknowledged for
    good (the share-partition start offset), and the records from there to the end (KIP-1226;
    -1 when the broker does not report it)."""

    start_offset: int
    leader_epoch: int
    lag: int = -1
