"""A stale binary in the build directory is never packaged (issue 21).

The bug: install once with a compiler, then again with none (``CC=/bin/false``): every extension
failed, yet the old ``.so`` files left in ``build/lib`` went into the wheel and ``speedups_enabled()``
was True. Here the "earlier build" is simulated by planting binaries and a ``_compiled.txt`` marker in
the build directory of a copy of the checkout; the wheel built with a failing compiler must contain
neither, and with ``KAFKAIO_REQUIRE_EXTENSIONS=1`` the build must fail instead.
No C compile runs (the compiler is /bin/false): about 15 seconds.
"""
from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest

_spec = importlib.util.spec_from_file_location("kafkaio_wheels", Path(__file__).with_name("wheels.py"))
wheels = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(wheels)


def _plant_stale(src: Path) -> Path:
    build = src / "build"
    lib = build / f"lib.{sysconfig.get_platform()}-cpython-{sys.version_info[0]}{sys.version_info[1]}"
    where = lib / "kafkaio" / "_speedups"
    where.mkdir(parents=True)
    suffix = sysconfig.get_config_var("EXT_SUFFIX")
    for name in ("_hashing", "_metadata_cell", "_produce_codec", "_producer", "_records", "_varint"):
        (where / f"{name}{suffix}").write_bytes(b"\x7fELF stale")
    (where / "_compiled.txt").write_text("hashing\nmetadata_cell\nproduce_codec\nproducer\nrecords\nvarint\n")
    return build


def _wheel(src: Path, out: Path, **env: str) -> subprocess.CompletedProcess[str]:
    full = {**os.environ, "CC": "/bin/false", "LDSHARED": "/bin/false", "PIP_NO_CACHE_DIR": "1", **env}
    full.pop("KAFKAIO_NO_EXTENSIONS", None)
    return subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
                           "--wheel-dir", str(out), str(src)], env=full, capture_output=True, text=True)


@pytest.mark.timeout(600)
def test_a_failed_build_packages_no_stale_binary(tmp_path: Path) -> None:
    pytest.importorskip("Cython")
    src = wheels.snapshot(tmp_path / "src")
    _plant_stale(src)
    done = _wheel(src, tmp_path / "out")
    assert done.returncode == 0, done.stdout + done.stderr
    (wheel,) = (tmp_path / "out").glob("*.whl")
    with zipfile.ZipFile(wheel) as z:
        names = z.namelist()
    assert [n for n in names if n.endswith(".so") or n.endswith("_compiled.txt")] == []
    assert not list((src / "kafkaio").rglob("*.c")), "generated C written into kafkaio/"

    shutil.rmtree(src / "build")
    _plant_stale(src)
    failed = _wheel(src, tmp_path / "out2", KAFKAIO_REQUIRE_EXTENSIONS="1")
    assert failed.returncode != 0
    assert not (tmp_path / "out2").exists() or not list((tmp_path / "out2").glob("*.whl"))
