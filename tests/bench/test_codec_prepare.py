"""The codec benchmark's venvs for the other CPythons: prepared (packages installed, speedups
compiled) when what they are made from changed, used as they are otherwise."""
from __future__ import annotations

from pathlib import Path

import pytest

from benchmarks import codec


@pytest.fixture
def tree(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, list[list[str]]]:
    root = tmp_path / "repo"
    (root / "kafkaio" / "_speedups").mkdir(parents=True)
    (root / "setup.py").write_text("setup()\n")
    (root / "kafkaio" / "_speedups" / "_records.pyx").write_text("cdef int x = 1\n")
    (root / "kafkaio" / "_speedups" / "_records.pxd").write_text("cdef int x\n")
    (root / "kafkaio" / "_speedups" / "_records.c").write_text("/* generated */\n")
    cache = tmp_path / "cache"
    calls: list[list[str]] = []

    def fake_check(cmd: list[str], timeout_s: float, env: dict[str, str] | None = None) -> None:
        calls.append(cmd)
        if cmd[1:3] == ["-m", "venv"]:
            python = Path(cmd[3]) / "bin" / "python"
            python.parent.mkdir(parents=True)
            python.write_text("")

    monkeypatch.setattr(codec, "REPO_ROOT", root)
    monkeypatch.setattr(codec, "_cache_dir", lambda: cache)
    monkeypatch.setattr(codec, "_check", fake_check)
    monkeypatch.setattr(codec, "_packages", lambda: ["setuptools", "aiokafka"])
    return root, calls


def _steps(calls: list[list[str]]) -> list[str]:
    return ["venv" if c[1:3] == ["-m", "venv"] else "pip" if "pip" in c else "build" for c in calls]


def test_a_prepared_venv_is_reused_until_a_source_changes(tree) -> None:
    root, calls = tree
    first = codec._prepare("/usr/bin/python3.13", "3.13.0")
    assert _steps(calls) == ["venv", "pip", "build"]
    calls.clear()
    assert codec._prepare("/usr/bin/python3.13", "3.13.0") == first
    assert calls == []
    (root / "kafkaio" / "_speedups" / "_records.c").write_text("/* generated again */\n")
    codec._prepare("/usr/bin/python3.13", "3.13.0")
    assert calls == []  # generated C is not an input
    (root / "kafkaio" / "_speedups" / "_records.pyx").write_text("cdef int x = 2\n")
    codec._prepare("/usr/bin/python3.13", "3.13.0")
    assert _steps(calls) == ["pip", "build"]


@pytest.mark.parametrize("change", ["setup.py", "_records.pxd", "python", "packages"])
def test_any_input_prepares_it_again(tree, monkeypatch: pytest.MonkeyPatch, change: str) -> None:
    root, calls = tree
    codec._prepare("/usr/bin/python3.13", "3.13.0")
    calls.clear()
    version = "3.13.0"
    if change == "setup.py":
        (root / "setup.py").write_text("setup(name='x')\n")
    elif change == "_records.pxd":
        (root / "kafkaio" / "_speedups" / "_records.pxd").write_text("cdef long x\n")
    elif change == "python":
        version = "3.13.1"
    else:
        monkeypatch.setattr(codec, "_packages", lambda: ["setuptools", "aiokafka", "lz4"])
    codec._prepare("/usr/bin/python3.13", version)
    assert _steps(calls) == ["pip", "build"]


def test_a_failed_build_is_tried_again(tree, monkeypatch: pytest.MonkeyPatch) -> None:
    root, calls = tree
    codec._prepare("/usr/bin/python3.13", "3.13.0")
    (root / "kafkaio" / "_speedups" / "_records.pyx").write_text("cdef int x = 3\n")

    def failing(cmd: list[str], timeout_s: float, env: dict[str, str] | None = None) -> None:
        if "build_ext" in cmd:
            raise RuntimeError("compile failed")

    monkeypatch.setattr(codec, "_check", failing)
    with pytest.raises(RuntimeError, match="compile failed"):
        codec._prepare("/usr/bin/python3.13", "3.13.0")
    calls.clear()
    monkeypatch.setattr(codec, "_check", lambda cmd, timeout_s, env=None: calls.append(cmd))
    codec._prepare("/usr/bin/python3.13", "3.13.0")
    assert _steps(calls) == ["pip", "build"]
