"""What the admin calls take: topics and partitions to create, config resources and changes,
offset specs, client quota entities and filters."""
from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum
from typing import Hashable, Mapping

from kafkaio.errors import IllegalArgumentError

@dataclass(frozen=True)
class NewTopic:
    """A topic to create. ``num_partitions``/``replication_factor`` -1 take the broker defaults;
    ``replica_assignments`` ({partition: [broker ids]}) replaces both."""

    name: str
    num_partitions: int = -1
    replication_factor: int = -1
    replica_assignments: Mapping[int, list[int]] | None = None
    configs: Mapping[str, str | None] | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name:
            raise IllegalArgumentError(f"NewTopic name must be a non-empty string, got {self.name!r}")
        if self.replica_assignments is not None and (self.num_partitions != -1 or self.replication_factor != -1):
            raise IllegalArgumentError(f"topic {self.name!r}: give either replica_assignments or "
                                       "num_partitions/replication_factor, not both")
        if self.num_partitions == 0 or self.num_partitions < -1:
            raise IllegalArgumentError(f"topic {self.name!r}: num_partitions must be positive or -1")
        if self.replication_factor == 0 or self.replication_factor < -1:
            raise IllegalArgumentError(f"topic {self.name!r}: replication_factor must be positive or -1")


@dataclass(frozen=True)
class NewPartitions:
    """Grow a topic to ``total_count`` partitions; ``new_assignments`` lists the replicas of each
    new partition (optional)."""

    total_count: int
    new_assignments: list[list[int]] | None = None


class ConfigResourceType(IntEnum):
    UNKNOWN = 0
    TOPIC = 2
    BROKER = 4
    BROKER_LOGGER = 8
    CLIENT_METRICS = 16
    GROUP = 32


class AlterConfigOpType(IntEnum):
    SET = 0
    DELETE = 1
    APPEND = 2
    SUBTRACT = 3


@dataclass(frozen=True)
class ConfigResource:
    """A thing with configs: ``ConfigResource("topic", "orders")``, ``ConfigResource("broker", "1")``
    (``""`` for the cluster-wide broker default)."""

    type: ConfigResourceType
    name: str

    def __init__(self, type: ConfigResourceType | str | int, name: str | int) -> None:
        if isinstance(type, str):
            try:
                type = ConfigResourceType[type.upper()]
            except KeyError:
                raise IllegalArgumentError(f"unknown config resource type {type!r}") from None
        object.__setattr__(self, "type", ConfigResourceType(type))
        object.__setattr__(self, "name", str(name))


@dataclass(frozen=True)
class AlterConfigOp:
    """One incremental change: set, delete, or append/subtract list elements."""

    name: str
    value: str | None = None
    op: AlterConfigOpType = AlterConfigOpType.SET

    def __init__(self, name: str, value: str | None = None, op: AlterConfigOpType | str | int = AlterConfigOpType.SET) -> None:
        if isinstance(op, str):
            try:
                op = AlterConfigOpType[op.upper()]
            except KeyError:
                raise IllegalArgumentError(f"unknown config operation {op!r}") from None
        object.__setattr__(self, "name", name)
        object.__setattr__(self, "value", value)
        object.__setattr__(self, "op", AlterConfigOpType(op))


class OffsetSpec(IntEnum):
    """What ``list_offsets`` looks up; a non-negative int instead means "first offset whose
    timestamp is at or after this (ms)"."""

    LATEST = -1
    EARLIEST = -2
    MAX_TIMESTAMP = -3


class ClientQuotaEntity:
    """Whom a client quota applies to: entity type -> name, e.g. ``{"client-id": "app-1"}`` or
    ``{"user": "alice", "client-id": "app-1"}``; a None name is that type's default entity.
    Types are ``USER``, ``CLIENT_ID`` and ``IP``. Hashable, equal when the mappings are equal."""

    USER = "user"
    CLIENT_ID = "client-id"
    IP = "ip"

    __slots__ = ("_entries",)

    def __init__(self, entries: Mapping[str, str | None]) -> None:
        if not isinstance(entries, Mapping) or not entries:
            raise IllegalArgumentError(f"a client quota entity is a non-empty mapping of type -> name, got {entries!r}")
        for k, v in entries.items():
            if not isinstance(k, str) or not k or (v is not None and not isinstance(v, str)):
                raise IllegalArgumentError(f"client quota entity entries are str -> str | None, got {k!r}: {v!r}")
        self._entries = tuple(sorted(entries.items()))

    @property
    def entries(self) -> dict[str, str | None]:
        return dict(self._entries)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, ClientQuotaEntity) and other._entries == self._entries

    def __hash__(self) -> int:
        return hash(self._entries)

    def __repr__(self) -> str:
        return f"ClientQuotaEntity({dict(self._entries)!r})"


@dataclass(frozen=True)
class ClientQuotaFilterComponent:
    """One condition of :meth:`Admin.describe_client_quotas` on one entity type; build it with
    ``of_entity`` (exactly this name), ``of_default_entity`` (the type's default entity) or
    ``of_entity_type`` (any named entity of the type)."""

    entity_type: str
    match_type: int  # 0 exact name, 1 the default entity, 2 any specified name (Kafka's numbers)
    match: str | None = None

    @classmethod
    def of_entity(cls, entity_type: str, name: str) -> "ClientQuotaFilterComponent":
        return cls(entity_type, 0, name)

    @classmethod
    def of_default_entity(cls, entity_type: str) -> "ClientQuotaFilterComponent":
        return cls(entity_type, 1, None)

    @classmethod
    def of_entity_type(cls, entity_type: str) -> "ClientQuotaFilterComponent":
        return cls(entity_type, 2, None)
