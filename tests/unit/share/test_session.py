"""Share sessions: full then incremental partition lists, epochs, acknowledgements, loss."""
from __future__ import annotations

import uuid

from kafkaio.errors import ErrorCode
from kafkaio.share.acks import PendingAcks, encode_batches
from kafkaio.share.session import FINAL_EPOCH, ShareSession, next_epoch

T = uuid.UUID(int=1)
OPTS = dict(max_wait_ms=500, min_bytes=1, max_bytes=1000, max_records=10, acquire_mode=0)


def _parts(body: dict) -> set[tuple[uuid.UUID, int]]:
    return {(t["topic_id"], p["partition_index"]) for t in body["topics"] for p in t["partitions"]}


def _forgotten(body: dict) -> set[tuple[uuid.UUID, int]]:
    return {(t["topic_id"], p) for t in body["forgotten_topics_data"] for p in t["partitions"]}


def test_first_fetch_lists_everything_then_only_changes() -> None:
    s = ShareSession()
    body = s.fetch_body("g", "m", {(T, 0), (T, 1)}, {}, **OPTS)
    assert body["share_session_epoch"] == 0 and _parts(body) == {(T, 0), (T, 1)}
    s.answered(0)
    assert s.open and s.epoch == 1 and s.partitions == {(T, 0), (T, 1)}
    body = s.fetch_body("g", "m", {(T, 1), (T, 2)}, {}, **OPTS)
    assert body["share_session_epoch"] == 1
    assert _parts(body) == {(T, 2)} and _forgotten(body) == {(T, 0)}
    s.answered(0)
    assert s.epoch == 2 and s.partitions == {(T, 1), (T, 2)}
    body = s.fetch_body("g", "m", {(T, 1), (T, 2)}, {}, **OPTS)
    assert _parts(body) == set() and _forgotten(body) == set()


def test_acknowledgements_list_their_partition_and_keep_it_in_the_session() -> None:
    s = ShareSession()
    s.fetch_body("g", "m", {(T, 0)}, {}, **OPTS)
    s.answered(0)
    acks = {(T, 0): encode_batches({5: 1, 6: 1, 7: 2})}
    body = s.fetch_body("g", "m", set(), acks, **OPTS)
    assert body["topics"][0]["partitions"][0]["acknowledgement_batches"] == [
        {"first_offset": 5, "last_offset": 7, "acknowledge_types": [1, 1, 2]}]
    assert _forgotten(body) == set()  # forgotten only once nothing is left to acknowledge there


def test_session_loss_starts_again_from_epoch_0_with_every_partition() -> None:
    s = ShareSession()
    s.fetch_body("g", "m", {(T, 0)}, {}, **OPTS)
    s.answered(0)
    s.fetch_body("g", "m", {(T, 0)}, {}, **OPTS)
    s.answered(ErrorCode.INVALID_SHARE_SESSION_EPOCH)
    assert not s.open
    body = s.fetch_body("g", "m", {(T, 0)}, {}, **OPTS)
    assert body["share_session_epoch"] == 0 and _parts(body) == {(T, 0)}


def test_final_acknowledge_closes_the_session() -> None:
    s = ShareSession()
    s.fetch_body("g", "m", {(T, 0)}, {}, **OPTS)
    s.answered(0)
    body = s.acknowledge_body("g", "m", {}, final=True)
    assert body["share_session_epoch"] == FINAL_EPOCH
    s.answered(0)
    assert not s.open


def test_epochs_wrap_to_1() -> None:
    assert next_epoch(0) == 1 and next_epoch(2**31 - 1) == 1 and next_epoch(-1) == -1


def test_acknowledgement_batches_are_runs_with_one_type_when_uniform() -> None:
    assert encode_batches({3: 1, 1: 1, 2: 1, 9: 3}) == [
        {"first_offset": 1, "last_offset": 3, "acknowledge_types": [1]},
        {"first_offset": 9, "last_offset": 9, "acknowledge_types": [3]}]


def test_pending_acks_are_taken_once() -> None:
    p = PendingAcks()
    p.add((T, 0), 4, 1)
    p.add((T, 0), 4, 2)  # the last word on an offset wins
    assert len(p) == 1 and p.take() == {(T, 0): {4: 2}} and not p
