"""What an installed kafkaio offers before anything else was imported (each check in a fresh
interpreter, since the test session has imported most modules already)."""
from __future__ import annotations

import subprocess
import sys
from importlib import resources

import pytest


def _fresh(code: str) -> str:
    return subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True).stdout.strip()


@pytest.mark.parametrize("expr", ["kafkaio.errors.UnknownTopicOrPartitionError.__name__",
                                  "kafkaio.structs.TopicPartition.__name__",
                                  "kafkaio.config.ProducerConfig.__name__"])
def test_public_modules_are_attributes_of_the_package(expr: str) -> None:
    assert _fresh(f"import kafkaio; print({expr})") == expr.split(".")[2]


def test_an_unknown_attribute_is_an_attribute_error() -> None:
    with pytest.raises(AttributeError, match="no attribute 'nothing'"):
        import kafkaio
        kafkaio.nothing  # noqa: B018


def test_the_package_says_it_is_typed() -> None:
    assert resources.files("kafkaio").joinpath("py.typed").is_file()


def test_importing_the_clients_leaves_the_crc32c_package_for_later() -> None:
    """The crc32c package reads its own metadata when imported (tens of milliseconds): kafkaio
    imports it only when a checksum needs it (the compiled path computes CRC-32C itself where the
    CPU has the instruction), so that a CLI call or a web app's start-up does not pay for it."""
    code = ("import sys, kafkaio\n"
            "kafkaio.Producer, kafkaio.Consumer, kafkaio.Admin, kafkaio.ShareConsumer\n"
            "import kafkaio.consumer.fetcher, kafkaio.records\n"
            "print('crc32c' in sys.modules)\n"
            "from kafkaio._speedups.checksums_py import crc32c\n"
            "print(crc32c(b'123456789') == 0xE3069283)")
    assert _fresh(code).split() == ["False", "True"]


def test_importing_the_clients_leaves_the_generated_body_types_to_the_type_checker() -> None:
    """kafkaio/protocol/bodies.py (two thousand lines of TypedDicts, about 20 ms to import) is for
    mypy: the modules that read responses through its types import it under TYPE_CHECKING."""
    code = ("import sys, kafkaio\n"
            "kafkaio.Producer, kafkaio.Consumer, kafkaio.Admin, kafkaio.ShareConsumer\n"
            "import kafkaio.consumer.fetcher, kafkaio.producer.sender, kafkaio.cluster\n"
            "print('kafkaio.protocol.bodies' in sys.modules)")
    assert _fresh(code).split() == ["False"]
