"""kafkaio's pytest plugin: a Kafka broker for your tests, with nothing to configure.

Installed with kafkaio and loaded by pytest on its own (entry point ``pytest11``; ``-p
no:kafkaio.testing.fixtures`` turns it off). It adds fixtures and nothing else: no option, no hook
that changes how your tests run, and no broker starts until a test asks for one.

- ``kafkaio_broker`` (session): a :class:`KafkaTarget` (``bootstrap_servers``, ``source``,
  ``version``). Where the broker comes from, in order: ``KAFKAIO_BOOTSTRAP=host:port`` (an existing
  cluster) > a Docker engine through testcontainers (when one answers) > a local broker started
  from Maven-fetched jars (:mod:`kafkaio.testing.broker`, needs Java 17+ and Maven). Stopped at the
  end of the session if the plugin started it.
- ``kafkaio_bootstrap`` (session): its ``"host:port,..."``, for ``bootstrap_servers=``.
- ``kafkaio_topic`` (test): a fresh, uniquely named topic with one partition, deleted after the test.

The fixtures are plain (synchronous) pytest fixtures, so they work in synchronous tests, with
pytest-asyncio in any mode and with any loop scope, with anyio, or with ``asyncio.run`` in the test.
docs/testing.md has examples.
"""
from __future__ import annotations

import asyncio
import concurrent.futures
import dataclasses
import os
import re
import struct
import time
import uuid
from collections.abc import Callable, Coroutine, Iterator
from typing import Any, TypeVar

import pytest

from kafkaio.testing.broker import BrokerLauncherError, LocalKafkaCluster, kafka_version

__all__ = ["KafkaTarget", "start_kafka_target"]

_T = TypeVar("_T")
TOPIC_CREATE_TIMEOUT_MS = 60_000
_SESSION_TARGETS: list["KafkaTarget"] = []  # for the terminal summary


# --------------------------------------------------------------------------- the broker


@dataclasses.dataclass
class KafkaTarget:
    """The Kafka cluster a test session talks to.

    ``source`` is ``"env"`` (KAFKAIO_BOOTSTRAP), ``"docker"`` or ``"local"``; ``local`` is the
    :class:`LocalKafkaCluster` when this session started one (None otherwise). Tests that stop or
    restart brokers must start their own LocalKafkaCluster instead of touching this shared one.
    """

    bootstrap_servers: str
    source: str
    version: str | None
    local: LocalKafkaCluster | None = None
    _stop: Callable[[], None] | None = dataclasses.field(default=None, repr=False)

    def stop(self) -> None:
        if self._stop is not None:
            self._stop()
            self._stop = None


def _docker_target(version: str) -> KafkaTarget | None:
    """A single-node KRaft ``apache/kafka`` container when a Docker engine answers, else None.

    The container listens on the same port inside and outside (a free host port bound 1:1), so
    the address it advertises is the one clients reach.
    """
    if os.environ.get("KAFKAIO_NO_DOCKER") == "1":
        return None
    try:
        import docker  # type: ignore[import-untyped]  # stub gap: docker ships no types

        docker.from_env(timeout=3).ping()
    except Exception:  # no client library, no engine, no permission: use the local broker
        return None
    from testcontainers.core.container import DockerContainer
    from testcontainers.core.waiting_utils import wait_for_logs

    from kafkaio.testing.broker import free_ports, probe_metadata

    (port,) = free_ports(1)
    container = (
        DockerContainer(f"apache/kafka:{version}")
        .with_bind_ports(port, port)
        .with_envs(
            KAFKA_NODE_ID="1",
            KAFKA_PROCESS_ROLES="broker,controller",
            KAFKA_LISTENERS=f"PLAINTEXT://:{port},CONTROLLER://:9093",
            KAFKA_ADVERTISED_LISTENERS=f"PLAINTEXT://127.0.0.1:{port}",
            KAFKA_CONTROLLER_LISTENER_NAMES="CONTROLLER",
            KAFKA_LISTENER_SECURITY_PROTOCOL_MAP="CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT",
            KAFKA_CONTROLLER_QUORUM_VOTERS="1@localhost:9093",
            KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR="1",
            KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR="1",
            KAFKA_TRANSACTION_STATE_LOG_MIN_ISR="1",
            KAFKA_SHARE_COORDINATOR_STATE_TOPIC_REPLICATION_FACTOR="1",
            KAFKA_SHARE_COORDINATOR_STATE_TOPIC_MIN_ISR="1",
            KAFKA_GROUP_INITIAL_REBALANCE_DELAY_MS="0",
        )
    )
    container.start()
    try:
        wait_for_logs(container, "Kafka Server started", timeout=180)
        deadline = time.monotonic() + 60
        while True:
            try:
                if probe_metadata("127.0.0.1", port):
                    break
            except (OSError, struct.error):
                if time.monotonic() > deadline:
                    raise
            time.sleep(0.2)
    except BaseException:
        container.stop()
        raise
    return KafkaTarget(f"127.0.0.1:{port}", "docker", version, None, container.stop)


def start_kafka_target() -> KafkaTarget:
    """Find or start the cluster for a test session (see the module docstring for the order)."""
    external = os.environ.get("KAFKAIO_BOOTSTRAP", "").strip()
    if external:
        return KafkaTarget(external, "env", os.environ.get("KAFKAIO_KAFKA_VERSION"))
    version = kafka_version()
    target = _docker_target(version)
    if target is not None:
        return target
    cluster = LocalKafkaCluster(brokers=1, version=version)
    cluster.start()
    return KafkaTarget(cluster.bootstrap_servers, "local", version, cluster, cluster.stop)



@pytest.fixture(scope="session")
def kafkaio_broker() -> Iterator[KafkaTarget]:
    """The session's Kafka cluster (started on first use, stopped at the end if the plugin started it)."""
    try:
        target = start_kafka_target()
    except BrokerLauncherError as exc:
        pytest.fail(f"no Kafka broker for the tests: {exc}", pytrace=False)
    _SESSION_TARGETS.append(target)
    try:
        yield target
    finally:
        target.stop()


@pytest.fixture(scope="session")
def kafkaio_bootstrap(kafkaio_broker: KafkaTarget) -> str:
    """``host:port,...`` of the session's cluster."""
    return kafkaio_broker.bootstrap_servers


def run_in_own_loop(coro: Coroutine[Any, Any, _T]) -> _T:
    """Run ``coro`` with ``asyncio.run`` in a thread of its own: whatever loop the caller has (none, or
    one that is running or merely set as current) is neither used nor disturbed."""
    with concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="kafkaio-fixture") as pool:
        return pool.submit(asyncio.run, coro).result()


def topic_prefix(request: pytest.FixtureRequest) -> str:
    """``t-<the test's name>``: topic names show which test made them ([a-zA-Z0-9._-], short)."""
    hint = re.sub(r"[^a-zA-Z0-9._-]+", "-", request.node.name).strip("-.")[:80]
    return f"t-{hint or 'test'}"


@pytest.fixture
def kafkaio_topic(kafkaio_bootstrap: str, request: pytest.FixtureRequest) -> Iterator[str]:
    """A new one-partition topic, its leader elected, deleted after the test."""
    from kafkaio.admin import Admin, NewTopic

    name = f"{topic_prefix(request)}-{uuid.uuid4().hex[:10]}"

    async def create() -> None:
        async with Admin(bootstrap_servers=kafkaio_bootstrap, client_id="kafkaio-pytest") as admin:
            await admin.create_topics([NewTopic(name, num_partitions=1, replication_factor=1)],
                                      timeout_ms=TOPIC_CREATE_TIMEOUT_MS, wait_for_leaders=True)

    async def delete() -> None:
        async with Admin(bootstrap_servers=kafkaio_bootstrap, client_id="kafkaio-pytest") as admin:
            await admin.delete_topics([name], timeout_ms=30_000)

    run_in_own_loop(create())
    yield name
    run_in_own_loop(delete())


def pytest_terminal_summary(terminalreporter: Any) -> None:
    for target in _SESSION_TARGETS:
        terminalreporter.write_line(
            f"kafkaio: tests ran against {target.source} Kafka {target.version or '(version unknown)'} "
            f"at {target.bootstrap_servers}"
        )
