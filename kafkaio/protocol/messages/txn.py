"""Idempotence and transactions.

Written from the Kafka protocol guide and message definitions; see docs/protocol.md for
the version range of each API and why it stops where it does.
"""
from __future__ import annotations

from kafkaio.protocol.schema import Api, F


INIT_PRODUCER_ID = Api(
    22, 'InitProducerId', versions="0-5", flexible='2+',
    request=(
        F('transactional_id', 'string', '0+', nullable='0+'),
        F('transaction_timeout_ms', 'int32', '0+'),
        F('producer_id', 'int64', '3+', default=-1),
        F('producer_epoch', 'int16', '3+', default=-1),
    ),
    response=(
        F('throttle_time_ms', 'int32', '0+'),
        F('error_code', 'int16', '0+'),
        F('producer_id', 'int64', '0+', default=-1),
        F('producer_epoch', 'int16', '0+'),
    ),
)


ADD_PARTITIONS_TO_TXN = Api(
    24, 'AddPartitionsToTxn', versions="0-3", flexible='3+',
    request=(
        F('v3_and_below_transactional_id', 'string', '0+'),
        F('v3_and_below_producer_id', 'int64', '0+'),
        F('v3_and_below_producer_epoch', 'int16', '0+'),
        F('v3_and_below_topics', '[]', '0+',
            F('name', 'string', '0+'),
            F('partitions', '[]int32', '0+')),
    ),
    response=(
        F('throttle_time_ms', 'int32', '0+'),
        F('results_by_topic_v3_and_below', '[]', '0+',
            F('name', 'string', '0+'),
            F('results_by_partition', '[]', '0+',
                F('partition_index', 'int32', '0+'),
                F('partition_error_code', 'int16', '0+'))),
    ),
)


ADD_OFFSETS_TO_TXN = Api(
    25, 'AddOffsetsToTxn', versions="0-4", flexible='3+',
    request=(
        F('transactional_id', 'string', '0+'),
        F('producer_id', 'int64', '0+'),
        F('producer_epoch', 'int16', '0+'),
        F('group_id', 'string', '0+'),
    ),
    response=(
        F('throttle_time_ms', 'int32', '0+'),
        F('error_code', 'int16', '0+'),
    ),
)


END_TXN = Api(
    26, 'EndTxn', versions="0-5", flexible='3+',
    request=(
        F('transactional_id', 'string', '0+'),
        F('producer_id', 'int64', '0+'),
        F('producer_epoch', 'int16', '0+'),
        F('committed', 'bool', '0+'),
    ),
    response=(
        F('throttle_time_ms', 'int32', '0+'),
        F('error_code', 'int16', '0+'),
        F('producer_id', 'int64', '5+', default=-1),
        F('producer_epoch', 'int16', '5+', default=-1),
    ),
)


TXN_OFFSET_COMMIT = Api(
    28, 'TxnOffsetCommit', versions="0-6", flexible='3+',
    request=(
        F('transactional_id', 'string', '0+'),
        F('group_id', 'string', '0+'),
        F('producer_id', 'int64', '0+'),
        F('producer_epoch', 'int16', '0+'),
        F('generation_id_or_member_epoch', 'int32', '3+', default=-1),  # the member epoch with KIP-848 groups
        F('member_id', 'string', '3+', default=''),
        F('group_instance_id', 'string', '3+', nullable='3+', default=None),
        F('topics', '[]', '0+',
            F('name', 'string', '0-5'),
            F('topic_id', 'uuid', '6+'),
            F('partitions', '[]', '0+',
                F('partition_index', 'int32', '0+'),
                F('committed_offset', 'int64', '0+'),
                F('committed_leader_epoch', 'int32', '2+', default=-1),
                F('committed_metadata', 'string', '0+', nullable='0+'))),
    ),
    response=(
        F('throttle_time_ms', 'int32', '0+'),
        F('topics', '[]', '0+',
            F('name', 'string', '0-5'),
            F('topic_id', 'uuid', '6+'),
            F('partitions', '[]', '0+',
                F('partition_index', 'int32', '0+'),
                F('error_code', 'int16', '0+'))),
    ),
)


DESCRIBE_PRODUCERS = Api(
    61, 'DescribeProducers', versions="0-0", flexible='0+',
    request=(
        F('topics', '[]', '0+',
            F('name', 'string', '0+'),
            F('partition_indexes', '[]int32', '0+')),
    ),
    response=(
        F('throttle_time_ms', 'int32', '0+'),
        F('topics', '[]', '0+',
            F('name', 'string', '0+'),
            F('partitions', '[]', '0+',
                F('partition_index', 'int32', '0+'),
                F('error_code', 'int16', '0+'),
                F('error_message', 'string', '0+', nullable='0+', default=None),
                F('active_producers', '[]', '0+',
                    F('producer_id', 'int64', '0+'),
                    F('producer_epoch', 'int32', '0+'),
                    F('last_sequence', 'int32', '0+', default=-1),
                    F('last_timestamp', 'int64', '0+', default=-1),
                    F('coordinator_epoch', 'int32', '0+'),
                    F('current_txn_start_offset', 'int64', '0+', default=-1)))),
    ),
)


APIS = (INIT_PRODUCER_ID, ADD_PARTITIONS_TO_TXN, ADD_OFFSETS_TO_TXN, END_TXN, TXN_OFFSET_COMMIT, DESCRIBE_PRODUCERS,)
