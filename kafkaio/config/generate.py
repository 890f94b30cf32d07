"""What is generated from the setting declarations: the Markdown table of the docs and
``kafkaio/settings.py``, the typed keyword arguments of the clients."""
from __future__ import annotations

from kafkaio.config.admin import AdminConfig
from kafkaio.config.common import CommonConfig
from kafkaio.config.consumer import ConsumerConfig
from kafkaio.config.java import java_name
from kafkaio.config.producer import ProducerConfig
from kafkaio.config.share_consumer import ShareConsumerConfig
from kafkaio.config.schema import declared_default


def settings_table(cls: type[CommonConfig]) -> str:
    """A Markdown table of ``cls``'s settings (name, Java name, default, meaning), for the docs."""
    rows = ["| setting | Java name | default | meaning |", "|---|---|---|---|"]
    for name, f in cls.setting_fields().items():
        jn = java_name(cls, name)
        shown = repr(declared_default(f))
        rows.append(f"| `{name}` | {f'`{jn}`' if jn else '(kafkaio only)'} | `{shown}` | {f.metadata['doc']} |")
    return "\n".join(rows)


_KIND_TYPES = {
    "int": "int",
    "opt_int": "int | None",
    "bool": "bool",
    "str": "str",
    "opt_str": "str | None",
    "path": "str | os.PathLike[str] | None",
    "ssl_context": "ssl.SSLContext | None",
    "token_provider": "Any",
    "servers": "str | Sequence[str]",
    "acks": 'int | Literal["all"]',
    "assignors": "str | Sequence[Any]",
}


def typed_settings_source() -> str:
    """The source of ``kafkaio/settings.py``: one ``TypedDict`` per client, built from the setting
    declarations, so that ``Producer(linger_ms="abc")`` is a type error and the typed keyword
    arguments cannot drift from what the constructors accept (a unit test compares the file)."""
    out = [
        '"""Typed keyword arguments of the clients: ``Producer(**settings: Unpack[ProducerSettings])``.',
        "",
        "Generated from the setting declarations in kafkaio/config/; do not edit. Regenerate with",
        "``python -c 'import kafkaio.config as c; print(c.typed_settings_source(), end=\"\")' > kafkaio/settings.py``.",
        '"""',
        "from __future__ import annotations",
        "",
        "import os",
        "import ssl",
        "from typing import Any, Callable, Literal, Sequence, TypedDict",
        "",
        '__all__ = ["AdminSettings", "ConsumerSettings", "ProducerSettings", "ShareConsumerSettings"]',
    ]
    # the constructors' own named parameters are not repeated in their keyword arguments (PEP 692)
    clients: tuple[tuple[str, type[CommonConfig], set[str]], ...] = (("Producer", ProducerConfig, {"bootstrap_servers"}), ("Consumer", ConsumerConfig, set()),
               ("Admin", AdminConfig, {"bootstrap_servers"}), ("ShareConsumer", ShareConsumerConfig, set()))
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
            elif meta["kind"] == "callable":
                # as declared (a string: the declarations use postponed annotations), so that a lambda
                # given as a serializer gets its parameter's type from the checker
                assert isinstance(f.type, str), f"{cls.__name__}.{name}: the declarations' annotations are strings"
                typ = f.type
            else:
                typ = _KIND_TYPES[meta["kind"]]
            out.append(f"    {name}: {typ}")
    return "\n".join(out) + "\n"
