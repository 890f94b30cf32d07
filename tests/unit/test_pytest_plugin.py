"""The pytest plugin that kafkaio installs (kafkaio/testing/fixtures.py) is loaded into every pytest
session of a project that has kafkaio installed, so it must cost nothing there: fixtures only, no
option, no hook that changes how tests run, no pytest-asyncio needed. tests/integration/
test_pytest_plugin.py runs its fixtures from a project of a user."""
from __future__ import annotations

import importlib.metadata
import subprocess
import sys

import kafkaio.testing.fixtures as plugin


def test_the_installed_package_registers_the_plugin() -> None:
    found = [(ep.name, ep.value) for ep in importlib.metadata.entry_points(group="pytest11")
             if ep.value.startswith("kafkaio")]
    assert found == [("kafkaio.testing.fixtures", "kafkaio.testing.fixtures")]


def test_the_plugin_adds_fixtures_and_a_summary_line_only() -> None:
    hooks = sorted(name for name in vars(plugin) if name.startswith("pytest_"))
    assert hooks == ["pytest_terminal_summary"]


def test_importing_the_plugin_loads_neither_pytest_asyncio_nor_a_client() -> None:
    code = ("import sys, kafkaio.testing.fixtures\n"
            "print(sorted(m for m in ('pytest_asyncio', 'kafkaio.admin', 'kafkaio.producer.producer',"
            " 'kafkaio.consumer.consumer') if m in sys.modules))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"
