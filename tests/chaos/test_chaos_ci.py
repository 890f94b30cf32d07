"""The fault-schedule verifier's CI mode: a few fixed seeds of each workload against a broker of
its own behind a fault proxy, a couple of minutes in all. A failure prints the seed, the schedule
and the history excerpt of each violation; ``make chaos SEED=N`` replays it."""
from __future__ import annotations

import pytest

from kafkaio.testing.chaos.runner import (BROKER_PROPERTIES, CI_SEEDS, CI_SEEDS_THREE_BROKERS, Proxied, format_report,
                                          proxied, run_schedule)
from kafkaio.testing.chaos.schedule import generate

pytestmark = [pytest.mark.integration, pytest.mark.proxied_broker(broker_properties=BROKER_PROPERTIES)]


@pytest.mark.parametrize(("workload", "seed", "duration"), CI_SEEDS, ids=[f"{w}-{s}" for w, s, _ in CI_SEEDS])
async def test_ci_schedule_keeps_every_rule(proxied_broker, workload: str, seed: int, duration: float, tmp_path) -> None:
    cluster, proxy = proxied_broker
    system = Proxied(cluster, proxy)
    # Kafka's own console consumer reads one run back too (a JVM start: once is enough here).
    java = (workload, seed, duration) == CI_SEEDS[0]
    result = await run_schedule(generate(seed, workload, duration), system, java=java, out_dir=tmp_path)
    sent = sum(1 for e in result.history if e["op"] in ("send", "txn_send"))
    assert sent > 0 and sum(result.injected.values()) > 0  # the run did work under faults
    # the client processes' histories were merged in: the members consumed, the processors committed
    if workload == "group":
        assert any(e["op"] == "poll" for e in result.history)
    if workload == "ctp":
        assert any(e["op"] == "txn" and e["outcome"] == "ok" for e in result.history)
    assert result.java_checked == java
    assert not result.violations, format_report(result)


@pytest.mark.slow
@pytest.mark.parametrize(("workload", "seed", "duration"), CI_SEEDS_THREE_BROKERS,
                         ids=[f"{w}-{s}-3brokers" for w, s, _ in CI_SEEDS_THREE_BROKERS])
async def test_three_broker_schedule_keeps_every_rule(workload: str, seed: int, duration: float, tmp_path) -> None:
    async with proxied(3) as system:
        result = await run_schedule(generate(seed, workload, duration, brokers=3), system, out_dir=tmp_path)
    assert sum(result.injected.values()) > 0 and result.verified > 0
    assert not result.violations, format_report(result)
