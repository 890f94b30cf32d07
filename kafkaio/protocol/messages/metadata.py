"""Cluster discovery: ApiVersions, Metadata, DescribeCluster, FindCoordinator.

Written from the Kafka protocol guide and message definitions; see docs/protocol.md for
the version range of each API and why it stops where it does.
"""
from __future__ import annotations

from kafkaio.protocol.schema import Api, F

CLIENT_SOFTWARE_NAME = "kafkaio"
CLIENT_SOFTWARE_VERSION = "0.1.0"  # kept equal to kafkaio.__version__ by a unit test


API_VERSIONS = Api(
    18, 'ApiVersions', versions="0-5", flexible='3+',
    request=(
        # Brokers reject an empty name or version (INVALID_REQUEST), so default to ours.
        F('client_software_name', 'string', '3+', default=CLIENT_SOFTWARE_NAME),
        F('client_software_version', 'string', '3+', default=CLIENT_SOFTWARE_VERSION),
        # KIP-1242: the node the client means to reach (both, or neither)
        F('cluster_id', 'string', '5+', nullable='5+', default=None),
        F('node_id', 'int32', '5+', default=-1),
    ),
    response=(
        F('error_code', 'int16', '0+'),
        F('api_keys', '[]', '0+',
            F('api_key', 'int16', '0+'),
            F('min_version', 'int16', '0+'),
            F('max_version', 'int16', '0+')),
        F('throttle_time_ms', 'int32', '1+'),
        F('supported_features', '[]', '3+',
            F('name', 'string', '3+'),
            F('min_version', 'int16', '3+'),
            F('max_version', 'int16', '3+'), tag=0),
        F('finalized_features_epoch', 'int64', '3+', default=-1, tag=1),
        F('finalized_features', '[]', '3+',
            F('name', 'string', '3+'),
            F('max_version_level', 'int16', '3+'),
            F('min_version_level', 'int16', '3+'), tag=2),
        F('zk_migration_ready', 'bool', '3+', default=False, tag=3),
    ),
)


METADATA = Api(
    3, 'Metadata', versions="4-13", flexible='9+',
    request=(
        F('topics', '[]', '0+',
            F('topic_id', 'uuid', '10+'),
            F('name', 'string', '0+', nullable='10+'), nullable='0+'),
        F('allow_auto_topic_creation', 'bool', '0+', default=True),
        F('include_cluster_authorized_operations', 'bool', '8-10'),
        F('include_topic_authorized_operations', 'bool', '8+'),
    ),
    response=(
        F('throttle_time_ms', 'int32', '0+'),
        F('brokers', '[]', '0+',
            F('node_id', 'int32', '0+'),
            F('host', 'string', '0+'),
            F('port', 'int32', '0+'),
            F('rack', 'string', '0+', nullable='0+', default=None)),
        F('cluster_id', 'string', '0+', nullable='0+', default=None),
        F('controller_id', 'int32', '0+', default=-1),
        F('topics', '[]', '0+',
            F('error_code', 'int16', '0+'),
            F('name', 'string', '0+', nullable='12+'),
            F('topic_id', 'uuid', '10+'),
            F('is_internal', 'bool', '0+', default=False),
            F('partitions', '[]', '0+',
                F('error_code', 'int16', '0+'),
                F('partition_index', 'int32', '0+'),
                F('leader_id', 'int32', '0+'),
                F('leader_epoch', 'int32', '7+', default=-1),
                F('replica_nodes', '[]int32', '0+'),
                F('isr_nodes', '[]int32', '0+'),
                F('offline_replicas', '[]int32', '5+')),
            F('topic_authorized_operations', 'int32', '8+', default=-2147483648)),
        F('cluster_authorized_operations', 'int32', '8-10', default=-2147483648),
        # v13 (KIP-1102): a top-level error, e.g. REBOOTSTRAP_REQUIRED.
        F('error_code', 'int16', '13+'),
    ),
)


DESCRIBE_CLUSTER = Api(
    60, 'DescribeCluster', versions="0-2", flexible='0+',
    request=(
        F('include_cluster_authorized_operations', 'bool', '0+'),
        F('endpoint_type', 'int8', '1+', default=1),
        F('include_fenced_brokers', 'bool', '2+'),
    ),
    response=(
        F('throttle_time_ms', 'int32', '0+'),
        F('error_code', 'int16', '0+'),
        F('error_message', 'string', '0+', nullable='0+', default=None),
        F('endpoint_type', 'int8', '1+', default=1),
        F('cluster_id', 'string', '0+'),
        F('controller_id', 'int32', '0+', default=-1),
        F('brokers', '[]', '0+',
            F('broker_id', 'int32', '0+'),
            F('host', 'string', '0+'),
            F('port', 'int32', '0+'),
            F('rack', 'string', '0+', nullable='0+', default=None),
            F('is_fenced', 'bool', '2+')),
        F('cluster_authorized_operations', 'int32', '0+', default=-2147483648),
    ),
)


FIND_COORDINATOR = Api(
    10, 'FindCoordinator', versions="1-6", flexible='3+',
    request=(
        F('key', 'string', '0-3'),
        F('key_type', 'int8', '0+', default=0),
        F('coordinator_keys', '[]string', '4+'),
    ),
    response=(
        F('throttle_time_ms', 'int32', '0+'),
        F('error_code', 'int16', '0-3'),
        F('error_message', 'string', '0-3', nullable='0-3'),
        F('node_id', 'int32', '0-3'),
        F('host', 'string', '0-3'),
        F('port', 'int32', '0-3'),
        F('coordinators', '[]', '4+',
            F('key', 'string', '4+'),
            F('node_id', 'int32', '4+'),
            F('host', 'string', '4+'),
            F('port', 'int32', '4+'),
            F('error_code', 'int16', '4+'),
            F('error_message', 'string', '4+', nullable='4+')),
    ),
)


APIS = (API_VERSIONS, METADATA, DESCRIBE_CLUSTER, FIND_COORDINATOR,)
