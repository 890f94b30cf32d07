"""The public producer: ``send()`` -> serialize -> partition -> accumulator; a sender delivers.

::

    async with kafkaio.Producer(bootstrap_servers="localhost:9092", linger_ms=5) as producer:
        fut = await producer.send("orders", b"...", key=b"order-1")   # waits only for buffer space
        md = await fut                                                # RecordMetadata or typed error

Semantics follow the Java client parameter by parameter; see docs/producer.md.
"""
from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import time
import uuid
import warnings
from typing import Any, Callable, Iterable, Iterator, Mapping, Sequence, Unpack, cast

from kafkaio._logthrottle import Throttled
from kafkaio._loops import wrong_loop
from kafkaio.cluster import Cluster
from kafkaio.config import ProducerConfig
from kafkaio.settings import ProducerSettings
from kafkaio.errors import (
    ConfigError,
    IllegalArgumentError,
    IllegalStateError,
    KafkaError,
    KafkaTimeoutError,
    ProducerClosedError,
    RecordTooLargeError,
    SerializationError,
)
from kafkaio.health import Health, ProducerState
from kafkaio.lifecycle import ClientState, Lifecycle
from kafkaio.metrics import ProducerMetrics
from kafkaio.metrics.clients import producer_metrics, producer_reader
from kafkaio.producer.accumulator import (
    RECORD_SIZE_BOUND_OVERHEAD,
    AppendResult,
    ProducerBatch,
    RecordAccumulator,
    record_size_upper_bound,
)
from kafkaio.producer.future import (
    ManyFuture,
    PartitionAppender,
    RecordFuture,
    RecordMetadata,
    Run,
    batch_position,
    now_ms,
)
from kafkaio.producer.idempotence import IdempotenceState
from kafkaio.producer.sender import Sender, SenderWakeup
from kafkaio.producer.transactions import TransactionalProducerMixin, TransactionManager, TransactionState
from kafkaio.telemetry import TelemetryReporter, telemetry_instance_id
from kafkaio.telemetry.collect import resource_attributes
from kafkaio.waiting import within

__all__ = ["Producer", "RecordMetadata", "RecordFuture"]

log = logging.getLogger("kafkaio.producer")
_STARTED = ClientState.STARTED

Headers = Sequence[tuple[str, bytes | None]] | Mapping[str, bytes | None] | None


def _header_list(headers: Any) -> Sequence[tuple[str, bytes | None]]:
    """Headers as the record codec takes them: ``(str, bytes | None)`` pairs, from a sequence of
    pairs or a mapping; anything else is refused with the reason."""
    if headers.__class__ is list or headers.__class__ is tuple:
        # the usual form, taken as it is: checked without the ABC checks and the copy below
        for pair in headers:
            if (pair.__class__ is not tuple or len(pair) != 2 or pair[0].__class__ is not str
                    or (pair[1] is not None and pair[1].__class__ is not bytes)):
                break
        else:
            return cast("Sequence[tuple[str, bytes | None]]", headers)
    items = headers.items() if isinstance(headers, Mapping) else headers
    out: list[tuple[str, bytes | None]] = []
    try:
        pairs = list(items)
    except TypeError:
        raise SerializationError(f"headers must be a list of (str, bytes) pairs or a mapping, "
                                 f"not {type(headers).__name__}") from None
    for pair in pairs:
        if not isinstance(pair, tuple | list) or len(pair) != 2:
            raise SerializationError(f"headers: each header must be a (str, bytes) pair, got {pair!r:.60}")
        name, value = pair
        if not isinstance(name, str):
            raise SerializationError(f"headers: a header name must be str, not {type(name).__name__}")
        if value is not None and not isinstance(value, bytes | bytearray | memoryview):
            if isinstance(value, str):
                value = value.encode()
            else:
                raise SerializationError(f"headers: the value of {name!r} must be bytes, str or None, "
                                         f"not {type(value).__name__}")
        out.append((name, value))
    return out


def _uncommon_items(appender: PartitionAppender, topic: str, items: Iterator[Any], partition: int | None, n: int,
                    timestamp: int, runs: list[Run]) -> Iterator[Any]:
    """The items of a ``send_many`` call that the appender's loop leaves to the general path, one
    by one: each is handed out after the records before it were appended."""
    try:
        while (left := appender.append_many(topic, items, partition, n, timestamp, runs)) is not None:
            yield left[0]
    except UnicodeEncodeError as exc:  # as send()'s: the builder refused a header name
        raise _invalid_record(topic, exc) from None


DeliveryCallback = Callable[[RecordMetadata | None, BaseException | None], Any]

_COMPRESSION = {"none": 0, "gzip": 1, "snappy": 2, "lz4": 3, "zstd": 4}


def _to_bytes(obj: Any, what: str) -> bytes:
    """Keys and values are bytes; str is encoded as UTF-8; anything else needs a serializer."""
    if isinstance(obj, (bytes, bytearray, memoryview)):
        return bytes(obj)
    if isinstance(obj, str):
        return obj.encode("utf-8")
    raise SerializationError(
        f"{what} must be bytes (or str), not {type(obj).__name__}; set {what}_serializer to convert it")


def _invalid_record(topic: str, exc: TypeError | ValueError) -> SerializationError:
    """The caller's record cannot be written (the builder refused a field of it)."""
    if isinstance(exc, UnicodeEncodeError):  # a header name with a lone surrogate (os.fsdecode)
        return SerializationError(f"invalid record for {topic}: a header name cannot be encoded as UTF-8: {exc}")
    return SerializationError(f"invalid record for {topic}: {exc}")


_MAX_TIMESTAMP = (1 << 63) - 1


def _checked_timestamp(timestamp_ms: Any) -> int:
    """A create time the caller gave: an int of milliseconds from 0 to 2**63-1 (Java's
    ProducerRecord refuses a negative one too)."""
    if isinstance(timestamp_ms, int) and not isinstance(timestamp_ms, bool) and 0 <= timestamp_ms <= _MAX_TIMESTAMP:
        return int(timestamp_ms)  # an int subclass (an IntEnum...) is written as its value
    raise IllegalArgumentError(f"timestamp_ms must be an int of milliseconds from 0 to 2**63-1, got {timestamp_ms!r}")


class Producer(TransactionalProducerMixin):
    """An asyncio Kafka producer (idempotent by default, as in the Java client since 3.0).

    Accepts every :class:`kafkaio.config.ProducerConfig` setting as a keyword argument (Java's names
    with ``.`` -> ``_``), plus ``on_delivery``: an optional ``callback(metadata, exception)`` called
    once per record when its delivery is decided.
    """

    def __init__(self, bootstrap_servers: str | Sequence[str] = "localhost:9092", *,
                 on_delivery: DeliveryCallback | None = None, config: ProducerConfig | None = None,
                 **settings: Unpack[ProducerSettings]) -> None:
        if config is None:
            config = ProducerConfig.from_kwargs(bootstrap_servers=bootstrap_servers, **settings)
        elif settings:
            raise ConfigError(f"config=ProducerConfig(...) and settings {sorted(settings)} given "
                              "together: put the settings in the ProducerConfig")
        elif not isinstance(config, ProducerConfig):
            raise ConfigError(f"config: expected a ProducerConfig, got {type(config).__name__}")
        if on_delivery is not None and not callable(on_delivery):
            raise ConfigError(f"on_delivery: expected a callable(metadata, exception) or None, got {type(on_delivery).__name__}")
        self.config: ProducerConfig = config
        self._on_delivery = on_delivery
        self._callback_failed = Throttled(log)
        self._key_serializer = config.key_serializer
        self._value_serializer = config.value_serializer
        self._custom_partitioner = config.partitioner
        self._ignore_keys = config.partitioner_ignore_keys
        self._max_request_size = config.max_request_size
        self._buffer_memory = config.buffer_memory
        self._max_block_ms = config.max_block_ms
        self._max_record_size = min(config.max_request_size, config.buffer_memory)
        # made here so that the accumulator's append path holds it from the start; connected by start()
        self._cluster = Cluster(config)
        self._metadata = self._cluster.metadata_cell  # its current metadata, read per record
        self._sender: Sender | None = None
        self._metrics = producer_reader()
        self._keys_decide = config.partitioner is None and not config.partitioner_ignore_keys
        self._availability_timeout_ms = config.partitioner_availability_timeout_ms \
            if config.partitioner_adaptive_partitioning_enable else 0
        self._life = Lifecycle("producer", ProducerClosedError)
        self._loop: asyncio.AbstractEventLoop | None = None  # the loop it was started on
        # set by a close() that gives up waiting for another close() in progress: that one fails
        # what is left, as a close with no time left does
        self._force_close = asyncio.Event()
        self._txn: TransactionManager | None = None  # with a transactional_id
        self._idem: IdempotenceState | None = None  # with idempotence
        self._telemetry: TelemetryReporter | None = None  # with enable_metrics_push, once started
        self._idle_task: asyncio.Task[None] | None = None  # metadata_max_idle_ms, once started
        from kafkaio.records import BatchBuilder

        codec = _COMPRESSION[config.compression_type]
        level = config.compression_level
        batch_size = max(config.batch_size, 1)
        transactional = config.transactional_id is not None

        # a partial, not a function: no Python frame per new batch (one per send_and_wait with
        # linger_ms=0)
        new_builder = functools.partial(BatchBuilder, codec, batch_size, level, transactional)
        self._accumulator: RecordAccumulator = RecordAccumulator(
            batch_size=batch_size,
            linger_ms=config.linger_ms,
            buffer_memory=config.buffer_memory,
            max_block_ms=config.max_block_ms,
            delivery_timeout_ms=config.delivery_timeout_ms,
            max_request_size=config.max_request_size,
            builder_factory=new_builder,
            cluster=self._cluster,
            keys_decide=self._keys_decide,
            available=self._sticky_candidates,
            adaptive=config.partitioner_adaptive_partitioning_enable,
        )
        # send()'s one append path; its common case is one compiled call once started (see
        # _enable_send_path)
        self._appender = self._accumulator.appender

    @classmethod
    def from_config(cls, config: Mapping[str, Any], **overrides: Any) -> Producer:
        """A producer from Java-style dotted keys: ``{"bootstrap.servers": ..., "linger.ms": 5}``."""
        on_delivery = overrides.pop("on_delivery", None)
        cfg = ProducerConfig.from_dotted(config, **overrides)
        return cls(on_delivery=on_delivery, config=cfg)

    # -- lifecycle ----------------------------------------------------------------------------
    async def start(self) -> None:
        """Connect to the cluster and start the background sender (idempotent: once only; a start()
        during another waits for it). Raises :class:`ProducerClosedError` once close() began."""
        if not await self._life.begin_start():
            return
        try:
            await self._start()
        except BaseException:
            self._life.start_failed()
            raise
        self._life.started()
        self._enable_send_path()
        if self._txn is not None:
            try:
                await self._txn.initialize()  # InitProducerId: fences older producers with this id
            except BaseException:
                await self.close(0)
                raise

    async def _start(self) -> None:
        from kafkaio.records import rewrite_producer_state

        cfg = self.config
        self._loop = asyncio.get_running_loop()
        cluster = self._cluster
        transactional = cfg.transactional_id is not None
        acc = self._accumulator
        idem = IdempotenceState(transactional=transactional) if cfg.idempotence_enabled else None
        wakeup = SenderWakeup()
        txn = None
        if cfg.transactional_id is not None:
            txn = TransactionManager(
                cfg.transactional_id, cfg.transaction_timeout_ms, cluster=cluster, accumulator=acc,
                idempotence=idem, wakeup=wakeup.set, request_timeout_ms=cfg.request_timeout_ms,
                retry_backoff_ms=cfg.retry_backoff_ms, max_block_ms=cfg.max_block_ms)
        sender = Sender(
            cluster, acc,
            acks=cfg.acks,
            retries=cfg.retries,
            request_timeout_ms=cfg.request_timeout_ms,
            retry_backoff_ms=cfg.retry_backoff_ms,
            retry_backoff_max_ms=cfg.retry_backoff_max_ms,
            max_in_flight=cfg.max_in_flight_requests_per_connection,
            idempotence=idem,
            transactional_id=cfg.transactional_id,
            transaction_timeout_ms=cfg.transaction_timeout_ms,
            rewrite_producer_state=rewrite_producer_state,
            transactions=txn,
            wakeup=wakeup,
        )
        telemetry = None
        if cfg.enable_metrics_push:
            telemetry = TelemetryReporter(
                cluster, "producer", self.metrics, resource_attributes("producer", transactional_id=cfg.transactional_id),
                cfg.request_timeout_ms)
        # The one await: a failed bootstrap leaves no connection and no task (each attempt closes
        # its own connection; the refresh starts only once it succeeded), so a later start() can
        # bootstrap the same cluster again.
        await cluster.bootstrap(timeout_ms=cfg.max_block_ms)
        self._idem, self._txn, self._sender, self._telemetry = idem, txn, sender, telemetry
        self._topic_seen_ms: dict[str, float] = {}
        sender.start()
        self._idle_task = self._loop.create_task(self._forget_idle_topics(cluster),
                                                 name="kafkaio-producer-idle-topics")
        if telemetry is not None:
            telemetry.start()

    async def __aenter__(self) -> Producer:
        await self.start()
        return self

    async def __aexit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        await self.close()

    async def stop(self) -> None:
        """Deliver everything buffered, then close (aiokafka's name for ``close()``)."""
        await self.close()

    async def close(self, timeout: float | None = None) -> None:
        """Deliver what can be delivered within ``timeout`` seconds (None: no limit), then close.

        Records still undelivered when the time is up fail with :class:`ProducerClosedError` (never
        left pending, never dropped silently). ``close(0)`` fails everything buffered at once. A
        close() while another is in progress returns when the producer is closed; if that takes
        longer than its own ``timeout``, it fails what is left then, as Java's does. A cancelled
        close() fails what is left at once; the close still ends every task of the producer.
        """
        if self._life.state is _STARTED and asyncio.get_running_loop() is not self._loop:
            raise self._wrong_loop()
        await self._life.close(lambda: self._close(timeout), timeout=timeout, force=self._force_close.set)

    async def _close(self, timeout: float | None) -> None:
        deadline = None if timeout is None else time.monotonic() + timeout
        txn = self._txn
        if txn is not None and timeout != 0 and txn.state in (
                TransactionState.IN_TRANSACTION, TransactionState.ABORTABLE_ERROR):
            try:  # as the Java client: a graceful close aborts the open transaction
                await within(txn.abort(), timeout)
            except Exception as exc:  # noqa: BLE001 - closing goes on; the broker times it out
                log.warning("aborting the open transaction on close failed: %r", exc)
        self._appender.enabled = False
        acc, sender = self._accumulator, self._sender
        assert acc is not None and sender is not None
        acc.closing = True
        acc.fail_memory_waiters()
        sender.wakeup()
        forced = False
        pending = acc.incomplete_futures()
        if pending:
            try:
                forced = (timeout is not None and timeout <= 0) or not await self._delivered_or_forced(pending, timeout)
            except asyncio.CancelledError:
                forced = True
                raise
            finally:
                if forced:
                    n = acc.abort_queued(lambda b: ProducerClosedError(
                        f"the producer was closed before {b.topic}-{b.partition} could be delivered"))
                    if n:
                        log.warning("producer closed: %d undelivered batch(es) failed", n)
                if txn is not None:
                    await txn.close()
                await sender.stop(force=forced)
                acc.closed = True
                await self._close_telemetry(time.monotonic() if forced else deadline)
                await self._stop_forgetting_idle_topics()
                await self._cluster.close()
                # anything still undecided (in flight when forced) must not stay pending
                for fut in acc.incomplete_futures():
                    if not fut.done():
                        fut.set_exception(ProducerClosedError("the producer was closed; delivery unknown"))
                        fut.exception()
                if self._idem is not None:
                    self._idem.closed()
            return
        if txn is not None:
            await txn.close()
        await sender.stop(force=False)
        acc.closed = True
        await self._close_telemetry(deadline)
        await self._stop_forgetting_idle_topics()
        await self._cluster.close()
        if self._idem is not None:
            self._idem.closed()

    async def _delivered_or_forced(self, pending: Sequence[asyncio.Future[Any]], timeout: float | None) -> bool:
        """Wait up to ``timeout`` seconds for ``pending``; False if time ran out or another close()
        forced the close first."""
        every = asyncio.ensure_future(asyncio.wait(pending))   # cancelling it cancels none of them
        force = asyncio.ensure_future(self._force_close.wait())
        try:
            await asyncio.wait({every, force}, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
            return every.done()
        finally:
            every.cancel()
            force.cancel()

    async def client_instance_id(self, timeout: float) -> uuid.UUID | None:
        """The id the cluster gave this client for its telemetry (KIP-714, Java's ``clientInstanceId``),
        waiting up to ``timeout`` seconds for the first subscription; None if none came (no broker
        receives telemetry). :class:`IllegalStateError` with ``enable_metrics_push=False`` or before
        start()."""
        return await telemetry_instance_id(self._telemetry, self.config.enable_metrics_push, timeout)

    async def _close_telemetry(self, deadline: float | None) -> None:
        """The terminating push, after the last batch was sent, within what is left of close()'s
        timeout (``deadline`` on the monotonic clock; None: no limit)."""
        telemetry, self._telemetry = self._telemetry, None
        if telemetry is not None:
            await telemetry.close(None if deadline is None else max(0.0, deadline - time.monotonic()))

    # -- sending ------------------------------------------------------------------------------
    async def send(
        self,
        topic: str,
        value: Any = None,
        key: Any = None,
        partition: int | None = None,
        timestamp_ms: int | None = None,
        headers: Headers = None,
    ) -> RecordFuture:
        """Hand a record to the producer; returns once it is buffered (waiting only for space).

        Await the returned :class:`RecordFuture` for its :class:`RecordMetadata` or the typed error
        of its delivery. Errors raised here: :class:`RecordTooLargeError` (larger than
        ``max_request_size`` or ``buffer_memory``), :class:`KafkaTimeoutError` (no metadata or no
        buffer space within ``max_block_ms``), :class:`SerializationError`, :class:`ProducerClosedError`,
        :class:`IllegalArgumentError` (a negative ``partition``; a ``timestamp_ms`` that is not an int
        of milliseconds from 0 to 2**63-1).
        """
        try:
            fut = self._appender.try_send(topic, value, key, partition, timestamp_ms, headers)
        except UnicodeEncodeError as exc:  # the only error the builder raises for a common record
            raise _invalid_record(topic, exc) from None
        if fut is None:
            fut = await self._send(topic, value, key, partition, timestamp_ms, headers)
        return fut

    async def _send(self, topic: str, value: Any, key: Any, partition: int | None, timestamp_ms: int | None,
                    headers: Headers, ship: bool = False) -> RecordFuture:
        """send()'s general path: every check, metadata waits, serializers, partitioners, new batches."""
        if self._life.state is not _STARTED:
            await self._ensure_started()
        if asyncio.get_running_loop() is not self._loop:
            raise self._wrong_loop()
        if self._txn is not None:
            self._txn.check_send()  # only inside a transaction
        ser = self._key_serializer
        if ser is not None:
            key = self._serialize(ser, key, "key", topic)
        elif key is not None and key.__class__ is not bytes:
            key = _to_bytes(key, "key")
        ser = self._value_serializer
        if ser is not None:
            value = self._serialize(ser, value, "value", topic)
        elif value is not None and value.__class__ is not bytes:
            value = _to_bytes(value, "value")
        size = (RECORD_SIZE_BOUND_OVERHEAD + (len(key) if key is not None else 0)
                + (len(value) if value is not None else 0))
        if headers:
            headers = _header_list(headers)
            size = record_size_upper_bound(key, value, headers)
        if size > self._max_record_size:
            raise self._too_large(size)
        appender = self._appender
        sticky = False  # the partition is the topic's sticky one (KIP-794)
        n = 0
        if partition is None:
            if self._metadata.current is not appender.metadata:
                self._forget_partition_counts()
            n = appender.partition_count(topic) or await self._partition_count(topic)
            if self._custom_partitioner is not None:
                partition = self._call_partitioner(topic, key, n)
            else:
                partition = appender.partition(topic, key, n)
                sticky = key is None or not self._keys_decide
        else:
            count = appender.partition_count(topic)
            if count is None or partition.__class__ is not int or not 0 <= partition < count \
                    or self._metadata.current is not appender.metadata:
                await self._check_partition(topic, partition)
        timestamp_ms = now_ms() if timestamp_ms is None else _checked_timestamp(timestamp_ms)
        try:
            fut = appender.append(topic, partition, sticky, timestamp_ms, key, value, headers)
            if fut is None:
                fut = await self._append_new_batch(topic, partition, sticky, n, timestamp_ms, key, value, headers,
                                                   size, ship)
        except (TypeError, ValueError) as exc:
            raise _invalid_record(topic, exc) from None
        if self._on_delivery is not None:
            self._attach_callback(fut)
        return fut

    async def send_and_wait(
        self,
        topic: str,
        value: Any = None,
        key: Any = None,
        partition: int | None = None,
        timestamp_ms: int | None = None,
        headers: Headers = None,
    ) -> RecordMetadata:
        """``send()`` and wait for the delivery: the record's metadata, or its error raised.

        With ``linger_ms=0``, a record that starts a new batch is sent from this call when the
        sender is idle, rather than by the sender one event-loop pass later: the caller waits for
        it anyway, so nothing else could join its batch from here."""
        if asyncio.get_running_loop() is not self._loop and self._life.state is _STARTED:
            raise self._wrong_loop()
        got = self._appender.send_or_route(topic, value, key, partition, timestamp_ms, headers)
        if isinstance(got, tuple):
            # a common record (the appender checked what _send() would) starting a batch: started
            # where the appender says, without _send()'s coroutine and checks; unless close() began
            # (the appender is switched off a loop pass later), which _send() refuses. None:
            # nothing appended, it must wait (_send()'s way)
            p, sticky, timestamp, size = got
            try:
                got = self._append_now(topic, p, sticky, timestamp, key, value, headers, size, True) \
                    if self._life.state is _STARTED else None
            except UnicodeEncodeError as exc:  # as send()'s: the builder refused a header name
                raise _invalid_record(topic, exc) from None
        fut = got if got is not None else await self._send(topic, value, key, partition, timestamp_ms, headers,
                                                           ship=True)
        return await fut

    async def send_many(
        self,
        topic: str,
        records: Iterable[Any],
        *,
        partition: int | None = None,
        timestamp_ms: int | None = None,
    ) -> ManyFuture:
        """Buffer many records with one call; returns an awaitable of their metadata, in order.

        Each item of ``records`` is a value, or a ``(key, value)`` or ``(key, value, headers)``
        tuple. The asyncio cost is paid per batch instead of per record. Awaiting the result returns
        ``list[RecordMetadata]`` or raises the first delivery error once every batch is decided.
        Errors raised here for one record (too large, serialization) stop the call; the records
        before it are buffered and delivered as usual. An invalid ``partition`` or ``timestamp_ms``
        raises :class:`IllegalArgumentError` before any record is buffered.
        """
        if self._life.state is not _STARTED:
            await self._ensure_started()
        if asyncio.get_running_loop() is not self._loop:
            raise self._wrong_loop()
        if self._txn is not None:
            self._txn.check_send()  # only inside a transaction
        acc = self._accumulator
        assert acc is not None
        kser, vser = self._key_serializer, self._value_serializer
        explicit = partition
        if explicit is not None:
            await self._check_partition(topic, explicit)
        n = await self._partition_count(topic)
        custom = self._custom_partitioner
        keys_decide = self._keys_decide
        appender = self._appender
        max_size = self._max_record_size
        ts = now_ms() if timestamp_ms is None else _checked_timestamp(timestamp_ms)
        runs: list[Run] = []  # consecutive records in one batch
        on_delivery = self._on_delivery
        items: Iterable[Any] = records
        if kser is None and vser is None and custom is None and on_delivery is None:
            # the appender appends the common records in one call; this loop takes the others
            items = _uncommon_items(appender, topic, iter(records), explicit, n, ts, runs)
        for item in items:
            headers = None
            if item.__class__ is tuple:
                if len(item) == 2:
                    key, value = item
                else:
                    key, value, headers = item
            else:
                key, value = None, item
            if kser is not None:
                key = self._serialize(kser, key, "key", topic)
            elif key is not None and key.__class__ is not bytes:
                key = _to_bytes(key, "key")
            if vser is not None:
                value = self._serialize(vser, value, "value", topic)
            elif value is not None and value.__class__ is not bytes:
                value = _to_bytes(value, "value")
            size = (RECORD_SIZE_BOUND_OVERHEAD + (len(key) if key is not None else 0)
                    + (len(value) if value is not None else 0))
            if headers:
                headers = _header_list(headers)
                size = record_size_upper_bound(key, value, headers)
            if size > max_size:
                raise self._too_large(size)
            sticky = False
            if explicit is not None:
                p = explicit
            elif custom is not None:
                p = self._call_partitioner(topic, key, n)
            else:
                p = appender.partition(topic, key, n)
                sticky = key is None or not keys_decide
            try:
                fut = appender.append(topic, p, sticky, ts, key, value, headers)
                if fut is None:
                    fut = await self._append_new_batch(topic, p, sticky, n, ts, key, value, headers, size, False)
            except (TypeError, ValueError) as exc:
                raise _invalid_record(topic, exc) from None
            cur_batch, delta = batch_position(fut)
            run = runs[-1] if runs else None
            if run is not None and run.batch is cur_batch and run.first + run.count == delta:
                run.count += 1
            else:
                runs.append(Run(cur_batch, delta))
            if on_delivery is not None:
                self._attach_callback(fut)
        return ManyFuture(runs, ts)

    async def flush(self, timeout: float | None = None) -> None:
        """Send everything buffered now (ignoring ``linger_ms``) and wait until each record sent so
        far is delivered or failed. Raises :class:`KafkaTimeoutError` after ``timeout`` seconds."""
        if self._life.state not in (_STARTED, ClientState.CLOSING):
            return
        if asyncio.get_running_loop() is not self._loop:
            raise self._wrong_loop()
        acc = self._accumulator
        assert acc is not None
        pending = acc.incomplete_futures()
        if not pending:
            return
        sender = self._sender
        assert sender is not None  # made with the accumulator
        acc.begin_flush()
        sender.wakeup()
        try:
            _done, still = await asyncio.wait(pending, timeout=timeout)
        finally:
            acc.end_flush()
        if still:
            raise KafkaTimeoutError(f"flush() timed out after {timeout} s with {len(still)} batch(es) undelivered")

    async def partitions_for(self, topic: str) -> set[int]:
        """The partition ids of ``topic`` (waiting up to ``max_block_ms`` for its metadata)."""
        if self._life.state is not _STARTED:
            await self._ensure_started()
        return set(await self._cluster.wait_for_topic(topic, self._max_block_ms))

    # -- helpers ------------------------------------------------------------------------------
    def _wrong_loop(self) -> IllegalStateError:
        return wrong_loop("producer")

    def __del__(self) -> None:
        life = self.__dict__.get("_life")
        if life is not None and life.state is _STARTED:
            warnings.warn(f"unclosed {self!r}: close() delivers or fails its records and ends its "
                          "tasks", ResourceWarning, source=self)

    async def _ensure_started(self) -> None:
        if self._life.state in (ClientState.CLOSING, ClientState.CLOSED):
            raise ProducerClosedError("the producer is closed; send() is no longer allowed")
        raise IllegalStateError("the producer is not started: use 'async with' or await start() first")

    def _serialize(self, ser: Callable[[Any], Any], obj: Any, what: str, topic: str) -> bytes | None:
        try:
            out = ser(obj)
        except Exception as exc:  # noqa: BLE001
            raise SerializationError(f"{what}_serializer failed for a record to {topic}: {exc!r}") from exc
        if out is None or out.__class__ is bytes:
            return out
        return _to_bytes(out, what)

    def _too_large(self, size: int) -> RecordTooLargeError:
        limit = "max_request_size" if size > self._max_request_size else "buffer_memory"
        value = self._max_request_size if limit == "max_request_size" else self._buffer_memory
        return RecordTooLargeError(
            f"the record is {size} bytes when serialized, larger than {limit}={value}")

    async def _append_new_batch(self, topic: str, partition: int, sticky: bool, n: int, timestamp: int,
                                key: bytes | None, value: bytes | None, headers: Any, size: int,
                                ship: bool) -> RecordFuture:
        """The record after its partition's open batch refused it (full) or there was none: the
        accumulator starts a batch, and the sender is woken from what it did. A sticky record goes
        to the topic's sticky partition, which the appender moved on from a full batch rather than
        start one there for this record.

        ``ship``: the caller waits for this record's delivery at once (``send_and_wait`` with
        ``linger_ms=0``): a new batch is handed to the sender's ``ship_now`` instead of waking it."""
        if sticky:
            partition = self._appender.partition(topic, key, n)
        fut = self._append_now(topic, partition, sticky, timestamp, key, value, headers, size, ship)
        if fut is None:
            fut = await self._append_waiting(topic, partition, sticky, timestamp, key, value, headers, size, ship)
        return fut

    def _append_now(self, topic: str, partition: int, sticky: bool, timestamp: int, key: bytes | None,
                    value: bytes | None, headers: Any, size: int, ship: bool) -> RecordFuture | None:
        """:meth:`_append_new_batch` into ``partition`` (chosen) when nothing need be waited for:
        None, with nothing appended, when the partition's full open batch should leave first or the
        new batch must wait for buffer memory (then :meth:`_append_waiting`)."""
        acc = self._accumulator
        if acc.open_batch_full(topic, partition):
            return None
        result = acc.append_now(topic, partition, timestamp, key, value, headers, size, sticky)
        if result is None:
            return None
        return self._hand_over(result, topic, partition, ship)

    async def _append_waiting(self, topic: str, partition: int, sticky: bool, timestamp: int, key: bytes | None,
                              value: bytes | None, headers: Any, size: int, ship: bool) -> RecordFuture:
        """:meth:`_append_new_batch` into ``partition`` (chosen) after :meth:`_append_now` found it
        must wait."""
        acc, sender = self._accumulator, self._sender
        assert sender is not None
        result = None
        if acc.open_batch_full(topic, partition):
            # The partition's open batch is full: let the sender ship it now, as Java's sender
            # thread would, rather than once the application's send loop next waits for buffer
            # space; a tight send() loop would otherwise fill all of buffer_memory while the broker
            # sits idle. One event-loop pass per full batch, not per record (and none when there
            # is nothing to ship); taken before the record is appended, so that a send()
            # cancelled here has buffered nothing.
            sender.wakeup()
            await asyncio.sleep(0)
            result = acc.append_now(topic, partition, timestamp, key, value, headers, size, sticky)
        if result is None:
            sender.wakeup()  # memory pressure makes every batch ready to send
            result = await acc.append(topic, partition, timestamp, key, value, headers, size, sticky)
        return self._hand_over(result, topic, partition, ship)

    def _hand_over(self, result: AppendResult, topic: str, partition: int, ship: bool) -> RecordFuture:
        """The appended record's future, the sender told what the append did."""
        sender = self._sender
        assert sender is not None
        if result.new_batch_created and ship and self._accumulator.linger_ms <= 0:
            sender.ship_now((topic, partition))  # sent now when the sender is idle, else it is woken
        elif result.batch_is_full or result.new_batch_created:
            sender.wakeup()  # a batch is sendable now, or the sender needs the new one's linger deadline
        return result.future

    def _forget_partition_counts(self) -> None:
        self._appender.set_metadata(self._cluster.metadata)

    def _enable_send_path(self) -> None:
        # the fast path covers records that need nothing but a partition and an append; anything
        # configured per record (serializers, a partitioner, callbacks, transactions) goes the
        # general way
        appender = self._appender
        appender.set_metadata(self._cluster.metadata)
        appender.enabled = (self._txn is None and self._key_serializer is None and self._value_serializer is None
                            and self._custom_partitioner is None and self._on_delivery is None)

    async def _partition_count(self, topic: str) -> int:
        appender = self._appender
        if self._cluster.metadata is not appender.metadata:
            self._forget_partition_counts()
        n = appender.partition_count(topic)
        if n is None:
            info = self._cluster.metadata.topics.get(topic)  # the metadata the counts come from
            if info is None or not info.partitions:
                await self._cluster.wait_for_topic(topic, self._max_block_ms)
                self._forget_partition_counts()
                info = self._cluster.metadata.topics[topic]
            n = len(info.partitions)
            appender.set_partition_count(topic, n)
        return n

    async def _check_partition(self, topic: str, partition: int) -> None:
        if not isinstance(partition, int) or isinstance(partition, bool) or partition < 0:
            raise IllegalArgumentError(f"partition must be a non-negative int, got {partition!r}")
        n = await self._partition_count(topic)
        if partition < n:
            return
        # Java waits up to max.block.ms for the partition to appear (e.g. partitions being added)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self._max_block_ms / 1000.0
        while True:
            left = deadline - loop.time()
            if left <= 0:
                raise KafkaTimeoutError(
                    f"partition {partition} of topic {topic!r} with partition count {n} is not present "
                    f"in metadata after max_block_ms={self._max_block_ms}")
            try:
                await self._cluster.wait_for_update(min(left, 1.0) * 1000.0)
            except KafkaTimeoutError:
                pass
            n = await self._partition_count(topic)
            if partition < n:
                return

    def _available_partitions(self, topic: str) -> list[int]:
        return self._cluster.metadata.available_partitions_for(topic)

    async def _forget_idle_topics(self, cluster: Cluster) -> None:
        """After each metadata update, the cluster stops tracking the topics gone idle (as Java's
        ProducerMetadata.retainTopic, applied when a metadata response is handled): the next
        refresh leaves them out."""
        while True:
            await cluster.next_update()
            try:
                idle = self._idle_topics(cluster.tracked_topics)
            except Exception:  # noqa: BLE001 - a bug here must not stop the producer's refreshes
                log.exception("kafkaio producer: cannot decide which topics are idle")
                continue
            if idle:
                cluster.forget_topics(idle)

    async def _stop_forgetting_idle_topics(self) -> None:
        task, self._idle_task = self._idle_task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    def _idle_topics(self, tracked: frozenset[str]) -> set[str]:
        """metadata_max_idle_ms (Java's, KIP-526): the tracked topics this producer has not started a
        batch for in that long and holds no undelivered batch of. Their metadata is no longer
        refreshed; the next send to one fetches it again. Without this, a topic deleted while the
        producer lives is asked for on every refresh, and a broker with auto.create.topics.enable
        creates it again.

        Their per-partition state goes with them: the appender's (partition count, sticky state,
        empty queues) always, and, for a topic the metadata no longer has (deleted), the
        sequences. A topic that still exists keeps its sequences: the broker remembers this
        producer's last ones there, and the next batch must follow them."""
        acc = self._accumulator
        assert acc is not None
        now = time.monotonic() * 1000.0
        max_idle = self.config.metadata_max_idle_ms
        last_batch = acc.topic_last_batch_ms
        seen = self._topic_seen_ms
        idle = set()
        for topic in tracked:
            used = last_batch.get(topic)
            if used is None:  # tracked without a batch (partitions_for, a failed send): since now
                used = seen.setdefault(topic, now)
            if now - used > max_idle:
                idle.add(topic)
        if idle:
            idle -= acc.topics_with_incomplete_batches()
            existing = self._cluster.metadata.topics
            for topic in idle:
                last_batch.pop(topic, None)
                seen.pop(topic, None)
                self._appender.forget_topic(topic)
                if self._idem is not None and topic not in existing:
                    self._idem.forget_topic(topic)
        return idle

    def _sticky_candidates(self, topic: str) -> Sequence[int]:
        """Partitions the sticky partitioner may move to, sorted: those with a leader, minus (with
        ``partitioner_availability_timeout_ms`` and adaptive partitioning, as in Java) those whose
        leader has not taken a produce request for longer than that timeout."""
        md = self._cluster.metadata
        parts: Sequence[int] = md.available_partitions(topic)
        if self._availability_timeout_ms > 0:
            slow = self._accumulator.slow_nodes(self._availability_timeout_ms)
            if slow:
                parts = [p for p in parts if md.leader_for(topic, p) not in slow]
        return parts

    def _call_partitioner(self, topic: str, key: bytes | None, n: int) -> int:
        partitioner = self._custom_partitioner
        assert partitioner is not None  # called only when one is configured
        p = partitioner(topic, key, list(range(n)), self._available_partitions(topic))
        if not isinstance(p, int) or not 0 <= p < n:
            raise KafkaError(f"the partitioner returned {p!r} for topic {topic!r} with {n} partitions")
        return p

    def _attach_callback(self, fut: RecordFuture) -> None:
        cb = self._on_delivery
        assert cb is not None  # attached only when one is configured

        def done(f: RecordFuture) -> None:
            exc = f.exception()
            try:
                if exc is None:
                    cb(f.result(), None)
                else:
                    cb(None, exc)
            except Exception:  # noqa: BLE001 - a user callback must not break the sender
                self._callback_failed.log(logging.ERROR, "on_delivery callback raised", exc_info=True)

        fut.add_done_callback(done)

    @property
    def state(self) -> ProducerState:
        """Where the producer is: created, idle, sending, backing_off (a batch waits for a retry),
        fatal (it cannot send any more: close it) or closed."""
        life = self._life.state
        if life is ClientState.NEW or life is ClientState.STARTING:
            return ProducerState.CREATED
        if life is not _STARTED:
            return ProducerState.CLOSED
        sender, acc, txn = self._sender, self._accumulator, self._txn
        if (sender is not None and sender.fatal_error is not None) or (
                txn is not None and txn.state is TransactionState.FATAL_ERROR):
            return ProducerState.FATAL
        if acc is None or not acc.incomplete_count:
            return ProducerState.IDLE
        if any(b.in_retry for b in acc.queued_batches()):
            return ProducerState.BACKING_OFF
        return ProducerState.SENDING

    def health(self) -> Health:
        """For a liveness check: unhealthy when created, closed or fatal (``reason`` names the
        error); ``last_ack`` is when the broker last acknowledged a batch."""
        state = self.state
        reason = ""
        if state is ProducerState.FATAL:
            sender, txn = self._sender, self._txn
            if txn is not None and txn.state is TransactionState.FATAL_ERROR:
                err = txn.last_error   # e.g. ProducerFencedError, which the sender's error stands for
            else:
                err = sender.fatal_error if sender is not None else None
            reason = f"the producer cannot send any more: {err!r}"
        elif state in (ProducerState.CREATED, ProducerState.CLOSED):
            reason = f"the producer is {state.value}"
        last_ack = None
        if self._sender is not None and self._sender.last_ack is not None:
            last_ack = time.time() - (time.monotonic() - self._sender.last_ack)
        return Health(not reason, state, reason, last_ack=last_ack)

    def metrics(self) -> ProducerMetrics:
        """Records sent and failed, batches, the buffer and the connections, as the Java producer's
        metrics (docs/metrics.md); call it from the event loop's thread."""
        return producer_metrics(self._metrics, self._sender, self._accumulator, self._cluster,
                                self._buffer_memory)

    def __repr__(self) -> str:
        return f"<kafkaio.Producer state={self._life.state.value} client_id={self.config.client_id!r}>"
