"""The settings every client shares, and the machinery of every config class: building from
Python or Java names, coercing each value, the defaults, validation of combinations, the repr."""
from __future__ import annotations

import dataclasses
import ssl
from dataclasses import InitVar, dataclass, field
from typing import Any, ClassVar, Mapping, Self

from kafkaio.config.java import map_dotted, unknown_message
from kafkaio.config.schema import declared_default, setting
from kafkaio.config.values import coerce, fail, mask, split_host_port
from kafkaio.errors import ConfigError

SUPPORTED_SASL_MECHANISMS = ("PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512", "OAUTHBEARER", "GSSAPI")


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
                                        "jittered); a transactional producer's coordinator requests "
                                        "wait retry_backoff_ms flat, as Java's.", minimum=0)
    metadata_max_age_ms: int = setting(300000, "int", "Refresh metadata at least this often.", minimum=0)
    metadata_recovery_strategy: str = setting("rebootstrap", "str", "What to do when no known broker is "
                                              "reachable: go back to bootstrap_servers, or not.",
                                              choices=("rebootstrap", "none"))
    metadata_cluster_check_enable: bool = setting(True, "bool", "Send the cluster id and node id the "
                                                  "client means to reach when connecting to a broker "
                                                  "(KIP-1242, Kafka 4.4+); a broker that is not that "
                                                  "node answers REBOOTSTRAP_REQUIRED and the client "
                                                  "bootstraps again. Ignored with "
                                                  "metadata_recovery_strategy=none.")
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
    sasl_mechanism: str = setting("GSSAPI", "str", "GSSAPI (Kerberos, the Java default), PLAIN, "
                                  "SCRAM-SHA-256, SCRAM-SHA-512 or OAUTHBEARER.",
                                  choices=SUPPORTED_SASL_MECHANISMS)
    sasl_plain_username: str | None = setting(None, "opt_str", "User name for PLAIN and SCRAM (Java: "
                                              "username in sasl.jaas.config).", java=None)
    sasl_plain_password: str | None = setting(None, "opt_str", "Password for PLAIN and SCRAM (Java: "
                                              "password in sasl.jaas.config).", secret=True, java=None)
    sasl_kerberos_service_name: str = setting("kafka", "str", "For GSSAPI: the primary of the brokers' "
                                              "Kerberos principal (service/host@REALM).")
    sasl_kerberos_domain_name: str | None = setting(None, "opt_str", "For GSSAPI: the host part of the brokers' "
                                                    "principal, for every broker (default: each broker's own "
                                                    "host name, as Java).", java=None)
    sasl_kerberos_principal: str | None = setting(None, "opt_str", "For GSSAPI: the client's principal "
                                                  "(librdkafka: sasl.kerberos.principal; Java: principal in "
                                                  "sasl.jaas.config); default: the keytab's or ticket cache's.",
                                                  java=None)
    sasl_kerberos_keytab: str | None = setting(None, "opt_str", "For GSSAPI: a keytab to authenticate with "
                                               "(librdkafka: sasl.kerberos.keytab; Java: keyTab in "
                                               "sasl.jaas.config); default: the ticket cache (kinit, "
                                               "KRB5CCNAME).", java=None)
    sasl_oauth_token_provider: Any = setting(None, "token_provider", "For OAUTHBEARER: a callable (sync or "
                                             "async) returning a token, or an object with token(). "
                                             "Built from the sasl_oauthbearer_* settings when they are set.",
                                             secret=True, java=None)
    sasl_oauthbearer_token_endpoint_url: str | None = setting(
        None, "opt_str", "For OAUTHBEARER: the OAuth 2 / OpenID Connect token endpoint to get tokens from by "
        "the client-credentials grant (KIP-768).")
    sasl_oauthbearer_client_id: str | None = setting(
        None, "opt_str", "Client id for the token endpoint (librdkafka: sasl.oauthbearer.client.id).",
        java="sasl.oauthbearer.client.credentials.client.id")
    sasl_oauthbearer_client_secret: str | None = setting(
        None, "opt_str", "Client secret for the token endpoint (librdkafka: sasl.oauthbearer.client.secret).",
        secret=True, java="sasl.oauthbearer.client.credentials.client.secret")
    sasl_oauthbearer_scope: str | None = setting(None, "opt_str", "Scope to ask the token endpoint for, if any.")

    _explicit: InitVar[frozenset[str] | None] = None
    explicit_settings: frozenset[str] = field(default=frozenset(), init=False, repr=False, compare=False)

    # each config class's own normalised defaults, made at its first construction
    _defaults_cache: ClassVar[dict[str, Any]]
    SECRET_FIELDS: ClassVar[frozenset[str]] = frozenset({"sasl_plain_password", "ssl_password",
                                                          "sasl_oauth_token_provider",
                                                          "sasl_oauthbearer_client_secret"})

    # -- construction ---------------------------------------------------------------------

    def __post_init__(self, _explicit: frozenset[str] | None) -> None:
        for f in dataclasses.fields(self):
            if f.init and "kind" in f.metadata:
                value = coerce(f.name, f.metadata, getattr(self, f.name), from_text=False)
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
                    cached[f.name] = coerce(f.name, f.metadata, declared_default(f), from_text=False)
            cls._defaults_cache = cached
        return cached

    @classmethod
    def setting_fields(cls) -> dict[str, dataclasses.Field[Any]]:
        """Every user-facing setting of this class, by Python name."""
        return {f.name: f for f in dataclasses.fields(cls) if f.init and "kind" in f.metadata}

    @classmethod
    def from_kwargs(cls, **kwargs: Any) -> Self:
        """Build from Python-named settings; ConfigError names any unknown or invalid one."""
        known = cls.setting_fields()
        for name in kwargs:
            if name not in known:
                raise ConfigError(unknown_message(cls.__name__, name, known))
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
            for name, converted in map_dotted(cls.__name__, key.strip(), value, known):
                meta = known[name].metadata
                kwargs[name] = coerce(key, meta, converted, from_text=True) if isinstance(converted, str) \
                    else converted
        kwargs.update(overrides)
        return cls.from_kwargs(**kwargs)

    # -- validation of combinations -------------------------------------------------------

    def _validate(self) -> None:
        if self.reconnect_backoff_max_ms < self.reconnect_backoff_ms and "reconnect_backoff_max_ms" in self.explicit_settings:
            raise fail("reconnect_backoff_max_ms", f"must be at least reconnect_backoff_ms ({self.reconnect_backoff_ms})")
        if self.security_protocol.startswith("SASL_"):
            self._validate_sasl()

    def _validate_oauthbearer(self) -> None:
        """A token provider, given or built from the token endpoint settings (not both)."""
        url = self.sasl_oauthbearer_token_endpoint_url
        if url is None:
            if self.sasl_oauth_token_provider is None:
                raise fail("sasl_oauth_token_provider", "required with sasl_mechanism=OAUTHBEARER, or set "
                           "sasl_oauthbearer_token_endpoint_url with a client id and secret")
            return
        from kafkaio.oauth import ClientCredentialsTokenProvider

        given = self.sasl_oauth_token_provider
        if given is not None and not (isinstance(given, ClientCredentialsTokenProvider)
                                      and given.token_endpoint_url == url):  # a copy of this config keeps its own
            raise fail("sasl_oauthbearer_token_endpoint_url", "set it or sasl_oauth_token_provider, not both")
        if not url.startswith(("https://", "http://")):
            raise fail("sasl_oauthbearer_token_endpoint_url", f"must be an http(s) URL, not {url!r}")
        client_id, secret = self.sasl_oauthbearer_client_id, self.sasl_oauthbearer_client_secret
        if not client_id:
            raise fail("sasl_oauthbearer_client_id", "required with sasl_oauthbearer_token_endpoint_url")
        if not secret:
            raise fail("sasl_oauthbearer_client_secret", "required with sasl_oauthbearer_token_endpoint_url")
        if given is None:
            provider = ClientCredentialsTokenProvider(url, client_id, secret, self.sasl_oauthbearer_scope)
            object.__setattr__(self, "sasl_oauth_token_provider", provider)

    def _validate_sasl(self) -> None:
        mech = self.sasl_mechanism
        if mech == "GSSAPI":
            if self.sasl_plain_username or self.sasl_plain_password is not None:
                raise fail("sasl_mechanism", "is GSSAPI (Kerberos, the Java default) but sasl_plain_username/"
                            "sasl_plain_password are set: set sasl_mechanism to PLAIN or SCRAM-SHA-256/512")
            if self.sasl_kerberos_principal and not self.sasl_kerberos_keytab:
                raise fail("sasl_kerberos_keytab", "required with sasl_kerberos_principal")
            return
        if mech == "OAUTHBEARER":
            self._validate_oauthbearer()
            return
        if not self.sasl_plain_username:
            raise fail("sasl_plain_username", f"required with sasl_mechanism={mech}")
        if self.sasl_plain_password is None:
            raise fail("sasl_plain_password", f"required with sasl_mechanism={mech}")

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
                    parts.append(f"{name}={mask(value)}")
            elif value != defaults[name] or name == "bootstrap_servers":
                parts.append(f"{name}={value!r}")
        return f"{type(self).__name__}({', '.join(parts)})"

    __str__ = __repr__
