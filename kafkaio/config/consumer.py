"""Consumer settings and their combination rules (group membership, auto-commit, offset reset)."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

from kafkaio.config.common import CommonConfig
from kafkaio.config.schema import setting
from kafkaio.config.values import fail, parse_duration_ms


@dataclass(frozen=True, kw_only=True, repr=False)
class ConsumerConfig(CommonConfig):
    """Consumer settings (Java: ConsumerConfig)."""

    receive_buffer_bytes: int = setting(65536, "int", "SO_RCVBUF; -1 keeps the OS default.", minimum=-1)
    group_id: str | None = setting(None, "opt_str", "Consumer group; None for a consumer without group "
                                   "management or commits.")
    group_instance_id: str | None = setting(None, "opt_str", "Static membership id (KIP-345).")
    group_protocol: str = setting("classic", "str", "Group protocol: classic, or consumer (KIP-848).",
                                  choices=("classic", "consumer"))
    group_remote_assignor: str | None = setting(None, "opt_str", "Server-side assignor for "
                                                "group_protocol=consumer.")
    client_rack: str = setting("", "str", "Rack of this consumer, for fetching from the closest replica.")
    enable_metrics_push: bool = setting(True, "bool", "Push the consumer's metrics to the cluster when a "
                                        "client-metrics subscription asks for them (KIP-714).")
    enable_auto_commit: bool = setting(True, "bool", "Commit positions in the background (off when there "
                                       "is no group_id).")
    auto_commit_interval_ms: int = setting(5000, "int", "Interval of background commits.", minimum=0)
    auto_offset_reset: str = setting("latest", "str", "Where to start without a valid committed offset: "
                                     "earliest, latest, none, or by_duration:<ISO-8601 duration>.")
    fetch_min_bytes: int = setting(1, "int", "Broker waits for this much data before answering a fetch.",
                                   minimum=0)
    fetch_max_wait_ms: int = setting(500, "int", "Broker waits at most this long for fetch_min_bytes.",
                                     minimum=0)
    fetch_max_bytes: int = setting(52428800, "int", "Most data returned by one fetch.", minimum=0)
    max_partition_fetch_bytes: int = setting(1048576, "int", "Most data returned per partition per fetch.",
                                             minimum=0)
    max_poll_records: int = setting(500, "int", "Most records returned by one getmany()/poll.", minimum=1)
    max_poll_interval_ms: int = setting(300000, "int", "Longest time between polls before the member "
                                        "leaves the group.", minimum=1)
    session_timeout_ms: int = setting(45000, "int", "Member is removed when no heartbeat arrives for this "
                                      "long (classic protocol).")
    heartbeat_interval_ms: int = setting(3000, "int", "Interval of heartbeats (classic protocol).")
    rebalance_timeout_ms: int | None = setting(None, "opt_int", "Time members get to rejoin during a "
                                               "rebalance; None: max_poll_interval_ms, as in Java.",
                                               minimum=1, java=None)
    partition_assignment_strategy: tuple[Any, ...] = setting(
        "range,cooperative-sticky", "assignors", "Assignors in preference order: names (range, "
        "roundrobin, sticky, cooperative-sticky, or the Java class names) or assignor objects.")
    isolation_level: str = setting("read_uncommitted", "str", "read_committed hides aborted and open "
                                   "transactional records.", choices=("read_uncommitted", "read_committed"))
    check_crcs: bool = setting(True, "bool", "Verify record batch CRCs.")
    exclude_internal_topics: bool = setting(True, "bool", "Pattern subscriptions skip internal topics.")
    allow_auto_create_topics: bool = setting(True, "bool", "Subscribing may auto-create topics (if the "
                                             "broker allows).")
    key_deserializer: Callable[[bytes | None], Any] | None = setting(None, "callable", "bytes -> key; None "
                                                                     "returns bytes.")
    value_deserializer: Callable[[bytes | None], Any] | None = setting(None, "callable", "bytes -> value; "
                                                                       "None returns bytes.")
    default_api_timeout_ms: int = setting(60000, "int", "Timeout of blocking calls without their own "
                                          "timeout (commit, position, offsets lookups).", minimum=0)

    auto_offset_reset_duration_ms: int | None = field(default=None, init=False, compare=False)

    def _validate(self) -> None:
        super()._validate()
        self._validate_offset_reset()
        if self.group_instance_id is not None and self.group_id is None:
            raise fail("group_instance_id", "requires group_id")
        if self.group_id is None and self.enable_auto_commit:
            if self.is_explicit("enable_auto_commit"):
                raise fail("enable_auto_commit", "cannot be True without a group_id")
            object.__setattr__(self, "enable_auto_commit", False)
        if self.group_protocol == "consumer":
            for name in ("session_timeout_ms", "heartbeat_interval_ms", "partition_assignment_strategy"):
                if self.is_explicit(name):
                    raise fail(name, "is decided by the broker with group_protocol=consumer; do not set it")
        else:
            if self.group_remote_assignor is not None:
                raise fail("group_remote_assignor", "only applies with group_protocol=consumer")
            if self.heartbeat_interval_ms >= self.session_timeout_ms:
                raise fail("heartbeat_interval_ms", f"must be lower than session_timeout_ms "
                            f"({self.session_timeout_ms}), got {self.heartbeat_interval_ms}")
        if self.rebalance_timeout_ms is None:
            object.__setattr__(self, "rebalance_timeout_ms", self.max_poll_interval_ms)

    def _validate_offset_reset(self) -> None:
        value = self.auto_offset_reset.strip().lower()
        if value.startswith("by_duration:"):
            duration = parse_duration_ms(value.split(":", 1)[1].strip().upper())
            if duration is None:
                raise fail("auto_offset_reset", f"{self.auto_offset_reset!r}: by_duration needs an ISO-8601 "
                            "duration such as by_duration:P1DT2H or by_duration:PT30M")
            object.__setattr__(self, "auto_offset_reset_duration_ms", duration)
        elif value not in ("earliest", "latest", "none"):
            raise fail("auto_offset_reset", f"must be earliest, latest, none or by_duration:<duration>; "
                        f"got {self.auto_offset_reset!r}")
        object.__setattr__(self, "auto_offset_reset", value)
