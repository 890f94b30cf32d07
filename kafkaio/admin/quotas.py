"""Admin calls on client quotas: DescribeClientQuotas, AlterClientQuotas."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any, Iterable, Mapping, cast

from kafkaio.admin.core import AdminCore, check, finish, outcome
from kafkaio.admin.inputs import ClientQuotaEntity, ClientQuotaFilterComponent
from kafkaio.errors import IllegalArgumentError, KafkaError
from kafkaio.protocol import ApiKey
from kafkaio.retry import Deadline

if TYPE_CHECKING:
    from kafkaio.protocol.bodies import (
        AlterClientQuotasResponse,
        AlterClientQuotasResponseEntriesEntity,
        DescribeClientQuotasResponse,
        DescribeClientQuotasResponseEntriesEntity,
    )


class QuotasAdmin(AdminCore):
    """Reading and setting client quotas."""

    async def describe_client_quotas(self, components: Iterable[ClientQuotaFilterComponent] = (), *,
                                     strict: bool = False, timeout_ms: float | None = None,
                                     ) -> dict[ClientQuotaEntity, dict[str, float]]:
        """The quotas set on the entities matching every component (no components: all), as
        entity -> {quota key: value}, e.g. ``{"producer_byte_rate": 1048576.0}``. ``strict=True``
        leaves out entities that also name types the filter does not mention."""
        body = {"components": [{"entity_type": c.entity_type, "match_type": int(c.match_type), "match": c.match}
                               for c in components], "strict": strict}
        deadline = self._deadline(timeout_ms)

        async def op(dl: Deadline) -> dict[ClientQuotaEntity, dict[str, float]]:
            resp = cast("DescribeClientQuotasResponse",
                        await self._call(None, ApiKey.DESCRIBE_CLIENT_QUOTAS, lambda v: body, dl))
            check(resp["error_code"], resp["error_message"], "describe client quotas")
            return {_quota_entity(e["entity"]): {v["key"]: v["value"] for v in e["values"]}
                    for e in resp["entries"] or ()}

        return await self._single(op, deadline, "describe client quotas")

    async def alter_client_quotas(
        self, alterations: Mapping[ClientQuotaEntity, Mapping[str, float | None]], *,
        validate_only: bool = False, timeout_ms: float | None = None, raise_on_error: bool = True,
    ) -> dict[ClientQuotaEntity, KafkaError | None]:
        """Set quotas per entity, ``{entity: {"producer_byte_rate": 1024.0}}``; a None value removes
        that quota. Returns entity -> None (applied) or the error."""
        ops: dict[ClientQuotaEntity, list[dict[str, Any]]] = {}
        for entity, change in alterations.items():
            if not isinstance(entity, ClientQuotaEntity):
                raise IllegalArgumentError(f"alter_client_quotas keys are ClientQuotaEntity, got {entity!r}")
            ops[entity] = [{"key": k, "value": 0.0 if v is None else float(v), "remove": v is None}
                        for k, v in change.items()]
        deadline = self._deadline(timeout_ms)

        async def attempt(pending: list[ClientQuotaEntity], dl: Deadline) -> dict[ClientQuotaEntity, Any]:
            resp = cast("AlterClientQuotasResponse", await self._call(None, ApiKey.ALTER_CLIENT_QUOTAS, lambda v: {
                "entries": [{"entity": [{"entity_type": t, "entity_name": n} for t, n in e.entries.items()],
                             "ops": ops[e]} for e in pending],
                "validate_only": validate_only}, dl))
            out: dict[ClientQuotaEntity, Any] = {}
            for r in resp["entries"]:
                entity = _quota_entity(r["entity"])
                out[entity] = outcome(r["error_code"], r["error_message"], f"alter client quotas of {entity}")
            return out

        return finish(await self._drive(ops, attempt, deadline, "AlterClientQuotas"), raise_on_error)


def _quota_entity(parts: list[DescribeClientQuotasResponseEntriesEntity]
                  | list[AlterClientQuotasResponseEntriesEntity]) -> ClientQuotaEntity:
    return ClientQuotaEntity({p["entity_type"]: p["entity_name"] for p in parts})
