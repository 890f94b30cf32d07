"""The 3-broker cluster of the replicated scenario is thrown away after its runs: stopped at once,
without the controlled shutdown that only costs time there."""
from __future__ import annotations

import pytest

from benchmarks import replicated
from benchmarks.schedule import Plan


class _Cluster:
    stops: list[float] = []

    def __init__(self, brokers: int) -> None:
        self.bootstrap_servers = "x:1"

    def start(self) -> None:
        pass

    def stop(self, grace: float = 15.0) -> None:
        _Cluster.stops.append(grace)


class _Topics:
    def __init__(self, bootstrap: str) -> None:
        pass

    def __enter__(self) -> "_Topics":
        return self

    def __exit__(self, *exc: object) -> None:
        pass


def test_the_cluster_is_stopped_without_a_grace_period(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("kafkaio.testing.broker.LocalKafkaCluster", _Cluster)
    monkeypatch.setattr(replicated, "Topics", _Topics)
    monkeypatch.setattr(replicated, "_measure", lambda plan, topics, quick: [])
    _Cluster.stops = []
    assert replicated.run(Plan(bootstrap="b"), quick=True) == []
    assert _Cluster.stops == [0.0]
