"""Java-style dotted keys (``"linger.ms": "5"``) mapped onto kafkaio's settings: renamed and
ignored Java settings, ``sasl.jaas.config``, the Java serializer class names, names other Python
clients use."""
from __future__ import annotations

import difflib
import logging
import re
from typing import TYPE_CHECKING, Any, Callable, Mapping

from kafkaio.errors import ConfigError

if TYPE_CHECKING:
    from kafkaio.config.common import CommonConfig

log = logging.getLogger("kafkaio.config")

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


def map_dotted(owner: str, key: str, value: Any, known: Mapping[str, Any]) -> list[tuple[str, Any]]:
    """One Java key -> the (field, value) pairs it sets; ``known`` are the settings of the config
    class named ``owner``."""
    if key in IGNORED_JAVA_SETTINGS:
        log.info("ignoring Java setting %s: it has no meaning in kafkaio", key)
        return []
    if key == "sasl.jaas.config":
        return parse_jaas(str(value))
    if key == "ssl.endpoint.identification.algorithm":
        return [("ssl_check_hostname", str(value).strip().lower() == "https")]
    if key == "ssl.truststore.location":
        return [("ssl_cafile", value)]
    if key in ("key.serializer", "value.serializer", "key.deserializer", "value.deserializer"):
        return [(key.replace(".", "_"), java_serde(key, value))]
    for name, f in known.items():
        if f.metadata["java"] and f.metadata["java"] == key:
            return [(name, value)]
    name = key.replace(".", "_").replace("-", "_")
    if name not in known or known[name].metadata["java"] is None:
        dotted = [f.metadata["java"] or n.replace("_", ".") for n, f in known.items()
                  if f.metadata["java"] is not None]
        hint = difflib.get_close_matches(key, dotted, n=1, cutoff=0.6)
        raise ConfigError(f"{key}: unknown setting for {owner}"
                          + (f"; did you mean {hint[0]!r}?" if hint else ""))
    return [(name, value)]


def unknown_message(owner: str, name: str, known: Mapping[str, Any]) -> str:
    """The error for a Python-named setting ``owner`` does not have, with a hint when one is close."""
    if name in FOREIGN_NAMES and FOREIGN_NAMES[name] != name:
        return f"{name}: unknown setting for {owner}; use {FOREIGN_NAMES[name]}"
    candidates = list(known)
    hint = difflib.get_close_matches(name.replace(".", "_"), candidates, n=1, cutoff=0.6)
    return f"{name}: unknown setting for {owner}" + (f"; did you mean {hint[0]!r}?" if hint else "")


def parse_jaas(text: str) -> list[tuple[str, Any]]:
    """Pull username/password out of a Java ``sasl.jaas.config`` line (PlainLoginModule,
    ScramLoginModule), or keyTab/principal (Krb5LoginModule; without them, the ticket cache)."""
    out: list[tuple[str, Any]] = []
    kerberos = "Krb5LoginModule" in text
    names = ({"keyTab": "sasl_kerberos_keytab", "principal": "sasl_kerberos_principal"} if kerberos
             else {"username": "sasl_plain_username", "password": "sasl_plain_password"})
    for key, val in re.findall(r'(\w+)\s*=\s*"((?:[^"\\]|\\.)*)"', text):
        if key in names:
            out.append((names[key], val))
    if not out and not kerberos:
        raise ConfigError("sasl.jaas.config: only username=\"...\" password=\"...\" login modules and "
                          "Krb5LoginModule are understood")
    return out


def java_serde(key: str, value: Any) -> Any:
    """A Java serializer or deserializer class name -> the Python callable doing the same (None: bytes)."""
    if not isinstance(value, str):
        return value
    table = _JAVA_SERIALIZERS if key.endswith(".serializer") else _JAVA_DESERIALIZERS
    name = value.strip()
    if name not in table:
        raise ConfigError(f"{key}: Java class {name!r} cannot be used from Python; pass a callable "
                          f"as {key.replace('.', '_')}")
    return table[name]


def java_name(cls: type[CommonConfig], name: str) -> str | None:
    """The Java property name of a setting, or None for kafkaio-only settings."""
    meta = cls.setting_fields()[name].metadata
    if meta["java"] is None:
        return None
    return meta["java"] or name.replace("_", ".")
