"""Reading: Fetch, ListOffsets, OffsetForLeaderEpoch.

Written from the Kafka protocol guide and message definitions; see docs/protocol.md for
the version range of each API and why it stops where it does.
"""
from __future__ import annotations

from kafkaio.protocol.schema import Api, F


FETCH = Api(
    1, 'Fetch', versions="4-18", flexible='12+',
    request=(
        F('cluster_id', 'string', '12+', nullable='12+', default=None, tag=0),
        F('replica_id', 'int32', '0-14', default=-1),
        F('replica_state', 'struct', '15+',
            F('replica_id', 'int32', '15+', default=-1),
            F('replica_epoch', 'int64', '15+', default=-1), tag=1),
        F('max_wait_ms', 'int32', '0+'),
        F('min_bytes', 'int32', '0+'),
        F('max_bytes', 'int32', '0+', default=2147483647),
        F('isolation_level', 'int8', '0+', default=0),
        F('session_id', 'int32', '7+', default=0),
        F('session_epoch', 'int32', '7+', default=-1),
        F('topics', '[]', '0+',
            F('topic', 'string', '0-12'),
            F('topic_id', 'uuid', '13+'),
            F('partitions', '[]', '0+',
                F('partition', 'int32', '0+'),
                F('current_leader_epoch', 'int32', '9+', default=-1),
                F('fetch_offset', 'int64', '0+'),
                F('last_fetched_epoch', 'int32', '12+', default=-1),
                F('log_start_offset', 'int64', '5+', default=-1),
                F('partition_max_bytes', 'int32', '0+'),
                F('replica_directory_id', 'uuid', '17+', tag=0),
                F('high_watermark', 'int64', '18+', default=9223372036854775807, tag=1))),
        F('forgotten_topics_data', '[]', '7+',
            F('topic', 'string', '7-12'),
            F('topic_id', 'uuid', '13+'),
            F('partitions', '[]int32', '7+')),
        F('rack_id', 'string', '11+', default=''),
    ),
    response=(
        F('throttle_time_ms', 'int32', '0+'),
        F('error_code', 'int16', '7+'),
        F('session_id', 'int32', '7+', default=0),
        F('responses', '[]', '0+',
            F('topic', 'string', '0-12'),
            F('topic_id', 'uuid', '13+'),
            F('partitions', '[]', '0+',
                F('partition_index', 'int32', '0+'),
                F('error_code', 'int16', '0+'),
                F('high_watermark', 'int64', '0+'),
                F('last_stable_offset', 'int64', '0+', default=-1),
                F('log_start_offset', 'int64', '5+', default=-1),
                F('diverging_epoch', 'struct', '12+',
                    F('epoch', 'int32', '12+', default=-1),
                    F('end_offset', 'int64', '12+', default=-1), tag=0),
                F('current_leader', 'struct', '12+',
                    F('leader_id', 'int32', '12+', default=-1),
                    F('leader_epoch', 'int32', '12+', default=-1), tag=1),
                F('snapshot_id', 'struct', '12+',
                    F('end_offset', 'int64', '0+', default=-1),
                    F('epoch', 'int32', '0+', default=-1), tag=2),
                F('aborted_transactions', '[]', '0+',
                    F('producer_id', 'int64', '0+'),
                    F('first_offset', 'int64', '0+'), nullable='0+'),
                F('preferred_read_replica', 'int32', '11+', default=-1),
                F('records', 'records', '0+', nullable='0+'))),
        F('node_endpoints', '[]', '16+',
            F('node_id', 'int32', '16+'),
            F('host', 'string', '16+'),
            F('port', 'int32', '16+'),
            F('rack', 'string', '16+', nullable='16+', default=None), tag=0),
    ),
)


LIST_OFFSETS = Api(
    2, 'ListOffsets', versions="1-11", flexible='6+',
    request=(
        F('replica_id', 'int32', '0+'),
        F('isolation_level', 'int8', '2+'),
        F('topics', '[]', '0+',
            F('name', 'string', '0+'),
            F('partitions', '[]', '0+',
                F('partition_index', 'int32', '0+'),
                F('current_leader_epoch', 'int32', '4+', default=-1),
                F('timestamp', 'int64', '0+'))),
        F('timeout_ms', 'int32', '10+'),
    ),
    response=(
        F('throttle_time_ms', 'int32', '2+'),
        F('topics', '[]', '0+',
            F('name', 'string', '0+'),
            F('partitions', '[]', '0+',
                F('partition_index', 'int32', '0+'),
                F('error_code', 'int16', '0+'),
                F('timestamp', 'int64', '0+', default=-1),
                F('offset', 'int64', '0+', default=-1),
                F('leader_epoch', 'int32', '4+', default=-1))),
    ),
)


OFFSET_FOR_LEADER_EPOCH = Api(
    23, 'OffsetForLeaderEpoch', versions="2-4", flexible='4+',
    request=(
        F('replica_id', 'int32', '3+', default=-2),
        F('topics', '[]', '0+',
            F('topic', 'string', '0+'),
            F('partitions', '[]', '0+',
                F('partition', 'int32', '0+'),
                F('current_leader_epoch', 'int32', '0+', default=-1),
                F('leader_epoch', 'int32', '0+'))),
    ),
    response=(
        F('throttle_time_ms', 'int32', '0+'),
        F('topics', '[]', '0+',
            F('topic', 'string', '0+'),
            F('partitions', '[]', '0+',
                F('error_code', 'int16', '0+'),
                F('partition', 'int32', '0+'),
                F('leader_epoch', 'int32', '0+', default=-1),
                F('end_offset', 'int64', '0+', default=-1))),
    ),
)


APIS = (FETCH, LIST_OFFSETS, OFFSET_FOR_LEADER_EPOCH,)
