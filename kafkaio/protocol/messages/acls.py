"""Access control lists: DescribeAcls, CreateAcls, DeleteAcls.

Written from Kafka's message definitions. Version 1 added the resource pattern type (KIP-290,
literal or prefixed names), 2 switched to the flexible encoding, 3 added USER_PRINCIPAL as a
resource type; kafkaio starts at 1 so that every ACL names its pattern type.
"""
from __future__ import annotations

from kafkaio.protocol.schema import Api, F, Field


def _filter_fields() -> tuple[Field, ...]:
    return (
        F('resource_type_filter', 'int8', '0+'),
        F('resource_name_filter', 'string', '0+', nullable='0+'),
        F('pattern_type_filter', 'int8', '1+', default=3),
        F('principal_filter', 'string', '0+', nullable='0+'),
        F('host_filter', 'string', '0+', nullable='0+'),
        F('operation', 'int8', '0+'),
        F('permission_type', 'int8', '0+'),
    )


DESCRIBE_ACLS = Api(
    29, 'DescribeAcls', versions="1-3", flexible='2+',
    request=_filter_fields(),
    response=(
        F('throttle_time_ms', 'int32', '0+'),
        F('error_code', 'int16', '0+'),
        F('error_message', 'string', '0+', nullable='0+'),
        F('resources', '[]', '0+',
            F('resource_type', 'int8', '0+'),
            F('resource_name', 'string', '0+'),
            F('pattern_type', 'int8', '1+', default=3),
            F('acls', '[]', '0+',
                F('principal', 'string', '0+'),
                F('host', 'string', '0+'),
                F('operation', 'int8', '0+'),
                F('permission_type', 'int8', '0+'))),
    ),
)


CREATE_ACLS = Api(
    30, 'CreateAcls', versions="1-3", flexible='2+',
    request=(
        F('creations', '[]', '0+',
            F('resource_type', 'int8', '0+'),
            F('resource_name', 'string', '0+'),
            F('resource_pattern_type', 'int8', '1+', default=3),
            F('principal', 'string', '0+'),
            F('host', 'string', '0+'),
            F('operation', 'int8', '0+'),
            F('permission_type', 'int8', '0+')),
    ),
    response=(
        F('throttle_time_ms', 'int32', '0+'),
        F('results', '[]', '0+',
            F('error_code', 'int16', '0+'),
            F('error_message', 'string', '0+', nullable='0+')),
    ),
)


DELETE_ACLS = Api(
    31, 'DeleteAcls', versions="1-3", flexible='2+',
    request=(
        F('filters', '[]', '0+', *_filter_fields()),
    ),
    response=(
        F('throttle_time_ms', 'int32', '0+'),
        F('filter_results', '[]', '0+',
            F('error_code', 'int16', '0+'),
            F('error_message', 'string', '0+', nullable='0+'),
            F('matching_acls', '[]', '0+',
                F('error_code', 'int16', '0+'),
                F('error_message', 'string', '0+', nullable='0+'),
                F('resource_type', 'int8', '0+'),
                F('resource_name', 'string', '0+'),
                F('pattern_type', 'int8', '1+', default=3),
                F('principal', 'string', '0+'),
                F('host', 'string', '0+'),
                F('operation', 'int8', '0+'),
                F('permission_type', 'int8', '0+'))),
    ),
)

APIS = (DESCRIBE_ACLS, CREATE_ACLS, DELETE_ACLS)
