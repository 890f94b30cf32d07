"""A Kafka 4.4 broker whose storage was formatted with share groups off (``share.version=0``):
a share consumer fails to start with an UnsupportedVersionError naming the feature to enable."""
from __future__ import annotations

from collections.abc import Iterator

import pytest

from kafkaio import ShareConsumer
from kafkaio.errors import UnsupportedVersionError
from kafkaio.testing.broker import LocalKafkaCluster
from kafkaio.testing.tasks import client_tasks

from share_helpers import running_cluster

pytestmark = [pytest.mark.integration, pytest.mark.asyncio(loop_scope="session")]


@pytest.fixture(scope="module")
def no_share_cluster() -> Iterator[LocalKafkaCluster]:
    with running_cluster(features={"share.version": 0}) as cluster:
        yield cluster


async def test_start_names_the_share_version_feature(no_share_cluster: LocalKafkaCluster) -> None:
    before = set(client_tasks())  # other tests' session-wide clients share the loop
    consumer = ShareConsumer("jobs", bootstrap_servers=no_share_cluster.bootstrap_servers, group_id="g")
    with pytest.raises(UnsupportedVersionError, match=r"share\.version") as info:
        await consumer.start()
    assert "upgrade --feature share.version=1" in str(info.value)
    assert consumer.closed and set(client_tasks()) <= before
