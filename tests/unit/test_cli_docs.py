"""docs/cli.md carries each command's ``--help`` exactly as the parser prints it, and the pieces
of the CLI that need no broker behave."""
from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

import pytest

from kafkaio.cli import build_parser
from kafkaio.cli._helpdoc import render
from kafkaio.cli.common import CliError, EXIT_USAGE, client_settings
from kafkaio.cli.consume import render as render_record
from kafkaio.cli.produce import _record

DOC = Path(__file__).resolve().parents[2] / "docs" / "cli.md"


def test_docs_match_help() -> None:
    text = DOC.read_text()
    assert render(text) == text, "docs/cli.md is stale: run python -m kafkaio.cli._helpdoc"


def test_every_command_is_documented() -> None:
    text = DOC.read_text()
    for cmd in ["produce", "consume", "topics list", "topics describe", "topics create", "topics delete",
                "topics configs", "groups list", "groups describe", "groups lag", "groups reset-offsets",
                "cluster"]:
        assert f"### `kafkaio {cmd} --help`" in text, cmd


def test_python_dash_m_runs_the_cli() -> None:
    proc = subprocess.run([sys.executable, "-m", "kafkaio", "--help"], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0 and "produce" in proc.stdout, proc.stderr


def test_no_abbreviated_options() -> None:
    with pytest.raises(SystemExit) as exc:
        build_parser().parse_args(["cluster", "--sasl-password", "secret"])
    assert exc.value.code == EXIT_USAGE


def _args(*argv: str) -> argparse.Namespace:
    return build_parser().parse_args(list(argv))


def test_password_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MY_PW", "s3cret")
    s = client_settings(_args("cluster", "-b", "h:1", "--sasl-mechanism", "PLAIN", "--sasl-username", "u",
                              "--sasl-password-env", "MY_PW", "--security-protocol", "SASL_SSL"))
    assert s["sasl_plain_password"] == "s3cret" and s["sasl_plain_username"] == "u"
    monkeypatch.delenv("KAFKAIO_SASL_PASSWORD", raising=False)
    with pytest.raises(CliError) as exc:
        client_settings(_args("cluster", "-b", "h:1", "--sasl-username", "u"))
    assert exc.value.code == EXIT_USAGE and "s3cret" not in str(exc.value)


def test_produce_line_parsing() -> None:
    args = _args("produce", "t", "-K", ":")
    assert _record("k:v:w", args, [], 1) == (b"k", b"v:w", [], None)
    args = _args("produce", "t", "--json", "-p", "2")
    assert _record('{"key": 1, "value": "x", "headers": {"a": "b"}}', args, [("h", b"1")], 1) == \
        (b"1", b"x", [("h", b"1"), ("a", b"b")], 2)
    with pytest.raises(CliError):
        _record("not json", args, [], 7)


class _Rec:
    topic, partition, offset, timestamp = "t", 1, 5, 1700000000000
    key, value, headers = b"k", b"\xff", [("h", b"v")]


def test_consume_formats() -> None:
    assert render_record(_Rec(), _args("consume", "t", "-f", r"%t|%p|%o|%k|%K|%S|%T|%h|%%\n")) == \
        "t|1|5|k|1|1|1700000000000|h=v|%\n"
    assert '"value": {"base64": "/w=="}' in render_record(_Rec(), _args("consume", "t", "-F", "json"))
