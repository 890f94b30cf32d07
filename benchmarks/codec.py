"""Record codec micro-benchmark: runs ``benchmarks/records.py`` (kafkaio's batch builder and reader
against aiokafka's, ns/record) in a child process per CPython and returns its rows.

The running interpreter measures the checkout as it is. Every other CPython 3.11+ on the machine
(pyenv's versions and ``python3.N`` on PATH, as ``make wheels`` finds them) gets a venv under the
kafkaio cache with the same Cython and the codec's packages, compiles the checkout's speedups into
a build directory of its own (nothing is written into the checkout) and runs the same child with
those binaries first on ``kafkaio._speedups``' path. A CPython that cannot be prepared gets an error
row instead of numbers; the others still run. A venv whose packages and compiled speedups were made
from the same inputs (packages, Cython version, ``setup.py`` and the speedups' Cython sources) is
used as it is: the compile took 20 s of CPU per CPython, a minute of wall on a loaded machine.
"""
from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import platform
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

from benchmarks.runner import REPO_ROOT

# The child: optionally puts a directory of compiled speedups first on the package's path, refuses
# to measure the pure-Python twins, and prints the rows as JSON on its last line.
_CHILD = ("import json, sys\n"
          "import kafkaio._speedups as s\n"
          "if sys.argv[1]:\n"
          "    s.__path__.insert(0, sys.argv[1])\n"
          "if s.load('records').__name__ != 'kafkaio._speedups._records':\n"
          "    raise SystemExit('the compiled record codec did not load')\n"
          "from benchmarks.records import run\n"
          "print(json.dumps(run(*map(int, sys.argv[2:]))))\n")
BUILD_TIMEOUT_S = 600.0


def _cache_dir() -> Path:
    root = Path(os.environ.get("KAFKAIO_CACHE") or Path.home() / ".cache" / "kafkaio")
    return root / "bench-cpython"


def _find_pythons() -> list[str]:
    """Every CPython 3.11+ on the machine, one per minor version (``make wheels``' own search)."""
    spec = importlib.util.spec_from_file_location("_kafkaio_wheels", REPO_ROOT / "tests" / "packaging" / "wheels.py")
    if spec is None or spec.loader is None:
        return []
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    found: list[str] = module.find_pythons()
    return found


def _packages() -> list[str]:
    """kafkaio's runtime dependencies (pyproject.toml), setuptools to build, aiokafka to compare."""
    with open(REPO_ROOT / "pyproject.toml", "rb") as f:
        project = tomllib.load(f)["project"]
    return ["setuptools", *project["dependencies"], "aiokafka"]


def _version(python: str) -> str:
    out = subprocess.run([python, "-c", "import platform; print(platform.python_version())"],
                         capture_output=True, text=True, timeout=60)
    return out.stdout.strip()


def _check(cmd: list[str], timeout_s: float, env: dict[str, str] | None = None) -> None:
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd=REPO_ROOT, timeout=timeout_s, env=env)
    if proc.returncode != 0:
        lines = (proc.stderr.strip() or proc.stdout.strip()).splitlines()
        raise RuntimeError(f"`{' '.join(cmd[1:4])}` failed: {lines[-1][:300] if lines else proc.returncode}")


def inputs_digest(root: Path, requirements: list[str]) -> str:
    """A digest of what a venv's compiled speedups are made from: ``requirements`` (the packages
    and the Cython version), ``setup.py`` and the speedups' Cython sources under ``root``."""
    digest = hashlib.sha256("\n".join(requirements).encode())
    sources = [root / "setup.py", *sorted((root / "kafkaio" / "_speedups").glob("*.p[xy][xd]"))]
    for path in sources:
        digest.update(f"\0{path.relative_to(root)}\0".encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def _prepare(python: str, version: str) -> tuple[str, str]:
    """(the venv's interpreter, the directory of its compiled speedups) for another CPython, of
    ``version``."""
    import Cython

    home = _cache_dir() / f"cp{''.join(version.split('.')[:2])}"
    venv_py = home / "venv" / "bin" / "python"
    lib = home / "lib"
    speedups = str(lib / "kafkaio" / "_speedups")
    requirements = [f"cython=={Cython.__version__}", *_packages()]
    stamp = home / "inputs.sha256"
    digest = inputs_digest(REPO_ROOT, [f"CPython {version}", *requirements])
    if venv_py.exists() and stamp.exists() and stamp.read_text() == digest:
        return str(venv_py), speedups
    stamp.unlink(missing_ok=True)  # a build that fails half-way leaves no stamp behind
    if not venv_py.exists():
        _check([python, "-m", "venv", str(home / "venv")], 300)
    _check([str(venv_py), "-m", "pip", "install", "--quiet", *requirements], BUILD_TIMEOUT_S)
    env = dict(os.environ, KAFKAIO_REQUIRE_EXTENSIONS="1")
    _check([str(venv_py), "setup.py", "-q", "build_ext", "--build-lib", str(lib),
            "--build-temp", str(home / "temp")], BUILD_TIMEOUT_S, env)
    stamp.write_text(digest)
    return str(venv_py), speedups


def _measure(python: str, speedups: str, args: list[str], timeout_s: float) -> list[dict[str, Any]]:
    env = dict(os.environ, PYTHONPATH=str(REPO_ROOT))
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    proc = subprocess.run([python, "-c", _CHILD, speedups, *args], capture_output=True, text=True,
                          cwd=REPO_ROOT, timeout=timeout_s, env=env)
    if proc.returncode != 0:
        lines = proc.stderr.strip().splitlines()
        raise RuntimeError(lines[-1] if lines else f"exit code {proc.returncode}")
    rows: list[dict[str, Any]] = json.loads(proc.stdout.strip().splitlines()[-1])
    return rows


def run(quick: bool, timeout_s: float = 300.0) -> tuple[list[dict[str, Any]], str | None]:
    """(rows, None) when the running CPython's run worked, else ([], its error). Each row names its
    ``python``; a row with ``error`` stands for another CPython that could not be measured."""
    reps, batches, records = (3, 50, 128) if quick else (9, 200, 128)
    args = [str(reps), str(batches), str(records)]
    here = platform.python_version()
    try:
        rows = [dict(r, python=here) for r in _measure(sys.executable, "", args, timeout_s)]
    except subprocess.TimeoutExpired:
        return [], f"timed out after {timeout_s:.0f} s"
    except RuntimeError as exc:
        return [], str(exc)
    mine = ".".join(here.split(".")[:2])
    for python in _find_pythons():
        version = python
        try:
            version = _version(python)
            minor = ".".join(version.split(".")[:2])
            if minor == mine:
                continue
            print(f"codec: CPython {version}", file=sys.stderr, flush=True)
            venv_py, speedups = _prepare(python, version)
            rows += [dict(r, python=version) for r in _measure(venv_py, speedups, args, timeout_s)]
        except (OSError, RuntimeError, subprocess.SubprocessError) as exc:
            rows.append({"python": version, "error": str(exc)})
    return rows, None


def decode_ratio(rows: list[dict[str, Any]], minor: str, base_minor: str = "3.11") -> float | None:
    """CPython ``minor``'s ns/record over ``base_minor``'s for uncompressed decode with the CRC check."""
    def ns(which: str) -> float | None:
        for r in rows:
            if (r.get("codec") == "none" and r.get("op") == "decode with CRC check"
                    and str(r.get("python", "")).startswith(which + ".")):
                return float(r["kafkaio"])
        return None
    a, b = ns(minor), ns(base_minor)
    return a / b if a is not None and b else None


PARAMETERS = ("128 records per batch, 10-byte keys, 100-byte values; encode into builders of "
              "batch_size 16384 (the producer's default) and 1 MiB; decode with the CRC check that both "
              "consumers run by default (check_crcs) and without it; median of the repetitions; "
              "each CPython 3.11+ on the machine in its own child process, the same source compiled "
              "for each")
