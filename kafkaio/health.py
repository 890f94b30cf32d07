"""What a client is doing now, and whether a liveness check should pass: ``client.state`` and
``client.health()`` (see docs/health.md).

Both are computed when asked, from state the clients keep anyway: nothing is counted on the
per-record path.
"""
from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

__all__ = ["ConsumerState", "Health", "ProducerState"]


class ConsumerState(str, Enum):
    """Where a :class:`kafkaio.Consumer` is."""

    CREATED = "created"          # not started yet
    STABLE = "stable"            # has its assignment (or a manual one) and reads it
    REBALANCING = "rebalancing"  # joining the group, or a rebalance is under way
    LOST = "lost"                # lost its partitions (poll timeout, session expired): rejoining
    FENCED = "fenced"            # another consumer took its group_instance_id: it must be closed
    CLOSED = "closed"            # stop() began


class ProducerState(str, Enum):
    """Where a :class:`kafkaio.Producer` is."""

    CREATED = "created"          # not started yet
    IDLE = "idle"                # nothing buffered or in flight
    SENDING = "sending"          # records buffered or in flight
    BACKING_OFF = "backing_off"  # some batch waits to be retried after an error
    FATAL = "fatal"              # cannot send any more (fenced, authorization, ...): close it
    CLOSED = "closed"            # close() began


@dataclass(frozen=True)
class Health:
    """A client's health: ``healthy`` is what a liveness endpoint should report, ``reason`` says why
    not (empty when healthy). Times are ``time.time()`` seconds, None when it never happened."""

    healthy: bool
    state: ConsumerState | ProducerState
    reason: str = ""
    last_poll: float | None = None        # consumer: the application's last getmany()/getone()
    last_heartbeat: float | None = None   # consumer in a group: the last heartbeat the broker accepted
    last_ack: float | None = None         # producer: the last batch the broker acknowledged

    def __bool__(self) -> bool:
        return self.healthy
