"""The compiled reader's fast object making (bytes in place, the record pool) on every supported CPython.

Where it is compiled in, records and their keys and values must still be, to the interpreter's
observers, objects made the ordinary way: a reference tracer (tracemalloc is one) is told of every
object the reader makes, a reused record included, as it is told of every destruction.
"""
from __future__ import annotations

import platform
import sys
import sysconfig
import tracemalloc

import pytest
from records_testlib import both

from kafkaio.records import Compression


def _plain_cpython() -> bool:
    # the builds the fast path is written for: CPython 3.11 to 3.14, with the GIL, no debug counters
    return (platform.python_implementation() == "CPython" and (3, 11) <= sys.version_info[:2] <= (3, 14)
            and not sysconfig.get_config_var("Py_GIL_DISABLED") and not hasattr(sys, "gettotalrefcount")
            and not hasattr(sys, "getobjects"))


def _batch(impl, n: int) -> bytes:
    b = impl.BatchBuilder(Compression.NONE, 1 << 22)
    for i in range(n):
        b.append(1000 + i, b"key-%d" % i, b"value-%d" % i * 5, None)
    return b.build()


def _decode(impl, data: bytes) -> list:
    return [r for batch in impl.read_batches(data) for r in batch.records("t", 0)]


def test_the_fast_path_is_compiled_in_on_every_supported_cpython():
    compiled, _ = both("records")
    # (bytes made in place, record pool installed): 3.13 and 3.14 included, not only 3.11 and 3.12
    assert compiled._FAST_OBJECTS == (_plain_cpython(), _plain_cpython())


def _decoded_here(impl, data: bytes) -> list:
    return _decode(impl, data)


def test_a_reference_tracer_sees_every_object_the_reader_makes():
    compiled, _ = both("records")
    data, drain, fill = _batch(compiled, 600), _batch(compiled, 2100), _batch(compiled, 1100)
    tracemalloc.start(5)
    try:
        # empty the record pool (of memory earlier tests freed untraced), then fill it with records
        # made here under tracing: a reused one then shows this line unless its reuse is told
        held = _decode(compiled, drain)
        _decode(compiled, fill)
        records = _decoded_here(compiled, data)
        where = (__file__, _decoded_here.__code__.co_firstlineno + 1)
        for obj in (records[0], records[-1], records[0].key, records[-1].value):
            tb = tracemalloc.get_object_traceback(obj)
            # made (for a pooled record: made again) by the call in _decoded_here, which the tracer saw
            assert tb is not None and where in [(f.filename, f.lineno) for f in tb], (type(obj), tb)
        del held
        assert all(r.key == b"key-%d" % r.offset for r in records)
    finally:
        tracemalloc.stop()
    # and back to the untraced path: the records are still whole and reused safely
    again = _decode(compiled, data)
    assert [r.offset for r in again] == list(range(600)) and again[7].value == b"value-7" * 5


@pytest.mark.parametrize("n", [1, 1024, 1500])
def test_records_reused_across_tracing_on_and_off_are_intact(n):
    compiled, pure = both("records")
    data = _batch(compiled, n)
    want = [(r.offset, r.key, r.value, r.headers) for r in _decode(pure, data)]
    for tracing in (False, True, False, True):
        if tracing:
            tracemalloc.start()
        try:
            got = _decode(compiled, data)
            assert [(r.offset, r.key, r.value, r.headers) for r in got] == want
            del got
        finally:
            if tracing:
                tracemalloc.stop()
