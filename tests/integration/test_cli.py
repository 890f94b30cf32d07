"""The ``kafkaio`` command line, run as a user runs it (``python -m kafkaio`` in a subprocess)
against the session broker; one interop check with Kafka's own Java console consumer; ``acls``
against a broker that authorizes, with Kafka's own ``kafka-acls.sh`` reading what it wrote."""
from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from kafkaio.testing.broker import LocalKafkaCluster, fetch_jars, find_java, java_tool_class


pytestmark = [pytest.mark.integration]

RUN_TIMEOUT_S = 60


async def cli(bootstrap: str | None, *argv: str, stdin: str | None = None,
              env: dict[str, str] | None = None) -> tuple[int, str, str]:
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("KAFKAIO_")}
    full_env.update(env or {})
    args = [sys.executable, "-m", "kafkaio", *argv]
    if bootstrap is not None:
        args += ["--bootstrap", bootstrap]
    proc = await asyncio.create_subprocess_exec(
        *args, env=full_env, stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    out, err = await asyncio.wait_for(proc.communicate(stdin.encode() if stdin is not None else None),
                                      RUN_TIMEOUT_S)
    assert proc.returncode is not None
    return proc.returncode, out.decode(), err.decode()


async def ok(bootstrap: str, *argv: str, stdin: str | None = None) -> str:
    code, out, err = await cli(bootstrap, *argv, stdin=stdin)
    assert code == 0, f"kafkaio {' '.join(argv)} exited {code}:\n{err}"
    return out


async def test_produce_consume_round_trip(bootstrap_servers: str, topic: str) -> None:
    code, _, err = await cli(bootstrap_servers, "produce", topic, "-K", ":", "-H", "src=cli", "-z", "gzip",
                             "--acks", "1", "--progress", stdin="k1:one\nk2:two\n")
    assert code == 0 and "2 records sent in " in err and "records/s" in err, err
    await ok(bootstrap_servers, "produce", topic, "--json",
             stdin=json.dumps({"key": "k3", "value": {"n": 3}, "headers": {"h": "v"}}) + "\n")
    assert await ok(bootstrap_servers, "consume", topic, "-e") == 'one\ntwo\n{"n":3}\n'
    lines = (await ok(bootstrap_servers, "consume", topic, "-e", "-F", "json")).splitlines()
    recs = [json.loads(line) for line in lines]
    assert [(r["offset"], r["key"], r["value"]) for r in recs] == [(0, "k1", "one"), (1, "k2", "two"),
                                                                     (2, "k3", '{"n":3}')]
    assert recs[0]["headers"] == [["src", "cli"]] and recs[2]["headers"] == [["h", "v"]]
    assert all(r["topic"] == topic and r["partition"] == 0 and r["timestamp"] > 0 for r in recs)
    out = await ok(bootstrap_servers, "consume", topic, "-p", "0", "-o", "1", "-c", "1",
                   "-f", r"%t/%p@%o %k=%s [%h]\n")
    assert out == f"{topic}/0@1 k2=two [src=cli]\n"


async def test_consume_in_a_group_commits(bootstrap_servers: str, topic: str) -> None:
    group = f"cli-{uuid.uuid4().hex[:8]}"
    await ok(bootstrap_servers, "produce", topic, stdin="a\nb\nc\n")
    assert await ok(bootstrap_servers, "consume", topic, "-g", group, "-c", "2") == "a\nb\n"
    # the group resumes where the first run stopped
    assert await ok(bootstrap_servers, "consume", topic, "-g", group, "-c", "1") == "c\n"
    assert group in await ok(bootstrap_servers, "groups", "list")
    assert f"{group}\tEmpty\tclassic\n" in await ok(bootstrap_servers, "groups", "list", "--type", "classic")
    assert group not in await ok(bootstrap_servers, "groups", "list", "--type", "consumer", "--type", "share")


async def test_consume_ctrl_c_commits_and_exits_130(bootstrap_servers: str, topic: str) -> None:
    group = f"cli-{uuid.uuid4().hex[:8]}"
    await ok(bootstrap_servers, "produce", topic, stdin="x\ny\n")
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "kafkaio", "consume", topic, "-g", group, "--bootstrap", bootstrap_servers,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    assert proc.stdout is not None
    try:
        assert await asyncio.wait_for(proc.stdout.readline(), RUN_TIMEOUT_S) == b"x\n"
        assert await asyncio.wait_for(proc.stdout.readline(), RUN_TIMEOUT_S) == b"y\n"
        proc.send_signal(signal.SIGINT)
        _, err = await asyncio.wait_for(proc.communicate(), RUN_TIMEOUT_S)
    finally:
        if proc.returncode is None:  # the test failed with the consumer still running: end it
            proc.kill()
            await proc.wait()
    assert proc.returncode == 130, err.decode()
    lag = await ok(bootstrap_servers, "groups", "lag", group)
    assert f"{topic}\t0\t2\t2\t0" in lag, lag


async def test_topics(bootstrap_servers: str) -> None:
    name = f"cli-topics-{uuid.uuid4().hex[:8]}"
    await ok(bootstrap_servers, "topics", "create", name, "-p", "2", "-r", "1", "-c", "retention.ms=3600000")
    try:
        assert name in (await ok(bootstrap_servers, "topics", "list")).splitlines()
        desc = await ok(bootstrap_servers, "topics", "describe", name)
        assert f"Topic: {name}" in desc and "Partitions: 2" in desc and "\tPartition: 1\t" in desc
        assert "retention.ms=3600000" in await ok(bootstrap_servers, "topics", "configs", name)
        await ok(bootstrap_servers, "topics", "configs", name, "--set", "cleanup.policy=compact")
        configs = await ok(bootstrap_servers, "topics", "configs", name)
        assert "cleanup.policy=compact" in configs
        code, _, err = await cli(bootstrap_servers, "topics", "create", name, "-p", "1")
        assert code == 1 and "TOPIC_ALREADY_EXISTS" in err, err
    finally:
        await ok(bootstrap_servers, "topics", "delete", name)
    for _ in range(50):  # deletion is asynchronous in the controller
        if name not in (await ok(bootstrap_servers, "topics", "list")).splitlines():
            break
        await asyncio.sleep(0.2)
    else:
        raise AssertionError(f"{name} still listed after delete")


async def test_groups_describe_lag_and_reset(bootstrap_servers: str, topic: str) -> None:
    group = f"cli-{uuid.uuid4().hex[:8]}"
    await ok(bootstrap_servers, "produce", topic, stdin="".join(f"r{i}\n" for i in range(5)))
    await ok(bootstrap_servers, "consume", topic, "-g", group, "-c", "3")
    desc = await ok(bootstrap_servers, "groups", "describe", group)
    assert f"Group: {group}\tState: Empty" in desc and "Members: 0" in desc, desc
    assert f"{topic}\t0\t3\t5\t2" in await ok(bootstrap_servers, "groups", "lag", group)

    dry = await ok(bootstrap_servers, "groups", "reset-offsets", group, "--topic", topic, "--to-earliest")
    assert f"{topic}\t0\t3\t0" in dry and "dry run" in dry, dry
    assert f"{topic}\t0\t3\t5\t2" in await ok(bootstrap_servers, "groups", "lag", group)  # unchanged
    await ok(bootstrap_servers, "groups", "reset-offsets", group, "--topic", topic, "--shift-by", "-2", "--execute")
    assert f"{topic}\t0\t1\t5\t4" in await ok(bootstrap_servers, "groups", "lag", group)
    assert await ok(bootstrap_servers, "consume", topic, "-g", group, "-c", "1") == "r1\n"


async def test_cluster(bootstrap_servers: str) -> None:
    out = await ok(bootstrap_servers, "cluster")
    assert out.startswith("Cluster: ") and "\tBroker: " in out, out


async def test_exit_codes(bootstrap_servers: str) -> None:
    missing = f"cli-missing-{uuid.uuid4().hex[:8]}"
    code, _, err = await cli(bootstrap_servers, "topics", "describe", missing)
    assert code == 3, err
    code, _, err = await cli(bootstrap_servers, "consume", missing, "-e", "--timeout", "10")
    assert code == 3, err
    code, _, err = await cli(bootstrap_servers, "groups", "describe", f"no-group-{uuid.uuid4().hex[:8]}")
    assert code == 3, err
    code, _, err = await cli(None, "cluster")
    assert code == 2 and "KAFKAIO_BOOTSTRAP" in err, err
    # the broker named in the environment; nothing listens on the port
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        dead = f"127.0.0.1:{s.getsockname()[1]}"
    loop = asyncio.get_running_loop()
    started = loop.time()
    code, _, err = await cli(None, "topics", "list", "--timeout", "3", env={"KAFKAIO_BOOTSTRAP": dead})
    assert code == 4, err
    assert loop.time() - started < 30
    code, _, err = await cli(bootstrap_servers, "topics", "bogus")
    assert code == 2, err


async def test_password_comes_from_the_environment_only(bootstrap_servers: str) -> None:
    code, _, err = await cli(bootstrap_servers, "cluster", "--sasl-mechanism", "PLAIN", "--sasl-username", "u")
    assert code == 2 and "KAFKAIO_SASL_PASSWORD" in err, err
    code, _, err = await cli(bootstrap_servers, "cluster", "--sasl-password", "secret")
    assert code == 2, err


async def test_java_console_consumer_reads_cli_records(kafka_cluster: object, bootstrap_servers: str,
                                                       topic: str) -> None:
    from kafkaio.testing.broker import fetch_jars
    from kafkaio.testing.chaos.readback import java_read_topic

    version = getattr(kafka_cluster, "version", None)
    if version is None:
        pytest.skip("the broker's version is unknown, so no Kafka jars to run the Java console consumer")
    libs = await asyncio.to_thread(fetch_jars, version)
    await ok(bootstrap_servers, "produce", topic, "-K", "|", stdin="a|1\nb|2\n")
    theirs = await asyncio.to_thread(java_read_topic, libs, bootstrap_servers, topic, 2)
    assert [(r.offset, r.key, r.value) for r in theirs] == [(0, "a", "1"), (1, "b", "2")]
    # and the other way: Kafka's own console producer writes, the CLI reads
    await asyncio.to_thread(_java_console_produce, libs, bootstrap_servers, topic, "c|3\n")
    out = await ok(bootstrap_servers, "consume", topic, "-e", "-f", r"Partition:%p|Offset:%o|%k|%s\n")
    assert out.splitlines()[2] == "Partition:0|Offset:2|c|3", out


def _java_console_produce(libs: Path, bootstrap: str, topic: str, lines: str) -> None:
    from kafkaio.testing.broker import find_java

    producer = java_tool_class(libs, "org.apache.kafka.tools.ConsoleProducer", "kafka.tools.ConsoleProducer")
    cmd = [find_java(), "-Xmx256m", "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC", "-cp", f"{libs}/*",
           producer, "--bootstrap-server", bootstrap, "--topic", topic,
           "--property", "parse.key=true", "--property", "key.separator=|"]
    proc = subprocess.run(cmd, input=lines, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]


# -- acls, against a broker that authorizes (StandardAuthorizer, a super user ``admin``) -------------

ADMIN, ADMIN_PASSWORD = "admin", "admin-secret"
BOB, BOB_PASSWORD = "bob", "bob-secret"


@pytest.fixture(scope="module")
def acl_broker() -> Iterator[LocalKafkaCluster]:
    cluster = LocalKafkaCluster(
        listeners=("SASL_PLAINTEXT",), users={ADMIN: ADMIN_PASSWORD, BOB: BOB_PASSWORD},
        broker_properties={"authorizer.class.name": "org.apache.kafka.metadata.authorizer.StandardAuthorizer",
                           "super.users": f"User:{ADMIN};User:ANONYMOUS"})
    cluster.start()
    try:
        yield cluster
    finally:
        cluster.stop()


async def as_user(cluster: LocalKafkaCluster, user: str, password: str, *argv: str) -> tuple[int, str, str]:
    return await cli(cluster.bootstrap_servers, *argv, "--security-protocol", "SASL_PLAINTEXT",
                     "--sasl-mechanism", "SCRAM-SHA-256", "--sasl-username", user,
                     env={"KAFKAIO_SASL_PASSWORD": password})


def java_acls(cluster: LocalKafkaCluster, tmp_path: Path, *argv: str) -> str:
    """Kafka's own kafka-acls.sh, as the super user."""
    conf = tmp_path / "admin.properties"
    conf.write_text("security.protocol=SASL_PLAINTEXT\nsasl.mechanism=SCRAM-SHA-256\n"
                    "sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required "
                    f'username="{ADMIN}" password="{ADMIN_PASSWORD}";\n')
    libs = fetch_jars()
    acl_command = java_tool_class(libs, "org.apache.kafka.tools.AclCommand", "kafka.admin.AclCommand")
    proc = subprocess.run([find_java(), "-Xmx256m", "-XX:TieredStopAtLevel=1", "-cp", f"{libs}/*",
                           acl_command, "--bootstrap-server", cluster.bootstrap_servers,
                           "--command-config", str(conf), *argv], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]
    return proc.stdout


@pytest.mark.slow
async def test_acls_add_list_remove_and_java_sees_them(acl_broker: LocalKafkaCluster, tmp_path: Path) -> None:
    topic, prefix = f"acl-{uuid.uuid4().hex[:8]}", f"g-{uuid.uuid4().hex[:6]}-"
    code, out, err = await as_user(acl_broker, ADMIN, ADMIN_PASSWORD, "acls", "add", "--topic", topic,
                                   "--allow-principal", f"User:{BOB}", "--operation", "Read",
                                   "--operation", "Describe")
    assert code == 0, err
    assert out.count("added ALLOW User:bob") == 2 and "READ" in out and "DESCRIBE" in out
    code, out, err = await as_user(acl_broker, ADMIN, ADMIN_PASSWORD, "acls", "add", "--group", prefix,
                                   "--resource-pattern-type", "prefixed", "--deny-principal", f"User:{BOB}",
                                   "--operation", "Read", "--host", "10.0.0.1")
    assert code == 0, err

    code, out, err = await as_user(acl_broker, ADMIN, ADMIN_PASSWORD, "acls", "list", "--principal", f"User:{BOB}")
    assert code == 0, err
    lines = out.splitlines()
    assert len(lines) == 3, out
    assert sum(topic in ln and ln.startswith("ALLOW User:bob") for ln in lines) == 2
    (deny,) = [ln for ln in lines if prefix in ln]
    assert deny.startswith("DENY User:bob READ from 10.0.0.1") and "PREFIXED" in deny
    # the ACLs that apply to one group of that prefix: the prefixed DENY
    code, out, err = await as_user(acl_broker, ADMIN, ADMIN_PASSWORD, "acls", "list", "--group", prefix + "x",
                                   "--resource-pattern-type", "match")
    assert code == 0 and out.splitlines() == [deny], (out, err)

    theirs = java_acls(acl_broker, tmp_path, "--list", "--topic", topic)
    assert f"principal=User:{BOB}" in theirs and "operation=READ" in theirs and "operation=DESCRIBE" in theirs

    code, out, err = await as_user(acl_broker, ADMIN, ADMIN_PASSWORD, "acls", "remove", "--topic", topic,
                                   "--operation", "Describe")
    assert code == 0, err
    assert out.splitlines() == [ln.replace("ALLOW", "removed ALLOW", 1) for ln in lines
                                if topic in ln and "DESCRIBE" in ln]
    code, out, err = await as_user(acl_broker, ADMIN, ADMIN_PASSWORD, "acls", "list", "--topic", topic)
    assert code == 0 and len(out.splitlines()) == 1 and " READ " in out, (out, err)
    assert "operation=DESCRIBE" not in java_acls(acl_broker, tmp_path, "--list", "--topic", topic)


@pytest.mark.slow
async def test_acls_errors_are_typed_and_nothing_is_removed_by_accident(acl_broker: LocalKafkaCluster) -> None:
    # bob may not describe the cluster's ACLs: a Kafka error (exit 1) naming it
    code, _, err = await as_user(acl_broker, BOB, BOB_PASSWORD, "acls", "list")
    assert code == 1 and "ClusterAuthorization" in err, err
    # an ACL needs a principal and an operation; remove without any option would delete every ACL
    code, _, err = await as_user(acl_broker, ADMIN, ADMIN_PASSWORD, "acls", "add", "--topic", "t")
    assert code == 2 and "--operation" in err, err
    code, _, err = await as_user(acl_broker, ADMIN, ADMIN_PASSWORD, "acls", "remove")
    assert code == 2 and "every ACL" in err, err
    assert BOB_PASSWORD not in err and ADMIN_PASSWORD not in err
