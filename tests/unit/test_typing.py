"""Types that reach users: the typed keyword arguments are generated from the setting declarations
(and stay so), and a type checker rejects a wrong setting at the call site."""
from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from kafkaio.config import typed_settings_source

ROOT = Path(__file__).resolve().parents[2]
SNIPPET = Path(__file__).parent / "typing" / "settings_snippet.py"


def test_the_typed_settings_are_generated_from_the_declarations() -> None:
    assert (ROOT / "kafkaio" / "settings.py").read_text() == typed_settings_source(), (
        "kafkaio/settings.py is stale: regenerate it as its docstring says")


@pytest.mark.skipif(shutil.which("mypy") is None and not (Path(sys.executable).parent / "mypy").exists(),
                    reason="mypy is not installed (it is in the dev extras)")
def test_mypy_rejects_wrong_settings_and_sees_the_real_classes() -> None:
    done = subprocess.run([sys.executable, "-m", "mypy", "--strict", "--follow-imports=silent",
                           "--no-incremental", "--no-error-summary", str(SNIPPET)],
                          capture_output=True, text=True, cwd=ROOT)
    lines = SNIPPET.read_text().splitlines()
    expected_errors = {i + 1 for i, line in enumerate(lines) if line.endswith("# error")}
    errors = {int(m.group(1)) for m in re.finditer(r":(\d+): error:", done.stdout)}
    assert errors == expected_errors, done.stdout
    notes = dict((int(n), t) for n, t in re.findall(r":(\d+): note: Revealed type is \"([^\"]+)\"", done.stdout))
    assert notes[6] == "kafkaio.producer.producer.Producer"
    assert notes[9] == "kafkaio.consumer.consumer.Consumer"
    assert notes[14].startswith("def") and "UnknownTopicOrPartitionError" in notes[14]
    # send() hands back the record's awaitable, which gives its RecordMetadata
    assert notes[21] == "kafkaio._speedups._producer.RecordFuture"
    assert notes[22].endswith("fallback=kafkaio.producer.future.RecordMetadata]")
    assert notes[23] == notes[22]
