"""Typed client configuration: defaults of the Java client (Kafka 4.1), validation, dotted keys.

Each client has a frozen dataclass (`ProducerConfig`, `ConsumerConfig`, `AdminConfig`) deriving from
`CommonConfig`. Field names are the Java names with ``.`` -> ``_``. Build one with
``XConfig.from_kwargs(**kw)`` (Python names) or ``XConfig.from_dotted({"linger.ms": "5"})`` (Java
names, string values allowed); both raise `ConfigError` naming the offending setting. Constructing
the dataclass directly validates too; then a setting counts as "set by the user" when it differs from
its default (the Java client asks "was it in the properties?", which only the two factories know).

Combination rules follow the Java client, in particular:

- idempotence: explicitly enabled together with ``acks`` other than all, ``retries=0`` or more than 5
  requests in flight raises; left at its default, an incompatible value silently turns it off
  (``idempotence_enabled`` records the outcome); ``transactional_id`` needs idempotence.
- ``delivery_timeout_ms`` must be at least ``linger_ms + request_timeout_ms`` when set explicitly;
  when left at its default it is raised to that sum, as the Java producer does.
- a consumer without ``group_id`` does not auto-commit (explicitly enabling it raises).
"""
from __future__ import annotations

import dataclasses
import difflib
import logging
import os
import re
import ssl
from dataclasses import InitVar, dataclass, field
from typing import Any, Callable, ClassVar, Mapping, Self

from kafkaio.errors import ConfigError

log = logging.getLogger(__name__)

INT32_MAX = 2**31 - 1
MAX_IN_FLIGHT_FOR_IDEMPOTENCE = 5

# The Java default for sasl.mechanism is GSSAPI (Kerberos), which kafkaio does not implement; the
# default is kept so that behaviour matches, and choosing SASL without a mechanism fails clearly.
SUPPORTED_SASL_MECHANISMS = ("PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512", "OAUTHBEARER")
COMPRESSION_LEVELS: dict[str, tuple[int, int] | None] = {
    # (min, max) accepted for compression.<type>.level; gzip also accepts -1 (zlib's default).
    "none": None,
    "snappy": None,
    "gzip": (1, 9),
    "lz4": (1, 17),
    "zstd": (-131072, 22),
}
ASSIGNOR_NAMES = {
    "range": "range",
    "roundrobin": "roundrobin",
    "sticky": "sticky",
    "cooperative-sticky": "cooperative-sticky",
    "org.apache.kafka.clients.consumer.RangeAssignor": "range",
    "org.apache.kafka.clients.consumer.RoundRobinAssignor": "roundrobin",
    "org.apache.kafka.clients.consumer.StickyAssignor": "sticky",
    "org.apache.kafka.clients.consumer.CooperativeStickyAssignor": "cooperative-sticky",
}

# Java settings that have no meaning here (JMX metrics, Java class loading, ...). `from_dotted`
# accepts and ignores them, with a log line, so that existing properties files can be reused.
IGNORED_JAVA_SETTINGS = frozenset({
    "metric.reporters", "metrics.num.samples", "metrics.recording.level", "metrics.sample.window.ms",
    "auto.include.jmx.reporter", "enable.metrics.push", "interceptor.classes", "security.providers",
    "client.dns.lookup", "sasl.login.class", "sasl.login.callback.handler.class",
    "sasl.client.callback.handler.class", "ssl.engine.factory.class", "ssl.keystore.type",
    "ssl.truststore.type", "ssl.protocol", "ssl.enabled.protocols", "ssl.provider",
    "ssl.keymanager.algorithm", "ssl.trustmanager.algorithm", "ssl.secure.random.implementation",
})

# Names used by aiokafka / kafka-python that differ from ours: pointed out by the error message.
FOREIGN_NAMES = {
    "max_batch_size": "batch_size",
    "api_version": "nothing (kafkaio negotiates API versions with each broker)",
    "loop": "nothing (kafkaio uses the running event loop)",
    "sasl_mechanisms": "sasl_mechanism",
    "security_protocols": "security_protocol",
}

_JAVA_SERIALIZERS: dict[str, Callable[[Any], Any] | None] = {
    "org.apache.kafka.common.serialization.ByteArraySerializer": None,
    "org.apache.kafka.common.serialization.BytesSerializer": None,
    "org.apache.kafka.common.serialization.StringSerializer": lambda v: None if v is None else str(v).encode("utf-8"),
}
_JAVA_DESERIALIZERS: dict[str, Callable[[Any], Any] | None] = {
    "org.apache.kafka.common.serialization.ByteArrayDeserializer": None,
    "org.apache.kafka.common.serialization.BytesDeserializer": None,
    "org.apache.kafka.common.serialization.StringDeserializer": lambda v: None if v is None else bytes(v).decode("utf-8"),
}

_DURATION_RE = re.compile(
    r"^P(?:(?P<d>\d+)D)?(?:T(?:(?P<h>\d+)H)?(?:(?P<m>\d+)M)?(?:(?P<s>\d+(?:\.\d+)?)S)?)?$", re.IGNORECASE
)


# ----------------------------------------------------------------------------------------------
# Field declaration


def setting(
    default: Any,
    kind: str,
    doc: str,
    *,
    minimum: int | None = None,
    maximum: int | None = None,
    choices: tuple[str, ...] | None = None,
    secret: bool = False,
    java: str | None = "",
) -> Any:
    """Declare one setting: a dataclass field whose metadata drives validation and the docs.

    ``kind`` is one of int, bool, str, opt_str, opt_int, callable, servers, acks, assignors,
    ssl_context, token_provider, path. ``java`` is the Java name ('' derives it from the field
    name; None marks a kafkaio-only setting).
    """
    meta = {"kind": kind, "doc": doc, "minimum": minimum, "maximum": maximum, "choices": choices,
            "secret": secret, "java": java}
    if isinstance(default, (list, dict, set)):
        return field(default_factory=lambda: type(default)(default), metadata=meta)
    return field(default=default, metadata=meta)


def _fail(name: str, problem: str) -> ConfigError:
    return ConfigError(f"{name}: {problem}")


def _describe(value: Any) -> str:
    return f"{type(value).__name__} {value!r}" if not callable(value) else type(value).__name__


def _coerce(name: str, meta: Mapping[str, Any], value: Any, from_text: bool) -> Any:
    """Check ``value`` against the setting's kind, range and choices; return the normal form."""
    kind = meta["kind"]
    if kind in ("int", "opt_int"):
        if value is None and kind == "opt_int":
            return None
        if from_text and isinstance(value, str):
            try:
                value = int(value.strip())
            except ValueError:
                raise _fail(name, f"expected an integer, got {value!r}") from None
        if isinstance(value, bool) or not isinstance(value, int):
            raise _fail(name, f"expected an integer, got {_describe(value)}")
        lo, hi = meta["minimum"], meta["maximum"]
        if lo is not None and value < lo:
            raise _fail(name, f"must be at least {lo}, got {value}")
        if hi is not None and value > hi:
            raise _fail(name, f"must be at most {hi}, got {value}")
        return value
    if kind == "bool":
        if from_text and isinstance(value, str) and value.strip().lower() in ("true", "false"):
            return value.strip().lower() == "true"
        if not isinstance(value, bool):
            raise _fail(name, f"expected True or False, got {_describe(value)}")
        return value
    if kind in ("str", "opt_str", "path"):
        if value is None and kind != "str":
            return None
        if not isinstance(value, str):
            raise _fail(name, f"expected a string, got {type(value).__name__ if meta['secret'] else _describe(value)}")
        if meta["choices"] is not None:
            normal = value.strip().lower() if meta["choices"][0].islower() else value.strip().upper()
            if normal not in meta["choices"]:
                raise _fail(name, f"must be one of {', '.join(meta['choices'])}; got {value!r}")
            return normal
        if kind == "path" and not os.path.exists(value):
            raise _fail(name, f"file {value!r} does not exist")
        return value
    if kind == "callable":
        if value is not None and not callable(value):
            raise _fail(name, f"expected a callable or None, got {_describe(value)}")
        return value
    if kind == "ssl_context":
        if value is not None and not isinstance(value, ssl.SSLContext):
            raise _fail(name, f"expected an ssl.SSLContext or None, got {_describe(value)}")
        return value
    if kind == "token_provider":
        if value is not None and not (callable(value) or callable(getattr(value, "token", None))):
            raise _fail(name, "expected a callable or an object with a token() method")
        return value
    if kind == "servers":
        return _parse_servers(name, value)
    if kind == "acks":
        return _parse_acks(name, value)
    if kind == "assignors":
        return _parse_assignors(name, value)
    raise AssertionError(f"unknown setting kind {kind!r}")  # a declaration bug, not user input


def _parse_servers(name: str, value: Any) -> tuple[str, ...]:
    if isinstance(value, str):
        items = [s.strip() for s in value.split(",")]
    elif isinstance(value, (list, tuple)) and all(isinstance(s, str) for s in value):
        items = [s.strip() for s in value]
    else:
        raise _fail(name, f"expected 'host:port,...' or a list of 'host:port', got {_describe(value)}")
    items = [s for s in items if s]
    if not items:
        raise _fail(name, "at least one host:port is required")
    for item in items:
        split_host_port(item, name)
    return tuple(items)


def split_host_port(address: str, setting_name: str = "bootstrap_servers") -> tuple[str, int]:
    """``"host:port"`` or ``"[v6]:port"`` -> (host, port); ConfigError naming the setting if malformed."""
    host, sep, port = address.rpartition(":")
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise _fail(setting_name, f"{address!r} is not host:port")
    return host, int(port)


def _parse_acks(name: str, value: Any) -> int:
    text = str(value).strip().lower() if not isinstance(value, bool) else ""
    table = {"all": -1, "-1": -1, "0": 0, "1": 1}
    if text not in table:
        raise _fail(name, f'must be "all", -1, 0 or 1; got {value!r}')
    return table[text]


def _parse_assignors(name: str, value: Any) -> tuple[Any, ...]:
    items = [s.strip() for s in value.split(",") if s.strip()] if isinstance(value, str) else value
    if not isinstance(items, (list, tuple)) or not items:
        raise _fail(name, "expected a non-empty list of assignor names or assignor objects")
    out: list[Any] = []
    for item in items:
        if isinstance(item, str):
            key = item.strip() if "." in item else item.strip().lower()
            if key not in ASSIGNOR_NAMES:
                raise _fail(name, f"unknown assignor {item!r}; known: range, roundrobin, sticky, cooperative-sticky")
            out.append(ASSIGNOR_NAMES[key])
        elif callable(getattr(item, "assign", None)) or callable(getattr(item, "name", None)) or hasattr(item, "name"):
            out.append(item)
        else:
            raise _fail(name, f"{item!r} is neither an assignor name nor an assignor object")
    return tuple(out)


def _parse_duration_ms(text: str) -> int | None:
    match = _DURATION_RE.match(text)
    if match is None or not any(match.groupdict().values()):
        return None
    d, h, m, s = (match.group(g) for g in "dhms")
    seconds = int(d or 0) * 86400 + int(h or 0) * 3600 + int(m or 0) * 60 + float(s or 0)
    return int(seconds * 1000)


def _mask(value: Any) -> str:
    return "None" if value is None else "'***'"


# ----------------------------------------------------------------------------------------------
# The dataclasses


@dataclass(frozen=True, kw_only=True, repr=False)
class CommonConfig:
    """Settings shared by every client (Java: CommonClientConfigs)."""

    bootstrap_servers: tuple[str, ...] = setting(
        "localhost:9092", "servers",
        "Brokers to contact first, 'host:port,host:port' or a list. The Java client has no default; "
        "kafkaio defaults to localhost:9092 as aiokafka does.")
    client_id: str = setting("", "str", "Name sent with every request, for the broker's logs and quotas.")
    request_timeout_ms: int = setting(30000, "int", "How long to wait for a response before failing "
                                      "or retrying the request.", minimum=0)
    connections_max_idle_ms: int = setting(540000, "int", "Close connections idle this long.")
    socket_connection_setup_timeout_ms: int = setting(10000, "int", "Time allowed to establish one "
                                                      "connection before it is abandoned.", minimum=0)
    socket_connection_setup_timeout_max_ms: int = setting(30000, "int", "Upper bound of the setup "
                                                          "timeout as it grows after consecutive failures.", minimum=0)
    reconnect_backoff_ms: int = setting(50, "int", "Initial wait before reconnecting to a broker.", minimum=0)
    reconnect_backoff_max_ms: int = setting(1000, "int", "Maximum wait before reconnecting (exponential, "
                                            "jittered).", minimum=0)
    retry_backoff_ms: int = setting(100, "int", "Initial wait before retrying a failed request.", minimum=0)
    retry_backoff_max_ms: int = setting(1000, "int", "Maximum wait between retries (exponential, "
                                        "jittered).", minimum=0)
    metadata_max_age_ms: int = setting(300000, "int", "Refresh metadata at least this often.", minimum=0)
    metadata_recovery_strategy: str = setting("rebootstrap", "str", "What to do when no known broker is "
                                              "reachable: go back to bootstrap_servers, or not.",
                                              choices=("rebootstrap", "none"))
    metadata_recovery_rebootstrap_trigger_ms: int = setting(300000, "int", "Accepted for Java configs; "
                                                            "kafkaio rebootstraps sooner, as soon as one "
                                                            "refresh finds no known broker answering.",
                                                            minimum=0)
    send_buffer_bytes: int = setting(131072, "int", "SO_SNDBUF; -1 keeps the OS default.", minimum=-1)
    receive_buffer_bytes: int = setting(32768, "int", "SO_RCVBUF; -1 keeps the OS default.", minimum=-1)
    api_version_request_timeout_ms: int | None = setting(
        None, "opt_int", "Timeout of the ApiVersions exchange when a connection opens; None uses "
        "request_timeout_ms.", minimum=0, java=None)
    security_protocol: str = setting("PLAINTEXT", "str", "PLAINTEXT, SSL, SASL_PLAINTEXT or SASL_SSL.",
                                     choices=("PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"))
    ssl_context: ssl.SSLContext | None = setting(None, "ssl_context", "A ready ssl.SSLContext; when "
                                                 "given, the ssl_*file settings are ignored.", java=None)
    ssl_cafile: str | None = setting(None, "path", "PEM file of CA certificates to trust (Java: "
                                     "ssl.truststore.location with a PEM truststore).", java=None)
    ssl_certfile: str | None = setting(None, "path", "PEM file with the client certificate chain.", java=None)
    ssl_keyfile: str | None = setting(None, "path", "PEM file with the client private key.", java=None)
    ssl_password: str | None = setting(None, "opt_str", "Password of the private key.", secret=True,
                                       java="ssl.key.password")
    ssl_check_hostname: bool = setting(True, "bool", "Check that the broker certificate matches its host "
                                       "name (Java: ssl.endpoint.identification.algorithm=https).", java=None)
    sasl_mechanism: str = setting("GSSAPI", "str", "PLAIN, SCRAM-SHA-256, SCRAM-SHA-512 or OAUTHBEARER. "
                                  "The Java default GSSAPI (Kerberos) is not implemented.",
                                  choices=("GSSAPI", *SUPPORTED_SASL_MECHANISMS))
    sasl_plain_username: str | None = setting(None, "opt_str", "User name for PLAIN and SCRAM (Java: "
                                              "username in sasl.jaas.config).", java=None)
    sasl_plain_password: str | None = setting(None, "opt_str", "Password for PLAIN and SCRAM (Java: "
                                              "password in sasl.jaas.config).", secret=True, java=None)
    sasl_oauth_token_provider: Any = setting(None, "token_provider", "For OAUTHBEARER: a callable (sync or "
                                             "async) returning a token, or an object with token().",
                                             secret=True, java=None)

    _explicit: InitVar[frozenset[str] | None] = None
    explicit_settings: frozenset[str] = field(default=frozenset(), init=False, repr=False, compare=False)

    SECRET_FIELDS: ClassVar[frozenset[str]] = frozenset({"sasl_plain_password", "ssl_password",
                                                          "sasl_oauth_token_provider"})

    # -- construction ---------------------------------------------------------------------

    def __post_init__(self, _explicit: frozenset[str] | None) -> None:
        for f in dataclasses.fields(self):
            if f.init and "kind" in f.metadata:
                value = _coerce(f.name, f.metadata, getattr(self, f.name), from_text=False)
                object.__setattr__(self, f.name, value)
        if _explicit is None:
            defaults = self._normal_defaults()
            _explicit = frozenset(n for n, d in defaults.items() if getattr(self, n) != d)
        object.__setattr__(self, "explicit_settings", frozenset(_explicit))
        self._validate()

    @classmethod
    def _normal_defaults(cls) -> dict[str, Any]:
        cached = cls.__dict__.get("_defaults_cache")
        if cached is None:
            cached = {}
            for f in dataclasses.fields(cls):
                if f.init and "kind" in f.metadata:
                    raw = f.default if f.default is not dataclasses.MISSING else f.default_factory()  # type: ignore[misc]
                    cached[f.name] = _coerce(f.name, f.metadata, raw, from_text=False)
            cls._defaults_cache = cached  # type: ignore[attr-defined]
        return cached

    @classmethod
    def setting_fields(cls) -> dict[str, dataclasses.Field]:
        """Every user-facing setting of this class, by Python name."""
        return {f.name: f for f in dataclasses.fields(cls) if f.init and "kind" in f.metadata}

    @classmethod
    def from_kwargs(cls, **kwargs: Any) -> Self:
        """Build from Python-named settings; ConfigError names any unknown or invalid one."""
        known = cls.setting_fields()
        for name in kwargs:
            if name not in known:
                raise ConfigError(cls._unknown_message(name, known))
        return cls(**kwargs, _explicit=frozenset(kwargs))

    @classmethod
    def from_dotted(cls, mapping: Mapping[str, Any], **overrides: Any) -> Self:
        """Build from Java-style keys (``"linger.ms": "5"``); string values are converted.

        ``overrides`` are Python-named settings applied on top (``from_dotted(props, key_serializer=f)``).
        """
        known = cls.setting_fields()
        kwargs: dict[str, Any] = {}
        for key, value in mapping.items():
            if not isinstance(key, str):
                raise ConfigError(f"{key!r}: setting names must be strings")
            for name, converted in cls._map_dotted(key.strip(), value, known):
                meta = known[name].metadata
                kwargs[name] = _coerce(key, meta, converted, from_text=True) if isinstance(converted, str) \
                    else converted
        kwargs.update(overrides)
        return cls.from_kwargs(**kwargs)

    @classmethod
    def _map_dotted(cls, key: str, value: Any, known: Mapping[str, Any]) -> list[tuple[str, Any]]:
        """One Java key -> the (field, value) pairs it sets."""
        if key in IGNORED_JAVA_SETTINGS:
            log.info("ignoring Java setting %s: it has no meaning in kafkaio", key)
            return []
        if key == "sasl.jaas.config":
            return _parse_jaas(str(value))
        if key == "ssl.endpoint.identification.algorithm":
            return [("ssl_check_hostname", str(value).strip().lower() == "https")]
        if key == "ssl.truststore.location":
            return [("ssl_cafile", value)]
        if key in ("key.serializer", "value.serializer", "key.deserializer", "value.deserializer"):
            return [(key.replace(".", "_"), _java_serde(key, value))]
        for name, f in known.items():
            if f.metadata["java"] and f.metadata["java"] == key:
                return [(name, value)]
        name = key.replace(".", "_").replace("-", "_")
        if name not in known or known[name].metadata["java"] is None:
            dotted = [f.metadata["java"] or n.replace("_", ".") for n, f in known.items()
                      if f.metadata["java"] is not None]
            hint = difflib.get_close_matches(key, dotted, n=1, cutoff=0.6)
            raise ConfigError(f"{key}: unknown setting for {cls.__name__}"
                              + (f"; did you mean {hint[0]!r}?" if hint else ""))
        return [(name, value)]

    @classmethod
    def _unknown_message(cls, name: str, known: Mapping[str, Any]) -> str:
        if name in FOREIGN_NAMES and FOREIGN_NAMES[name] != name:
            return f"{name}: unknown setting for {cls.__name__}; use {FOREIGN_NAMES[name]}"
        candidates = list(known)
        hint = difflib.get_close_matches(name.replace(".", "_"), candidates, n=1, cutoff=0.6)
        return f"{name}: unknown setting for {cls.__name__}" + (f"; did you mean {hint[0]!r}?" if hint else "")

    # -- validation of combinations -------------------------------------------------------

    def _validate(self) -> None:
        if self.reconnect_backoff_max_ms < self.reconnect_backoff_ms and "reconnect_backoff_max_ms" in self.explicit_settings:
            raise _fail("reconnect_backoff_max_ms", f"must be at least reconnect_backoff_ms ({self.reconnect_backoff_ms})")
        if self.security_protocol.startswith("SASL_"):
            self._validate_sasl()

    def _validate_sasl(self) -> None:
        mech = self.sasl_mechanism
        if mech == "GSSAPI":
            raise _fail("sasl_mechanism", "GSSAPI (Kerberos, the Java default) is not supported by kafkaio; "
                        f"set it to one of {', '.join(SUPPORTED_SASL_MECHANISMS)}")
        if mech == "OAUTHBEARER":
            if self.sasl_oauth_token_provider is None:
                raise _fail("sasl_oauth_token_provider", "required with sasl_mechanism=OAUTHBEARER")
            return
        if not self.sasl_plain_username:
            raise _fail("sasl_plain_username", f"required with sasl_mechanism={mech}")
        if self.sasl_plain_password is None:
            raise _fail("sasl_plain_password", f"required with sasl_mechanism={mech}")

    # -- helpers for the layers above -----------------------------------------------------

    def bootstrap_addresses(self) -> list[tuple[str, int]]:
        """``bootstrap_servers`` as (host, port) pairs."""
        return [split_host_port(a) for a in self.bootstrap_servers]

    def is_explicit(self, name: str) -> bool:
        """True when the user set ``name`` (as opposed to leaving the default)."""
        return name in self.explicit_settings

    def __repr__(self) -> str:
        # Only what differs from the defaults, so that reprs in logs stay readable; secrets masked.
        defaults = self._normal_defaults()
        parts = []
        for name in self.setting_fields():
            value = getattr(self, name)
            if name in self.SECRET_FIELDS:
                if value is not None:
                    parts.append(f"{name}={_mask(value)}")
            elif value != defaults[name] or name == "bootstrap_servers":
                parts.append(f"{name}={value!r}")
        return f"{type(self).__name__}({', '.join(parts)})"

    __str__ = __repr__


def _parse_jaas(text: str) -> list[tuple[str, Any]]:
    """Pull username/password out of a Java ``sasl.jaas.config`` line (PlainLoginModule, ScramLoginModule)."""
    out: list[tuple[str, Any]] = []
    for key, val in re.findall(r'(\w+)\s*=\s*"((?:[^"\\]|\\.)*)"', text):
        if key == "username":
            out.append(("sasl_plain_username", val))
        elif key == "password":
            out.append(("sasl_plain_password", val))
    if not out:
        raise ConfigError("sasl.jaas.config: only username=\"...\" password=\"...\" login modules are understood")
    return out


def _java_serde(key: str, value: Any) -> Any:
    if not isinstance(value, str):
        return value
    table = _JAVA_SERIALIZERS if key.endswith(".serializer") else _JAVA_DESERIALIZERS
    name = value.strip()
    if name not in table:
        raise ConfigError(f"{key}: Java class {name!r} cannot be used from Python; pass a callable "
                          f"as {key.replace('.', '_')}")
    return table[name]


@dataclass(frozen=True, kw_only=True, repr=False)
class ProducerConfig(CommonConfig):
    """Producer settings (Java: ProducerConfig)."""

    acks: int = setting("all", "acks", 'Acknowledgements to wait for: "all"/-1 (every in-sync replica), '
                        "1 (leader only), 0 (none). Stored as -1, 1 or 0.")
    linger_ms: int = setting(5, "int", "Wait up to this long for more records before sending a batch "
                             "(default 5 since Kafka 4.0, KIP-1030).", minimum=0)
    batch_size: int = setting(16384, "int", "Target size of one partition's batch in bytes.", minimum=0)
    buffer_memory: int = setting(33554432, "int", "Bytes of records the producer may buffer before "
                                 "send() waits for space.", minimum=0)
    max_block_ms: int = setting(60000, "int", "How long send() may wait for buffer space or metadata "
                                "before KafkaTimeoutError.", minimum=0)
    max_request_size: int = setting(1048576, "int", "Largest request (and so largest record) sent.", minimum=0)
    compression_type: str = setting("none", "str", "Batch compression codec.",
                                    choices=("none", "gzip", "snappy", "lz4", "zstd"))
    compression_level: int | None = setting(
        None, "opt_int", "Level for the chosen codec; overrides compression_<codec>_level. After "
        "validation it holds the effective level (None for none and snappy).", java=None)
    compression_gzip_level: int = setting(-1, "int", "gzip level 1-9, or -1 for zlib's default.")
    compression_lz4_level: int = setting(9, "int", "lz4 level 1-17.")
    compression_zstd_level: int = setting(3, "int", "zstd level -131072..22.")
    retries: int = setting(INT32_MAX, "int", "Retries of a failed batch (bounded in time by "
                           "delivery_timeout_ms).", minimum=0, maximum=INT32_MAX)
    delivery_timeout_ms: int = setting(120000, "int", "Upper bound on the time from send() to success "
                                       "or failure, retries included.", minimum=0, maximum=INT32_MAX)
    max_in_flight_requests_per_connection: int = setting(5, "int", "Unacknowledged requests per broker "
                                                         "connection.", minimum=1)
    enable_idempotence: bool = setting(True, "bool", "Broker-side de-duplication with producer id, epoch "
                                       "and sequence numbers.")
    transactional_id: str | None = setting(None, "opt_str", "Enables transactions; stable across restarts "
                                           "of the same logical producer.")
    transaction_timeout_ms: int = setting(60000, "int", "Broker aborts a transaction open longer than this.",
                                          minimum=1)
    partitioner: Callable[..., int] | None = setting(
        None, "callable", "Custom partitioner: (topic, key_bytes, all_partitions, available_partitions) "
        "-> partition. None: murmur2 for keys, uniform sticky (KIP-794) otherwise.", java="partitioner.class")
    partitioner_ignore_keys: bool = setting(False, "bool", "Ignore keys when choosing a partition.")
    partitioner_adaptive_partitioning_enable: bool = setting(True, "bool", "Sticky partitioner favours "
                                                             "brokers that drain faster.")
    partitioner_availability_timeout_ms: int = setting(0, "int", "Avoid a partition whose leader has not "
                                                       "accepted data for this long (0: off).", minimum=0)
    key_serializer: Callable[[Any], bytes | None] | None = setting(None, "callable", "key -> bytes; None "
                                                                   "expects bytes.")
    value_serializer: Callable[[Any], bytes | None] | None = setting(None, "callable", "value -> bytes; "
                                                                     "None expects bytes.")
    metadata_max_idle_ms: int = setting(300000, "int", "Forget a topic's metadata when unused this long.",
                                        minimum=5000)

    idempotence_enabled: bool = field(default=True, init=False, compare=False)

    def _validate(self) -> None:
        super()._validate()
        self._validate_compression()
        self._validate_idempotence()
        if self.transactional_id is not None and not self.idempotence_enabled:
            raise _fail("transactional_id", "requires idempotence (enable_idempotence=True, acks=all, "
                        "retries > 0, max_in_flight_requests_per_connection <= 5)")
        floor = self.linger_ms + self.request_timeout_ms
        if self.delivery_timeout_ms < floor:
            if self.is_explicit("delivery_timeout_ms"):
                raise _fail("delivery_timeout_ms", f"must be at least linger_ms + request_timeout_ms "
                            f"({self.linger_ms} + {self.request_timeout_ms} = {floor}), got {self.delivery_timeout_ms}")
            # Java: left at its default, the delivery timeout silently grows to the minimum.
            object.__setattr__(self, "delivery_timeout_ms", floor)

    def _validate_compression(self) -> None:
        for codec in ("gzip", "lz4", "zstd"):
            name = f"compression_{codec}_level"
            self._check_level(name, codec, getattr(self, name))
        codec = self.compression_type
        if self.compression_level is not None:
            if COMPRESSION_LEVELS[codec] is None:
                raise _fail("compression_level", f"compression_type={codec} has no levels")
            self._check_level("compression_level", codec, self.compression_level)
            object.__setattr__(self, f"compression_{codec}_level", self.compression_level)
        effective = None if COMPRESSION_LEVELS[codec] is None else getattr(self, f"compression_{codec}_level")
        object.__setattr__(self, "compression_level", effective)

    @staticmethod
    def _check_level(name: str, codec: str, level: int) -> None:
        lo, hi = COMPRESSION_LEVELS[codec]  # type: ignore[misc]
        if not (lo <= level <= hi or (codec == "gzip" and level == -1)):
            raise _fail(name, f"{codec} level must be in {lo}..{hi}" + (" or -1" if codec == "gzip" else "")
                        + f", got {level}")

    def _validate_idempotence(self) -> None:
        enabled = self.enable_idempotence
        if enabled:
            explicit = self.is_explicit("enable_idempotence")
            conflicts = []
            if self.retries == 0:
                conflicts.append(("retries", "must be non-zero when using the idempotent producer"))
            if self.acks != -1:
                conflicts.append(("acks", "must be all (-1) to use the idempotent producer; otherwise "
                                  "idempotence cannot be guaranteed"))
            if self.max_in_flight_requests_per_connection > MAX_IN_FLIGHT_FOR_IDEMPOTENCE:
                conflicts.append(("max_in_flight_requests_per_connection",
                                  f"must be at most {MAX_IN_FLIGHT_FOR_IDEMPOTENCE} to use the idempotent producer"))
            if conflicts and explicit:
                name, problem = conflicts[0]
                raise _fail(name, problem + " (enable_idempotence=True was set explicitly)")
            if conflicts:
                log.info("idempotence disabled because %s is incompatible with it",
                         ", ".join(n for n, _ in conflicts))
                enabled = False
        object.__setattr__(self, "idempotence_enabled", enabled)


@dataclass(frozen=True, kw_only=True, repr=False)
class ConsumerConfig(CommonConfig):
    """Consumer settings (Java: ConsumerConfig)."""

    receive_buffer_bytes: int = setting(65536, "int", "SO_RCVBUF; -1 keeps the OS default.", minimum=-1)
    group_id: str | None = setting(None, "opt_str", "Consumer group; None for a consumer without group "
                                   "management or commits.")
    group_instance_id: str | None = setting(None, "opt_str", "Static membership id (KIP-345).")
    group_protocol: str = setting("classic", "str", "Group protocol: classic, or consumer (KIP-848).",
                                  choices=("classic", "consumer"))
    group_remote_assignor: str | None = setting(None, "opt_str", "Server-side assignor for "
                                                "group_protocol=consumer.")
    client_rack: str = setting("", "str", "Rack of this consumer, for fetching from the closest replica.")
    enable_auto_commit: bool = setting(True, "bool", "Commit positions in the background (off when there "
                                       "is no group_id).")
    auto_commit_interval_ms: int = setting(5000, "int", "Interval of background commits.", minimum=0)
    auto_offset_reset: str = setting("latest", "str", "Where to start without a valid committed offset: "
                                     "earliest, latest, none, or by_duration:<ISO-8601 duration>.")
    fetch_min_bytes: int = setting(1, "int", "Broker waits for this much data before answering a fetch.",
                                   minimum=0)
    fetch_max_wait_ms: int = setting(500, "int", "Broker waits at most this long for fetch_min_bytes.",
                                     minimum=0)
    fetch_max_bytes: int = setting(52428800, "int", "Most data returned by one fetch.", minimum=0)
    max_partition_fetch_bytes: int = setting(1048576, "int", "Most data returned per partition per fetch.",
                                             minimum=0)
    max_poll_records: int = setting(500, "int", "Most records returned by one getmany()/poll.", minimum=1)
    max_poll_interval_ms: int = setting(300000, "int", "Longest time between polls before the member "
                                        "leaves the group.", minimum=1)
    session_timeout_ms: int = setting(45000, "int", "Member is removed when no heartbeat arrives for this "
                                      "long (classic protocol).")
    heartbeat_interval_ms: int = setting(3000, "int", "Interval of heartbeats (classic protocol).")
    rebalance_timeout_ms: int | None = setting(None, "opt_int", "Time members get to rejoin during a "
                                               "rebalance; None: max_poll_interval_ms, as in Java.",
                                               minimum=1, java=None)
    partition_assignment_strategy: tuple[Any, ...] = setting(
        "range,cooperative-sticky", "assignors", "Assignors in preference order: names (range, "
        "roundrobin, sticky, cooperative-sticky, or the Java class names) or assignor objects.")
    isolation_level: str = setting("read_uncommitted", "str", "read_committed hides aborted and open "
                                   "transactional records.", choices=("read_uncommitted", "read_committed"))
    check_crcs: bool = setting(True, "bool", "Verify record batch CRCs.")
    exclude_internal_topics: bool = setting(True, "bool", "Pattern subscriptions skip internal topics.")
    allow_auto_create_topics: bool = setting(True, "bool", "Subscribing may auto-create topics (if the "
                                             "broker allows).")
    key_deserializer: Callable[[bytes | None], Any] | None = setting(None, "callable", "bytes -> key; None "
                                                                     "returns bytes.")
    value_deserializer: Callable[[bytes | None], Any] | None = setting(None, "callable", "bytes -> value; "
                                                                       "None returns bytes.")
    default_api_timeout_ms: int = setting(60000, "int", "Timeout of blocking calls without their own "
                                          "timeout (commit, position, offsets lookups).", minimum=0)

    auto_offset_reset_duration_ms: int | None = field(default=None, init=False, compare=False)

    def _validate(self) -> None:
        super()._validate()
        self._validate_offset_reset()
        if self.group_instance_id is not None and self.group_id is None:
            raise _fail("group_instance_id", "requires group_id")
        if self.group_id is None and self.enable_auto_commit:
            if self.is_explicit("enable_auto_commit"):
                raise _fail("enable_auto_commit", "cannot be True without a group_id")
            object.__setattr__(self, "enable_auto_commit", False)
        if self.group_protocol == "consumer":
            for name in ("session_timeout_ms", "heartbeat_interval_ms", "partition_assignment_strategy"):
                if self.is_explicit(name):
                    raise _fail(name, "is decided by the broker with group_protocol=consumer; do not set it")
        else:
            if self.group_remote_assignor is not None:
                raise _fail("group_remote_assignor", "only applies with group_protocol=consumer")
            if self.heartbeat_interval_ms >= self.session_timeout_ms:
                raise _fail("heartbeat_interval_ms", f"must be lower than session_timeout_ms "
                            f"({self.session_timeout_ms}), got {self.heartbeat_interval_ms}")
        if self.rebalance_timeout_ms is None:
            object.__setattr__(self, "rebalance_timeout_ms", self.max_poll_interval_ms)

    def _validate_offset_reset(self) -> None:
        value = self.auto_offset_reset.strip().lower()
        if value.startswith("by_duration:"):
            duration = _parse_duration_ms(value.split(":", 1)[1].strip().upper())
            if duration is None:
                raise _fail("auto_offset_reset", f"{self.auto_offset_reset!r}: by_duration needs an ISO-8601 "
                            "duration such as by_duration:P1DT2H or by_duration:PT30M")
            object.__setattr__(self, "auto_offset_reset_duration_ms", duration)
        elif value not in ("earliest", "latest", "none"):
            raise _fail("auto_offset_reset", f"must be earliest, latest, none or by_duration:<duration>; "
                        f"got {self.auto_offset_reset!r}")
        object.__setattr__(self, "auto_offset_reset", value)


@dataclass(frozen=True, kw_only=True, repr=False)
class AdminConfig(CommonConfig):
    """Admin client settings (Java: AdminClientConfig)."""

    connections_max_idle_ms: int = setting(300000, "int", "Close connections idle this long.")
    receive_buffer_bytes: int = setting(65536, "int", "SO_RCVBUF; -1 keeps the OS default.", minimum=-1)
    retries: int = setting(INT32_MAX, "int", "Retries of a retriable failure (bounded in time by "
                           "default_api_timeout_ms or the call's timeout).", minimum=0, maximum=INT32_MAX)
    default_api_timeout_ms: int = setting(60000, "int", "Timeout of an admin call that does not give "
                                          "its own.", minimum=0)

    def _validate(self) -> None:
        super()._validate()
        if self.default_api_timeout_ms < self.request_timeout_ms:
            if self.is_explicit("default_api_timeout_ms"):
                raise _fail("default_api_timeout_ms", f"must be at least request_timeout_ms "
                            f"({self.request_timeout_ms}), got {self.default_api_timeout_ms}")
            # Java's admin client raises the default to request_timeout_ms in this case.
            object.__setattr__(self, "default_api_timeout_ms", self.request_timeout_ms)


def java_name(cls: type[CommonConfig], name: str) -> str | None:
    """The Java property name of a setting, or None for kafkaio-only settings."""
    meta = cls.setting_fields()[name].metadata
    if meta["java"] is None:
        return None
    return meta["java"] or name.replace("_", ".")


def settings_table(cls: type[CommonConfig]) -> str:
    """A Markdown table of ``cls``'s settings (name, Java name, default, meaning), for the docs."""
    rows = ["| setting | Java name | default | meaning |", "|---|---|---|---|"]
    raw_defaults = {f.name: (f.default if f.default is not dataclasses.MISSING else f.default_factory())  # type: ignore[misc]
                    for f in dataclasses.fields(cls) if f.init and "kind" in f.metadata}
    for name, f in cls.setting_fields().items():
        jn = java_name(cls, name)
        default = raw_defaults[name]
        shown = repr(default)
        rows.append(f"| `{name}` | {f'`{jn}`' if jn else '(kafkaio only)'} | `{shown}` | {f.metadata['doc']} |")
    return "\n".join(rows)


# ----------------------------------------------------------------------------------------------
# Typed keyword arguments for type checkers (kafkaio/settings.py is generated from the declarations)

_KIND_TYPES = {
    "int": "int",
    "opt_int": "int | None",
    "bool": "bool",
    "str": "str",
    "opt_str": "str | None",
    "path": "str | os.PathLike[str] | None",
    "callable": "Callable[..., Any] | None",
    "ssl_context": "ssl.SSLContext | None",
    "token_provider": "Any",
    "servers": "str | Sequence[str]",
    "acks": 'int | Literal["all"]',
    "assignors": "str | Sequence[Any]",
}


def typed_settings_source() -> str:
    """The source of ``kafkaio/settings.py``: one ``TypedDict`` per client, built from the setting
    declarations above, so that ``Producer(linger_ms="abc")`` is a type error and the typed keyword
    arguments cannot drift from what the constructors accept (a unit test compares the file)."""
    out = [
        '"""Typed keyword arguments of the clients: ``Producer(**settings: Unpack[ProducerSettings])``.',
        "",
        "Generated from the declarations in kafkaio/config.py; do not edit. Regenerate with",
        "``python -c 'import kafkaio.config as c; print(c.typed_settings_source(), end=\"\")' > kafkaio/settings.py``.",
        '"""',
        "from __future__ import annotations",
        "",
        "import os",
        "import ssl",
        "from typing import Any, Callable, Literal, Sequence, TypedDict",
        "",
        '__all__ = ["AdminSettings", "ConsumerSettings", "ProducerSettings"]',
    ]
    # the constructors' own named parameters are not repeated in their keyword arguments (PEP 692)
    clients = (("Producer", ProducerConfig, {"bootstrap_servers"}), ("Consumer", ConsumerConfig, set()),
               ("Admin", AdminConfig, {"bootstrap_servers"}))
    for title, cls, named in clients:
        own = f"\n    (besides ``{'``, ``'.join(sorted(named))}``, a parameter of its own)" if named else ""
        out += ["", "", f"class {title}Settings(TypedDict, total=False):",
                f'    """Every setting :class:`kafkaio.{title}` takes as a keyword argument{own}."""', ""]
        for name, f in cls.setting_fields().items():
            if name in named:
                continue
            meta = f.metadata
            if meta["choices"]:
                typ = "Literal[" + ", ".join(repr(c) for c in meta["choices"]) + "]"
                if meta["kind"] == "opt_str":
                    typ += " | None"
            else:
                typ = _KIND_TYPES[meta["kind"]]
            out.append(f"    {name}: {typ}")
    return "\n".join(out) + "\n"
