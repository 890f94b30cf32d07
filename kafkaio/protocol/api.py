"""Framing of whole requests and responses: headers, the compiled body codecs, negotiation.

Request header v1 (non-flexible) is ``api_key int16, api_version int16, correlation_id int32,
client_id nullable string``; v2 (flexible) adds a tagged-field buffer. ``client_id`` stays a
classic (int16-length) string in both. Response header v0 is ``correlation_id int32``; v1 adds a
tagged-field buffer. ApiVersions responses always use header v0, whatever the version, so that a
client can read the broker's answer before it knows which versions the broker speaks.
"""
from __future__ import annotations

import struct
from enum import IntEnum
from typing import Any, Protocol, Union

from kafkaio.errors import ErrorCode, KafkaProtocolError, UnsupportedVersionError
from kafkaio.protocol import primitives as p
from kafkaio.protocol.messages import ALL_APIS
from kafkaio.protocol.compiler import Codec, compile_struct
from kafkaio.protocol.schema import Api


class ApiKey(IntEnum):
    """Every API kafkaio speaks (the numbers are Kafka's)."""

    PRODUCE = 0
    FETCH = 1
    LIST_OFFSETS = 2
    METADATA = 3
    OFFSET_COMMIT = 8
    OFFSET_FETCH = 9
    FIND_COORDINATOR = 10
    JOIN_GROUP = 11
    HEARTBEAT = 12
    LEAVE_GROUP = 13
    SYNC_GROUP = 14
    DESCRIBE_GROUPS = 15
    LIST_GROUPS = 16
    SASL_HANDSHAKE = 17
    API_VERSIONS = 18
    CREATE_TOPICS = 19
    DELETE_TOPICS = 20
    DELETE_RECORDS = 21
    INIT_PRODUCER_ID = 22
    OFFSET_FOR_LEADER_EPOCH = 23
    ADD_PARTITIONS_TO_TXN = 24
    ADD_OFFSETS_TO_TXN = 25
    END_TXN = 26
    TXN_OFFSET_COMMIT = 28
    DESCRIBE_ACLS = 29
    CREATE_ACLS = 30
    DELETE_ACLS = 31
    DESCRIBE_CONFIGS = 32
    ALTER_CONFIGS = 33
    SASL_AUTHENTICATE = 36
    CREATE_PARTITIONS = 37
    DELETE_GROUPS = 42
    INCREMENTAL_ALTER_CONFIGS = 44
    OFFSET_DELETE = 47
    DESCRIBE_CLIENT_QUOTAS = 48
    ALTER_CLIENT_QUOTAS = 49
    DESCRIBE_CLUSTER = 60
    DESCRIBE_PRODUCERS = 61
    CONSUMER_GROUP_HEARTBEAT = 68
    CONSUMER_GROUP_DESCRIBE = 69
    GET_TELEMETRY_SUBSCRIPTIONS = 71
    PUSH_TELEMETRY = 72
    SHARE_GROUP_HEARTBEAT = 76
    SHARE_GROUP_DESCRIBE = 77
    SHARE_FETCH = 78
    SHARE_ACKNOWLEDGE = 79
    DESCRIBE_SHARE_GROUP_OFFSETS = 90
    ALTER_SHARE_GROUP_OFFSETS = 91
    DELETE_SHARE_GROUP_OFFSETS = 92


# The last version of each transactional API that keeps the original (KIP-98) transaction
# protocol. Newer versions mean "transaction version 2" (KIP-890): a producer may use them only
# when the broker's finalized feature ``transaction.version`` is >= 2, as the Java client does.
LAST_TXN_V1_VERSIONS: dict[ApiKey, int] = {
    ApiKey.PRODUCE: 11,
    ApiKey.END_TXN: 4,
    ApiKey.TXN_OFFSET_COMMIT: 4,
}

_API_VERSIONS = int(ApiKey.API_VERSIONS)  # plain int: compared on every response
_APIS: dict[int, Api] = {api.key: api for api in ALL_APIS}
assert set(_APIS) == {int(k) for k in ApiKey}, "ApiKey and the message modules disagree"

_HEADER = struct.Struct(">ihhi")  # size placeholder, api_key, api_version, correlation_id
_REQ_HEADER = struct.Struct(">hhi")
_INT32 = p.INT32



class DirectResponse(Protocol):
    """A response a :class:`DirectMessage` decoded: what the connection reads of it."""

    @property
    def throttle_time_ms(self) -> int: ...


class DirectMessage(Protocol):
    """A request that encodes its own body and decodes its own response, without the generic
    codec's dicts (a hot path's message as data, e.g.
    :class:`kafkaio.protocol.produce_codec.ProduceMessage`); the bytes are the generic codec's."""

    def encode_body(self, out: bytearray, version: int) -> None: ...

    def decode_body(self, buf: memoryview, pos: int, version: int) -> tuple[DirectResponse, int]: ...


#: a request body: the generic codec's dict, or a message that encodes itself
RequestBody = Union[dict[str, Any], DirectMessage]

_request_codecs: dict[tuple[int, int], tuple[Codec, bool]] = {}
_response_codecs: dict[tuple[int, int], tuple[Codec, bool]] = {}
_client_ids: dict[str | None, bytes] = {}  # client id -> its nullable-string encoding


def api_schema(api_key: int) -> Api:
    """The schema of ``api_key``; ``UnsupportedVersionError`` if kafkaio does not speak it."""
    try:
        return _APIS[api_key]
    except KeyError:
        raise UnsupportedVersionError(f"kafkaio does not implement API key {api_key}") from None


def api_name(api_key: int) -> str:
    api = _APIS.get(api_key)
    return api.name if api is not None else f"ApiKey({api_key})"


def _codec(cache: dict[tuple[int, int], tuple[Codec, bool]], api_key: int, version: int, response: bool) -> tuple[Codec, bool]:
    hit = cache.get((api_key, version))
    if hit is not None:
        return hit
    api = api_schema(api_key)
    if not api.min_version <= version <= api.max_version:
        raise UnsupportedVersionError(
            f"{api.name} v{version} is not implemented by kafkaio "
            f"(versions {api.min_version}-{api.max_version})")
    flexible = api.is_flexible(version)
    codec = compile_struct(api.response if response else api.request, version, flexible)
    hit = (codec, flexible)
    cache[(api_key, version)] = hit
    return hit


def request_codec(api_key: int, version: int) -> tuple[Codec, bool]:
    """Compiled request body codec of (api, version) and whether that version is flexible."""
    return _codec(_request_codecs, api_key, version, False)


def response_codec(api_key: int, version: int) -> tuple[Codec, bool]:
    """Compiled response body codec of (api, version) and whether that version is flexible."""
    return _codec(_response_codecs, api_key, version, True)


def is_flexible(api_key: int, version: int) -> bool:
    return api_schema(api_key).is_flexible(version)


def request_header_version(api_key: int, version: int) -> int:
    return 2 if is_flexible(api_key, version) else 1


def response_header_version(api_key: int, version: int) -> int:
    if api_key == ApiKey.API_VERSIONS:
        return 0
    return 1 if is_flexible(api_key, version) else 0


# --- requests ---------------------------------------------------------------------------------


def encode_request(api_key: int, version: int, correlation_id: int, client_id: str | None,
                   body: RequestBody) -> bytearray:
    """Encode one request frame, including its 4-byte size prefix.

    Returns a ``bytearray`` (bytes-like; not copied again into an immutable ``bytes`` because
    produce requests can be large)."""
    # Cache lookups and the client id's bytes inline: the producer encodes a request per
    # send_and_wait, and these calls were a fifth of encoding a small Produce request.
    hit = _request_codecs.get((api_key, version))
    codec, flexible = hit if hit is not None else request_codec(api_key, version)
    out = bytearray(_HEADER.pack(0, api_key, version, correlation_id))
    cid = _client_ids.get(client_id)
    if cid is None:
        cid = _client_id_bytes(client_id)
    out += cid
    if flexible:
        out.append(0)  # no tagged fields in the request header
    if isinstance(body, dict):
        codec.encode(out, body)
    else:
        body.encode_body(out, version)  # not a dict: a DirectMessage
    _INT32.pack_into(out, 0, len(out) - 4)
    return out


def _client_id_bytes(client_id: str | None) -> bytes:
    out = bytearray()
    p.write_nullable_string(out, client_id)
    if len(_client_ids) < 64:  # a process has a handful of client ids; never grow without bound
        _client_ids[client_id] = bytes(out)
    return bytes(out)


def decode_request(payload: bytes) -> tuple[int, int, int, str | None, dict[str, Any]]:
    """Decode one request frame without its size prefix:
    ``(api_key, version, correlation_id, client_id, body)``."""
    buf = memoryview(payload)
    try:
        api_key, version, correlation_id = _REQ_HEADER.unpack_from(buf, 0)
        codec, flexible = request_codec(api_key, version)
        client_id, pos = p.read_nullable_string(buf, 8)
        if flexible:
            pos = _skip_tagged_fields(buf, pos)
        body, pos = codec.decode(buf, pos)
    except (UnsupportedVersionError, KafkaProtocolError):
        raise
    except Exception as exc:  # noqa: BLE001 - any failure on bad bytes becomes one typed error
        raise KafkaProtocolError(f"cannot decode request: {exc}") from None
    _check_end(buf, pos, api_name(api_key), version, "request")
    return api_key, version, correlation_id, client_id, body


# --- responses --------------------------------------------------------------------------------


def encode_response(api_key: int, version: int, correlation_id: int, body: dict[str, Any]) -> bytearray:
    """Encode one response frame, including its 4-byte size prefix (for tests and the proxy)."""
    codec, flexible = response_codec(api_key, version)
    out = bytearray(_INT32.pack(0))
    out += _INT32.pack(correlation_id)
    if flexible and api_key != _API_VERSIONS:  # response header v1
        out.append(0)
    codec.encode(out, body)
    _INT32.pack_into(out, 0, len(out) - 4)
    return out


def peek_correlation_id(payload: bytes) -> int:
    """The correlation id of a response frame (without its size prefix)."""
    if len(payload) < 4:
        raise KafkaProtocolError(f"response of {len(payload)} bytes has no correlation id")
    correlation_id: int = _INT32.unpack_from(payload, 0)[0]
    return correlation_id


def decode_response(api_key: int, version: int, payload: bytes | memoryview) -> dict[str, Any]:
    """Decode a response frame (without its size prefix) of ``api_key`` at ``version``.

    ``records`` fields come back as memoryviews of ``payload`` (no copy). An ApiVersions
    response carrying UNSUPPORTED_VERSION is decoded as version 0, which is what brokers send
    when they do not speak the requested version."""
    body: dict[str, Any] = _decode_response(None, api_key, version, payload)
    return body


def decode_direct_response(message: DirectMessage, api_key: int, version: int,
                           payload: bytes | memoryview) -> DirectResponse:
    """:func:`decode_response` for a request that decodes its own response (``message``)."""
    body: DirectResponse = _decode_response(message, api_key, version, payload)
    return body


def _decode_response(message: DirectMessage | None, api_key: int, version: int,
                     payload: bytes | memoryview) -> Any:
    buf = memoryview(payload)
    try:
        hit = _response_codecs.get((api_key, version))
        codec, flexible = hit if hit is not None else response_codec(api_key, version)
        pos = 4
        if api_key == _API_VERSIONS:
            if version > 0 and _INT16_ERR(buf, pos) == ErrorCode.UNSUPPORTED_VERSION:
                version = 0
                codec, _ = response_codec(api_key, 0)
        elif flexible:  # response header v1 (never for ApiVersions)
            pos = pos + 1 if buf[pos] == 0 else _skip_tagged_fields(buf, pos)
        body: Any
        if message is None:
            body, pos = codec.decode(buf, pos)
        else:
            body, pos = message.decode_body(buf, pos, version)
    except (UnsupportedVersionError, KafkaProtocolError):
        raise
    except Exception as exc:  # noqa: BLE001 - any failure on bad bytes becomes one typed error
        raise KafkaProtocolError(f"cannot decode {api_name(api_key)} v{version} response: {exc}") from None
    if pos != len(buf):
        _check_end(buf, pos, api_name(api_key), version, "response")
    return body


def _INT16_ERR(buf: memoryview, pos: int) -> int:
    code: int = p.INT16.unpack_from(buf, pos)[0]
    return code


def _skip_tagged_fields(buf: memoryview, pos: int) -> int:
    if buf[pos] == 0:
        return pos + 1
    n, pos = p.read_uvarint32(buf, pos)
    for _ in range(n):
        _, pos = p.read_uvarint32(buf, pos)
        size, pos = p.read_uvarint32(buf, pos)
        pos += size
        if pos > len(buf):
            raise KafkaProtocolError("malformed header tagged fields")
    return pos


def _check_end(buf: memoryview, pos: int, name: str, version: int, kind: str) -> None:
    if pos != len(buf):
        raise KafkaProtocolError(
            f"{name} v{version} {kind}: {len(buf) - pos} unexpected bytes after the body")


# --- versions ---------------------------------------------------------------------------------


def client_versions(api_key: int) -> tuple[int, int]:
    """(min, max) version of ``api_key`` that kafkaio implements."""
    api = api_schema(api_key)
    return api.min_version, api.max_version


def negotiate_version(api_key: int, broker_min: int, broker_max: int) -> int:
    """The highest version both kafkaio and the broker support; ``UnsupportedVersionError``
    naming the API and both ranges when the ranges do not overlap."""
    lo, hi = client_versions(api_key)
    best = min(hi, broker_max)
    if best < max(lo, broker_min):
        raise UnsupportedVersionError(
            f"no common version of {api_name(api_key)}: kafkaio speaks {lo}-{hi}, "
            f"the broker {broker_min}-{broker_max}")
    return best
