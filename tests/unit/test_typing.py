"""Types that reach users: the typed keyword arguments are generated from the setting declarations
(and stay so), and a type checker rejects a wrong setting at the call site."""
from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from kafkaio.config import typed_settings_source

ROOT = Path(__file__).resolve().parents[2]
SNIPPET = Path(__file__).parent / "typing" / "settings_snippet.py"


def test_the_typed_settings_are_generated_from_the_declarations() -> None:
    assert (ROOT / "kafkaio" / "settings.py").read_text() == typed_settings_source(), (
        "kafkaio/settings.py is stale: regenerate it as its docstring says")


EXAMPLES = ROOT / "examples"
API_SNIPPET = Path(__file__).parent / "typing" / "public_api_snippet.py"
_needs_mypy = pytest.mark.skipif(
    shutil.which("mypy") is None and not (Path(sys.executable).parent / "mypy").exists(),
    reason="mypy is not installed (it is in the dev extras)")
# the dev extras install pyright[nodejs] (pyright with a Node.js from PyPI) beside this interpreter
_PYRIGHT = shutil.which("pyright", path=str(Path(sys.executable).parent))


@dataclass(frozen=True)
class MypyReport:
    """One ``mypy --strict`` run's messages, by file: ``(line, kind, text)`` per message."""

    messages: dict[Path, list[tuple[int, str, str]]]
    summary: str

    def errors(self, path: Path) -> set[int]:
        return {n for n, kind, _ in self.messages.get(path.resolve(), []) if kind == "error"}

    def revealed(self, path: Path) -> dict[int, str]:
        return {n: m.group(1) for n, kind, text in self.messages.get(path.resolve(), [])
                if kind == "note" and (m := re.match(r'Revealed type is "([^"]+)"', text))}

    def text(self, path: Path) -> str:
        return "\n".join(f"{path.name}:{n}: {kind}: {text}"
                         for n, kind, text in self.messages.get(path.resolve(), []))


@pytest.fixture(scope="module")
def mypy_report() -> MypyReport:
    """One mypy run over the settings snippet, the public API snippet and every example: mypy
    reads kafkaio once for all three checks (its cost is almost all in that reading)."""
    # --follow-imports=silent: kafkaio's own modules are read for their types but not reported on,
    # as for an installed package
    done = subprocess.run([sys.executable, "-m", "mypy", "--strict", "--follow-imports=silent",
                           "--no-incremental", "--show-absolute-path", str(SNIPPET), str(API_SNIPPET),
                           str(EXAMPLES)], capture_output=True, text=True, cwd=ROOT)
    messages: dict[Path, list[tuple[int, str, str]]] = {}
    for m in re.finditer(r"^(.+?):(\d+): (error|note): (.*)$", done.stdout, re.M):
        messages.setdefault(Path(m.group(1)).resolve(), []).append((int(m.group(2)), m.group(3), m.group(4)))
    assert done.stderr == "", done.stderr
    return MypyReport(messages, done.stdout.strip().splitlines()[-1] if done.stdout.strip() else "")


@_needs_mypy
def test_mypy_rejects_wrong_settings_and_sees_the_real_classes(mypy_report: MypyReport) -> None:
    lines = SNIPPET.read_text().splitlines()
    expected_errors = {i + 1 for i, line in enumerate(lines) if line.endswith("# error")}
    assert mypy_report.errors(SNIPPET) == expected_errors, mypy_report.text(SNIPPET)
    notes = mypy_report.revealed(SNIPPET)
    assert notes[6] == "kafkaio.producer.producer.Producer"
    assert notes[9] == "kafkaio.consumer.consumer.Consumer"
    assert notes[14].startswith("def") and "UnknownTopicOrPartitionError" in notes[14]
    # send() hands back the record's awaitable, which gives its RecordMetadata
    assert notes[21] == "kafkaio._speedups._producer.RecordFuture"
    assert notes[22].endswith("fallback=kafkaio.structs.RecordMetadata]")
    assert notes[23] == notes[22]


@_needs_mypy
def test_mypy_strict_passes_on_the_examples(mypy_report: MypyReport) -> None:
    examples = sorted(EXAMPLES.glob("*.py"))
    in_examples = [p for p in mypy_report.messages if p.parent == EXAMPLES.resolve()]
    assert in_examples == [], "\n".join(mypy_report.text(p) for p in in_examples)
    # every example was read: the run checked them and the two snippets
    assert f"(checked {len(examples) + 2} source files)" in mypy_report.summary, mypy_report.summary


@pytest.mark.skipif(_PYRIGHT is None, reason="pyright is not installed (it is in the dev extras)")
def test_pyright_strict_passes_on_the_examples() -> None:
    """The [tool.pyright] settings of pyproject.toml: examples/, strict. pyright reports an argument
    or a variable whose type is partly unknown, so an Any-typed corner of the API that a user's
    code touches (a setting typed ``Callable[..., Any]``, a lazily resolved class) fails here."""
    assert _PYRIGHT is not None
    done = subprocess.run([_PYRIGHT, "--pythonpath", sys.executable, "--outputjson"],
                          capture_output=True, text=True, cwd=ROOT)
    report = json.loads(done.stdout)
    problems = [f"{d['file']}:{d['range']['start']['line'] + 1}: {d['message']}"
                for d in report["generalDiagnostics"] if d["severity"] != "information"]
    assert problems == [], "\n".join(problems)
    assert report["summary"]["filesAnalyzed"] == len(list(EXAMPLES.glob("*.py")))
    assert done.returncode == 0, done.stderr


@_needs_mypy
def test_the_public_api_reveals_no_any(mypy_report: MypyReport) -> None:
    assert mypy_report.errors(API_SNIPPET) == set(), mypy_report.text(API_SNIPPET)
    lines = API_SNIPPET.read_text().splitlines()
    revealed = mypy_report.revealed(API_SNIPPET)
    assert sorted(revealed) == [i + 1 for i, line in enumerate(lines) if "reveal_type(" in line], \
        mypy_report.text(API_SNIPPET)
    assert {n: t for n, t in revealed.items() if "Any" in t} == {}
    by_call = {lines[n - 1].strip(): t for n, t in revealed.items()}
    assert by_call["reveal_type(await c.getone())"] == "kafkaio._speedups._records.ConsumerRecord"
    assert by_call["reveal_type(record)"] == "kafkaio._speedups._records.ConsumerRecord"
    assert by_call["reveal_type(await c.getmany(timeout_ms=100))"].endswith(
        "list[kafkaio._speedups._records.ConsumerRecord]]")
    assert by_call["reveal_type(await p.send_and_wait(\"t\", b\"v\"))"].endswith(
        "fallback=kafkaio.structs.RecordMetadata]")
