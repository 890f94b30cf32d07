"""Consumer groups: the classic protocol (JoinGroup ... LeaveGroup), the KIP-848 protocol, group admin.

Written from the Kafka protocol guide and message definitions; see docs/protocol.md for
the version range of each API and why it stops where it does.
"""
from __future__ import annotations

from kafkaio.protocol.schema import Api, F


JOIN_GROUP = Api(
    11, 'JoinGroup', versions="2-9", flexible='6+',
    request=(
        F('group_id', 'string', '0+'),
        F('session_timeout_ms', 'int32', '0+'),
        F('rebalance_timeout_ms', 'int32', '0+', default=-1),
        F('member_id', 'string', '0+'),
        F('group_instance_id', 'string', '5+', nullable='5+', default=None),
        F('protocol_type', 'string', '0+'),
        F('protocols', '[]', '0+',
            F('name', 'string', '0+'),
            F('metadata', 'bytes', '0+')),
        F('reason', 'string', '8+', nullable='8+', default=None),
    ),
    response=(
        F('throttle_time_ms', 'int32', '0+'),
        F('error_code', 'int16', '0+'),
        F('generation_id', 'int32', '0+', default=-1),
        F('protocol_type', 'string', '7+', nullable='7+', default=None),
        F('protocol_name', 'string', '0+', nullable='7+'),
        F('leader', 'string', '0+'),
        F('skip_assignment', 'bool', '9+', default=False),
        F('member_id', 'string', '0+'),
        F('members', '[]', '0+',
            F('member_id', 'string', '0+'),
            F('group_instance_id', 'string', '5+', nullable='5+', default=None),
            F('metadata', 'bytes', '0+')),
    ),
)


SYNC_GROUP = Api(
    14, 'SyncGroup', versions="0-5", flexible='4+',
    request=(
        F('group_id', 'string', '0+'),
        F('generation_id', 'int32', '0+'),
        F('member_id', 'string', '0+'),
        F('group_instance_id', 'string', '3+', nullable='3+', default=None),
        F('protocol_type', 'string', '5+', nullable='5+', default=None),
        F('protocol_name', 'string', '5+', nullable='5+', default=None),
        F('assignments', '[]', '0+',
            F('member_id', 'string', '0+'),
            F('assignment', 'bytes', '0+')),
    ),
    response=(
        F('throttle_time_ms', 'int32', '1+'),
        F('error_code', 'int16', '0+'),
        F('protocol_type', 'string', '5+', nullable='5+', default=None),
        F('protocol_name', 'string', '5+', nullable='5+', default=None),
        F('assignment', 'bytes', '0+'),
    ),
)


HEARTBEAT = Api(
    12, 'Heartbeat', versions="0-4", flexible='4+',
    request=(
        F('group_id', 'string', '0+'),
        F('generation_id', 'int32', '0+'),
        F('member_id', 'string', '0+'),
        F('group_instance_id', 'string', '3+', nullable='3+', default=None),
    ),
    response=(
        F('throttle_time_ms', 'int32', '1+'),
        F('error_code', 'int16', '0+'),
    ),
)


LEAVE_GROUP = Api(
    13, 'LeaveGroup', versions="0-5", flexible='4+',
    request=(
        F('group_id', 'string', '0+'),
        F('member_id', 'string', '0-2'),
        F('members', '[]', '3+',
            F('member_id', 'string', '3+'),
            F('group_instance_id', 'string', '3+', nullable='3+', default=None),
            F('reason', 'string', '5+', nullable='5+', default=None)),
    ),
    response=(
        F('throttle_time_ms', 'int32', '1+'),
        F('error_code', 'int16', '0+'),
        F('members', '[]', '3+',
            F('member_id', 'string', '3+'),
            F('group_instance_id', 'string', '3+', nullable='3+'),
            F('error_code', 'int16', '3+')),
    ),
)


DESCRIBE_GROUPS = Api(
    15, 'DescribeGroups', versions="0-6", flexible='5+',
    request=(
        F('groups', '[]string', '0+'),
        F('include_authorized_operations', 'bool', '3+'),
    ),
    response=(
        F('throttle_time_ms', 'int32', '1+'),
        F('groups', '[]', '0+',
            F('error_code', 'int16', '0+'),
            F('error_message', 'string', '6+', nullable='6+', default=None),
            F('group_id', 'string', '0+'),
            F('group_state', 'string', '0+'),
            F('protocol_type', 'string', '0+'),
            F('protocol_data', 'string', '0+'),
            F('members', '[]', '0+',
                F('member_id', 'string', '0+'),
                F('group_instance_id', 'string', '4+', nullable='4+', default=None),
                F('client_id', 'string', '0+'),
                F('client_host', 'string', '0+'),
                F('member_metadata', 'bytes', '0+'),
                F('member_assignment', 'bytes', '0+')),
            F('authorized_operations', 'int32', '3+', default=-2147483648)),
    ),
)


LIST_GROUPS = Api(
    16, 'ListGroups', versions="0-5", flexible='3+',
    request=(
        F('states_filter', '[]string', '4+'),
        F('types_filter', '[]string', '5+'),
    ),
    response=(
        F('throttle_time_ms', 'int32', '1+'),
        F('error_code', 'int16', '0+'),
        F('groups', '[]', '0+',
            F('group_id', 'string', '0+'),
            F('protocol_type', 'string', '0+'),
            F('group_state', 'string', '4+'),
            F('group_type', 'string', '5+')),
    ),
)


DELETE_GROUPS = Api(
    42, 'DeleteGroups', versions="1-3", flexible='2+',
    request=(
        F('groups_names', '[]string', '0+'),
    ),
    response=(
        F('throttle_time_ms', 'int32', '0+'),
        F('results', '[]', '0+',
            F('group_id', 'string', '0+'),
            F('error_code', 'int16', '0+'),
            F('error_message', 'string', '3+', nullable='3+', default=None)),
    ),
)


CONSUMER_GROUP_HEARTBEAT = Api(
    68, 'ConsumerGroupHeartbeat', versions="0-1", flexible='0+',
    request=(
        F('group_id', 'string', '0+'),
        F('member_id', 'string', '0+'),
        F('member_epoch', 'int32', '0+'),
        F('instance_id', 'string', '0+', nullable='0+', default=None),
        F('rack_id', 'string', '0+', nullable='0+', default=None),
        F('rebalance_timeout_ms', 'int32', '0+', default=-1),
        F('subscribed_topic_names', '[]string', '0+', nullable='0+', default=None),
        F('subscribed_topic_regex', 'string', '1+', nullable='1+', default=None),
        F('server_assignor', 'string', '0+', nullable='0+', default=None),
        F('topic_partitions', '[]', '0+',
            F('topic_id', 'uuid', '0+'),
            F('partitions', '[]int32', '0+'), nullable='0+', default=None),
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


CONSUMER_GROUP_DESCRIBE = Api(
    69, 'ConsumerGroupDescribe', versions="0-1", flexible='0+',
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
                F('instance_id', 'string', '0+', nullable='0+', default=None),
                F('rack_id', 'string', '0+', nullable='0+', default=None),
                F('member_epoch', 'int32', '0+'),
                F('client_id', 'string', '0+'),
                F('client_host', 'string', '0+'),
                F('subscribed_topic_names', '[]string', '0+'),
                F('subscribed_topic_regex', 'string', '0+', nullable='0+', default=None),
                F('assignment', 'struct', '0+',
                    F('topic_partitions', '[]', '0+',
                        F('topic_id', 'uuid', '0+'),
                        F('topic_name', 'string', '0+'),
                        F('partitions', '[]int32', '0+'))),
                F('target_assignment', 'struct', '0+',
                    F('topic_partitions', '[]', '0+',
                        F('topic_id', 'uuid', '0+'),
                        F('topic_name', 'string', '0+'),
                        F('partitions', '[]int32', '0+'))),
                F('member_type', 'int8', '1+', default=-1)),
            F('authorized_operations', 'int32', '0+', default=-2147483648)),
    ),
)


APIS = (JOIN_GROUP, SYNC_GROUP, HEARTBEAT, LEAVE_GROUP, DESCRIBE_GROUPS, LIST_GROUPS, DELETE_GROUPS, CONSUMER_GROUP_HEARTBEAT, CONSUMER_GROUP_DESCRIBE,)
