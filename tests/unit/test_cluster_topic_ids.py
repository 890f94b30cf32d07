"""Metadata of a topic deleted and created again: the new topic's partitions are taken even though
their leader epochs start again from zero (a lower epoch under the same id is a stale answer)."""
from __future__ import annotations

import uuid
from typing import Any

from kafkaio.cluster import Cluster
from kafkaio.config import CommonConfig
from kafkaio.protocol import ApiKey, decode_response, encode_response


def _answer(topic_id: uuid.UUID, leader: int, epoch: int) -> dict[str, Any]:
    """A Metadata v12 answer as the connection hands it over (every field, through the codec)."""
    return decode_response(ApiKey.METADATA, 12, bytes(encode_response(ApiKey.METADATA, 12, 0, _body(topic_id, leader, epoch)))[4:])


def _body(topic_id: uuid.UUID, leader: int, epoch: int) -> dict[str, Any]:
    return {"brokers": [{"node_id": n, "host": "h", "port": 9092 + n, "rack": None} for n in (1, 2)],
            "controller_id": 1, "cluster_id": "c",
            "topics": [{"error_code": 0, "name": "t", "topic_id": topic_id, "is_internal": False,
                        "partitions": [{"error_code": 0, "partition_index": 0, "leader_id": leader,
                                        "leader_epoch": epoch, "replica_nodes": [1, 2], "isr_nodes": [1, 2],
                                        "offline_replicas": []}]}]}


def test_lower_epoch_is_stale_under_the_same_id_and_new_under_a_new_id() -> None:
    cluster = Cluster(CommonConfig.from_kwargs(bootstrap_servers="h:9093"))
    old_id, new_id = uuid.uuid4(), uuid.uuid4()
    cluster._apply_metadata(_answer(old_id, leader=1, epoch=7), None)
    cluster._apply_metadata(_answer(old_id, leader=2, epoch=3), None)     # a lagging broker
    assert cluster.metadata.leader_for("t", 0) == 1
    cluster._apply_metadata(_answer(new_id, leader=2, epoch=0), None)     # created again
    t = cluster.metadata.topics["t"]
    assert t.topic_id == new_id and t.partitions[0].leader == 2 and t.partitions[0].leader_epoch == 0
