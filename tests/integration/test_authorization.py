"""What a client sees when the broker *authorizes*: a broker with StandardAuthorizer and ACLs, a
super user ``admin`` and a user ``bob`` who lacks some rights (issue 27).

Each test gives bob exactly the rights its scenario needs, minus the one it is about, and checks
that the missing right surfaces as the documented typed error at the right call, that nothing that
cannot succeed is retried for ever, and that nothing is committed that should not be.
"""
from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Iterator

import pytest

import kafkaio
from kafkaio.cluster import Cluster
from kafkaio.config import CommonConfig
from kafkaio.errors import GroupAuthorizationError, KafkaError, TopicAuthorizationError
from kafkaio.producer.transactions import TransactionManager
from kafkaio.protocol import ApiKey
from kafkaio.structs import TopicPartition as TP

pytestmark = [pytest.mark.integration, pytest.mark.slow]

ADMIN, ADMIN_PASSWORD = "admin", "admin-secret"
BOB, BOB_PASSWORD = "bob", "bob-secret"
WAIT_S = 60.0   # upper bound for waits on a loaded machine; never asserted as a duration

# Kafka's AclResourceType, AclOperation, AclPermissionType and PatternType codes
TOPIC, GROUP, CLUSTER, TRANSACTIONAL_ID = 2, 3, 4, 5
READ, WRITE, CREATE, DESCRIBE, IDEMPOTENT_WRITE = 3, 4, 5, 8, 12
ALLOW, LITERAL = 3, 3


@pytest.fixture(scope="module")
def acl_cluster() -> Iterator[object]:
    from kafkaio.testing.broker import LocalKafkaCluster

    cluster = LocalKafkaCluster(
        listeners=("SASL_PLAINTEXT",),
        users={ADMIN: ADMIN_PASSWORD, BOB: BOB_PASSWORD},
        broker_properties={
            "authorizer.class.name": "org.apache.kafka.metadata.authorizer.StandardAuthorizer",
            # ANONYMOUS: the nodes' own internal and controller listeners (no SASL there)
            "super.users": f"User:{ADMIN};User:ANONYMOUS",
        },
    )
    cluster.start()
    try:
        yield cluster
    finally:
        cluster.stop()


def _settings(cluster: object, user: str, password: str) -> dict[str, object]:
    return dict(bootstrap_servers=cluster.bootstrap_servers, security_protocol="SASL_PLAINTEXT",  # type: ignore[attr-defined]
                sasl_mechanism="SCRAM-SHA-256", sasl_plain_username=user, sasl_plain_password=password)


def as_bob(cluster: object) -> dict[str, object]:
    return _settings(cluster, BOB, BOB_PASSWORD)


def as_admin(cluster: object) -> dict[str, object]:
    return _settings(cluster, ADMIN, ADMIN_PASSWORD)


def unique(prefix: str = "t") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


async def allow(cluster: object, *rules: tuple[int, str, int]) -> None:
    """Give bob (resource type, name, operation) rights, as admin."""
    client = Cluster(CommonConfig.from_kwargs(**as_admin(cluster)))
    try:
        await client.bootstrap(timeout_ms=30000)
        node = next(iter(client.metadata.brokers))
        resp = await client.request(node, ApiKey.CREATE_ACLS, {"creations": [
            {"resource_type": rtype, "resource_name": name, "resource_pattern_type": LITERAL,
             "principal": f"User:{BOB}", "host": "*", "operation": op, "permission_type": ALLOW}
            for rtype, name, op in rules]})
        assert all(r["error_code"] == 0 for r in resp["results"]), resp
    finally:
        await client.close()
    await asyncio.sleep(1)   # ACLs reach the brokers through the metadata log


async def make_topic(cluster: object, name: str, records: int = 0) -> None:
    async with kafkaio.Admin(**as_admin(cluster)) as admin:
        await admin.create_topics([kafkaio.NewTopic(name, 1, 1)])
    if records:
        async with kafkaio.Producer(**as_admin(cluster)) as p:
            for i in range(records):
                await p.send(name, b"%d" % i, partition=0)


@pytest.fixture(params=[1, 2], ids=["txn-v1", "txn-v2"])
def txn_version(request: pytest.FixtureRequest) -> Iterator[int]:
    saved = TransactionManager.max_transaction_version
    TransactionManager.max_transaction_version = request.param
    try:
        yield request.param
    finally:
        TransactionManager.max_transaction_version = saved


async def test_offsets_of_a_group_without_read_make_the_transaction_abortable(acl_cluster, txn_version) -> None:
    """Issue 27.5: send_offsets_to_transaction for a group bob may not READ raises
    GroupAuthorizationError, and the transaction can then only be aborted: commit_transaction()
    must not commit the records without the offsets (exactly-once would be broken)."""
    source, sink, group, txn_id = unique(), unique(), unique("g"), unique("txn")
    await make_topic(acl_cluster, source, records=10)
    await make_topic(acl_cluster, sink)
    await allow(acl_cluster, (TOPIC, source, READ), (TOPIC, source, DESCRIBE), (TOPIC, sink, WRITE),
                (TOPIC, sink, DESCRIBE), (TRANSACTIONAL_ID, txn_id, WRITE), (TRANSACTIONAL_ID, txn_id, DESCRIBE))
    async with kafkaio.Producer(transactional_id=txn_id, **as_bob(acl_cluster)) as producer:
        producer.begin_transaction()
        await producer.send_and_wait(sink, b"result", partition=0)
        with pytest.raises(GroupAuthorizationError):
            await producer.send_offsets_to_transaction({TP(source, 0): 10}, group)
        with pytest.raises(KafkaError) as info:
            await producer.commit_transaction()
        assert "GroupAuthorization" in repr(info.value) or isinstance(info.value.__cause__, GroupAuthorizationError)
        await producer.abort_transaction()

    async with kafkaio.Consumer(isolation_level="read_committed", auto_offset_reset="earliest",
                                **as_admin(acl_cluster)) as reader:
        reader.assign([TP(sink, 0)])
        end = (await reader.end_offsets([TP(sink, 0)]))[TP(sink, 0)]
        got: list[bytes] = []
        deadline = time.monotonic() + WAIT_S
        while await reader.position(TP(sink, 0)) < end:
            assert time.monotonic() < deadline, "the reader did not reach the end"
            got += [r.value for r in (await reader.getmany(timeout_ms=500)).get(TP(sink, 0), [])]
        assert got == [], "the aborted transaction's record is visible"


async def poll_until_raises(consumer: kafkaio.Consumer, error: type[BaseException]) -> BaseException:
    """getmany() until it raises; the error must be ``error`` (and come within WAIT_S)."""
    deadline = time.monotonic() + WAIT_S
    while True:
        assert time.monotonic() < deadline, f"no {error.__name__} reached the application"
        try:
            await consumer.getmany(timeout_ms=1000)
        except error as exc:
            return exc


async def test_assign_mode_topic_without_describe_raises_topic_authorization(acl_cluster) -> None:
    """Issue 27.1: assign() of a topic bob may not DESCRIBE: TopicAuthorizationError from getmany()
    (and again on the next one), naming the topic; no endless metadata storm behind a silent {}."""
    topic = unique()
    await make_topic(acl_cluster, topic, records=3)
    async with kafkaio.Consumer(auto_offset_reset="earliest", **as_bob(acl_cluster)) as c:
        c.assign([TP(topic, 0)])
        exc = await poll_until_raises(c, TopicAuthorizationError)
        assert topic in str(exc)
        await poll_until_raises(c, TopicAuthorizationError)


async def test_subscribe_mode_topic_without_describe_raises_topic_authorization(acl_cluster) -> None:
    """Issue 27.2: subscribe() to a topic bob may not DESCRIBE (the group is allowed): Java's
    poll() throws TopicAuthorizationException; the topic is not treated as not existing yet."""
    topic, group = unique(), unique("g")
    await make_topic(acl_cluster, topic, records=3)
    await allow(acl_cluster, (GROUP, group, READ))
    async with kafkaio.Consumer(topic, group_id=group, auto_offset_reset="earliest", **as_bob(acl_cluster)) as c:
        exc = await poll_until_raises(c, TopicAuthorizationError)
        assert topic in str(exc)


async def test_subscribe_mode_group_without_read_raises_on_every_poll_and_recovers(acl_cluster) -> None:
    """Issue 27.3: a group bob may not READ: GroupAuthorizationError from getmany() (a pending one
    is woken), on every call, and once READ is granted the consumer joins and reads."""
    topic, group = unique(), unique("g")
    await make_topic(acl_cluster, topic, records=3)
    await allow(acl_cluster, (TOPIC, topic, READ), (TOPIC, topic, DESCRIBE))
    async with kafkaio.Consumer(topic, group_id=group, auto_offset_reset="earliest", **as_bob(acl_cluster)) as c:
        exc = await poll_until_raises(c, GroupAuthorizationError)
        assert group in str(exc)
        await poll_until_raises(c, GroupAuthorizationError)
        await allow(acl_cluster, (GROUP, group, READ))
        got: list[bytes] = []
        denied_after_grant = 0   # a poll may still raise until the grant reaches the coordinator
        deadline = time.monotonic() + WAIT_S
        while len(got) < 3:
            assert time.monotonic() < deadline, "the consumer did not recover once READ was granted"
            try:
                got += [r.value for rs in (await c.getmany(timeout_ms=500)).values() for r in rs]
            except GroupAuthorizationError:
                denied_after_grant += 1
        assert got == [b"0", b"1", b"2"]
        assert denied_after_grant <= 3, "the consumer kept failing after READ was granted"


async def test_assign_mode_group_without_read_raises_group_authorization(acl_cluster) -> None:
    """Issue 27.4: assign() with a group_id bob may not READ: the committed-offset lookup fails
    with GroupAuthorizationError, which reaches getmany() (Java's poll() throws it)."""
    topic, group = unique(), unique("g")
    await make_topic(acl_cluster, topic, records=3)
    await allow(acl_cluster, (TOPIC, topic, READ), (TOPIC, topic, DESCRIBE))
    async with kafkaio.Consumer(group_id=group, auto_offset_reset="earliest", enable_auto_commit=False,
                                **as_bob(acl_cluster)) as c:
        c.assign([TP(topic, 0)])
        exc = await poll_until_raises(c, GroupAuthorizationError)
        assert group in str(exc)
