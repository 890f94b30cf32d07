"""Producer settings and their combination rules (idempotence, compression levels, delivery
timeout), as the Java producer applies them."""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any, Callable

from kafkaio.config.common import CommonConfig
from kafkaio.config.schema import INT32_MAX, setting
from kafkaio.config.values import fail

log = logging.getLogger("kafkaio.config")

MAX_IN_FLIGHT_FOR_IDEMPOTENCE = 5
COMPRESSION_LEVELS: dict[str, tuple[int, int] | None] = {
    # (min, max) accepted for compression.<type>.level; gzip also accepts -1 (zlib's default).
    "none": None,
    "snappy": None,
    "gzip": (1, 9),
    "lz4": (1, 17),
    "zstd": (-131072, 22),
}


@dataclass(frozen=True, kw_only=True, repr=False)
class ProducerConfig(CommonConfig):
    """Producer settings (Java: ProducerConfig)."""

    acks: int = setting("all", "acks", 'Acknowledgements to wait for: "all"/-1 (every in-sync replica), '
                        "1 (leader only), 0 (none). Stored as -1, 1 or 0.")
    linger_ms: int = setting(5, "int", "Wait up to this long for more records before sending a batch "
                             "(default 5 since Kafka 4.0, KIP-1030).", minimum=0)
    batch_size: int = setting(16384, "int", "Target size of one partition's batch in bytes.", minimum=0)
    buffer_memory: int = setting(33554432, "int", "Bytes of records the producer may buffer before "
                                 "send() waits for space.", minimum=0)
    max_block_ms: int = setting(60000, "int", "How long send() may wait for buffer space or metadata "
                                "before KafkaTimeoutError.", minimum=0)
    max_request_size: int = setting(1048576, "int", "Largest request (and so largest record) sent.", minimum=0)
    compression_type: str = setting("none", "str", "Batch compression codec.",
                                    choices=("none", "gzip", "snappy", "lz4", "zstd"))
    compression_level: int | None = setting(
        None, "opt_int", "Level for the chosen codec; overrides compression_<codec>_level. After "
        "validation it holds the effective level (None for none and snappy).", java=None)
    compression_gzip_level: int = setting(-1, "int", "gzip level 1-9, or -1 for zlib's default.")
    compression_lz4_level: int = setting(9, "int", "lz4 level 1-17.")
    compression_zstd_level: int = setting(3, "int", "zstd level -131072..22.")
    retries: int = setting(INT32_MAX, "int", "Retries of a failed batch (bounded in time by "
                           "delivery_timeout_ms).", minimum=0, maximum=INT32_MAX)
    delivery_timeout_ms: int = setting(120000, "int", "Upper bound on the time from send() to success "
                                       "or failure, retries included.", minimum=0, maximum=INT32_MAX)
    max_in_flight_requests_per_connection: int = setting(5, "int", "Unacknowledged requests per broker "
                                                         "connection.", minimum=1)
    enable_idempotence: bool = setting(True, "bool", "Broker-side de-duplication with producer id, epoch "
                                       "and sequence numbers.")
    transactional_id: str | None = setting(None, "opt_str", "Enables transactions; stable across restarts "
                                           "of the same logical producer.")
    transaction_timeout_ms: int = setting(60000, "int", "Broker aborts a transaction open longer than this.",
                                          minimum=1)
    partitioner: Callable[..., int] | None = setting(
        None, "callable", "Custom partitioner: (topic, key_bytes, all_partitions, available_partitions) "
        "-> partition. None: murmur2 for keys, uniform sticky (KIP-794) otherwise.", java="partitioner.class")
    partitioner_ignore_keys: bool = setting(False, "bool", "Ignore keys when choosing a partition.")
    partitioner_adaptive_partitioning_enable: bool = setting(True, "bool", "Sticky partitioner favours "
                                                             "brokers that drain faster.")
    partitioner_availability_timeout_ms: int = setting(0, "int", "Avoid a partition whose leader has not "
                                                       "accepted data for this long (0: off).", minimum=0)
    # what the producer takes from a serializer: bytes-like, str (as UTF-8) or None (a null key/value)
    key_serializer: Callable[[Any], bytes | bytearray | memoryview | str | None] | None = setting(
        None, "callable", "key -> bytes; None expects bytes.")
    value_serializer: Callable[[Any], bytes | bytearray | memoryview | str | None] | None = setting(
        None, "callable", "value -> bytes; None expects bytes.")
    enable_metrics_push: bool = setting(True, "bool", "Push the producer's metrics to the cluster when a "
                                        "client-metrics subscription asks for them (KIP-714).")
    metadata_max_idle_ms: int = setting(300000, "int", "Forget a topic's metadata when unused this long.",
                                        minimum=5000)

    idempotence_enabled: bool = field(default=True, init=False, compare=False)

    def _validate(self) -> None:
        super()._validate()
        self._validate_compression()
        self._validate_idempotence()
        if self.transactional_id is not None and not self.idempotence_enabled:
            raise fail("transactional_id", "requires idempotence (enable_idempotence=True, acks=all, "
                        "retries > 0, max_in_flight_requests_per_connection <= 5)")
        floor = self.linger_ms + self.request_timeout_ms
        if self.delivery_timeout_ms < floor:
            if self.is_explicit("delivery_timeout_ms"):
                raise fail("delivery_timeout_ms", f"must be at least linger_ms + request_timeout_ms "
                            f"({self.linger_ms} + {self.request_timeout_ms} = {floor}), got {self.delivery_timeout_ms}")
            # Java: left at its default, the delivery timeout silently grows to the minimum.
            object.__setattr__(self, "delivery_timeout_ms", floor)

    def _validate_compression(self) -> None:
        for codec in ("gzip", "lz4", "zstd"):
            name = f"compression_{codec}_level"
            self._check_level(name, codec, getattr(self, name))
        codec = self.compression_type
        if self.compression_level is not None:
            if COMPRESSION_LEVELS[codec] is None:
                raise fail("compression_level", f"compression_type={codec} has no levels")
            self._check_level("compression_level", codec, self.compression_level)
            object.__setattr__(self, f"compression_{codec}_level", self.compression_level)
        effective = None if COMPRESSION_LEVELS[codec] is None else getattr(self, f"compression_{codec}_level")
        object.__setattr__(self, "compression_level", effective)

    @staticmethod
    def _check_level(name: str, codec: str, level: int) -> None:
        levels = COMPRESSION_LEVELS[codec]
        if levels is None:
            raise fail(name, f"compression_type={codec} has no levels")
        lo, hi = levels
        if not (lo <= level <= hi or (codec == "gzip" and level == -1)):
            raise fail(name, f"{codec} level must be in {lo}..{hi}" + (" or -1" if codec == "gzip" else "")
                        + f", got {level}")

    def _validate_idempotence(self) -> None:
        enabled = self.enable_idempotence
        if enabled:
            explicit = self.is_explicit("enable_idempotence")
            conflicts = []
            if self.retries == 0:
                conflicts.append(("retries", "must be non-zero when using the idempotent producer"))
            if self.acks != -1:
                conflicts.append(("acks", "must be all (-1) to use the idempotent producer; otherwise "
                                  "idempotence cannot be guaranteed"))
            if self.max_in_flight_requests_per_connection > MAX_IN_FLIGHT_FOR_IDEMPOTENCE:
                conflicts.append(("max_in_flight_requests_per_connection",
                                  f"must be at most {MAX_IN_FLIGHT_FOR_IDEMPOTENCE} to use the idempotent producer"))
            if conflicts and explicit:
                name, problem = conflicts[0]
                raise fail(name, problem + " (enable_idempotence=True was set explicitly)")
            if conflicts:
                log.info("idempotence disabled because %s is incompatible with it",
                         ", ".join(n for n, _ in conflicts))
                enabled = False
        object.__setattr__(self, "idempotence_enabled", enabled)
