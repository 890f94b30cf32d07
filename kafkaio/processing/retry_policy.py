"""What happens to a record whose handler raised: retry in place, go to a retry topic, or go to
the dead-letter topic. Pure decisions, no I/O.

Stages: the record is first tried ``attempts`` times in place (with exponential backoff; the
record's key waits, nothing else). Then, for each delay in ``retry_topic_delays_ms``, it is sent
to ``<topic><retry_topic_suffix><n>`` (n from 1) with a due time, and tried there ``attempts``
times again when it is due. When all stages are used, or the exception is not retriable, it goes
to the dead-letter topic ``<topic><dead_letter_topic_suffix>``; with ``dead_letter=False`` the
processor stops with the exception instead (the record stays uncommitted).
"""
from __future__ import annotations

import enum
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from kafkaio.errors import ConfigError
from kafkaio.retry import ExponentialBackoff


class Outcome(enum.Enum):
    RETRY_IN_PLACE = "retry_in_place"
    RETRY_TOPIC = "retry_topic"
    DEAD_LETTER = "dead_letter"
    RAISE = "raise"


@dataclass(frozen=True)
class Decision:
    outcome: Outcome
    delay_ms: float = 0.0     # RETRY_IN_PLACE: backoff; RETRY_TOPIC: how long until due
    topic: str = ""           # RETRY_TOPIC / DEAD_LETTER: where the record goes


def _always(exc: BaseException) -> bool:
    return True


@dataclass(frozen=True)
class RetryPolicy:
    """How a failed record is retried. ``retriable(exc)`` says whether an exception is worth
    retrying; a record failing with one that is not goes to the dead-letter topic at once."""

    attempts: int = 1
    retry_backoff_ms: int = 100
    retry_backoff_max_ms: int = 10_000
    retry_topic_delays_ms: Sequence[int] = ()
    retry_topic_suffix: str = "-retry-"
    dead_letter: bool = True
    dead_letter_topic_suffix: str = "-dlt"
    retriable: Callable[[BaseException], bool] = field(default=_always)

    def __post_init__(self) -> None:
        if self.attempts < 1:
            raise ConfigError(f"attempts: must be at least 1, got {self.attempts}")
        if self.retry_backoff_ms < 0 or self.retry_backoff_max_ms < 0:
            raise ConfigError("retry_backoff_ms: must not be negative")
        if any(d < 0 for d in self.retry_topic_delays_ms):
            raise ConfigError("retry_topic_delays_ms: delays must not be negative")
        if not self.retry_topic_suffix or not self.dead_letter_topic_suffix:
            raise ConfigError("retry_topic_suffix: topic suffixes must not be empty")
        object.__setattr__(self, "retry_topic_delays_ms", tuple(self.retry_topic_delays_ms))
        object.__setattr__(self, "_backoff", ExponentialBackoff(self.retry_backoff_ms, self.retry_backoff_max_ms))

    @property
    def uses_topics(self) -> bool:
        return bool(self.retry_topic_delays_ms) or self.dead_letter

    def retry_topics(self, topic: str) -> list[str]:
        """The retry topics of an original topic, in order."""
        return [f"{topic}{self.retry_topic_suffix}{n}" for n in range(1, len(self.retry_topic_delays_ms) + 1)]

    def dead_letter_topic(self, topic: str) -> str:
        return f"{topic}{self.dead_letter_topic_suffix}"

    def decide(self, exc: BaseException, original_topic: str, stage: int, attempts_in_stage: int) -> Decision:
        """After ``attempts_in_stage`` failed tries in ``stage`` (0: the original topic, n: retry
        topic n) failed with ``exc``."""
        retriable = self.retriable(exc)
        if retriable and attempts_in_stage < self.attempts:
            backoff: ExponentialBackoff = getattr(self, "_backoff")
            return Decision(Outcome.RETRY_IN_PLACE, backoff.backoff_ms(attempts_in_stage - 1))
        if retriable and stage < len(self.retry_topic_delays_ms):
            return Decision(Outcome.RETRY_TOPIC, float(self.retry_topic_delays_ms[stage]),
                            f"{original_topic}{self.retry_topic_suffix}{stage + 1}")
        if self.dead_letter:
            return Decision(Outcome.DEAD_LETTER, topic=self.dead_letter_topic(original_topic))
        return Decision(Outcome.RAISE)
