"""The connection core without sockets or clocks: states and their table, correlation ids,
response order, request timeouts, the KIP-219 hold queue, idleness, KIP-368 re-authentication."""
from __future__ import annotations

import pytest

from kafkaio.conn_core import (
    CORR_WRAP,
    HOLD,
    HANDSHAKE_STATES,
    REAUTH,
    SERVING_STATES,
    SETUP_STATES,
    THROTTLE_FROM,
    TRANSITIONS,
    ConnectionCore,
    ConnState,
    Held,
    Wake,
)
from kafkaio.errors import IllegalStateError, KafkaConnectionError
from kafkaio.protocol import ApiKey

S = ConnState


class Sink:
    """A ResponseSink that records what it got."""

    def __init__(self, name: str = "") -> None:
        self.name = name
        self.result: object = None
        self.error: BaseException | None = None
        self._done = False

    def done(self) -> bool:
        return self._done

    def set_result(self, body: object) -> None:
        assert not self._done
        self._done, self.result = True, body

    def set_exception(self, exc: BaseException) -> None:
        assert not self._done
        self._done, self.error = True, exc

    def __repr__(self) -> str:
        return f"Sink({self.name})"


def ready(idle_timeout: float | None = None) -> ConnectionCore[Sink]:
    core: ConnectionCore[Sink] = ConnectionCore(idle_timeout)
    for state in (S.CONNECTING, S.CHECKING_API_VERSIONS, S.READY):
        core.transition(state)
    return core


def send(core: ConnectionCore[Sink], now: float, timeout: float = 30.0,
         api_key: int = ApiKey.METADATA, version: int = 12) -> tuple[int, Sink, float | None]:
    """What the connection does for one request written at once."""
    sink = Sink()
    corr, arm_at = core.send(now, sink, api_key, version, timeout)
    assert corr != HOLD
    sink.name = str(corr)
    return corr, sink, arm_at


def held(core: ConnectionCore[Sink], now: float, expect_response: bool = True) -> Held[Sink]:
    """What the connection does for one request while throttled."""
    assert core.send(now, Sink(), ApiKey.PRODUCE, 9, 30.0) == (HOLD, None)
    corr = core.next_correlation_id()
    entry = Held(b"frame%d" % corr, corr, ApiKey.PRODUCE, 9, 30.0, Sink(str(corr)), expect_response)
    core.hold(entry)
    return entry


# ----------------------------------------------------------------------------------- states

ALLOWED = [(a, b) for a in S for b in S if b in TRANSITIONS[a]]  # in S order: every process collects the same ids
FORBIDDEN = [(a, b) for a in S for b in S if b not in TRANSITIONS[a]]


@pytest.mark.parametrize(("start", "target"), ALLOWED)
def test_every_transition_of_the_table_is_allowed(start: ConnState, target: ConnState) -> None:
    core: ConnectionCore[Sink] = ConnectionCore(None)
    core.state = start
    core.transition(target)
    assert core.state is target


@pytest.mark.parametrize(("start", "target"), FORBIDDEN)
def test_every_transition_outside_the_table_raises(start: ConnState, target: ConnState) -> None:
    core: ConnectionCore[Sink] = ConnectionCore(None)
    core.state = start
    with pytest.raises(IllegalStateError, match=f"{start.value} -> {target.value}"):
        core.transition(target)
    assert core.state is start


def test_the_table_covers_every_state_and_every_state_can_close() -> None:
    assert set(TRANSITIONS) == set(S)
    assert all(S.CLOSED in TRANSITIONS[s] for s in S if s is not S.CLOSED)
    assert TRANSITIONS[S.CLOSED] == frozenset()  # a closed connection is never reused
    assert S.READY not in SETUP_STATES and S.REAUTHENTICATING not in SETUP_STATES
    assert HANDSHAKE_STATES - SETUP_STATES == {S.REAUTHENTICATING}
    assert SERVING_STATES == {S.READY, S.REAUTHENTICATING}


def test_a_new_connection_reaches_ready_with_or_without_sasl() -> None:
    plain: ConnectionCore[Sink] = ConnectionCore(None)
    sasl: ConnectionCore[Sink] = ConnectionCore(None)
    assert plain.state is S.NEW
    for state in (S.CONNECTING, S.CHECKING_API_VERSIONS, S.READY):
        plain.transition(state)
    for state in (S.CONNECTING, S.CHECKING_API_VERSIONS, S.AUTHENTICATING, S.READY):
        sasl.transition(state)
    assert plain.state is sasl.state is S.READY


# ---------------------------------------------------------------------------- correlation

def test_correlation_ids_count_up_and_wrap_before_the_int32_limit() -> None:
    core = ready()
    assert [core.next_correlation_id() for _ in range(3)] == [1, 2, 3]
    core._corr = CORR_WRAP - 2
    assert [core.next_correlation_id() for _ in range(3)] == [CORR_WRAP - 1, 0, 1]


def test_responses_in_send_order_hand_back_each_request() -> None:
    core = ready()
    sent = [send(core, 1.0, api_key=k, version=v) for k, v in ((ApiKey.METADATA, 12), (ApiKey.FETCH, 13))]
    assert core.in_flight_count == 2
    first = core.answered(sent[0][0])
    second = core.answered(sent[1][0])
    assert (first.sink, first.api_key, first.version, first.sent) == (sent[0][1], ApiKey.METADATA, 12, 1.0)
    assert (second.sink, second.api_key, second.version) == (sent[1][1], ApiKey.FETCH, 13)
    assert core.in_flight_count == 0 and core.idle


def test_an_answer_overtaking_an_earlier_request_means_a_lost_response() -> None:
    core = ready()
    first, _, _ = send(core, 0.0)
    second, _, _ = send(core, 0.0)
    with pytest.raises(KafkaConnectionError, match=f"answered request {second} before request {first}"):
        core.answered(second)


def test_an_unknown_correlation_id_is_refused() -> None:
    core = ready()
    send(core, 0.0)
    with pytest.raises(KafkaConnectionError, match="unknown correlation id 99"):
        core.answered(99)
    empty = ready()
    with pytest.raises(KafkaConnectionError, match="unknown correlation id 1"):
        empty.answered(1)


# ------------------------------------------------------------------------------- timeouts

def test_only_a_request_with_an_earlier_deadline_rearms_the_timer() -> None:
    core = ready()
    assert send(core, 0.0, timeout=30.0)[2] == 30.0  # first request: arm
    assert send(core, 1.0, timeout=30.0)[2] is None  # 31.0: the armed 30.0 timer covers it
    assert send(core, 2.0, timeout=5.0)[2] == 7.0  # earlier: re-arm


def test_a_timer_before_any_deadline_rearms_at_the_earliest() -> None:
    core = ready()
    a, _, _ = send(core, 0.0, timeout=10.0)
    send(core, 1.0, timeout=20.0)
    core.answered(a)
    check = core.check_timeouts(10.0)
    assert check.expired == [] and check.next_at == 21.0
    # the timer armed at 21.0 is known: a later, longer request needs no new one
    assert send(core, 12.0, timeout=30.0)[2] is None


def test_a_timeout_reports_every_expired_request_and_the_close_fails_all_in_flight_and_held() -> None:
    core = ready()
    a, sink_a, _ = send(core, 0.0, timeout=5.0)
    b, sink_b, _ = send(core, 1.0, timeout=30.0)
    c, sink_c, _ = send(core, 2.0, timeout=3.0)
    core.throttle(ApiKey.PRODUCE, 9, 1000, 2.0)
    h = held(core, 2.5)
    check = core.check_timeouts(5.0)
    assert sorted(e.sink.name for e in check.expired) == sorted([str(a), str(c)])
    assert check.next_at is None
    # the connection closes: every request on it fails, the unexpired and the held ones too
    assert core.close() == [sink_a, sink_b, sink_c, h.sink]
    assert core.state is S.CLOSED and core.in_flight_count == 0
    assert core.close() == []  # closing twice fails nothing twice


def test_a_timer_with_nothing_in_flight_does_nothing() -> None:
    core = ready()
    corr, _, _ = send(core, 0.0)
    core.answered(corr)
    check = core.check_timeouts(30.0)
    assert check.expired == [] and check.next_at is None
    assert send(core, 31.0)[2] == 61.0  # the timer is known disarmed: the next request arms it


# ------------------------------------------------------------------------------- throttle

def test_a_throttle_holds_later_requests_and_releases_them_in_order_with_fresh_deadlines() -> None:
    core = ready()
    assert core.throttle(ApiKey.PRODUCE, 9, 500, 10.0)
    assert core.throttled(10.0)
    assert core.release_timer() == 10.5
    assert core.release_timer() is None  # armed once
    entries = [held(core, 10.1), held(core, 10.2, expect_response=False), held(core, 10.3)]
    assert core.in_flight_count == 3
    release = core.release(10.5)
    assert release.due == entries and release.next_at is None
    assert not core.throttled(10.5)
    assert core.send(10.6, None, ApiKey.PRODUCE, 9, 30.0)[0] != HOLD  # unmuted: written at once again


def test_requests_stay_held_while_earlier_ones_are_held_even_after_the_throttle_passed() -> None:
    core = ready()
    core.throttle(ApiKey.FETCH, 12, 100, 0.0)
    first = held(core, 0.0)
    second = held(core, 0.2)  # past the throttle, but the release has not run: keep the order
    assert core.release(0.2).due == [first, second]


def test_a_later_response_extends_the_throttle_and_the_release_waits() -> None:
    core = ready()
    core.throttle(ApiKey.PRODUCE, 9, 100, 0.0)
    assert core.release_timer() == 0.1
    h = held(core, 0.05)
    core.throttle(ApiKey.PRODUCE, 9, 300, 0.05)  # until 0.35
    core.throttle(ApiKey.PRODUCE, 9, 10, 0.06)  # shorter: does not shorten the mute
    release = core.release(0.1)
    assert release.due == [] and release.next_at == 0.35
    assert core.release_timer() is None  # the release re-armed itself
    assert core.release(0.35).due == [h]


def test_held_requests_whose_caller_gave_up_are_never_written() -> None:
    core = ready()
    core.throttle(ApiKey.PRODUCE, 9, 100, 0.0)
    gone, kept = held(core, 0.0), held(core, 0.0)
    gone.sink.set_exception(TimeoutError())
    assert core.release(0.1).due == [kept]


def test_old_api_versions_and_unlisted_apis_are_not_throttled_by_the_client() -> None:
    core = ready()
    assert not core.throttle(ApiKey.PRODUCE, THROTTLE_FROM[ApiKey.PRODUCE] - 1, 500, 0.0)
    assert not core.throttle(ApiKey.SASL_HANDSHAKE, 1, 500, 0.0)
    assert not core.throttled(0.0) and core.release_timer() is None
    assert core.send(0.0, None, ApiKey.PRODUCE, 9, 30.0)[0] != HOLD
    assert core.throttle(ApiKey.PRODUCE, THROTTLE_FROM[ApiKey.PRODUCE], 500, 0.0)


def test_a_release_after_close_writes_nothing() -> None:
    core = ready()
    core.throttle(ApiKey.PRODUCE, 9, 100, 0.0)
    h = held(core, 0.0)
    assert core.close() == [h.sink]
    release = core.release(0.1)
    assert release.due == [] and release.next_at is None


# ----------------------------------------------------------------------------------- idle

def test_an_idle_connection_closes_after_the_idle_timeout() -> None:
    core = ready(idle_timeout=60.0)
    assert core.start_idle_timer(0.0) == 60.0
    assert core.check_idle(60.0) == Wake(close=True)


def test_a_used_connection_looks_again_idle_timeout_after_its_last_use() -> None:
    core = ready(idle_timeout=60.0)
    core.start_idle_timer(0.0)
    corr, _, _ = send(core, 40.0)
    core.answered(corr)
    assert core.check_idle(60.0) == Wake(next_at=100.0)
    assert core.check_idle(100.0) == Wake(close=True)


def test_a_connection_with_requests_in_flight_or_held_is_not_idle() -> None:
    core = ready(idle_timeout=60.0)
    core.start_idle_timer(0.0)
    send(core, 0.0, timeout=1000.0)
    assert core.check_idle(60.0) == Wake(next_at=60.0)
    throttled = ready(idle_timeout=60.0)
    throttled.start_idle_timer(0.0)
    throttled.throttle(ApiKey.PRODUCE, 9, 1000_000, 0.0)
    held(throttled, 0.0)
    assert not throttled.check_idle(120.0).close


def test_no_idle_timeout_means_no_idle_timer_and_a_closed_connection_needs_none() -> None:
    core = ready(idle_timeout=None)
    assert core.start_idle_timer(0.0) is None
    assert core.check_idle(1e9) == Wake()
    closing = ready(idle_timeout=1.0)
    closing.start_idle_timer(0.0)
    closing.close()
    assert closing.check_idle(10.0) == Wake()


# --------------------------------------------------------------------- re-authentication

def reauthenticating(core: ConnectionCore[Sink], now: float) -> Held[Sink]:
    """The first request after the renewal time: held, and the connection re-authenticates."""
    assert core.send(now, Sink(), ApiKey.PRODUCE, 9, 30.0) == (REAUTH, None)
    assert core.state is S.REAUTHENTICATING
    corr = core.next_correlation_id()
    entry = Held(b"frame%d" % corr, corr, ApiKey.PRODUCE, 9, 30.0, Sink(str(corr)), True)
    core.hold(entry)
    return entry


def test_no_session_lifetime_never_re_authenticates() -> None:
    core = ready()
    core.start_session(0.0, 0, 0.9)
    for now in (1.0, 1e6, 1e9):
        send(core, now)
    assert core.state is S.READY


def test_requests_before_the_jittered_point_are_written_and_the_first_after_it_starts_renewal() -> None:
    core = ready()
    core.start_session(100.0, 10_000, 0.9)  # renew from 109.0
    send(core, 108.9)
    first = reauthenticating(core, 109.0)
    assert core.in_flight_count == 2 and first.sink.done() is False


def test_while_re_authenticating_requests_are_held_and_sasl_ones_go_out_after_those_in_flight() -> None:
    core = ready()
    core.start_session(0.0, 10_000, 0.9)
    a, sink_a, _ = send(core, 1.0)
    first = reauthenticating(core, 9.5)
    second = held(core, 9.6)  # held too: nothing of the application's is written
    handshake = Sink("handshake")
    corr, _ = core.send_handshake(9.6, handshake, ApiKey.SASL_HANDSHAKE, 1, 30.0)
    assert corr > 0 and core.state is S.REAUTHENTICATING
    # the broker answers in order: the earlier request first, delivered at once
    assert core.answered(a).sink is sink_a
    assert core.answered(corr).sink is handshake
    release = core.reauthenticated(10.0, 10_000, 0.9)
    assert core.state is S.READY and release.due == [first, second] and not release.reauthenticate
    assert core.in_flight_count == 0  # handed back to be written, none left held
    # the next renewal is from the new session's start
    send(core, 18.9)
    assert core.send(19.0, Sink(), ApiKey.METADATA, 12, 30.0) == (REAUTH, None)


def test_a_renewal_without_a_new_lifetime_ends_re_authentication_for_good() -> None:
    core = ready()
    core.start_session(0.0, 10_000, 0.9)
    reauthenticating(core, 9.0)
    core.reauthenticated(9.1, 0, 0.9)
    send(core, 1e9)
    assert core.state is S.READY


def test_a_request_whose_caller_gave_up_while_held_is_not_written_after_renewal() -> None:
    core = ready()
    core.start_session(0.0, 10_000, 0.9)
    first = reauthenticating(core, 9.0)
    gone = held(core, 9.1)
    gone.sink.set_exception(TimeoutError())  # its caller was cancelled
    assert core.reauthenticated(9.2, 10_000, 0.9).due == [first]


def test_a_throttle_still_on_after_renewal_keeps_the_requests_until_its_release() -> None:
    core = ready()
    core.start_session(0.0, 10_000, 0.9)
    first = reauthenticating(core, 9.0)
    assert core.throttle(ApiKey.PRODUCE, 9, 1000, 9.0)  # a response in flight asked for 1 s
    assert core.release_timer() == 10.0
    assert core.reauthenticated(9.5, 10_000, 0.9).due == []
    assert core.send(9.6, Sink(), ApiKey.METADATA, 12, 30.0) == (HOLD, None)
    release = core.release(10.0)
    assert release.due == [first] and not release.reauthenticate


def test_a_throttle_release_during_renewal_leaves_the_requests_to_its_end() -> None:
    core = ready()
    core.start_session(0.0, 10_000, 0.9)
    first = reauthenticating(core, 9.0)
    core.throttle(ApiKey.PRODUCE, 9, 100, 9.0)
    core.release_timer()
    assert core.release(9.1).due == [] and core.state is S.REAUTHENTICATING
    assert core.reauthenticated(9.3, 10_000, 0.9).due == [first]


def test_requests_held_by_a_throttle_past_the_renewal_time_wait_for_a_renewal_first() -> None:
    core = ready()
    core.start_session(0.0, 10_000, 0.9)
    core.throttle(ApiKey.PRODUCE, 9, 1000, 8.5)
    core.release_timer()
    entry = held(core, 8.6)
    release = core.release(9.5)  # throttle over, and the session is due for renewal
    assert release.reauthenticate and release.due == [] and core.state is S.REAUTHENTICATING
    assert core.reauthenticated(9.7, 10_000, 0.9).due == [entry]


def test_a_failed_renewal_closes_with_every_request_in_flight_and_held_in_order() -> None:
    core = ready()
    core.start_session(0.0, 10_000, 0.9)
    _, sink_a, _ = send(core, 1.0)
    first = reauthenticating(core, 9.0)
    handshake = Sink("handshake")
    core.send_handshake(9.0, handshake, ApiKey.SASL_HANDSHAKE, 1, 30.0)
    assert core.close() == [sink_a, handshake, first.sink]
    assert core.state is S.CLOSED


def test_a_re_authenticating_connection_is_not_idle() -> None:
    core = ready(idle_timeout=1.0)
    core.start_idle_timer(0.0)
    core.start_session(0.0, 10_000, 0.9)
    reauthenticating(core, 9.0)
    assert not core.check_idle(20.0).close


# ------------------------------------------------------------------------- no response, withdraw

def test_a_request_without_a_response_takes_an_id_but_is_not_in_flight() -> None:
    core = ready(idle_timeout=60.0)
    core.start_idle_timer(0.0)
    corr, arm_at = core.send(10.0, None, ApiKey.PRODUCE, 9, 30.0)
    assert (corr, arm_at) == (1, None) and core.idle
    assert core.check_idle(60.0) == Wake(next_at=70.0)  # it counts as a use


def test_a_withdrawn_request_is_neither_answered_nor_failed_at_close() -> None:
    core = ready()
    kept, kept_sink, _ = send(core, 0.0)
    gone, _, _ = send(core, 0.0)
    core.withdraw(gone)
    assert core.in_flight_count == 1
    with pytest.raises(KafkaConnectionError, match="unknown correlation id"):
        core.answered(gone)
    assert core.close() == [kept_sink]
