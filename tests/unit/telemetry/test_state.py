"""The telemetry state machine: Java's ClientTelemetryState transitions and the reporter's timing,
with ``now`` passed in."""
from __future__ import annotations

import random
import uuid

import pytest

from kafkaio.errors import ErrorCode
from kafkaio.records.enums import Compression
from kafkaio.telemetry.state import (
    DEFAULT_PUSH_INTERVAL_MS, TRANSITIONS, Action, Subscription, TelemetryCore, TelemetryState as S,
)

ID = uuid.UUID("6a2d3b8e-0000-4000-8000-000000000001")


def sub(metrics: tuple[str, ...] = ("org.apache.kafka.producer.",), interval: int = 1000,
        codecs: tuple[int, ...] = (4, 3, 1, 2), subscription_id: int = 7) -> Subscription:
    return Subscription(ID, subscription_id, interval, codecs, 1 << 20, True, metrics)


def subscribed(now: float = 0.0, **kwargs: object) -> TelemetryCore:
    core = TelemetryCore(random.Random(1))
    assert core.due(now) is Action.SUBSCRIBE
    assert core.start_subscribe() == uuid.UUID(int=0)
    core.on_subscription(0, sub(**kwargs), now)  # type: ignore[arg-type]
    return core


def test_the_transition_table_is_javas() -> None:
    assert TRANSITIONS[S.SUBSCRIPTION_NEEDED] == {S.SUBSCRIPTION_IN_PROGRESS, S.TERMINATED}
    assert TRANSITIONS[S.TERMINATING_PUSH_NEEDED] == {S.TERMINATING_PUSH_IN_PROGRESS, S.TERMINATED}
    assert TRANSITIONS[S.TERMINATING_PUSH_IN_PROGRESS] == {S.TERMINATED}
    assert TRANSITIONS[S.TERMINATED] == frozenset()
    assert set(TRANSITIONS) == set(S)


def test_the_first_subscription_request_goes_at_once_with_a_zero_instance_id() -> None:
    core = TelemetryCore()
    assert core.wait_ms(5.0) == 0
    assert core.due(5.0) is Action.SUBSCRIBE
    assert core.start_subscribe() == uuid.UUID(int=0)
    assert core.state is S.SUBSCRIPTION_IN_PROGRESS
    assert core.wait_ms(5.0) is None and core.due(5.0) is None


def test_the_first_push_is_jittered_between_half_and_one_and_a_half_intervals() -> None:
    waits = set()
    for seed in range(200):
        core = TelemetryCore(random.Random(seed))
        core.start_subscribe()
        core.on_subscription(0, sub(interval=1000), 100.0)
        assert core.state is S.PUSH_NEEDED
        wait = core.wait_ms(100.0)
        assert wait is not None and 500 <= wait <= 1500
        waits.add(wait)
    assert len(waits) > 50   # spread, not one fixed delay


def test_after_a_push_the_next_comes_one_interval_later() -> None:
    core = subscribed()
    first = core.wait_ms(0.0)
    assert first is not None
    assert core.due(first) is Action.PUSH
    subscription, terminating = core.start_push()
    assert subscription.subscription_id == 7 and not terminating
    core.on_push(0, 2000.0)
    assert core.state is S.PUSH_NEEDED
    assert core.wait_ms(2000.0) == 1000 and core.due(2999.0) is None and core.due(3000.0) is Action.PUSH


def test_no_requested_metrics_means_no_push_and_a_new_request_after_the_interval() -> None:
    core = subscribed(metrics=(), interval=60000)
    assert core.state is S.SUBSCRIPTION_NEEDED
    assert core.wait_ms(0.0) == 60000
    assert core.due(60000.0) is Action.SUBSCRIBE
    assert core.start_subscribe() == ID   # the assigned id is kept
    assert core.initiate_close() is False   # nothing was asked for: no terminating push


def test_unknown_subscription_id_asks_for_the_subscription_again_at_once() -> None:
    core = subscribed()
    core.start_push()
    core.on_push(ErrorCode.UNKNOWN_SUBSCRIPTION_ID, 500.0)
    assert core.state is S.SUBSCRIPTION_NEEDED and core.due(500.0) is Action.SUBSCRIBE
    assert core.start_subscribe() == ID
    core.on_subscription(0, sub(subscription_id=8, metrics=("org.apache.kafka.consumer.",)), 500.0)
    assert core.subscription is not None and core.subscription.subscription_id == 8
    assert core.subscription.selects("org.apache.kafka.consumer.fetch.manager.records.consumed.total")
    assert not core.subscription.selects("org.apache.kafka.producer.record.send.total")


@pytest.mark.parametrize("error, wait", [(ErrorCode.TELEMETRY_TOO_LARGE, 1000),
                                         (ErrorCode.THROTTLING_QUOTA_EXCEEDED, 1000),
                                         (ErrorCode.UNSUPPORTED_COMPRESSION_TYPE, 0)])
def test_retriable_push_errors_wait_as_java_does(error: ErrorCode, wait: int) -> None:
    core = subscribed()
    core.start_push()
    core.on_push(error, 10.0)
    assert core.enabled and core.state is S.SUBSCRIPTION_NEEDED and core.wait_ms(10.0) == wait


@pytest.mark.parametrize("error", [ErrorCode.INVALID_REQUEST, ErrorCode.INVALID_RECORD,
                                   ErrorCode.UNSUPPORTED_VERSION, ErrorCode.UNKNOWN_SERVER_ERROR, 9999])
def test_other_errors_turn_telemetry_off(error: int) -> None:
    core = subscribed()
    core.start_push()
    core.on_push(error, 10.0)
    assert not core.enabled and core.wait_ms(10.0) is None and core.due(1e12) is None


def test_a_request_without_answer_retries_after_the_default_interval() -> None:
    core = TelemetryCore()
    core.start_subscribe()
    core.on_failure(10.0)
    assert core.state is S.SUBSCRIPTION_NEEDED and core.wait_ms(10.0) == DEFAULT_PUSH_INTERVAL_MS


def test_close_sends_one_terminating_push_then_nothing() -> None:
    core = subscribed()
    assert core.initiate_close() is True
    assert core.state is S.TERMINATING_PUSH_NEEDED and core.due(0.0) is Action.TERMINATING_PUSH
    assert core.initiate_close() is False   # once
    subscription, terminating = core.start_push()
    assert terminating
    core.on_push(0, 1.0)
    assert core.state is S.TERMINATED and core.wait_ms(1.0) is None


def test_close_while_a_push_is_in_flight_still_terminates() -> None:
    core = subscribed()
    core.start_push()
    assert core.initiate_close() is True
    core.on_push(0, 1.0)   # the answer to the interrupted push changes nothing
    assert core.state is S.TERMINATING_PUSH_NEEDED


def test_close_before_any_subscription_sends_nothing() -> None:
    core = TelemetryCore()
    assert core.initiate_close() is False
    core.close()
    assert core.state is S.TERMINATED and core.due(0.0) is None


def test_the_codec_is_the_first_accepted_one() -> None:
    assert sub(codecs=(4, 3)).compression == Compression.ZSTD
    assert sub(codecs=(2,)).compression == Compression.SNAPPY
    assert sub(codecs=(9, 1)).compression == Compression.GZIP   # an unknown id is skipped
    assert sub(codecs=()).compression == Compression.NONE


def test_star_and_the_empty_prefix_select_everything() -> None:
    assert sub(metrics=("*",)).selects("org.apache.kafka.producer.byte.total")
    assert sub(metrics=("",)).selects("org.apache.kafka.consumer.fetch.total")
    assert not sub(metrics=()).selects("org.apache.kafka.consumer.fetch.total")
