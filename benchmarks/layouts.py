"""Record codec timings across code layouts: one compiled ``_records`` linked at several code offsets.

On some CPUs, this project's benchmark machine (AMD Zen 1) among them, where the extension's hot
functions land relative to the interpreter's own code moves the codec loops by 10-20%: the same
object code, shifted by a multiple of 128 bytes, encoded at anything from 99 to 123 ns per record.
A change judged by one build each side can be judged by layout luck. This tool compiles the
extension's C source once, with setup.py's flags, links it several times behind 0, 128, 256, ...
bytes of unused code (which shifts all of it, keeping its inside unchanged), and runs the
benchmark's uncompressed loops (``benchmarks/records.py``: encode at batch_size 16384, decode with
and without the CRC check) for every variant, in interleaved rounds. Compare sources by the median
over layouts, not by one layout.

    .venv/bin/python -m benchmarks.layouts [--shifts 8] [--rounds 3] [--source A.c --source B.c]

The default source is the in-tree ``kafkaio/_speedups/_records.c`` (made by ``make build``); for an
A/B, copy each side's generated ``_records.c`` aside and pass both. Needs the C compiler that
built the extension (Linux/macOS, the compiler Python was built with).
"""
from __future__ import annotations

import argparse
import importlib.machinery
import importlib.util
import json
import os
import shlex
import statistics
import subprocess
import sys
import sysconfig
import tempfile

COMPILE_ARGS = ["-O3", "-falign-functions=64"]  # setup.py's extra_compile_args: keep the two alike
DEFAULT_SOURCE = os.path.join("kafkaio", "_speedups", "_records.c")
METRICS = (("enc", "encode, batch_size 16384"), ("dec", "decode with CRC check"), ("decn", "decode without CRC check"))


def _compile(source: str, obj: str) -> None:
    cc = shlex.split(sysconfig.get_config_var("CC"))
    flags = shlex.split(sysconfig.get_config_var("CFLAGS") or "") + shlex.split(sysconfig.get_config_var("CCSHARED") or "")
    includes = [f"-I{sysconfig.get_paths()['include']}", f"-I{os.path.join(sys.prefix, 'include')}"]
    subprocess.run(cc + flags + includes + ["-c", source, "-o", obj] + COMPILE_ARGS, check=True)


def _link(obj: str, shift: int, out: str, workdir: str) -> None:
    # unused code placed before the module's: the linker lays .text out in input order
    pad_c = os.path.join(workdir, f"pad{shift}.c")
    pad_o = pad_c[:-2] + ".o"
    with open(pad_c, "w") as f:
        body = f'__asm__ volatile(".skip {shift}, 0x90");' if shift else ""
        f.write(f"__attribute__((used, noinline, aligned(64))) void kafkaio_layout_pad(void) {{ {body} }}\n")
    cc = shlex.split(sysconfig.get_config_var("CC"))
    subprocess.run(cc + ["-O2", "-fPIC", "-c", pad_c, "-o", pad_o], check=True)
    ldshared = shlex.split(sysconfig.get_config_var("LDSHARED"))
    subprocess.run(ldshared + [pad_o, obj, "-o", out], check=True)


def _child(so_path: str, reps: int) -> dict[str, float]:
    # load the variant under the real module name, then run the benchmark's own loops through it
    name = "kafkaio._speedups._records"
    loader = importlib.machinery.ExtensionFileLoader(name, so_path)
    spec = importlib.util.spec_from_file_location(name, so_path, loader=loader)
    assert spec is not None
    mod = importlib.util.module_from_spec(spec)
    sys.modules[name] = mod
    loader.exec_module(mod)
    import kafkaio._speedups as speedups

    speedups._loaded["records"] = mod
    from benchmarks import records as bench

    recs = bench._payloads(128)
    data = bench._encoded(0, recs)
    runs: dict[str, list[float]] = {key: [] for key, _ in METRICS}
    for _ in range(reps):
        runs["enc"].append(bench._measure(bench.kafkaio_encode, 0, recs, 200, 16384))
        runs["dec"].append(bench._measure(bench.kafkaio_decode, data, 128, 200, True))
        runs["decn"].append(bench._measure(bench.kafkaio_decode, data, 128, 200, False))
    return {key: statistics.median(v) for key, v in runs.items()}


def run(sources: list[str], shifts: list[int], rounds: int, reps: int) -> dict[str, dict[int, dict[str, float]]]:
    """For every source and shift, the median ns/record of each loop over ``rounds`` interleaved runs."""
    with tempfile.TemporaryDirectory(prefix="kafkaio-layouts-") as workdir:
        variants = []  # (label, shift, .so path)
        for i, source in enumerate(sources):
            obj = os.path.join(workdir, f"src{i}.o")
            _compile(source, obj)
            for shift in shifts:
                so = os.path.join(workdir, f"src{i}_shift{shift}{sysconfig.get_config_var('EXT_SUFFIX')}")
                _link(obj, shift, so, workdir)
                variants.append((source, shift, so))
        seen: dict[tuple[str, int], list[dict[str, float]]] = {(s, sh): [] for s, sh, _ in variants}
        for _ in range(rounds):
            for source, shift, so in variants:
                out = subprocess.run([sys.executable, "-m", "benchmarks.layouts", "--child", so, "--reps", str(reps)],
                                     check=True, capture_output=True, text=True).stdout
                seen[(source, shift)].append(json.loads(out))
    result: dict[str, dict[int, dict[str, float]]] = {}
    for (source, shift), runs in seen.items():
        result.setdefault(source, {})[shift] = {key: statistics.median(r[key] for r in runs) for key, _ in METRICS}
    return result


def table(result: dict[str, dict[int, dict[str, float]]]) -> str:
    lines = []
    for source, by_shift in result.items():
        lines += [f"{source}:", "", "| code shift (bytes) | " + " | ".join(label for _, label in METRICS) + " |",
                  "|---:|" + "---:|" * len(METRICS)]
        for shift, m in sorted(by_shift.items()):
            lines.append(f"| {shift} | " + " | ".join(f"{m[key]:.1f}" for key, _ in METRICS) + " |")
        for name, fn in (("median", statistics.median), ("min", min), ("max", max)):
            lines.append(f"| **{name}** | " + " | ".join(
                f"**{fn(m[key] for m in by_shift.values()):.1f}**" for key, _ in METRICS) + " |")
        lines.append("")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--source", action="append", help=f"a generated _records.c (default {DEFAULT_SOURCE}); repeat to compare")
    ap.add_argument("--shifts", type=int, default=8, help="layouts per source, 128 bytes apart")
    ap.add_argument("--rounds", type=int, default=3, help="interleaved runs of every variant (median reported)")
    ap.add_argument("--reps", type=int, default=2, help="repetitions of each loop inside one run")
    ap.add_argument("--child", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.child:
        print(json.dumps(_child(args.child, args.reps)))
        return 0
    sources = args.source or [DEFAULT_SOURCE]
    for source in sources:
        if not os.path.exists(source):
            ap.error(f"{source} not found (build the extension first: make build)")
    result = run(sources, [128 * i for i in range(args.shifts)], args.rounds, args.reps)
    print(f"python {sys.version.split()[0]}; {os.cpu_count()} CPUs; ns/record, 128 records of 10-byte keys and "
          f"100-byte values; median of {args.rounds} interleaved runs per layout\n")
    print(table(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
