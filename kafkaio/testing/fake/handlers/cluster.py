"""Cluster discovery: ApiVersions, Metadata, CreateTopics, FindCoordinator."""
from __future__ import annotations

from typing import Any

from kafkaio.errors import ErrorCode
from kafkaio.protocol.api import client_versions
from kafkaio.testing.fake import handlers as _h
from kafkaio.testing.fake.state import ClusterState, Topic


async def api_versions(broker: "_h.BrokerView", version: int, body: dict[str, Any]) -> dict[str, Any]:
    """Advertise exactly the APIs the fake answers, at the versions kafkaio speaks: a client never
    picks an API the fake would not answer."""
    keys = []
    for key in sorted(_h.HANDLERS):
        lo, hi = client_versions(key)
        keys.append({"api_key": key, "min_version": lo, "max_version": hi})
    features = sorted(broker.state.features.items())
    return {"error_code": ErrorCode.NONE, "api_keys": keys, "throttle_time_ms": 0,
            "supported_features": [{"name": n, "min_version": 0, "max_version": v} for n, v in features],
            "finalized_features_epoch": 1 if features else -1,
            "finalized_features": [{"name": n, "min_version_level": v, "max_version_level": v}
                                   for n, v in features]}


def _topic_metadata(state: ClusterState, topic: Topic) -> dict[str, Any]:
    parts = []
    for index, log in enumerate(topic.partitions):
        parts.append({"error_code": ErrorCode.NONE, "partition_index": index, "leader_id": log.leader,
                      "leader_epoch": 0, "replica_nodes": [log.leader], "isr_nodes": [log.leader],
                      "offline_replicas": []})
    return {"error_code": ErrorCode.NONE, "name": topic.name, "topic_id": topic.topic_id,
            "is_internal": False, "partitions": parts}


async def metadata(broker: "_h.BrokerView", version: int, body: dict[str, Any]) -> dict[str, Any]:
    """Brokers, and the topics asked for (all when the list is null); an unknown topic is created
    when auto-creation is on and the request allows it, as the broker does."""
    state = broker.state
    requested = body.get("topics")
    topics = []
    if requested is None:
        topics = [_topic_metadata(state, t) for t in state.topics.values()]
    else:
        for req in requested:
            name = req.get("name")
            topic = state.topics.get(name) if name is not None else None
            if topic is None and name and state.auto_create_topics and body.get("allow_auto_topic_creation", True):
                topic = state.create_topic(name, state.default_partitions)
            if topic is None:
                topics.append({"error_code": ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, "name": name, "partitions": []})
            else:
                topics.append(_topic_metadata(state, topic))
    brokers = []
    for node_id in state.node_ids:
        host, port = broker.address(node_id)
        brokers.append({"node_id": node_id, "host": host, "port": port, "rack": None})
    return {"throttle_time_ms": 0, "brokers": brokers, "cluster_id": state.cluster_id,
            "controller_id": state.node_ids[0], "topics": topics}


async def create_topics(broker: "_h.BrokerView", version: int, body: dict[str, Any]) -> dict[str, Any]:
    """Create topics; ``max.message.bytes`` is the one topic config the fake applies."""
    out = []
    for req in body["topics"]:
        name, n = req["name"], req["num_partitions"]
        if n == -1:
            n = broker.state.default_partitions
        configs = {c["name"]: c["value"] for c in req.get("configs") or ()}
        if name in broker.state.topics:
            out.append({"name": name, "error_code": ErrorCode.TOPIC_ALREADY_EXISTS,
                        "error_message": f"Topic '{name}' already exists."})
            continue
        if n < 1:
            out.append({"name": name, "error_code": ErrorCode.INVALID_PARTITIONS,
                        "error_message": "Number of partitions must be larger than 0."})
            continue
        topic = None
        if not body.get("validate_only"):
            kwargs = {}
            if configs.get("max.message.bytes") is not None:
                kwargs["max_message_bytes"] = int(configs["max.message.bytes"])
            topic = broker.state.create_topic(name, n, **kwargs)
        out.append({"name": name, "topic_id": topic.topic_id if topic else None, "error_code": ErrorCode.NONE,
                    "error_message": None, "num_partitions": n, "replication_factor": 1, "configs": None})
    return {"throttle_time_ms": 0, "topics": out}


async def find_coordinator(broker: "_h.BrokerView", version: int, body: dict[str, Any]) -> dict[str, Any]:
    """The coordinator of a group or transactional id (one per key from v4)."""
    def one(key: str) -> dict[str, Any]:
        node = broker.state.coordinator_for(key)
        host, port = broker.address(node)
        return {"key": key, "node_id": node, "host": host, "port": port, "error_code": ErrorCode.NONE,
                "error_message": None}

    if version >= 4:
        return {"throttle_time_ms": 0, "coordinators": [one(k) for k in body["coordinator_keys"]]}
    c = one(body["key"])
    del c["key"]
    return {"throttle_time_ms": 0, **c}
