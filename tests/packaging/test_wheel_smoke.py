"""Smoke test of the release path (issue 21): what ``make wheels`` does, cut to one wheel.

Builds the sdist from a copy of the checkout and the pure ``py3-none-any`` wheel from that sdist (no
C compile: about a minute on a busy 2-core machine, most of it pip's isolated build environments),
checks both (LICENSE/NOTICE, no .c/.pyx/.pxd in the wheel, the stubs, ``twine check --strict``),
installs the wheel into a fresh venv and imports it from outside the checkout, with no warning; then
runs the unit suite and the quickstart (against the session's broker) on that installed wheel.
The compiled manylinux wheels are built and tested by ``make wheels`` (docs/packaging.md).
Needs PyPI (pip's build isolation and the tools), as ``make test`` does on a fresh machine.
"""
from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

_spec = importlib.util.spec_from_file_location("kafkaio_wheels", Path(__file__).with_name("wheels.py"))
wheels = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(wheels)


@pytest.mark.timeout(1200)
def test_sdist_and_pure_wheel_build_check_install_and_import(tmp_path: Path, bootstrap_servers: str) -> None:
    tools = wheels.venv(tmp_path / "tools", sys.executable, ["build>=1.2", "twine>=6.1"])
    out = tmp_path / "out"
    sdist = wheels.build_sdist(tools, wheels.snapshot(tmp_path / "src"), out)
    assert wheels.check_sdist(sdist) == []
    wheel = wheels.build_wheel(sys.executable, sdist, out, pure=True)
    assert wheel.name.endswith("-py3-none-any.whl")
    assert wheels.check_wheel(wheel, pure=True) == []
    wheels.run([tools.parent / "twine", "check", "--strict", wheel, sdist])
    wheels.install_and_test(wheel, sys.executable, tmp_path, full=True, pure=True, bootstrap=bootstrap_servers)
    assert not list((wheels.ROOT / "kafkaio").rglob("*.egg-info"))
