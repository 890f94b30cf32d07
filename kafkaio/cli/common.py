"""What every command shares: connection and security options, exit codes, the asyncio runner."""
from __future__ import annotations

import argparse
import asyncio
import os
import sys
import time
from typing import TYPE_CHECKING, Any, Awaitable, Callable, TypeAlias, TypeVar
from kafkaio.waiting import within

if TYPE_CHECKING:
    from kafkaio.admin import Admin

# Exit codes a script can test (documented in docs/cli.md).
EXIT_OK = 0
EXIT_ERROR = 1          # a Kafka error not covered below (authorization, invalid config, ...)
EXIT_USAGE = 2          # bad arguments (argparse's own code)
EXIT_NOT_FOUND = 3      # the topic or group named does not exist
EXIT_UNREACHABLE = 4    # no broker answered within --timeout
EXIT_INTERRUPTED = 130  # Ctrl-C / SIGINT (128 + 2, as shells report it)

PASSWORD_ENV = "KAFKAIO_SASL_PASSWORD"


T = TypeVar("T")
# what add_subparsers() returns (a string: the class is not subscriptable at run time)
Subparsers: TypeAlias = "argparse._SubParsersAction[argparse.ArgumentParser]"


class CliError(Exception):
    """An error to report in one line on stderr and exit with ``code``."""

    def __init__(self, message: str, code: int = EXIT_ERROR) -> None:
        super().__init__(message)
        self.code = code


def add_connection_options(parser: argparse.ArgumentParser) -> None:
    g = parser.add_argument_group("connection")
    g.add_argument("-b", "--bootstrap", default=os.environ.get("KAFKAIO_BOOTSTRAP"),
                   help="host:port[,host:port...] (default: $KAFKAIO_BOOTSTRAP)")
    g.add_argument("--timeout", type=float, default=30.0,
                   help="seconds to wait for the cluster before giving up (default: 30)")
    g.add_argument("--security-protocol", choices=["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"],
                   default=os.environ.get("KAFKAIO_SECURITY_PROTOCOL"))
    g.add_argument("--sasl-mechanism", choices=["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"],
                   default=os.environ.get("KAFKAIO_SASL_MECHANISM"))
    g.add_argument("--sasl-username", default=os.environ.get("KAFKAIO_SASL_USERNAME"))
    g.add_argument("--sasl-password-env", metavar="VAR", default=PASSWORD_ENV,
                   help=f"environment variable holding the SASL password (default: {PASSWORD_ENV}); "
                        "there is no password flag, so it never shows in shell history or ps")
    g.add_argument("--ssl-cafile", default=os.environ.get("KAFKAIO_SSL_CAFILE"),
                   help="CA bundle (PEM) to verify the brokers")


def client_settings(args: argparse.Namespace) -> dict[str, Any]:
    """Keyword settings for Producer/Consumer/Admin from the common options."""
    if not args.bootstrap:
        raise CliError("no bootstrap servers: pass --bootstrap or set KAFKAIO_BOOTSTRAP", EXIT_USAGE)
    timeout_ms = int(args.timeout * 1000)
    s: dict[str, Any] = {"bootstrap_servers": args.bootstrap, "client_id": "kafkaio-cli",
                         "request_timeout_ms": max(timeout_ms, 1000)}
    if args.security_protocol:
        s["security_protocol"] = args.security_protocol
    if args.sasl_mechanism:
        s["sasl_mechanism"] = args.sasl_mechanism
    if args.sasl_username:
        s["sasl_plain_username"] = args.sasl_username
        password = os.environ.get(args.sasl_password_env)
        if password is None:
            raise CliError(f"--sasl-username given but ${args.sasl_password_env} is not set", EXIT_USAGE)
        s["sasl_plain_password"] = password
    if args.ssl_cafile:
        s["ssl_cafile"] = args.ssl_cafile
    return s


async def bounded(aw: Awaitable[T], args: argparse.Namespace, what: str) -> T:
    """``aw`` within --timeout; on expiry, exit code EXIT_UNREACHABLE."""
    try:
        return await within(aw, args.timeout)
    except asyncio.TimeoutError:
        raise CliError(f"{what}: no answer from {args.bootstrap} within {args.timeout:g}s",
                       EXIT_UNREACHABLE) from None


async def with_admin(args: argparse.Namespace, body: Callable[[Admin], Awaitable[int]]) -> int:
    from kafkaio import Admin

    admin = Admin(**client_settings(args))
    await bounded(admin.start(), args, "connect")
    try:
        return await bounded(body(admin), args, args.command)
    finally:
        await admin.close()


def parse_kv(items: list[str] | None, what: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for item in items or ():
        k, sep, v = item.partition("=")
        if not sep or not k:
            raise CliError(f"{what}: expected KEY=VALUE, got {item!r}", EXIT_USAGE)
        out[k] = v
    return out


def exit_code_for(exc: BaseException) -> int:
    from kafkaio import errors

    if isinstance(exc, (errors.UnknownTopicOrPartitionError, errors.GroupIdNotFoundError)):
        return EXIT_NOT_FOUND
    if isinstance(exc, (errors.KafkaConnectionError, errors.NoBrokersAvailableError, errors.KafkaTimeoutError)):
        return EXIT_UNREACHABLE
    return EXIT_ERROR


class Progress:
    """Records/s on stderr, at most once a second, when enabled."""

    def __init__(self, enabled: bool, verb: str) -> None:
        self.enabled = enabled
        self.verb = verb
        self.count = 0
        self.start = self.last = time.monotonic()
        self.last_count = 0

    def add(self, n: int = 1) -> None:
        self.count += n
        if not self.enabled:
            return
        now = time.monotonic()
        if now - self.last >= 1.0:
            rate = (self.count - self.last_count) / (now - self.last)
            print(f"{self.count} records {self.verb} ({rate:,.0f} records/s)", file=sys.stderr, flush=True)
            self.last, self.last_count = now, self.count

    def done(self) -> None:
        if self.enabled:
            secs = max(time.monotonic() - self.start, 1e-9)
            print(f"{self.count} records {self.verb} in {secs:.1f}s ({self.count / secs:,.0f} records/s)",
                  file=sys.stderr, flush=True)
