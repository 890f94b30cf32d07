"""Admin.alter_client_quotas / describe_client_quotas against the real broker (KIP-546)."""
from __future__ import annotations

import asyncio
import uuid

import pytest

from kafkaio.admin import Admin, ClientQuotaEntity, ClientQuotaFilterComponent
from kafkaio.errors import IllegalArgumentError, InvalidRequestError

CLIENT_ID = ClientQuotaEntity.CLIENT_ID


def _client_id() -> str:
    return f"quota-test-{uuid.uuid4().hex[:10]}"


async def _quotas_of(admin: Admin, entity: ClientQuotaEntity, want: dict[str, float]) -> dict[str, float]:
    """The entity's quotas once the broker shows ``want`` (alterations reach it through the
    metadata log, a moment after the controller accepted them)."""
    name = entity.entries[CLIENT_ID]
    for _ in range(100):
        found = await admin.describe_client_quotas([ClientQuotaFilterComponent.of_entity(CLIENT_ID, name)])
        if found.get(entity, {}) == want:
            break
        await asyncio.sleep(0.05)
    return found.get(entity, {})


async def test_set_describe_change_and_remove_a_quota(kafka_admin: Admin) -> None:
    entity = ClientQuotaEntity({CLIENT_ID: _client_id()})
    result = await kafka_admin.alter_client_quotas(
        {entity: {"producer_byte_rate": 2048.0, "consumer_byte_rate": 4096}})
    assert result == {entity: None}
    assert await _quotas_of(kafka_admin, entity, {"producer_byte_rate": 2048.0, "consumer_byte_rate": 4096.0}) == {
        "producer_byte_rate": 2048.0, "consumer_byte_rate": 4096.0}

    # None removes one key; the other stays
    await kafka_admin.alter_client_quotas({entity: {"consumer_byte_rate": None}})
    assert await _quotas_of(kafka_admin, entity, {"producer_byte_rate": 2048.0}) == {"producer_byte_rate": 2048.0}

    # a filter on the entity type finds it among others; a strict filter on another type does not
    any_client = await kafka_admin.describe_client_quotas([ClientQuotaFilterComponent.of_entity_type(CLIENT_ID)])
    assert any_client[entity] == {"producer_byte_rate": 2048.0}
    users = await kafka_admin.describe_client_quotas(
        [ClientQuotaFilterComponent.of_entity_type(ClientQuotaEntity.USER)], strict=True)
    assert entity not in users

    await kafka_admin.alter_client_quotas({entity: {"producer_byte_rate": None}})
    assert await _quotas_of(kafka_admin, entity, {}) == {}
    # an entity without quotas is not listed at all
    assert entity not in await kafka_admin.describe_client_quotas(
        [ClientQuotaFilterComponent.of_entity(CLIENT_ID, entity.entries[CLIENT_ID])])


async def test_default_entity_and_validate_only(kafka_admin: Admin) -> None:
    name = _client_id()
    user_default = ClientQuotaEntity({ClientQuotaEntity.USER: None, CLIENT_ID: name})
    assert await kafka_admin.alter_client_quotas({user_default: {"request_percentage": 50.0}},
                                                 validate_only=True) == {user_default: None}
    found = await kafka_admin.describe_client_quotas([ClientQuotaFilterComponent.of_default_entity(ClientQuotaEntity.USER),
                                                      ClientQuotaFilterComponent.of_entity(CLIENT_ID, name)])
    assert user_default not in found  # validate_only changed nothing

    await kafka_admin.alter_client_quotas({user_default: {"request_percentage": 50.0}})
    try:
        for _ in range(100):
            found = await kafka_admin.describe_client_quotas(
                [ClientQuotaFilterComponent.of_default_entity(ClientQuotaEntity.USER),
                 ClientQuotaFilterComponent.of_entity(CLIENT_ID, name)])
            if user_default in found:
                break
            await asyncio.sleep(0.05)
        assert found[user_default] == {"request_percentage": 50.0}
        assert found[user_default] is not None and user_default.entries == {"user": None, "client-id": name}
    finally:
        await kafka_admin.alter_client_quotas({user_default: {"request_percentage": None}})


async def test_unknown_quota_key_is_a_per_entity_error(kafka_admin: Admin) -> None:
    good = ClientQuotaEntity({CLIENT_ID: _client_id()})
    bad = ClientQuotaEntity({CLIENT_ID: _client_id()})
    results = await kafka_admin.alter_client_quotas(
        {good: {"producer_byte_rate": 1e6}, bad: {"no_such_quota": 1.0}}, raise_on_error=False)
    assert isinstance(results[bad], InvalidRequestError), results
    # the broker validates the whole request before applying any of it
    assert results[good] is None or isinstance(results[good], InvalidRequestError), results
    with pytest.raises(InvalidRequestError):
        await kafka_admin.alter_client_quotas({bad: {"no_such_quota": 1.0}})
    await kafka_admin.alter_client_quotas({good: {"producer_byte_rate": None}})


def test_bad_entities_are_rejected_before_sending() -> None:
    with pytest.raises(IllegalArgumentError):
        ClientQuotaEntity({})
    with pytest.raises(IllegalArgumentError):
        ClientQuotaEntity({CLIENT_ID: 5})  # type: ignore[dict-item]
    assert ClientQuotaEntity({"user": "a", "client-id": "b"}) == ClientQuotaEntity({"client-id": "b", "user": "a"})
    assert len({ClientQuotaEntity({"user": "a"}), ClientQuotaEntity({"user": "a"})}) == 1


async def test_alterations_are_keyed_by_entity(kafka_admin: Admin) -> None:
    with pytest.raises(IllegalArgumentError, match="ClientQuotaEntity"):
        await kafka_admin.alter_client_quotas({"client-id": {"producer_byte_rate": 1.0}})  # type: ignore[dict-item]
