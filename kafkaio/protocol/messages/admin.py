"""Topic and configuration administration.

Written from the Kafka protocol guide and message definitions; see docs/protocol.md for
the version range of each API and why it stops where it does.
"""
from __future__ import annotations

from kafkaio.protocol.schema import Api, F


CREATE_TOPICS = Api(
    19, 'CreateTopics', versions="2-7", flexible='5+',
    request=(
        F('topics', '[]', '0+',
            F('name', 'string', '0+'),
            F('num_partitions', 'int32', '0+'),
            F('replication_factor', 'int16', '0+'),
            F('assignments', '[]', '0+',
                F('partition_index', 'int32', '0+'),
                F('broker_ids', '[]int32', '0+')),
            F('configs', '[]', '0+',
                F('name', 'string', '0+'),
                F('value', 'string', '0+', nullable='0+'))),
        F('timeout_ms', 'int32', '0+', default=60000),
        F('validate_only', 'bool', '0+', default=False),
    ),
    response=(
        F('throttle_time_ms', 'int32', '0+'),
        F('topics', '[]', '0+',
            F('name', 'string', '0+'),
            F('topic_id', 'uuid', '7+'),
            F('error_code', 'int16', '0+'),
            F('error_message', 'string', '0+', nullable='0+'),
            F('topic_config_error_code', 'int16', '5+', tag=0),
            F('num_partitions', 'int32', '5+', default=-1),
            F('replication_factor', 'int16', '5+', default=-1),
            F('configs', '[]', '5+',
                F('name', 'string', '5+'),
                F('value', 'string', '5+', nullable='5+'),
                F('read_only', 'bool', '5+'),
                F('config_source', 'int8', '5+', default=-1),
                F('is_sensitive', 'bool', '5+'), nullable='5+')),
    ),
)


DELETE_TOPICS = Api(
    20, 'DeleteTopics', versions="1-6", flexible='4+',
    request=(
        F('topics', '[]', '6+',
            F('name', 'string', '6+', nullable='6+', default=None),
            F('topic_id', 'uuid', '6+')),
        F('topic_names', '[]string', '0-5'),
        F('timeout_ms', 'int32', '0+'),
    ),
    response=(
        F('throttle_time_ms', 'int32', '0+'),
        F('responses', '[]', '0+',
            F('name', 'string', '0+', nullable='6+'),
            F('topic_id', 'uuid', '6+'),
            F('error_code', 'int16', '0+'),
            F('error_message', 'string', '5+', nullable='5+', default=None)),
    ),
)


CREATE_PARTITIONS = Api(
    37, 'CreatePartitions', versions="0-3", flexible='2+',
    request=(
        F('topics', '[]', '0+',
            F('name', 'string', '0+'),
            F('count', 'int32', '0+'),
            F('assignments', '[]', '0+',
                F('broker_ids', '[]int32', '0+'), nullable='0+')),
        F('timeout_ms', 'int32', '0+'),
        F('validate_only', 'bool', '0+'),
    ),
    response=(
        F('throttle_time_ms', 'int32', '0+'),
        F('results', '[]', '0+',
            F('name', 'string', '0+'),
            F('error_code', 'int16', '0+'),
            F('error_message', 'string', '0+', nullable='0+', default=None)),
    ),
)


DELETE_RECORDS = Api(
    21, 'DeleteRecords', versions="0-2", flexible='2+',
    request=(
        F('topics', '[]', '0+',
            F('name', 'string', '0+'),
            F('partitions', '[]', '0+',
                F('partition_index', 'int32', '0+'),
                F('offset', 'int64', '0+'))),
        F('timeout_ms', 'int32', '0+'),
    ),
    response=(
        F('throttle_time_ms', 'int32', '0+'),
        F('topics', '[]', '0+',
            F('name', 'string', '0+'),
            F('partitions', '[]', '0+',
                F('partition_index', 'int32', '0+'),
                F('low_watermark', 'int64', '0+'),
                F('error_code', 'int16', '0+'))),
    ),
)


DESCRIBE_CONFIGS = Api(
    32, 'DescribeConfigs', versions="1-4", flexible='4+',
    request=(
        F('resources', '[]', '0+',
            F('resource_type', 'int8', '0+'),
            F('resource_name', 'string', '0+'),
            F('configuration_keys', '[]string', '0+', nullable='0+')),
        F('include_synonyms', 'bool', '0+', default=False),
        F('include_documentation', 'bool', '3+', default=False),
    ),
    response=(
        F('throttle_time_ms', 'int32', '0+'),
        F('results', '[]', '0+',
            F('error_code', 'int16', '0+'),
            F('error_message', 'string', '0+', nullable='0+'),
            F('resource_type', 'int8', '0+'),
            F('resource_name', 'string', '0+'),
            F('configs', '[]', '0+',
                F('name', 'string', '0+'),
                F('value', 'string', '0+', nullable='0+'),
                F('read_only', 'bool', '0+'),
                F('config_source', 'int8', '0+', default=-1),
                F('is_sensitive', 'bool', '0+'),
                F('synonyms', '[]', '0+',
                    F('name', 'string', '0+'),
                    F('value', 'string', '0+', nullable='0+'),
                    F('source', 'int8', '0+')),
                F('config_type', 'int8', '3+', default=0),
                F('documentation', 'string', '3+', nullable='0+'))),
    ),
)


INCREMENTAL_ALTER_CONFIGS = Api(
    44, 'IncrementalAlterConfigs', versions="0-1", flexible='1+',
    request=(
        F('resources', '[]', '0+',
            F('resource_type', 'int8', '0+'),
            F('resource_name', 'string', '0+'),
            F('configs', '[]', '0+',
                F('name', 'string', '0+'),
                F('config_operation', 'int8', '0+'),
                F('value', 'string', '0+', nullable='0+'))),
        F('validate_only', 'bool', '0+'),
    ),
    response=(
        F('throttle_time_ms', 'int32', '0+'),
        F('responses', '[]', '0+',
            F('error_code', 'int16', '0+'),
            F('error_message', 'string', '0+', nullable='0+'),
            F('resource_type', 'int8', '0+'),
            F('resource_name', 'string', '0+')),
    ),
)


ALTER_CONFIGS = Api(
    33, 'AlterConfigs', versions="0-2", flexible='2+',
    request=(
        F('resources', '[]', '0+',
            F('resource_type', 'int8', '0+'),
            F('resource_name', 'string', '0+'),
            F('configs', '[]', '0+',
                F('name', 'string', '0+'),
                F('value', 'string', '0+', nullable='0+'))),
        F('validate_only', 'bool', '0+'),
    ),
    response=(
        F('throttle_time_ms', 'int32', '0+'),
        F('responses', '[]', '0+',
            F('error_code', 'int16', '0+'),
            F('error_message', 'string', '0+', nullable='0+'),
            F('resource_type', 'int8', '0+'),
            F('resource_name', 'string', '0+')),
    ),
)


APIS = (CREATE_TOPICS, DELETE_TOPICS, CREATE_PARTITIONS, DELETE_RECORDS, DESCRIBE_CONFIGS, INCREMENTAL_ALTER_CONFIGS, ALTER_CONFIGS,)
