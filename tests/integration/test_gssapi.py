"""SASL/GSSAPI (Kerberos) against a real MIT KDC (Debian's krb5-kdc, a temporary realm on loopback,
:class:`kafkaio.testing.kdc.LocalKdc`) and a broker whose SASL_PLAINTEXT listener authenticates with
its keytab: produce, consume, transactions and admin with a keytab or a ticket cache; a stale keytab,
an expired ticket and an unknown service principal give a clear AuthenticationError at once; the
sessions (4 s, connections.max.reauth.ms) are renewed in place with a new security context."""
from __future__ import annotations

import asyncio
import shutil
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sasl_helpers import renews_in_place

import kafkaio
import kafkaio.gss
from kafkaio.cluster import Cluster
from kafkaio.config import CommonConfig
from kafkaio.errors import AuthenticationError
from kafkaio.testing.broker import LocalKafkaCluster
from kafkaio.testing.kdc import LocalKdc, kdc_available
from kafkaio.testing.proxy import FaultProxy

pytestmark = [pytest.mark.integration, pytest.mark.slow,
              pytest.mark.skipif(not kdc_available(), reason="no MIT KDC here: apt-get install krb5-kdc "
                                 "krb5-admin-server krb5-user (make test does, as root)")]

BROKER_HOST = "127.0.0.1"  # what the launcher advertises: the service principal's host part
WAIT_S = 60.0
REAUTH_MS = 4000


@pytest.fixture(scope="module")
def realm() -> Iterator[LocalKdc]:
    with LocalKdc() as kdc:
        kdc.add_principal(f"kafka/{BROKER_HOST}")
        kdc.add_principal("alice")
        yield kdc


@pytest.fixture(scope="module")
def kerberos_cluster(realm: LocalKdc) -> Iterator[LocalKafkaCluster]:
    service = realm.full_name(f"kafka/{BROKER_HOST}")
    cluster = LocalKafkaCluster(
        listeners=("PLAINTEXT", "SASL_PLAINTEXT"),
        broker_properties={
            "sasl.enabled.mechanisms": "PLAIN,SCRAM-SHA-256,SCRAM-SHA-512,GSSAPI",
            "sasl.kerberos.service.name": "kafka",
            "connections.max.reauth.ms": str(REAUTH_MS),
            "listener.name.sasl_plaintext.gssapi.sasl.jaas.config":
                "com.sun.security.auth.module.Krb5LoginModule required useKeyTab=true storeKey=true "
                f'keyTab="{realm.keytab(f"kafka/{BROKER_HOST}")}" principal="{service}";',
        },
        jvm_properties={"java.security.krb5.conf": str(realm.krb5_conf)},
    )
    with cluster:
        yield cluster


@pytest.fixture(autouse=True, params=["ctypes", "gssapi"])
def binding(request: pytest.FixtureRequest, realm: LocalKdc, monkeypatch: pytest.MonkeyPatch) -> str:
    """Each test on both bindings: kafkaio's ctypes one, and the gssapi package's when installed."""
    if request.param == "gssapi":
        pytest.importorskip("gssapi", reason="the gssapi package is not installed")
    else:
        monkeypatch.setattr(kafkaio.gss, "_package", lambda: None)
    assert kafkaio.gss.backend_name() == request.param
    for key, value in realm.env.items():
        monkeypatch.setenv(key, value)
    return str(request.param)


def _settings(realm: LocalKdc, cluster: LocalKafkaCluster, **extra: Any) -> dict[str, Any]:
    settings: dict[str, Any] = {
        "bootstrap_servers": cluster.bootstrap_for("SASL_PLAINTEXT"), "security_protocol": "SASL_PLAINTEXT",
        "sasl_mechanism": "GSSAPI", "sasl_kerberos_service_name": "kafka",
        "sasl_kerberos_principal": realm.full_name("alice"), "sasl_kerberos_keytab": str(realm.keytab("alice"))}
    settings.update(extra)
    return {k: v for k, v in settings.items() if v is not None}


async def test_produce_consume_transactions_and_admin_with_a_keytab(realm, kerberos_cluster) -> None:
    settings = _settings(realm, kerberos_cluster)
    topic = f"krb-{uuid.uuid4().hex[:8]}"
    async with kafkaio.Admin(**settings) as admin:
        await admin.create_topics([kafkaio.NewTopic(topic, 2, 1)])
        assert topic in await admin.list_topics()
    async with kafkaio.Producer(**settings) as producer:
        futures = [await producer.send(topic, f"m{i}".encode()) for i in range(20)]
        await producer.flush()
        for future in futures:
            await future
    async with kafkaio.Producer(transactional_id=f"tx-{topic}", **settings) as producer:
        producer.begin_transaction()
        await producer.send(topic, b"committed")
        await producer.commit_transaction()
    expected = sorted([f"m{i}".encode() for i in range(20)] + [b"committed"])
    async with kafkaio.Consumer(topic, group_id=f"g-{topic}", auto_offset_reset="earliest",
                                isolation_level="read_committed", **settings) as consumer:
        got: list[bytes] = []
        deadline = time.monotonic() + WAIT_S
        while len(got) < len(expected):
            assert time.monotonic() < deadline, f"consumed {len(got)} of {len(expected)}"
            got += [r.value for rs in (await consumer.getmany(timeout_ms=500)).values() for r in rs]
    assert sorted(got) == expected


async def test_the_ticket_cache_serves_without_keytab_settings(realm, kerberos_cluster, tmp_path: Path,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    ccache = tmp_path / "ccache"
    realm.kinit("alice", ccache)
    monkeypatch.setenv("KRB5CCNAME", f"FILE:{ccache}")
    settings = _settings(realm, kerberos_cluster, sasl_kerberos_principal=None, sasl_kerberos_keytab=None)
    async with kafkaio.Admin(**settings) as admin:
        await admin.list_topics()  # raises AuthenticationError unless the ticket served


async def test_the_kerberos_session_is_renewed_on_the_same_connection(realm, kerberos_cluster) -> None:
    cluster = Cluster(CommonConfig.from_kwargs(**_settings(realm, kerberos_cluster)))
    try:
        await cluster.bootstrap(timeout_ms=20000)
        await renews_in_place(cluster, 2, REAUTH_MS)
    finally:
        await cluster.close()


async def _start_fails(settings: dict[str, Any]) -> AuthenticationError:
    """start() through a proxy counting connections: one attempt, a non-retriable error at once."""
    host, port = settings["bootstrap_servers"].split(",")[0].rsplit(":", 1)
    proxy = FaultProxy((host, int(port)))
    await proxy.start()
    admin = kafkaio.Admin(**{**settings, "bootstrap_servers": proxy.bootstrap_servers},
                          reconnect_backoff_max_ms=5000)
    started = time.monotonic()
    try:
        with pytest.raises(AuthenticationError) as info:
            await asyncio.wait_for(admin.start(), WAIT_S)
    finally:
        await admin.close()
        await proxy.stop()
    assert time.monotonic() - started < WAIT_S / 2  # at once, not after a timeout
    assert proxy.connections_accepted == 1  # not retried: no reconnect storm
    assert not info.value.retriable
    return info.value


async def test_a_stale_keytab_is_an_authentication_error(realm, kerberos_cluster, tmp_path: Path) -> None:
    realm.add_principal("bob")
    stale = tmp_path / "bob-old.keytab"
    shutil.copy(realm.keytab("bob"), stale)
    realm.add_principal_key("bob")  # a new key: the copy no longer works
    error = await _start_fails(_settings(realm, kerberos_cluster, sasl_kerberos_principal=realm.full_name("bob"),
                                         sasl_kerberos_keytab=str(stale)))
    assert "GSSAPI" in str(error)


async def test_an_expired_ticket_is_an_authentication_error(realm, kerberos_cluster, tmp_path: Path,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    ccache = tmp_path / "ccache"
    realm.kinit("alice", ccache, lifetime="3s")
    monkeypatch.setenv("KRB5CCNAME", f"FILE:{ccache}")
    await asyncio.sleep(4)
    error = await _start_fails(_settings(realm, kerberos_cluster, sasl_kerberos_principal=None,
                                         sasl_kerberos_keytab=None))
    assert "expired" in str(error).lower()


async def test_an_unknown_service_principal_is_an_authentication_error(realm, kerberos_cluster) -> None:
    error = await _start_fails(_settings(realm, kerberos_cluster, sasl_kerberos_domain_name="nowhere.invalid"))
    assert "kafka/nowhere.invalid" in str(error)

