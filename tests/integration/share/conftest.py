"""A Kafka 4.4 broker of the share tests' own, with share groups on and short timeouts.

Kafka 4.4 finalizes ``share.version`` (2: RENEW acknowledgements) in clusters it formats, so the
broker needs no feature flag; the fixture shortens the acquisition lock, the heartbeat interval and
the session timeout (their broker-side minimums too) so that redelivery tests run in seconds."""
from __future__ import annotations

import itertools
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from typing import Any

import pytest
import pytest_asyncio

from kafkaio.admin import Admin, ConfigResource, ConfigResourceType, NewTopic
from kafkaio.testing.broker import LocalKafkaCluster

from share_helpers import SHARE_BROKER_PROPERTIES, running_cluster



@pytest.fixture(scope="session")
def share_cluster() -> Iterator[LocalKafkaCluster]:
    """One Kafka 4.4.0 node with share groups enabled (the release's default) and short timeouts."""
    with running_cluster(broker_properties=SHARE_BROKER_PROPERTIES) as cluster:
        yield cluster


@pytest.fixture(scope="session")
def share_bootstrap(share_cluster: LocalKafkaCluster) -> str:
    return share_cluster.bootstrap_servers


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def share_admin(share_bootstrap: str) -> AsyncIterator[Admin]:
    admin = Admin(bootstrap_servers=share_bootstrap, client_id="kafkaio-share-tests")
    await admin.start()
    try:
        yield admin
    finally:
        await admin.close()


_counter = itertools.count()


@pytest_asyncio.fixture(loop_scope="session")
async def share_topic(share_admin: Admin) -> str:
    """A fresh 2-partition topic."""
    name = f"share-{next(_counter)}-{uuid.uuid4().hex[:8]}"
    await share_admin.create_topics([NewTopic(name, 2, 1)], timeout_ms=60000, wait_for_leaders=True)
    return name


ShareGroupFactory = Callable[..., Awaitable[str]]


@pytest_asyncio.fixture(loop_scope="session")
async def share_group(share_admin: Admin) -> ShareGroupFactory:
    """``await share_group(**group_configs)`` -> a fresh share group id reading from the earliest
    offset (``share.auto.offset.reset=earliest``), with the given group configs set too."""
    async def make(**configs: Any) -> str:
        group = f"share-group-{uuid.uuid4().hex[:10]}"
        settings = {"share.auto.offset.reset": "earliest", **{k.replace("_", "."): str(v) for k, v in configs.items()}}
        await share_admin.incremental_alter_configs({ConfigResource(ConfigResourceType.GROUP, group): settings})
        return group

    return make
