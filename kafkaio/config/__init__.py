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

The package, one role a module:

- ``schema``: ``setting()``, how one setting is declared (kind, range, choices, Java name, doc);
- ``values``: checking and normalising one value against its declaration;
- ``java``: Java dotted keys, JAAS lines and Java serializer names mapped onto the settings;
- ``common``: ``CommonConfig``, the shared settings and the construction machinery;
- ``producer``, ``consumer``, ``share_consumer``, ``admin``: each client's settings and combination rules;
- ``generate``: the docs table and ``kafkaio/settings.py`` generated from the declarations.
"""
from __future__ import annotations

from kafkaio.config.admin import AdminConfig
from kafkaio.config.common import SUPPORTED_SASL_MECHANISMS, CommonConfig
from kafkaio.config.consumer import ConsumerConfig
from kafkaio.config.generate import settings_table, typed_settings_source
from kafkaio.config.java import FOREIGN_NAMES, IGNORED_JAVA_SETTINGS, java_name
from kafkaio.config.producer import COMPRESSION_LEVELS, MAX_IN_FLIGHT_FOR_IDEMPOTENCE, ProducerConfig
from kafkaio.config.schema import INT32_MAX, setting
from kafkaio.config.share_consumer import ShareConsumerConfig
from kafkaio.config.values import ASSIGNOR_NAMES, split_host_port

__all__ = [
    "AdminConfig", "CommonConfig", "ConsumerConfig", "ProducerConfig", "ShareConsumerConfig",
    "setting", "split_host_port", "java_name", "settings_table", "typed_settings_source",
    "ASSIGNOR_NAMES", "COMPRESSION_LEVELS", "FOREIGN_NAMES", "IGNORED_JAVA_SETTINGS", "INT32_MAX",
    "MAX_IN_FLIGHT_FOR_IDEMPOTENCE", "SUPPORTED_SASL_MECHANISMS",
]
