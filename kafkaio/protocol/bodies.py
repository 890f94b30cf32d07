"""TypedDicts of every request, response and struct body (generated: do not edit).

Written by ``python -m kafkaio.protocol.gen_types`` from the schemas in
``kafkaio/protocol/messages``; see that module for the rules.
"""
from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import TypedDict


class ProduceRequestTopicDataPartitionData(TypedDict, total=False):
    """The ``partition_data`` of :class:`ProduceRequestTopicData`."""

    index: int
    records: bytes | bytearray | memoryview | None


class ProduceRequestTopicData(TypedDict, total=False):
    """The ``topic_data`` of :class:`ProduceRequest`."""

    name: str
    topic_id: uuid.UUID
    partition_data: Sequence[ProduceRequestTopicDataPartitionData]


class ProduceRequest(TypedDict, total=False):
    """Produce request (API key 0, v3-13)."""

    transactional_id: str | None
    acks: int
    timeout_ms: int
    topic_data: Sequence[ProduceRequestTopicData]


class ProduceResponseResponsesPartitionResponsesRecordErrors(TypedDict):
    """The ``record_errors`` of :class:`ProduceResponseResponsesPartitionResponses`."""

    batch_index: int
    batch_index_error_message: str | None


class ProduceResponseResponsesPartitionResponsesCurrentLeader(TypedDict):
    """The ``current_leader`` of :class:`ProduceResponseResponsesPartitionResponses`."""

    leader_id: int
    leader_epoch: int


class ProduceResponseResponsesPartitionResponses(TypedDict):
    """The ``partition_responses`` of :class:`ProduceResponseResponses`."""

    index: int
    error_code: int
    base_offset: int
    log_append_time_ms: int
    log_start_offset: int
    record_errors: list[ProduceResponseResponsesPartitionResponsesRecordErrors]
    error_message: str | None
    current_leader: ProduceResponseResponsesPartitionResponsesCurrentLeader


class ProduceResponseResponses(TypedDict):
    """The ``responses`` of :class:`ProduceResponse`."""

    name: str
    topic_id: uuid.UUID
    partition_responses: list[ProduceResponseResponsesPartitionResponses]


class ProduceResponseNodeEndpoints(TypedDict):
    """The ``node_endpoints`` of :class:`ProduceResponse`."""

    node_id: int
    host: str
    port: int
    rack: str | None


class ProduceResponse(TypedDict):
    """Produce response (API key 0, v3-13)."""

    responses: list[ProduceResponseResponses]
    throttle_time_ms: int
    node_endpoints: list[ProduceResponseNodeEndpoints]


class FetchRequestReplicaState(TypedDict, total=False):
    """The ``replica_state`` of :class:`FetchRequest`."""

    replica_id: int
    replica_epoch: int


class FetchRequestTopicsPartitions(TypedDict, total=False):
    """The ``partitions`` of :class:`FetchRequestTopics`."""

    partition: int
    current_leader_epoch: int
    fetch_offset: int
    last_fetched_epoch: int
    log_start_offset: int
    partition_max_bytes: int
    replica_directory_id: uuid.UUID
    high_watermark: int


class FetchRequestTopics(TypedDict, total=False):
    """The ``topics`` of :class:`FetchRequest`."""

    topic: str
    topic_id: uuid.UUID
    partitions: Sequence[FetchRequestTopicsPartitions]


class FetchRequestForgottenTopicsData(TypedDict, total=False):
    """The ``forgotten_topics_data`` of :class:`FetchRequest`."""

    topic: str
    topic_id: uuid.UUID
    partitions: Sequence[int]


class FetchRequest(TypedDict, total=False):
    """Fetch request (API key 1, v4-18)."""

    cluster_id: str | None
    replica_id: int
    replica_state: FetchRequestReplicaState
    max_wait_ms: int
    min_bytes: int
    max_bytes: int
    isolation_level: int
    session_id: int
    session_epoch: int
    topics: Sequence[FetchRequestTopics]
    forgotten_topics_data: Sequence[FetchRequestForgottenTopicsData]
    rack_id: str


class FetchResponseResponsesPartitionsDivergingEpoch(TypedDict):
    """The ``diverging_epoch`` of :class:`FetchResponseResponsesPartitions`."""

    epoch: int
    end_offset: int


class FetchResponseResponsesPartitionsCurrentLeader(TypedDict):
    """The ``current_leader`` of :class:`FetchResponseResponsesPartitions`."""

    leader_id: int
    leader_epoch: int


class FetchResponseResponsesPartitionsSnapshotId(TypedDict):
    """The ``snapshot_id`` of :class:`FetchResponseResponsesPartitions`."""

    end_offset: int
    epoch: int


class FetchResponseResponsesPartitionsAbortedTransactions(TypedDict):
    """The ``aborted_transactions`` of :class:`FetchResponseResponsesPartitions`."""

    producer_id: int
    first_offset: int


class FetchResponseResponsesPartitions(TypedDict):
    """The ``partitions`` of :class:`FetchResponseResponses`."""

    partition_index: int
    error_code: int
    high_watermark: int
    last_stable_offset: int
    log_start_offset: int
    diverging_epoch: FetchResponseResponsesPartitionsDivergingEpoch
    current_leader: FetchResponseResponsesPartitionsCurrentLeader
    snapshot_id: FetchResponseResponsesPartitionsSnapshotId
    aborted_transactions: list[FetchResponseResponsesPartitionsAbortedTransactions] | None
    preferred_read_replica: int
    records: memoryview | None


class FetchResponseResponses(TypedDict):
    """The ``responses`` of :class:`FetchResponse`."""

    topic: str
    topic_id: uuid.UUID
    partitions: list[FetchResponseResponsesPartitions]


class FetchResponseNodeEndpoints(TypedDict):
    """The ``node_endpoints`` of :class:`FetchResponse`."""

    node_id: int
    host: str
    port: int
    rack: str | None


class FetchResponse(TypedDict):
    """Fetch response (API key 1, v4-18)."""

    throttle_time_ms: int
    error_code: int
    session_id: int
    responses: list[FetchResponseResponses]
    node_endpoints: list[FetchResponseNodeEndpoints]


class ListOffsetsRequestTopicsPartitions(TypedDict, total=False):
    """The ``partitions`` of :class:`ListOffsetsRequestTopics`."""

    partition_index: int
    current_leader_epoch: int
    timestamp: int


class ListOffsetsRequestTopics(TypedDict, total=False):
    """The ``topics`` of :class:`ListOffsetsRequest`."""

    name: str
    partitions: Sequence[ListOffsetsRequestTopicsPartitions]


class ListOffsetsRequest(TypedDict, total=False):
    """ListOffsets request (API key 2, v1-11)."""

    replica_id: int
    isolation_level: int
    topics: Sequence[ListOffsetsRequestTopics]
    timeout_ms: int


class ListOffsetsResponseTopicsPartitions(TypedDict):
    """The ``partitions`` of :class:`ListOffsetsResponseTopics`."""

    partition_index: int
    error_code: int
    timestamp: int
    offset: int
    leader_epoch: int


class ListOffsetsResponseTopics(TypedDict):
    """The ``topics`` of :class:`ListOffsetsResponse`."""

    name: str
    partitions: list[ListOffsetsResponseTopicsPartitions]


class ListOffsetsResponse(TypedDict):
    """ListOffsets response (API key 2, v1-11)."""

    throttle_time_ms: int
    topics: list[ListOffsetsResponseTopics]


class MetadataRequestTopics(TypedDict, total=False):
    """The ``topics`` of :class:`MetadataRequest`."""

    topic_id: uuid.UUID
    name: str | None


class MetadataRequest(TypedDict, total=False):
    """Metadata request (API key 3, v4-13)."""

    topics: Sequence[MetadataRequestTopics] | None
    allow_auto_topic_creation: bool
    include_cluster_authorized_operations: bool
    include_topic_authorized_operations: bool


class MetadataResponseBrokers(TypedDict):
    """The ``brokers`` of :class:`MetadataResponse`."""

    node_id: int
    host: str
    port: int
    rack: str | None


class MetadataResponseTopicsPartitions(TypedDict):
    """The ``partitions`` of :class:`MetadataResponseTopics`."""

    error_code: int
    partition_index: int
    leader_id: int
    leader_epoch: int
    replica_nodes: list[int]
    isr_nodes: list[int]
    offline_replicas: list[int]


class MetadataResponseTopics(TypedDict):
    """The ``topics`` of :class:`MetadataResponse`."""

    error_code: int
    name: str | None
    topic_id: uuid.UUID
    is_internal: bool
    partitions: list[MetadataResponseTopicsPartitions]
    topic_authorized_operations: int


class MetadataResponse(TypedDict):
    """Metadata response (API key 3, v4-13)."""

    throttle_time_ms: int
    brokers: list[MetadataResponseBrokers]
    cluster_id: str | None
    controller_id: int
    topics: list[MetadataResponseTopics]
    cluster_authorized_operations: int
    error_code: int


class OffsetCommitRequestTopicsPartitions(TypedDict, total=False):
    """The ``partitions`` of :class:`OffsetCommitRequestTopics`."""

    partition_index: int
    committed_offset: int
    committed_leader_epoch: int
    committed_metadata: str | None


class OffsetCommitRequestTopics(TypedDict, total=False):
    """The ``topics`` of :class:`OffsetCommitRequest`."""

    name: str
    topic_id: uuid.UUID
    partitions: Sequence[OffsetCommitRequestTopicsPartitions]


class OffsetCommitRequest(TypedDict, total=False):
    """OffsetCommit request (API key 8, v2-10)."""

    group_id: str
    generation_id_or_member_epoch: int
    member_id: str
    group_instance_id: str | None
    retention_time_ms: int
    topics: Sequence[OffsetCommitRequestTopics]


class OffsetCommitResponseTopicsPartitions(TypedDict):
    """The ``partitions`` of :class:`OffsetCommitResponseTopics`."""

    partition_index: int
    error_code: int


class OffsetCommitResponseTopics(TypedDict):
    """The ``topics`` of :class:`OffsetCommitResponse`."""

    name: str
    topic_id: uuid.UUID
    partitions: list[OffsetCommitResponseTopicsPartitions]


class OffsetCommitResponse(TypedDict):
    """OffsetCommit response (API key 8, v2-10)."""

    throttle_time_ms: int
    topics: list[OffsetCommitResponseTopics]


class OffsetFetchRequestTopics(TypedDict, total=False):
    """The ``topics`` of :class:`OffsetFetchRequest`."""

    name: str
    partition_indexes: Sequence[int]


class OffsetFetchRequestGroupsTopics(TypedDict, total=False):
    """The ``topics`` of :class:`OffsetFetchRequestGroups`."""

    name: str
    topic_id: uuid.UUID
    partition_indexes: Sequence[int]


class OffsetFetchRequestGroups(TypedDict, total=False):
    """The ``groups`` of :class:`OffsetFetchRequest`."""

    group_id: str
    member_id: str | None
    member_epoch: int
    topics: Sequence[OffsetFetchRequestGroupsTopics] | None


class OffsetFetchRequest(TypedDict, total=False):
    """OffsetFetch request (API key 9, v1-10)."""

    group_id: str
    topics: Sequence[OffsetFetchRequestTopics] | None
    groups: Sequence[OffsetFetchRequestGroups]
    require_stable: bool


class OffsetFetchResponseTopicsPartitions(TypedDict):
    """The ``partitions`` of :class:`OffsetFetchResponseTopics`."""

    partition_index: int
    committed_offset: int
    committed_leader_epoch: int
    metadata: str | None
    error_code: int


class OffsetFetchResponseTopics(TypedDict):
    """The ``topics`` of :class:`OffsetFetchResponse`."""

    name: str
    partitions: list[OffsetFetchResponseTopicsPartitions]


class OffsetFetchResponseGroupsTopicsPartitions(TypedDict):
    """The ``partitions`` of :class:`OffsetFetchResponseGroupsTopics`."""

    partition_index: int
    committed_offset: int
    committed_leader_epoch: int
    metadata: str | None
    error_code: int


class OffsetFetchResponseGroupsTopics(TypedDict):
    """The ``topics`` of :class:`OffsetFetchResponseGroups`."""

    name: str
    topic_id: uuid.UUID
    partitions: list[OffsetFetchResponseGroupsTopicsPartitions]


class OffsetFetchResponseGroups(TypedDict):
    """The ``groups`` of :class:`OffsetFetchResponse`."""

    group_id: str
    topics: list[OffsetFetchResponseGroupsTopics]
    error_code: int


class OffsetFetchResponse(TypedDict):
    """OffsetFetch response (API key 9, v1-10)."""

    throttle_time_ms: int
    topics: list[OffsetFetchResponseTopics]
    error_code: int
    groups: list[OffsetFetchResponseGroups]


class FindCoordinatorRequest(TypedDict, total=False):
    """FindCoordinator request (API key 10, v1-6)."""

    key: str
    key_type: int
    coordinator_keys: Sequence[str]


class FindCoordinatorResponseCoordinators(TypedDict):
    """The ``coordinators`` of :class:`FindCoordinatorResponse`."""

    key: str
    node_id: int
    host: str
    port: int
    error_code: int
    error_message: str | None


class FindCoordinatorResponse(TypedDict):
    """FindCoordinator response (API key 10, v1-6)."""

    throttle_time_ms: int
    error_code: int
    error_message: str | None
    node_id: int
    host: str
    port: int
    coordinators: list[FindCoordinatorResponseCoordinators]


class JoinGroupRequestProtocols(TypedDict, total=False):
    """The ``protocols`` of :class:`JoinGroupRequest`."""

    name: str
    metadata: bytes | bytearray | memoryview


class JoinGroupRequest(TypedDict, total=False):
    """JoinGroup request (API key 11, v2-9)."""

    group_id: str
    session_timeout_ms: int
    rebalance_timeout_ms: int
    member_id: str
    group_instance_id: str | None
    protocol_type: str
    protocols: Sequence[JoinGroupRequestProtocols]
    reason: str | None


class JoinGroupResponseMembers(TypedDict):
    """The ``members`` of :class:`JoinGroupResponse`."""

    member_id: str
    group_instance_id: str | None
    metadata: bytes


class JoinGroupResponse(TypedDict):
    """JoinGroup response (API key 11, v2-9)."""

    throttle_time_ms: int
    error_code: int
    generation_id: int
    protocol_type: str | None
    protocol_name: str | None
    leader: str
    skip_assignment: bool
    member_id: str
    members: list[JoinGroupResponseMembers]


class HeartbeatRequest(TypedDict, total=False):
    """Heartbeat request (API key 12, v0-4)."""

    group_id: str
    generation_id: int
    member_id: str
    group_instance_id: str | None


class HeartbeatResponse(TypedDict):
    """Heartbeat response (API key 12, v0-4)."""

    throttle_time_ms: int
    error_code: int


class LeaveGroupRequestMembers(TypedDict, total=False):
    """The ``members`` of :class:`LeaveGroupRequest`."""

    member_id: str
    group_instance_id: str | None
    reason: str | None


class LeaveGroupRequest(TypedDict, total=False):
    """LeaveGroup request (API key 13, v0-5)."""

    group_id: str
    member_id: str
    members: Sequence[LeaveGroupRequestMembers]


class LeaveGroupResponseMembers(TypedDict):
    """The ``members`` of :class:`LeaveGroupResponse`."""

    member_id: str
    group_instance_id: str | None
    error_code: int


class LeaveGroupResponse(TypedDict):
    """LeaveGroup response (API key 13, v0-5)."""

    throttle_time_ms: int
    error_code: int
    members: list[LeaveGroupResponseMembers]


class SyncGroupRequestAssignments(TypedDict, total=False):
    """The ``assignments`` of :class:`SyncGroupRequest`."""

    member_id: str
    assignment: bytes | bytearray | memoryview


class SyncGroupRequest(TypedDict, total=False):
    """SyncGroup request (API key 14, v0-5)."""

    group_id: str
    generation_id: int
    member_id: str
    group_instance_id: str | None
    protocol_type: str | None
    protocol_name: str | None
    assignments: Sequence[SyncGroupRequestAssignments]


class SyncGroupResponse(TypedDict):
    """SyncGroup response (API key 14, v0-5)."""

    throttle_time_ms: int
    error_code: int
    protocol_type: str | None
    protocol_name: str | None
    assignment: bytes


class DescribeGroupsRequest(TypedDict, total=False):
    """DescribeGroups request (API key 15, v0-6)."""

    groups: Sequence[str]
    include_authorized_operations: bool


class DescribeGroupsResponseGroupsMembers(TypedDict):
    """The ``members`` of :class:`DescribeGroupsResponseGroups`."""

    member_id: str
    group_instance_id: str | None
    client_id: str
    client_host: str
    member_metadata: bytes
    member_assignment: bytes


class DescribeGroupsResponseGroups(TypedDict):
    """The ``groups`` of :class:`DescribeGroupsResponse`."""

    error_code: int
    error_message: str | None
    group_id: str
    group_state: str
    protocol_type: str
    protocol_data: str
    members: list[DescribeGroupsResponseGroupsMembers]
    authorized_operations: int


class DescribeGroupsResponse(TypedDict):
    """DescribeGroups response (API key 15, v0-6)."""

    throttle_time_ms: int
    groups: list[DescribeGroupsResponseGroups]


class ListGroupsRequest(TypedDict, total=False):
    """ListGroups request (API key 16, v0-5)."""

    states_filter: Sequence[str]
    types_filter: Sequence[str]


class ListGroupsResponseGroups(TypedDict):
    """The ``groups`` of :class:`ListGroupsResponse`."""

    group_id: str
    protocol_type: str
    group_state: str
    group_type: str


class ListGroupsResponse(TypedDict):
    """ListGroups response (API key 16, v0-5)."""

    throttle_time_ms: int
    error_code: int
    groups: list[ListGroupsResponseGroups]


class SaslHandshakeRequest(TypedDict, total=False):
    """SaslHandshake request (API key 17, v1-1)."""

    mechanism: str


class SaslHandshakeResponse(TypedDict):
    """SaslHandshake response (API key 17, v1-1)."""

    error_code: int
    mechanisms: list[str]


class ApiVersionsRequest(TypedDict, total=False):
    """ApiVersions request (API key 18, v0-5)."""

    client_software_name: str
    client_software_version: str
    cluster_id: str | None
    node_id: int


class ApiVersionsResponseApiKeys(TypedDict):
    """The ``api_keys`` of :class:`ApiVersionsResponse`."""

    api_key: int
    min_version: int
    max_version: int


class ApiVersionsResponseSupportedFeatures(TypedDict):
    """The ``supported_features`` of :class:`ApiVersionsResponse`."""

    name: str
    min_version: int
    max_version: int


class ApiVersionsResponseFinalizedFeatures(TypedDict):
    """The ``finalized_features`` of :class:`ApiVersionsResponse`."""

    name: str
    max_version_level: int
    min_version_level: int


class ApiVersionsResponse(TypedDict):
    """ApiVersions response (API key 18, v0-5)."""

    error_code: int
    api_keys: list[ApiVersionsResponseApiKeys]
    throttle_time_ms: int
    supported_features: list[ApiVersionsResponseSupportedFeatures]
    finalized_features_epoch: int
    finalized_features: list[ApiVersionsResponseFinalizedFeatures]
    zk_migration_ready: bool


class CreateTopicsRequestTopicsAssignments(TypedDict, total=False):
    """The ``assignments`` of :class:`CreateTopicsRequestTopics`."""

    partition_index: int
    broker_ids: Sequence[int]


class CreateTopicsRequestTopicsConfigs(TypedDict, total=False):
    """The ``configs`` of :class:`CreateTopicsRequestTopics`."""

    name: str
    value: str | None


class CreateTopicsRequestTopics(TypedDict, total=False):
    """The ``topics`` of :class:`CreateTopicsRequest`."""

    name: str
    num_partitions: int
    replication_factor: int
    assignments: Sequence[CreateTopicsRequestTopicsAssignments]
    configs: Sequence[CreateTopicsRequestTopicsConfigs]


class CreateTopicsRequest(TypedDict, total=False):
    """CreateTopics request (API key 19, v2-7)."""

    topics: Sequence[CreateTopicsRequestTopics]
    timeout_ms: int
    validate_only: bool


class CreateTopicsResponseTopicsConfigs(TypedDict):
    """The ``configs`` of :class:`CreateTopicsResponseTopics`."""

    name: str
    value: str | None
    read_only: bool
    config_source: int
    is_sensitive: bool


class CreateTopicsResponseTopics(TypedDict):
    """The ``topics`` of :class:`CreateTopicsResponse`."""

    name: str
    topic_id: uuid.UUID
    error_code: int
    error_message: str | None
    topic_config_error_code: int
    num_partitions: int
    replication_factor: int
    configs: list[CreateTopicsResponseTopicsConfigs] | None


class CreateTopicsResponse(TypedDict):
    """CreateTopics response (API key 19, v2-7)."""

    throttle_time_ms: int
    topics: list[CreateTopicsResponseTopics]


class DeleteTopicsRequestTopics(TypedDict, total=False):
    """The ``topics`` of :class:`DeleteTopicsRequest`."""

    name: str | None
    topic_id: uuid.UUID


class DeleteTopicsRequest(TypedDict, total=False):
    """DeleteTopics request (API key 20, v1-6)."""

    topics: Sequence[DeleteTopicsRequestTopics]
    topic_names: Sequence[str]
    timeout_ms: int


class DeleteTopicsResponseResponses(TypedDict):
    """The ``responses`` of :class:`DeleteTopicsResponse`."""

    name: str | None
    topic_id: uuid.UUID
    error_code: int
    error_message: str | None


class DeleteTopicsResponse(TypedDict):
    """DeleteTopics response (API key 20, v1-6)."""

    throttle_time_ms: int
    responses: list[DeleteTopicsResponseResponses]


class DeleteRecordsRequestTopicsPartitions(TypedDict, total=False):
    """The ``partitions`` of :class:`DeleteRecordsRequestTopics`."""

    partition_index: int
    offset: int


class DeleteRecordsRequestTopics(TypedDict, total=False):
    """The ``topics`` of :class:`DeleteRecordsRequest`."""

    name: str
    partitions: Sequence[DeleteRecordsRequestTopicsPartitions]


class DeleteRecordsRequest(TypedDict, total=False):
    """DeleteRecords request (API key 21, v0-2)."""

    topics: Sequence[DeleteRecordsRequestTopics]
    timeout_ms: int


class DeleteRecordsResponseTopicsPartitions(TypedDict):
    """The ``partitions`` of :class:`DeleteRecordsResponseTopics`."""

    partition_index: int
    low_watermark: int
    error_code: int


class DeleteRecordsResponseTopics(TypedDict):
    """The ``topics`` of :class:`DeleteRecordsResponse`."""

    name: str
    partitions: list[DeleteRecordsResponseTopicsPartitions]


class DeleteRecordsResponse(TypedDict):
    """DeleteRecords response (API key 21, v0-2)."""

    throttle_time_ms: int
    topics: list[DeleteRecordsResponseTopics]


class InitProducerIdRequest(TypedDict, total=False):
    """InitProducerId request (API key 22, v0-5)."""

    transactional_id: str | None
    transaction_timeout_ms: int
    producer_id: int
    producer_epoch: int


class InitProducerIdResponse(TypedDict):
    """InitProducerId response (API key 22, v0-5)."""

    throttle_time_ms: int
    error_code: int
    producer_id: int
    producer_epoch: int


class OffsetForLeaderEpochRequestTopicsPartitions(TypedDict, total=False):
    """The ``partitions`` of :class:`OffsetForLeaderEpochRequestTopics`."""

    partition: int
    current_leader_epoch: int
    leader_epoch: int


class OffsetForLeaderEpochRequestTopics(TypedDict, total=False):
    """The ``topics`` of :class:`OffsetForLeaderEpochRequest`."""

    topic: str
    partitions: Sequence[OffsetForLeaderEpochRequestTopicsPartitions]


class OffsetForLeaderEpochRequest(TypedDict, total=False):
    """OffsetForLeaderEpoch request (API key 23, v2-4)."""

    replica_id: int
    topics: Sequence[OffsetForLeaderEpochRequestTopics]


class OffsetForLeaderEpochResponseTopicsPartitions(TypedDict):
    """The ``partitions`` of :class:`OffsetForLeaderEpochResponseTopics`."""

    error_code: int
    partition: int
    leader_epoch: int
    end_offset: int


class OffsetForLeaderEpochResponseTopics(TypedDict):
    """The ``topics`` of :class:`OffsetForLeaderEpochResponse`."""

    topic: str
    partitions: list[OffsetForLeaderEpochResponseTopicsPartitions]


class OffsetForLeaderEpochResponse(TypedDict):
    """OffsetForLeaderEpoch response (API key 23, v2-4)."""

    throttle_time_ms: int
    topics: list[OffsetForLeaderEpochResponseTopics]


class AddPartitionsToTxnRequestV3AndBelowTopics(TypedDict, total=False):
    """The ``v3_and_below_topics`` of :class:`AddPartitionsToTxnRequest`."""

    name: str
    partitions: Sequence[int]


class AddPartitionsToTxnRequest(TypedDict, total=False):
    """AddPartitionsToTxn request (API key 24, v0-3)."""

    v3_and_below_transactional_id: str
    v3_and_below_producer_id: int
    v3_and_below_producer_epoch: int
    v3_and_below_topics: Sequence[AddPartitionsToTxnRequestV3AndBelowTopics]


class AddPartitionsToTxnResponseResultsByTopicV3AndBelowResultsByPartition(TypedDict):
    """The ``results_by_partition`` of :class:`AddPartitionsToTxnResponseResultsByTopicV3AndBelow`."""

    partition_index: int
    partition_error_code: int


class AddPartitionsToTxnResponseResultsByTopicV3AndBelow(TypedDict):
    """The ``results_by_topic_v3_and_below`` of :class:`AddPartitionsToTxnResponse`."""

    name: str
    results_by_partition: list[AddPartitionsToTxnResponseResultsByTopicV3AndBelowResultsByPartition]


class AddPartitionsToTxnResponse(TypedDict):
    """AddPartitionsToTxn response (API key 24, v0-3)."""

    throttle_time_ms: int
    results_by_topic_v3_and_below: list[AddPartitionsToTxnResponseResultsByTopicV3AndBelow]


class AddOffsetsToTxnRequest(TypedDict, total=False):
    """AddOffsetsToTxn request (API key 25, v0-4)."""

    transactional_id: str
    producer_id: int
    producer_epoch: int
    group_id: str


class AddOffsetsToTxnResponse(TypedDict):
    """AddOffsetsToTxn response (API key 25, v0-4)."""

    throttle_time_ms: int
    error_code: int


class EndTxnRequest(TypedDict, total=False):
    """EndTxn request (API key 26, v0-5)."""

    transactional_id: str
    producer_id: int
    producer_epoch: int
    committed: bool


class EndTxnResponse(TypedDict):
    """EndTxn response (API key 26, v0-5)."""

    throttle_time_ms: int
    error_code: int
    producer_id: int
    producer_epoch: int


class TxnOffsetCommitRequestTopicsPartitions(TypedDict, total=False):
    """The ``partitions`` of :class:`TxnOffsetCommitRequestTopics`."""

    partition_index: int
    committed_offset: int
    committed_leader_epoch: int
    committed_metadata: str | None


class TxnOffsetCommitRequestTopics(TypedDict, total=False):
    """The ``topics`` of :class:`TxnOffsetCommitRequest`."""

    name: str
    topic_id: uuid.UUID
    partitions: Sequence[TxnOffsetCommitRequestTopicsPartitions]


class TxnOffsetCommitRequest(TypedDict, total=False):
    """TxnOffsetCommit request (API key 28, v0-6)."""

    transactional_id: str
    group_id: str
    producer_id: int
    producer_epoch: int
    generation_id_or_member_epoch: int
    member_id: str
    group_instance_id: str | None
    topics: Sequence[TxnOffsetCommitRequestTopics]


class TxnOffsetCommitResponseTopicsPartitions(TypedDict):
    """The ``partitions`` of :class:`TxnOffsetCommitResponseTopics`."""

    partition_index: int
    error_code: int


class TxnOffsetCommitResponseTopics(TypedDict):
    """The ``topics`` of :class:`TxnOffsetCommitResponse`."""

    name: str
    topic_id: uuid.UUID
    partitions: list[TxnOffsetCommitResponseTopicsPartitions]


class TxnOffsetCommitResponse(TypedDict):
    """TxnOffsetCommit response (API key 28, v0-6)."""

    throttle_time_ms: int
    topics: list[TxnOffsetCommitResponseTopics]


class DescribeAclsRequest(TypedDict, total=False):
    """DescribeAcls request (API key 29, v1-3)."""

    resource_type_filter: int
    resource_name_filter: str | None
    pattern_type_filter: int
    principal_filter: str | None
    host_filter: str | None
    operation: int
    permission_type: int


class DescribeAclsResponseResourcesAcls(TypedDict):
    """The ``acls`` of :class:`DescribeAclsResponseResources`."""

    principal: str
    host: str
    operation: int
    permission_type: int


class DescribeAclsResponseResources(TypedDict):
    """The ``resources`` of :class:`DescribeAclsResponse`."""

    resource_type: int
    resource_name: str
    pattern_type: int
    acls: list[DescribeAclsResponseResourcesAcls]


class DescribeAclsResponse(TypedDict):
    """DescribeAcls response (API key 29, v1-3)."""

    throttle_time_ms: int
    error_code: int
    error_message: str | None
    resources: list[DescribeAclsResponseResources]


class CreateAclsRequestCreations(TypedDict, total=False):
    """The ``creations`` of :class:`CreateAclsRequest`."""

    resource_type: int
    resource_name: str
    resource_pattern_type: int
    principal: str
    host: str
    operation: int
    permission_type: int


class CreateAclsRequest(TypedDict, total=False):
    """CreateAcls request (API key 30, v1-3)."""

    creations: Sequence[CreateAclsRequestCreations]


class CreateAclsResponseResults(TypedDict):
    """The ``results`` of :class:`CreateAclsResponse`."""

    error_code: int
    error_message: str | None


class CreateAclsResponse(TypedDict):
    """CreateAcls response (API key 30, v1-3)."""

    throttle_time_ms: int
    results: list[CreateAclsResponseResults]


class DeleteAclsRequestFilters(TypedDict, total=False):
    """The ``filters`` of :class:`DeleteAclsRequest`."""

    resource_type_filter: int
    resource_name_filter: str | None
    pattern_type_filter: int
    principal_filter: str | None
    host_filter: str | None
    operation: int
    permission_type: int


class DeleteAclsRequest(TypedDict, total=False):
    """DeleteAcls request (API key 31, v1-3)."""

    filters: Sequence[DeleteAclsRequestFilters]


class DeleteAclsResponseFilterResultsMatchingAcls(TypedDict):
    """The ``matching_acls`` of :class:`DeleteAclsResponseFilterResults`."""

    error_code: int
    error_message: str | None
    resource_type: int
    resource_name: str
    pattern_type: int
    principal: str
    host: str
    operation: int
    permission_type: int


class DeleteAclsResponseFilterResults(TypedDict):
    """The ``filter_results`` of :class:`DeleteAclsResponse`."""

    error_code: int
    error_message: str | None
    matching_acls: list[DeleteAclsResponseFilterResultsMatchingAcls]


class DeleteAclsResponse(TypedDict):
    """DeleteAcls response (API key 31, v1-3)."""

    throttle_time_ms: int
    filter_results: list[DeleteAclsResponseFilterResults]


class DescribeConfigsRequestResources(TypedDict, total=False):
    """The ``resources`` of :class:`DescribeConfigsRequest`."""

    resource_type: int
    resource_name: str
    configuration_keys: Sequence[str] | None


class DescribeConfigsRequest(TypedDict, total=False):
    """DescribeConfigs request (API key 32, v1-4)."""

    resources: Sequence[DescribeConfigsRequestResources]
    include_synonyms: bool
    include_documentation: bool


class DescribeConfigsResponseResultsConfigsSynonyms(TypedDict):
    """The ``synonyms`` of :class:`DescribeConfigsResponseResultsConfigs`."""

    name: str
    value: str | None
    source: int


class DescribeConfigsResponseResultsConfigs(TypedDict):
    """The ``configs`` of :class:`DescribeConfigsResponseResults`."""

    name: str
    value: str | None
    read_only: bool
    config_source: int
    is_sensitive: bool
    synonyms: list[DescribeConfigsResponseResultsConfigsSynonyms]
    config_type: int
    documentation: str | None


class DescribeConfigsResponseResults(TypedDict):
    """The ``results`` of :class:`DescribeConfigsResponse`."""

    error_code: int
    error_message: str | None
    resource_type: int
    resource_name: str
    configs: list[DescribeConfigsResponseResultsConfigs]


class DescribeConfigsResponse(TypedDict):
    """DescribeConfigs response (API key 32, v1-4)."""

    throttle_time_ms: int
    results: list[DescribeConfigsResponseResults]


class AlterConfigsRequestResourcesConfigs(TypedDict, total=False):
    """The ``configs`` of :class:`AlterConfigsRequestResources`."""

    name: str
    value: str | None


class AlterConfigsRequestResources(TypedDict, total=False):
    """The ``resources`` of :class:`AlterConfigsRequest`."""

    resource_type: int
    resource_name: str
    configs: Sequence[AlterConfigsRequestResourcesConfigs]


class AlterConfigsRequest(TypedDict, total=False):
    """AlterConfigs request (API key 33, v0-2)."""

    resources: Sequence[AlterConfigsRequestResources]
    validate_only: bool


class AlterConfigsResponseResponses(TypedDict):
    """The ``responses`` of :class:`AlterConfigsResponse`."""

    error_code: int
    error_message: str | None
    resource_type: int
    resource_name: str


class AlterConfigsResponse(TypedDict):
    """AlterConfigs response (API key 33, v0-2)."""

    throttle_time_ms: int
    responses: list[AlterConfigsResponseResponses]


class SaslAuthenticateRequest(TypedDict, total=False):
    """SaslAuthenticate request (API key 36, v0-2)."""

    auth_bytes: bytes | bytearray | memoryview


class SaslAuthenticateResponse(TypedDict):
    """SaslAuthenticate response (API key 36, v0-2)."""

    error_code: int
    error_message: str | None
    auth_bytes: bytes
    session_lifetime_ms: int


class CreatePartitionsRequestTopicsAssignments(TypedDict, total=False):
    """The ``assignments`` of :class:`CreatePartitionsRequestTopics`."""

    broker_ids: Sequence[int]


class CreatePartitionsRequestTopics(TypedDict, total=False):
    """The ``topics`` of :class:`CreatePartitionsRequest`."""

    name: str
    count: int
    assignments: Sequence[CreatePartitionsRequestTopicsAssignments] | None


class CreatePartitionsRequest(TypedDict, total=False):
    """CreatePartitions request (API key 37, v0-3)."""

    topics: Sequence[CreatePartitionsRequestTopics]
    timeout_ms: int
    validate_only: bool


class CreatePartitionsResponseResults(TypedDict):
    """The ``results`` of :class:`CreatePartitionsResponse`."""

    name: str
    error_code: int
    error_message: str | None


class CreatePartitionsResponse(TypedDict):
    """CreatePartitions response (API key 37, v0-3)."""

    throttle_time_ms: int
    results: list[CreatePartitionsResponseResults]


class DeleteGroupsRequest(TypedDict, total=False):
    """DeleteGroups request (API key 42, v1-3)."""

    groups_names: Sequence[str]


class DeleteGroupsResponseResults(TypedDict):
    """The ``results`` of :class:`DeleteGroupsResponse`."""

    group_id: str
    error_code: int
    error_message: str | None


class DeleteGroupsResponse(TypedDict):
    """DeleteGroups response (API key 42, v1-3)."""

    throttle_time_ms: int
    results: list[DeleteGroupsResponseResults]


class IncrementalAlterConfigsRequestResourcesConfigs(TypedDict, total=False):
    """The ``configs`` of :class:`IncrementalAlterConfigsRequestResources`."""

    name: str
    config_operation: int
    value: str | None


class IncrementalAlterConfigsRequestResources(TypedDict, total=False):
    """The ``resources`` of :class:`IncrementalAlterConfigsRequest`."""

    resource_type: int
    resource_name: str
    configs: Sequence[IncrementalAlterConfigsRequestResourcesConfigs]


class IncrementalAlterConfigsRequest(TypedDict, total=False):
    """IncrementalAlterConfigs request (API key 44, v0-1)."""

    resources: Sequence[IncrementalAlterConfigsRequestResources]
    validate_only: bool


class IncrementalAlterConfigsResponseResponses(TypedDict):
    """The ``responses`` of :class:`IncrementalAlterConfigsResponse`."""

    error_code: int
    error_message: str | None
    resource_type: int
    resource_name: str


class IncrementalAlterConfigsResponse(TypedDict):
    """IncrementalAlterConfigs response (API key 44, v0-1)."""

    throttle_time_ms: int
    responses: list[IncrementalAlterConfigsResponseResponses]


class OffsetDeleteRequestTopicsPartitions(TypedDict, total=False):
    """The ``partitions`` of :class:`OffsetDeleteRequestTopics`."""

    partition_index: int


class OffsetDeleteRequestTopics(TypedDict, total=False):
    """The ``topics`` of :class:`OffsetDeleteRequest`."""

    name: str
    partitions: Sequence[OffsetDeleteRequestTopicsPartitions]


class OffsetDeleteRequest(TypedDict, total=False):
    """OffsetDelete request (API key 47, v0-0)."""

    group_id: str
    topics: Sequence[OffsetDeleteRequestTopics]


class OffsetDeleteResponseTopicsPartitions(TypedDict):
    """The ``partitions`` of :class:`OffsetDeleteResponseTopics`."""

    partition_index: int
    error_code: int


class OffsetDeleteResponseTopics(TypedDict):
    """The ``topics`` of :class:`OffsetDeleteResponse`."""

    name: str
    partitions: list[OffsetDeleteResponseTopicsPartitions]


class OffsetDeleteResponse(TypedDict):
    """OffsetDelete response (API key 47, v0-0)."""

    error_code: int
    throttle_time_ms: int
    topics: list[OffsetDeleteResponseTopics]


class DescribeClientQuotasRequestComponents(TypedDict, total=False):
    """The ``components`` of :class:`DescribeClientQuotasRequest`."""

    entity_type: str
    match_type: int
    match: str | None


class DescribeClientQuotasRequest(TypedDict, total=False):
    """DescribeClientQuotas request (API key 48, v0-1)."""

    components: Sequence[DescribeClientQuotasRequestComponents]
    strict: bool


class DescribeClientQuotasResponseEntriesEntity(TypedDict):
    """The ``entity`` of :class:`DescribeClientQuotasResponseEntries`."""

    entity_type: str
    entity_name: str | None


class DescribeClientQuotasResponseEntriesValues(TypedDict):
    """The ``values`` of :class:`DescribeClientQuotasResponseEntries`."""

    key: str
    value: float


class DescribeClientQuotasResponseEntries(TypedDict):
    """The ``entries`` of :class:`DescribeClientQuotasResponse`."""

    entity: list[DescribeClientQuotasResponseEntriesEntity]
    values: list[DescribeClientQuotasResponseEntriesValues]


class DescribeClientQuotasResponse(TypedDict):
    """DescribeClientQuotas response (API key 48, v0-1)."""

    throttle_time_ms: int
    error_code: int
    error_message: str | None
    entries: list[DescribeClientQuotasResponseEntries] | None


class AlterClientQuotasRequestEntriesEntity(TypedDict, total=False):
    """The ``entity`` of :class:`AlterClientQuotasRequestEntries`."""

    entity_type: str
    entity_name: str | None


class AlterClientQuotasRequestEntriesOps(TypedDict, total=False):
    """The ``ops`` of :class:`AlterClientQuotasRequestEntries`."""

    key: str
    value: float
    remove: bool


class AlterClientQuotasRequestEntries(TypedDict, total=False):
    """The ``entries`` of :class:`AlterClientQuotasRequest`."""

    entity: Sequence[AlterClientQuotasRequestEntriesEntity]
    ops: Sequence[AlterClientQuotasRequestEntriesOps]


class AlterClientQuotasRequest(TypedDict, total=False):
    """AlterClientQuotas request (API key 49, v0-1)."""

    entries: Sequence[AlterClientQuotasRequestEntries]
    validate_only: bool


class AlterClientQuotasResponseEntriesEntity(TypedDict):
    """The ``entity`` of :class:`AlterClientQuotasResponseEntries`."""

    entity_type: str
    entity_name: str | None


class AlterClientQuotasResponseEntries(TypedDict):
    """The ``entries`` of :class:`AlterClientQuotasResponse`."""

    error_code: int
    error_message: str | None
    entity: list[AlterClientQuotasResponseEntriesEntity]


class AlterClientQuotasResponse(TypedDict):
    """AlterClientQuotas response (API key 49, v0-1)."""

    throttle_time_ms: int
    entries: list[AlterClientQuotasResponseEntries]


class DescribeClusterRequest(TypedDict, total=False):
    """DescribeCluster request (API key 60, v0-2)."""

    include_cluster_authorized_operations: bool
    endpoint_type: int
    include_fenced_brokers: bool


class DescribeClusterResponseBrokers(TypedDict):
    """The ``brokers`` of :class:`DescribeClusterResponse`."""

    broker_id: int
    host: str
    port: int
    rack: str | None
    is_fenced: bool


class DescribeClusterResponse(TypedDict):
    """DescribeCluster response (API key 60, v0-2)."""

    throttle_time_ms: int
    error_code: int
    error_message: str | None
    endpoint_type: int
    cluster_id: str
    controller_id: int
    brokers: list[DescribeClusterResponseBrokers]
    cluster_authorized_operations: int


class DescribeProducersRequestTopics(TypedDict, total=False):
    """The ``topics`` of :class:`DescribeProducersRequest`."""

    name: str
    partition_indexes: Sequence[int]


class DescribeProducersRequest(TypedDict, total=False):
    """DescribeProducers request (API key 61, v0-0)."""

    topics: Sequence[DescribeProducersRequestTopics]


class DescribeProducersResponseTopicsPartitionsActiveProducers(TypedDict):
    """The ``active_producers`` of :class:`DescribeProducersResponseTopicsPartitions`."""

    producer_id: int
    producer_epoch: int
    last_sequence: int
    last_timestamp: int
    coordinator_epoch: int
    current_txn_start_offset: int


class DescribeProducersResponseTopicsPartitions(TypedDict):
    """The ``partitions`` of :class:`DescribeProducersResponseTopics`."""

    partition_index: int
    error_code: int
    error_message: str | None
    active_producers: list[DescribeProducersResponseTopicsPartitionsActiveProducers]


class DescribeProducersResponseTopics(TypedDict):
    """The ``topics`` of :class:`DescribeProducersResponse`."""

    name: str
    partitions: list[DescribeProducersResponseTopicsPartitions]


class DescribeProducersResponse(TypedDict):
    """DescribeProducers response (API key 61, v0-0)."""

    throttle_time_ms: int
    topics: list[DescribeProducersResponseTopics]


class ConsumerGroupHeartbeatRequestTopicPartitions(TypedDict, total=False):
    """The ``topic_partitions`` of :class:`ConsumerGroupHeartbeatRequest`."""

    topic_id: uuid.UUID
    partitions: Sequence[int]


class ConsumerGroupHeartbeatRequest(TypedDict, total=False):
    """ConsumerGroupHeartbeat request (API key 68, v0-1)."""

    group_id: str
    member_id: str
    member_epoch: int
    instance_id: str | None
    rack_id: str | None
    rebalance_timeout_ms: int
    subscribed_topic_names: Sequence[str] | None
    subscribed_topic_regex: str | None
    server_assignor: str | None
    topic_partitions: Sequence[ConsumerGroupHeartbeatRequestTopicPartitions] | None


class ConsumerGroupHeartbeatResponseAssignmentTopicPartitions(TypedDict):
    """The ``topic_partitions`` of :class:`ConsumerGroupHeartbeatResponseAssignment`."""

    topic_id: uuid.UUID
    partitions: list[int]


class ConsumerGroupHeartbeatResponseAssignment(TypedDict):
    """The ``assignment`` of :class:`ConsumerGroupHeartbeatResponse`."""

    topic_partitions: list[ConsumerGroupHeartbeatResponseAssignmentTopicPartitions]


class ConsumerGroupHeartbeatResponse(TypedDict):
    """ConsumerGroupHeartbeat response (API key 68, v0-1)."""

    throttle_time_ms: int
    error_code: int
    error_message: str | None
    member_id: str | None
    member_epoch: int
    heartbeat_interval_ms: int
    assignment: ConsumerGroupHeartbeatResponseAssignment | None


class ConsumerGroupDescribeRequest(TypedDict, total=False):
    """ConsumerGroupDescribe request (API key 69, v0-1)."""

    group_ids: Sequence[str]
    include_authorized_operations: bool


class ConsumerGroupDescribeResponseGroupsMembersAssignmentTopicPartitions(TypedDict):
    """The ``topic_partitions`` of :class:`ConsumerGroupDescribeResponseGroupsMembersAssignment`."""

    topic_id: uuid.UUID
    topic_name: str
    partitions: list[int]


class ConsumerGroupDescribeResponseGroupsMembersAssignment(TypedDict):
    """The ``assignment`` of :class:`ConsumerGroupDescribeResponseGroupsMembers`."""

    topic_partitions: list[ConsumerGroupDescribeResponseGroupsMembersAssignmentTopicPartitions]


class ConsumerGroupDescribeResponseGroupsMembersTargetAssignmentTopicPartitions(TypedDict):
    """The ``topic_partitions`` of :class:`ConsumerGroupDescribeResponseGroupsMembersTargetAssignment`."""

    topic_id: uuid.UUID
    topic_name: str
    partitions: list[int]


class ConsumerGroupDescribeResponseGroupsMembersTargetAssignment(TypedDict):
    """The ``target_assignment`` of :class:`ConsumerGroupDescribeResponseGroupsMembers`."""

    topic_partitions: list[ConsumerGroupDescribeResponseGroupsMembersTargetAssignmentTopicPartitions]


class ConsumerGroupDescribeResponseGroupsMembers(TypedDict):
    """The ``members`` of :class:`ConsumerGroupDescribeResponseGroups`."""

    member_id: str
    instance_id: str | None
    rack_id: str | None
    member_epoch: int
    client_id: str
    client_host: str
    subscribed_topic_names: list[str]
    subscribed_topic_regex: str | None
    assignment: ConsumerGroupDescribeResponseGroupsMembersAssignment
    target_assignment: ConsumerGroupDescribeResponseGroupsMembersTargetAssignment
    member_type: int


class ConsumerGroupDescribeResponseGroups(TypedDict):
    """The ``groups`` of :class:`ConsumerGroupDescribeResponse`."""

    error_code: int
    error_message: str | None
    group_id: str
    group_state: str
    group_epoch: int
    assignment_epoch: int
    assignor_name: str
    members: list[ConsumerGroupDescribeResponseGroupsMembers]
    authorized_operations: int


class ConsumerGroupDescribeResponse(TypedDict):
    """ConsumerGroupDescribe response (API key 69, v0-1)."""

    throttle_time_ms: int
    groups: list[ConsumerGroupDescribeResponseGroups]


class GetTelemetrySubscriptionsRequest(TypedDict, total=False):
    """GetTelemetrySubscriptions request (API key 71, v0-0)."""

    client_instance_id: uuid.UUID


class GetTelemetrySubscriptionsResponse(TypedDict):
    """GetTelemetrySubscriptions response (API key 71, v0-0)."""

    throttle_time_ms: int
    error_code: int
    client_instance_id: uuid.UUID
    subscription_id: int
    accepted_compression_types: list[int]
    push_interval_ms: int
    telemetry_max_bytes: int
    delta_temporality: bool
    requested_metrics: list[str]


class PushTelemetryRequest(TypedDict, total=False):
    """PushTelemetry request (API key 72, v0-0)."""

    client_instance_id: uuid.UUID
    subscription_id: int
    terminating: bool
    compression_type: int
    metrics: bytes | bytearray | memoryview


class PushTelemetryResponse(TypedDict):
    """PushTelemetry response (API key 72, v0-0)."""

    throttle_time_ms: int
    error_code: int


class ShareGroupHeartbeatRequest(TypedDict, total=False):
    """ShareGroupHeartbeat request (API key 76, v1-1)."""

    group_id: str
    member_id: str
    member_epoch: int
    rack_id: str | None
    subscribed_topic_names: Sequence[str] | None


class ShareGroupHeartbeatResponseAssignmentTopicPartitions(TypedDict):
    """The ``topic_partitions`` of :class:`ShareGroupHeartbeatResponseAssignment`."""

    topic_id: uuid.UUID
    partitions: list[int]


class ShareGroupHeartbeatResponseAssignment(TypedDict):
    """The ``assignment`` of :class:`ShareGroupHeartbeatResponse`."""

    topic_partitions: list[ShareGroupHeartbeatResponseAssignmentTopicPartitions]


class ShareGroupHeartbeatResponse(TypedDict):
    """ShareGroupHeartbeat response (API key 76, v1-1)."""

    throttle_time_ms: int
    error_code: int
    error_message: str | None
    member_id: str | None
    member_epoch: int
    heartbeat_interval_ms: int
    assignment: ShareGroupHeartbeatResponseAssignment | None


class ShareGroupDescribeRequest(TypedDict, total=False):
    """ShareGroupDescribe request (API key 77, v1-1)."""

    group_ids: Sequence[str]
    include_authorized_operations: bool


class ShareGroupDescribeResponseGroupsMembersAssignmentTopicPartitions(TypedDict):
    """The ``topic_partitions`` of :class:`ShareGroupDescribeResponseGroupsMembersAssignment`."""

    topic_id: uuid.UUID
    topic_name: str
    partitions: list[int]


class ShareGroupDescribeResponseGroupsMembersAssignment(TypedDict):
    """The ``assignment`` of :class:`ShareGroupDescribeResponseGroupsMembers`."""

    topic_partitions: list[ShareGroupDescribeResponseGroupsMembersAssignmentTopicPartitions]


class ShareGroupDescribeResponseGroupsMembers(TypedDict):
    """The ``members`` of :class:`ShareGroupDescribeResponseGroups`."""

    member_id: str
    rack_id: str | None
    member_epoch: int
    client_id: str
    client_host: str
    subscribed_topic_names: list[str]
    assignment: ShareGroupDescribeResponseGroupsMembersAssignment


class ShareGroupDescribeResponseGroups(TypedDict):
    """The ``groups`` of :class:`ShareGroupDescribeResponse`."""

    error_code: int
    error_message: str | None
    group_id: str
    group_state: str
    group_epoch: int
    assignment_epoch: int
    assignor_name: str
    members: list[ShareGroupDescribeResponseGroupsMembers]
    authorized_operations: int


class ShareGroupDescribeResponse(TypedDict):
    """ShareGroupDescribe response (API key 77, v1-1)."""

    throttle_time_ms: int
    groups: list[ShareGroupDescribeResponseGroups]


class ShareFetchRequestTopicsPartitionsAcknowledgementBatches(TypedDict, total=False):
    """The ``acknowledgement_batches`` of :class:`ShareFetchRequestTopicsPartitions`."""

    first_offset: int
    last_offset: int
    acknowledge_types: Sequence[int]


class ShareFetchRequestTopicsPartitions(TypedDict, total=False):
    """The ``partitions`` of :class:`ShareFetchRequestTopics`."""

    partition_index: int
    acknowledgement_batches: Sequence[ShareFetchRequestTopicsPartitionsAcknowledgementBatches]


class ShareFetchRequestTopics(TypedDict, total=False):
    """The ``topics`` of :class:`ShareFetchRequest`."""

    topic_id: uuid.UUID
    partitions: Sequence[ShareFetchRequestTopicsPartitions]


class ShareFetchRequestForgottenTopicsData(TypedDict, total=False):
    """The ``forgotten_topics_data`` of :class:`ShareFetchRequest`."""

    topic_id: uuid.UUID
    partitions: Sequence[int]


class ShareFetchRequest(TypedDict, total=False):
    """ShareFetch request (API key 78, v1-2)."""

    group_id: str | None
    member_id: str | None
    share_session_epoch: int
    max_wait_ms: int
    min_bytes: int
    max_bytes: int
    max_records: int
    batch_size: int
    share_acquire_mode: int
    is_renew_ack: bool
    topics: Sequence[ShareFetchRequestTopics]
    forgotten_topics_data: Sequence[ShareFetchRequestForgottenTopicsData]


class ShareFetchResponseResponsesPartitionsCurrentLeader(TypedDict):
    """The ``current_leader`` of :class:`ShareFetchResponseResponsesPartitions`."""

    leader_id: int
    leader_epoch: int


class ShareFetchResponseResponsesPartitionsAcquiredRecords(TypedDict):
    """The ``acquired_records`` of :class:`ShareFetchResponseResponsesPartitions`."""

    first_offset: int
    last_offset: int
    delivery_count: int


class ShareFetchResponseResponsesPartitions(TypedDict):
    """The ``partitions`` of :class:`ShareFetchResponseResponses`."""

    partition_index: int
    error_code: int
    error_message: str | None
    acknowledge_error_code: int
    acknowledge_error_message: str | None
    current_leader: ShareFetchResponseResponsesPartitionsCurrentLeader
    records: memoryview
    acquired_records: list[ShareFetchResponseResponsesPartitionsAcquiredRecords]


class ShareFetchResponseResponses(TypedDict):
    """The ``responses`` of :class:`ShareFetchResponse`."""

    topic_id: uuid.UUID
    partitions: list[ShareFetchResponseResponsesPartitions]


class ShareFetchResponseNodeEndpoints(TypedDict):
    """The ``node_endpoints`` of :class:`ShareFetchResponse`."""

    node_id: int
    host: str
    port: int
    rack: str | None


class ShareFetchResponse(TypedDict):
    """ShareFetch response (API key 78, v1-2)."""

    throttle_time_ms: int
    error_code: int
    error_message: str | None
    acquisition_lock_timeout_ms: int
    responses: list[ShareFetchResponseResponses]
    node_endpoints: list[ShareFetchResponseNodeEndpoints]


class ShareAcknowledgeRequestTopicsPartitionsAcknowledgementBatches(TypedDict, total=False):
    """The ``acknowledgement_batches`` of :class:`ShareAcknowledgeRequestTopicsPartitions`."""

    first_offset: int
    last_offset: int
    acknowledge_types: Sequence[int]


class ShareAcknowledgeRequestTopicsPartitions(TypedDict, total=False):
    """The ``partitions`` of :class:`ShareAcknowledgeRequestTopics`."""

    partition_index: int
    acknowledgement_batches: Sequence[ShareAcknowledgeRequestTopicsPartitionsAcknowledgementBatches]


class ShareAcknowledgeRequestTopics(TypedDict, total=False):
    """The ``topics`` of :class:`ShareAcknowledgeRequest`."""

    topic_id: uuid.UUID
    partitions: Sequence[ShareAcknowledgeRequestTopicsPartitions]


class ShareAcknowledgeRequest(TypedDict, total=False):
    """ShareAcknowledge request (API key 79, v1-2)."""

    group_id: str | None
    member_id: str | None
    share_session_epoch: int
    is_renew_ack: bool
    topics: Sequence[ShareAcknowledgeRequestTopics]


class ShareAcknowledgeResponseResponsesPartitionsCurrentLeader(TypedDict):
    """The ``current_leader`` of :class:`ShareAcknowledgeResponseResponsesPartitions`."""

    leader_id: int
    leader_epoch: int


class ShareAcknowledgeResponseResponsesPartitions(TypedDict):
    """The ``partitions`` of :class:`ShareAcknowledgeResponseResponses`."""

    partition_index: int
    error_code: int
    error_message: str | None
    current_leader: ShareAcknowledgeResponseResponsesPartitionsCurrentLeader


class ShareAcknowledgeResponseResponses(TypedDict):
    """The ``responses`` of :class:`ShareAcknowledgeResponse`."""

    topic_id: uuid.UUID
    partitions: list[ShareAcknowledgeResponseResponsesPartitions]


class ShareAcknowledgeResponseNodeEndpoints(TypedDict):
    """The ``node_endpoints`` of :class:`ShareAcknowledgeResponse`."""

    node_id: int
    host: str
    port: int
    rack: str | None


class ShareAcknowledgeResponse(TypedDict):
    """ShareAcknowledge response (API key 79, v1-2)."""

    throttle_time_ms: int
    error_code: int
    error_message: str | None
    acquisition_lock_timeout_ms: int
    responses: list[ShareAcknowledgeResponseResponses]
    node_endpoints: list[ShareAcknowledgeResponseNodeEndpoints]


class DescribeShareGroupOffsetsRequestGroupsTopics(TypedDict, total=False):
    """The ``topics`` of :class:`DescribeShareGroupOffsetsRequestGroups`."""

    topic_name: str
    partitions: Sequence[int]


class DescribeShareGroupOffsetsRequestGroups(TypedDict, total=False):
    """The ``groups`` of :class:`DescribeShareGroupOffsetsRequest`."""

    group_id: str
    topics: Sequence[DescribeShareGroupOffsetsRequestGroupsTopics] | None


class DescribeShareGroupOffsetsRequest(TypedDict, total=False):
    """DescribeShareGroupOffsets request (API key 90, v0-1)."""

    groups: Sequence[DescribeShareGroupOffsetsRequestGroups]


class DescribeShareGroupOffsetsResponseGroupsTopicsPartitions(TypedDict):
    """The ``partitions`` of :class:`DescribeShareGroupOffsetsResponseGroupsTopics`."""

    partition_index: int
    start_offset: int
    leader_epoch: int
    lag: int
    error_code: int
    error_message: str | None


class DescribeShareGroupOffsetsResponseGroupsTopics(TypedDict):
    """The ``topics`` of :class:`DescribeShareGroupOffsetsResponseGroups`."""

    topic_name: str
    topic_id: uuid.UUID
    partitions: list[DescribeShareGroupOffsetsResponseGroupsTopicsPartitions]


class DescribeShareGroupOffsetsResponseGroups(TypedDict):
    """The ``groups`` of :class:`DescribeShareGroupOffsetsResponse`."""

    group_id: str
    topics: list[DescribeShareGroupOffsetsResponseGroupsTopics]
    error_code: int
    error_message: str | None


class DescribeShareGroupOffsetsResponse(TypedDict):
    """DescribeShareGroupOffsets response (API key 90, v0-1)."""

    throttle_time_ms: int
    groups: list[DescribeShareGroupOffsetsResponseGroups]


class AlterShareGroupOffsetsRequestTopicsPartitions(TypedDict, total=False):
    """The ``partitions`` of :class:`AlterShareGroupOffsetsRequestTopics`."""

    partition_index: int
    start_offset: int


class AlterShareGroupOffsetsRequestTopics(TypedDict, total=False):
    """The ``topics`` of :class:`AlterShareGroupOffsetsRequest`."""

    topic_name: str
    partitions: Sequence[AlterShareGroupOffsetsRequestTopicsPartitions]


class AlterShareGroupOffsetsRequest(TypedDict, total=False):
    """AlterShareGroupOffsets request (API key 91, v0-0)."""

    group_id: str
    topics: Sequence[AlterShareGroupOffsetsRequestTopics]


class AlterShareGroupOffsetsResponseResponsesPartitions(TypedDict):
    """The ``partitions`` of :class:`AlterShareGroupOffsetsResponseResponses`."""

    partition_index: int
    error_code: int
    error_message: str | None


class AlterShareGroupOffsetsResponseResponses(TypedDict):
    """The ``responses`` of :class:`AlterShareGroupOffsetsResponse`."""

    topic_name: str
    topic_id: uuid.UUID
    partitions: list[AlterShareGroupOffsetsResponseResponsesPartitions]


class AlterShareGroupOffsetsResponse(TypedDict):
    """AlterShareGroupOffsets response (API key 91, v0-0)."""

    throttle_time_ms: int
    error_code: int
    error_message: str | None
    responses: list[AlterShareGroupOffsetsResponseResponses]


class DeleteShareGroupOffsetsRequestTopics(TypedDict, total=False):
    """The ``topics`` of :class:`DeleteShareGroupOffsetsRequest`."""

    topic_name: str


class DeleteShareGroupOffsetsRequest(TypedDict, total=False):
    """DeleteShareGroupOffsets request (API key 92, v0-0)."""

    group_id: str
    topics: Sequence[DeleteShareGroupOffsetsRequestTopics]


class DeleteShareGroupOffsetsResponseResponses(TypedDict):
    """The ``responses`` of :class:`DeleteShareGroupOffsetsResponse`."""

    topic_name: str
    topic_id: uuid.UUID
    error_code: int
    error_message: str | None


class DeleteShareGroupOffsetsResponse(TypedDict):
    """DeleteShareGroupOffsets response (API key 92, v0-0)."""

    throttle_time_ms: int
    error_code: int
    error_message: str | None
    responses: list[DeleteShareGroupOffsetsResponseResponses]


class ConsumerProtocolSubscriptionOwnedPartitions(TypedDict):
    """The ``owned_partitions`` of :class:`ConsumerProtocolSubscription`."""

    topic: str
    partitions: list[int]


class ConsumerProtocolSubscription(TypedDict):
    """ConsumerProtocolSubscription (v0-3)."""

    topics: list[str]
    user_data: bytes | None
    owned_partitions: list[ConsumerProtocolSubscriptionOwnedPartitions]
    generation_id: int
    rack_id: str | None


class ConsumerProtocolAssignmentAssignedPartitions(TypedDict):
    """The ``assigned_partitions`` of :class:`ConsumerProtocolAssignment`."""

    topic: str
    partitions: list[int]


class ConsumerProtocolAssignment(TypedDict):
    """ConsumerProtocolAssignment (v0-3)."""

    assigned_partitions: list[ConsumerProtocolAssignmentAssignedPartitions]
    user_data: bytes | None
