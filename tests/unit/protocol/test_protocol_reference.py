"""Our schemas against Kafka's own message definitions, read at test time from the
kafka-clients jar that the broker launcher caches (the test is skipped when no jar is cached).

For every API and every version kafkaio implements, the fields present, their order, types,
nullability and tags must be the ones Kafka defines; flexibility must match too."""
from __future__ import annotations

import functools
import json
import re
import zipfile
from pathlib import Path
from typing import Any

import pytest

from kafkaio.protocol import ApiKey, client_versions
from kafkaio.protocol.api import api_schema
from kafkaio.protocol.messages.consumer_protocol import STRUCTS
from kafkaio.protocol.schema import Field, in_versions, parse_versions
from kafkaio.testing.broker import cache_dir, kafka_version


def _jars() -> list[Path]:
    """The cached kafka-clients jars: the pinned version's first, then the others, newest first.

    Definitions are read from the pinned version (the one the suite runs against); an API version
    that jar does not define (e.g. a share-group version added later) is read from a newer one."""
    pinned = sorted(cache_dir().glob(f"kafka-{kafka_version()}/libs/kafka-clients-*.jar"))
    others = sorted(set(cache_dir().glob("kafka-*/libs/kafka-clients-*.jar")) - set(pinned), reverse=True)
    return pinned + others


JARS = _jars()
pytestmark = pytest.mark.skipif(not JARS, reason="no kafka-clients jar cached (run `make broker`)")


@functools.lru_cache(maxsize=None)
def _read(jar: Path, name: str) -> dict[str, Any] | None:
    with zipfile.ZipFile(jar) as z:
        try:
            text = z.read(f"common/message/{name}.json").decode()
        except KeyError:
            return None
    return json.loads("\n".join(line for line in text.splitlines() if not line.strip().startswith("//")))


def _definition(name: str, version: int | None = None) -> dict[str, Any]:
    """``name``'s definition from the first jar (in :data:`JARS` order) that defines ``version``."""
    found = [d for d in (_read(jar, name) for jar in JARS) if d is not None]
    assert found, f"no cached jar defines {name}"
    for d in found:
        if version is None or in_versions(version, parse_versions(d["validVersions"])):
            return d
    return found[0]


def _snake(name: str) -> str:
    name = re.sub(r"(?<=[a-z0-9])([A-Z])", r"_\1", name)
    return re.sub(r"(?<=[A-Z])([A-Z][a-z])", r"_\1", name).lower()


# Fields Kafka renamed in a later release without changing their wire form; kafkaio follows the
# newest name, so an older jar's definition is read with it.
_RENAMED = {
    ("TxnOffsetCommitRequest", "GenerationId"): "GenerationIdOrMemberEpoch",  # KIP-848, Kafka 4.2
}


def _theirs(fields: list[dict], version: int, common: dict[str, list], message: str = "") -> list[tuple]:
    out = []
    for f in fields:
        if not in_versions(version, parse_versions(f.get("versions", "0+"))):
            continue
        f = {**f, "name": _RENAMED.get((message, f["name"]), f["name"])}
        t = f["type"]
        sub = f.get("fields") or common.get(t.lstrip("[]"))
        kind = ("[]" if t.startswith("[]") else "struct") if sub is not None else t
        tag = f.get("tag") if "tag" in f and in_versions(version, parse_versions(f.get("taggedVersions"))) else None
        nullable = in_versions(version, parse_versions(f.get("nullableVersions")))
        out.append((_snake(f["name"]), kind, nullable, tag, _theirs(sub, version, common) if sub else []))
    return out


def _ours(fields: tuple[Field, ...], version: int) -> list[tuple]:
    out = []
    for f in fields:
        if not f.present(version):
            continue
        kind = f.type if not f.fields else ("[]" if f.type.startswith("[]") else "struct")
        tag = f.tag if f.tagged_in(version) else None
        out.append((f.name, kind, f.nullable_in(version), tag, _ours(f.fields, version) if f.fields else []))
    return out


CASES = [(k, v) for k in ApiKey for v in range(client_versions(k)[0], client_versions(k)[1] + 1)]


@pytest.mark.parametrize("api, version", CASES, ids=[f"{k.name}-v{v}" for k, v in CASES])
def test_schema_matches_kafka_definition(api: ApiKey, version: int) -> None:
    schema = api_schema(api)
    for kind, ours in (("Request", schema.request), ("Response", schema.response)):
        d = _definition(schema.name + kind, version)
        assert d["apiKey"] == api
        assert in_versions(version, parse_versions(d["validVersions"]))
        assert schema.is_flexible(version) == in_versions(version, parse_versions(d["flexibleVersions"]))
        common = {c["name"]: c["fields"] for c in d.get("commonStructs", [])}
        assert _ours(ours, version) == _theirs(d["fields"], version, common, schema.name + kind), \
            f"{schema.name}{kind} v{version}"


@pytest.mark.parametrize("struct", STRUCTS, ids=[s.name for s in STRUCTS])
def test_consumer_protocol_structs_match(struct: Any) -> None:
    d = _definition(struct.name)
    lo, hi = parse_versions(struct.versions)
    for version in range(lo, hi + 1):
        assert in_versions(version, parse_versions(d["validVersions"]))
        common = {c["name"]: c["fields"] for c in d.get("commonStructs", [])}
        assert _ours(struct.fields, version) == _theirs(d["fields"], version, common)


# Versions the pinned jar defines beyond kafkaio's newest, and why kafkaio stops before them. A
# release that adds a version makes the test below fail until kafkaio speaks it or it is listed
# here (and in docs/protocol.md).
BEHIND: dict[ApiKey, tuple[int, str]] = {
    ApiKey.ADD_PARTITIONS_TO_TXN: (5, "4+ are broker-to-broker (batched verification), as for the Java client"),
}


@pytest.mark.parametrize("api", list(ApiKey), ids=[k.name for k in ApiKey])
def test_no_newer_stable_version_of_the_pinned_release_goes_unnoticed(api: ApiKey) -> None:
    name = api_schema(api).name + "Request"
    d = _read(JARS[0], name)
    if d is None:
        pytest.skip(f"{JARS[0].name} does not define {name}")
    newest = parse_versions(d["validVersions"])[1] - (1 if d.get("latestVersionUnstable") else 0)
    ours = client_versions(api)[1]
    if newest > ours:
        assert api in BEHIND and newest <= BEHIND[api][0], \
            f"{JARS[0].name} defines {name} v{newest}, kafkaio stops at v{ours}: implement it or list it in BEHIND"
