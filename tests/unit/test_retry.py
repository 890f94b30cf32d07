"""Backoff policy and deadlines (kafkaio.retry): pure functions, no broker."""
from __future__ import annotations

import asyncio
import random

import pytest

from kafkaio.errors import KafkaConnectionError, KafkaTimeoutError
from kafkaio.retry import Backoff, Deadline, ExponentialBackoff, retry_async


def test_backoff_grows_geometrically_without_jitter() -> None:
    policy = ExponentialBackoff(100, 1000, jitter=0)
    assert [policy.backoff_ms(n) for n in range(6)] == [100, 200, 400, 800, 1000, 1000]
    assert policy.backoff_ms(10_000) == 1000  # no overflow for huge attempt counts


def test_backoff_jitter_stays_within_twenty_percent_and_cap() -> None:
    policy = ExponentialBackoff(100, 1000, rng=random.Random(7))
    seen = {round(policy.backoff_ms(1)) for _ in range(200)}
    assert min(seen) >= 160 and max(seen) <= 240
    assert len(seen) > 10  # it really is jittered
    assert all(policy.backoff_ms(20) <= 1000 for _ in range(100))


def test_backoff_max_below_initial_means_constant() -> None:
    policy = ExponentialBackoff(500, 100, jitter=0)
    assert [policy.backoff_ms(n) for n in range(3)] == [500, 500, 500]


def test_backoff_rejects_bad_parameters() -> None:
    with pytest.raises(ValueError):
        ExponentialBackoff(-1, 10)
    with pytest.raises(ValueError):
        ExponentialBackoff(1, 10, jitter=1.5)


def test_backoff_counter_resets_on_success() -> None:
    state = Backoff(ExponentialBackoff(50, 1000, jitter=0))
    assert state.remaining() == 0
    assert state.fail() == pytest.approx(0.05)
    assert state.fail() == pytest.approx(0.1)
    assert state.remaining() > 0
    state.reset()
    assert state.remaining() == 0
    assert state.fail() == pytest.approx(0.05)


async def test_deadline_run_raises_timeout_naming_what() -> None:
    deadline = Deadline(20)
    with pytest.raises(KafkaTimeoutError, match="the thing"):
        await deadline.run(asyncio.sleep(5), "the thing")
    assert deadline.expired
    assert Deadline(None).remaining() is None
    assert await Deadline(None).run(asyncio.sleep(0, result=3), "x") == 3


async def test_retry_async_retries_retriable_until_success() -> None:
    calls = []

    async def op() -> str:
        calls.append(1)
        if len(calls) < 3:
            raise KafkaConnectionError("down")
        return "ok"

    result = await retry_async(op, backoff=ExponentialBackoff(1, 5), deadline=Deadline(5000),
                               is_retriable=lambda e: getattr(e, "retriable", False), what="op")
    assert result == "ok" and len(calls) == 3


async def test_retry_async_stops_on_non_retriable_and_on_deadline() -> None:
    async def fatal() -> None:
        raise ValueError("no")

    with pytest.raises(ValueError):
        await retry_async(fatal, backoff=ExponentialBackoff(1, 5), deadline=Deadline(5000),
                          is_retriable=lambda e: False, what="op")

    async def flaky() -> None:
        raise KafkaConnectionError("down")

    with pytest.raises(KafkaTimeoutError, match="metadata") as info:
        await retry_async(flaky, backoff=ExponentialBackoff(5, 10), deadline=Deadline(60),
                          is_retriable=lambda e: True, what="metadata")
    assert isinstance(info.value.__cause__, KafkaConnectionError)
