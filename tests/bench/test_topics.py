"""The harness's topic housekeeping: the fresh topics of a list of runs in one CreateTopics request,
ready only when the broker's metadata gives every partition a leader and the leader answers for
every partition; one DeleteTopics request."""
from __future__ import annotations

from concurrent.futures import Future
from types import SimpleNamespace

import pytest

pytest.importorskip("confluent_kafka")

from benchmarks.topics import Topics  # noqa: E402


def _done() -> Future:
    future: Future = Future()
    future.set_result(None)
    return future


def _failed() -> Future:
    future: Future = Future()
    future.set_exception(RuntimeError("NOT_LEADER_OR_FOLLOWER"))
    return future


class _Admin:
    """An AdminClient whose metadata shows a new topic without leaders at its first look, and
    whose broker has not made the log of partition ``late`` of each topic at the first ListOffsets."""

    def __init__(self, late: int = -1) -> None:
        self.created: list[list[tuple[str, int, int]]] = []
        self.deleted: list[list[str]] = []
        self.looks: dict[str, int] = {}
        self.late = late
        self.offsets_asked: list[list[tuple[str, int]]] = []

    def create_topics(self, new_topics: list) -> dict[str, Future]:
        self.created.append([(t.topic, t.num_partitions, t.replication_factor) for t in new_topics])
        return {t.topic: _done() for t in new_topics}

    def delete_topics(self, names: list[str]) -> dict[str, Future]:
        self.deleted.append(list(names))
        return {name: _done() for name in names}

    def list_topics(self, topic: str | None = None, timeout: float = -1) -> SimpleNamespace:
        assert topic is not None  # the answer for all topics lacked new ones for over a second
        self.looks[topic] = self.looks.get(topic, 0) + 1
        leader = 0 if self.looks[topic] > 1 else -1
        partitions = {p: SimpleNamespace(leader=leader, isrs=[0]) for p in range(6)}
        return SimpleNamespace(topics={topic: SimpleNamespace(error=None, partitions=partitions)})

    def list_offsets(self, wanted: dict, request_timeout: float = -1) -> dict:
        asked = sorted((tp.topic, tp.partition) for tp in wanted)
        self.offsets_asked.append(asked)
        first = len(self.offsets_asked) == 1
        return {tp: _failed() if first and tp.partition == self.late else _done() for tp in wanted}


@pytest.fixture
def admin(monkeypatch: pytest.MonkeyPatch) -> _Admin:
    fake = _Admin()
    monkeypatch.setattr("confluent_kafka.admin.AdminClient", lambda config: fake)
    return fake


def test_many_topics_are_made_in_one_request_and_returned_once_every_leader_is_known(admin: _Admin) -> None:
    names = Topics("b").create_many("bench-t", 6, 3)
    assert len(set(names)) == 3 and all(n.startswith("bench-t-") for n in names)
    assert admin.created == [[(n, 6, 1) for n in names]]
    assert all(admin.looks[n] == 2 for n in names)  # the first look saw no leaders


def test_a_topic_is_ready_only_once_its_leader_answers_for_every_partition(
        monkeypatch: pytest.MonkeyPatch) -> None:
    # a broker reports a new topic's leaders before it has made their logs (a 1,000-partition topic
    # took it 5-12 s), and a client writing meanwhile is refused and backs off: 27-42 s runs
    fake = _Admin(late=3)
    monkeypatch.setattr("confluent_kafka.admin.AdminClient", lambda config: fake)
    names = Topics("b").create_many("bench-t", 6, 2)
    assert fake.offsets_asked[0] == sorted((n, p) for n in names for p in range(6))
    assert fake.offsets_asked[1:] == [sorted((n, 3) for n in names)]  # again: only the late ones


def test_many_topics_are_deleted_in_one_request(admin: _Admin) -> None:
    Topics("b").delete_many(["a", "b"])
    assert admin.deleted == [["a", "b"]]
