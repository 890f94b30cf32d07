"""``python -m benchmarks [--quick] [--scenarios ...] [--clients ...]``: run the suite against a
local broker (or ``KAFKAIO_BOOTSTRAP``), then write BENCHMARKS.md and the charts."""
from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import shlex
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING

from benchmarks import (
    charts,
    codec,
    consume,
    environment,
    headers,
    latency,
    partitions,
    processing,
    produce,
    replicated,
    report,
    share,
    values,
)
from benchmarks import group as group_scenario
from benchmarks.aggregate import group
from benchmarks.clients import CLIENTS
from benchmarks.runner import REPO_ROOT, Outcome
from benchmarks.schedule import Plan

if TYPE_CHECKING:
    from benchmarks.topics import Topics

SCENARIOS = ("produce", "consume", "latency", "values", "partitions", "headers", "group", "codec", "processing", "share",
             "replicated")


def parse_args(argv: list[str]) -> argparse.Namespace:
    ap = argparse.ArgumentParser(
        prog="python -m benchmarks",
        description="Benchmark kafkaio against aiokafka, confluent-kafka, kafka-python and the Java "
                    "client on a local broker (or KAFKAIO_BOOTSTRAP); writes BENCHMARKS.md and charts.")
    ap.add_argument("--quick", action="store_true",
                    help="development mode (about 3 minutes): 100,000 records, 2,000 latency sends, 1 "
                         "repetition, the processing scenario's 1,000-key topic only, no group of Java members")
    ap.add_argument("--scenarios", nargs="+", choices=SCENARIOS, default=list(SCENARIOS))
    ap.add_argument("--clients", nargs="+", choices=CLIENTS, default=list(CLIENTS))
    ap.add_argument("--compressions", nargs="+", choices=("none", "lz4", "gzip", "snappy", "zstd"),
                    default=["none", "lz4"])
    ap.add_argument("--records", type=int, help="records per produce/consume run (default 1,000,000)")
    ap.add_argument("--latency-records", type=int, help="measured sends per latency run (default 10,000)")
    ap.add_argument("--repeat", type=int, help="repetitions of every run (default 3)")
    ap.add_argument("--all-records", action="store_true",
                    help="give every client all the records (by default the slowest per-record APIs get "
                         "fewer, to fit the time budget: kafka-python a tenth, aiokafka send and async-for "
                         "and confluent's consumer a quarter, kafka-python 2,000 of the 10,000 latency sends)")
    ap.add_argument("--all-repeats", action="store_true",
                    help="every row gets every repetition (by default the rows no target reads get two of "
                         "three: the peers' batch APIs, Java's cold runs, kafka-python, the peers in the "
                         "consumer-group and 3-broker tables)")
    ap.add_argument("--full-kafka-python", action="store_true",
                    help="give kafka-python all the records (by default it gets a tenth: it is slow)")
    ap.add_argument("--no-uvloop", action="store_true", help="skip the uvloop variants")
    ap.add_argument("--shared-only", action="store_true",
                    help="skip the peers' runs at their own defaults and documented tunings")
    ap.add_argument("--timeout", type=float, default=300.0, help="seconds before one run is killed")
    ap.add_argument("--output", default=str(REPO_ROOT / "BENCHMARKS.md"), help="markdown file to write")
    ap.add_argument("--results-dir", default=str(REPO_ROOT / "benchmarks" / "results"))
    ap.add_argument("--from-results", metavar="JSON",
                    help="measure nothing: rewrite the report and charts from a results.json")
    return ap.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    args = parse_args(argv)
    results_dir = Path(args.results_dir)
    results_dir.mkdir(parents=True, exist_ok=True)
    if args.from_results:
        saved = json.loads(Path(args.from_results).read_text())
    else:
        saved = measure(args, argv)
        (results_dir / "results.json").write_text(json.dumps(saved, indent=1))
    write_report(saved, Path(args.output), results_dir)
    outcomes = saved["outcomes"]
    failed = sum(1 for o in outcomes if not o["ok"])
    if failed:
        print(f"{failed} run(s) failed; see the Failures section", file=sys.stderr)
    return 0


def measure(args: argparse.Namespace, argv: list[str]) -> dict:
    """Run the chosen scenarios; everything the report needs, as JSON-ready data."""
    quick = args.quick
    records = args.records or (100_000 if quick else 1_000_000)
    latency_records = args.latency_records or (2_000 if quick else 10_000)
    repeat = args.repeat or (1 if quick else 3)
    started = time.monotonic()
    load_start = _load()
    date = dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    outcomes: list[Outcome] = []
    fillers: dict[str, str] = {}
    codec_rows: list[dict] = []
    codec_error = None
    processing_rows: list[dict] = []
    processing_error = None
    share_rows: list[dict] = []
    share_error = None
    clients, skipped = _available(list(args.clients))
    with environment.broker() as broker:
        print(f"broker: {broker.description} at {broker.bootstrap}", file=sys.stderr, flush=True)
        plan = Plan(bootstrap=broker.bootstrap, records=records, latency_records=latency_records,
                    repeat=repeat, clients=clients, compressions=list(args.compressions),
                    uvloop=not args.no_uvloop, profiles=not args.shared_only, timeout_s=args.timeout,
                    started=started)
        if args.all_repeats:
            plan.fewer_repeats = {}
        if args.all_records:
            plan.fewer_records = {}
        elif args.full_kafka_python:
            plan.fewer_records = {k: v for k, v in plan.fewer_records.items() if k[0] != "kafka-python"}
        from benchmarks.topics import Topics

        with Topics(broker.bootstrap) as topics:  # closed before the broker stops
            fills = consume.Fills(plan, topics)
            try:
                outcomes += _on_the_broker(args, plan, topics, fills, fillers)
            finally:
                fills.close()
            if "processing" in args.scenarios:
                processing_rows, processing_error = processing.run(broker.bootstrap, topics, quick,
                                                                   plan.partitions, args.timeout)
        share_here = "share" in args.scenarios and share.on_suite_broker(broker.kafka_version, broker.local)
        if share_here:  # share groups need Kafka 4.2+, on by default there: no broker of its own to start
            share_rows, share_error = _share(quick, args.timeout, broker.bootstrap)
    if "replicated" in args.scenarios:  # on a cluster of three brokers of its own, after the single one stopped
        outcomes += replicated.run(plan, quick)
    if "codec" in args.scenarios:
        codec_rows, codec_error = codec.run(quick)
        print(f"codec: {'FAILED: ' + codec_error if codec_error else 'done'}", file=sys.stderr, flush=True)
    if "share" in args.scenarios and not share_here:  # on a Kafka 4.4 broker of its own
        share_rows, share_error = _share(quick, args.timeout, None)
    return {
        "command": _command(argv), "date": date, "duration_s": time.monotonic() - started,
        "quick": quick, "records": records, "latency_records": latency_records, "repeat": repeat,
        "record_size": plan.record_size, "partitions": plan.partitions,
        "broker": broker.description, "kafka_version": broker.kafka_version,
        "machine": environment.machine(), "load": [load_start, _load()],
        "fillers": fillers, "codec_ran": "codec" in args.scenarios, "codec": codec_rows,
        "codec_error": codec_error, "outcomes": [o.to_dict() for o in outcomes],
        "processing_ran": "processing" in args.scenarios, "processing": processing_rows,
        "processing_error": processing_error, "share_ran": "share" in args.scenarios, "share": share_rows,
        "share_error": share_error, "skipped": skipped,
    }


def _share(quick: bool, timeout: float, bootstrap: str | None) -> tuple[list[dict], str | None]:
    """The share scenario's rows and error, on the broker at ``bootstrap`` or on one of its own."""
    rows, error = share.run(quick, timeout, bootstrap)
    print(f"share: {'FAILED: ' + error if error else 'done'}", file=sys.stderr, flush=True)
    return rows, error


def _on_the_broker(args: argparse.Namespace, plan: Plan, topics: "Topics", fills: consume.Fills,
                   fillers: dict[str, str]) -> list[Outcome]:
    """The scenarios of the single broker that go to the throughput and latency tables, in order;
    ``fillers`` gets which client filled each pre-filled topic."""
    outcomes: list[Outcome] = []
    quick = args.quick
    if "produce" in args.scenarios:
        outcomes += produce.run(plan, topics)
    if "consume" in args.scenarios:
        keep = (group_scenario.topic_read(plan),) if "group" in args.scenarios else ()
        consumed, filled_by = consume.run(plan, fills, keep)
        fillers.update(filled_by)
        outcomes += consumed
    if "latency" in args.scenarios:
        outcomes += latency.run(plan, topics)
    if "values" in args.scenarios:
        outcomes += values.run(plan, topics, quick)
    if "partitions" in args.scenarios:
        outcomes += partitions.run(plan, topics, quick)
    if "headers" in args.scenarios:
        outcomes += headers.run(plan, topics, quick)
    if "group" in args.scenarios:
        grouped, fillers["group"] = group_scenario.run(plan, fills, topics, quick)
        outcomes += grouped
    return outcomes


def _available(clients: list[str]) -> tuple[list[str], dict[str, str]]:
    """The clients that can run here, and why each other one cannot (franz-go needs Go)."""
    skipped: dict[str, str] = {}
    if "franz-go" in clients:
        from benchmarks.clients import franzgo_bench

        print("franz-go: building benchmarks/franzgo...", file=sys.stderr, flush=True)
        reason = franzgo_bench.unavailable_reason()
        if reason is not None:
            print(f"franz-go: skipped: {reason}", file=sys.stderr, flush=True)
            skipped["franz-go"] = reason
    return [c for c in clients if c not in skipped], skipped


def write_report(saved: dict, output: Path, results_dir: Path) -> None:
    rows = group([Outcome.from_dict(o) for o in saved["outcomes"]])
    subtitle = f"{saved['records']:,} x {saved['record_size']} B" + (", quick" if saved["quick"] else "")
    base = [r for r in rows if r.record_size == saved["record_size"] and r.partitions == saved["partitions"]
            and not r.headers and not r.keys and r.replicas == 1]
    chart_files = charts.draw_all(base, results_dir, subtitle,
                                  f"{saved['latency_records']:,} sends, linger 0")
    rep = report.Report(
        command=saved["command"], date=saved["date"], duration_s=saved["duration_s"],
        machine=saved["machine"], broker=saved["broker"], kafka_version=saved["kafka_version"],
        records=saved["records"], latency_records=saved["latency_records"], repeat=saved["repeat"],
        record_size=saved["record_size"], partitions=saved["partitions"], rows=rows,
        codec_rows=saved["codec"], codec_error=saved["codec_error"], codec_ran=saved["codec_ran"],
        processing_rows=saved.get("processing", []), processing_error=saved.get("processing_error"),
        processing_ran=saved.get("processing_ran", False),
        share_rows=saved.get("share", []), share_error=saved.get("share_error"), share_ran=saved.get("share_ran", False),
        fillers=saved["fillers"], skipped=saved.get("skipped", {}), charts=[os.path.relpath(p, output.parent) for p in chart_files],
        load=tuple(saved["load"]))
    output.write_text(report.render(rep))
    print(f"wrote {output} and {len(chart_files)} chart(s) in {results_dir} "
          f"(measuring took {saved['duration_s'] / 60:.1f} min)", file=sys.stderr)


def _load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def _command(argv: list[str]) -> str:
    """The command as a reader would type it, with the broker address if one was given; the flags
    that only choose where the files go are left out."""
    kept: list[str] = []
    skip = False
    for arg in argv:
        if skip:
            skip = False
            continue
        name = arg.split("=", 1)[0]
        if name in ("--output", "--results-dir"):
            skip = "=" not in arg
            continue
        kept.append(arg)
    prefix = "KAFKAIO_BOOTSTRAP=<address> " if os.environ.get("KAFKAIO_BOOTSTRAP") else ""
    return prefix + "python -m benchmarks" + ("" if not kept else " " + shlex.join(kept))


if __name__ == "__main__":
    sys.exit(main())
