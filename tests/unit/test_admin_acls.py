"""The ACL types of kafkaio.admin and how the ACL calls read the broker's answers (issue 27); the
calls against a broker with an authorizer are in tests/integration/test_authorization.py."""
from __future__ import annotations

from typing import Any, Callable

import pytest

from kafkaio.admin import (
    AccessControlEntry,
    AccessControlEntryFilter,
    Admin,
    AclBinding,
    AclBindingFilter,
    AclOperation,
    AclPermissionType,
    PatternType,
    ResourcePattern,
    ResourcePatternFilter,
    ResourceType,
)
from kafkaio.errors import (
    ClusterAuthorizationError,
    IllegalArgumentError,
    InvalidRequestError,
    SecurityDisabledError,
    UnsupportedVersionError,
)
from kafkaio.protocol import ApiKey
from kafkaio.retry import Deadline

READ_BY_BOB = AclBinding(ResourcePattern(ResourceType.TOPIC, "orders"),
                         AccessControlEntry("User:bob", "*", AclOperation.READ, AclPermissionType.ALLOW))


def test_codes_are_kafkas() -> None:
    assert (ResourceType.TOPIC, ResourceType.GROUP, ResourceType.CLUSTER, ResourceType.TRANSACTIONAL_ID,
            ResourceType.USER) == (2, 3, 4, 5, 7)
    assert (AclOperation.ALL, AclOperation.READ, AclOperation.WRITE, AclOperation.DESCRIBE,
            AclOperation.IDEMPOTENT_WRITE, AclOperation.TWO_PHASE_COMMIT) == (2, 3, 4, 8, 12, 15)
    assert (AclPermissionType.DENY, AclPermissionType.ALLOW) == (2, 3)
    assert (PatternType.ANY, PatternType.MATCH, PatternType.LITERAL, PatternType.PREFIXED) == (1, 2, 3, 4)


def test_names_in_any_case_and_codes_become_members() -> None:
    b = AclBinding(ResourcePattern("topic", "orders"), AccessControlEntry("User:bob", "*", "read", 3))
    assert b == READ_BY_BOB and hash(b) == hash(READ_BY_BOB)
    assert b.pattern.pattern_type is PatternType.LITERAL
    assert ResourcePattern("Topic", "o-", "prefixed").pattern_type is PatternType.PREFIXED


@pytest.mark.parametrize("make", [
    lambda: ResourcePattern(ResourceType.ANY, "x"),
    lambda: ResourcePattern(ResourceType.TOPIC, "x", PatternType.MATCH),
    lambda: ResourcePattern(ResourceType.TOPIC, ""),
    lambda: ResourcePattern("queue", "x"),
    lambda: AccessControlEntry("User:bob", "*", AclOperation.ANY, AclPermissionType.ALLOW),
    lambda: AccessControlEntry("User:bob", "*", AclOperation.READ, AclPermissionType.ANY),
    lambda: AccessControlEntry("bob", "*", AclOperation.READ, AclPermissionType.ALLOW),
    lambda: AccessControlEntry("User:bob", "", AclOperation.READ, AclPermissionType.ALLOW),
    lambda: AclBinding(ResourcePatternFilter(), READ_BY_BOB.entry),  # type: ignore[arg-type]
    lambda: AclBindingFilter(READ_BY_BOB.pattern, AccessControlEntryFilter()),  # type: ignore[arg-type]
], ids=["any-type", "match-pattern", "empty-name", "unknown-type-name", "any-operation", "any-permission",
        "principal-without-type", "empty-host", "binding-of-a-filter", "filter-of-a-pattern"])
def test_bindings_are_concrete_and_checked(make: Callable[[], object]) -> None:
    with pytest.raises(IllegalArgumentError):
        make()


def test_filters() -> None:
    assert AclBindingFilter.ANY == AclBindingFilter()
    assert AclBindingFilter.ANY.pattern.resource_type is ResourceType.ANY
    assert AclBindingFilter.ANY.entry.operation is AclOperation.ANY
    exact = READ_BY_BOB.to_filter()
    assert exact.pattern == ResourcePatternFilter(ResourceType.TOPIC, "orders", PatternType.LITERAL)
    assert exact.entry == AccessControlEntryFilter("User:bob", "*", AclOperation.READ, AclPermissionType.ALLOW)
    assert str(READ_BY_BOB) == "ALLOW User:bob READ from * on TOPIC 'orders' (LITERAL)"
    assert str(AclBindingFilter.ANY) == "ANY any principal ANY from any host on ANY any name (ANY)"


class Answers:
    """Stands in for AdminCore._call_versioned: records the bodies sent, answers from a list."""

    def __init__(self, version: int, *answers: dict) -> None:
        self.version, self.answers = version, list(answers)
        self.sent: list[tuple[ApiKey, dict]] = []

    async def __call__(self, node: int | None, api_key: int, build: Callable[[int], dict],
                       deadline: Deadline, max_version: int | None = None) -> tuple[int, dict]:
        self.sent.append((ApiKey(api_key), build(self.version)))
        return self.version, self.answers.pop(0)


def admin_answering(version: int, *answers: dict) -> tuple[Admin, Answers]:
    admin = Admin("localhost:9092", retry_backoff_ms=1, retry_backoff_max_ms=1)
    calls = Answers(version, *answers)
    admin._call_versioned = calls  # type: ignore[method-assign,assignment]
    return admin, calls


def acl(b: AclBinding, **extra: Any) -> dict:
    return {"principal": b.entry.principal, "host": b.entry.host, "operation": int(b.entry.operation),
            "permission_type": int(b.entry.permission_type), **extra}


async def test_describe_acls_reads_every_resource_and_unknown_codes() -> None:
    admin, calls = admin_answering(3, {"error_code": 0, "error_message": None, "resources": [
        {"resource_type": 2, "resource_name": "orders", "pattern_type": 3, "acls": [acl(READ_BY_BOB)]},
        {"resource_type": 99, "resource_name": "new", "pattern_type": 3,
         "acls": [{"principal": "User:a", "host": "*", "operation": 77, "permission_type": 3}]}]})
    got = await admin.describe_acls(AclBindingFilter(ResourcePatternFilter(ResourceType.TOPIC)))
    assert got[0] == READ_BY_BOB
    assert got[1].is_unknown and got[1].pattern.resource_type is ResourceType.UNKNOWN
    assert got[1].entry.operation is AclOperation.UNKNOWN
    assert calls.sent == [(ApiKey.DESCRIBE_ACLS, {
        "resource_type_filter": 2, "resource_name_filter": None, "pattern_type_filter": 1,
        "principal_filter": None, "host_filter": None, "operation": 1, "permission_type": 1})]


async def test_describe_acls_raises_the_brokers_error_naming_the_filter() -> None:
    admin, _ = admin_answering(3, {"error_code": 31, "error_message": None, "resources": []})
    with pytest.raises(ClusterAuthorizationError, match="describe ACLs matching"):
        await admin.describe_acls()
    admin, _ = admin_answering(3, {"error_code": 54, "error_message": "No Authorizer", "resources": []})
    with pytest.raises(SecurityDisabledError, match="No Authorizer"):
        await admin.describe_acls()


async def test_create_acls_reports_per_binding_in_order() -> None:
    denied = AclBinding(ResourcePattern("group", "g"), READ_BY_BOB.entry)
    admin, calls = admin_answering(3, {"results": [{"error_code": 0, "error_message": None},
                                                   {"error_code": 42, "error_message": "bad"}]})
    got = await admin.create_acls([READ_BY_BOB, denied], raise_on_error=False)
    assert got[READ_BY_BOB] is None
    assert isinstance(got[denied], InvalidRequestError) and "GROUP 'g'" in str(got[denied])
    assert [c["resource_name"] for c in calls.sent[0][1]["creations"]] == ["orders", "g"]
    admin, _ = admin_answering(3, {"results": [{"error_code": 42, "error_message": None}]})
    with pytest.raises(InvalidRequestError) as info:
        await admin.create_acls([denied])
    assert info.value.results == {denied: info.value}  # type: ignore[attr-defined]


async def test_create_acls_refuses_unknown_parts_and_user_resources_on_old_brokers() -> None:
    admin, calls = admin_answering(2, {"results": []})
    with pytest.raises(IllegalArgumentError):
        await admin.create_acls([AclBinding(ResourcePattern(ResourceType.UNKNOWN, "x"), READ_BY_BOB.entry)])
    on_user = AclBinding(ResourcePattern(ResourceType.USER, "User:alice"), READ_BY_BOB.entry)
    got = await admin.create_acls([on_user], raise_on_error=False)
    assert isinstance(got[on_user], UnsupportedVersionError)
    assert calls.sent == [(ApiKey.CREATE_ACLS, {"creations": []})]


async def test_delete_acls_returns_what_each_filter_deleted_or_its_error() -> None:
    other = AclBinding(ResourcePattern("topic", "other"), READ_BY_BOB.entry)
    match = {"resource_type": 2, "pattern_type": 3, "error_code": 0, "error_message": None}
    f_all, f_none, f_denied, f_partial = (AclBindingFilter(ResourcePatternFilter(ResourceType.TOPIC)),
                                          READ_BY_BOB.to_filter(), other.to_filter(),
                                          AclBindingFilter(ResourcePatternFilter(ResourceType.ANY, "x")))
    admin, _ = admin_answering(3, {"filter_results": [
        {"error_code": 0, "error_message": None, "matching_acls": [
            acl(READ_BY_BOB, **match, resource_name="orders"), acl(other, **match, resource_name="other")]},
        {"error_code": 0, "error_message": None, "matching_acls": []},
        {"error_code": 31, "error_message": None, "matching_acls": []},
        {"error_code": 0, "error_message": None, "matching_acls": [
            acl(READ_BY_BOB, **match, resource_name="orders"),
            acl(other, **{**match, "error_code": 42}, resource_name="other")]},
    ]})
    got = await admin.delete_acls([f_all, f_none, f_denied, f_partial], raise_on_error=False)
    assert got[f_all] == [READ_BY_BOB, other] and got[f_none] == []
    assert isinstance(got[f_denied], ClusterAuthorizationError) and "'other'" in str(got[f_denied])
    partial = got[f_partial]
    assert isinstance(partial, InvalidRequestError) and "'other'" in str(partial)
    assert partial.deleted == [READ_BY_BOB]  # type: ignore[attr-defined]


async def test_retriable_errors_are_retried() -> None:
    admin, calls = admin_answering(3, {"results": [{"error_code": 15, "error_message": None}]},
                                   {"results": [{"error_code": 0, "error_message": None}]})
    assert await admin.create_acls([READ_BY_BOB]) == {READ_BY_BOB: None}
    assert len(calls.sent) == 2
