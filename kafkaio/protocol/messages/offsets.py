"""Committed offsets: OffsetCommit, OffsetFetch, OffsetDelete.

Written from the Kafka protocol guide and message definitions; see docs/protocol.md for
the version range of each API and why it stops where it does.
"""
from __future__ import annotations

from kafkaio.protocol.schema import Api, F


OFFSET_COMMIT = Api(
    8, 'OffsetCommit', versions="2-10", flexible='8+',
    request=(
        F('group_id', 'string', '0+'),
        F('generation_id_or_member_epoch', 'int32', '0+', default=-1),
        F('member_id', 'string', '0+'),
        F('group_instance_id', 'string', '7+', nullable='7+', default=None),
        F('retention_time_ms', 'int64', '0-4', default=-1),
        F('topics', '[]', '0+',
            F('name', 'string', '0-9'),
            F('topic_id', 'uuid', '10+'),
            F('partitions', '[]', '0+',
                F('partition_index', 'int32', '0+'),
                F('committed_offset', 'int64', '0+'),
                F('committed_leader_epoch', 'int32', '6+', default=-1),
                F('committed_metadata', 'string', '0+', nullable='0+'))),
    ),
    response=(
        F('throttle_time_ms', 'int32', '3+'),
        F('topics', '[]', '0+',
            F('name', 'string', '0-9'),
            F('topic_id', 'uuid', '10+'),
            F('partitions', '[]', '0+',
                F('partition_index', 'int32', '0+'),
                F('error_code', 'int16', '0+'))),
    ),
)


OFFSET_FETCH = Api(
    9, 'OffsetFetch', versions="1-10", flexible='6+',
    request=(
        F('group_id', 'string', '0-7'),
        F('topics', '[]', '0-7',
            F('name', 'string', '0-7'),
            F('partition_indexes', '[]int32', '0-7'), nullable='2-7'),
        F('groups', '[]', '8+',
            F('group_id', 'string', '8+'),
            F('member_id', 'string', '9+', nullable='9+', default=None),
            F('member_epoch', 'int32', '9+', default=-1),
            F('topics', '[]', '8+',
                F('name', 'string', '8-9'),
                F('topic_id', 'uuid', '10+'),
                F('partition_indexes', '[]int32', '8+'), nullable='8+')),
        F('require_stable', 'bool', '7+', default=False),
    ),
    response=(
        F('throttle_time_ms', 'int32', '3+'),
        F('topics', '[]', '0-7',
            F('name', 'string', '0-7'),
            F('partitions', '[]', '0-7',
                F('partition_index', 'int32', '0-7'),
                F('committed_offset', 'int64', '0-7'),
                F('committed_leader_epoch', 'int32', '5-7', default=-1),
                F('metadata', 'string', '0-7', nullable='0-7'),
                F('error_code', 'int16', '0-7'))),
        F('error_code', 'int16', '2-7', default=0),
        F('groups', '[]', '8+',
            F('group_id', 'string', '8+'),
            F('topics', '[]', '8+',
                F('name', 'string', '8-9'),
                F('topic_id', 'uuid', '10+'),
                F('partitions', '[]', '8+',
                    F('partition_index', 'int32', '8+'),
                    F('committed_offset', 'int64', '8+'),
                    F('committed_leader_epoch', 'int32', '8+', default=-1),
                    F('metadata', 'string', '8+', nullable='8+'),
                    F('error_code', 'int16', '8+'))),
            F('error_code', 'int16', '8+', default=0)),
    ),
)


OFFSET_DELETE = Api(
    47, 'OffsetDelete', versions="0-0", flexible='none',
    request=(
        F('group_id', 'string', '0+'),
        F('topics', '[]', '0+',
            F('name', 'string', '0+'),
            F('partitions', '[]', '0+',
                F('partition_index', 'int32', '0+'))),
    ),
    response=(
        F('error_code', 'int16', '0+'),
        F('throttle_time_ms', 'int32', '0+'),
        F('topics', '[]', '0+',
            F('name', 'string', '0+'),
            F('partitions', '[]', '0+',
                F('partition_index', 'int32', '0+'),
                F('error_code', 'int16', '0+'))),
    ),
)


APIS = (OFFSET_COMMIT, OFFSET_FETCH, OFFSET_DELETE,)
