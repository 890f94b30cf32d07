"""Admin calls on access control lists (ACLs): DescribeAcls, CreateAcls, DeleteAcls.

They go to any broker (the least loaded); in KRaft it forwards changes to the controller, and new
ACLs reach every broker's authorizer through the metadata log a moment later.
"""
from __future__ import annotations

from typing import Any, Callable, Iterable, Literal, TYPE_CHECKING, TypeVar, cast, overload

from kafkaio.admin.core import AdminCore, Retry, check, finish, outcome
from kafkaio.admin.inputs import (
    AccessControlEntry,
    AclBinding,
    AclBindingFilter,
    AclOperation,
    AclPermissionType,
    PatternType,
    ResourcePattern,
    ResourceType,
)
from kafkaio.errors import IllegalArgumentError, KafkaError, UnsupportedVersionError
from kafkaio.protocol import ApiKey
from kafkaio.retry import Deadline

if TYPE_CHECKING:
    from kafkaio.protocol.bodies import (
        CreateAclsResponse,
        CreateAclsResponseResults,
        DeleteAclsResponse,
        DeleteAclsResponseFilterResults,
        DeleteAclsResponseFilterResultsMatchingAcls,
        DescribeAclsResponse,
        DescribeAclsResponseResourcesAcls,
    )

T = TypeVar("T", AclBinding, AclBindingFilter)
A = TypeVar("A")   # one item's answer


class AclsAdmin(AdminCore):
    """Listing, creating and deleting ACLs."""

    async def describe_acls(self, filter: AclBindingFilter = AclBindingFilter.ANY, *,
                            timeout_ms: float | None = None) -> list[AclBinding]:
        """The ACLs matching ``filter`` (default: every ACL). Raises the broker's error, e.g.
        ``ClusterAuthorizationError`` without DESCRIBE on the cluster, ``SecurityDisabledError``
        when the brokers run no authorizer."""
        if not isinstance(filter, AclBindingFilter):
            raise IllegalArgumentError(f"describe_acls takes an AclBindingFilter, got {filter!r}")
        deadline = self._deadline(timeout_ms)

        async def op(dl: Deadline) -> list[AclBinding]:
            def build(version: int) -> dict[str, Any]:
                too_old = _version_error(filter.pattern.resource_type, version)
                if too_old is not None:
                    raise too_old
                return _filter_body(filter)
            resp = cast("DescribeAclsResponse", await self._call(None, ApiKey.DESCRIBE_ACLS, build, dl))
            check(resp["error_code"], resp["error_message"], f"describe ACLs matching {filter}")
            return [_binding(r["resource_type"], r["resource_name"], r["pattern_type"], a)
                    for r in resp["resources"] for a in r["acls"]]

        return await self._single(op, deadline, "DescribeAcls")

    async def create_acls(self, bindings: Iterable[AclBinding], *, timeout_ms: float | None = None,
                          raise_on_error: bool = True) -> dict[AclBinding, KafkaError | None]:
        """Create ACLs; returns binding -> None (created, or it already existed) or the error."""
        wanted = list(dict.fromkeys(bindings))
        for b in wanted:
            if not isinstance(b, AclBinding):
                raise IllegalArgumentError(f"create_acls takes AclBinding objects, got {b!r}")
            if b.is_unknown:
                raise IllegalArgumentError(f"cannot create an ACL with an UNKNOWN part: {b!r}")
        return await self._each(wanted, ApiKey.CREATE_ACLS, "creations", _creation_body, _creation_results,
                                _created, timeout_ms, raise_on_error, "CreateAcls")

    @overload
    async def delete_acls(self, filters: Iterable[AclBindingFilter], *, timeout_ms: float | None = None,
                          raise_on_error: Literal[True] = True) -> dict[AclBindingFilter, list[AclBinding]]: ...

    @overload
    async def delete_acls(self, filters: Iterable[AclBindingFilter], *, timeout_ms: float | None = None,
                          raise_on_error: bool) -> dict[AclBindingFilter, list[AclBinding] | KafkaError]: ...

    async def delete_acls(self, filters: Iterable[AclBindingFilter], *, timeout_ms: float | None = None,
                          raise_on_error: bool = True) -> dict[AclBindingFilter, Any]:
        """Delete every ACL matching each filter; returns filter -> the ACLs it deleted (``[]`` when
        none matched), or the error. When the broker failed to delete one of a filter's matches,
        that filter's result is that error, with the ACLs it did delete as ``exc.deleted``."""
        wanted = list(dict.fromkeys(filters))
        for f in wanted:
            if not isinstance(f, AclBindingFilter):
                raise IllegalArgumentError(f"delete_acls takes AclBindingFilter objects, got {f!r}")
        return await self._each(wanted, ApiKey.DELETE_ACLS, "filters", _filter_body, _filter_results, _deleted,
                                timeout_ms, raise_on_error, "DeleteAcls")

    async def _each(self, items: list[T], api_key: ApiKey, request_key: str, body: Callable[[T], dict[str, Any]],
                    answers: Callable[[dict[str, Any]], list[A]], read: Callable[[T, A], Any],
                    timeout_ms: float | None, raise_on_error: bool, what: str) -> dict[T, Any]:
        """One request over the pending items, answered item by item in order: ``answers`` finds
        the items' answers in the response, ``read`` turns an item's answer into its outcome."""
        deadline = self._deadline(timeout_ms)

        async def attempt(pending: list[T], dl: Deadline) -> dict[T, Any]:
            out: dict[T, Any] = {}
            sent: list[T] = []

            def build(version: int) -> dict[str, Any]:
                for item in pending:
                    too_old = _version_error(item.pattern.resource_type, version)
                    if too_old is None:
                        sent.append(item)
                    else:
                        out[item] = too_old
                return {request_key: [body(item) for item in sent]}

            found = answers(await self._call(None, api_key, build, dl))
            if len(found) == len(sent):   # else _drive retries what the answer does not mention
                out.update({item: read(item, answer) for item, answer in zip(sent, found)})
            return out

        return finish(await self._drive(items, attempt, deadline, what), raise_on_error)


def _version_error(resource_type: ResourceType, version: int) -> UnsupportedVersionError | None:
    if resource_type == ResourceType.USER and version < 3:
        return UnsupportedVersionError(f"ACLs on USER resources need ACL API version 3; the broker speaks {version}")
    return None


def _filter_body(f: AclBindingFilter) -> dict[str, Any]:
    return {"resource_type_filter": int(f.pattern.resource_type), "resource_name_filter": f.pattern.name,
            "pattern_type_filter": int(f.pattern.pattern_type), "principal_filter": f.entry.principal,
            "host_filter": f.entry.host, "operation": int(f.entry.operation),
            "permission_type": int(f.entry.permission_type)}


def _creation_body(b: AclBinding) -> dict[str, Any]:
    return {"resource_type": int(b.pattern.resource_type), "resource_name": b.pattern.name,
            "resource_pattern_type": int(b.pattern.pattern_type), "principal": b.entry.principal,
            "host": b.entry.host, "operation": int(b.entry.operation),
            "permission_type": int(b.entry.permission_type)}


def _code(enum: Any, value: int) -> Any:
    """A member for a code this client knows, else UNKNOWN (a newer broker's code)."""
    try:
        return enum(value)
    except ValueError:
        return enum.UNKNOWN


def _binding(rtype: int, name: str, ptype: int,
             entry: DescribeAclsResponseResourcesAcls | DeleteAclsResponseFilterResultsMatchingAcls) -> AclBinding:
    # a code this client does not know yet (a newer broker's) comes out as UNKNOWN
    return AclBinding(ResourcePattern(_code(ResourceType, rtype), name, _code(PatternType, ptype)),
                      AccessControlEntry(entry["principal"], entry["host"], _code(AclOperation, entry["operation"]),
                                         _code(AclPermissionType, entry["permission_type"])))


def _creation_results(resp: dict[str, Any]) -> list[CreateAclsResponseResults]:
    return cast("CreateAclsResponse", resp)["results"]


def _created(b: AclBinding, r: CreateAclsResponseResults) -> Any:
    return outcome(r["error_code"], r["error_message"], f"create ACL {b}")


def _filter_results(resp: dict[str, Any]) -> list[DeleteAclsResponseFilterResults]:
    return cast("DeleteAclsResponse", resp)["filter_results"]


def _deleted(f: AclBindingFilter, r: DeleteAclsResponseFilterResults) -> Any:
    err = outcome(r["error_code"], r["error_message"], f"delete ACLs matching {f}")
    if err is not None:
        return err
    deleted: list[AclBinding] = []
    failed: KafkaError | None = None
    for m in r["matching_acls"]:
        b = _binding(m["resource_type"], m["resource_name"], m["pattern_type"], m)
        e = outcome(m["error_code"], m["error_message"], f"delete ACL {b}")
        if e is None:
            deleted.append(b)
        elif failed is None:
            failed = e.error if isinstance(e, Retry) else e
    if failed is not None:
        failed.deleted = deleted
        return failed
    return deleted
