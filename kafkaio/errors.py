"""Every error kafkaio raises: one class per Kafka error code, plus the client-side errors.

:class:`ErrorCode` is the one table of Kafka's error codes: each member is the wire code, named as
Kafka names it, and knows

- ``retriable``: the same request may succeed if sent again (as in the Java client's
  ``RetriableException`` hierarchy);
- ``invalid_metadata``: the cached cluster metadata is probably stale and should be refreshed
  before retrying (the Java client's ``InvalidMetadataException`` hierarchy);
- ``exception``: the class raised for it.

Each error class names its member (``code = ErrorCode.NOT_LEADER_OR_FOLLOWER``) and takes
``errno``, ``code_name``, ``retriable`` and ``invalid_metadata`` from it; errors raised by the client
itself have ``errno`` ``-1`` and set their own flags. Class names follow the Java client's exception
names with ``Exception`` replaced by ``Error``. Messages never include secrets: callers pass only
names, ids and codes.
"""
from __future__ import annotations

from enum import IntEnum
from typing import TYPE_CHECKING, Any, ClassVar, NoReturn

if TYPE_CHECKING:
    from kafkaio.structs import OffsetAndMetadata, TopicPartition

_R = 1  # retriable
_M = 2  # invalid_metadata


class ErrorCode(IntEnum):
    """Kafka's error codes (Kafka 4.4), with whether each is retriable and invalidates metadata."""

    _flags: int

    def __new__(cls, value: int, flags: int = 0) -> ErrorCode:
        member = int.__new__(cls, value)
        member._value_ = value
        member._flags = flags
        return member

    @property
    def retriable(self) -> bool:
        """The same request may succeed if sent again."""
        return bool(self._flags & _R)

    @property
    def invalid_metadata(self) -> bool:
        """The cached metadata is probably stale: refresh it before retrying."""
        return bool(self._flags & _M)

    @property
    def exception(self) -> type[KafkaError]:
        """The class raised for this code (``ValueError`` for ``NONE``)."""
        return error_for_code(self)

    UNKNOWN_SERVER_ERROR = -1
    NONE = 0
    OFFSET_OUT_OF_RANGE = 1
    CORRUPT_MESSAGE = 2, _R
    UNKNOWN_TOPIC_OR_PARTITION = 3, _R | _M
    INVALID_FETCH_SIZE = 4
    LEADER_NOT_AVAILABLE = 5, _R | _M
    NOT_LEADER_OR_FOLLOWER = 6, _R | _M
    REQUEST_TIMED_OUT = 7, _R
    BROKER_NOT_AVAILABLE = 8
    REPLICA_NOT_AVAILABLE = 9, _R | _M
    MESSAGE_TOO_LARGE = 10
    STALE_CONTROLLER_EPOCH = 11
    OFFSET_METADATA_TOO_LARGE = 12
    NETWORK_EXCEPTION = 13, _R | _M
    COORDINATOR_LOAD_IN_PROGRESS = 14, _R
    COORDINATOR_NOT_AVAILABLE = 15, _R
    NOT_COORDINATOR = 16, _R
    INVALID_TOPIC_EXCEPTION = 17
    RECORD_LIST_TOO_LARGE = 18
    NOT_ENOUGH_REPLICAS = 19, _R
    NOT_ENOUGH_REPLICAS_AFTER_APPEND = 20, _R
    INVALID_REQUIRED_ACKS = 21
    ILLEGAL_GENERATION = 22
    INCONSISTENT_GROUP_PROTOCOL = 23
    INVALID_GROUP_ID = 24
    UNKNOWN_MEMBER_ID = 25
    INVALID_SESSION_TIMEOUT = 26
    REBALANCE_IN_PROGRESS = 27
    INVALID_COMMIT_OFFSET_SIZE = 28
    TOPIC_AUTHORIZATION_FAILED = 29
    GROUP_AUTHORIZATION_FAILED = 30
    CLUSTER_AUTHORIZATION_FAILED = 31
    INVALID_TIMESTAMP = 32
    UNSUPPORTED_SASL_MECHANISM = 33
    ILLEGAL_SASL_STATE = 34
    UNSUPPORTED_VERSION = 35
    TOPIC_ALREADY_EXISTS = 36
    INVALID_PARTITIONS = 37
    INVALID_REPLICATION_FACTOR = 38
    INVALID_REPLICA_ASSIGNMENT = 39
    INVALID_CONFIG = 40
    NOT_CONTROLLER = 41, _R
    INVALID_REQUEST = 42
    UNSUPPORTED_FOR_MESSAGE_FORMAT = 43
    POLICY_VIOLATION = 44
    OUT_OF_ORDER_SEQUENCE_NUMBER = 45
    DUPLICATE_SEQUENCE_NUMBER = 46
    INVALID_PRODUCER_EPOCH = 47
    INVALID_TXN_STATE = 48
    INVALID_PRODUCER_ID_MAPPING = 49
    INVALID_TRANSACTION_TIMEOUT = 50
    CONCURRENT_TRANSACTIONS = 51, _R
    TRANSACTION_COORDINATOR_FENCED = 52
    TRANSACTIONAL_ID_AUTHORIZATION_FAILED = 53
    SECURITY_DISABLED = 54
    OPERATION_NOT_ATTEMPTED = 55
    KAFKA_STORAGE_ERROR = 56, _R | _M
    LOG_DIR_NOT_FOUND = 57
    SASL_AUTHENTICATION_FAILED = 58
    UNKNOWN_PRODUCER_ID = 59
    REASSIGNMENT_IN_PROGRESS = 60
    DELEGATION_TOKEN_AUTH_DISABLED = 61
    DELEGATION_TOKEN_NOT_FOUND = 62
    DELEGATION_TOKEN_OWNER_MISMATCH = 63
    DELEGATION_TOKEN_REQUEST_NOT_ALLOWED = 64
    DELEGATION_TOKEN_AUTHORIZATION_FAILED = 65
    DELEGATION_TOKEN_EXPIRED = 66
    INVALID_PRINCIPAL_TYPE = 67
    NON_EMPTY_GROUP = 68
    GROUP_ID_NOT_FOUND = 69
    FETCH_SESSION_ID_NOT_FOUND = 70, _R
    INVALID_FETCH_SESSION_EPOCH = 71, _R
    LISTENER_NOT_FOUND = 72, _R | _M
    TOPIC_DELETION_DISABLED = 73
    FENCED_LEADER_EPOCH = 74, _R | _M
    UNKNOWN_LEADER_EPOCH = 75, _R
    UNSUPPORTED_COMPRESSION_TYPE = 76
    STALE_BROKER_EPOCH = 77
    OFFSET_NOT_AVAILABLE = 78, _R
    MEMBER_ID_REQUIRED = 79
    PREFERRED_LEADER_NOT_AVAILABLE = 80, _R | _M
    GROUP_MAX_SIZE_REACHED = 81
    FENCED_INSTANCE_ID = 82
    ELIGIBLE_LEADERS_NOT_AVAILABLE = 83, _R | _M
    ELECTION_NOT_NEEDED = 84, _R | _M
    NO_REASSIGNMENT_IN_PROGRESS = 85
    GROUP_SUBSCRIBED_TO_TOPIC = 86
    INVALID_RECORD = 87
    UNSTABLE_OFFSET_COMMIT = 88, _R
    THROTTLING_QUOTA_EXCEEDED = 89, _R
    PRODUCER_FENCED = 90
    RESOURCE_NOT_FOUND = 91
    DUPLICATE_RESOURCE = 92
    UNACCEPTABLE_CREDENTIAL = 93
    INCONSISTENT_VOTER_SET = 94
    INVALID_UPDATE_VERSION = 95
    FEATURE_UPDATE_FAILED = 96
    PRINCIPAL_DESERIALIZATION_FAILURE = 97
    SNAPSHOT_NOT_FOUND = 98
    POSITION_OUT_OF_RANGE = 99
    UNKNOWN_TOPIC_ID = 100, _R | _M
    DUPLICATE_BROKER_REGISTRATION = 101
    BROKER_ID_NOT_REGISTERED = 102
    INCONSISTENT_TOPIC_ID = 103, _R | _M
    INCONSISTENT_CLUSTER_ID = 104
    TRANSACTIONAL_ID_NOT_FOUND = 105
    FETCH_SESSION_TOPIC_ID_ERROR = 106, _R
    INELIGIBLE_REPLICA = 107
    NEW_LEADER_ELECTED = 108
    OFFSET_MOVED_TO_TIERED_STORAGE = 109
    FENCED_MEMBER_EPOCH = 110
    UNRELEASED_INSTANCE_ID = 111
    UNSUPPORTED_ASSIGNOR = 112
    STALE_MEMBER_EPOCH = 113
    MISMATCHED_ENDPOINT_TYPE = 114
    UNSUPPORTED_ENDPOINT_TYPE = 115
    UNKNOWN_CONTROLLER_ID = 116
    UNKNOWN_SUBSCRIPTION_ID = 117
    TELEMETRY_TOO_LARGE = 118
    INVALID_REGISTRATION = 119
    TRANSACTION_ABORTABLE = 120
    INVALID_RECORD_STATE = 121
    SHARE_SESSION_NOT_FOUND = 122, _R
    INVALID_SHARE_SESSION_EPOCH = 123, _R
    FENCED_STATE_EPOCH = 124
    INVALID_VOTER_KEY = 125
    DUPLICATE_VOTER = 126
    VOTER_NOT_FOUND = 127
    INVALID_REGULAR_EXPRESSION = 128
    # the client bootstraps again (KIP-1242, KIP-1102), then what failed is tried again
    REBOOTSTRAP_REQUIRED = 129, _R | _M
    STREAMS_INVALID_TOPOLOGY = 130
    STREAMS_INVALID_TOPOLOGY_EPOCH = 131
    STREAMS_TOPOLOGY_FENCED = 132
    SHARE_SESSION_LIMIT_REACHED = 133, _R
    GROUP_DELETION_FAILED = 134
    STREAMS_TOPOLOGY_DESCRIPTION_UPDATE_FAILED = 135
    CONTROLLER_ID_NOT_REGISTERED = 136


class KafkaError(Exception):
    """Base class of every kafkaio error."""

    code: ClassVar[ErrorCode | None] = None
    errno: ClassVar[int] = -1
    code_name: ClassVar[str | None] = None
    retriable: ClassVar[bool] = False
    invalid_metadata: ClassVar[bool] = False
    # set on the error an Admin call raises (raise_on_error): every item's result, the failed
    # ones (docs/admin.md); and on a DeleteAcls filter's error, the ACLs it did delete
    results: dict[Any, Any]
    failures: dict[Any, KafkaError]
    deleted: list[Any]

    def __init_subclass__(cls, **kwargs: object) -> None:
        super().__init_subclass__(**kwargs)
        code = cls.__dict__.get("code")
        if code is not None:
            cls.errno = int(code)
            cls.code_name = code.name
            cls.retriable = code.retriable
            cls.invalid_metadata = code.invalid_metadata

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


class FieldEncodeError(KafkaProtocolError):
    """A value in a request being encoded has the wrong type or range; the message names the field
    by its path (``topic_data[0].name``) when it is known. Raised before any byte of the request is
    written."""

    def __init__(self, path: str, reason: str) -> None:
        super().__init__(f"cannot encode field {path!r}: {reason}" if path else f"cannot encode: {reason}")
        self.path = path
        self.reason = reason


class SerializationError(KafkaError):
    """A key or value serializer or deserializer failed."""

    # set when a consumer's deserializer failed: where the record is
    topic_partition: TopicPartition
    offset: int


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

    code = ErrorCode.CORRUPT_MESSAGE


class RecordTooLargeError(KafkaError):
    """A record is larger than max.request.size or the broker's message.max.bytes."""

    code = ErrorCode.MESSAGE_TOO_LARGE


class UnsupportedVersionError(KafkaError):
    """No API version is supported by both the broker and kafkaio (also raised by negotiation)."""

    code = ErrorCode.UNSUPPORTED_VERSION


class AuthenticationError(KafkaError):
    """Authentication with the broker failed (SASL or TLS)."""

    code = ErrorCode.SASL_AUTHENTICATION_FAILED


class SslAuthenticationError(AuthenticationError):
    """The TLS handshake failed (untrusted certificate, wrong host name, protocol mismatch).

    Not retriable: the same handshake will fail the same way. Raised by the client, never made
    from an error code: it has no code of its own."""

    errno = -1
    code_name = None


class ProducerFencedError(KafkaError):
    """Another producer with the same transactional.id has a newer epoch: this one is fenced."""

    code = ErrorCode.PRODUCER_FENCED


# ---------------------------------------------------------------------------------------------
# One class per broker error code (Kafka 4.4)
# ---------------------------------------------------------------------------------------------


class UnknownServerError(KafkaError):
    """UNKNOWN_SERVER_ERROR (-1)."""
    code = ErrorCode.UNKNOWN_SERVER_ERROR


class OffsetOutOfRangeError(InvalidOffsetError):
    """OFFSET_OUT_OF_RANGE (1)."""
    code = ErrorCode.OFFSET_OUT_OF_RANGE
    # set when a consumer raises it: the partition and its position
    topic_partition: TopicPartition
    offset: int


class UnknownTopicOrPartitionError(KafkaError):
    """UNKNOWN_TOPIC_OR_PARTITION (3)."""
    code = ErrorCode.UNKNOWN_TOPIC_OR_PARTITION


class InvalidFetchSizeError(KafkaError):
    """INVALID_FETCH_SIZE (4)."""
    code = ErrorCode.INVALID_FETCH_SIZE


class LeaderNotAvailableError(KafkaError):
    """LEADER_NOT_AVAILABLE (5)."""
    code = ErrorCode.LEADER_NOT_AVAILABLE


class NotLeaderOrFollowerError(KafkaError):
    """NOT_LEADER_OR_FOLLOWER (6)."""
    code = ErrorCode.NOT_LEADER_OR_FOLLOWER


class RequestTimedOutError(KafkaTimeoutError):
    """REQUEST_TIMED_OUT (7)."""
    code = ErrorCode.REQUEST_TIMED_OUT


class BrokerNotAvailableError(KafkaError):
    """BROKER_NOT_AVAILABLE (8)."""
    code = ErrorCode.BROKER_NOT_AVAILABLE


class ReplicaNotAvailableError(KafkaError):
    """REPLICA_NOT_AVAILABLE (9)."""
    code = ErrorCode.REPLICA_NOT_AVAILABLE


class ControllerMovedError(KafkaError):
    """STALE_CONTROLLER_EPOCH (11)."""
    code = ErrorCode.STALE_CONTROLLER_EPOCH


class OffsetMetadataTooLargeError(KafkaError):
    """OFFSET_METADATA_TOO_LARGE (12)."""
    code = ErrorCode.OFFSET_METADATA_TOO_LARGE


class NetworkError(KafkaError):
    """NETWORK_EXCEPTION (13)."""
    code = ErrorCode.NETWORK_EXCEPTION


class CoordinatorLoadInProgressError(KafkaError):
    """COORDINATOR_LOAD_IN_PROGRESS (14)."""
    code = ErrorCode.COORDINATOR_LOAD_IN_PROGRESS


class CoordinatorNotAvailableError(KafkaError):
    """COORDINATOR_NOT_AVAILABLE (15)."""
    code = ErrorCode.COORDINATOR_NOT_AVAILABLE


class NotCoordinatorError(KafkaError):
    """NOT_COORDINATOR (16)."""
    code = ErrorCode.NOT_COORDINATOR


class InvalidTopicError(KafkaError):
    """INVALID_TOPIC_EXCEPTION (17)."""
    code = ErrorCode.INVALID_TOPIC_EXCEPTION


class RecordBatchTooLargeError(KafkaError):
    """RECORD_LIST_TOO_LARGE (18)."""
    code = ErrorCode.RECORD_LIST_TOO_LARGE


class NotEnoughReplicasError(KafkaError):
    """NOT_ENOUGH_REPLICAS (19)."""
    code = ErrorCode.NOT_ENOUGH_REPLICAS


class NotEnoughReplicasAfterAppendError(KafkaError):
    """NOT_ENOUGH_REPLICAS_AFTER_APPEND (20)."""
    code = ErrorCode.NOT_ENOUGH_REPLICAS_AFTER_APPEND


class InvalidRequiredAcksError(KafkaError):
    """INVALID_REQUIRED_ACKS (21)."""
    code = ErrorCode.INVALID_REQUIRED_ACKS


class IllegalGenerationError(KafkaError):
    """ILLEGAL_GENERATION (22)."""
    code = ErrorCode.ILLEGAL_GENERATION


class InconsistentGroupProtocolError(KafkaError):
    """INCONSISTENT_GROUP_PROTOCOL (23)."""
    code = ErrorCode.INCONSISTENT_GROUP_PROTOCOL


class InvalidGroupIdError(KafkaError):
    """INVALID_GROUP_ID (24)."""
    code = ErrorCode.INVALID_GROUP_ID


class UnknownMemberIdError(KafkaError):
    """UNKNOWN_MEMBER_ID (25)."""
    code = ErrorCode.UNKNOWN_MEMBER_ID


class InvalidSessionTimeoutError(KafkaError):
    """INVALID_SESSION_TIMEOUT (26)."""
    code = ErrorCode.INVALID_SESSION_TIMEOUT


class RebalanceInProgressError(KafkaError):
    """REBALANCE_IN_PROGRESS (27)."""
    code = ErrorCode.REBALANCE_IN_PROGRESS


class InvalidCommitOffsetSizeError(KafkaError):
    """INVALID_COMMIT_OFFSET_SIZE (28)."""
    code = ErrorCode.INVALID_COMMIT_OFFSET_SIZE


class TopicAuthorizationError(AuthorizationError):
    """TOPIC_AUTHORIZATION_FAILED (29)."""
    code = ErrorCode.TOPIC_AUTHORIZATION_FAILED
    unauthorized_topics: set[str]  # set by a consumer, and by a transactional producer refused AddPartitionsToTxn


class GroupAuthorizationError(AuthorizationError):
    """GROUP_AUTHORIZATION_FAILED (30)."""
    code = ErrorCode.GROUP_AUTHORIZATION_FAILED


class ClusterAuthorizationError(AuthorizationError):
    """CLUSTER_AUTHORIZATION_FAILED (31)."""
    code = ErrorCode.CLUSTER_AUTHORIZATION_FAILED


class InvalidTimestampError(KafkaError):
    """INVALID_TIMESTAMP (32)."""
    code = ErrorCode.INVALID_TIMESTAMP


class UnsupportedSaslMechanismError(AuthenticationError):
    """UNSUPPORTED_SASL_MECHANISM (33)."""
    code = ErrorCode.UNSUPPORTED_SASL_MECHANISM


class IllegalSaslStateError(AuthenticationError):
    """ILLEGAL_SASL_STATE (34)."""
    code = ErrorCode.ILLEGAL_SASL_STATE


class TopicExistsError(KafkaError):
    """TOPIC_ALREADY_EXISTS (36)."""
    code = ErrorCode.TOPIC_ALREADY_EXISTS


class InvalidPartitionsError(KafkaError):
    """INVALID_PARTITIONS (37)."""
    code = ErrorCode.INVALID_PARTITIONS


class InvalidReplicationFactorError(KafkaError):
    """INVALID_REPLICATION_FACTOR (38)."""
    code = ErrorCode.INVALID_REPLICATION_FACTOR


class InvalidReplicaAssignmentError(KafkaError):
    """INVALID_REPLICA_ASSIGNMENT (39)."""
    code = ErrorCode.INVALID_REPLICA_ASSIGNMENT


class InvalidConfigurationError(KafkaError):
    """INVALID_CONFIG (40)."""
    code = ErrorCode.INVALID_CONFIG


class NotControllerError(KafkaError):
    """NOT_CONTROLLER (41)."""
    code = ErrorCode.NOT_CONTROLLER


class InvalidRequestError(KafkaError):
    """INVALID_REQUEST (42)."""
    code = ErrorCode.INVALID_REQUEST


class UnsupportedForMessageFormatError(KafkaError):
    """UNSUPPORTED_FOR_MESSAGE_FORMAT (43)."""
    code = ErrorCode.UNSUPPORTED_FOR_MESSAGE_FORMAT


class PolicyViolationError(KafkaError):
    """POLICY_VIOLATION (44)."""
    code = ErrorCode.POLICY_VIOLATION


class OutOfOrderSequenceNumberError(KafkaError):
    """OUT_OF_ORDER_SEQUENCE_NUMBER (45)."""
    code = ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER


class DuplicateSequenceNumberError(KafkaError):
    """DUPLICATE_SEQUENCE_NUMBER (46)."""
    code = ErrorCode.DUPLICATE_SEQUENCE_NUMBER


class InvalidProducerEpochError(KafkaError):
    """INVALID_PRODUCER_EPOCH (47)."""
    code = ErrorCode.INVALID_PRODUCER_EPOCH


class InvalidTxnStateError(KafkaError):
    """INVALID_TXN_STATE (48)."""
    code = ErrorCode.INVALID_TXN_STATE


class InvalidPidMappingError(KafkaError):
    """INVALID_PRODUCER_ID_MAPPING (49)."""
    code = ErrorCode.INVALID_PRODUCER_ID_MAPPING


class InvalidTxnTimeoutError(KafkaError):
    """INVALID_TRANSACTION_TIMEOUT (50)."""
    code = ErrorCode.INVALID_TRANSACTION_TIMEOUT


class ConcurrentTransactionsError(KafkaError):
    """CONCURRENT_TRANSACTIONS (51)."""
    code = ErrorCode.CONCURRENT_TRANSACTIONS


class TransactionCoordinatorFencedError(KafkaError):
    """TRANSACTION_COORDINATOR_FENCED (52)."""
    code = ErrorCode.TRANSACTION_COORDINATOR_FENCED


class TransactionalIdAuthorizationError(AuthorizationError):
    """TRANSACTIONAL_ID_AUTHORIZATION_FAILED (53)."""
    code = ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED


class SecurityDisabledError(KafkaError):
    """SECURITY_DISABLED (54)."""
    code = ErrorCode.SECURITY_DISABLED


class OperationNotAttemptedError(KafkaError):
    """OPERATION_NOT_ATTEMPTED (55)."""
    code = ErrorCode.OPERATION_NOT_ATTEMPTED


class KafkaStorageError(KafkaError):
    """KAFKA_STORAGE_ERROR (56)."""
    code = ErrorCode.KAFKA_STORAGE_ERROR


class LogDirNotFoundError(KafkaError):
    """LOG_DIR_NOT_FOUND (57)."""
    code = ErrorCode.LOG_DIR_NOT_FOUND


class SaslAuthenticationError(AuthenticationError):
    """SASL_AUTHENTICATION_FAILED (58)."""
    code = ErrorCode.SASL_AUTHENTICATION_FAILED


class UnknownProducerIdError(KafkaError):
    """UNKNOWN_PRODUCER_ID (59)."""
    code = ErrorCode.UNKNOWN_PRODUCER_ID


class ReassignmentInProgressError(KafkaError):
    """REASSIGNMENT_IN_PROGRESS (60)."""
    code = ErrorCode.REASSIGNMENT_IN_PROGRESS


class DelegationTokenDisabledError(KafkaError):
    """DELEGATION_TOKEN_AUTH_DISABLED (61)."""
    code = ErrorCode.DELEGATION_TOKEN_AUTH_DISABLED


class DelegationTokenNotFoundError(KafkaError):
    """DELEGATION_TOKEN_NOT_FOUND (62)."""
    code = ErrorCode.DELEGATION_TOKEN_NOT_FOUND


class DelegationTokenOwnerMismatchError(KafkaError):
    """DELEGATION_TOKEN_OWNER_MISMATCH (63)."""
    code = ErrorCode.DELEGATION_TOKEN_OWNER_MISMATCH


class UnsupportedByAuthenticationError(KafkaError):
    """DELEGATION_TOKEN_REQUEST_NOT_ALLOWED (64)."""
    code = ErrorCode.DELEGATION_TOKEN_REQUEST_NOT_ALLOWED


class DelegationTokenAuthorizationError(AuthorizationError):
    """DELEGATION_TOKEN_AUTHORIZATION_FAILED (65)."""
    code = ErrorCode.DELEGATION_TOKEN_AUTHORIZATION_FAILED


class DelegationTokenExpiredError(KafkaError):
    """DELEGATION_TOKEN_EXPIRED (66)."""
    code = ErrorCode.DELEGATION_TOKEN_EXPIRED


class InvalidPrincipalTypeError(KafkaError):
    """INVALID_PRINCIPAL_TYPE (67)."""
    code = ErrorCode.INVALID_PRINCIPAL_TYPE


class GroupNotEmptyError(KafkaError):
    """NON_EMPTY_GROUP (68)."""
    code = ErrorCode.NON_EMPTY_GROUP


class GroupIdNotFoundError(KafkaError):
    """GROUP_ID_NOT_FOUND (69)."""
    code = ErrorCode.GROUP_ID_NOT_FOUND


class FetchSessionIdNotFoundError(KafkaError):
    """FETCH_SESSION_ID_NOT_FOUND (70)."""
    code = ErrorCode.FETCH_SESSION_ID_NOT_FOUND


class InvalidFetchSessionEpochError(KafkaError):
    """INVALID_FETCH_SESSION_EPOCH (71)."""
    code = ErrorCode.INVALID_FETCH_SESSION_EPOCH


class ListenerNotFoundError(KafkaError):
    """LISTENER_NOT_FOUND (72)."""
    code = ErrorCode.LISTENER_NOT_FOUND


class TopicDeletionDisabledError(KafkaError):
    """TOPIC_DELETION_DISABLED (73)."""
    code = ErrorCode.TOPIC_DELETION_DISABLED


class FencedLeaderEpochError(KafkaError):
    """FENCED_LEADER_EPOCH (74)."""
    code = ErrorCode.FENCED_LEADER_EPOCH


class UnknownLeaderEpochError(KafkaError):
    """UNKNOWN_LEADER_EPOCH (75)."""
    code = ErrorCode.UNKNOWN_LEADER_EPOCH


class UnsupportedCompressionTypeError(KafkaError):
    """UNSUPPORTED_COMPRESSION_TYPE (76)."""
    code = ErrorCode.UNSUPPORTED_COMPRESSION_TYPE


class StaleBrokerEpochError(KafkaError):
    """STALE_BROKER_EPOCH (77)."""
    code = ErrorCode.STALE_BROKER_EPOCH


class OffsetNotAvailableError(KafkaError):
    """OFFSET_NOT_AVAILABLE (78)."""
    code = ErrorCode.OFFSET_NOT_AVAILABLE


class MemberIdRequiredError(KafkaError):
    """MEMBER_ID_REQUIRED (79)."""
    code = ErrorCode.MEMBER_ID_REQUIRED


class PreferredLeaderNotAvailableError(KafkaError):
    """PREFERRED_LEADER_NOT_AVAILABLE (80)."""
    code = ErrorCode.PREFERRED_LEADER_NOT_AVAILABLE


class GroupMaxSizeReachedError(KafkaError):
    """GROUP_MAX_SIZE_REACHED (81)."""
    code = ErrorCode.GROUP_MAX_SIZE_REACHED


class FencedInstanceIdError(KafkaError):
    """FENCED_INSTANCE_ID (82)."""
    code = ErrorCode.FENCED_INSTANCE_ID


class EligibleLeadersNotAvailableError(KafkaError):
    """ELIGIBLE_LEADERS_NOT_AVAILABLE (83)."""
    code = ErrorCode.ELIGIBLE_LEADERS_NOT_AVAILABLE


class ElectionNotNeededError(KafkaError):
    """ELECTION_NOT_NEEDED (84)."""
    code = ErrorCode.ELECTION_NOT_NEEDED


class NoReassignmentInProgressError(KafkaError):
    """NO_REASSIGNMENT_IN_PROGRESS (85)."""
    code = ErrorCode.NO_REASSIGNMENT_IN_PROGRESS


class GroupSubscribedToTopicError(KafkaError):
    """GROUP_SUBSCRIBED_TO_TOPIC (86)."""
    code = ErrorCode.GROUP_SUBSCRIBED_TO_TOPIC


class InvalidRecordError(KafkaError):
    """INVALID_RECORD (87)."""
    code = ErrorCode.INVALID_RECORD


class UnstableOffsetCommitError(KafkaError):
    """UNSTABLE_OFFSET_COMMIT (88)."""
    code = ErrorCode.UNSTABLE_OFFSET_COMMIT


class ThrottlingQuotaExceededError(KafkaError):
    """THROTTLING_QUOTA_EXCEEDED (89)."""
    code = ErrorCode.THROTTLING_QUOTA_EXCEEDED


class ResourceNotFoundError(KafkaError):
    """RESOURCE_NOT_FOUND (91)."""
    code = ErrorCode.RESOURCE_NOT_FOUND


class DuplicateResourceError(KafkaError):
    """DUPLICATE_RESOURCE (92)."""
    code = ErrorCode.DUPLICATE_RESOURCE


class UnacceptableCredentialError(KafkaError):
    """UNACCEPTABLE_CREDENTIAL (93)."""
    code = ErrorCode.UNACCEPTABLE_CREDENTIAL


class InconsistentVoterSetError(KafkaError):
    """INCONSISTENT_VOTER_SET (94)."""
    code = ErrorCode.INCONSISTENT_VOTER_SET


class InvalidUpdateVersionError(KafkaError):
    """INVALID_UPDATE_VERSION (95)."""
    code = ErrorCode.INVALID_UPDATE_VERSION


class FeatureUpdateFailedError(KafkaError):
    """FEATURE_UPDATE_FAILED (96)."""
    code = ErrorCode.FEATURE_UPDATE_FAILED


class PrincipalDeserializationError(KafkaError):
    """PRINCIPAL_DESERIALIZATION_FAILURE (97)."""
    code = ErrorCode.PRINCIPAL_DESERIALIZATION_FAILURE


class SnapshotNotFoundError(KafkaError):
    """SNAPSHOT_NOT_FOUND (98)."""
    code = ErrorCode.SNAPSHOT_NOT_FOUND


class PositionOutOfRangeError(KafkaError):
    """POSITION_OUT_OF_RANGE (99)."""
    code = ErrorCode.POSITION_OUT_OF_RANGE


class UnknownTopicIdError(KafkaError):
    """UNKNOWN_TOPIC_ID (100)."""
    code = ErrorCode.UNKNOWN_TOPIC_ID


class DuplicateBrokerRegistrationError(KafkaError):
    """DUPLICATE_BROKER_REGISTRATION (101)."""
    code = ErrorCode.DUPLICATE_BROKER_REGISTRATION


class BrokerIdNotRegisteredError(KafkaError):
    """BROKER_ID_NOT_REGISTERED (102)."""
    code = ErrorCode.BROKER_ID_NOT_REGISTERED


class InconsistentTopicIdError(KafkaError):
    """INCONSISTENT_TOPIC_ID (103)."""
    code = ErrorCode.INCONSISTENT_TOPIC_ID


class InconsistentClusterIdError(KafkaError):
    """INCONSISTENT_CLUSTER_ID (104)."""
    code = ErrorCode.INCONSISTENT_CLUSTER_ID


class TransactionalIdNotFoundError(KafkaError):
    """TRANSACTIONAL_ID_NOT_FOUND (105)."""
    code = ErrorCode.TRANSACTIONAL_ID_NOT_FOUND


class FetchSessionTopicIdError(KafkaError):
    """FETCH_SESSION_TOPIC_ID_ERROR (106)."""
    code = ErrorCode.FETCH_SESSION_TOPIC_ID_ERROR


class IneligibleReplicaError(KafkaError):
    """INELIGIBLE_REPLICA (107)."""
    code = ErrorCode.INELIGIBLE_REPLICA


class NewLeaderElectedError(KafkaError):
    """NEW_LEADER_ELECTED (108)."""
    code = ErrorCode.NEW_LEADER_ELECTED


class OffsetMovedToTieredStorageError(KafkaError):
    """OFFSET_MOVED_TO_TIERED_STORAGE (109)."""
    code = ErrorCode.OFFSET_MOVED_TO_TIERED_STORAGE


class FencedMemberEpochError(KafkaError):
    """FENCED_MEMBER_EPOCH (110)."""
    code = ErrorCode.FENCED_MEMBER_EPOCH


class UnreleasedInstanceIdError(KafkaError):
    """UNRELEASED_INSTANCE_ID (111)."""
    code = ErrorCode.UNRELEASED_INSTANCE_ID


class UnsupportedAssignorError(KafkaError):
    """UNSUPPORTED_ASSIGNOR (112)."""
    code = ErrorCode.UNSUPPORTED_ASSIGNOR


class StaleMemberEpochError(KafkaError):
    """STALE_MEMBER_EPOCH (113)."""
    code = ErrorCode.STALE_MEMBER_EPOCH


class MismatchedEndpointTypeError(KafkaError):
    """MISMATCHED_ENDPOINT_TYPE (114)."""
    code = ErrorCode.MISMATCHED_ENDPOINT_TYPE


class UnsupportedEndpointTypeError(KafkaError):
    """UNSUPPORTED_ENDPOINT_TYPE (115)."""
    code = ErrorCode.UNSUPPORTED_ENDPOINT_TYPE


class UnknownControllerIdError(KafkaError):
    """UNKNOWN_CONTROLLER_ID (116)."""
    code = ErrorCode.UNKNOWN_CONTROLLER_ID


class UnknownSubscriptionIdError(KafkaError):
    """UNKNOWN_SUBSCRIPTION_ID (117)."""
    code = ErrorCode.UNKNOWN_SUBSCRIPTION_ID


class TelemetryTooLargeError(KafkaError):
    """TELEMETRY_TOO_LARGE (118)."""
    code = ErrorCode.TELEMETRY_TOO_LARGE


class InvalidRegistrationError(KafkaError):
    """INVALID_REGISTRATION (119)."""
    code = ErrorCode.INVALID_REGISTRATION


class TransactionAbortableError(KafkaError):
    """TRANSACTION_ABORTABLE (120)."""
    code = ErrorCode.TRANSACTION_ABORTABLE


class InvalidRecordStateError(KafkaError):
    """INVALID_RECORD_STATE (121)."""
    code = ErrorCode.INVALID_RECORD_STATE


class ShareSessionNotFoundError(KafkaError):
    """SHARE_SESSION_NOT_FOUND (122)."""
    code = ErrorCode.SHARE_SESSION_NOT_FOUND


class InvalidShareSessionEpochError(KafkaError):
    """INVALID_SHARE_SESSION_EPOCH (123)."""
    code = ErrorCode.INVALID_SHARE_SESSION_EPOCH


class FencedStateEpochError(KafkaError):
    """FENCED_STATE_EPOCH (124)."""
    code = ErrorCode.FENCED_STATE_EPOCH


class InvalidVoterKeyError(KafkaError):
    """INVALID_VOTER_KEY (125)."""
    code = ErrorCode.INVALID_VOTER_KEY


class DuplicateVoterError(KafkaError):
    """DUPLICATE_VOTER (126)."""
    code = ErrorCode.DUPLICATE_VOTER


class VoterNotFoundError(KafkaError):
    """VOTER_NOT_FOUND (127)."""
    code = ErrorCode.VOTER_NOT_FOUND


class InvalidRegularExpressionError(KafkaError):
    """INVALID_REGULAR_EXPRESSION (128)."""
    code = ErrorCode.INVALID_REGULAR_EXPRESSION


class RebootstrapRequiredError(KafkaError):
    """REBOOTSTRAP_REQUIRED (129)."""
    code = ErrorCode.REBOOTSTRAP_REQUIRED


class StreamsInvalidTopologyError(KafkaError):
    """STREAMS_INVALID_TOPOLOGY (130)."""
    code = ErrorCode.STREAMS_INVALID_TOPOLOGY


class StreamsInvalidTopologyEpochError(KafkaError):
    """STREAMS_INVALID_TOPOLOGY_EPOCH (131)."""
    code = ErrorCode.STREAMS_INVALID_TOPOLOGY_EPOCH


class StreamsTopologyFencedError(KafkaError):
    """STREAMS_TOPOLOGY_FENCED (132)."""
    code = ErrorCode.STREAMS_TOPOLOGY_FENCED


class ShareSessionLimitReachedError(KafkaError):
    """SHARE_SESSION_LIMIT_REACHED (133)."""
    code = ErrorCode.SHARE_SESSION_LIMIT_REACHED


class GroupDeletionFailedError(KafkaError):
    """GROUP_DELETION_FAILED (134)."""
    code = ErrorCode.GROUP_DELETION_FAILED


class StreamsTopologyDescriptionUpdateFailedError(KafkaError):
    """STREAMS_TOPOLOGY_DESCRIPTION_UPDATE_FAILED (135)."""
    code = ErrorCode.STREAMS_TOPOLOGY_DESCRIPTION_UPDATE_FAILED


class ControllerIdNotRegisteredError(KafkaError):
    """CONTROLLER_ID_NOT_REGISTERED (136)."""
    code = ErrorCode.CONTROLLER_ID_NOT_REGISTERED


# Names other clients (aiokafka, kafka-python, the Java client) use for the same classes.
NotLeaderForPartitionError = NotLeaderOrFollowerError
TopicAlreadyExistsError = TopicExistsError
OutOfOrderSequenceError = OutOfOrderSequenceNumberError
DuplicateSequenceError = DuplicateSequenceNumberError
MessageSizeTooLargeError = RecordTooLargeError
InvalidConfigError = InvalidConfigurationError


def _build_registry() -> dict[int, type[KafkaError]]:
    # The classes that name a code themselves; later definitions win, so the specific
    # SaslAuthenticationError (58) replaces its base class.
    registry: dict[int, type[KafkaError]] = {}
    for value in list(globals().values()):
        if isinstance(value, type) and issubclass(value, KafkaError) and value.__dict__.get("code") is not None:
            registry[value.errno] = value
    missing = [c.name for c in ErrorCode if c and c not in registry]
    if missing:  # pragma: no cover - caught by the import in every test run
        raise AssertionError(f"error codes without a class: {missing}")
    return registry


_BY_CODE: dict[int, type[KafkaError]] = _build_registry()


class LogTruncationError(OffsetOutOfRangeError):
    """KIP-320: the log was truncated below the consumer's position (an unclean leader election):
    records it handed out are no longer in the log, and ``auto_offset_reset`` is "none".

    ``topic_partition``; ``offset``, the position; ``divergent_offset``, an
    :class:`~kafkaio.structs.OffsetAndMetadata` of where the log diverges (the end of the last leader
    epoch the log and the consumer agree on) with that epoch. Seek to continue. Raised by the
    client, never made from an error code (as Java's
    ``LogTruncationException``, a subclass of ``OffsetOutOfRangeException``)."""

    divergent_offset: OffsetAndMetadata


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
    if code == ErrorCode.NONE:
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
