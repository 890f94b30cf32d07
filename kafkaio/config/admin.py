"""Admin client settings."""
from __future__ import annotations

from dataclasses import dataclass

from kafkaio.config.common import CommonConfig
from kafkaio.config.schema import INT32_MAX, setting
from kafkaio.config.values import fail


@dataclass(frozen=True, kw_only=True, repr=False)
class AdminConfig(CommonConfig):
    """Admin client settings (Java: AdminClientConfig)."""

    connections_max_idle_ms: int = setting(300000, "int", "Close connections idle this long.")
    receive_buffer_bytes: int = setting(65536, "int", "SO_RCVBUF; -1 keeps the OS default.", minimum=-1)
    retries: int = setting(INT32_MAX, "int", "Retries of a retriable failure (bounded in time by "
                           "default_api_timeout_ms or the call's timeout).", minimum=0, maximum=INT32_MAX)
    default_api_timeout_ms: int = setting(60000, "int", "Timeout of an admin call that does not give "
                                          "its own.", minimum=0)

    def _validate(self) -> None:
        super()._validate()
        if self.default_api_timeout_ms < self.request_timeout_ms:
            if self.is_explicit("default_api_timeout_ms"):
                raise fail("default_api_timeout_ms", f"must be at least request_timeout_ms "
                            f"({self.request_timeout_ms}), got {self.default_api_timeout_ms}")
            # Java's admin client raises the default to request_timeout_ms in this case.
            object.__setattr__(self, "default_api_timeout_ms", self.request_timeout_ms)
