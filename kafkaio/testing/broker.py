"""A real Apache Kafka cluster on loopback, for tests, examples and benchmarks.

The broker jars come from Maven Central through Maven (``pom.xml`` beside this file) and are cached
outside the repository, once per version. Each node is a combined KRaft broker+controller running
in its own JVM, in its own process group, in a temporary directory, on free loopback ports.

    python -m kafkaio.testing.broker fetch                 # download the jars (once)
    python -m kafkaio.testing.broker start --brokers 3     # run a cluster until Ctrl-C / SIGTERM

    with LocalKafkaCluster(brokers=1) as cluster:
        cluster.bootstrap_servers                          # "127.0.0.1:PORT"

Environment: ``KAFKAIO_KAFKA_VERSION`` (default 4.4.0), ``KAFKAIO_CACHE`` (default
``~/.cache/kafkaio``), ``KAFKAIO_BROKER_HEAP`` (JVM heap per node, default ``512m``).
"""
from __future__ import annotations

import argparse
import atexit
import base64
import concurrent.futures
import contextlib
import dataclasses
import fcntl
import os
import queue
import re
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time
import uuid
import zipfile
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

__all__ = [
    "DEFAULT_KAFKA_VERSION",
    "BrokerLauncherError",
    "BrokerInfo",
    "LocalKafkaCluster",
    "cache_dir",
    "fetch_jars",
    "find_java",
    "find_maven",
    "java_tool_class",
    "kafka_version",
]

DEFAULT_KAFKA_VERSION = "4.4.0"
CLIENT_LISTENERS = ("PLAINTEXT", "SASL_PLAINTEXT", "SSL", "SASL_SSL")
# OAUTHBEARER uses Kafka's built-in *unsecured* validator: it accepts any unsigned JWT
# (alg "none") whose "sub" claim names the principal. For tests only, like everything here.
SASL_MECHANISMS = ("PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512", "OAUTHBEARER")
# The listener every node uses for replication and for our own readiness probes. It is always
# plaintext and never advertised through a proxy, so faults injected on client listeners never
# disturb the cluster's own traffic.
INTERNAL_LISTENER = "INTERNAL"
CONTROLLER_LISTENER = "CONTROLLER"
POM = Path(__file__).with_name("pom.xml")
_READY_MARKER = ".complete"


class BrokerLauncherError(RuntimeError):
    """The local Kafka cluster cannot be fetched, started or stopped; the message says what to do."""


# --------------------------------------------------------------------------- prerequisites


def kafka_version(version: str | None = None) -> str:
    """The Kafka version to run: ``version``, else ``KAFKAIO_KAFKA_VERSION``, else the pinned one."""
    chosen = version or os.environ.get("KAFKAIO_KAFKA_VERSION") or DEFAULT_KAFKA_VERSION
    if not re.fullmatch(r"\d+\.\d+\.\d+(?:-[\w.]+)?", chosen):
        raise BrokerLauncherError(f"KAFKAIO_KAFKA_VERSION={chosen!r} is not a Kafka version like 4.1.2")
    return chosen


def cache_dir() -> Path:
    """Root of the jar cache: ``KAFKAIO_CACHE`` or ``~/.cache/kafkaio``."""
    configured = os.environ.get("KAFKAIO_CACHE")
    return Path(configured).expanduser() if configured else Path.home() / ".cache" / "kafkaio"


def find_java() -> str:
    """Path of a ``java`` >= 17 (``JAVA_HOME`` first, then ``PATH``), or BrokerLauncherError."""
    candidates = []
    java_home = os.environ.get("JAVA_HOME")
    if java_home:
        candidates.append(str(Path(java_home) / "bin" / "java"))
    found = shutil.which("java")
    if found:
        candidates.append(found)
    for java in candidates:
        if not os.access(java, os.X_OK):
            continue
        try:
            out = subprocess.run(
                [java, "-version"], capture_output=True, text=True, timeout=60
            ).stderr
        except (OSError, subprocess.TimeoutExpired):
            continue
        match = re.search(r'version "(\d+)(?:\.(\d+))?', out)
        if match:
            major = int(match.group(1))
            if major == 1 and match.group(2):  # "1.8.0_..." style
                major = int(match.group(2))
            if major >= 17:
                return java
            raise BrokerLauncherError(
                f"{java} is Java {major}; the Kafka broker needs Java 17 or newer. Install a JDK 17+ "
                "(e.g. `apt-get install openjdk-17-jre-headless`) or point JAVA_HOME at one."
            )
    raise BrokerLauncherError(
        "no `java` found; the local Kafka broker needs Java 17 or newer. Install a JDK 17+ "
        "(e.g. `apt-get install openjdk-17-jre-headless`) or set JAVA_HOME, or point the tests at "
        "an existing cluster with KAFKAIO_BOOTSTRAP=host:port."
    )


def find_maven() -> str:
    """Path of ``mvn``, or BrokerLauncherError saying how to get it."""
    mvn = shutil.which("mvn")
    if mvn is None:
        raise BrokerLauncherError(
            "no `mvn` found; Maven fetches the Kafka broker jars from Maven Central. Install it "
            "(e.g. `apt-get install maven`), or point the tests at an existing cluster with "
            "KAFKAIO_BOOTSTRAP=host:port."
        )
    return mvn


# --------------------------------------------------------------------------- jars


def fetch_jars(version: str | None = None, *, quiet: bool = True) -> Path:
    """Download the broker and tools jars for ``version`` (once) and return their directory.

    Safe to call from several processes at once: a file lock serialises the download and the
    result is published by renaming a complete directory.
    """
    version = kafka_version(version)
    root = cache_dir() / f"kafka-{version}"
    libs = root / "libs"
    if (root / _READY_MARKER).exists():
        return libs
    root.mkdir(parents=True, exist_ok=True)
    with open(root / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if (root / _READY_MARKER).exists():
            return libs
        mvn = find_maven()
        staging = Path(tempfile.mkdtemp(prefix="libs.", dir=root))
        cmd = [
            mvn, "-B", "-f", str(POM), "dependency:copy-dependencies",
            f"-Dkafka.version={version}", f"-DoutputDirectory={staging}", "-DincludeScope=runtime",
        ]
        if quiet:
            cmd.insert(1, "-q")
        # Maven writes target/ next to the pom; give it a scratch project dir instead so the
        # installed package (possibly read-only) stays untouched.
        with tempfile.TemporaryDirectory(prefix="kafkaio-mvn-") as scratch:
            pom_copy = Path(scratch) / "pom.xml"
            shutil.copyfile(POM, pom_copy)
            cmd[cmd.index(str(POM))] = str(pom_copy)
            proc = subprocess.run(cmd, capture_output=True, text=True, cwd=scratch)
        if proc.returncode != 0 or not any(staging.glob("kafka_2.13-*.jar")):
            shutil.rmtree(staging, ignore_errors=True)
            tail = "\n".join((proc.stdout + proc.stderr).strip().splitlines()[-25:])
            raise BrokerLauncherError(
                f"Maven could not fetch Kafka {version} from Maven Central (exit {proc.returncode}). "
                f"Check the version exists and Maven can reach Maven Central.\n{tail}"
            )
        if libs.exists():
            shutil.rmtree(libs)
        staging.rename(libs)
        (root / _READY_MARKER).write_text(version + "\n")
    return libs


def java_tool_class(libs: Path, *names: str) -> str:
    """The first of ``names`` (fully qualified Java classes) that a jar in ``libs`` contains.

    Kafka 4.0 moved command-line tools out of the broker's Scala core (``kafka.tools``,
    ``kafka.admin``) into the tools jar (``org.apache.kafka.tools``); a caller names every home a
    tool has had and runs whichever the release in ``libs`` ships. BrokerLauncherError if none."""
    entries = {name: name.replace(".", "/") + ".class" for name in names}
    for jar in sorted(libs.glob("*.jar")):
        with zipfile.ZipFile(jar) as archive:
            present = set(archive.namelist())
        for name in names:
            if entries[name] in present:
                return name
    raise BrokerLauncherError(f"none of {', '.join(names)} is in the jars of {libs}")


# --------------------------------------------------------------------------- small helpers


def _ephemeral_range() -> tuple[int, int]:
    try:
        low, high = Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()
        return int(low), int(high)
    except (OSError, ValueError):
        return 32768, 60999


def free_ports(count: int, host: str = "127.0.0.1") -> list[int]:
    """``count`` distinct ports that are free now, chosen *below* the kernel's ephemeral range.

    Ports the kernel hands out for bind(0) and for outgoing connections come from the ephemeral
    range, so a port taken from there can be grabbed by any client socket before the JVM binds it
    (or before a killed node is restarted on it). Ports below the range are only ever taken by an
    explicit bind.
    """
    import random

    low, _ = _ephemeral_range()
    floor = 10000 if low > 12000 else 1024
    rng = random.SystemRandom()
    chosen: list[int] = []
    for _ in range(count * 200):
        if len(chosen) == count:
            return chosen
        port = rng.randrange(floor, low)
        if port in chosen:
            continue
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            try:
                s.bind((host, port))
            except OSError:
                continue
        chosen.append(port)
    if len(chosen) == count:
        return chosen
    raise BrokerLauncherError(f"could not find {count} free ports on {host} between {floor} and {low}")


def _new_cluster_id() -> str:
    """A random cluster id in Kafka's form (URL-safe base64 of 16 bytes).

    Like Kafka's own Uuid.randomUuid, never one starting with "-": the storage tool's argument
    parser would read it as an option.
    """
    while True:
        cluster_id = base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")
        if not cluster_id.startswith("-"):
            return cluster_id


def load_prctl() -> Any:
    """libc's prctl, resolved in the parent (a forked child must not import anything)."""
    try:
        import ctypes

        return ctypes.CDLL(None, use_errno=True).prctl
    except Exception:  # not Linux / no libc symbol: atexit and the process group still clean up
        return None


def set_parent_death_signal(prctl: Any, parent_pid: int) -> None:
    """Child-side (preexec): get SIGKILL when the thread that forked us ends (Linux only)."""
    if prctl is None:
        return
    prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    if os.getppid() != parent_pid:  # the parent died before prctl took effect
        os._exit(1)


class _Spawner:
    """Starts every broker JVM from one daemon thread that lives as long as the process.

    PR_SET_PDEATHSIG fires when the *thread* that forked the child ends, not the process. Tests
    start clusters from worker threads (``asyncio.to_thread``) that come and go; forking from this
    never-ending daemon thread ties each JVM's life to the whole process instead, so even a
    SIGKILLed test run takes its brokers with it.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._requests: "queue.SimpleQueue[tuple[concurrent.futures.Future[subprocess.Popen[Any]], list[str], dict[str, Any]]]" = queue.SimpleQueue()
        self._thread: threading.Thread | None = None

    def popen(self, cmd: list[str], **kwargs: Any) -> "subprocess.Popen[Any]":
        with self._lock:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="kafkaio-broker-spawner", daemon=True)
                self._thread.start()
        future: concurrent.futures.Future[subprocess.Popen[Any]] = concurrent.futures.Future()
        self._requests.put((future, cmd, kwargs))
        return future.result()

    def _run(self) -> None:
        parent, prctl = os.getpid(), load_prctl()
        while True:
            future, cmd, kwargs = self._requests.get()
            try:
                proc = subprocess.Popen(cmd, preexec_fn=lambda: set_parent_death_signal(prctl, parent), **kwargs)
            except BaseException as exc:
                future.set_exception(exc)
            else:
                future.set_result(proc)


_SPAWNER = _Spawner()


def _recv_exact(sock: socket.socket, n: int) -> bytes:
    buf = bytearray()
    while len(buf) < n:
        chunk = sock.recv(n - len(buf))
        if not chunk:
            raise ConnectionError("broker closed the connection")
        buf += chunk
    return bytes(buf)


def probe_metadata(host: str, port: int, timeout: float = 2.0) -> list[tuple[int, str, int]]:
    """Brokers named by a Metadata v0 response from ``host:port`` (raises OSError if not ready).

    Hand-encoded on purpose: the launcher must not depend on the client it is used to test.
    v0 is answered by every broker version (4.x too: Metadata still accepts v0).
    """
    client_id = b"kafkaio-launcher"
    # header v1: api_key=3 (Metadata), version 0, correlation id, client id; body: topics=[] (all)
    body = struct.pack(">hhih", 3, 0, 7, len(client_id)) + client_id + struct.pack(">i", 0)
    with socket.create_connection((host, port), timeout=timeout) as sock:
        sock.settimeout(timeout)
        sock.sendall(struct.pack(">i", len(body)) + body)
        size = struct.unpack(">i", _recv_exact(sock, 4))[0]
        data = _recv_exact(sock, size)
    pos = 4  # correlation id
    (count,) = struct.unpack_from(">i", data, pos)
    pos += 4
    brokers = []
    for _ in range(count):
        node_id, hlen = struct.unpack_from(">ih", data, pos)
        pos += 6
        bhost = data[pos : pos + hlen].decode()
        pos += hlen
        (bport,) = struct.unpack_from(">i", data, pos)
        pos += 4
        brokers.append((node_id, bhost, bport))
    return brokers


# --------------------------------------------------------------------------- cluster


@dataclasses.dataclass
class BrokerInfo:
    """One node of a LocalKafkaCluster: identity, ports, files and (while running) its process."""

    index: int
    node_id: int
    directory: Path
    ports: dict[str, int]  # listener name -> real listen port (client listeners + INTERNAL + CONTROLLER)
    advertised: dict[str, tuple[str, int]]  # client listener name -> advertised (host, port)
    process: subprocess.Popen[bytes] | None = None

    @property
    def host(self) -> str:
        return "127.0.0.1"

    @property
    def port(self) -> int:
        """Real listen port of the first client listener."""
        return next(p for name, p in self.ports.items() if name not in (INTERNAL_LISTENER, CONTROLLER_LISTENER))

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process is not None else None

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    @property
    def log_file(self) -> Path:
        return self.directory / "logs" / "server.log"

    @property
    def stdout_file(self) -> Path:
        return self.directory / "logs" / "stdout.log"

    @property
    def config_file(self) -> Path:
        return self.directory / "server.properties"

    @property
    def data_dir(self) -> Path:
        return self.directory / "data"


# Strong references: a cluster its creator forgot (no stop(), reference dropped) must still be
# stopped cleanly at exit.
_LIVE: "set[LocalKafkaCluster]" = set()


@atexit.register
def _stop_all_at_exit() -> None:
    for cluster in list(_LIVE):
        with contextlib.suppress(Exception):
            cluster.stop(grace=5.0)


class LocalKafkaCluster:
    """N combined broker+controller KRaft nodes on 127.0.0.1 forming one cluster.

    ``listeners``: client listeners to open, any of PLAINTEXT, SASL_PLAINTEXT, SSL, SASL_SSL; the
    first one is what :attr:`bootstrap_servers` names. SASL listeners accept PLAIN, SCRAM-SHA-256
    and SCRAM-SHA-512 for :attr:`users`; SSL listeners use certificates made for this cluster
    (:attr:`ca_file`). ``advertised={index: (host, port)}`` makes node ``index`` advertise another
    address on its first client listener (e.g. a fault proxy in front of it) while it keeps
    listening on its own port (:attr:`BrokerInfo.port`). ``racks``: one ``broker.rack`` per node,
    in node order (for rack-aware assignment and fetching from the closest replica).
    ``jvm_properties``: Java system properties for every node (``-Dkey=value``), for settings Kafka
    reads only from there (e.g. ``org.apache.kafka.sasl.oauthbearer.allowed.urls``).
    ``features={"share.version": 0}``: feature levels finalized when the storage is formatted
    (``kafka-storage format --feature``), instead of the release's defaults.
    ``extra_classpath``: directories or jars put on every node's classpath after the release's
    libs (e.g. a metrics reporter plugin compiled by a test).
    ``log_levels={"org.apache.kafka.common.network.Selector": "DEBUG"}``: log4j levels for some of
    the broker's loggers (the rest log at INFO), for tests that read a broker's log.
    """

    def __init__(
        self,
        brokers: int = 1,
        version: str | None = None,
        listeners: Sequence[str] = ("PLAINTEXT",),
        broker_properties: Mapping[str, Any] | None = None,
        advertised: Mapping[int, tuple[str, int]] | None = None,
        *,
        auto_create_topics: bool = True,
        users: Mapping[str, str] | None = None,
        ssl_client_auth: str = "none",
        heap: str | None = None,
        base_dir: str | os.PathLike[str] | None = None,
        start_timeout: float = 240.0,  # generous: JVM start on a loaded 2-core machine takes minutes
        racks: Sequence[str] | None = None,
        jvm_properties: Mapping[str, str] | None = None,
        features: Mapping[str, int] | None = None,
        extra_classpath: Sequence[str | os.PathLike[str]] = (),
        log_levels: Mapping[str, str] | None = None,
    ) -> None:
        if brokers < 1:
            raise BrokerLauncherError("a cluster needs at least one broker")
        if racks is not None and len(racks) != brokers:
            raise BrokerLauncherError(f"racks names one rack per broker: {brokers} broker(s), {len(racks)} rack(s)")
        self.racks = tuple(racks) if racks is not None else None
        self.jvm_properties = dict(jvm_properties or {})
        self.features = dict(features or {})
        self.extra_classpath = tuple(str(path) for path in extra_classpath)
        self.log_levels = dict(log_levels or {})
        listeners = tuple(name.upper() for name in listeners)
        unknown = [name for name in listeners if name not in CLIENT_LISTENERS]
        if not listeners or unknown or len(set(listeners)) != len(listeners):
            raise BrokerLauncherError(
                f"listeners must be distinct names among {', '.join(CLIENT_LISTENERS)}; got {listeners!r}"
            )
        if ssl_client_auth not in ("none", "requested", "required"):
            raise BrokerLauncherError("ssl_client_auth must be 'none', 'requested' or 'required'")
        self.version = kafka_version(version)
        self.num_brokers = brokers
        self.listeners = listeners
        self.auto_create_topics = auto_create_topics
        self.broker_properties = dict(broker_properties or {})
        self._advertised_override = dict(advertised or {})
        self.users: dict[str, str] = dict(users) if users is not None else {
            "admin": "admin-secret",
            "alice": "alice-secret",
        }
        self.ssl_client_auth = ssl_client_auth
        self.heap = heap or os.environ.get("KAFKAIO_BROKER_HEAP", "512m")
        self.start_timeout = start_timeout
        self.cluster_id = _new_cluster_id()
        self._base_dir = base_dir
        self._tmp: Path | None = None
        self._owns_tmp = False
        self._libs: Path | None = None
        self._java: str | None = None
        self._lock = threading.RLock()
        self.certs: Any = None  # kafkaio.testing.certs.ClusterCerts when a TLS listener is open
        self.brokers: list[BrokerInfo] = []

    # ----------------------------------------------------------------- public API

    @property
    def bootstrap_servers(self) -> str:
        """``host:port,...`` of every node on the first client listener (advertised addresses)."""
        return self.bootstrap_for(self.listeners[0])

    def bootstrap_for(self, listener: str) -> str:
        """``host:port,...`` of every node on ``listener`` (e.g. ``"SASL_SSL"``)."""
        listener = listener.upper()
        if listener not in self.listeners:
            raise BrokerLauncherError(f"listener {listener} is not open; open ones: {self.listeners}")
        return ",".join("%s:%d" % b.advertised[listener] for b in self.brokers)

    @property
    def bootstrap_by_listener(self) -> dict[str, str]:
        return {name: self.bootstrap_for(name) for name in self.listeners}

    @property
    def internal_bootstrap(self) -> str:
        """Plaintext bootstrap on the internal listener (never proxied, no auth)."""
        return ",".join(f"127.0.0.1:{b.ports[INTERNAL_LISTENER]}" for b in self.brokers)

    @property
    def ca_file(self) -> Path | None:
        """PEM file of the CA that signed the brokers' certificates (None without TLS listeners)."""
        return self.certs.ca_file if self.certs is not None else None

    @property
    def directory(self) -> Path | None:
        return self._tmp

    def start(self) -> "LocalKafkaCluster":
        """Fetch jars if needed, format storage, start every node, wait until all answer."""
        with self._lock:
            if self.brokers and any(b.running for b in self.brokers):
                return self
            self._java = find_java()
            self._libs = fetch_jars(self.version)
            self._prepare()
            _LIVE.add(self)
            try:
                self._format_all()
                for broker in self.brokers:
                    self._spawn(broker)
                self._wait_ready(self.brokers)
            except BaseException:
                self.stop(grace=3.0)
                raise
            return self

    def stop(self, grace: float = 15.0) -> None:
        """Stop every node (SIGTERM, SIGKILL after ``grace`` seconds) and delete the temp dir."""
        with self._lock:
            for broker in self.brokers:
                self._signal(broker, signal.SIGTERM)
            deadline = time.monotonic() + grace
            for broker in self.brokers:
                self._reap(broker, max(0.0, deadline - time.monotonic()))
            _LIVE.discard(self)
            if self._owns_tmp and self._tmp is not None and os.environ.get("KAFKAIO_KEEP_BROKER_DIR") != "1":
                shutil.rmtree(self._tmp, ignore_errors=True)
                self._tmp = None
                self.brokers = []

    def stop_broker(self, index: int, grace: float = 15.0) -> None:
        """Controlled shutdown of node ``index`` (SIGTERM; SIGKILL after ``grace`` seconds)."""
        with self._lock:
            broker = self.brokers[index]
            self._signal(broker, signal.SIGTERM)
            self._reap(broker, grace)

    def kill_broker(self, index: int) -> None:
        """Crash node ``index`` (SIGKILL): no controlled shutdown, no flush."""
        with self._lock:
            broker = self.brokers[index]
            self._signal(broker, signal.SIGKILL)
            self._reap(broker, 10.0)

    def start_broker(self, index: int, wait: bool = True) -> None:
        """Restart node ``index`` with the same node id, data directory and ports."""
        with self._lock:
            broker = self.brokers[index]
            if broker.running:
                return
            self._spawn(broker)
            if wait:
                self._wait_ready([broker])

    def restart_broker(self, index: int, kill: bool = False) -> None:
        """Stop (or kill) node ``index`` and start it again."""
        if kill:
            self.kill_broker(index)
        else:
            self.stop_broker(index)
        self.start_broker(index)

    def pids(self) -> list[int]:
        """Process ids of the nodes that are running now."""
        return [b.pid for b in self.brokers if b.running and b.pid is not None]

    def __enter__(self) -> "LocalKafkaCluster":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def __repr__(self) -> str:
        state = "running" if any(b.running for b in self.brokers) else "stopped"
        addr = self.bootstrap_servers if self.brokers else "-"
        return f"<LocalKafkaCluster kafka={self.version} brokers={self.num_brokers} {state} {addr}>"

    # ----------------------------------------------------------------- internals

    def _prepare(self) -> None:
        if self._base_dir is not None:
            self._tmp = Path(self._base_dir)
            self._tmp.mkdir(parents=True, exist_ok=True)
            if any(self._tmp.glob("node-*")):
                raise BrokerLauncherError(f"{self._tmp} already holds a cluster; give an empty directory")
        else:
            self._tmp = Path(tempfile.mkdtemp(prefix="kafkaio-cluster-"))
            self._owns_tmp = True
        needs_tls = any(name in ("SSL", "SASL_SSL") for name in self.listeners)
        if needs_tls and self.certs is None:
            from kafkaio.testing.certs import make_cluster_certs

            self.certs = make_cluster_certs(self._tmp / "certs")
        names = [*self.listeners, INTERNAL_LISTENER, CONTROLLER_LISTENER]
        ports = free_ports(len(names) * self.num_brokers)
        self.brokers = []
        for index in range(self.num_brokers):
            own = dict(zip(names, ports[index * len(names) : (index + 1) * len(names)]))
            advertised = {name: ("127.0.0.1", own[name]) for name in self.listeners}
            if index in self._advertised_override:
                host, port = self._advertised_override[index]
                advertised[self.listeners[0]] = (host, int(port))
            directory = self._tmp / f"node-{index}"
            (directory / "logs").mkdir(parents=True, exist_ok=True)
            self.brokers.append(BrokerInfo(index, index + 1, directory, own, advertised))
        for broker in self.brokers:
            self._write_config(broker)

    def _properties(self, broker: BrokerInfo) -> dict[str, str]:
        n = self.num_brokers
        voters = ",".join(f"{b.node_id}@127.0.0.1:{b.ports[CONTROLLER_LISTENER]}" for b in self.brokers)
        protocol_map = {INTERNAL_LISTENER: "PLAINTEXT", CONTROLLER_LISTENER: "PLAINTEXT"}
        protocol_map.update({name: name for name in self.listeners})
        props: dict[str, str] = {
            "process.roles": "broker,controller",
            "node.id": str(broker.node_id),
            "controller.quorum.voters": voters,
            "controller.listener.names": CONTROLLER_LISTENER,
            "inter.broker.listener.name": INTERNAL_LISTENER,
            "listeners": ",".join(f"{name}://127.0.0.1:{port}" for name, port in broker.ports.items()),
            "advertised.listeners": ",".join(
                [f"{name}://{h}:{p}" for name, (h, p) in broker.advertised.items()]
                + [f"{INTERNAL_LISTENER}://127.0.0.1:{broker.ports[INTERNAL_LISTENER]}"]
            ),
            "listener.security.protocol.map": ",".join(f"{k}:{v}" for k, v in protocol_map.items()),
            "log.dirs": str(broker.data_dir),
            "num.partitions": "1",
            "default.replication.factor": "1",
            "offsets.topic.replication.factor": str(min(n, 3)),
            "transaction.state.log.replication.factor": str(min(n, 3)),
            "transaction.state.log.min.isr": str(min(n, 2)),
            "share.coordinator.state.topic.replication.factor": str(min(n, 3)),
            "share.coordinator.state.topic.min.isr": str(min(n, 2)),
            "group.initial.rebalance.delay.ms": "0",
            "auto.create.topics.enable": "true" if self.auto_create_topics else "false",
            "controlled.shutdown.enable": "true",
        }
        if any(name.startswith("SASL_") for name in self.listeners):
            props["sasl.enabled.mechanisms"] = ",".join(SASL_MECHANISMS)
            plain_users = " ".join(f'user_{u}="{p}"' for u, p in self.users.items())
            first_user, first_password = next(iter(self.users.items()))
            for name in self.listeners:
                if not name.startswith("SASL_"):
                    continue
                prefix = f"listener.name.{name.lower()}"
                props[f"{prefix}.plain.sasl.jaas.config"] = (
                    "org.apache.kafka.common.security.plain.PlainLoginModule required "
                    f'username="{first_user}" password="{first_password}" {plain_users};'
                )
                for mech in ("scram-sha-256", "scram-sha-512"):
                    props[f"{prefix}.{mech}.sasl.jaas.config"] = (
                        "org.apache.kafka.common.security.scram.ScramLoginModule required;"
                    )
                props[f"{prefix}.oauthbearer.sasl.jaas.config"] = (
                    "org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginModule required "
                    f'unsecuredLoginStringClaim_sub="{first_user}";'
                )
        if self.certs is not None:
            for name in self.listeners:
                if name not in ("SSL", "SASL_SSL"):
                    continue
                prefix = f"listener.name.{name.lower()}"
                props[f"{prefix}.ssl.keystore.type"] = "PEM"
                props[f"{prefix}.ssl.keystore.location"] = str(self.certs.server_keystore_pem)
                props[f"{prefix}.ssl.truststore.type"] = "PEM"
                props[f"{prefix}.ssl.truststore.location"] = str(self.certs.ca_file)
                props[f"{prefix}.ssl.client.auth"] = self.ssl_client_auth
                props[f"{prefix}.ssl.endpoint.identification.algorithm"] = ""
        if self.racks is not None:
            props["broker.rack"] = self.racks[broker.index]
        props.update({k: str(v) for k, v in self.broker_properties.items()})
        return props

    def _write_config(self, broker: BrokerInfo) -> None:
        props = self._properties(broker)
        broker.config_file.write_text("".join(f"{k}={v}\n" for k, v in props.items()))
        (broker.directory / "log4j2.properties").write_text(_log4j2_config(broker.log_file, self.log_levels))

    def _java_cmd(self, broker: BrokerInfo, main: str, *args: str, heap: str | None = None) -> list[str]:
        assert self._java is not None and self._libs is not None
        # A short-lived tool (heap given) starts faster on the C1 compiler and the serial GC.
        tuning = (
            [f"-Xms{self.heap}", f"-Xmx{self.heap}", "-XX:+UseG1GC", "-XX:MaxGCPauseMillis=20"]
            if heap is None
            else [f"-Xmx{heap}", "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC"]
        )
        return [
            self._java,
            *tuning,
            "-XX:+ExitOnOutOfMemoryError",
            "-Djava.awt.headless=true",
            f"-Dlog4j2.configurationFile={broker.directory / 'log4j2.properties'}",
            f"-Dlog4j.configuration=file:{broker.directory / 'log4j2.properties'}",
            f"-Dkafka.logs.dir={broker.log_file.parent}",
            *(f"-D{k}={v}" for k, v in self.jvm_properties.items()),
            "-cp",
            os.pathsep.join((f"{self._libs}/*", *self.extra_classpath)),
            main,
            *args,
        ]

    def _format_all(self) -> None:
        """Format every node's KRaft storage, in parallel (each format is a JVM start)."""
        procs = []
        for broker in self.brokers:
            args = ["format", "-t", self.cluster_id, "-c", str(broker.config_file)]
            for name, level in self.features.items():
                args += ["--feature", f"{name}={level}"]
            if any(name.startswith("SASL_") for name in self.listeners):
                for user, password in self.users.items():
                    for mech in ("SCRAM-SHA-256", "SCRAM-SHA-512"):
                        args += ["--add-scram", f"{mech}=[name={user},password={password}]"]
            cmd = self._java_cmd(broker, "kafka.tools.StorageTool", *args, heap="256m")
            procs.append((broker, _SPAWNER.popen(
                cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
            )))
        failures = []
        for broker, proc in procs:
            try:
                out, _ = proc.communicate(timeout=180)
            except subprocess.TimeoutExpired:
                proc.kill()
                out, _ = proc.communicate()
            if proc.returncode != 0:
                failures.append(f"node {broker.node_id} (exit {proc.returncode}):\n{_scrub(out, self.users)[-3000:]}")
        if failures:
            raise BrokerLauncherError("formatting KRaft storage failed for " + "\n".join(failures))

    def _spawn(self, broker: BrokerInfo) -> None:
        cmd = self._java_cmd(broker, "kafka.Kafka", str(broker.config_file))
        out = open(broker.stdout_file, "ab")
        try:
            broker.process = _SPAWNER.popen(
                cmd,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                cwd=str(broker.directory),
                start_new_session=True,  # own process group: killpg reaches the JVM and any child
            )
        finally:
            out.close()

    def _wait_ready(self, brokers: Iterable[BrokerInfo]) -> None:
        """Wait until each node answers Metadata on its internal listener naming every node."""
        deadline = time.monotonic() + self.start_timeout
        want = {b.node_id for b in self.brokers if b.running}
        for broker in brokers:
            port = broker.ports[INTERNAL_LISTENER]
            while True:
                if not broker.running:
                    raise BrokerLauncherError(
                        f"Kafka node {broker.node_id} exited with code {broker.process.returncode if broker.process else '?'} "
                        f"during start-up; see {broker.log_file} and {broker.stdout_file}:\n"
                        + _tail(broker.stdout_file) + _tail(broker.log_file, 15)
                    )
                try:
                    seen = {node for node, _, _ in probe_metadata("127.0.0.1", port)}
                    if want <= seen:
                        break
                except (OSError, struct.error, UnicodeDecodeError):
                    pass
                if time.monotonic() > deadline:
                    raise BrokerLauncherError(
                        f"Kafka node {broker.node_id} did not answer within {self.start_timeout:.0f}s; "
                        f"see {broker.log_file}:\n" + _tail(broker.log_file, 15)
                    )
                time.sleep(0.2)

    @staticmethod
    def _signal(broker: BrokerInfo, sig: int) -> None:
        if broker.running and broker.process is not None:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(broker.process.pid, sig)

    @staticmethod
    def _reap(broker: BrokerInfo, grace: float) -> None:
        proc = broker.process
        if proc is None:
            return
        try:
            proc.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=30)
        # the group may hold stragglers (none expected: the JVM forks nothing)
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, signal.SIGKILL)


def _log4j2_config(log_file: Path, levels: Mapping[str, str] | None = None) -> str:
    """A log4j2 configuration sending everything to ``log_file`` and nothing to the console, at
    INFO but for the loggers in ``levels``."""
    extra = "".join(f"logger.custom{i}.name = {name}\nlogger.custom{i}.level = {level}\n"
                    for i, (name, level) in enumerate(sorted((levels or {}).items())))
    return f"""\
status = error
name = kafkaio-test-broker
appender.file.type = File
appender.file.name = FILE
appender.file.fileName = {log_file}
appender.file.append = true
appender.file.layout.type = PatternLayout
appender.file.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = INFO
rootLogger.appenderRef.file.ref = FILE
logger.zk.name = org.apache.zookeeper
logger.zk.level = WARN
logger.request.name = kafka.request.logger
logger.request.level = WARN
{extra}"""


def _tail(path: Path, lines: int = 20) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:]) + "\n"
    except OSError:
        return ""


def _scrub(text: str, users: Mapping[str, str]) -> str:
    for password in users.values():
        if password:
            text = text.replace(password, "******")
    return text


# --------------------------------------------------------------------------- command line


def _cmd_fetch(args: argparse.Namespace) -> int:
    started = time.monotonic()
    libs = fetch_jars(args.version, quiet=not args.verbose)
    print(f"Kafka {kafka_version(args.version)} jars in {libs} ({time.monotonic() - started:.1f}s)")
    return 0


def _cmd_start(args: argparse.Namespace) -> int:
    props = dict(item.split("=", 1) for item in args.property)
    cluster = LocalKafkaCluster(
        brokers=args.brokers,
        version=args.version,
        listeners=args.listeners.split(","),
        broker_properties=props,
        auto_create_topics=not args.no_auto_create_topics,
        heap=args.heap,
        base_dir=args.dir,
        start_timeout=args.start_timeout,
        racks=args.racks.split(",") if args.racks else None,
    )
    stop = threading.Event()
    ready = False

    def on_signal(signum: int, frame: object) -> None:
        stop.set()
        if not ready:  # abort a start in progress; start() stops what it began
            raise SystemExit(128 + signum)

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    if signal.getsignal(signal.SIGHUP) is not signal.SIG_IGN:  # keep nohup's choice
        signal.signal(signal.SIGHUP, on_signal)
    started = time.monotonic()
    cluster.start()
    ready = True
    elapsed = time.monotonic() - started
    bootstrap = cluster.bootstrap_servers
    if args.bootstrap_file:
        tmp = Path(args.bootstrap_file + ".tmp")
        tmp.write_text(bootstrap + "\n")
        tmp.replace(args.bootstrap_file)
    print(f"Kafka {cluster.version}: {cluster.num_brokers} node(s) ready in {elapsed:.1f}s", flush=True)
    for name, addr in cluster.bootstrap_by_listener.items():
        print(f"  {name}: {addr}", flush=True)
    print(f"  pids: {' '.join(map(str, cluster.pids()))}  dir: {cluster.directory}", flush=True)
    try:
        while not stop.wait(1.0):
            dead = [b.node_id for b in cluster.brokers if not b.running]
            if dead:
                print(f"node(s) {dead} exited; stopping the cluster", file=sys.stderr, flush=True)
                return 1
    finally:
        if args.bootstrap_file:
            with contextlib.suppress(OSError):
                if Path(args.bootstrap_file).read_text().strip() == bootstrap:
                    os.unlink(args.bootstrap_file)
        cluster.stop()
    return 0


def _cmd_check(args: argparse.Namespace) -> int:
    print("java:", find_java())
    print("mvn:", find_maven())
    print("kafka version:", kafka_version(args.version))
    print("cache:", cache_dir())
    return 0


@contextlib.contextmanager
def bootstrap_or_local(**cluster_kwargs: Any) -> Iterator[str]:
    """Yield ``$KAFKAIO_BOOTSTRAP`` when it is set, else start a local broker for the block.

    For examples and scripts: ``with bootstrap_or_local() as bootstrap: asyncio.run(main(bootstrap))``.
    ``cluster_kwargs`` go to :class:`LocalKafkaCluster` (e.g. ``broker_properties``).
    """
    existing = os.environ.get("KAFKAIO_BOOTSTRAP")
    if existing:
        yield existing
        return
    print("starting a local Kafka broker (jars cached in ~/.cache/kafkaio)...", file=sys.stderr)
    with LocalKafkaCluster(**cluster_kwargs) as cluster:
        yield cluster.bootstrap_servers


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m kafkaio.testing.broker", description=__doc__.split("\n")[0])
    parser.add_argument("--version", help="Kafka version (default: $KAFKAIO_KAFKA_VERSION or %s)" % DEFAULT_KAFKA_VERSION)
    sub = parser.add_subparsers(dest="command", required=True)
    p_fetch = sub.add_parser("fetch", help="download the broker jars into the cache (once)")
    p_fetch.add_argument("-v", "--verbose", action="store_true")
    p_fetch.set_defaults(func=_cmd_fetch)
    p_start = sub.add_parser("start", help="run a local cluster until interrupted")
    p_start.add_argument("--brokers", type=int, default=1)
    p_start.add_argument("--listeners", default="PLAINTEXT", help="comma-separated, e.g. PLAINTEXT,SASL_SSL")
    p_start.add_argument("--heap", default=None, help="JVM heap per node (default 512m)")
    p_start.add_argument("--no-auto-create-topics", action="store_true")
    p_start.add_argument("--racks", help="comma-separated broker.rack of each node, e.g. a,b,c")
    p_start.add_argument("--property", "-p", action="append", default=[], help="broker property key=value")
    p_start.add_argument("--bootstrap-file", help="write the bootstrap address here once the cluster answers")
    p_start.add_argument("--dir", help="keep the nodes' files here instead of a fresh temporary directory")
    p_start.add_argument("--start-timeout", type=float, default=600.0, help="seconds to wait for the nodes")
    p_start.set_defaults(func=_cmd_start)
    p_check = sub.add_parser("check", help="show java, mvn, version and cache")
    p_check.set_defaults(func=_cmd_check)
    args = parser.parse_args(argv)
    try:
        rc: int = args.func(args)  # the subcommand's function, set by set_defaults
        return rc
    except BrokerLauncherError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())

