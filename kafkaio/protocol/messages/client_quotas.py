"""Client quotas (KIP-546): describe and alter the byte-rate and request-rate limits the brokers
enforce per user / client id / IP.

Written from Kafka's message definitions (DescribeClientQuotas, AlterClientQuotas); both APIs
have versions 0-1, and 1 only switches to the flexible encoding.
"""
from __future__ import annotations

from kafkaio.protocol.schema import Api, F


DESCRIBE_CLIENT_QUOTAS = Api(
    48, 'DescribeClientQuotas', versions="0-1", flexible='1+',
    request=(
        F('components', '[]', '0+',
            F('entity_type', 'string', '0+'),
            F('match_type', 'int8', '0+'),
            F('match', 'string', '0+', nullable='0+')),
        F('strict', 'bool', '0+', default=False),
    ),
    response=(
        F('throttle_time_ms', 'int32', '0+'),
        F('error_code', 'int16', '0+'),
        F('error_message', 'string', '0+', nullable='0+'),
        F('entries', '[]', '0+',
            F('entity', '[]', '0+',
                F('entity_type', 'string', '0+'),
                F('entity_name', 'string', '0+', nullable='0+')),
            F('values', '[]', '0+',
                F('key', 'string', '0+'),
                F('value', 'float64', '0+')), nullable='0+'),
    ),
)


ALTER_CLIENT_QUOTAS = Api(
    49, 'AlterClientQuotas', versions="0-1", flexible='1+',
    request=(
        F('entries', '[]', '0+',
            F('entity', '[]', '0+',
                F('entity_type', 'string', '0+'),
                F('entity_name', 'string', '0+', nullable='0+')),
            F('ops', '[]', '0+',
                F('key', 'string', '0+'),
                F('value', 'float64', '0+'),
                F('remove', 'bool', '0+'))),
        F('validate_only', 'bool', '0+', default=False),
    ),
    response=(
        F('throttle_time_ms', 'int32', '0+'),
        F('entries', '[]', '0+',
            F('error_code', 'int16', '0+'),
            F('error_message', 'string', '0+', nullable='0+'),
            F('entity', '[]', '0+',
                F('entity_type', 'string', '0+'),
                F('entity_name', 'string', '0+', nullable='0+'))),
    ),
)


APIS = (DESCRIBE_CLIENT_QUOTAS, ALTER_CLIENT_QUOTAS,)
