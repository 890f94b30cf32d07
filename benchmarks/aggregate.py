"""Groups the runs of one (scenario, compression, client, API, loop) and summarises them:
median and spread of the throughput (or of each latency percentile), peak RSS, failures."""
from __future__ import annotations

import statistics
from dataclasses import dataclass, field

from benchmarks.runner import Outcome
from benchmarks.settings import SHARED

PER_RECORD_API = {"produce": "send", "consume": "async-for", "latency": "send_and_wait"}
BATCH_API = {"produce": "send_many", "consume": "getmany"}


@dataclass
class Row:
    scenario: str
    compression: str  # "" for latency
    client: str
    api: str
    loop: str
    outcomes: list[Outcome] = field(default_factory=list)
    profile: str = SHARED  # the client's configuration (benchmarks.settings)
    record_size: int = 100  # bytes per value
    partitions: int = 6  # of the topic
    headers: int = 0  # on every record
    keys: int = 0  # distinct record keys (0: keyless)
    replicas: int = 1  # the topic's replication factor

    @property
    def label(self) -> str:
        return (f"{self.client} {self.api}" + (" +uvloop" if self.loop == "uvloop" else "")
                + ("" if self.profile == SHARED else f" ({self.profile})"))

    @property
    def ok_runs(self) -> list[Outcome]:
        return [o for o in self.outcomes if o.ok]

    @property
    def failed(self) -> bool:
        return not self.ok_runs

    @property
    def error(self) -> str | None:
        errors = [o.error for o in self.outcomes if not o.ok]
        return errors[0] if errors else None

    def rates(self) -> list[float]:
        return [o.rate for o in self.ok_runs if o.rate is not None]

    @property
    def median_rate(self) -> float | None:
        r = self.rates()
        return statistics.median(r) if r else None

    def percentile(self, key: str) -> float | None:
        """Median over the runs of one latency percentile (``p50_us``, ``p99_us``...)."""
        vals = [o.result[key] for o in self.ok_runs if key in o.result]
        return statistics.median(vals) if vals else None

    @property
    def peak_rss_mib(self) -> float | None:
        """The largest peak RSS over the runs that worked (MiB)."""
        vals = [o.maxrss_kb for o in self.ok_runs]
        return max(vals) / 1024.0 if vals else None


def group(outcomes: list[Outcome]) -> list[Row]:
    """Rows in the order their first run appeared (clients, then APIs, then loops)."""
    rows: dict[tuple, Row] = {}
    for o in outcomes:
        j = o.job
        compression = "" if j.scenario == "latency" else j.produce.compression_type
        key = (j.scenario, compression, j.client, j.api, j.loop, j.profile, j.record_size, j.partitions,
               j.headers, j.keys, j.replicas)
        if key not in rows:
            rows[key] = Row(j.scenario, compression, j.client, j.api, j.loop, profile=j.profile,
                            record_size=j.record_size, partitions=j.partitions, headers=j.headers, keys=j.keys,
                            replicas=j.replicas)
        rows[key].outcomes.append(o)
    from benchmarks.clients import CLIENTS

    def order(row: Row) -> tuple:
        return (row.loop != "asyncio", row.profile != SHARED,
                CLIENTS.index(row.client) if row.client in CLIENTS else 99)

    return sorted(rows.values(), key=order)


def find(rows: list[Row], client: str, api: str | None = None, loop: str = "asyncio",
         profile: str = SHARED) -> Row | None:
    """The row of ``client`` (its first API when ``api`` is None) on ``loop`` with ``profile``."""
    for row in rows:
        if (row.client == client and row.loop == loop and row.profile == profile
                and (api is None or row.api == api)):
            return row
    return None


def best(rows: list[Row], client: str, api: str, loop: str = "asyncio") -> Row | None:
    """The fastest of ``client``'s ``api`` rows on ``loop`` over its configurations (shared,
    its defaults, its tuning); the shared one when none has a rate."""
    mine = [r for r in rows if r.client == client and r.api == api and r.loop == loop]
    rated = [r for r in mine if r.median_rate is not None]
    if rated:
        return max(rated, key=lambda r: r.median_rate or 0.0)
    return find(rows, client, api, loop)


def full_records(rows: list[Row]) -> int:
    """The most records any run of ``rows`` handled, warm runs left out (they read or send more
    by design, and the others did not run fewer for that)."""
    from benchmarks.clients.java_perf import CONSUMER_WARM, WARM

    counts = [r.outcomes[0].job.records for r in rows if r.api not in (WARM, CONSUMER_WARM)]
    return max(counts, default=0)


def java_anchor(rows: list[Row]) -> Row | None:
    """The Java row the others are compared with: its steady-state (warm) run where it worked,
    else its cold run."""
    from benchmarks.clients.java_perf import CONSUMER_WARM, WARM

    java = [r for r in rows if r.client == "java"]
    warm = next((r for r in java if r.api in (WARM, CONSUMER_WARM) and not r.failed), None)
    return warm or next((r for r in java if r.api not in (WARM, CONSUMER_WARM)), None)


def ratio(a: Row | None, b: Row | None) -> float | None:
    """a's median throughput over b's; None when either has none."""
    if a is None or b is None or a.median_rate is None or b.median_rate is None:
        return None
    return a.median_rate / b.median_rate
