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
from typing import Literal

import pytest

import kafkaio
from kafkaio.admin import (
    AccessControlEntry,
    AclBinding,
    AclOperation,
    AclPermissionType,
    PatternType,
    ResourcePattern,
    ResourceType,
)
from kafkaio.errors import GroupAuthorizationError, KafkaError, TopicAuthorizationError
from kafkaio.structs import TopicPartition as TP

pytestmark = [pytest.mark.integration, pytest.mark.slow]

ADMIN, ADMIN_PASSWORD = "admin", "admin-secret"
BOB, BOB_PASSWORD = "bob", "bob-secret"
CAROL, CAROL_PASSWORD = "carol", "carol-secret"   # given no ACL except by the test that uses her
WAIT_S = 60.0   # upper bound for waits on a loaded machine; never asserted as a duration

TOPIC, GROUP, CLUSTER, TRANSACTIONAL_ID = (ResourceType.TOPIC, ResourceType.GROUP, ResourceType.CLUSTER,
                                           ResourceType.TRANSACTIONAL_ID)
READ, WRITE, CREATE, DESCRIBE, IDEMPOTENT_WRITE = (AclOperation.READ, AclOperation.WRITE, AclOperation.CREATE,
                                                   AclOperation.DESCRIBE, AclOperation.IDEMPOTENT_WRITE)


@pytest.fixture(scope="module")
def acl_cluster() -> Iterator[object]:
    from kafkaio.testing.broker import LocalKafkaCluster

    cluster = LocalKafkaCluster(
        listeners=("SASL_PLAINTEXT",),
        users={ADMIN: ADMIN_PASSWORD, BOB: BOB_PASSWORD, CAROL: CAROL_PASSWORD},
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


def as_carol(cluster: object) -> dict[str, object]:
    return _settings(cluster, CAROL, CAROL_PASSWORD)


def unique(prefix: str = "t") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


async def allow(cluster: object, *rules: tuple[ResourceType, str, AclOperation], user: str = BOB) -> None:
    """Give ``user`` (resource type, name, operation) rights, as admin."""
    bindings = [AclBinding(ResourcePattern(rtype, name),
                           AccessControlEntry(f"User:{user}", "*", op, AclPermissionType.ALLOW))
                for rtype, name, op in rules]
    async with kafkaio.Admin(**as_admin(cluster)) as admin:
        assert await admin.create_acls(bindings) == {b: None for b in bindings}
    await asyncio.sleep(1)   # ACLs reach the brokers through the metadata log


async def make_topic(cluster: object, name: str, records: int = 0) -> None:
    async with kafkaio.Admin(**as_admin(cluster)) as admin:
        await admin.create_topics([kafkaio.NewTopic(name, 1, 1)])
    if records:
        async with kafkaio.Producer(**as_admin(cluster)) as p:
            for i in range(records):
                await p.send(name, b"%d" % i, partition=0)


async def read_all(cluster: object, topic: str,
                   isolation_level: Literal["read_uncommitted", "read_committed"] = "read_uncommitted") -> list[bytes]:
    """Every record of partition 0 of ``topic``, read as admin up to the high watermark (read_committed
    also waits for the markers of transactions that ended before the call)."""
    tp = TP(topic, 0)
    async with kafkaio.Consumer(**as_admin(cluster)) as hw:
        end = (await hw.end_offsets([tp]))[tp]  # read_uncommitted: the high watermark
    async with kafkaio.Consumer(auto_offset_reset="earliest", isolation_level=isolation_level,
                                **as_admin(cluster)) as reader:
        reader.assign([tp])
        got: list[bytes] = []
        deadline = time.monotonic() + WAIT_S
        while await reader.position(tp) < end:
            assert time.monotonic() < deadline, f"the reader did not reach the end of {topic}"
            got += [r.value for r in (await reader.getmany(timeout_ms=500)).get(tp, [])]
        return got


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

    assert await read_all(acl_cluster, sink, "read_committed") == [], "the aborted transaction's record is visible"


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


async def test_producer_to_topics_without_write_fails_those_records_at_once(acl_cluster) -> None:
    """A topic bob may DESCRIBE but not WRITE: its records' futures fail with
    TopicAuthorizationError naming the topic, at once (not retried until delivery_timeout_ms, set
    far beyond the wait here); one he may not even DESCRIBE: send() raises it. The records to the
    topic he may write, interleaved with them, are all delivered, in order."""
    allowed, no_write, hidden = unique(), unique(), unique()
    for t in (allowed, no_write, hidden):
        await make_topic(acl_cluster, t)
    await allow(acl_cluster, (TOPIC, allowed, WRITE), (TOPIC, allowed, DESCRIBE), (TOPIC, no_write, DESCRIBE))
    async with kafkaio.Producer(delivery_timeout_ms=600_000, request_timeout_ms=30_000, max_block_ms=30_000,
                                **as_bob(acl_cluster)) as producer:
        ok, denied = [], []
        for i in range(5):
            ok.append(await producer.send(allowed, b"%d" % i, partition=0))
            denied.append(await producer.send(no_write, b"%d" % i, partition=0))
            # a topic bob may not DESCRIBE is refused by send() itself: its metadata says so
            with pytest.raises(TopicAuthorizationError) as hidden_info:
                await producer.send(hidden, b"%d" % i, partition=0)
            assert hidden in str(hidden_info.value), hidden_info.value
        for f in denied:
            with pytest.raises(TopicAuthorizationError) as info:
                await asyncio.wait_for(f, WAIT_S)
            assert no_write in str(info.value), info.value
        assert [(await asyncio.wait_for(f, WAIT_S)).offset for f in ok] == [0, 1, 2, 3, 4]
        # the producer goes on: the denied topics did not break it
        assert (await producer.send_and_wait(allowed, b"after", partition=0)).offset == 5
    assert await read_all(acl_cluster, allowed) == [b"0", b"1", b"2", b"3", b"4", b"after"]


async def test_transactional_id_without_write_fails_start(acl_cluster) -> None:
    """A transactional id bob may not WRITE: start() (InitProducerId) raises
    TransactionalIdAuthorizationError naming the id, with DESCRIBE on it (coordinator found) and
    without (FindCoordinator denied). As in Java 4.4, the first is not fatal (InitProducerId's
    authorization errors let initialization be tried again: the manager is UNINITIALIZED), the
    second is (FindCoordinator's TRANSACTIONAL_ID_AUTHORIZATION_FAILED); start() closes the
    producer either way. Once WRITE is granted, a producer with the id starts and commits."""
    from kafkaio.errors import TransactionalIdAuthorizationError
    from kafkaio.producer.transactions import TransactionState

    topic = unique()
    await make_topic(acl_cluster, topic)
    await allow(acl_cluster, (TOPIC, topic, WRITE), (TOPIC, topic, DESCRIBE))
    described, unknown = unique("txn"), unique("txn")
    await allow(acl_cluster, (TRANSACTIONAL_ID, described, DESCRIBE))
    for txn_id, state in ((described, TransactionState.UNINITIALIZED), (unknown, TransactionState.FATAL_ERROR)):
        producer = kafkaio.Producer(transactional_id=txn_id, **as_bob(acl_cluster))
        try:
            with pytest.raises(TransactionalIdAuthorizationError) as info:
                await asyncio.wait_for(producer.start(), WAIT_S)
            assert txn_id in str(info.value), info.value
            assert producer._txn is not None and producer._txn.state is state, (txn_id, producer._txn)
            with pytest.raises(KafkaError):
                producer.begin_transaction()
        finally:
            await producer.close()
    assert await read_all(acl_cluster, topic) == []
    await allow(acl_cluster, (TRANSACTIONAL_ID, described, WRITE))
    async with kafkaio.Producer(transactional_id=described, **as_bob(acl_cluster)) as producer:
        async with producer.transaction():
            await producer.send(topic, b"granted", partition=0)
    assert await read_all(acl_cluster, topic, "read_committed") == [b"granted"]


async def test_idempotent_producer_needs_only_write_on_a_topic(acl_cluster) -> None:
    """KIP-679 as Kafka 3.0+ (and 4.1.2, checked here) applies it: an idempotent producer's
    InitProducerId is allowed with IDEMPOTENT_WRITE on the cluster *or* WRITE on any topic. carol,
    with WRITE on one topic and no cluster right, produces idempotently; before she has WRITE on
    any topic, the producer id is refused with ClusterAuthorizationError, which fails the record
    instead of retrying it and is fatal, as in Java."""
    from kafkaio.errors import ClusterAuthorizationError

    topic = unique()
    await make_topic(acl_cluster, topic)
    await allow(acl_cluster, (TOPIC, topic, DESCRIBE), user=CAROL)
    async with kafkaio.Producer(enable_idempotence=True, delivery_timeout_ms=600_000,
                                **as_carol(acl_cluster)) as producer:
        with pytest.raises(ClusterAuthorizationError) as info:
            await asyncio.wait_for(producer.send_and_wait(topic, b"no", partition=0), WAIT_S)
        # the message names the rights that would let her in, and the way out without them
        for words in ("IDEMPOTENT_WRITE on the cluster", "WRITE on a topic", "enable_idempotence=False"):
            assert words in str(info.value), info.value
        with pytest.raises(ClusterAuthorizationError):   # fatal: the producer stays failed
            await asyncio.wait_for(producer.send_and_wait(topic, b"again", partition=0), WAIT_S)
    await allow(acl_cluster, (TOPIC, topic, WRITE), user=CAROL)
    async with kafkaio.Producer(enable_idempotence=True, **as_carol(acl_cluster)) as producer:
        assert (await asyncio.wait_for(producer.send_and_wait(topic, b"yes", partition=0), WAIT_S)).offset == 0
    assert await read_all(acl_cluster, topic) == [b"yes"]


async def test_admin_calls_bob_may_not_make_fail_per_item(acl_cluster) -> None:
    """Admin without the rights: create_topics without CREATE fails each topic with
    TopicAuthorizationError naming it (the one he may create is created); ACL calls without
    DESCRIBE/ALTER on the cluster fail with ClusterAuthorizationError; nothing is retried."""
    from kafkaio.admin import AclBindingFilter
    from kafkaio.errors import ClusterAuthorizationError

    mine, other = unique(), unique()
    await allow(acl_cluster, (TOPIC, mine, CREATE))
    async with kafkaio.Admin(**as_bob(acl_cluster)) as admin:
        started = time.monotonic()
        results = await admin.create_topics([kafkaio.NewTopic(mine, 1, 1), kafkaio.NewTopic(other, 1, 1)],
                                            raise_on_error=False)
        assert results[mine] is None
        assert isinstance(results[other], TopicAuthorizationError) and other in str(results[other]), results
        with pytest.raises(TopicAuthorizationError) as info:
            await admin.create_topics([kafkaio.NewTopic(other, 1, 1)])
        assert other in str(info.value) and info.value.results == {other: info.value}  # type: ignore[attr-defined]

        with pytest.raises(ClusterAuthorizationError) as cinfo:
            await admin.describe_acls(AclBindingFilter.ANY)
        assert "ACL" in str(cinfo.value)
        binding = AclBinding(ResourcePattern(TOPIC, other), AccessControlEntry(
            f"User:{BOB}", "*", AclOperation.ALL, AclPermissionType.ALLOW))
        created = await admin.create_acls([binding], raise_on_error=False)
        assert isinstance(created[binding], ClusterAuthorizationError), created
        assert other in str(created[binding])
        deleted = await admin.delete_acls([binding.to_filter()], raise_on_error=False)
        assert isinstance(deleted[binding.to_filter()], ClusterAuthorizationError), deleted
        # all of it answered at once, not retried until default_api_timeout_ms (60 s)
        assert time.monotonic() - started < admin.config.default_api_timeout_ms / 1000
    async with kafkaio.Admin(**as_admin(acl_cluster)) as admin:
        assert mine in await admin.list_topics() and other not in await admin.list_topics()


async def test_acl_round_trip_describe_create_delete(acl_cluster) -> None:
    """create_acls, describe_acls (exact, ANY and MATCH filters), and delete_acls against the
    broker, and what they do: a prefixed WRITE lets bob produce to the topics with that prefix,
    and once deleted he is denied again."""
    from kafkaio.admin import AccessControlEntryFilter, AclBindingFilter, ResourcePatternFilter

    prefix = unique("p") + "-"
    topic = prefix + "orders"
    await make_topic(acl_cluster, topic)
    bob = f"User:{BOB}"
    write = AclBinding(ResourcePattern(TOPIC, prefix, PatternType.PREFIXED),
                       AccessControlEntry(bob, "*", AclOperation.WRITE, AclPermissionType.ALLOW))
    describe = AclBinding(ResourcePattern("topic", topic), AccessControlEntry(bob, "*", "describe", "allow"))
    async with kafkaio.Admin(**as_admin(acl_cluster)) as admin:
        assert await admin.create_acls([write, describe]) == {write: None, describe: None}
        assert await admin.create_acls([write]) == {write: None}   # creating it again is no error
        await asyncio.sleep(1)
        assert await admin.describe_acls(write.to_filter()) == [write]
        mine = AclBindingFilter(ResourcePatternFilter(TOPIC, None, PatternType.ANY),
                                AccessControlEntryFilter(principal=bob))
        assert {write, describe} <= set(await admin.describe_acls(mine))
        applying = await admin.describe_acls(AclBindingFilter(ResourcePatternFilter(TOPIC, topic, PatternType.MATCH)))
        assert set(applying) == {write, describe}

        async with kafkaio.Producer(**as_bob(acl_cluster)) as producer:
            assert (await asyncio.wait_for(producer.send_and_wait(topic, b"ok", partition=0), WAIT_S)).offset == 0

        gone = await admin.delete_acls([write.to_filter(), AclBindingFilter(ResourcePatternFilter(TOPIC, "none"))])
        assert gone == {write.to_filter(): [write], AclBindingFilter(ResourcePatternFilter(TOPIC, "none")): []}
        await asyncio.sleep(1)
        assert await admin.describe_acls(write.to_filter()) == []
        assert await admin.describe_acls(describe.to_filter()) == [describe]

        async with kafkaio.Producer(enable_idempotence=False, **as_bob(acl_cluster)) as producer:
            with pytest.raises(TopicAuthorizationError) as info:
                await asyncio.wait_for(producer.send_and_wait(topic, b"denied", partition=0), WAIT_S)
            assert topic in str(info.value)
    assert await read_all(acl_cluster, topic) == [b"ok"]


async def test_no_password_in_reprs_errors_or_logs_of_the_admin_client(acl_cluster, caplog) -> None:
    """The SASL password is in no repr of the admin client or its config, no ACL call's result, no
    log record (at DEBUG) and not in the AuthenticationError of a wrong password."""
    from kafkaio.errors import AuthenticationError

    binding = AclBinding(ResourcePattern(TOPIC, unique()),
                         AccessControlEntry(f"User:{BOB}", "*", AclOperation.READ, AclPermissionType.ALLOW))
    caplog.set_level("DEBUG", logger="kafkaio")
    admin = kafkaio.Admin(**as_admin(acl_cluster))
    texts = [repr(admin), repr(admin.config), str(admin.config)]
    async with admin:
        texts.append(repr(admin))
        texts.append(repr(await admin.create_acls([binding])))
        texts += [repr(b) + str(b) for b in await admin.describe_acls(binding.to_filter())]
        texts.append(repr(await admin.delete_acls([binding.to_filter()])))
    wrong = "not-" + ADMIN_PASSWORD
    rejected = kafkaio.Admin(**{**as_admin(acl_cluster), "sasl_plain_password": wrong})
    texts += [repr(rejected), repr(rejected.config)]
    with pytest.raises(AuthenticationError) as info:
        await rejected.start()
    texts += [str(info.value), repr(info.value)]
    texts += [r.getMessage() for r in caplog.records]
    assert any("authentication" in r.getMessage().lower() for r in caplog.records), \
        "the failed login was not logged: the log check would prove little"
    for text in texts:
        assert ADMIN_PASSWORD not in text, text


async def test_consumer_of_a_topic_it_may_describe_but_not_read(acl_cluster) -> None:
    """DESCRIBE without READ: the metadata is there, the fetch (and the offset lookup) is refused:
    getmany() raises TopicAuthorizationError naming the topic, on every call, in assign mode and
    in subscribe mode (whose group bob may READ, so it joins and is assigned the partition)."""
    topic, group = unique(), unique("g")
    await make_topic(acl_cluster, topic, records=3)
    await allow(acl_cluster, (TOPIC, topic, DESCRIBE), (GROUP, group, READ))
    async with kafkaio.Consumer(auto_offset_reset="earliest", **as_bob(acl_cluster)) as c:
        c.assign([TP(topic, 0)])
        exc = await poll_until_raises(c, TopicAuthorizationError)
        assert topic in str(exc), exc
        await poll_until_raises(c, TopicAuthorizationError)
    async with kafkaio.Consumer(topic, group_id=group, auto_offset_reset="earliest", **as_bob(acl_cluster)) as c:
        exc = await poll_until_raises(c, TopicAuthorizationError)
        assert topic in str(exc), exc
        await poll_until_raises(c, TopicAuthorizationError)


async def test_transactional_send_to_a_topic_without_write_makes_the_transaction_abortable(
        acl_cluster, txn_version: int) -> None:
    """In a transaction, a record to a topic bob may DESCRIBE but not WRITE fails with
    TopicAuthorizationError naming the topic; commit_transaction() raises (the transaction's other
    record is not committed without it); after abort_transaction() the producer commits the next
    transaction. Under both transaction protocols: v2 has the Produce refused, v1 (Kafka 3.9's) the
    AddPartitionsToTxn before it."""
    allowed, no_write, txn_id = unique(), unique(), unique("txn")
    await make_topic(acl_cluster, allowed)
    await make_topic(acl_cluster, no_write)
    await allow(acl_cluster, (TOPIC, allowed, WRITE), (TOPIC, allowed, DESCRIBE), (TOPIC, no_write, DESCRIBE),
                (TRANSACTIONAL_ID, txn_id, WRITE), (TRANSACTIONAL_ID, txn_id, DESCRIBE))
    async with kafkaio.Producer(transactional_id=txn_id, delivery_timeout_ms=600_000,
                                **as_bob(acl_cluster)) as producer:
        producer.begin_transaction()
        await producer.send_and_wait(allowed, b"aborted", partition=0)
        denied = await producer.send(no_write, b"denied", partition=0)
        with pytest.raises(TopicAuthorizationError) as info:
            await asyncio.wait_for(denied, WAIT_S)
        assert no_write in str(info.value), info.value
        with pytest.raises(KafkaError):
            await producer.commit_transaction()
        await producer.abort_transaction()
        producer.begin_transaction()
        await producer.send_and_wait(allowed, b"committed", partition=0)
        await producer.commit_transaction()

    assert await read_all(acl_cluster, allowed, "read_committed") == [b"committed"]
