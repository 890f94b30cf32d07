"""Admin client: topics, configs, cluster, consumer and share groups, records, quotas, ACLs.

    async with Admin(bootstrap_servers="localhost:9092") as admin:
        await admin.create_topics([NewTopic("orders", num_partitions=6, replication_factor=3)])

Every call goes to the broker that must answer it (the controller for topic changes, the group
coordinator for group calls, the partition leader for records and offsets, the broker itself for
broker configs), retries retriable errors with the retry backoff until ``timeout_ms`` (default
``default_api_timeout_ms``), and reports errors per item: calls over many items return a dict
item -> result, where a failed item's result is the exception saying why. With
``raise_on_error=True`` (the default) the first failed item's exception is raised after all items
were tried; it carries the whole dict as ``exc.results``.

The package, one role a module: ``inputs`` (what the calls take), ``results`` (what they return),
``core`` (lifecycle, routing one request, per-item retries), one mixin per area of calls
(``topics``, ``configs``, ``groups``, ``share_groups``, ``records``, ``quotas``, ``acls``) and ``client``, the ``Admin``
that combines them.
"""
from __future__ import annotations

from kafkaio.admin.client import Admin
from kafkaio.admin.inputs import (
    AccessControlEntry,
    AccessControlEntryFilter,
    AclBinding,
    AclBindingFilter,
    AclOperation,
    AclPermissionType,
    AlterConfigOp,
    AlterConfigOpType,
    ClientQuotaEntity,
    ClientQuotaFilterComponent,
    ConfigResource,
    ConfigResourceType,
    NewPartitions,
    NewTopic,
    OffsetSpec,
    PatternType,
    ResourcePattern,
    ResourcePatternFilter,
    ResourceType,
)
from kafkaio.admin.results import (
    ClusterDescription,
    ConfigEntry,
    ConfigSource,
    ConfigSynonym,
    GroupDescription,
    GroupListing,
    ListOffsetsResult,
    MemberDescription,
    Node,
    PartitionDescription,
    ProducerState,
    ShareGroupDescription,
    ShareMemberDescription,
    SharePartitionOffset,
    TopicDescription,
)

__all__ = [
    "Admin", "NewTopic", "NewPartitions", "ConfigResource", "ConfigResourceType", "ConfigSource",
    "ConfigEntry", "ConfigSynonym", "AlterConfigOp", "AlterConfigOpType", "OffsetSpec", "TopicDescription",
    "PartitionDescription", "Node", "ClusterDescription", "GroupListing", "GroupDescription",
    "MemberDescription", "ListOffsetsResult", "ProducerState", "ClientQuotaEntity",
    "ClientQuotaFilterComponent", "AclBinding", "AclBindingFilter", "ResourcePattern", "ResourcePatternFilter",
    "AccessControlEntry", "AccessControlEntryFilter", "ResourceType", "AclOperation", "AclPermissionType",
    "PatternType", "ShareGroupDescription", "ShareMemberDescription", "SharePartitionOffset",
]
