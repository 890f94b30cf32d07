"""Pytest fixtures for code that talks to Kafka: a session broker and a fresh topic per test.

Load them from a ``conftest.py``::

    pytest_plugins = ["kafkaio.testing.fixtures"]

Fixtures:

- ``kafka_cluster`` (session): a :class:`KafkaTarget`. Where the broker comes from, in order:
  ``KAFKAIO_BOOTSTRAP=host:port`` (an existing cluster) > a Docker engine through testcontainers
  (when one answers) > a local broker started from Maven-fetched jars
  (:mod:`kafkaio.testing.broker`). Nothing starts until a test asks for it.
- ``bootstrap_servers`` (session): its ``"host:port,..."``.
- ``kafka_secure_cluster`` (session): a local cluster with SASL and TLS listeners (see its docstring).
- ``topic``: a new, uniquely named topic with one partition, deleted after the test.
- ``topic_factory``: ``await topic_factory(partitions=3, replication_factor=1, configs={...})``
  makes more topics like that.

Event loop: ``--loop uvloop`` or ``KAFKAIO_LOOP=uvloop`` runs the async tests on uvloop.
"""
from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import os
import re
import struct
import time
import uuid
from collections.abc import AsyncIterator, Callable, Iterator, Mapping
from typing import Any

import pytest
import pytest_asyncio
from pytest_asyncio import plugin as _pytest_asyncio_plugin

from kafkaio.testing.broker import BrokerLauncherError, LocalKafkaCluster, kafka_version

__all__ = ["KafkaTarget", "TopicFactory", "loop_name", "start_kafka_target"]

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
        import docker  # type: ignore[import-untyped]

        docker.from_env(timeout=3).ping()
    except Exception:  # no client library, no engine, no permission: use the local broker
        return None
    from testcontainers.core.container import DockerContainer  # type: ignore[import-untyped]
    from testcontainers.core.waiting_utils import wait_for_logs  # type: ignore[import-untyped]

    from kafkaio.testing.broker import _free_ports, _probe_metadata

    (port,) = _free_ports(1)
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
                if _probe_metadata("127.0.0.1", port):
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
def kafka_cluster() -> Iterator[KafkaTarget]:
    """The session's Kafka cluster (started on first use, stopped at the end if we started it)."""
    try:
        target = start_kafka_target()
    except BrokerLauncherError as exc:
        pytest.fail(f"no Kafka broker for the integration tests: {exc}", pytrace=False)
    _SESSION_TARGETS.append(target)
    try:
        yield target
    finally:
        target.stop()


@pytest.fixture(scope="session")
def kafka_secure_cluster() -> Iterator[LocalKafkaCluster]:
    """A local one-node cluster with PLAINTEXT, SASL_PLAINTEXT, SSL and SASL_SSL listeners.

    Always local (KAFKAIO_BOOTSTRAP does not apply): ``bootstrap_for(listener)``, ``ca_file``,
    ``certs`` (client certificate too) and ``users`` (name -> password, for PLAIN and both SCRAM
    mechanisms; OAUTHBEARER takes any unsigned JWT). Started on first use, shared by the session.
    """
    cluster = LocalKafkaCluster(brokers=1, listeners=("PLAINTEXT", "SASL_PLAINTEXT", "SSL", "SASL_SSL"))
    try:
        cluster.start()
    except BrokerLauncherError as exc:
        pytest.fail(f"cannot start the secured local broker: {exc}", pytrace=False)
    try:
        yield cluster
    finally:
        cluster.stop()


@pytest.fixture(scope="session")
def bootstrap_servers(kafka_cluster: KafkaTarget) -> str:
    """``host:port,...`` of the session's cluster."""
    return kafka_cluster.bootstrap_servers


# --------------------------------------------------------------------------- topics


class TopicFactory:
    """Creates uniquely named topics through kafkaio's Admin and deletes them afterwards."""

    def __init__(self, admin: Any, prefix: str) -> None:
        self._admin = admin
        self._prefix = prefix
        self.created: list[str] = []

    async def __call__(
        self,
        partitions: int = 1,
        replication_factor: int = 1,
        configs: Mapping[str, str] | None = None,
        *,
        name: str | None = None,
    ) -> str:
        """Create a topic and wait until every partition has a leader; return its name."""
        from kafkaio.admin import NewTopic

        topic = name or f"{self._prefix}-{uuid.uuid4().hex[:10]}"
        new = NewTopic(
            topic,
            num_partitions=partitions,
            replication_factor=replication_factor,
            configs={k: str(v) for k, v in (configs or {}).items()},
        )
        await self._admin.create_topics([new], timeout_ms=TOPIC_CREATE_TIMEOUT_MS, wait_for_leaders=True)
        self.created.append(topic)
        return topic

    async def delete_all(self) -> None:
        if self.created:
            with contextlib.suppress(Exception):  # best effort: a dead broker must not fail teardown
                await self._admin.delete_topics(self.created, timeout_ms=10_000, raise_on_error=False)
            self.created.clear()


def _topic_prefix(request: pytest.FixtureRequest) -> str:
    # Kafka topic names: [a-zA-Z0-9._-], at most 249 chars; keep a readable hint of the test.
    hint = re.sub(r"[^a-zA-Z0-9._-]+", "-", request.node.name).strip("-.")[:80]
    return f"t-{hint or 'test'}"


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def kafka_admin(bootstrap_servers: str) -> AsyncIterator[Any]:
    """One kafkaio Admin for the whole session (topic fixtures use it)."""
    from kafkaio.admin import Admin

    admin = Admin(bootstrap_servers=bootstrap_servers, client_id="kafkaio-tests")
    await admin.start()
    try:
        yield admin
    finally:
        await admin.close()


@pytest_asyncio.fixture(loop_scope="session")
async def topic_factory(kafka_admin: Any, request: pytest.FixtureRequest) -> AsyncIterator[TopicFactory]:
    """``await topic_factory(partitions=..., replication_factor=..., configs=...)`` -> topic name."""
    factory = TopicFactory(kafka_admin, _topic_prefix(request))
    try:
        yield factory
    finally:
        await factory.delete_all()


@pytest_asyncio.fixture(loop_scope="session")
async def topic(topic_factory: TopicFactory) -> str:
    """A fresh one-partition topic for this test."""
    return await topic_factory()


# --------------------------------------------------------------------------- event loop


# --------------------------------------------------------------------------- fault injection


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def proxied_broker(request: pytest.FixtureRequest) -> AsyncIterator[tuple[LocalKafkaCluster, Any]]:
    """A local broker of the module's own behind a :class:`~kafkaio.testing.proxy.FaultProxy`:
    ``(cluster, proxy)``; the broker advertises the proxy, so every connection goes through it.

    Shared by the tests of one module. Options for the cluster come from the module's marker, e.g.
    ``pytestmark = pytest.mark.proxied_broker(auto_create_topics=False)``.
    """
    from kafkaio.testing.proxy import proxied_cluster

    marker = request.node.get_closest_marker("proxied_broker")
    options = dict(marker.kwargs) if marker is not None else {}
    async with proxied_cluster(1, **options) as (cluster, proxies):
        yield cluster, proxies[0]


@pytest_asyncio.fixture(loop_scope="session")
async def fault_proxy(proxied_broker: tuple[LocalKafkaCluster, Any]) -> AsyncIterator[Any]:
    """The proxy of ``proxied_broker``, with no fault set before and after the test."""
    proxy = proxied_broker[1]
    proxy.reset()
    yield proxy
    proxy.reset()


@pytest.fixture
def proxied_bootstrap(proxied_broker: tuple[LocalKafkaCluster, Any]) -> str:
    """``bootstrap_servers`` of ``proxied_broker`` (the proxy's address)."""
    return proxied_broker[0].bootstrap_servers


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "proxied_broker(**options): LocalKafkaCluster options for the module's proxied_broker")


def loop_name(config: pytest.Config | None = None) -> str:
    """``"uvloop"`` or ``"asyncio"``: the loop the async tests run on."""
    chosen = None
    if config is not None:
        chosen = config.getoption("kafkaio_loop", None)
    chosen = (chosen or os.environ.get("KAFKAIO_LOOP") or "asyncio").lower()
    if chosen not in ("asyncio", "uvloop"):
        raise pytest.UsageError(f"--loop / KAFKAIO_LOOP must be 'asyncio' or 'uvloop', not {chosen!r}")
    return chosen


def _loop_factory(name: str) -> Callable[[], asyncio.AbstractEventLoop]:
    if name == "uvloop":
        try:
            import uvloop
        except ImportError as exc:
            raise pytest.UsageError("KAFKAIO_LOOP=uvloop needs uvloop: pip install uvloop") from exc
        return uvloop.new_event_loop
    return asyncio.new_event_loop


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--loop",
        dest="kafkaio_loop",
        choices=("asyncio", "uvloop"),
        default=None,
        help="event loop for async tests (default: $KAFKAIO_LOOP or asyncio)",
    )


@pytest.hookimpl(optionalhook=True)
def pytest_asyncio_loop_factories(config: pytest.Config, item: pytest.Item) -> Mapping[str, Callable[[], asyncio.AbstractEventLoop]]:
    """pytest-asyncio >= 1.4: every async test and fixture runs on the chosen loop."""
    name = loop_name(config)
    return {name: _loop_factory(name)}


def _event_loop_policy_fixture() -> Any:
    # Older pytest-asyncio (< 1.4) only knows the ``event_loop_policy`` fixture.
    @pytest.fixture(scope="session")
    def event_loop_policy(request: pytest.FixtureRequest) -> asyncio.AbstractEventLoopPolicy:
        if loop_name(request.config) == "uvloop":
            import uvloop

            return uvloop.EventLoopPolicy()
        return asyncio.DefaultEventLoopPolicy()

    return event_loop_policy


if not hasattr(_pytest_asyncio_plugin, "PytestAsyncioSpecs"):
    event_loop_policy = _event_loop_policy_fixture()


def pytest_report_header(config: pytest.Config) -> list[str]:
    from kafkaio import speedups_enabled

    external = os.environ.get("KAFKAIO_BOOTSTRAP", "").strip()
    if external:
        broker = f"KAFKAIO_BOOTSTRAP={external}"
    else:
        try:
            broker = f"local Kafka {kafka_version()} (started on first use; Docker if an engine answers)"
        except BrokerLauncherError as exc:
            broker = f"unavailable: {exc}"
    return [
        f"kafkaio: loop={loop_name(config)} speedups={'on' if speedups_enabled() else 'off'}",
        f"kafkaio: broker={broker}",
    ]


def pytest_terminal_summary(terminalreporter: Any) -> None:
    for target in _SESSION_TARGETS:
        terminalreporter.write_line(
            f"kafkaio: tests ran against {target.source} Kafka {target.version or '(version unknown)'} "
            f"at {target.bootstrap_servers}"
        )
