"""Shared helpers of the record tests: both implementations, and hand-made batches."""
from __future__ import annotations

import importlib
import struct
from types import ModuleType
from typing import Any

import pytest

from kafkaio._speedups import checksums_py


def _compiled(name: str) -> Any:
    try:
        return importlib.import_module(f"kafkaio._speedups._{name}")
    except ImportError:
        return None


def implementations(name: str) -> list[Any]:
    """pytest params: the compiled module (skipped when not built) and the pure twin."""
    compiled = _compiled(name)
    return [
        pytest.param(compiled, id="cython", marks=pytest.mark.skipif(compiled is None, reason="not built")),
        pytest.param(importlib.import_module(f"kafkaio._speedups.{name}_py"), id="pure"),
    ]


def both(name: str) -> tuple[ModuleType, ModuleType]:
    """(compiled, pure), skipping the test when the compiled module is not built."""
    compiled = _compiled(name)
    if compiled is None:
        pytest.skip("compiled speedups not built")
    return compiled, importlib.import_module(f"kafkaio._speedups.{name}_py")


def fields(rec: Any) -> tuple:
    """Every field of a ConsumerRecord, for comparing records of either implementation."""
    return (rec.topic, rec.partition, rec.offset, rec.timestamp, int(rec.timestamp_type),
            type(rec.timestamp_type).__name__, rec.key, rec.value, list(rec.headers), rec.leader_epoch)


def patch_header(batch: bytes, fmt: str, offset: int, *values: Any, fix_crc: bool = True) -> bytes:
    """``batch`` with header bytes at ``offset`` replaced, CRC recomputed unless told not to."""
    out = bytearray(batch)
    struct.pack_into(fmt, out, offset, *values)
    if fix_crc:
        struct.pack_into(">I", out, 17, checksums_py.crc32c(bytes(out[21:])))
    return bytes(out)


def with_records_section(batch: bytes, section: bytes, attributes: int | None = None) -> bytes:
    """``batch`` (v2) with its records section replaced, lengths and CRC fixed up."""
    out = bytearray(batch[:61]) + section
    struct.pack_into(">i", out, 8, len(out) - 12)
    if attributes is not None:
        struct.pack_into(">h", out, 21, attributes)
    struct.pack_into(">I", out, 17, checksums_py.crc32c(bytes(out[21:])))
    return bytes(out)


def decode_all(impl: ModuleType, data: bytes, check_crcs: bool = True) -> list[tuple]:
    """Every batch's header summary and records, or the exception type name when decoding fails."""
    out: list[tuple] = []
    try:
        for b in impl.read_batches(data, check_crcs=check_crcs):
            out.append((b.base_offset, b.last_offset, b.next_offset, int(b.timestamp_type), b.is_control,
                        b.is_transactional, b.producer_id, b.producer_epoch, b.base_sequence))
            out.append(tuple(fields(r) for r in b.records("t", 3)))
            if b.is_control:
                out.append(("control", b.control_type))
    except Exception as exc:  # noqa: BLE001 - the type is what the tests compare
        out.append(("error", type(exc).__name__))
    return out
