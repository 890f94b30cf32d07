"""Decoded bodies name every schema field at every version (absent ones at their schema default),
and ``kafkaio/protocol/bodies.py`` is what ``kafkaio.protocol.gen_types`` renders."""
from __future__ import annotations

import typing
from pathlib import Path
from typing import Any

import pytest

from kafkaio.protocol import ApiKey, decode_request, decode_response, decode_struct, encode_request, encode_response, encode_struct
from kafkaio.protocol import bodies, gen_types
from kafkaio.protocol.api import api_schema
from kafkaio.protocol.messages import ALL_APIS
from kafkaio.protocol.messages.consumer_protocol import STRUCTS
from kafkaio.protocol.primitives import ZERO_UUID
from kafkaio.protocol.schema import Field, parse_versions

_CASES = [(api.key, v) for api in sorted(ALL_APIS, key=lambda a: a.key)
          for v in range(parse_versions(api.versions)[0], parse_versions(api.versions)[1] + 1)]


def _all_names(fields: tuple[Field, ...]) -> set[str]:
    return {f.name for f in fields}


def _check_every_field(body: dict[str, Any], fields: tuple[Field, ...], path: str) -> None:
    assert _all_names(fields) <= set(body), f"{path}: missing {sorted(_all_names(fields) - set(body))}"
    for f in fields:
        value = body[f.name]
        if f.fields and isinstance(value, list):
            for i, item in enumerate(value):
                _check_every_field(item, f.fields, f"{path}.{f.name}[{i}]")
        elif f.fields and isinstance(value, dict):
            _check_every_field(value, f.fields, f"{path}.{f.name}")


def _one_of_each(fields: tuple[Field, ...]) -> dict[str, Any]:
    """A body with one element in every array of structs, so that nested structs are decoded."""
    return {f.name: [_one_of_each(f.fields)] for f in fields if f.type == "[]" and f.fields}


@pytest.mark.parametrize("api_key, version", _CASES)
def test_a_decoded_response_has_every_field_of_every_version(api_key: int, version: int) -> None:
    api = api_schema(api_key)
    payload = bytes(encode_response(api_key, version, 1, _one_of_each(api.response)))[4:]
    _check_every_field(decode_response(api_key, version, payload), api.response, api.name)


@pytest.mark.parametrize("api_key, version", _CASES)
def test_a_decoded_request_has_every_field_of_every_version(api_key: int, version: int) -> None:
    api = api_schema(api_key)
    payload = bytes(encode_request(api_key, version, 1, "c", _one_of_each(api.request)))[4:]
    _check_every_field(decode_request(payload)[4], api.request, api.name)


@pytest.mark.parametrize("name", [s.name for s in STRUCTS])
def test_a_decoded_struct_has_every_field_of_every_version(name: str) -> None:
    struct = next(s for s in STRUCTS if s.name == name)
    for version in range(parse_versions(struct.versions)[0], parse_versions(struct.versions)[1] + 1):
        body = decode_struct(name, version, encode_struct(name, version, _one_of_each(struct.fields)))
        _check_every_field(body, struct.fields, name)


def test_absent_fields_take_the_schema_default_not_the_type_default() -> None:
    # Produce v3 has neither log_start_offset (5+) nor the error message (8+); Metadata v4 has no
    # leader epoch (7+) and no topic id (10+)
    produce = {"responses": [{"name": "t", "partition_responses": [{"index": 0, "base_offset": 5}]}]}
    p = decode_response(ApiKey.PRODUCE, 3, bytes(encode_response(ApiKey.PRODUCE, 3, 1, produce))[4:])
    part = p["responses"][0]["partition_responses"][0]
    assert part["log_start_offset"] == -1 and part["error_message"] is None and part["record_errors"] == []
    assert part["current_leader"] == {"leader_id": -1, "leader_epoch": -1}
    assert p["responses"][0]["topic_id"] == ZERO_UUID and p["node_endpoints"] == []
    meta = {"topics": [{"name": "t", "partitions": [{"partition_index": 0, "leader_id": 1}]}]}
    m = decode_response(ApiKey.METADATA, 4, bytes(encode_response(ApiKey.METADATA, 4, 1, meta))[4:])
    assert m["topics"][0]["partitions"][0]["leader_epoch"] == -1 and m["error_code"] == 0
    assert m["topics"][0]["topic_authorized_operations"] == -2147483648


def test_mutable_defaults_are_not_shared_between_decoded_bodies() -> None:
    payload = bytes(encode_response(ApiKey.PRODUCE, 3, 1, {"responses": [
        {"name": "t", "partition_responses": [{"index": 0}]}]}))[4:]
    first, second = (decode_response(ApiKey.PRODUCE, 3, payload)["responses"][0]["partition_responses"][0]
                     for _ in range(2))
    first["record_errors"].append({"batch_index": 0})
    first["current_leader"]["leader_id"] = 9
    assert second["record_errors"] == [] and second["current_leader"]["leader_id"] == -1


def test_bodies_py_is_what_gen_types_renders() -> None:
    path = Path(gen_types.__file__).with_name("bodies.py")
    assert path.read_text() == gen_types.render(), \
        "kafkaio/protocol/bodies.py is stale: run python -m kafkaio.protocol.gen_types"


def test_every_response_type_names_every_schema_field() -> None:
    for api in ALL_APIS:
        hints = typing.get_type_hints(getattr(bodies, api.name + "Response"))
        assert set(hints) == _all_names(api.response), api.name
