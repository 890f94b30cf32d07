"""kafkaio.errors: one class per Kafka error code, with the Java client's retriability."""
from __future__ import annotations

import pytest

from kafkaio import errors as e


def test_every_code_from_minus_one_to_136_has_a_class() -> None:
    table = e.all_error_classes()
    assert sorted(table) == [c for c in range(-1, 137) if c != 0]
    for code, cls in table.items():
        assert cls.errno == code and issubclass(cls, e.KafkaError)
        assert cls.__name__.endswith("Error") and cls.code_name
        assert e.error_for_code(code) is cls


@pytest.mark.parametrize("code, cls, retriable, invalid_metadata", [
    (-1, e.UnknownServerError, False, False),
    (1, e.OffsetOutOfRangeError, False, False),
    (2, e.CorruptRecordError, True, False),
    (3, e.UnknownTopicOrPartitionError, True, True),
    (6, e.NotLeaderOrFollowerError, True, True),
    (7, e.RequestTimedOutError, True, False),
    (10, e.RecordTooLargeError, False, False),
    (13, e.NetworkError, True, True),
    (15, e.CoordinatorNotAvailableError, True, False),
    (16, e.NotCoordinatorError, True, False),
    (22, e.IllegalGenerationError, False, False),
    (25, e.UnknownMemberIdError, False, False),
    (27, e.RebalanceInProgressError, False, False),
    (29, e.TopicAuthorizationError, False, False),
    (35, e.UnsupportedVersionError, False, False),
    (36, e.TopicExistsError, False, False),
    (45, e.OutOfOrderSequenceNumberError, False, False),
    (46, e.DuplicateSequenceNumberError, False, False),
    (47, e.InvalidProducerEpochError, False, False),
    (51, e.ConcurrentTransactionsError, True, False),
    (56, e.KafkaStorageError, True, True),
    (58, e.SaslAuthenticationError, False, False),
    (59, e.UnknownProducerIdError, False, False),
    (74, e.FencedLeaderEpochError, True, True),
    (75, e.UnknownLeaderEpochError, True, False),
    (79, e.MemberIdRequiredError, False, False),
    (89, e.ThrottlingQuotaExceededError, True, False),
    (90, e.ProducerFencedError, False, False),
    (100, e.UnknownTopicIdError, True, True),
    (120, e.TransactionAbortableError, False, False),
    (128, e.InvalidRegularExpressionError, False, False),
    (133, e.ShareSessionLimitReachedError, True, False),
    (134, e.GroupDeletionFailedError, False, False),
    (136, e.ControllerIdNotRegisteredError, False, False),
])
def test_selected_codes(code: int, cls: type, retriable: bool, invalid_metadata: bool) -> None:
    assert e.error_for_code(code) is cls
    assert cls.retriable is retriable and cls.invalid_metadata is invalid_metadata


def test_hierarchy_matches_java_where_callers_rely_on_it() -> None:
    assert issubclass(e.SaslAuthenticationError, e.AuthenticationError)
    assert issubclass(e.UnsupportedSaslMechanismError, e.AuthenticationError)
    assert issubclass(e.TopicAuthorizationError, e.AuthorizationError)
    assert issubclass(e.TransactionalIdAuthorizationError, e.AuthorizationError)
    assert issubclass(e.RequestTimedOutError, e.KafkaTimeoutError)
    assert issubclass(e.OffsetOutOfRangeError, e.InvalidOffsetError)
    assert issubclass(e.NoOffsetForPartitionError, e.InvalidOffsetError)
    assert e.InvalidProducerEpochError is not e.ProducerFencedError
    assert e.NotLeaderForPartitionError is e.NotLeaderOrFollowerError


def test_client_side_errors() -> None:
    for cls in (e.ConfigError, e.KafkaTimeoutError, e.KafkaConnectionError, e.NoBrokersAvailableError,
                e.IllegalStateError, e.CommitFailedError, e.ProducerClosedError, e.KafkaProtocolError):
        assert cls.errno == -1 and issubclass(cls, e.KafkaError)
    assert e.KafkaTimeoutError.retriable and e.KafkaConnectionError.retriable
    assert not e.ConfigError.retriable and issubclass(e.ConfigError, ValueError)
    assert e.AuthenticationError.errno == 58 and e.CorruptRecordError.errno == 2


def test_raise_for_code() -> None:
    e.raise_for_code(0)
    with pytest.raises(e.NotLeaderOrFollowerError) as info:
        e.raise_for_code(6, "topic t partition 0")
    assert str(info.value) == "[Error 6] NOT_LEADER_OR_FOLLOWER: topic t partition 0"
    assert info.value.retriable
    with pytest.raises(e.UnknownMemberIdError, match=r"\[Error 25\] UNKNOWN_MEMBER_ID"):
        e.raise_for_code(25)


def test_unknown_codes_get_a_stable_class() -> None:
    cls = e.error_for_code(4242)
    assert issubclass(cls, e.UnknownKafkaError) and cls.errno == 4242
    assert e.error_for_code(4242) is cls
    with pytest.raises(e.UnknownKafkaError):
        e.raise_for_code(4242)
    with pytest.raises(ValueError):
        e.error_for_code(0)


def test_messages_are_only_what_the_caller_passed() -> None:
    err = e.ConfigError("sasl_plain_password must be a str")
    assert str(err) == "sasl_plain_password must be a str" and "ConfigError" in repr(err)
    assert str(e.KafkaTimeoutError()) == "KafkaTimeoutError"


def test_error_code_is_the_one_table() -> None:
    assert e.ErrorCode(0) is e.ErrorCode.NONE and e.ErrorCode.NONE == 0
    for code in e.ErrorCode:
        if code is e.ErrorCode.NONE:
            continue
        cls = code.exception
        assert cls.code is code and cls.errno == code and cls.code_name == code.name
        assert cls.retriable is code.retriable and cls.invalid_metadata is code.invalid_metadata
    assert sorted(e.all_error_classes()) == sorted(int(c) for c in e.ErrorCode if c)
    assert e.ErrorCode.NOT_LEADER_OR_FOLLOWER.invalid_metadata and e.ErrorCode.NOT_COORDINATOR.retriable
    assert not e.ErrorCode.NOT_COORDINATOR.invalid_metadata


def test_subclasses_inherit_their_bases_code() -> None:
    assert e.LogTruncationError.errno == 1 and e.error_for_code(1) is e.OffsetOutOfRangeError
    assert e.SaslAuthenticationError.code is e.ErrorCode.SASL_AUTHENTICATION_FAILED
    assert e.error_for_code(58) is e.SaslAuthenticationError
