"""What the admin calls take: topics and partitions to create, config resources and changes,
offset specs, client quota entities and filters, ACL bindings and filters."""
from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum
from typing import ClassVar, Hashable, Mapping, TypeVar

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


# ---------------------------------------------------------------- access control lists (ACLs)
# Kafka's codes, as Java's org.apache.kafka.common.resource/acl enums number them.

class ResourceType(IntEnum):
    """What an ACL protects. ``ANY`` only in filters."""

    UNKNOWN = 0
    ANY = 1
    TOPIC = 2
    GROUP = 3
    CLUSTER = 4
    TRANSACTIONAL_ID = 5
    DELEGATION_TOKEN = 6
    USER = 7


class AclOperation(IntEnum):
    """What an ACL allows or denies. ``ANY`` only in filters; ``ALL`` is every operation."""

    UNKNOWN = 0
    ANY = 1
    ALL = 2
    READ = 3
    WRITE = 4
    CREATE = 5
    DELETE = 6
    ALTER = 7
    DESCRIBE = 8
    CLUSTER_ACTION = 9
    DESCRIBE_CONFIGS = 10
    ALTER_CONFIGS = 11
    IDEMPOTENT_WRITE = 12
    CREATE_TOKENS = 13
    DESCRIBE_TOKENS = 14
    TWO_PHASE_COMMIT = 15


class AclPermissionType(IntEnum):
    """Whether an ACL allows or denies (a DENY wins over any ALLOW). ``ANY`` only in filters."""

    UNKNOWN = 0
    ANY = 1
    DENY = 2
    ALLOW = 3


class PatternType(IntEnum):
    """How an ACL's resource name matches (KIP-290): ``LITERAL`` (the name, or ``*`` for every
    resource of the type) or ``PREFIXED`` (every name starting with it). In filters also ``ANY``
    (either kind, by the name given) and ``MATCH`` (every ACL that applies to the named resource:
    literal, wildcard and prefixed)."""

    UNKNOWN = 0
    ANY = 1
    MATCH = 2
    LITERAL = 3
    PREFIXED = 4


_FILTER_ONLY = ("ANY", "MATCH")

E = TypeVar("E", bound=IntEnum)


def _member(enum: type[E], value: E | str | int, what: str) -> E:
    """An enum member from a member, its name (any case) or its code."""
    try:
        if isinstance(value, str):
            return enum[value.upper()]
        return enum(value)
    except (KeyError, ValueError):
        raise IllegalArgumentError(f"unknown {what} {value!r}; one of {[m.name for m in enum]}") from None


def _concrete(value: E) -> E:
    if value.name in _FILTER_ONLY:
        raise IllegalArgumentError(f"{type(value).__name__}.{value.name} is for filters, not for an ACL binding")
    return value


@dataclass(frozen=True)
class ResourcePatternFilter:
    """Which resource patterns a filter matches: ``resource_type`` (``ANY`` for all), ``name``
    (None for any), ``pattern_type`` (``ANY`` for literal and prefixed patterns of that name,
    ``MATCH`` for every pattern that applies to the resource named)."""

    resource_type: ResourceType
    name: str | None
    pattern_type: PatternType

    def __init__(self, resource_type: ResourceType | str | int = ResourceType.ANY, name: str | None = None,
                 pattern_type: PatternType | str | int = PatternType.ANY) -> None:
        if name is not None and not isinstance(name, str):
            raise IllegalArgumentError(f"a resource name is a string or None, got {name!r}")
        object.__setattr__(self, "resource_type", _member(ResourceType, resource_type, "resource type"))
        object.__setattr__(self, "name", name)
        object.__setattr__(self, "pattern_type", _member(PatternType, pattern_type, "pattern type"))


@dataclass(frozen=True)
class ResourcePattern:
    """A resource an ACL applies to: ``ResourcePattern(ResourceType.TOPIC, "orders")`` (literal),
    ``ResourcePattern("topic", "orders-", "prefixed")``, ``ResourcePattern("cluster", "kafka-cluster")``.
    The name ``*`` with ``LITERAL`` is every resource of the type."""

    resource_type: ResourceType
    name: str
    pattern_type: PatternType

    def __init__(self, resource_type: ResourceType | str | int, name: str,
                 pattern_type: PatternType | str | int = PatternType.LITERAL) -> None:
        if not isinstance(name, str) or not name:
            raise IllegalArgumentError(f"a resource pattern's name is a non-empty string, got {name!r}")
        object.__setattr__(self, "resource_type", _concrete(_member(ResourceType, resource_type, "resource type")))
        object.__setattr__(self, "name", name)
        object.__setattr__(self, "pattern_type", _concrete(_member(PatternType, pattern_type, "pattern type")))

    def to_filter(self) -> ResourcePatternFilter:
        """The filter that matches exactly this pattern."""
        return ResourcePatternFilter(self.resource_type, self.name, self.pattern_type)


@dataclass(frozen=True)
class AccessControlEntryFilter:
    """Which entries a filter matches; None, ``ANY``: any."""

    principal: str | None
    host: str | None
    operation: AclOperation
    permission_type: AclPermissionType

    def __init__(self, principal: str | None = None, host: str | None = None,
                 operation: AclOperation | str | int = AclOperation.ANY,
                 permission_type: AclPermissionType | str | int = AclPermissionType.ANY) -> None:
        object.__setattr__(self, "principal", principal)
        object.__setattr__(self, "host", host)
        object.__setattr__(self, "operation", _member(AclOperation, operation, "ACL operation"))
        object.__setattr__(self, "permission_type", _member(AclPermissionType, permission_type, "ACL permission type"))


@dataclass(frozen=True)
class AccessControlEntry:
    """Who may (or may not) do what from where: ``AccessControlEntry("User:bob", "*",
    AclOperation.READ, AclPermissionType.ALLOW)``. The principal is ``type:name`` (``User:*`` is
    every user); host ``*`` is every host."""

    principal: str
    host: str
    operation: AclOperation
    permission_type: AclPermissionType

    def __init__(self, principal: str, host: str, operation: AclOperation | str | int,
                 permission_type: AclPermissionType | str | int) -> None:
        if not isinstance(principal, str) or ":" not in principal:
            raise IllegalArgumentError(f"an ACL principal is 'type:name' such as 'User:bob', got {principal!r}")
        if not isinstance(host, str) or not host:
            raise IllegalArgumentError(f"an ACL host is a non-empty string ('*' for any host), got {host!r}")
        object.__setattr__(self, "principal", principal)
        object.__setattr__(self, "host", host)
        object.__setattr__(self, "operation", _concrete(_member(AclOperation, operation, "ACL operation")))
        object.__setattr__(self, "permission_type",
                           _concrete(_member(AclPermissionType, permission_type, "ACL permission type")))

    def to_filter(self) -> AccessControlEntryFilter:
        """The filter that matches exactly this entry."""
        return AccessControlEntryFilter(self.principal, self.host, self.operation, self.permission_type)


@dataclass(frozen=True)
class AclBindingFilter:
    """Which ACLs :meth:`Admin.describe_acls` lists and :meth:`Admin.delete_acls` removes; every
    part of it must match. ``AclBindingFilter()`` (also ``AclBindingFilter.ANY``) matches every ACL."""

    pattern: ResourcePatternFilter = ResourcePatternFilter()
    entry: AccessControlEntryFilter = AccessControlEntryFilter()

    ANY: ClassVar["AclBindingFilter"]

    def __post_init__(self) -> None:
        if not isinstance(self.pattern, ResourcePatternFilter) or not isinstance(self.entry, AccessControlEntryFilter):
            raise IllegalArgumentError("an AclBindingFilter is a ResourcePatternFilter and an AccessControlEntryFilter, "
                                       f"got {self.pattern!r}, {self.entry!r}")


    def __str__(self) -> str:
        p, e = self.pattern, self.entry
        return (f"{e.permission_type.name} {e.principal or 'any principal'} {e.operation.name} from "
                f"{e.host or 'any host'} on {p.resource_type.name} "
                f"{'any name' if p.name is None else repr(p.name)} ({p.pattern_type.name})")


AclBindingFilter.ANY = AclBindingFilter()


@dataclass(frozen=True)
class AclBinding:
    """One ACL: a resource pattern and an entry, as :meth:`Admin.create_acls` takes and
    :meth:`Admin.describe_acls` returns them. Hashable."""

    pattern: ResourcePattern
    entry: AccessControlEntry

    def __post_init__(self) -> None:
        if not isinstance(self.pattern, ResourcePattern) or not isinstance(self.entry, AccessControlEntry):
            raise IllegalArgumentError("an AclBinding is a ResourcePattern and an AccessControlEntry, "
                                       f"got {self.pattern!r}, {self.entry!r}")

    @property
    def is_unknown(self) -> bool:
        """True when a part is UNKNOWN (a code this client does not know, from a newer broker)."""
        return any(v.name == "UNKNOWN" for v in (self.pattern.resource_type, self.pattern.pattern_type,
                                                 self.entry.operation, self.entry.permission_type))

    def to_filter(self) -> AclBindingFilter:
        """The filter that matches exactly this ACL (to delete it)."""
        return AclBindingFilter(self.pattern.to_filter(), self.entry.to_filter())

    def __str__(self) -> str:
        p, e = self.pattern, self.entry
        return (f"{e.permission_type.name} {e.principal} {e.operation.name} from {e.host} on "
                f"{p.resource_type.name} {p.name!r} ({p.pattern_type.name})")
