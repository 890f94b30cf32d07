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
