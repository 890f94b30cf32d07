"""Share consumer settings (KIP-932): the Java ``KafkaShareConsumer``'s names and defaults."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

from kafkaio.config.common import CommonConfig
from kafkaio.config.schema import setting
from kafkaio.config.values import fail


@dataclass(frozen=True, kw_only=True, repr=False)
class ShareConsumerConfig(CommonConfig):
    """Share consumer settings (Java: ConsumerConfig as a KafkaShareConsumer reads it)."""

    receive_buffer_bytes: int = setting(65536, "int", "SO_RCVBUF; -1 keeps the OS default.", minimum=-1)
    group_id: str | None = setting(None, "opt_str", "Share group to join (required).")
    client_rack: str = setting("", "str", "Rack of this consumer, sent to the group coordinator.")
    enable_metrics_push: bool = setting(True, "bool", "Push the share consumer's metrics to the cluster "
                                        "when a client-metrics subscription asks for them (KIP-714).")
    share_acknowledgement_mode: str = setting(
        "implicit", "str", "implicit: every record a poll returned is accepted at the next poll or "
        "commit; explicit: each record is acknowledged with acknowledge().", choices=("implicit", "explicit"))
    share_acquire_mode: str = setting(
        "batch_optimized", "str", "record_limit: a poll returns at most max_poll_records records; "
        "batch_optimized: it may return more, to whole batches (KIP-1206).",
        choices=("batch_optimized", "record_limit"))
    fetch_min_bytes: int = setting(1, "int", "Broker waits for this much data before answering a fetch.",
                                   minimum=0)
    fetch_max_wait_ms: int = setting(500, "int", "Broker waits at most this long for fetch_min_bytes.",
                                     minimum=0)
    fetch_max_bytes: int = setting(52428800, "int", "Most data returned by one fetch.", minimum=0)
    max_poll_records: int = setting(500, "int", "Most records asked for by one getmany()/poll.", minimum=1)
    check_crcs: bool = setting(True, "bool", "Verify record batch CRCs.")
    key_deserializer: Callable[[bytes | None], Any] | None = setting(None, "callable", "bytes -> key; None "
                                                                     "returns bytes.")
    value_deserializer: Callable[[bytes | None], Any] | None = setting(None, "callable", "bytes -> value; "
                                                                       "None returns bytes.")
    default_api_timeout_ms: int = setting(60000, "int", "Timeout of commit() and close() when not given.",
                                          minimum=0)

    def _validate(self) -> None:
        super()._validate()
        if not self.group_id:
            raise fail("group_id", "a share consumer needs a group_id (the share group to join)")
