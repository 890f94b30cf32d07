"""Fetch (v13+) and Produce (v13) name topics by id (KIP-516) when the broker offers it, by name
when it does not; consumer and producer follow a topic deleted and created again (a new id); the
classic member and the admin client commit and look up offsets by name, as Java's."""
from __future__ import annotations

from typing import Any

from kafkaio.admin import Admin
from kafkaio.consumer.consumer import Consumer
from kafkaio.errors import ErrorCode
from kafkaio.producer.producer import Producer
from kafkaio.protocol import ApiKey, client_versions
from kafkaio.structs import TopicPartition
from kafkaio.testing.fake import FakeCluster
from kafkaio.testing.fake import handlers as fake_handlers
from kafkaio.testing.fake.control import RequestInfo

TP = TopicPartition("t", 0)


def _record(fake: FakeCluster, api_key: ApiKey) -> list[tuple[int, dict[str, Any]]]:
    """(version, body) of every ``api_key`` request the fake receives from now on."""
    seen: list[tuple[int, dict[str, Any]]] = []

    def look(info: RequestInfo, body: dict[str, Any]) -> None:
        seen.append((info.version, body))
    fake.control(api_key, look, persistent=True)
    return seen


def _record_fetches(fake: FakeCluster) -> list[tuple[int, dict[str, Any]]]:
    return _record(fake, ApiKey.FETCH)


async def _read(consumer: Consumer, n: int) -> list[bytes]:
    out: list[bytes] = []
    while len(out) < n:
        for records in (await consumer.getmany(timeout_ms=1000)).values():
            out.extend(r.value for r in records)
    return out


async def _produce(fake: FakeCluster, *values: bytes) -> None:
    async with Producer(bootstrap_servers=fake.bootstrap_servers, linger_ms=0) as p:
        for v in values:
            await p.send_and_wait("t", v, partition=0)


async def test_fetch_names_topics_by_id_at_the_newest_version() -> None:
    async with FakeCluster(topics={"t": 1}) as fake:
        fetches = _record_fetches(fake)
        await _produce(fake, b"a", b"b")
        async with Consumer(bootstrap_servers=fake.bootstrap_servers, auto_offset_reset="earliest") as c:
            c.assign([TP])
            assert await _read(c, 2) == [b"a", b"b"]
        topic_id = fake.state.topics["t"].topic_id
    assert fetches and {v for v, _ in fetches} == {client_versions(ApiKey.FETCH)[1]}
    assert all(t["topic_id"] == topic_id and t["topic"] == "" for _, b in fetches for t in b["topics"])


def _broker_stopping_at_v12(api_key: ApiKey) -> Any:
    """An ApiVersions control: ``api_key`` offered up to v12 only (a broker before KIP-516)."""
    def old_broker(info: RequestInfo, body: dict[str, Any]) -> dict[str, Any]:
        keys = []
        for key in sorted(fake_handlers.HANDLERS):
            lo, hi = client_versions(key)
            keys.append({"api_key": key, "min_version": lo, "max_version": 12 if key == api_key else hi})
        return {"error_code": ErrorCode.NONE, "api_keys": keys, "throttle_time_ms": 0}
    return old_broker


async def test_fetch_names_topics_by_name_when_the_broker_stops_at_v12() -> None:
    async with FakeCluster(topics={"t": 1}) as fake:
        fake.control(ApiKey.API_VERSIONS, _broker_stopping_at_v12(ApiKey.FETCH), persistent=True)
        fetches = _record_fetches(fake)
        await _produce(fake, b"a")
        async with Consumer(bootstrap_servers=fake.bootstrap_servers, auto_offset_reset="earliest") as c:
            c.assign([TP])
            assert await _read(c, 1) == [b"a"]
    assert fetches and {v for v, _ in fetches} == {12}
    assert all(t["topic"] == "t" for _, b in fetches for t in b["topics"])


async def test_a_topic_created_again_is_read_under_its_new_id() -> None:
    async with FakeCluster(topics={"t": 1}) as fake:
        fetches = _record_fetches(fake)
        await _produce(fake, b"old-0", b"old-1", b"old-2")
        old_id = fake.state.topics["t"].topic_id
        async with Consumer(bootstrap_servers=fake.bootstrap_servers, auto_offset_reset="earliest",
                            metadata_max_age_ms=60_000) as c:
            c.assign([TP])
            assert await _read(c, 3) == [b"old-0", b"old-1", b"old-2"]
            del fake.state.topics["t"]            # deleted ...
            fake.create_topic("t", 1)             # ... and created again, under a new id
            new_id = fake.state.topics["t"].topic_id
            await _produce(fake, b"new-0")
            # the old id is unknown now (UNKNOWN_TOPIC_ID: metadata refresh), the new id's log is
            # shorter than the position (OFFSET_OUT_OF_RANGE: reset to earliest)
            assert await _read(c, 1) == [b"new-0"]
    ids = [t["topic_id"] for _, b in fetches for t in b["topics"]]
    assert old_id in ids and ids[-1] == new_id


async def test_produce_names_topics_by_id_at_v13_and_maps_the_answer_back() -> None:
    async with FakeCluster(topics={"t": 2}) as fake:
        produces = _record(fake, ApiKey.PRODUCE)
        async with Producer(bootstrap_servers=fake.bootstrap_servers, linger_ms=0) as p:
            mds = [await p.send_and_wait("t", b"v%d" % i, partition=i % 2) for i in range(4)]
        topic_id = fake.state.topics["t"].topic_id
        assert [r.value for r in fake.records("t", 0)] == [b"v0", b"v2"]
    assert [(m.partition, m.offset) for m in mds] == [(0, 0), (1, 0), (0, 1), (1, 1)]
    assert produces and {v for v, _ in produces} == {13}
    assert all(t["topic_id"] == topic_id and t["name"] == "" for _, b in produces for t in b["topic_data"])


async def test_produce_names_topics_by_name_when_the_broker_stops_at_v12() -> None:
    async with FakeCluster(topics={"t": 1}) as fake:
        fake.control(ApiKey.API_VERSIONS, _broker_stopping_at_v12(ApiKey.PRODUCE), persistent=True)
        produces = _record(fake, ApiKey.PRODUCE)
        async with Producer(bootstrap_servers=fake.bootstrap_servers, linger_ms=0) as p:
            md = await p.send_and_wait("t", b"a")
        assert [r.value for r in fake.records("t", 0)] == [b"a"] and md.offset == 0
    assert {v for v, _ in produces} == {12}
    assert all(t["name"] == "t" for _, b in produces for t in b["topic_data"])


async def test_a_produce_to_a_topic_created_again_is_retried_under_its_new_id() -> None:
    async with FakeCluster(topics={"t": 1}) as fake:
        produces = _record(fake, ApiKey.PRODUCE)
        async with Producer(bootstrap_servers=fake.bootstrap_servers, linger_ms=0, retry_backoff_ms=10,
                            metadata_max_age_ms=60_000) as p:
            await p.send_and_wait("t", b"old", partition=0)
            old_id = fake.state.topics["t"].topic_id
            del fake.state.topics["t"]
            fake.create_topic("t", 1)
            new_id = fake.state.topics["t"].topic_id
            # UNKNOWN_TOPIC_ID for the old id: the metadata is refreshed and the batch sent again
            md = await p.send_and_wait("t", b"new", partition=0)
        assert [r.value for r in fake.records("t", 0)] == [b"new"] and md.offset == 0
    ids = [t["topic_id"] for _, b in produces for t in b["topic_data"]]
    assert ids[0] == old_id and ids[1] == old_id and ids[-1] == new_id


async def test_a_classic_member_commits_by_name() -> None:
    async with FakeCluster(topics={"t": 1}) as fake:
        commits = _record(fake, ApiKey.OFFSET_COMMIT)
        async with Consumer(bootstrap_servers=fake.bootstrap_servers, group_id="g", enable_auto_commit=False) as c:
            c.assign([TP])
            await c.commit({TP: 3})
        assert fake.state.committed["g"][("t", 0)][0] == 3
    assert commits and all(v <= 9 for v, _ in commits)
    assert all(t["name"] == "t" for _, b in commits for t in b["topics"])


async def test_the_admin_client_lists_a_groups_offsets_by_name() -> None:
    async with FakeCluster(topics={"t": 1}) as fake:
        fake.state.committed["g"] = {("t", 0): (4, -1, "")}
        lookups = _record(fake, ApiKey.OFFSET_FETCH)
        async with Admin(bootstrap_servers=fake.bootstrap_servers) as admin:
            stored = await admin.list_consumer_group_offsets("g", [TP])
    assert {tp: o.offset for tp, o in stored.items() if o is not None} == {TP: 4}
    # as Java's admin client (ListConsumerGroupOffsetsHandler): by name, at most v9
    assert lookups and {v for v, _ in lookups} == {9}
    assert all(t["name"] == "t" for _, b in lookups for g in b["groups"] for t in g["topics"])


async def test_a_classic_member_looks_up_by_name_without_member_fields() -> None:
    async with FakeCluster(topics={"t": 1}) as fake:
        fake.state.committed["g"] = {("t", 0): (6, -1, "")}
        lookups = _record(fake, ApiKey.OFFSET_FETCH)
        async with Consumer(bootstrap_servers=fake.bootstrap_servers, group_id="g", enable_auto_commit=False) as c:
            c.assign([TP])
            committed = await c.committed(TP)
    assert committed is not None and committed.offset == 6
    # as Java's ConsumerCoordinator: the grouped format by name (v9 at most), no member id or epoch
    assert lookups and {v for v, _ in lookups} == {9}
    groups = [g for _, b in lookups for g in b["groups"]]
    assert all((g["member_id"], g["member_epoch"]) == (None, -1) for g in groups)
    assert all(t["name"] == "t" for g in groups for t in g["topics"])


async def test_coordinator_load_in_progress_on_a_lookup_is_asked_again_of_the_same_coordinator() -> None:
    async with FakeCluster(topics={"t": 1}) as fake:
        fake.state.committed["g"] = {("t", 0): (2, -1, "")}
        async with Consumer(bootstrap_servers=fake.bootstrap_servers, group_id="g", enable_auto_commit=False,
                            retry_backoff_ms=20) as c:
            c.assign([TP])
            assert (await c.committed(TP)).offset == 2
            finds = _record(fake, ApiKey.FIND_COORDINATOR)
            loading = fake.control(ApiKey.OFFSET_FETCH, lambda info, body: {"throttle_time_ms": 0, "groups": [
                {"group_id": "g", "topics": [], "error_code": ErrorCode.COORDINATOR_LOAD_IN_PROGRESS}]})
            assert (await c.committed(TP)).offset == 2
    # as Java: the coordinator is loading the group, not gone, so it is not looked up again
    assert loading.hits == 1 and finds == []
