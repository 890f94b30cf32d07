"""Admin calls on configs: DescribeConfigs, IncrementalAlterConfigs."""
from __future__ import annotations

from typing import Any, Iterable, Literal, Mapping, TYPE_CHECKING, cast, overload

from kafkaio.admin.core import AdminCore, finish, outcome
from kafkaio.admin.inputs import AlterConfigOp, AlterConfigOpType, ConfigResource, ConfigResourceType
from kafkaio.admin.results import ConfigEntry, ConfigSource, ConfigSynonym
from kafkaio.errors import ErrorCode, IllegalArgumentError, KafkaError
from kafkaio.protocol import ApiKey
from kafkaio.retry import Deadline

if TYPE_CHECKING:
    from kafkaio.protocol.bodies import (
        DescribeConfigsResponse,
        DescribeConfigsResponseResultsConfigs,
        IncrementalAlterConfigsResponse,
    )


class ConfigsAdmin(AdminCore):
    """Describing and changing topic, broker and group configs."""

    @staticmethod
    def _config_node(resource: ConfigResource) -> int | None:
        # Broker and broker-logger configs are answered by that broker; the rest by any broker.
        if resource.type in (ConfigResourceType.BROKER, ConfigResourceType.BROKER_LOGGER) and resource.name:
            try:
                return int(resource.name)
            except ValueError:
                raise IllegalArgumentError(f"broker config resource name must be a node id, got {resource.name!r}") from None
        return None

    @overload
    async def describe_configs(self, resources: Iterable[ConfigResource], *, include_synonyms: bool = False,
                               include_documentation: bool = False, timeout_ms: float | None = None,
                               raise_on_error: Literal[True] = True
                               ) -> dict[ConfigResource, dict[str, ConfigEntry]]: ...

    @overload
    async def describe_configs(self, resources: Iterable[ConfigResource], *, include_synonyms: bool = False,
                               include_documentation: bool = False, timeout_ms: float | None = None,
                               raise_on_error: bool) -> dict[ConfigResource, dict[str, ConfigEntry] | KafkaError]: ...

    async def describe_configs(self, resources: Iterable[ConfigResource], *, include_synonyms: bool = False,
                               include_documentation: bool = False, timeout_ms: float | None = None,
                               raise_on_error: bool = True) -> dict[ConfigResource, Any]:
        """Every config of each resource, with its source (``entry.is_default`` for defaults)."""
        resources = list(resources)
        for r in resources:
            self._config_node(r)  # reject a bad broker id before sending anything
        deadline = self._deadline(timeout_ms)

        async def attempt(pending: list[ConfigResource], dl: Deadline) -> dict[ConfigResource, Any]:
            async def send(node: int | None, keys: list[ConfigResource]) -> dict[ConfigResource, Any]:
                resp = cast("DescribeConfigsResponse", await self._call(
                    node, ApiKey.DESCRIBE_CONFIGS, lambda v: {
                    "resources": [{"resource_type": int(r.type), "resource_name": r.name, "configuration_keys": None}
                                  for r in keys],
                    "include_synonyms": include_synonyms, "include_documentation": include_documentation}, dl))
                out: dict[ConfigResource, Any] = {}
                for res in resp["results"]:
                    key = ConfigResource(res["resource_type"], res["resource_name"])
                    err = outcome(res["error_code"], res["error_message"], f"describe configs of {key}",
                                   final=(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,))
                    out[key] = err if err is not None else {c["name"]: _config_entry(c) for c in res["configs"]}
                return out
            return await self._by_node(pending, self._config_node, send)

        return finish(await self._drive(resources, attempt, deadline, "DescribeConfigs"), raise_on_error)

    async def incremental_alter_configs(
        self, changes: Mapping[ConfigResource, Iterable[AlterConfigOp] | Mapping[str, str | None]], *,
        validate_only: bool = False, timeout_ms: float | None = None, raise_on_error: bool = True,
    ) -> dict[ConfigResource, KafkaError | None]:
        """Apply config changes per resource; a plain mapping means set (None: delete, i.e. back to
        the default). Returns resource -> None or the error."""
        ops: dict[ConfigResource, list[AlterConfigOp]] = {}
        for resource, change in changes.items():
            if isinstance(change, Mapping):
                ops[resource] = [AlterConfigOp(k, v, AlterConfigOpType.DELETE if v is None else AlterConfigOpType.SET)
                                 for k, v in change.items()]
            else:
                ops[resource] = list(change)
            self._config_node(resource)
        deadline = self._deadline(timeout_ms)

        async def attempt(pending: list[ConfigResource], dl: Deadline) -> dict[ConfigResource, Any]:
            async def send(node: int | None, keys: list[ConfigResource]) -> dict[ConfigResource, Any]:
                resp = cast("IncrementalAlterConfigsResponse", await self._call(
                    node, ApiKey.INCREMENTAL_ALTER_CONFIGS, lambda v: {
                    "resources": [{"resource_type": int(r.type), "resource_name": r.name,
                                   "configs": [{"name": o.name, "config_operation": int(o.op), "value": o.value}
                                               for o in ops[r]]} for r in keys],
                    "validate_only": validate_only}, dl))
                return {ConfigResource(r["resource_type"], r["resource_name"]):
                        outcome(r["error_code"], r["error_message"], "alter configs of "
                                 f"{ConfigResource(r['resource_type'], r['resource_name'])}",
                                 final=(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,))
                        for r in resp["responses"]}
            return await self._by_node(pending, self._config_node, send)

        return finish(await self._drive(ops, attempt, deadline, "IncrementalAlterConfigs"), raise_on_error)


def _config_entry(c: DescribeConfigsResponseResultsConfigs) -> ConfigEntry:
    return ConfigEntry(
        c["name"], c["value"], _config_source(c["config_source"]), c["read_only"], c["is_sensitive"],
        [ConfigSynonym(s["name"], s["value"], _config_source(s["source"])) for s in c["synonyms"]],
        c["config_type"], c["documentation"])


def _config_source(code: int) -> ConfigSource:
    try:
        return ConfigSource(code)
    except ValueError:
        return ConfigSource.UNKNOWN
