"""A throwaway MIT Kerberos realm on loopback for tests: Debian's ``krb5-kdc`` run as a child
process in a temporary directory, its database, principals and keytabs made with ``kdb5_util`` and
``kadmin.local``.

    with LocalKdc() as kdc:
        broker_keytab = kdc.add_principal("kafka/localhost")
        client_keytab = kdc.add_principal("alice")
        kdc.env  # KRB5_CONFIG for clients in this process (kinit, libgssapi_krb5)
        kdc.krb5_conf  # for the broker: -Djava.security.krb5.conf=...

Nothing here touches the machine's own Kerberos configuration. :func:`kdc_available` says whether
the tools are installed (``apt-get install krb5-kdc krb5-admin-server krb5-user``).
"""
from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path
from types import TracebackType

__all__ = ["KDC_TOOLS", "LocalKdc", "KdcError", "kdc_available"]

#: the programs a LocalKdc runs
KDC_TOOLS = ("krb5kdc", "kdb5_util", "kadmin.local", "kinit")
_SBIN = ("/usr/sbin", "/usr/local/sbin", "/sbin")


class KdcError(RuntimeError):
    """The KDC could not be set up or started."""


def _which(tool: str) -> str | None:
    return shutil.which(tool) or shutil.which(tool, path=os.pathsep.join(_SBIN))


def kdc_available() -> bool:
    """True when every tool a :class:`LocalKdc` needs is installed."""
    return all(_which(tool) for tool in KDC_TOOLS)


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class LocalKdc:
    """A KDC for realm ``realm`` on 127.0.0.1 (see module docstring)."""

    def __init__(self, realm: str = "KAFKAIO.TEST", ticket_lifetime: str = "1h") -> None:
        self.realm = realm
        self.ticket_lifetime = ticket_lifetime
        self.port = 0
        self.directory: Path | None = None
        self._proc: subprocess.Popen[bytes] | None = None

    # ------------------------------------------------------------------------------ paths

    def _path(self, name: str) -> Path:
        if self.directory is None:
            raise KdcError("the KDC is not started")
        return self.directory / name

    @property
    def krb5_conf(self) -> Path:
        """The client configuration: this realm, its KDC, no DNS look-ups."""
        return self._path("krb5.conf")

    @property
    def env(self) -> dict[str, str]:
        """Environment variables pointing Kerberos clients of this process at the realm."""
        return {"KRB5_CONFIG": str(self.krb5_conf), "KRB5CCNAME": f"FILE:{self._path('ccache')}",
                "KRB5_KDC_PROFILE": str(self._path("kdc.conf"))}

    def keytab(self, principal: str) -> Path:
        """Where :meth:`add_principal` wrote ``principal``'s keytab."""
        return self._path(principal.replace("/", "_") + ".keytab")

    def full_name(self, principal: str) -> str:
        return f"{principal}@{self.realm}"

    # ------------------------------------------------------------------------- lifecycle

    def start(self) -> LocalKdc:
        """Create the realm's database and run the KDC until :meth:`stop`."""
        missing = [tool for tool in KDC_TOOLS if not _which(tool)]
        if missing:
            raise KdcError(f"missing {', '.join(missing)}: apt-get install krb5-kdc krb5-admin-server krb5-user")
        self.directory = Path(tempfile.mkdtemp(prefix="kafkaio-kdc-"))
        self.port = _free_port()
        self._write_config()
        self._run("kdb5_util", "create", "-s", "-r", self.realm, "-P", "kafkaio-kdc-master")
        self._proc = subprocess.Popen(  # -n: stay in the foreground, as our child
            [_which("krb5kdc") or "krb5kdc", "-n", "-P", str(self._path("kdc.pid"))],
            env={**os.environ, **self.env}, stdout=subprocess.DEVNULL,
            stderr=open(self._path("kdc.stderr"), "wb"))  # noqa: SIM115 - the child owns it
        deadline = time.monotonic() + 30
        while not self._listening():
            if self._proc.poll() is not None or time.monotonic() > deadline:
                log = (self._path("kdc.log").read_text(errors="replace")
                       if self._path("kdc.log").exists() else "")
                self.stop()
                raise KdcError(f"krb5kdc did not start: {log[-2000:]}")
            time.sleep(0.05)
        return self

    def stop(self) -> None:
        """Stop the KDC and delete the realm."""
        proc, self._proc = self._proc, None
        if proc is not None and proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        if self.directory is not None:
            shutil.rmtree(self.directory, ignore_errors=True)
            self.directory = None

    def __enter__(self) -> LocalKdc:
        return self.start()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()

    # ------------------------------------------------------------------------ principals

    def add_principal(self, principal: str, password: str | None = None) -> Path:
        """Create ``principal`` (a random key, or ``password``'s) and write its keytab; its path."""
        key = ["-pw", password] if password is not None else ["-randkey"]
        self._kadmin("addprinc", *key, self.full_name(principal))
        keytab = self.keytab(principal)
        if password is None:
            self._kadmin("ktadd", "-k", str(keytab), self.full_name(principal))
        return keytab

    def add_principal_key(self, principal: str) -> None:
        """Give ``principal`` a new random key, added to its keytab (older copies no longer work)."""
        self._kadmin("ktadd", "-k", str(self.keytab(principal)), self.full_name(principal))

    def kinit(self, principal: str, ccache: Path, keytab: Path | None = None, lifetime: str | None = None) -> None:
        """Get ``principal`` a ticket into ``ccache`` with its keytab."""
        args = ["-k", "-t", str(keytab or self.keytab(principal)), "-c", f"FILE:{ccache}"]
        if lifetime is not None:
            args += ["-l", lifetime]
        self._run("kinit", *args, self.full_name(principal))

    # ---------------------------------------------------------------------------- helpers

    def _kadmin(self, *query: str) -> None:
        self._run("kadmin.local", "-r", self.realm, "-q", " ".join(query))

    def _run(self, tool: str, *args: str) -> None:
        proc = subprocess.run([_which(tool) or tool, *args], env={**os.environ, **self.env},
                              capture_output=True, text=True, timeout=60)
        if proc.returncode != 0:
            raise KdcError(f"{tool} {args[0] if args else ''} failed: {proc.stderr.strip() or proc.stdout.strip()}")

    def _listening(self) -> bool:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            sock.settimeout(0.2)
            return sock.connect_ex(("127.0.0.1", self.port)) == 0

    def _write_config(self) -> None:
        realm, port = self.realm, self.port
        self.krb5_conf.write_text(f"""[libdefaults]
    default_realm = {realm}
    dns_lookup_realm = false
    dns_lookup_kdc = false
    dns_canonicalize_hostname = false
    rdns = false
    udp_preference_limit = 1
    ticket_lifetime = {self.ticket_lifetime}
    forwardable = true

[realms]
    {realm} = {{
        kdc = 127.0.0.1:{port}
    }}

[domain_realm]
    localhost = {realm}
""")
        self._path("kdc.conf").write_text(f"""[kdcdefaults]
    kdc_ports = {port}
    kdc_tcp_ports = {port}

[realms]
    {realm} = {{
        database_name = {self._path('principal')}
        key_stash_file = {self._path('stash')}
        acl_file = {self._path('kadm5.acl')}
        max_life = 24h
        supported_enctypes = aes256-cts-hmac-sha1-96:normal aes128-cts-hmac-sha1-96:normal
    }}

[logging]
    kdc = FILE:{self._path('kdc.log')}
""")
        self._path("kadm5.acl").write_text("")
