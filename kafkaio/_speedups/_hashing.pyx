# cython: language_level=3, boundscheck=False, wraparound=False
"""Java's ``Utils.murmur2`` (compiled twin of ``hashing_py``): keyed partitioning must agree with Java."""
from cpython.buffer cimport PyBUF_SIMPLE, PyBuffer_Release, PyObject_GetBuffer
from libc.stdint cimport int32_t, uint32_t


cdef inline uint32_t _murmur2(const unsigned char* data, Py_ssize_t length) noexcept nogil:
    cdef uint32_t m = 0x5BD1E995
    cdef uint32_t h = (<uint32_t>0x9747B28Cu) ^ <uint32_t>length
    cdef uint32_t k
    cdef Py_ssize_t i, end = length & ~(<Py_ssize_t>3)
    for i in range(0, end, 4):
        k = (<uint32_t>data[i] | (<uint32_t>data[i + 1] << 8) | (<uint32_t>data[i + 2] << 16)
             | (<uint32_t>data[i + 3] << 24))
        k *= m
        k ^= k >> 24
        k *= m
        h *= m
        h ^= k
    i = length & 3
    if i == 3:
        h ^= <uint32_t>data[end + 2] << 16
    if i >= 2:
        h ^= <uint32_t>data[end + 1] << 8
    if i >= 1:
        h ^= data[end]
        h *= m
    h ^= h >> 13
    h *= m
    h ^= h >> 15
    return h


def murmur2(data):
    """32-bit MurmurHash2 with Kafka's seed, returned as Java's signed int."""
    cdef Py_buffer view
    cdef uint32_t h
    PyObject_GetBuffer(data, &view, PyBUF_SIMPLE)
    try:
        h = _murmur2(<const unsigned char*>view.buf, view.len)
    finally:
        PyBuffer_Release(&view)
    return <int32_t>h
