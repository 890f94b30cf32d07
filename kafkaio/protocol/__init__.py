"""Sans-IO Kafka wire protocol: schemas as data, compiled encoders/decoders, headers, negotiation.

See docs/internals.md (section ``kafkaio.protocol``) for the contract and docs/protocol.md for the
version range kafkaio implements for each API.
"""
from __future__ import annotations

from kafkaio.protocol.api import (
    LAST_TXN_V1_VERSIONS,
    ApiKey,
    DirectMessage,
    DirectResponse,
    RequestBody,
    api_name,
    client_versions,
    decode_direct_response,
    decode_request,
    decode_response,
    encode_request,
    encode_response,
    is_flexible,
    negotiate_version,
    peek_correlation_id,
    request_header_version,
    response_header_version,
)
from kafkaio.errors import FieldEncodeError
from kafkaio.protocol.structs import (
    decode_struct,
    decode_versioned_struct,
    encode_struct,
    encode_versioned_struct,
    struct_versions,
)

__all__ = [
    "LAST_TXN_V1_VERSIONS", "ApiKey", "DirectMessage", "DirectResponse", "FieldEncodeError", "RequestBody",
    "api_name", "client_versions", "decode_direct_response", "decode_request",
    "decode_response", "decode_struct", "decode_versioned_struct", "encode_request",
    "encode_response", "encode_struct", "encode_versioned_struct", "is_flexible",
    "negotiate_version", "peek_correlation_id", "request_header_version",
    "response_header_version", "struct_versions",
]
