"""kafkaio's pytest plugin as a user meets it: installed with kafkaio, loaded by pytest on its own
(entry point ``pytest11``), its fixtures used from a project with no configuration at all (so
pytest-asyncio in its default strict mode, one loop per test).

Each case runs pytest in a subprocess, in a directory of its own, against the session's broker
(``KAFKAIO_BOOTSTRAP``), so that no second broker is started.
"""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

USER_TESTS = '''
import asyncio

import pytest

import kafkaio


def test_a_synchronous_test(kafkaio_bootstrap: str, kafkaio_topic: str) -> None:
    tp = kafkaio.TopicPartition(kafkaio_topic, 0)

    async def round_trip() -> list[bytes | None]:
        async with kafkaio.Producer(bootstrap_servers=kafkaio_bootstrap) as producer:
            await producer.send_and_wait(kafkaio_topic, b"hello")
        async with kafkaio.Consumer(bootstrap_servers=kafkaio_bootstrap) as consumer:
            consumer.assign([tp])
            await consumer.seek_to_beginning(tp)
            batches = await consumer.getmany(timeout_ms=10_000)
        return [r.value for r in batches.get(tp, [])]

    assert asyncio.run(round_trip()) == [b"hello"]


@pytest.mark.asyncio
async def test_an_async_test_on_its_own_loop(kafkaio_bootstrap: str, kafkaio_topic: str) -> None:
    async with kafkaio.Producer(bootstrap_servers=kafkaio_bootstrap) as producer:
        metadata = await producer.send_and_wait(kafkaio_topic, b"x")
    assert (metadata.topic, metadata.offset) == (kafkaio_topic, 0), "a fresh topic for each test"


@pytest.mark.asyncio
async def test_another_loop_shares_the_broker(kafkaio_broker: object, kafkaio_bootstrap: str) -> None:
    assert kafkaio_broker.bootstrap_servers == kafkaio_bootstrap
    assert kafkaio_broker.source == "env"
'''


def _pytest(where: Path, bootstrap: str, *args: str, autoload: bool = True) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "KAFKAIO_LOOP"))}
    env["KAFKAIO_BOOTSTRAP"] = bootstrap
    if not autoload:
        env["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = "1"
    return subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *args],
                          cwd=where, env=env, capture_output=True, text=True, timeout=240)


@pytest.fixture
def user_project(tmp_path: Path) -> Path:
    (tmp_path / "test_user.py").write_text(USER_TESTS)
    return tmp_path


def test_the_fixtures_reach_a_project_that_configured_nothing(user_project: Path, bootstrap_servers: str) -> None:
    done = _pytest(user_project, bootstrap_servers)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "3 passed" in done.stdout, done.stdout
    assert "kafkaio: tests ran against env Kafka" in done.stdout, "the summary names the broker"


def test_pytest_plugins_naming_the_module_loads_it_once(user_project: Path, bootstrap_servers: str) -> None:
    """With autoload (and the conftest line as well) or without it (the conftest line alone)."""
    (user_project / "conftest.py").write_text('pytest_plugins = ["kafkaio.testing.fixtures"]\n')
    for autoload in (True, False):
        args = () if autoload else ("-p", "pytest_asyncio.plugin")
        done = _pytest(user_project, bootstrap_servers, *args, autoload=autoload)
        assert done.returncode == 0, f"autoload={autoload}\n{done.stdout}{done.stderr}"
        assert "3 passed" in done.stdout, done.stdout


def test_the_plugin_can_be_turned_off(user_project: Path, bootstrap_servers: str) -> None:
    done = _pytest(user_project, bootstrap_servers, "-p", "no:kafkaio.testing.fixtures")
    assert done.returncode == 1, done.stdout + done.stderr
    assert "fixture 'kafkaio_bootstrap' not found" in done.stdout
