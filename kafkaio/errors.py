"""Every error kafkaio raises: one class per Kafka error code, plus the client-side errors.

Each class carries three class attributes that the layers above act on:

- ``errno``: the Kafka error code (``-1`` for errors raised by the client itself);
- ``retriable``: the same request may succeed if sent again (as in the Java client's
  ``RetriableException`` hierarchy);
- ``invalid_metadata``: the cached cluster metadata is probably stale and should be refreshed
  before retrying (the Java client's ``InvalidMetadataException`` hierarchy).

Class names follow the Java client's exception names with ``Exception`` replaced by ``Error``.
Messages never include secrets: callers pass only names, ids and codes.
"""
from __future__ import annotations

from typing import NoReturn


class KafkaError(Exception):
    """Base class of every kafkaio error."""

    errno: int = -1
    code_name: str | None = None
    retriable: bool = False
    invalid_metadata: bool = False

    def __init__(self, message: str | None = None, *args: object) -> None:
        super().__init__(*((message, *args) if message is not None else args))
        self.message = message

    def __str__(self) -> str:
        if self.message:
            if self.code_name:
                return f"[Error {self.errno}] {self.code_name}: {self.message}"
            return self.message
        if self.code_name:
            return f"[Error {self.errno}] {self.code_name}"
        return self.__class__.__name__

    def __repr__(self) -> str:
        return f"{self.__class__.__name__}({str(self)!r})"


# ---------------------------------------------------------------------------------------------
# Client-side errors (raised by kafkaio itself; some share a Kafka code with the broker's error)
# ---------------------------------------------------------------------------------------------


class ConfigError(KafkaError, ValueError):
    """A configuration setting is missing, of the wrong type, or conflicts with another."""


class IllegalStateError(KafkaError):
    """An operation was called in a state that does not allow it (e.g. send() after close())."""


class IllegalArgumentError(KafkaError, ValueError):
    """A function argument is invalid."""


class KafkaTimeoutError(KafkaError):
    """An operation did not complete within its deadline."""

    retriable = True


class BufferExhaustedError(KafkaTimeoutError):
    """The producer's buffer memory stayed full for longer than max.block.ms."""


class KafkaConnectionError(KafkaError):
    """A broker connection could not be made, or was lost with requests in flight."""

    retriable = True
    invalid_metadata = True


class NoBrokersAvailableError(KafkaError):
    """None of the bootstrap or known brokers could be reached."""

    retriable = True


class KafkaProtocolError(KafkaError):
    """Bytes received from (or handed to) the wire codec do not form a valid message."""


class SerializationError(KafkaError):
    """A key or value serializer or deserializer failed."""


class CommitFailedError(KafkaError):
    """An offset commit cannot complete because the group rebalanced and the partitions were
    assigned to another member."""


class ProducerClosedError(KafkaError):
    """The producer was closed; no more records are accepted."""


class TransactionAbortedError(KafkaError):
    """A record failed because the transaction it belonged to was aborted."""


class InvalidOffsetError(KafkaError):
    """No valid offset is known for a partition (base of OffsetOutOfRange and NoOffsetForPartition)."""


class NoOffsetForPartitionError(InvalidOffsetError):
    """No committed offset exists and auto.offset.reset is "none"."""


class AuthorizationError(KafkaError):
    """Base of the *_AUTHORIZATION_FAILED errors."""


class CorruptRecordError(KafkaError):
    """A record batch failed its CRC, has impossible lengths, or is otherwise corrupt."""

    errno = 2
    code_name = "CORRUPT_MESSAGE"
    retriable = True


class RecordTooLargeError(KafkaError):
    """A record is larger than max.request.size or the broker's message.max.bytes."""

    errno = 10
    code_name = "MESSAGE_TOO_LARGE"


class UnsupportedVersionError(KafkaError):
    """No API version is supported by both the broker and kafkaio (also raised by negotiation)."""

    errno = 35
    code_name = "UNSUPPORTED_VERSION"


class AuthenticationError(KafkaError):
    """Authentication with the broker failed (SASL or TLS)."""

    errno = 58
    code_name = "SASL_AUTHENTICATION_FAILED"


class ProducerFencedError(KafkaError):
    """Another producer with the same transactional.id has a newer epoch: this one is fenced."""

    errno = 90
    code_name = "PRODUCER_FENCED"


# ---------------------------------------------------------------------------------------------
# One class per broker error code (Kafka 4.1)
# ---------------------------------------------------------------------------------------------


class UnknownServerError(KafkaError):
    """UNKNOWN_SERVER_ERROR (-1)."""
    errno = -1
    code_name = "UNKNOWN_SERVER_ERROR"


class OffsetOutOfRangeError(InvalidOffsetError):
    """OFFSET_OUT_OF_RANGE (1)."""
    errno = 1
    code_name = "OFFSET_OUT_OF_RANGE"


class UnknownTopicOrPartitionError(KafkaError):
    """UNKNOWN_TOPIC_OR_PARTITION (3)."""
    errno = 3
    code_name = "UNKNOWN_TOPIC_OR_PARTITION"
    retriable = True
    invalid_metadata = True


class InvalidFetchSizeError(KafkaError):
    """INVALID_FETCH_SIZE (4)."""
    errno = 4
    code_name = "INVALID_FETCH_SIZE"


class LeaderNotAvailableError(KafkaError):
    """LEADER_NOT_AVAILABLE (5)."""
    errno = 5
    code_name = "LEADER_NOT_AVAILABLE"
    retriable = True
    invalid_metadata = True


class NotLeaderOrFollowerError(KafkaError):
    """NOT_LEADER_OR_FOLLOWER (6)."""
    errno = 6
    code_name = "NOT_LEADER_OR_FOLLOWER"
    retriable = True
    invalid_metadata = True


class RequestTimedOutError(KafkaTimeoutError):
    """REQUEST_TIMED_OUT (7)."""
    errno = 7
    code_name = "REQUEST_TIMED_OUT"
    retriable = True


class BrokerNotAvailableError(KafkaError):
    """BROKER_NOT_AVAILABLE (8)."""
    errno = 8
    code_name = "BROKER_NOT_AVAILABLE"


class ReplicaNotAvailableError(KafkaError):
    """REPLICA_NOT_AVAILABLE (9)."""
    errno = 9
    code_name = "REPLICA_NOT_AVAILABLE"
    retriable = True
    invalid_metadata = True


class ControllerMovedError(KafkaError):
    """STALE_CONTROLLER_EPOCH (11)."""
    errno = 11
    code_name = "STALE_CONTROLLER_EPOCH"


class OffsetMetadataTooLargeError(KafkaError):
    """OFFSET_METADATA_TOO_LARGE (12)."""
    errno = 12
    code_name = "OFFSET_METADATA_TOO_LARGE"


class NetworkError(KafkaError):
    """NETWORK_EXCEPTION (13)."""
    errno = 13
    code_name = "NETWORK_EXCEPTION"
    retriable = True
    invalid_metadata = True


class CoordinatorLoadInProgressError(KafkaError):
    """COORDINATOR_LOAD_IN_PROGRESS (14)."""
    errno = 14
    code_name = "COORDINATOR_LOAD_IN_PROGRESS"
    retriable = True


class CoordinatorNotAvailableError(KafkaError):
    """COORDINATOR_NOT_AVAILABLE (15)."""
    errno = 15
    code_name = "COORDINATOR_NOT_AVAILABLE"
    retriable = True


class NotCoordinatorError(KafkaError):
    """NOT_COORDINATOR (16)."""
    errno = 16
    code_name = "NOT_COORDINATOR"
    retriable = True


class InvalidTopicError(KafkaError):
    """INVALID_TOPIC_EXCEPTION (17)."""
    errno = 17
    code_name = "INVALID_TOPIC_EXCEPTION"


class RecordBatchTooLargeError(KafkaError):
    """RECORD_LIST_TOO_LARGE (18)."""
    errno = 18
    code_name = "RECORD_LIST_TOO_LARGE"


class NotEnoughReplicasError(KafkaError):
    """NOT_ENOUGH_REPLICAS (19)."""
    errno = 19
    code_name = "NOT_ENOUGH_REPLICAS"
    retriable = True


class NotEnoughReplicasAfterAppendError(KafkaError):
    """NOT_ENOUGH_REPLICAS_AFTER_APPEND (20)."""
    errno = 20
    code_name = "NOT_ENOUGH_REPLICAS_AFTER_APPEND"
    retriable = True


class InvalidRequiredAcksError(KafkaError):
    """INVALID_REQUIRED_ACKS (21)."""
    errno = 21
    code_name = "INVALID_REQUIRED_ACKS"


class IllegalGenerationError(KafkaError):
    """ILLEGAL_GENERATION (22)."""
    errno = 22
    code_name = "ILLEGAL_GENERATION"


class InconsistentGroupProtocolError(KafkaError):
    """INCONSISTENT_GROUP_PROTOCOL (23)."""
    errno = 23
    code_name = "INCONSISTENT_GROUP_PROTOCOL"


class InvalidGroupIdError(KafkaError):
    """INVALID_GROUP_ID (24)."""
    errno = 24
    code_name = "INVALID_GROUP_ID"


class UnknownMemberIdError(KafkaError):
    """UNKNOWN_MEMBER_ID (25)."""
    errno = 25
    code_name = "UNKNOWN_MEMBER_ID"


class InvalidSessionTimeoutError(KafkaError):
    """INVALID_SESSION_TIMEOUT (26)."""
    errno = 26
    code_name = "INVALID_SESSION_TIMEOUT"


class RebalanceInProgressError(KafkaError):
    """REBALANCE_IN_PROGRESS (27)."""
    errno = 27
    code_name = "REBALANCE_IN_PROGRESS"


class InvalidCommitOffsetSizeError(KafkaError):
    """INVALID_COMMIT_OFFSET_SIZE (28)."""
    errno = 28
    code_name = "INVALID_COMMIT_OFFSET_SIZE"


class TopicAuthorizationError(AuthorizationError):
    """TOPIC_AUTHORIZATION_FAILED (29)."""
    errno = 29
    code_name = "TOPIC_AUTHORIZATION_FAILED"


class GroupAuthorizationError(AuthorizationError):
    """GROUP_AUTHORIZATION_FAILED (30)."""
    errno = 30
    code_name = "GROUP_AUTHORIZATION_FAILED"


class ClusterAuthorizationError(AuthorizationError):
    """CLUSTER_AUTHORIZATION_FAILED (31)."""
    errno = 31
    code_name = "CLUSTER_AUTHORIZATION_FAILED"


class InvalidTimestampError(KafkaError):
    """INVALID_TIMESTAMP (32)."""
    errno = 32
    code_name = "INVALID_TIMESTAMP"


class UnsupportedSaslMechanismError(AuthenticationError):
    """UNSUPPORTED_SASL_MECHANISM (33)."""
    errno = 33
    code_name = "UNSUPPORTED_SASL_MECHANISM"


class IllegalSaslStateError(AuthenticationError):
    """ILLEGAL_SASL_STATE (34)."""
    errno = 34
    code_name = "ILLEGAL_SASL_STATE"


class TopicExistsError(KafkaError):
    """TOPIC_ALREADY_EXISTS (36)."""
    errno = 36
    code_name = "TOPIC_ALREADY_EXISTS"


class InvalidPartitionsError(KafkaError):
    """INVALID_PARTITIONS (37)."""
    errno = 37
    code_name = "INVALID_PARTITIONS"


class InvalidReplicationFactorError(KafkaError):
    """INVALID_REPLICATION_FACTOR (38)."""
    errno = 38
    code_name = "INVALID_REPLICATION_FACTOR"


class InvalidReplicaAssignmentError(KafkaError):
    """INVALID_REPLICA_ASSIGNMENT (39)."""
    errno = 39
    code_name = "INVALID_REPLICA_ASSIGNMENT"


class InvalidConfigurationError(KafkaError):
    """INVALID_CONFIG (40)."""
    errno = 40
    code_name = "INVALID_CONFIG"


class NotControllerError(KafkaError):
    """NOT_CONTROLLER (41)."""
    errno = 41
    code_name = "NOT_CONTROLLER"
    retriable = True


class InvalidRequestError(KafkaError):
    """INVALID_REQUEST (42)."""
    errno = 42
    code_name = "INVALID_REQUEST"


class UnsupportedForMessageFormatError(KafkaError):
    """UNSUPPORTED_FOR_MESSAGE_FORMAT (43)."""
    errno = 43
    code_name = "UNSUPPORTED_FOR_MESSAGE_FORMAT"


class PolicyViolationError(KafkaError):
    """POLICY_VIOLATION (44)."""
    errno = 44
    code_name = "POLICY_VIOLATION"


class OutOfOrderSequenceNumberError(KafkaError):
    """OUT_OF_ORDER_SEQUENCE_NUMBER (45)."""
    errno = 45
    code_name = "OUT_OF_ORDER_SEQUENCE_NUMBER"


class DuplicateSequenceNumberError(KafkaError):
    """DUPLICATE_SEQUENCE_NUMBER (46)."""
    errno = 46
    code_name = "DUPLICATE_SEQUENCE_NUMBER"


class InvalidProducerEpochError(KafkaError):
    """INVALID_PRODUCER_EPOCH (47)."""
    errno = 47
    code_name = "INVALID_PRODUCER_EPOCH"


class InvalidTxnStateError(KafkaError):
    """INVALID_TXN_STATE (48)."""
    errno = 48
    code_name = "INVALID_TXN_STATE"


class InvalidPidMappingError(KafkaError):
    """INVALID_PRODUCER_ID_MAPPING (49)."""
    errno = 49
    code_name = "INVALID_PRODUCER_ID_MAPPING"


class InvalidTxnTimeoutError(KafkaError):
    """INVALID_TRANSACTION_TIMEOUT (50)."""
    errno = 50
    code_name = "INVALID_TRANSACTION_TIMEOUT"


class ConcurrentTransactionsError(KafkaError):
    """CONCURRENT_TRANSACTIONS (51)."""
    errno = 51
    code_name = "CONCURRENT_TRANSACTIONS"
    retriable = True


class TransactionCoordinatorFencedError(KafkaError):
    """TRANSACTION_COORDINATOR_FENCED (52)."""
    errno = 52
    code_name = "TRANSACTION_COORDINATOR_FENCED"


class TransactionalIdAuthorizationError(AuthorizationError):
    """TRANSACTIONAL_ID_AUTHORIZATION_FAILED (53)."""
    errno = 53
    code_name = "TRANSACTIONAL_ID_AUTHORIZATION_FAILED"


class SecurityDisabledError(KafkaError):
    """SECURITY_DISABLED (54)."""
    errno = 54
    code_name = "SECURITY_DISABLED"


class OperationNotAttemptedError(KafkaError):
    """OPERATION_NOT_ATTEMPTED (55)."""
    errno = 55
    code_name = "OPERATION_NOT_ATTEMPTED"


class KafkaStorageError(KafkaError):
    """KAFKA_STORAGE_ERROR (56)."""
    errno = 56
    code_name = "KAFKA_STORAGE_ERROR"
    retriable = True
    invalid_metadata = True


class LogDirNotFoundError(KafkaError):
    """LOG_DIR_NOT_FOUND (57)."""
    errno = 57
    code_name = "LOG_DIR_NOT_FOUND"


class SaslAuthenticationError(AuthenticationError):
    """SASL_AUTHENTICATION_FAILED (58)."""
    errno = 58
    code_name = "SASL_AUTHENTICATION_FAILED"


class UnknownProducerIdError(KafkaError):
    """UNKNOWN_PRODUCER_ID (59)."""
    errno = 59
    code_name = "UNKNOWN_PRODUCER_ID"


class ReassignmentInProgressError(KafkaError):
    """REASSIGNMENT_IN_PROGRESS (60)."""
    errno = 60
    code_name = "REASSIGNMENT_IN_PROGRESS"


class DelegationTokenDisabledError(KafkaError):
    """DELEGATION_TOKEN_AUTH_DISABLED (61)."""
    errno = 61
    code_name = "DELEGATION_TOKEN_AUTH_DISABLED"


class DelegationTokenNotFoundError(KafkaError):
    """DELEGATION_TOKEN_NOT_FOUND (62)."""
    errno = 62
    code_name = "DELEGATION_TOKEN_NOT_FOUND"


class DelegationTokenOwnerMismatchError(KafkaError):
    """DELEGATION_TOKEN_OWNER_MISMATCH (63)."""
    errno = 63
    code_name = "DELEGATION_TOKEN_OWNER_MISMATCH"


class UnsupportedByAuthenticationError(KafkaError):
    """DELEGATION_TOKEN_REQUEST_NOT_ALLOWED (64)."""
    errno = 64
    code_name = "DELEGATION_TOKEN_REQUEST_NOT_ALLOWED"


class DelegationTokenAuthorizationError(AuthorizationError):
    """DELEGATION_TOKEN_AUTHORIZATION_FAILED (65)."""
    errno = 65
    code_name = "DELEGATION_TOKEN_AUTHORIZATION_FAILED"


class DelegationTokenExpiredError(KafkaError):
    """DELEGATION_TOKEN_EXPIRED (66)."""
    errno = 66
    code_name = "DELEGATION_TOKEN_EXPIRED"


class InvalidPrincipalTypeError(KafkaError):
    """INVALID_PRINCIPAL_TYPE (67)."""
    errno = 67
    code_name = "INVALID_PRINCIPAL_TYPE"


class GroupNotEmptyError(KafkaError):
    """NON_EMPTY_GROUP (68)."""
    errno = 68
    code_name = "NON_EMPTY_GROUP"


class GroupIdNotFoundError(KafkaError):
    """GROUP_ID_NOT_FOUND (69)."""
    errno = 69
    code_name = "GROUP_ID_NOT_FOUND"


class FetchSessionIdNotFoundError(KafkaError):
    """FETCH_SESSION_ID_NOT_FOUND (70)."""
    errno = 70
    code_name = "FETCH_SESSION_ID_NOT_FOUND"
    retriable = True


class InvalidFetchSessionEpochError(KafkaError):
    """INVALID_FETCH_SESSION_EPOCH (71)."""
    errno = 71
    code_name = "INVALID_FETCH_SESSION_EPOCH"
    retriable = True


class ListenerNotFoundError(KafkaError):
    """LISTENER_NOT_FOUND (72)."""
    errno = 72
    code_name = "LISTENER_NOT_FOUND"
    retriable = True
    invalid_metadata = True


class TopicDeletionDisabledError(KafkaError):
    """TOPIC_DELETION_DISABLED (73)."""
    errno = 73
    code_name = "TOPIC_DELETION_DISABLED"


class FencedLeaderEpochError(KafkaError):
    """FENCED_LEADER_EPOCH (74)."""
    errno = 74
    code_name = "FENCED_LEADER_EPOCH"
    retriable = True
    invalid_metadata = True


class UnknownLeaderEpochError(KafkaError):
    """UNKNOWN_LEADER_EPOCH (75)."""
    errno = 75
    code_name = "UNKNOWN_LEADER_EPOCH"
    retriable = True


class UnsupportedCompressionTypeError(KafkaError):
    """UNSUPPORTED_COMPRESSION_TYPE (76)."""
    errno = 76
    code_name = "UNSUPPORTED_COMPRESSION_TYPE"


class StaleBrokerEpochError(KafkaError):
    """STALE_BROKER_EPOCH (77)."""
    errno = 77
    code_name = "STALE_BROKER_EPOCH"


class OffsetNotAvailableError(KafkaError):
    """OFFSET_NOT_AVAILABLE (78)."""
    errno = 78
    code_name = "OFFSET_NOT_AVAILABLE"
    retriable = True


class MemberIdRequiredError(KafkaError):
    """MEMBER_ID_REQUIRED (79)."""
    errno = 79
    code_name = "MEMBER_ID_REQUIRED"


class PreferredLeaderNotAvailableError(KafkaError):
    """PREFERRED_LEADER_NOT_AVAILABLE (80)."""
    errno = 80
    code_name = "PREFERRED_LEADER_NOT_AVAILABLE"
    retriable = True
    invalid_metadata = True


class GroupMaxSizeReachedError(KafkaError):
    """GROUP_MAX_SIZE_REACHED (81)."""
    errno = 81
    code_name = "GROUP_MAX_SIZE_REACHED"


class FencedInstanceIdError(KafkaError):
    """FENCED_INSTANCE_ID (82)."""
    errno = 82
    code_name = "FENCED_INSTANCE_ID"


class EligibleLeadersNotAvailableError(KafkaError):
    """ELIGIBLE_LEADERS_NOT_AVAILABLE (83)."""
    errno = 83
    code_name = "ELIGIBLE_LEADERS_NOT_AVAILABLE"
    retriable = True
    invalid_metadata = True


class ElectionNotNeededError(KafkaError):
    """ELECTION_NOT_NEEDED (84)."""
    errno = 84
    code_name = "ELECTION_NOT_NEEDED"
    retriable = True
    invalid_metadata = True


class NoReassignmentInProgressError(KafkaError):
    """NO_REASSIGNMENT_IN_PROGRESS (85)."""
    errno = 85
    code_name = "NO_REASSIGNMENT_IN_PROGRESS"


class GroupSubscribedToTopicError(KafkaError):
    """GROUP_SUBSCRIBED_TO_TOPIC (86)."""
    errno = 86
    code_name = "GROUP_SUBSCRIBED_TO_TOPIC"


class InvalidRecordError(KafkaError):
    """INVALID_RECORD (87)."""
    errno = 87
    code_name = "INVALID_RECORD"


class UnstableOffsetCommitError(KafkaError):
    """UNSTABLE_OFFSET_COMMIT (88)."""
    errno = 88
    code_name = "UNSTABLE_OFFSET_COMMIT"
    retriable = True


class ThrottlingQuotaExceededError(KafkaError):
    """THROTTLING_QUOTA_EXCEEDED (89)."""
    errno = 89
    code_name = "THROTTLING_QUOTA_EXCEEDED"
    retriable = True


class ResourceNotFoundError(KafkaError):
    """RESOURCE_NOT_FOUND (91)."""
    errno = 91
    code_name = "RESOURCE_NOT_FOUND"


class DuplicateResourceError(KafkaError):
    """DUPLICATE_RESOURCE (92)."""
    errno = 92
    code_name = "DUPLICATE_RESOURCE"


class UnacceptableCredentialError(KafkaError):
    """UNACCEPTABLE_CREDENTIAL (93)."""
    errno = 93
    code_name = "UNACCEPTABLE_CREDENTIAL"


class InconsistentVoterSetError(KafkaError):
    """INCONSISTENT_VOTER_SET (94)."""
    errno = 94
    code_name = "INCONSISTENT_VOTER_SET"


class InvalidUpdateVersionError(KafkaError):
    """INVALID_UPDATE_VERSION (95)."""
    errno = 95
    code_name = "INVALID_UPDATE_VERSION"


class FeatureUpdateFailedError(KafkaError):
    """FEATURE_UPDATE_FAILED (96)."""
    errno = 96
    code_name = "FEATURE_UPDATE_FAILED"


class PrincipalDeserializationError(KafkaError):
    """PRINCIPAL_DESERIALIZATION_FAILURE (97)."""
    errno = 97
    code_name = "PRINCIPAL_DESERIALIZATION_FAILURE"


class SnapshotNotFoundError(KafkaError):
    """SNAPSHOT_NOT_FOUND (98)."""
    errno = 98
    code_name = "SNAPSHOT_NOT_FOUND"


class PositionOutOfRangeError(KafkaError):
    """POSITION_OUT_OF_RANGE (99)."""
    errno = 99
    code_name = "POSITION_OUT_OF_RANGE"


class UnknownTopicIdError(KafkaError):
    """UNKNOWN_TOPIC_ID (100)."""
    errno = 100
    code_name = "UNKNOWN_TOPIC_ID"
    retriable = True
    invalid_metadata = True


class DuplicateBrokerRegistrationError(KafkaError):
    """DUPLICATE_BROKER_REGISTRATION (101)."""
    errno = 101
    code_name = "DUPLICATE_BROKER_REGISTRATION"


class BrokerIdNotRegisteredError(KafkaError):
    """BROKER_ID_NOT_REGISTERED (102)."""
    errno = 102
    code_name = "BROKER_ID_NOT_REGISTERED"


class InconsistentTopicIdError(KafkaError):
    """INCONSISTENT_TOPIC_ID (103)."""
    errno = 103
    code_name = "INCONSISTENT_TOPIC_ID"
    retriable = True
    invalid_metadata = True


class InconsistentClusterIdError(KafkaError):
    """INCONSISTENT_CLUSTER_ID (104)."""
    errno = 104
    code_name = "INCONSISTENT_CLUSTER_ID"


class TransactionalIdNotFoundError(KafkaError):
    """TRANSACTIONAL_ID_NOT_FOUND (105)."""
    errno = 105
    code_name = "TRANSACTIONAL_ID_NOT_FOUND"


class FetchSessionTopicIdError(KafkaError):
    """FETCH_SESSION_TOPIC_ID_ERROR (106)."""
    errno = 106
    code_name = "FETCH_SESSION_TOPIC_ID_ERROR"
    retriable = True


class IneligibleReplicaError(KafkaError):
    """INELIGIBLE_REPLICA (107)."""
    errno = 107
    code_name = "INELIGIBLE_REPLICA"


class NewLeaderElectedError(KafkaError):
    """NEW_LEADER_ELECTED (108)."""
    errno = 108
    code_name = "NEW_LEADER_ELECTED"


class OffsetMovedToTieredStorageError(KafkaError):
    """OFFSET_MOVED_TO_TIERED_STORAGE (109)."""
    errno = 109
    code_name = "OFFSET_MOVED_TO_TIERED_STORAGE"


class FencedMemberEpochError(KafkaError):
    """FENCED_MEMBER_EPOCH (110)."""
    errno = 110
    code_name = "FENCED_MEMBER_EPOCH"


class UnreleasedInstanceIdError(KafkaError):
    """UNRELEASED_INSTANCE_ID (111)."""
    errno = 111
    code_name = "UNRELEASED_INSTANCE_ID"


class UnsupportedAssignorError(KafkaError):
    """UNSUPPORTED_ASSIGNOR (112)."""
    errno = 112
    code_name = "UNSUPPORTED_ASSIGNOR"


class StaleMemberEpochError(KafkaError):
    """STALE_MEMBER_EPOCH (113)."""
    errno = 113
    code_name = "STALE_MEMBER_EPOCH"


class MismatchedEndpointTypeError(KafkaError):
    """MISMATCHED_ENDPOINT_TYPE (114)."""
    errno = 114
    code_name = "MISMATCHED_ENDPOINT_TYPE"


class UnsupportedEndpointTypeError(KafkaError):
    """UNSUPPORTED_ENDPOINT_TYPE (115)."""
    errno = 115
    code_name = "UNSUPPORTED_ENDPOINT_TYPE"


class UnknownControllerIdError(KafkaError):
    """UNKNOWN_CONTROLLER_ID (116)."""
    errno = 116
    code_name = "UNKNOWN_CONTROLLER_ID"


class UnknownSubscriptionIdError(KafkaError):
    """UNKNOWN_SUBSCRIPTION_ID (117)."""
    errno = 117
    code_name = "UNKNOWN_SUBSCRIPTION_ID"


class TelemetryTooLargeError(KafkaError):
    """TELEMETRY_TOO_LARGE (118)."""
    errno = 118
    code_name = "TELEMETRY_TOO_LARGE"


class InvalidRegistrationError(KafkaError):
    """INVALID_REGISTRATION (119)."""
    errno = 119
    code_name = "INVALID_REGISTRATION"


class TransactionAbortableError(KafkaError):
    """TRANSACTION_ABORTABLE (120)."""
    errno = 120
    code_name = "TRANSACTION_ABORTABLE"


class InvalidRecordStateError(KafkaError):
    """INVALID_RECORD_STATE (121)."""
    errno = 121
    code_name = "INVALID_RECORD_STATE"


class ShareSessionNotFoundError(KafkaError):
    """SHARE_SESSION_NOT_FOUND (122)."""
    errno = 122
    code_name = "SHARE_SESSION_NOT_FOUND"
    retriable = True


class InvalidShareSessionEpochError(KafkaError):
    """INVALID_SHARE_SESSION_EPOCH (123)."""
    errno = 123
    code_name = "INVALID_SHARE_SESSION_EPOCH"
    retriable = True


class FencedStateEpochError(KafkaError):
    """FENCED_STATE_EPOCH (124)."""
    errno = 124
    code_name = "FENCED_STATE_EPOCH"


class InvalidVoterKeyError(KafkaError):
    """INVALID_VOTER_KEY (125)."""
    errno = 125
    code_name = "INVALID_VOTER_KEY"


class DuplicateVoterError(KafkaError):
    """DUPLICATE_VOTER (126)."""
    errno = 126
    code_name = "DUPLICATE_VOTER"


class VoterNotFoundError(KafkaError):
    """VOTER_NOT_FOUND (127)."""
    errno = 127
    code_name = "VOTER_NOT_FOUND"


class InvalidRegularExpressionError(KafkaError):
    """INVALID_REGULAR_EXPRESSION (128)."""
    errno = 128
    code_name = "INVALID_REGULAR_EXPRESSION"


class RebootstrapRequiredError(KafkaError):
    """REBOOTSTRAP_REQUIRED (129)."""
    errno = 129
    code_name = "REBOOTSTRAP_REQUIRED"


class StreamsInvalidTopologyError(KafkaError):
    """STREAMS_INVALID_TOPOLOGY (130)."""
    errno = 130
    code_name = "STREAMS_INVALID_TOPOLOGY"


class StreamsInvalidTopologyEpochError(KafkaError):
    """STREAMS_INVALID_TOPOLOGY_EPOCH (131)."""
    errno = 131
    code_name = "STREAMS_INVALID_TOPOLOGY_EPOCH"


class StreamsTopologyFencedError(KafkaError):
    """STREAMS_TOPOLOGY_FENCED (132)."""
    errno = 132
    code_name = "STREAMS_TOPOLOGY_FENCED"


class ShareSessionLimitReachedError(KafkaError):
    """SHARE_SESSION_LIMIT_REACHED (133)."""
    errno = 133
    code_name = "SHARE_SESSION_LIMIT_REACHED"
    retriable = True


# Names other clients (aiokafka, kafka-python, the Java client) use for the same classes.
NotLeaderForPartitionError = NotLeaderOrFollowerError
TopicAlreadyExistsError = TopicExistsError
OutOfOrderSequenceError = OutOfOrderSequenceNumberError
DuplicateSequenceError = DuplicateSequenceNumberError
MessageSizeTooLargeError = RecordTooLargeError
InvalidConfigError = InvalidConfigurationError


def _build_registry() -> dict[int, type[KafkaError]]:
    # Later definitions win, so the specific SaslAuthenticationError (58) replaces its base class.
    registry: dict[int, type[KafkaError]] = {}
    for value in list(globals().values()):
        if isinstance(value, type) and issubclass(value, KafkaError) and value.code_name is not None:
            registry[value.errno] = value
    return registry


_BY_CODE: dict[int, type[KafkaError]] = _build_registry()


class LogTruncationError(OffsetOutOfRangeError):
    """KIP-320: the log was truncated below the consumer's position (an unclean leader election):
    records it handed out are no longer in the log, and ``auto_offset_reset`` is "none".

    ``topic_partition``; ``offset``, the position; ``divergent_offset``, an
    :class:`~kafkaio.structs.OffsetAndMetadata` of where the log diverges (the end of the last leader
    epoch the log and the consumer agree on) with that epoch. Seek to continue. Defined after the
    registry: raised by the client, never made from an error code (as Java's
    ``LogTruncationException``, a subclass of ``OffsetOutOfRangeException``)."""


class UnknownKafkaError(KafkaError):
    """An error code this version of kafkaio does not know (newer broker)."""


_UNKNOWN_BY_CODE: dict[int, type[KafkaError]] = {}


def error_for_code(code: int) -> type[KafkaError]:
    """Return the exception class for Kafka error ``code`` (a made-up subclass of
    :class:`UnknownKafkaError` for codes newer than this module). ``0`` is not an error: it
    raises ``ValueError``."""
    cls = _BY_CODE.get(code)
    if cls is not None:
        return cls
    if code == 0:
        raise ValueError("error code 0 (NONE) is not an error")
    cls = _UNKNOWN_BY_CODE.get(code)
    if cls is None:
        cls = type(f"UnknownKafkaError{code}", (UnknownKafkaError,),
                   {"errno": code, "code_name": f"UNKNOWN_CODE_{code}", "__module__": __name__})
        _UNKNOWN_BY_CODE[code] = cls
    return cls


def raise_for_code(code: int, message: str | None = None) -> None:
    """Raise the exception for Kafka error ``code`` with ``message``; do nothing for ``0``."""
    if code:
        _raise(code, message)


def _raise(code: int, message: str | None) -> NoReturn:
    raise error_for_code(code)(message)


def all_error_classes() -> dict[int, type[KafkaError]]:
    """A copy of the code -> class table (for tests and documentation)."""
    return dict(_BY_CODE)
