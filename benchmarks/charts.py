"""PNG bar charts of the results (matplotlib, no display needed)."""
from __future__ import annotations

from pathlib import Path

from benchmarks.aggregate import Row, full_records

COLORS = {"kafkaio": "#1f77b4", "aiokafka": "#ff7f0e", "confluent": "#2ca02c",
          "kafka-python": "#9467bd", "java": "#7f7f7f", "franz-go": "#17becf"}


def _plt():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _with_records(row: Row, rows: list[Row]) -> str:
    """The row's label, with its record count when it ran fewer records than the others."""
    n = row.outcomes[0].job.records
    return row.label if n >= full_records(rows) else f"{row.label} ({n:,} records)"


def throughput_chart(rows: list[Row], title: str, path: Path) -> None:
    """Horizontal bars: median records/s per client and API, min - max as error bars."""
    plt = _plt()
    ok = [r for r in rows if not r.failed]
    failed = [r for r in rows if r.failed]
    labels = [_with_records(r, rows) for r in ok] + [f"{r.label} (FAILED)" for r in failed]
    medians = [r.median_rate / 1000 for r in ok] + [0.0] * len(failed)
    lo = [(r.median_rate - min(r.rates())) / 1000 for r in ok] + [0.0] * len(failed)
    hi = [(max(r.rates()) - r.median_rate) / 1000 for r in ok] + [0.0] * len(failed)
    colors = [COLORS.get(r.client, "#333333") for r in ok + failed]
    fig, ax = plt.subplots(figsize=(9, 0.45 * len(labels) + 1.5))
    y = range(len(labels))
    ax.barh(list(y), medians, xerr=[lo, hi], color=colors, capsize=3)
    ax.set_yticks(list(y), labels)
    ax.invert_yaxis()
    ax.set_xlabel("thousand records / s (median; bars: min - max)")
    ax.set_title(title)
    for i, m in enumerate(medians):
        ax.text(m + hi[i], i, f"  {m:,.0f}k" if m else " failed", va="center", fontsize=8)
    ax.grid(axis="x", alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def latency_chart(rows: list[Row], title: str, path: Path) -> None:
    """Grouped bars of p50 / p99 / p99.9 per client (log scale)."""
    plt = _plt()
    ok = [r for r in rows if not r.failed]
    if not ok:
        return
    fig, ax = plt.subplots(figsize=(9, 0.6 * len(ok) + 1.5))
    keys = (("p50_us", "p50"), ("p99_us", "p99"), ("p999_us", "p99.9"))
    height = 0.8 / len(keys)
    for k, (key, name) in enumerate(keys):
        vals = [r.percentile(key) or 0.0 for r in ok]
        ax.barh([i + k * height for i in range(len(ok))], vals, height=height, label=name)
    ax.set_yticks([i + height for i in range(len(ok))], [r.label for r in ok])
    ax.invert_yaxis()
    ax.set_xscale("log")
    ax.set_xlabel("microseconds per send_and_wait (median over repetitions)")
    ax.set_title(title)
    ax.legend()
    ax.grid(axis="x", alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def rss_chart(rows: list[Row], title: str, path: Path) -> None:
    """Peak RSS of each client process in the produce and consume runs (no compression)."""
    plt = _plt()
    ok = [r for r in rows if not r.failed and r.scenario in ("produce", "consume") and r.compression == "none"]
    if not ok:
        return
    labels = [f"{r.scenario}: {r.label}" for r in ok]
    fig, ax = plt.subplots(figsize=(9, 0.4 * len(labels) + 1.5))
    ax.barh(range(len(ok)), [r.peak_rss_mib or 0 for r in ok], color=[COLORS.get(r.client, "#333") for r in ok])
    ax.set_yticks(range(len(ok)), labels)
    ax.invert_yaxis()
    ax.set_xlabel("peak RSS of the client process, MiB")
    ax.set_title(title)
    ax.grid(axis="x", alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def draw_all(rows: list[Row], out_dir: Path, subtitle: str, latency_subtitle: str) -> list[Path]:
    """Every chart for these rows; returns the files written."""
    out_dir.mkdir(parents=True, exist_ok=True)
    # charts of an earlier run must not outlive it (a chart with nothing to show is not drawn)
    for pattern in ("produce_*.png", "consume_*.png", "latency.png", "peak_rss.png"):
        for old in out_dir.glob(pattern):
            old.unlink()
    written: list[Path] = []
    for scenario in ("produce", "consume"):
        for compression in sorted({r.compression for r in rows if r.scenario == scenario},
                                  key=lambda c: (c != "none", c)):
            sub = [r for r in rows if r.scenario == scenario and r.compression == compression]
            path = out_dir / f"{scenario}_{compression}.png"
            throughput_chart(sub, f"{scenario}, compression {compression} ({subtitle})", path)
            written.append(path)
    lat = [r for r in rows if r.scenario == "latency"]
    if lat:
        path = out_dir / "latency.png"
        latency_chart(lat, f"send_and_wait latency ({latency_subtitle})", path)
        if path.exists():
            written.append(path)
    path = out_dir / "peak_rss.png"
    rss_chart(rows, f"peak RSS ({subtitle})", path)
    if path.exists():
        written.append(path)
    return written
