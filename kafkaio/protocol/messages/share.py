"""Share groups (KIP-932): ShareGroupHeartbeat, ShareGroupDescribe, ShareFetch, ShareAcknowledge and
the share-group offset admin APIs.

Written from Kafka 4.4's message definitions. Version 0 of the share APIs was Kafka 4.0's early
access and was removed in 4.1; version 2 of ShareFetch and ShareAcknowledge adds the acquire mode
(KIP-1206) and RENEW acknowledgements (KIP-1222).
"""
from __future__ import annotations

from kafkaio.protocol.schema import Api, F

# Parts ShareFetch and ShareAcknowledge define alike.
_ACKNOWLEDGEMENT_BATCHES = F('acknowledgement_batches', '[]', '0+',
    F('first_offset', 'int64', '0+'),
    F('last_offset', 'int64', '0+'),
    F('acknowledge_types', '[]int8', '0+'))
_CURRENT_LEADER = F('current_leader', 'struct', '0+',
    F('leader_id', 'int32', '0+'),
    F('leader_epoch', 'int32', '0+'))
_NODE_ENDPOINTS = F('node_endpoints', '[]', '0+',
    F('node_id', 'int32', '0+'),
    F('host', 'string', '0+'),
    F('port', 'int32', '0+'),
    F('rack', 'string', '0+', nullable='0+', default=None))

SHARE_GROUP_HEARTBEAT = Api(
    76, 'ShareGroupHeartbeat', versions="1", flexible='0+',
    request=(
        F('group_id', 'string', '0+'),
        F('member_id', 'string', '0+'),
        F('member_epoch', 'int32', '0+'),
        F('rack_id', 'string', '0+', nullable='0+', default=None),
        F('subscribed_topic_names', '[]string', '0+', nullable='0+', default=None),
    ),
    response=(
        F('throttle_time_ms', 'int32', '0+'),
        F('error_code', 'int16', '0+'),
        F('error_message', 'string', '0+', nullable='0+', default=None),
        F('member_id', 'string', '0+', nullable='0+', default=None),
        F('member_epoch', 'int32', '0+'),
        F('heartbeat_interval_ms', 'int32', '0+'),
        F('assignment', 'struct', '0+',
            F('topic_partitions', '[]', '0+',
                F('topic_id', 'uuid', '0+'),
                F('partitions', '[]int32', '0+')), nullable='0+', default=None),
    ),
)


SHARE_GROUP_DESCRIBE = Api(
    77, 'ShareGroupDescribe', versions="1", flexible='0+',
    request=(
        F('group_ids', '[]string', '0+'),
        F('include_authorized_operations', 'bool', '0+'),
    ),
    response=(
        F('throttle_time_ms', 'int32', '0+'),
        F('groups', '[]', '0+',
            F('error_code', 'int16', '0+'),
            F('error_message', 'string', '0+', nullable='0+', default=None),
            F('group_id', 'string', '0+'),
            F('group_state', 'string', '0+'),
            F('group_epoch', 'int32', '0+'),
            F('assignment_epoch', 'int32', '0+'),
            F('assignor_name', 'string', '0+'),
            F('members', '[]', '0+',
                F('member_id', 'string', '0+'),
                F('rack_id', 'string', '0+', nullable='0+', default=None),
                F('member_epoch', 'int32', '0+'),
                F('client_id', 'string', '0+'),
                F('client_host', 'string', '0+'),
                F('subscribed_topic_names', '[]string', '0+'),
                F('assignment', 'struct', '0+',
                    F('topic_partitions', '[]', '0+',
                        F('topic_id', 'uuid', '0+'),
                        F('topic_name', 'string', '0+'),
                        F('partitions', '[]int32', '0+')))),
            F('authorized_operations', 'int32', '0+', default=-2147483648)),
    ),
)


SHARE_FETCH = Api(
    78, 'ShareFetch', versions="1-2", flexible='0+',
    request=(
        F('group_id', 'string', '0+', nullable='0+', default=None),
        F('member_id', 'string', '0+', nullable='0+'),
        F('share_session_epoch', 'int32', '0+'),
        F('max_wait_ms', 'int32', '0+'),
        F('min_bytes', 'int32', '0+'),
        F('max_bytes', 'int32', '0+', default=2147483647),
        F('max_records', 'int32', '1+'),
        F('batch_size', 'int32', '1+'),
        F('share_acquire_mode', 'int8', '2+', default=0),
        F('is_renew_ack', 'bool', '2+', default=False),
        F('topics', '[]', '0+',
            F('topic_id', 'uuid', '0+'),
            F('partitions', '[]', '0+',
                F('partition_index', 'int32', '0+'),
                _ACKNOWLEDGEMENT_BATCHES)),
        F('forgotten_topics_data', '[]', '0+',
            F('topic_id', 'uuid', '0+'),
            F('partitions', '[]int32', '0+')),
    ),
    response=(
        F('throttle_time_ms', 'int32', '0+'),
        F('error_code', 'int16', '0+'),
        F('error_message', 'string', '0+', nullable='0+', default=None),
        F('acquisition_lock_timeout_ms', 'int32', '1+'),
        F('responses', '[]', '0+',
            F('topic_id', 'uuid', '0+'),
            F('partitions', '[]', '0+',
                F('partition_index', 'int32', '0+'),
                F('error_code', 'int16', '0+'),
                F('error_message', 'string', '0+', nullable='0+', default=None),
                F('acknowledge_error_code', 'int16', '0+'),
                F('acknowledge_error_message', 'string', '0+', nullable='0+', default=None),
                _CURRENT_LEADER,
                F('records', 'records', '0+', nullable='0'),
                F('acquired_records', '[]', '0+',
                    F('first_offset', 'int64', '0+'),
                    F('last_offset', 'int64', '0+'),
                    F('delivery_count', 'int16', '0+')))),
        _NODE_ENDPOINTS,
    ),
)


SHARE_ACKNOWLEDGE = Api(
    79, 'ShareAcknowledge', versions="1-2", flexible='0+',
    request=(
        F('group_id', 'string', '0+', nullable='0+', default=None),
        F('member_id', 'string', '0+', nullable='0+'),
        F('share_session_epoch', 'int32', '0+'),
        F('is_renew_ack', 'bool', '2+', default=False),
        F('topics', '[]', '0+',
            F('topic_id', 'uuid', '0+'),
            F('partitions', '[]', '0+',
                F('partition_index', 'int32', '0+'),
                _ACKNOWLEDGEMENT_BATCHES)),
    ),
    response=(
        F('throttle_time_ms', 'int32', '0+'),
        F('error_code', 'int16', '0+'),
        F('error_message', 'string', '0+', nullable='0+', default=None),
        F('acquisition_lock_timeout_ms', 'int32', '2+'),
        F('responses', '[]', '0+',
            F('topic_id', 'uuid', '0+'),
            F('partitions', '[]', '0+',
                F('partition_index', 'int32', '0+'),
                F('error_code', 'int16', '0+'),
                F('error_message', 'string', '0+', nullable='0+', default=None),
                _CURRENT_LEADER)),
        _NODE_ENDPOINTS,
    ),
)


DESCRIBE_SHARE_GROUP_OFFSETS = Api(
    90, 'DescribeShareGroupOffsets', versions="0-1", flexible='0+',
    request=(
        F('groups', '[]', '0+',
            F('group_id', 'string', '0+'),
            F('topics', '[]', '0+',
                F('topic_name', 'string', '0+'),
                F('partitions', '[]int32', '0+'), nullable='0+')),
    ),
    response=(
        F('throttle_time_ms', 'int32', '0+'),
        F('groups', '[]', '0+',
            F('group_id', 'string', '0+'),
            F('topics', '[]', '0+',
                F('topic_name', 'string', '0+'),
                F('topic_id', 'uuid', '0+'),
                F('partitions', '[]', '0+',
                    F('partition_index', 'int32', '0+'),
                    F('start_offset', 'int64', '0+'),
                    F('leader_epoch', 'int32', '0+'),
                    F('lag', 'int64', '1+', default=-1),
                    F('error_code', 'int16', '0+'),
                    F('error_message', 'string', '0+', nullable='0+', default=None))),
            F('error_code', 'int16', '0+'),
            F('error_message', 'string', '0+', nullable='0+', default=None)),
    ),
)


ALTER_SHARE_GROUP_OFFSETS = Api(
    91, 'AlterShareGroupOffsets', versions="0", flexible='0+',
    request=(
        F('group_id', 'string', '0+'),
        F('topics', '[]', '0+',
            F('topic_name', 'string', '0+'),
            F('partitions', '[]', '0+',
                F('partition_index', 'int32', '0+'),
                F('start_offset', 'int64', '0+'))),
    ),
    response=(
        F('throttle_time_ms', 'int32', '0+'),
        F('error_code', 'int16', '0+'),
        F('error_message', 'string', '0+', nullable='0+', default=None),
        F('responses', '[]', '0+',
            F('topic_name', 'string', '0+'),
            F('topic_id', 'uuid', '0+'),
            F('partitions', '[]', '0+',
                F('partition_index', 'int32', '0+'),
                F('error_code', 'int16', '0+'),
                F('error_message', 'string', '0+', nullable='0+', default=None))),
    ),
)


DELETE_SHARE_GROUP_OFFSETS = Api(
    92, 'DeleteShareGroupOffsets', versions="0", flexible='0+',
    request=(
        F('group_id', 'string', '0+'),
        F('topics', '[]', '0+',
            F('topic_name', 'string', '0+')),
    ),
    response=(
        F('throttle_time_ms', 'int32', '0+'),
        F('error_code', 'int16', '0+'),
        F('error_message', 'string', '0+', nullable='0+', default=None),
        F('responses', '[]', '0+',
            F('topic_name', 'string', '0+'),
            F('topic_id', 'uuid', '0+'),
            F('error_code', 'int16', '0+'),
            F('error_message', 'string', '0+', nullable='0+', default=None)),
    ),
)


APIS = (SHARE_GROUP_HEARTBEAT, SHARE_GROUP_DESCRIBE, SHARE_FETCH, SHARE_ACKNOWLEDGE,
        DESCRIBE_SHARE_GROUP_OFFSETS, ALTER_SHARE_GROUP_OFFSETS, DELETE_SHARE_GROUP_OFFSETS)
