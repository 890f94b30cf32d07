"""Writes BENCHMARKS.md from the runs: machine, command, settings, one table per scenario with
ratios to kafkaio and to the Java client, the issue targets, and every failure with its error."""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from collections.abc import Callable
from typing import Any

from benchmarks import codec, group, headers, partitions, processing, replicated, share, values
from benchmarks.aggregate import BATCH_API, PER_RECORD_API, Row, best, find, full_records, java_anchor, ratio
from benchmarks.clients import ASYNCIO_CLIENTS, PROFILES, java_perf
from benchmarks.settings import ConsumeConfig, Job, ProduceConfig

MB = 1_000_000


@dataclass
class Report:
    command: str
    date: str
    duration_s: float
    machine: dict[str, str]
    broker: str
    kafka_version: str
    records: int
    latency_records: int
    repeat: int
    record_size: int
    partitions: int
    rows: list[Row] = field(default_factory=list)
    codec_rows: list[dict[str, Any]] = field(default_factory=list)
    codec_error: str | None = None
    codec_ran: bool = False
    processing_rows: list[dict[str, Any]] = field(default_factory=list)
    processing_error: str | None = None
    processing_ran: bool = False
    share_rows: list[dict[str, Any]] = field(default_factory=list)
    share_error: str | None = None
    share_ran: bool = False
    fillers: dict[str, str] = field(default_factory=dict)
    skipped: dict[str, str] = field(default_factory=dict)  # client -> why it was not measured
    charts: list[str] = field(default_factory=list)
    load: tuple[str, str] = ("", "")


def _num(x: float | None, fmt: str = "{:,.0f}") -> str:
    return "n/a" if x is None else fmt.format(x)


def _x(r: float | None) -> str:
    return "n/a" if r is None else f"{r:.2f}x"


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _loop(row: Row) -> str:
    return row.loop if row.client in ASYNCIO_CLIENTS else "-"


def _failed_row(row: Row) -> str:
    """A table row for a client whose every run failed: the error, in the last column."""
    extra = "| "  # the records (or sends) column
    if row.scenario != "latency":
        extra = f"{row.profile} | " + extra  # the config column
    return (f"| {row.client} | {row.api} | {_loop(row)} | {extra}**failed** | | | | | | "
            f"0/{len(row.outcomes)}: {_cell(row.error or '')} |")


def _reduced(rows: list[Row]) -> list[str]:
    """``scenario: client API n of N`` for each client API that ran fewer records (or latency sends)
    than the most any client ran in that scenario."""
    out = []
    for scenario in ("produce", "consume", "latency"):
        sub = [r for r in rows if r.scenario == scenario]
        if not sub:
            continue
        full = full_records(sub)
        fewer = {(r.client, r.api): r.outcomes[0].job.records for r in sub if r.outcomes[0].job.records < full}
        if fewer:
            what = "sends" if scenario == "latency" else "records"
            out.append(f"{scenario} ({full:,} {what}): "
                       + ", ".join(f"{client} {api} {n:,}" for (client, api), n in fewer.items()))
    return out


def _p999_rank(sends: int) -> str:
    """On how many samples a run's p99.9 of ``sends`` rests, as the latency section says it."""
    rank = max(1, sends // 1000)
    suffix = "th" if 10 <= rank % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(rank % 10, "th")
    what = "the slowest" if rank == 1 else f"the {rank}{suffix} slowest"
    return (f"p99.9 is {what} of the {sends:,} sends: it rests on {rank} sample{'s' if rank > 1 else ''}, "
            "so it moves more between runs than p50 and p99 (min - max in each row).")


def _fewer_runs(rows: list[Row], repeat: int) -> list[str]:
    """``scenario: client API n`` for each row measured fewer than ``repeat`` times (the schedule's
    FEWER_REPEATS), one line per scenario."""
    by_scenario: dict[str, list[str]] = {}
    for r in rows:
        if 0 < len(r.outcomes) < repeat:
            where = (f" {r.compression}" if r.compression else "") + (f", {r.replicas} brokers" if r.replicas > 1 else "")
            by_scenario.setdefault(f"{r.scenario}{where}", []).append(f"{r.label} {len(r.outcomes)}")
    return [f"{scenario}: " + ", ".join(labels) for scenario, labels in by_scenario.items()]


def _throughput_table(rows: list[Row], scenario: str, record_size: int) -> list[str]:
    ref = find(rows, "kafkaio", PER_RECORD_API[scenario])
    java = java_anchor(rows)
    out = [f"| client | API | loop | config | records | records/s (median) | min - max | MB/s "
           f"| vs kafkaio {ref.api if ref else ''} | vs Java{_java_column(java)} "
           f"| peak RSS MiB | runs ok |",
           "|---|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for row in rows:
        n_ok, n = len(row.ok_runs), len(row.outcomes)
        if row.failed:
            out.append(_failed_row(row))
            continue
        rates = row.rates()
        med = row.median_rate
        note = "" if n_ok == n else f" ({_cell(row.error or '')})"
        out.append(
            f"| {row.client} | {row.api} | {_loop(row)} | {row.profile} | {_num(row.outcomes[0].job.records)} | {_num(med)} | {_num(min(rates))} - {_num(max(rates))} "
            f"| {_num(med * record_size / MB, '{:.1f}')} | {_x(ratio(row, ref))} | {_x(ratio(row, java))} "
            f"| {_num(row.peak_rss_mib)} | {n_ok}/{n}{note} |")
    return out


def _latency_table(rows: list[Row]) -> list[str]:
    ref = find(rows, "kafkaio", "send_and_wait")
    ref_p50 = ref.percentile("p50_us") if ref else None
    out = ["| client | call | loop | sends | p50 us | p99 us | p99.9 us | max us | p50 vs kafkaio | peak RSS MiB "
           "| runs ok |",
           "|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for row in rows:
        n_ok, n = len(row.ok_runs), len(row.outcomes)
        if row.failed:
            out.append(_failed_row(row))
            continue
        p50 = row.percentile("p50_us")
        rel = _x(p50 / ref_p50) if (p50 and ref_p50) else "n/a"
        out.append(f"| {row.client} | {row.api} | {_loop(row)} | {_num(row.outcomes[0].job.records)} | {_num(p50)} | {_num(row.percentile('p99_us'))} "
                   f"| {_num(row.percentile('p999_us'))} | {_num(row.percentile('max_us'))} | {rel} "
                   f"| {_num(row.peak_rss_mib)} | {n_ok}/{n} |")
    return out


def _plain(row: Row, base: list[Row]) -> Row | None:
    """``row``'s twin in ``base`` (a produce table, compression none): same client, API, loop, config."""
    return next((r for r in base if r.scenario == "produce" and r.compression == "none"
                 and r.client == row.client and r.api == row.api and r.loop == row.loop
                 and r.profile == row.profile), None)


def _many_table(many: list[Row], base: list[Row], record_size: int) -> list[str]:
    """The many-partitions throughput table, with a column of RSS per 1,000 partitions."""
    out = _throughput_table(many, "produce", record_size)
    out[0] += f" RSS per {partitions.PARTITIONS:,} partitions MiB |"
    out[1] += "---:|"
    for k, row in enumerate(many, start=2):
        small = _plain(row, base)
        extra = (None if small is None or small.peak_rss_mib is None or row.peak_rss_mib is None
                 else row.peak_rss_mib - small.peak_rss_mib)
        out[k] += f" {_num(extra, '{:+,.0f}')} |"
    return out


def _headers_table(rows: list[Row], base: list[Row], record_size: int) -> list[str]:
    """The headers throughput table, with the rate relative to the same API without headers."""
    out = _throughput_table(rows, "produce", record_size)
    out[0] += " vs without headers |"
    out[1] += "---:|"
    for k, row in enumerate(rows, start=2):
        out[k] += f" {_x(ratio(row, _plain(row, base)))} |"
    return out


def _group_rows(rows: list[Row], rate: str, extra_columns: list[str], extra: Callable[[Row], list[str]],
                rss: str = "peak RSS MiB") -> list[str]:
    """The table of a group scenario: client, API, records, first record, the rate (column
    ``rate``) and its spread, the ratio to kafkaio's getmany, ``extra``'s cells, peak RSS, runs ok."""
    ref = find(rows, "kafkaio", "getmany")
    names = ["client", "API", "records", "first record ms (median)", rate, "min - max", "vs kafkaio getmany",
             *extra_columns, rss, "runs ok"]
    out = ["| " + " | ".join(names) + " |", "|---|---|" + "---:|" * (len(names) - 2)]
    for row in rows:
        n_ok, n = len(row.ok_runs), len(row.outcomes)
        if row.failed:
            cells = [row.client, row.api] + [""] * (len(names) - 3) + [f"0/{n}: {_cell(row.error or '')}"]
        else:
            rates = row.rates()
            cells = [row.client, row.api, _num(row.outcomes[0].job.records), _num(group.first_record_ms(row)),
                     _num(row.median_rate), f"{_num(min(rates))} - {_num(max(rates))}", _x(ratio(row, ref)),
                     *extra(row), _num(row.peak_rss_mib), f"{n_ok}/{n}"]
        out.append("| " + " | ".join(cells) + " |")
    return out


def _group_table(rows: list[Row]) -> list[str]:
    return _group_rows(rows, "records/s, join included (median)", [], lambda row: [])


def _members_table(rows: list[Row]) -> list[str]:
    def extra(row: Row) -> list[str]:
        split = " / ".join(_num(c) for c in row.ok_runs[-1].result.get("member_records", []))
        return [_num(group.read_per_run(row)), split]

    return _group_rows(rows, "records/s from launch (median)",
                       ["read by the members (median)", "records per member (last run)"], extra,
                       rss="peak RSS MiB (a member)")


def _java_column(java: Row | None) -> str:
    """What the throughput table's "vs Java" column divides by: the warm row, or the cold one and
    the number of runs its median rests on."""
    if java is None:
        return ""
    return " warm" if java.api.endswith("warm") else f" cold (median of {len(java.ok_runs)} runs)"


def _cold_note(rows: list[Row], java: Row) -> str:
    """For a target divided by Java's cold row (``java_anchor``'s fallback when the warm run
    failed): that it is cold, and on how many runs its median rests, which the rows no target
    reads have fewer of (FEWER_REPEATS)."""
    if java.api.endswith("warm"):
        return ""
    warm_failed = any(r.client == "java" and r.api.endswith("warm") and r.failed for r in rows)
    why = "the warm run failed; " if warm_failed else ""
    return f" (cold: {why}median of {len(java.ok_runs)} runs)"


def _target(label: str, value: float | None, goal: float, *, at_most: bool = False) -> str:
    sign = "<=" if at_most else ">="
    if value is None:
        return f"| {label} | n/a | {sign} {goal:.2f}x | not measured (a run failed) |"
    met = value <= goal if at_most else value >= goal
    return f"| {label} | {value:.2f}x | {sign} {goal:.2f}x | {'met' if met else '**not met**'} |"


def _latency_targets(rows: list[Row]) -> list[str]:
    """Issue 26: kafkaio's send_and_wait p50 and p99 at most confluent-kafka's, on each loop."""
    latency = [r for r in rows if r.scenario == "latency"]
    peer = next((r for r in latency if r.client == "confluent" and not r.failed), None)
    out = []
    for loop in ("asyncio", "uvloop"):
        mine = find(latency, "kafkaio", "send_and_wait", loop)
        if mine is None or peer is None:
            continue
        for pct in ("p50", "p99"):
            a, b = mine.percentile(f"{pct}_us"), peer.percentile(f"{pct}_us")
            out.append(_target(f"latency {pct} ({loop}): kafkaio send_and_wait / confluent {peer.api}",
                               a / b if a and b else None, 1.0, at_most=True))
        floor = find(latency, "floor", "bare Protocol round trip", loop)
        if floor is not None and not floor.failed:
            for pct in ("p50", "p99"):
                a, b = floor.percentile(f"{pct}_us"), peer.percentile(f"{pct}_us")
                if a and b:
                    out.append(f"| latency {pct} ({loop}): the loop's floor (bare Protocol round trip) / confluent "
                               f"{peer.api} | {a / b:.2f}x | reported | the least a client on this loop reaches |")
    return out


def _codec_targets(codec_rows: list[dict[str, Any]]) -> list[str]:
    """Issue 26: decoding on the newer CPythons within 10% of 3.11."""
    out = []
    minors = sorted({".".join(str(r["python"]).split(".")[:2]) for r in codec_rows
                     if "error" not in r and "python" in r} - {"3.11"}, key=lambda m: tuple(map(int, m.split("."))))
    for minor in minors:
        out.append(_target(f"decode (none, CRC check): CPython {minor} / 3.11 ns per record",
                           codec.decode_ratio(codec_rows, minor), 1.10, at_most=True))
    return out


def _targets(rows: list[Row], many: list[Row] | None = None, codec_rows: list[dict[str, Any]] | None = None) -> list[str]:
    """The issues' goals; ``many`` are the many-partitions rows, ``codec_rows`` the codec's."""
    out = ["| target (issues 5, 6 and 26) | measured | goal | |", "|---|---:|---:|---|"]
    out += _latency_targets(rows)
    out += _codec_targets(codec_rows or [])
    if many:
        peer = best(many, "confluent", "produce")
        if peer is not None:
            out.append(_target(f"{partitions.PARTITIONS:,} partitions keyed: kafkaio send / confluent produce",
                               ratio(find(many, "kafkaio", "send"), peer), 1.0))
    for scenario, peers in (("produce", (("aiokafka", "send"), ("confluent", "produce"))),
                            ("consume", (("aiokafka", "async-for"), ("confluent", "poll")))):
        for compression in sorted({r.compression for r in rows if r.scenario == scenario},
                                  key=lambda c: (c != "none", c)):
            sub = [r for r in rows if r.scenario == scenario and r.compression == compression]
            if not sub:
                continue
            per = find(sub, "kafkaio", PER_RECORD_API[scenario])
            batch = find(sub, "kafkaio", BATCH_API[scenario])
            tag = f"{scenario} {compression}"
            (aio_client, aio_api), (cf_client, cf_api) = peers
            # each peer at the best of its configurations (shared, its defaults, its tuning)
            for (client, api), goal in (((aio_client, aio_api), 3.0), ((cf_client, cf_api), 1.0)):
                peer = best(sub, client, api)
                if peer is not None:
                    out.append(_target(f"{tag}: kafkaio {per.api if per else ''} / {client} {api} "
                                       f"({peer.profile})", ratio(per, peer), goal))
            java = java_anchor(sub)
            franz = find(sub, "franz-go")
            if franz is not None:  # issue 26: the fastest open client
                mine, goal = (per, 0.5) if scenario == "produce" else (batch, 1.0)
                out.append(_target(f"{tag}: kafkaio {mine.api if mine else ''} / franz-go {franz.api}",
                                   ratio(mine, franz), goal))
            if java is not None and scenario == "produce":
                out.append(_target(f"{tag}: kafkaio {BATCH_API[scenario]} / Java {java.api}{_cold_note(sub, java)}",
                                   ratio(batch, java), 0.8))
                if java.api.endswith("warm"):  # issue 26: send at least Java's steady state
                    out.append(_target(f"{tag}: kafkaio {per.api if per else ''} / Java {java.api}",
                                       ratio(per, java), 1.0))
    return out


_CLIENT_OF = {"confluent-kafka": "confluent"}  # the name in _configs -> the client's name in the suite


def _configs() -> list[str]:
    """How each client was configured, printed from the runners' own configuration functions."""
    from benchmarks.clients import java_perf

    sample = Job(client="", scenario="produce", api="", bootstrap="BOOTSTRAP", topic="TOPIC", records=0,
                 produce=ProduceConfig(compression_type="lz4"), consume=ConsumeConfig())
    lines = ["Shared settings (`benchmarks/settings.py`):", "",
             f"- producer: `{ProduceConfig()}` (compression `none` or `lz4` per table; latency runs use "
             "`linger_ms=0`)",
             f"- consumer: `{ConsumeConfig()}` (`max_records` per batch call)", "",
             "As each client receives them (lz4 shown):", "", "```"]
    for name, module, pfn, cfn in (
        ("kafkaio", "kafkaio_client", "producer_kwargs", "consumer_kwargs"),
        ("aiokafka", "aiokafka_client", "producer_kwargs", "consumer_kwargs"),
        ("confluent-kafka", "confluent_client", "producer_config", "consumer_config"),
        ("kafka-python", "kafka_python_client", "producer_kwargs", "consumer_kwargs"),
    ):
        try:
            import importlib

            mod = importlib.import_module(f"benchmarks.clients.{module}")
            lines.append(f"{name} producer: {getattr(mod, pfn)(sample)}")
            lines.append(f"{name} consumer: {getattr(mod, cfn)(sample)}")
            for profile in PROFILES.get(_CLIENT_OF.get(name, name), ()):
                own = replace(sample, profile=profile)
                lines.append(f"{name} producer ({profile}): {getattr(mod, pfn)(own)}")
                lines.append(f"{name} consumer ({profile}): {getattr(mod, cfn)(own)}")
        except Exception as exc:  # the client is not installed or not importable
            lines.append(f"{name}: unavailable ({type(exc).__name__}: {exc})")
    lines.append(f"java ProducerPerformance --command-property {java_perf.producer_properties(sample)}")
    lines.append(f"java ConsumerPerformance --consumer.config {java_perf.consumer_properties(sample)}")
    lines.append("```")
    return lines


def render(rep: Report) -> str:
    # the replicated, large-values and many-partitions scenarios' rows have their own sections;
    # every other table is of the rest
    on_replicas = [r for r in rep.rows if r.replicas > 1]
    rep = replace(rep, rows=[r for r in rep.rows if r.replicas == 1])
    large = [r for r in rep.rows if r.record_size != rep.record_size]
    many = [r for r in rep.rows if r.record_size == rep.record_size and r.partitions != rep.partitions]
    # the many-partitions scenario's keyed runs on the small topic: the baseline of its RSS column
    keyed_small = [r for r in rep.rows if r.keys and r not in large and r not in many]
    with_headers = [r for r in rep.rows if r.headers and r not in large and r not in many]
    rep = replace(rep, rows=[r for r in rep.rows if r.record_size == rep.record_size
                             and r.partitions == rep.partitions and not r.headers and not r.keys])
    L: list[str] = []
    a = L.append
    a("# Benchmarks")
    a("")
    a("Generated by the benchmark suite; do not edit by hand. Regenerate with the command below "
      "(`make bench` runs it after building, fetching the broker and installing the peers).")
    a("")
    a("```")
    a(rep.command)
    a("```")
    a("")
    a(f"- date: {rep.date} (took {rep.duration_s / 60:.1f} min)")
    a(f"- broker: Apache Kafka {rep.kafka_version}, {rep.broker}")
    a(f"- workload: {rep.records:,} records of {rep.record_size} bytes (random letters, no key) "
      f"to/from a {rep.partitions}-partition topic; latency over {rep.latency_records:,} sends; "
      f"{rep.repeat} repetition(s), median and min - max reported")
    reduced = _reduced(rep.rows)
    if reduced:
        a("- fewer records for the slowest per-record APIs, so that the suite fits its time budget "
          "(same configuration and the same wait for every delivery; at the default 1,000,000 "
          "records their CPU time per record in the shorter run is the same as in a full one; their "
          "peak RSS is that of the shorter run; `--all-records` gives every client all of them):")
        for line in reduced:
            a(f"  - {line}")
    fewer_runs = _fewer_runs(rep.rows, rep.repeat)
    if fewer_runs:
        a("- fewer repetitions for the rows no target reads, so that the suite fits its time budget "
          "(the peers' batch APIs, Java's cold runs, kafka-python, the peers in the consumer-group "
          "and 3-broker tables; `--all-repeats` gives every row all of them):")
        for line in fewer_runs:
            a(f"  - {line}")
    for k, v in rep.machine.items():
        a(f"- {k}: {v}")
    a(f"- load average (1, 5, 15 min) at start: {rep.load[0]}; at end: {rep.load[1]}")
    for client, why in rep.skipped.items():
        a(f"- not measured: {client}: {why}")
    a("")
    a("The broker runs on the same machine as the clients, so every number includes the broker's "
      "share of the CPUs. Compare ratios between clients measured in the same run, not absolute "
      "numbers across machines. A load average well above the number of CPUs means other work "
      "shared the machine during the run: its numbers are lower and noisier than on an idle one. "
      "Java's cold rows (ProducerPerformance, ConsumerPerformance) include the JIT's warm-up in a "
      "fresh JVM, which weighs most in short runs (`--quick`). The warm rows are Java's steady "
      "state, and the figure the ratios use: `ProducerPerformance warm` sends "
      f"{java_perf.WARMUP_FACTOR}x its records first (`--warmup-records`, KIP-1052) and reports the "
      "records after them; ConsumerPerformance has no warm-up option, so `ConsumerPerformance warm` "
      f"reads a topic {1 + java_perf.WARMUP_FACTOR}x as long (its records column) with a progress "
      f"report every {java_perf.report_ms(rep.records)} ms, and its rate runs from the first report past the "
      f"first {java_perf.WARMUP_FACTOR}/{1 + java_perf.WARMUP_FACTOR} of them to the last report. "
      "Where a warm row failed, the ratios use the cold row, which gets fewer repetitions than "
      "kafkaio's rows (it is in no target otherwise): the column header and the targets then say "
      "\"cold\" and on how many runs its median rests. "
      f"The Java tools are Kafka {java_perf.TOOLS_KAFKA_VERSION}'s.")
    a("")
    if any(r.scenario in ("produce", "consume", "latency") for r in rep.rows) or many or rep.codec_rows:
        a("## Targets")
        a("")
        L.extend(_targets(rep.rows, many, rep.codec_rows))
        a("")
        a("What the profiles say about the targets not met or close: "
          "[docs/benchmarks.md](docs/benchmarks.md#targets-not-met-or-close-what-the-profiles-say).")
        a("")
    for scenario, title in (("produce", "Produce"), ("consume", "Consume")):
        rows = [r for r in rep.rows if r.scenario == scenario]
        if not rows:
            continue
        a(f"## {title}")
        a("")
        if scenario == "produce":
            a("acks=all, idempotent, fresh topic per run; the clock runs from the first send until every "
              "record's delivery is acknowledged (flush). One warm-up record is delivered first, outside "
              "the clock, by every Python client.")
        else:
            filled = ", ".join(f"{c}: {w}" for c, w in rep.fillers.items() if c != "group")
            a("Each Python client is assigned all partitions (no group) and reads from the beginning; the "
              "clock runs from the first poll until the last record is handed to the application, which "
              "reads each record's value. franz-go consumes every partition directly (no group) and "
              "touches each value too. Java's ConsumerPerformance joins a group; its rate excludes the "
              f"join (`fetch.nMsg.sec`). Topics filled by {filled}.")
        a("")
        for compression in sorted({r.compression for r in rows}, key=lambda c: (c != "none", c)):
            a(f"### compression: {compression}")
            a("")
            L.extend(_throughput_table([r for r in rows if r.compression == compression], scenario,
                                       rep.record_size))
            a("")
    rows = [r for r in rep.rows if r.scenario == "latency"]
    if rows:
        a("## Latency")
        a("")
        a(f"One record at a time, each awaited before the next (`send_and_wait` or the client's "
          f"equivalent), linger 0, acks=all, idempotent; {rep.latency_records:,} measured sends after "
          f"200 warm-up sends. {_p999_rank(rep.latency_records)} The Java perf tools have no one-at-a-time mode, so Java is not in this table. "
          "`floor` is not a client: one pre-encoded idempotent Produce per round trip written on a bare "
          "`asyncio.Protocol` and one future awaited (`benchmarks/clients/floor_client.py`), the least any "
          "client on that loop can reach on this machine and broker.")
        a("")
        L.extend(_latency_table(rows))
        a("")
    if many:
        a(f"## {partitions.PARTITIONS:,} partitions, keyed")
        a("")
        a(f"`benchmarks/partitions.py`: {partitions.PARAMETERS}. RSS per {partitions.PARTITIONS:,} "
          f"partitions: the run's peak RSS less that of the same client and API sending the same "
          f"keyed records to a {rep.partitions}-partition topic in the same repetition.")
        a("")
        L.extend(_many_table(many, keyed_small, rep.record_size))
        a("")
    if with_headers:
        a("## Headers")
        a("")
        a(f"`benchmarks/headers.py`: {headers.PARAMETERS}. The last column compares with the same "
          "client and API in the produce table (compression none), without headers.")
        a("")
        L.extend(_headers_table(with_headers, rep.rows, rep.record_size))
        a("")
    if large:
        a("## Large values")
        a("")
        a(f"`benchmarks/values.py`: {values.PARAMETERS}. Java is its cold ProducerPerformance here. "
          "The producers cycle through fewer distinct values than with small ones (at most 16 MiB "
          "of them), which the peak RSS includes.")
        a("")
        for size in sorted({r.record_size for r in large}):
            a(f"### values of {size:,} bytes")
            a("")
            L.extend(_throughput_table([r for r in large if r.record_size == size], "produce", size))
            a("")
    if on_replicas:
        a(f"## {replicated.BROKERS} brokers, replication factor {replicated.REPLICAS}")
        a("")
        a(f"`benchmarks/replicated.py`: {replicated.PARAMETERS}. The leaders are spread over the "
          "brokers; every broker runs on this machine, so replication's copies and fetches share its "
          "CPUs with the clients.")
        a("")
        rows = [r for r in on_replicas if r.scenario == "produce"]
        if rows:
            L.extend(_throughput_table(rows, "produce", rep.record_size))
            a("")
        rows = [r for r in on_replicas if r.scenario == "latency"]
        if rows:
            L.extend(_latency_table(rows))
            a("")
    rows = [r for r in rep.rows if r.scenario == "group"]
    if rows:
        a("## Consumer group")
        a("")
        a(f"`benchmarks/group.py`: {group.PARAMETERS}. Topic filled by {rep.fillers.get('group', '?')}.")
        a("")
        L.extend(_group_table(rows))
        a("")
    rows = [r for r in rep.rows if r.scenario == "group-members"]
    if rows:
        a(f"## Consumer group of {group.MEMBERS} members")
        a("")
        a(f"`benchmarks/group.py`: {group.MEMBERS_PARAMETERS}.")
        a("")
        L.extend(_members_table(rows))
        a("")
    if rep.codec_ran:
        a("## Record codec")
        a("")
        a(f"`benchmarks/records.py`: kafkaio's batch builder and reader against aiokafka's, in one "
          f"process ({codec.PARAMETERS}).")
        a("")
        if rep.codec_error:
            a(f"**failed**: {rep.codec_error}")
        else:
            a("| CPython | codec | operation | kafkaio ns/record | aiokafka ns/record | aiokafka / kafkaio |")
            a("|---|---|---|---:|---:|---:|")
            for r in rep.codec_rows:
                if "error" in r:
                    a(f"| {r['python']} | - | **not measured** | {_cell(r['error'])} | | |")
                    continue
                theirs = r.get("aiokafka")
                a(f"| {r.get('python', rep.machine.get('python', '').removeprefix('CPython '))} | {r['codec']} | {r['op']} "
                  f"| {_num(r['kafkaio'])} | {_num(theirs)} | {_x(theirs / r['kafkaio'] if theirs else None)} |")
        a("")
    if rep.processing_ran:
        a("## Processing")
        a("")
        a(f"`benchmarks/processing.py`: kafkaio's `Processor` against aiokafka's serial loop on "
          f"{rep.partitions} partitions ({processing.PARAMETERS}).")
        a("")
        if rep.processing_error:
            a(f"**failed**: {_cell(rep.processing_error)}")
            a("")
        if rep.processing_rows:
            L.extend(processing.table(rep.processing_rows))
        a("")
    if rep.share_ran:
        a("## Share groups")
        a("")
        a(f"`benchmarks/share.py`: kafkaio's `ShareConsumer` against Kafka's `ShareConsumerPerformance` "
          f"({share.PARAMETERS}), on {share.broker_of(rep.share_rows)}.")
        a("")
        if rep.share_error:
            a(f"**failed**: {_cell(rep.share_error)}")
            a("")
        if rep.share_rows:
            L.extend(share.table(rep.share_rows))
        a("")
    if rep.charts:
        a("## Charts")
        a("")
        for path in rep.charts:
            a(f"![{path}]({path})")
        a("")
    a("## Configuration")
    a("")
    L.extend(_configs())
    a("")
    a("Besides the shared settings, confluent-kafka and aiokafka are measured in the uncompressed "
      "tables at their own defaults (config `defaults`: the runner sets only the bootstrap address, "
      "acks=all, idempotence and compression, and for consumers reading from the beginning without "
      "committing), and confluent-kafka also at the throughput tuning of Confluent's \"Optimize "
      "Confluent Cloud Clients for Throughput\" (config `tuned`; aiokafka's documentation gives none). "
      "The targets compare with each peer's fastest configuration, and say which. The batch calls' "
      "own arguments (`max_records` of `getmany()`, `num_messages` of `consume()`) are the same in "
      "every configuration.")
    a("")
    a("Differences that settings cannot remove: aiokafka has no `max.in.flight` or `buffer.memory` "
      "setting (it keeps one request in flight per partition and does not bound its buffer); "
      "kafka-python has no byte-bounded buffer setting in its current release; librdkafka "
      "bounds its queue by messages too, set here high enough not to bind first; Java's "
      "ConsumerPerformance sets a 2 MiB socket receive buffer. confluent-kafka's `produce()` serves "
      "delivery callbacks every 1,000 records (`poll(0)`); its documentation asks for regular "
      "`poll()` calls and this interval keeps their cost small.")
    a("")
    failures = [o for r in rep.rows for o in r.outcomes if not o.ok]
    if failures:
        a("## Failures")
        a("")
        a("Every failed run, with the error that stopped it (failed runs never count in the medians):")
        a("")
        for o in failures:
            j = o.job
            comp = f" {j.produce.compression_type}" if j.scenario != "latency" else ""
            a(f"- {j.scenario}{comp} {j.label}: {o.error}")
        a("")
    a("## Method")
    a("")
    a("- Every run is its own process (one client, one scenario, one configuration); peak RSS is "
      "that process's high-water mark (`VmHWM`, read by the Python runner as it ends; for the JVM, "
      "`ru_maxrss` from `wait4`), so it includes the interpreter (or the JVM) and the client library.")
    a("- Within each repetition all clients run back to back; the order rotates and reverses between "
      "repetitions so that drift (page cache, a warming broker, other load) hits all clients alike.")
    a("- A client that fails is reported as failed with its error; nothing is dropped or estimated.")
    a("- franz-go runs as `benchmarks/franzgo` (Go, built by the suite with `go build`): `Produce()` "
      "per record with a promise, then `Flush()`; `PollRecords()` with the shared `max_records`. Its "
      "settings are the shared ones under franz-go's option names (`producerOpts` and `consumerOpts` "
      "in `benchmarks/franzgo/main.go`); with idempotence franz-go keeps 5 produce requests in flight "
      "per broker, and its record bound on the buffer is raised so that the byte bound binds first.")
    a("- Runners: `benchmarks/clients/*.py` and `benchmarks/franzgo`; scenarios: `benchmarks/produce.py`, "
      "`consume.py`, `latency.py`, `values.py`, `partitions.py`, `headers.py`, `group.py`, `replicated.py`; raw results "
      "of the last run: `benchmarks/results/results.json`.")
    a("")
    return "\n".join(L)
