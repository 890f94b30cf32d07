"""A Produce request that fails to encode is never written: its batches fail with the encode
error as a definite failure (no "outcome unknown"), and the idempotent producer's partition goes on
in order: the sequence the batch took is a certain gap, closed by an epoch bump (as Java's
``TransactionManager.handleFailedBatch`` does for an idempotent producer's failed batch).

The encode failure is induced by patching the connection's encoder (``kafkaio.conn.encode_request``)
for one Produce request: a real broker cannot make our encoder fail, so these run on the fake,
which applies the broker's sequence rules."""
from __future__ import annotations

import errno
from typing import Any, Callable

import pytest

from kafkaio import conn as conn_module
from kafkaio.errors import (FieldEncodeError, KafkaConnectionError, KafkaError, KafkaTimeoutError,
                            UnsupportedVersionError)
from kafkaio.producer.producer import Producer
from kafkaio.producer.sender import Sender
from kafkaio.protocol import ApiKey
from kafkaio.testing.delivery import check_log, outcome
from kafkaio.testing.fake import FakeCluster, FakeRecord

FAST = dict(linger_ms=0, request_timeout_ms=300, delivery_timeout_ms=5000, retry_backoff_ms=10,
            retry_backoff_max_ms=50)


def _fail_next_produce_encode(monkeypatch: pytest.MonkeyPatch, error: Exception) -> list[int]:
    """Make the next Produce request's encoding raise ``error``; returns the count of failures."""
    real: Callable[..., Any] = conn_module.encode_request
    failed: list[int] = []

    def encode(api_key: int, *args: Any) -> Any:
        if api_key == ApiKey.PRODUCE and not failed:
            failed.append(1)
            raise error
        return real(api_key, *args)

    monkeypatch.setattr(conn_module, "encode_request", encode)
    return failed


def _raise_once(monkeypatch: pytest.MonkeyPatch, method: str, error: Exception) -> list[int]:
    """Make the sender's ``method`` raise ``error`` on its next call; returns the count raised."""
    real: Callable[..., Any] = getattr(Sender, method)
    raised: list[int] = []

    def patched(self: Sender, *args: Any) -> Any:
        if not raised:
            raised.append(1)
            raise error
        return real(self, *args)

    monkeypatch.setattr(Sender, method, patched)
    return raised


def _write_from_a_task(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every produce request goes through the sender's request task (``_produce``: transactions,
    pipelined requests, a connection not yet open) instead of being written within its pass."""
    monkeypatch.setattr(Sender, "_start_produce", lambda self, node, batches: False)


async def _a_then_b(monkeypatch: pytest.MonkeyPatch, from_task: bool,
                    install_fault: Callable[[Producer], list[int]], **config: Any
                    ) -> tuple[object, object, list[FakeRecord]]:
    """Send a warm-up, then install a one-shot fault (``install_fault``, given the producer, returns
    its count of firings), send A (which must meet it) and then B, each to its outcome.

    Returns A's and B's outcomes (:func:`outcome`) and the partition's log after the producer closed.
    ``from_task`` makes every request go through the sender's request task; ``config`` overrides
    :data:`FAST`."""
    if from_task:
        _write_from_a_task(monkeypatch)
    async with FakeCluster(topics={"t": 1}) as fake:
        async with Producer(bootstrap_servers=fake.bootstrap_servers, **{**FAST, **config}) as p:
            await p.send_and_wait("t", b"warm-up")
            fired = install_fault(p)
            a = await outcome(p.send_and_wait("t", b"A"))
            assert fired == [1]
            b = await outcome(p.send_and_wait("t", b"B"))
        got = fake.records("t", 0)
    return a, b, got


# The errors are made per test: an exception kept by the parameters would keep, through the
# traceback it gets when raised, the frames and batches of its test for the whole session.
@pytest.mark.parametrize("error, raised, from_task", [
    (lambda: FieldEncodeError("", "the Produce request: induced"), FieldEncodeError, False),
    (lambda: FieldEncodeError("", "the Produce request: induced"), FieldEncodeError, True),
    (lambda: RuntimeError("the request changed while it was encoded"), KafkaError, False),  # a bug
], ids=["unencodable", "unencodable-from-task", "bug"])
async def test_an_unencodable_request_fails_definitely_and_the_sequence_goes_on(
        monkeypatch: pytest.MonkeyPatch, error: Callable[[], Exception], raised: type[KafkaError],
        from_task: bool) -> None:
    a, b, got = await _a_then_b(monkeypatch, from_task,
                                lambda p: _fail_next_produce_encode(monkeypatch, error()))
    assert isinstance(a, raised), a
    assert "outcome unknown" not in str(a)  # never written: the failure is definite
    check_log([r.value for r in got], {b"A": a, b"B": b})
    assert [r.value for r in got] == [b"warm-up", b"B"]
    # A's sequence is a certain gap: the partition goes on under the next epoch, from 0 (KIP-360)
    assert [(r.producer_epoch, r.sequence) for r in got] == [(0, 0), (1, 0)]


async def test_an_unencodable_request_behind_a_batch_in_flight_keeps_the_order(
        monkeypatch: pytest.MonkeyPatch) -> None:
    # Several sends at once: whatever the encode failure hits, every record reported delivered is in
    # the log once, in the order sent, and the failed one is absent.
    async with FakeCluster(topics={"t": 1}) as fake:
        async with Producer(bootstrap_servers=fake.bootstrap_servers, **FAST) as p:
            await p.send_and_wait("t", b"warm-up")
            _fail_next_produce_encode(monkeypatch, FieldEncodeError("", "the Produce request: induced"))
            futures = {v: await p.send("t", v) for v in (b"A", b"B", b"C")}
            outcomes = {v: await outcome(f) for v, f in futures.items()}
            outcomes[b"after"] = await outcome(p.send_and_wait("t", b"after"))
        got = [r.value for r in fake.records("t", 0)]
    check_log(got, outcomes)
    failed = [v for v, o in outcomes.items() if isinstance(o, BaseException)]
    assert len(failed) >= 1 and all("outcome unknown" not in str(outcomes[v]) for v in failed)
    assert got == [b"warm-up"] + [v for v in (b"A", b"B", b"C", b"after") if v not in failed]


async def test_a_batch_never_sent_for_want_of_a_connection_fails_definitely(
        monkeypatch: pytest.MonkeyPatch) -> None:
    # Every attempt of A fails to get a connection to write its request on: A was never sent, so
    # when its delivery timeout passes its failure is definite, not "outcome unknown".
    _write_from_a_task(monkeypatch)
    async with FakeCluster(topics={"t": 1}) as fake:
        async with Producer(bootstrap_servers=fake.bootstrap_servers, **{
                **FAST, "request_timeout_ms": 200, "delivery_timeout_ms": 600}) as p:
            await p.send_and_wait("t", b"warm-up")
            cluster = p._cluster
            real = cluster.connection

            async def no_connection(node: int, purpose: str = "default") -> Any:
                if purpose == "produce":
                    raise KafkaConnectionError("induced: no connection")
                return await real(node, purpose=purpose)

            monkeypatch.setattr(cluster, "connection", no_connection)
            a = await outcome(p.send_and_wait("t", b"A"))
            monkeypatch.setattr(cluster, "connection", real)
            b = await outcome(p.send_and_wait("t", b"B"))
        got = [r.value for r in fake.records("t", 0)]
    assert isinstance(a, KafkaTimeoutError), a
    assert "outcome unknown" not in str(a)
    check_log(got, {b"A": a, b"B": b})
    assert got == [b"warm-up", b"B"]


@pytest.mark.parametrize("from_task", [False, True], ids=["in-pass", "from-task"])
@pytest.mark.parametrize("method, error, written", [
    # a bug while the answer is settled: the request was written, A's outcome is unknown
    ("_handle_response", lambda: RuntimeError("induced bug handling the response"), True),
    # building the request raises (no Produce version both sides speak): nothing was written
    ("_request", lambda: UnsupportedVersionError("induced: no Produce version"), False),
], ids=["bug-settling", "cannot-build"])
async def test_a_request_failing_outside_the_broker_leaves_the_partition_going_on(
        monkeypatch: pytest.MonkeyPatch, from_task: bool, method: str, error: Callable[[], Exception],
        written: bool) -> None:
    # A fails (definitely when nothing was written, else "outcome unknown"), and neither the
    # in-flight slot nor the idempotent partition is left taken: B is delivered, in order.
    a, b, records = await _a_then_b(monkeypatch, from_task,
                                    lambda p: _raise_once(monkeypatch, method, error()))
    got = [r.value for r in records]
    assert isinstance(a, KafkaError) and ("outcome unknown" in str(a)) == written, a
    assert written or isinstance(a, UnsupportedVersionError), a
    check_log(got, {b"A": a, b"B": b})
    assert not isinstance(b, BaseException), b
    assert got[-1] == b"B" and (written or got == [b"warm-up", b"B"])


async def test_a_bug_encoding_from_the_request_task_leaves_the_partition_going_on(
        monkeypatch: pytest.MonkeyPatch) -> None:
    # The encoder's bug (RuntimeError) in the request task cannot be told from a failure after the
    # write: A is "outcome unknown", and the partition still goes on (B delivered, in order).
    a, b, records = await _a_then_b(
        monkeypatch, True, lambda p: _fail_next_produce_encode(monkeypatch, RuntimeError("induced bug")))
    got = [r.value for r in records]
    assert isinstance(a, KafkaError), a
    check_log(got, {b"A": a, b"B": b})
    assert got == [b"warm-up", b"B"]



def _fail_next_produce_write(monkeypatch: pytest.MonkeyPatch, producer: Producer) -> list[int]:
    """Make the next write on ``producer``'s produce connection fail as a broken socket's does;
    returns the count of failures."""
    (conn,) = [c for (_, purpose), c in producer._cluster._conns.items() if purpose == "produce"]
    transport = conn._transport
    assert transport is not None
    real = transport.write
    failed: list[int] = []

    def write(data: Any) -> None:
        if not failed:
            failed.append(1)
            raise OSError(errno.EPIPE, "induced: broken pipe")
        real(data)

    monkeypatch.setattr(transport, "write", write)
    return failed


@pytest.mark.parametrize("from_task", [False, True], ids=["in-pass", "from-task"])
async def test_a_failed_socket_write_may_have_written_the_request_on_either_path(
        monkeypatch: pytest.MonkeyPatch, from_task: bool) -> None:
    # A transport may have taken part of a frame before its write fails, so a failed write settles
    # the request as possibly written, whichever path wrote it: when A then fails for good (its
    # delivery timeout passes before its retry's backoff does), its outcome is unknown.
    a, b, records = await _a_then_b(
        monkeypatch, from_task, lambda p: _fail_next_produce_write(monkeypatch, p),
        request_timeout_ms=200, delivery_timeout_ms=600, retry_backoff_ms=5000, retry_backoff_max_ms=5000)
    got = [r.value for r in records]
    assert isinstance(a, KafkaTimeoutError) and "outcome unknown" in str(a), a
    check_log(got, {b"A": a, b"B": b})
    assert got == [b"warm-up", b"B"]
