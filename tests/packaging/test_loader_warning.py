"""kafkaio._speedups warns once when compiled code was expected but is missing (issue 21).

Each case runs in a fresh interpreter: the check happens at import, and the loader caches modules.
The ``_compiled.txt`` marker a build installs is simulated by pointing ``_MARKER`` at a temp file.
"""
from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import pytest

SCRIPT = textwrap.dedent("""
    import logging, sys
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(message)s", stream=sys.stdout)
    import kafkaio._speedups as s
    s._MARKER = sys.argv[1]
    s._check_installed()
    s.load("checksums")  # never compiled: _checksums fails to import
    s.load("checksums")
    print("enabled", s.speedups_enabled())
""")


def _run(tmp_path, marker_lines: list[str] | None, **env: str) -> str:
    marker = tmp_path / "_compiled.txt"
    if marker_lines is not None:
        marker.write_text("".join(line + "\n" for line in marker_lines))
    full_env = {k: v for k, v in os.environ.items() if k != "KAFKAIO_NO_EXTENSIONS"}
    full_env.update(env)
    return subprocess.run([sys.executable, "-c", SCRIPT, str(marker)], check=True, capture_output=True,
                          text=True, env=full_env).stdout


def test_no_marker_no_warning(tmp_path) -> None:
    # the pure wheel and in-place development builds
    assert "WARNING" not in _run(tmp_path, None)


def test_a_missing_binary_warns_once_at_import(tmp_path) -> None:
    out = _run(tmp_path, ["nosuchmodule", "zzmissing"])
    assert out.count("WARNING") == 1
    assert "_nosuchmodule" in out and "binary is missing" in out


def test_a_binary_that_fails_to_import_warns_once_at_load(tmp_path) -> None:
    out = _run(tmp_path, ["checksums"])
    assert out.count("WARNING") == 1
    assert "kafkaio._speedups._checksums cannot be imported" in out


@pytest.mark.parametrize("value", ["1", "yes"])
def test_disabled_on_purpose_never_warns(tmp_path, value: str) -> None:
    out = _run(tmp_path, ["nosuchmodule", "checksums"], KAFKAIO_NO_EXTENSIONS=value)
    assert "WARNING" not in out
    assert "enabled False" in out


def test_speedups_enabled_warns_about_a_binary_that_fails_to_import(tmp_path) -> None:
    marker = tmp_path / "_compiled.txt"
    marker.write_text("checksums\n")
    code = ("import logging, sys; logging.basicConfig(format='%(levelname)s %(message)s', stream=sys.stdout)\n"
            "import kafkaio._speedups as s\n"
            f"s._MARKER = {str(marker)!r}\n"
            "s.COMPILED = ('checksums',)\n"
            "print('enabled', s.speedups_enabled(), s.speedups_enabled())\n")
    env = {k: v for k, v in os.environ.items() if k != "KAFKAIO_NO_EXTENSIONS"}
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True,
                         env=env).stdout
    assert out.count("WARNING") == 1 and "_checksums cannot be imported" in out
    assert "enabled False False" in out
