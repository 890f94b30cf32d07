# cython: language_level=3, boundscheck=False, wraparound=False
"""Kafka's variable-length integers (compiled twin of ``varint_py``; same functions, same errors)."""
from cpython.buffer cimport PyBUF_SIMPLE, PyBuffer_Release, PyObject_GetBuffer
from cpython.bytes cimport PyBytes_AS_STRING, PyBytes_FromStringAndSize
from libc.stdint cimport int32_t, int64_t, uint32_t, uint64_t

from kafkaio.records._errors import CorruptRecordError

_INT32_MIN = -2147483648
_INT32_MAX = 2147483647


cdef bytes _encode(uint64_t u):
    cdef unsigned char tmp[10]
    cdef unsigned char* end = write_uvarint(tmp, u)
    return PyBytes_FromStringAndSize(<char*>tmp, end - tmp)


cdef int64_t _check(object value, object lo, object hi, str what) except? -1:
    if not lo <= value <= hi:
        raise OverflowError(f"{value} does not fit in a {what}")
    return value


def encode_varint(value):
    """Zigzag varint of a signed 32-bit integer."""
    return _encode(zigzag32(<int32_t>_check(value, _INT32_MIN, _INT32_MAX, "varint")))


def encode_varlong(value):
    """Zigzag varint of a signed 64-bit integer."""
    return _encode(zigzag64(_check(value, -(1 << 63), (1 << 63) - 1, "varlong")))


def encode_unsigned_varint(value):
    """Unsigned varint of a 32-bit unsigned integer."""
    return _encode(<uint64_t>_check(value, 0, 0xFFFFFFFF, "unsigned varint"))


def size_of_varint(value):
    """Encoded length of ``encode_varint(value)``."""
    return uvarint_size(zigzag32(<int32_t>_check(value, _INT32_MIN, _INT32_MAX, "varint")))


def size_of_varlong(value):
    """Encoded length of ``encode_varlong(value)``."""
    return uvarint_size(zigzag64(_check(value, -(1 << 63), (1 << 63) - 1, "varlong")))


def size_of_unsigned_varint(value):
    """Encoded length of ``encode_unsigned_varint(value)``."""
    return uvarint_size(<uint64_t>_check(value, 0, 0xFFFFFFFF, "unsigned varint"))


cdef enum Kind:
    SIGNED32
    SIGNED64
    UNSIGNED32


cdef tuple _decode(buf, Py_ssize_t pos, Kind kind):
    # one buffer/bounds wrapper for the three readers; the message names the type that was asked for
    cdef Py_buffer view
    cdef int32_t v32
    cdef int64_t v64
    cdef uint32_t u32
    cdef const unsigned char* start
    cdef const unsigned char* end
    cdef const unsigned char* p
    PyObject_GetBuffer(buf, &view, PyBUF_SIMPLE)
    try:
        if pos < 0:
            raise IndexError("negative position")
        if pos >= view.len:
            raise CorruptRecordError("truncated varint")
        start = <const unsigned char*>view.buf
        end = start + view.len
        if kind == SIGNED32:
            p = read_varint32(start + pos, end, &v32)
            value = v32
        elif kind == SIGNED64:
            p = read_varint64(start + pos, end, &v64)
            value = v64
        else:
            p = read_uvarint32(start + pos, end, &u32)
            value = u32
        if p == NULL:
            if kind == SIGNED64:
                raise CorruptRecordError("truncated varlong or varlong longer than 10 bytes")
            raise CorruptRecordError("truncated varint or varint longer than 5 bytes")
        return value, p - start
    finally:
        PyBuffer_Release(&view)


def decode_varint(buf, Py_ssize_t pos=0):
    """Read a zigzag varint at ``pos``: ``(value, position after it)``."""
    return _decode(buf, pos, SIGNED32)


def decode_varlong(buf, Py_ssize_t pos=0):
    """Read a zigzag varlong at ``pos``: ``(value, position after it)``."""
    return _decode(buf, pos, SIGNED64)


def decode_unsigned_varint(buf, Py_ssize_t pos=0):
    """Read an unsigned varint at ``pos``: ``(value, position after it)``."""
    return _decode(buf, pos, UNSIGNED32)
