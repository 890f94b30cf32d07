"""The fixtures and settings of kafkaio's own test suite, on top of the public plugin.

``tests/conftest.py`` loads it (``pytest_plugins = ["kafkaio.testing.suite"]``); a project that
wants the same can too. It needs pytest-asyncio 1.x in auto mode with a session loop (as in
kafkaio's ``pyproject.toml``), and it chooses the event loop of every async test. The public plugin,
:mod:`kafkaio.testing.fixtures`, which pytest loads on its own, asks for none of this.

Fixtures (besides the public ``kafkaio_broker``, ``kafkaio_bootstrap``, ``kafkaio_topic``):

- ``kafka_cluster`` (session): ``kafkaio_broker`` under the suite's older name.
- ``bootstrap_servers`` (session): its ``"host:port,..."``.
- ``kafka_secure_cluster`` (session): a local cluster with SASL and TLS listeners (see its docstring).
- ``kafka_admin`` (session): a started Admin on the session's cluster.
- ``topic``: a new, uniquely named topic with one partition, deleted after the test.
- ``topic_factory``: ``await topic_factory(partitions=3, replication_factor=1, configs={...})``
  makes more topics like that.
- ``proxied_broker``, ``fault_proxy``, ``proxied_bootstrap``: a module's own broker behind a
  FaultProxy.
- ``broker_capabilities`` (session): what the session's broker advertises
  (:class:`~kafkaio.testing.capabilities.BrokerCapabilities`); a test that needs a newer release's
  feature calls ``broker_capabilities.require(CONSUMER_PROTOCOL)`` and is skipped on older ones.
- ``txn_version``: runs a test twice, with the producer capped at the classic transaction protocol
  (1) and allowed transaction v2 (KIP-890, used when the broker has finalized
  ``transaction.version`` 2; on an older broker both runs are v1).

Event loop: ``--loop uvloop`` or ``KAFKAIO_LOOP=uvloop`` runs the async tests on uvloop.
"""
from __future__ import annotations

import asyncio
import contextlib
import os
import uuid
from collections.abc import AsyncIterator, Callable, Iterator, Mapping
from typing import TYPE_CHECKING, Any

import pytest
import pytest_asyncio
from pytest_asyncio import plugin as _pytest_asyncio_plugin

from kafkaio.testing.broker import BrokerLauncherError, LocalKafkaCluster, kafka_version
from kafkaio.testing.capabilities import BrokerCapabilities, read_capabilities
from kafkaio.testing.fixtures import TOPIC_CREATE_TIMEOUT_MS, KafkaTarget, topic_prefix

if TYPE_CHECKING:
    from kafkaio.admin import Admin

pytest_plugins = ["kafkaio.testing.fixtures"]

__all__ = ["TopicFactory", "loop_name"]


@pytest.fixture(scope="session")
def kafka_cluster(kafkaio_broker: KafkaTarget) -> KafkaTarget:
    """The session's Kafka cluster: the public plugin's ``kafkaio_broker``."""
    return kafkaio_broker


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


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def broker_capabilities(bootstrap_servers: str) -> BrokerCapabilities:
    """What the session's broker advertises: API versions and feature levels."""
    return await read_capabilities(bootstrap_servers)


# --------------------------------------------------------------------------- topics


class TopicFactory:
    """Creates uniquely named topics through kafkaio's Admin and deletes them afterwards."""

    def __init__(self, admin: Admin, prefix: str) -> None:
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
    factory = TopicFactory(kafka_admin, topic_prefix(request))
    try:
        yield factory
    finally:
        await factory.delete_all()


@pytest_asyncio.fixture(loop_scope="session")
async def topic(topic_factory: TopicFactory) -> str:
    """A fresh one-partition topic for this test."""
    return await topic_factory()


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


@pytest.fixture(params=[1, 2], ids=["txn-v1", "txn-v2"])
def txn_version(request: pytest.FixtureRequest) -> Iterator[int]:
    from kafkaio.producer.transactions import TransactionManager

    saved = TransactionManager.max_transaction_version
    TransactionManager.max_transaction_version = request.param
    try:
        yield request.param
    finally:
        TransactionManager.max_transaction_version = saved


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "proxied_broker(**options): LocalKafkaCluster options for the module's proxied_broker")


# --------------------------------------------------------------------------- event loop


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

            policy: asyncio.AbstractEventLoopPolicy = uvloop.EventLoopPolicy()
            return policy
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
