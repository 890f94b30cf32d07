# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True, binding=False
"""Produce requests and responses, versions 3 to 13 (compiled twin of ``produce_codec_py``; the
layout, and the generic codec this one is held to, are described there).

The request is measured first, then written through one pointer into ``out`` grown once; the
response is read through a ``const unsigned char*`` with every read checked against the end of the
bytes (or of the tagged field being read): malformed bytes raise :class:`KafkaProtocolError`.
"""
from cpython.buffer cimport PyBUF_SIMPLE, PyBuffer_Release, PyObject_GetBuffer
from cpython.bytearray cimport PyByteArray_AS_STRING, PyByteArray_GET_SIZE, PyByteArray_Resize
from cpython.bytes cimport PyBytes_AS_STRING, PyBytes_CheckExact, PyBytes_GET_SIZE
from cpython.unicode cimport PyUnicode_AsUTF8AndSize, PyUnicode_DecodeUTF8
from libc.stdint cimport int16_t, int32_t, int64_t, uint16_t, uint32_t, uint64_t
from libc.string cimport memcpy

from kafkaio._speedups._bigendian cimport _get16, _get32, _get64, _put16, _put32
from kafkaio._speedups._varint cimport uvarint_size, write_uvarint

from kafkaio.errors import FieldEncodeError, KafkaProtocolError, UnsupportedVersionError

cdef enum:
    FIRST_FLEXIBLE_V = 9
    FIRST_TAGGED_LEADER_V = 10
    FIRST_TOPIC_ID_V = 13
    LOWEST = 3
    HIGHEST = 13

FIRST_FLEXIBLE = FIRST_FLEXIBLE_V
FIRST_TAGGED_LEADER = FIRST_TAGGED_LEADER_V
FIRST_TOPIC_ID = FIRST_TOPIC_ID_V
VERSIONS = range(LOWEST, HIGHEST + 1)

__all__ = ["ProduceMessage", "ProduceResult"]

cdef object _KafkaProtocolError = KafkaProtocolError
cdef list _NO_RECORD_ERRORS = []  # shared, never mutated: most answers have none

cdef extern from *:
    """
    /* A topic id (UUID.int, 0 <= v < 2**128) as 16 big-endian bytes; -1 with OverflowError outside. */
    static int kafkaio_uuid_to_bytes(PyObject* v, unsigned char* out) {
    #if PY_VERSION_HEX >= 0x030D0000
        return _PyLong_AsByteArray((PyLongObject*)v, out, 16, 0, 0, 1);
    #else
        return _PyLong_AsByteArray((PyLongObject*)v, out, 16, 0, 0);
    #endif
    }
    """
    int uuid_to_bytes "kafkaio_uuid_to_bytes"(object v, unsigned char* out) except -1
    object uuid_from_bytes "_PyLong_FromByteArray"(const unsigned char* data, size_t n, int little_endian,
                                                    int is_signed)
    bint PyLong_Check(object o)
    bint PyByteArray_CheckExact(object o)


cdef int _malformed(str what, Py_ssize_t pos) except -1:
    raise _KafkaProtocolError(f"malformed {what} at byte {pos}")


# what encoding the caller's data can raise (a wrong type or a value out of its field's range); the
# pure twin's list, which struct.error adds to
_UNENCODABLE = (OverflowError, TypeError, AttributeError, ValueError)


cdef object _unencodable(BaseException exc):
    return FieldEncodeError("", f"the Produce request: {exc}")


cdef object _unknown_version(int version):
    return UnsupportedVersionError(f"the direct Produce codec has no version {version} "
                                   f"(it has {LOWEST}-{HIGHEST})")


# ---- the request --------------------------------------------------------------------------------

cdef Py_ssize_t _records_size(object records) except -1:
    """The byte length of a partition's records (bytes, bytearray or any buffer)."""
    cdef Py_buffer view
    if PyBytes_CheckExact(records):
        return PyBytes_GET_SIZE(records)
    if PyByteArray_CheckExact(records):
        return PyByteArray_GET_SIZE(records)
    PyObject_GetBuffer(records, &view, PyBUF_SIMPLE)
    n = view.len
    PyBuffer_Release(&view)
    return n


cdef unsigned char* _put_records(unsigned char* p, object records, Py_ssize_t n) except NULL:
    cdef Py_buffer view
    if PyBytes_CheckExact(records):
        memcpy(p, PyBytes_AS_STRING(records), n)
    elif PyByteArray_CheckExact(records):
        memcpy(p, PyByteArray_AS_STRING(records), n)
    else:
        PyObject_GetBuffer(records, &view, PyBUF_SIMPLE)
        try:
            if view.len != n:  # a buffer that changed between measuring and writing
                raise ValueError("records changed size while the request was encoded")
            memcpy(p, view.buf, n)
        finally:
            PyBuffer_Release(&view)
    return p + n


cdef inline Py_ssize_t _length_size(Py_ssize_t n, bint flexible, int fixed) noexcept:
    """Bytes of a length prefix: a compact length (n + 1 as a varint) or a fixed-size one."""
    return uvarint_size(<uint64_t>n + 1) if flexible else fixed


cdef Py_ssize_t _text_size(object text, bint flexible) except -1:
    """Bytes of a string with its length: compact, or an int16 length (at most 32767 bytes)."""
    cdef Py_ssize_t n
    PyUnicode_AsUTF8AndSize(text, &n)
    if not flexible and n > 0x7FFF:
        raise FieldEncodeError("", f"the Produce request: a string of {n} bytes is longer than an int16 length allows")
    return _length_size(n, flexible, 2) + n


cdef Py_ssize_t _measure(object transactional_id, object topics, bint flexible, bint by_id) except -1:
    cdef Py_ssize_t size = 6  # acks, timeout_ms
    cdef Py_ssize_t n
    if transactional_id is None:
        size += 1 if flexible else 2
    else:
        size += _text_size(transactional_id, flexible)
    size += _length_size(len(topics), flexible, 4)
    for name, topic_id, partitions in topics:
        if by_id:
            size += 16
        else:
            size += _text_size(name, flexible)
        size += _length_size(len(partitions), flexible, 4)
        for index, records in partitions:
            size += 4
            if records is None:
                size += 1 if flexible else 4
            else:
                n = _records_size(records)
                size += _length_size(n, flexible, 4) + n
            if flexible:
                size += 1  # the partition's tagged fields
        if flexible:
            size += 1      # the topic's
    if flexible:
        size += 1          # the body's
    return size


cdef inline unsigned char* _put_null(unsigned char* p, bint flexible, int fixed) noexcept:
    """A null string or records: compact length 0, or -1 in ``fixed`` bytes."""
    if flexible:
        p[0] = 0
        return p + 1
    if fixed == 2:
        _put16(p, 0xFFFF)
    else:
        _put32(p, 0xFFFFFFFF)
    return p + fixed


cdef inline unsigned char* _put_length(unsigned char* p, Py_ssize_t n, bint flexible, int fixed) noexcept:
    if flexible:
        return write_uvarint(p, <uint64_t>n + 1)
    if fixed == 2:
        _put16(p, <uint16_t>n)
    else:
        _put32(p, <uint32_t>n)
    return p + fixed


cdef int _room(unsigned char* p, unsigned char* endp, Py_ssize_t n) except -1:
    # the measured size holds unless a topic or partition sequence changed between the two passes
    # (through __len__, __iter__ or __index__ of the caller's objects): never write past it then
    if n > endp - p:
        raise RuntimeError("the request changed while it was encoded")  # a bug, not bad input: logged by the sender
    return 0


cdef unsigned char* _put_text(unsigned char* p, unsigned char* endp, object text, bint flexible) except NULL:
    cdef Py_ssize_t n
    cdef const char* raw = PyUnicode_AsUTF8AndSize(text, &n)
    _room(p, endp, _length_size(n, flexible, 2) + n)
    p = _put_length(p, n, flexible, 2)
    memcpy(p, raw, n)
    return p + n


cdef unsigned char* _put_body(unsigned char* p, unsigned char* endp, object transactional_id, int16_t acks,
                              int32_t timeout_ms, object topics, bint flexible, bint by_id) except NULL:
    """Write the body from ``p``; it ends exactly at ``endp`` (:func:`_measure`), never beyond."""
    cdef int32_t index
    cdef Py_ssize_t n
    _room(p, endp, 2)
    if transactional_id is None:
        p = _put_null(p, flexible, 2)
    else:
        p = _put_text(p, endp, transactional_id, flexible)
    n = len(topics)
    _room(p, endp, 6 + _length_size(n, flexible, 4))
    _put16(p, <uint16_t>acks)
    _put32(p + 2, <uint32_t>timeout_ms)
    p = _put_length(p + 6, n, flexible, 4)
    for name, topic_id, partitions in topics:
        if by_id:
            _room(p, endp, 16)
            if not PyLong_Check(topic_id):
                raise TypeError(f"a topic id is an int (UUID.int), not {type(topic_id).__name__}")
            uuid_to_bytes(topic_id, p)
            p += 16
        else:
            p = _put_text(p, endp, name, flexible)
        n = len(partitions)
        _room(p, endp, _length_size(n, flexible, 4))
        p = _put_length(p, n, flexible, 4)
        for index_obj, records in partitions:
            index = index_obj
            n = -1 if records is None else _records_size(records)
            # a null's length (-1 or compact 0) is the size of an empty one's
            _room(p, endp, 4 + _length_size(n if n >= 0 else 0, flexible, 4) + (n if n >= 0 else 0) + flexible)
            _put32(p, <uint32_t>index)
            p += 4
            if records is None:
                p = _put_null(p, flexible, 4)
            else:
                p = _put_length(p, n, flexible, 4)
                p = _put_records(p, records, n)
            if flexible:
                p[0] = 0
                p += 1
        if flexible:
            _room(p, endp, 1)
            p[0] = 0
            p += 1
    if flexible:
        _room(p, endp, 1)
        p[0] = 0
        p += 1
    return p


# ---- the response -------------------------------------------------------------------------------

cdef int _need(Py_ssize_t pos, Py_ssize_t n, Py_ssize_t end, str what) except -1:
    if n > end - pos:
        _malformed(what + " (truncated)", pos)
    return 0


cdef uint32_t _uvarint32(const unsigned char* d, Py_ssize_t end, Py_ssize_t* pos) except? 0xFFFFFFFF:
    """An unsigned varint that fits in 32 bits (at most 5 bytes) at ``pos[0]``; moves it past."""
    cdef Py_ssize_t p = pos[0]
    cdef uint32_t result = 0
    cdef unsigned int shift = 0
    cdef unsigned char b
    while True:
        if p >= end:
            _malformed("varint (truncated)", pos[0])
        b = d[p]
        p += 1
        if shift == 28 and b > 0x0F:  # a sixth byte, or bits past the 32nd
            _malformed("unsigned varint (overflow)", pos[0])
        result |= <uint32_t>(b & 0x7F) << shift
        if b < 0x80:
            pos[0] = p
            return result
        shift += 7


cdef int64_t _length(const unsigned char* d, Py_ssize_t end, Py_ssize_t* pos, bint compact, int fixed) except? -2:
    """A length at ``pos[0]``, -1 for null: compact (a varint of length + 1), or a signed int of
    ``fixed`` bytes (2 or 4); moves ``pos`` past it."""
    cdef Py_ssize_t start = pos[0]
    if compact:
        if start < end and d[start] < 0x80:  # one byte: the usual case
            pos[0] = start + 1
            return <int64_t>d[start] - 1
        return <int64_t>_uvarint32(d, end, pos) - 1
    _need(start, fixed, end, "length")
    pos[0] = start + fixed
    if fixed == 2:
        return <int16_t>_get16(d + start)
    return <int32_t>_get32(d + start)


cdef Py_ssize_t _array_length(const unsigned char* d, Py_ssize_t end, Py_ssize_t* pos, bint compact) except -1:
    """A non-null array's element count; no more than there are bytes left (each element takes one)."""
    cdef Py_ssize_t start = pos[0]
    cdef int64_t n = _length(d, end, pos, compact, 4)
    if n < 0:
        _malformed("array (null or negative length)", start)
    if n > end - pos[0]:
        _malformed("array (length past end)", start)
    return <Py_ssize_t>n


cdef object _string(const unsigned char* d, Py_ssize_t end, Py_ssize_t* pos, bint compact, bint nullable):
    """A (nullable) string at ``pos[0]``, compact or with an int16 length; moves ``pos`` past it."""
    cdef Py_ssize_t start = pos[0]
    cdef int64_t n = _length(d, end, pos, compact, 2)
    if n < 0:
        if n == -1 and nullable:
            return None
        _malformed("string (null or negative length)", start)
    if n > end - pos[0]:
        _malformed("string (length past end)", pos[0])
    try:
        s = PyUnicode_DecodeUTF8(<const char*>d + pos[0], <Py_ssize_t>n, NULL)
    except UnicodeDecodeError:
        _malformed("string (invalid UTF-8)", pos[0])
    pos[0] += <Py_ssize_t>n
    return s


cdef int _tagged_fields(const unsigned char* d, Py_ssize_t end, Py_ssize_t* pos, bint tag0_defined,
                        Py_ssize_t* tag0) except -1:
    """Skip the tagged fields at ``pos[0]``; with ``tag0_defined`` (the levels and versions that
    define tag 0: current_leader, node_endpoints), note where tag 0's value lies in ``tag0[0:2]``
    (left as they are when it is absent). Tags ascend, and every field ends within ``end``."""
    cdef Py_ssize_t p = pos[0]
    cdef uint32_t n, i, size
    cdef int64_t tag, last = -1
    if p >= end:
        _malformed("tagged fields (truncated)", p)
    if d[p] == 0:  # none: the usual case
        pos[0] = p + 1
        return 0
    n = _uvarint32(d, end, pos)
    if n > end - pos[0]:
        _malformed("tagged fields", pos[0])
    for i in range(n):
        tag = _uvarint32(d, end, pos)
        size = _uvarint32(d, end, pos)
        if size > end - pos[0] or tag <= last:
            _malformed(f"tagged field {tag}", pos[0])
        if tag == 0 and tag0_defined:
            tag0[0] = pos[0]
            tag0[1] = pos[0] + size
        last = tag
        pos[0] += size
    return 0


cdef int _leader(const unsigned char* d, Py_ssize_t pos, Py_ssize_t end, int32_t* leader) except -1:
    """The ``current_leader`` tagged struct between ``pos`` and ``end``."""
    cdef Py_ssize_t unused[2]
    _need(pos, 8, end, "tagged field 0")
    leader[0] = <int32_t>_get32(d + pos)
    leader[1] = <int32_t>_get32(d + pos + 4)
    pos += 8
    _tagged_fields(d, end, &pos, False, unused)
    if pos != end:
        _malformed("tagged field 0 (wrong size)", pos)
    return 0


cdef list _endpoints(const unsigned char* d, Py_ssize_t pos, Py_ssize_t end):
    """The ``node_endpoints`` tagged array between ``pos`` and ``end``."""
    cdef Py_ssize_t unused[2]
    cdef Py_ssize_t n = _array_length(d, end, &pos, True)
    cdef int32_t node_id, port
    cdef list nodes = []
    for _ in range(n):
        _need(pos, 4, end, "node id")
        node_id = <int32_t>_get32(d + pos)
        pos += 4
        host = _string(d, end, &pos, True, False)
        _need(pos, 4, end, "port")
        port = <int32_t>_get32(d + pos)
        pos += 4
        rack = _string(d, end, &pos, True, True)
        _tagged_fields(d, end, &pos, False, unused)
        nodes.append((node_id, host, port, rack))
    if pos != end:
        _malformed("tagged field 0 (wrong size)", pos)
    return nodes


cdef tuple _decode(const unsigned char* d, Py_ssize_t end, Py_ssize_t pos, int version):
    cdef bint flexible = version >= FIRST_FLEXIBLE_V
    cdef bint tagged_leader = version >= FIRST_TAGGED_LEADER_V  # before it, tag 0 is an unknown field
    cdef bint by_id = version >= FIRST_TOPIC_ID_V
    cdef Py_ssize_t n_topics, n_parts, n_errors, t, i, j
    cdef Py_ssize_t tag0[2]
    cdef int32_t leader[2]
    cdef int32_t index, batch_index, throttle_time_ms
    cdef int16_t error_code
    cdef int64_t base_offset, log_append_time, log_start_offset
    cdef list topics = [], partitions, record_errors
    cdef ProduceResult result
    if pos < 0 or pos > end:
        _malformed("response (position past end)", pos)
    n_topics = _array_length(d, end, &pos, flexible)
    for t in range(n_topics):
        if by_id:
            _need(pos, 16, end, "uuid")
            name = None
            topic_id = uuid_from_bytes(d + pos, 16, 0, 0)
            pos += 16
        else:
            name = _string(d, end, &pos, flexible, False)
            topic_id = 0
        partitions = []
        n_parts = _array_length(d, end, &pos, flexible)
        for i in range(n_parts):
            _need(pos, 22, end, "partition response")
            index = <int32_t>_get32(d + pos)
            error_code = <int16_t>_get16(d + pos + 4)
            base_offset = <int64_t>_get64(d + pos + 6)
            log_append_time = <int64_t>_get64(d + pos + 14)
            pos += 22
            log_start_offset = -1
            if version >= 5:
                _need(pos, 8, end, "log_start_offset")
                log_start_offset = <int64_t>_get64(d + pos)
                pos += 8
            record_errors = _NO_RECORD_ERRORS
            error_message = None
            if version >= 8:
                n_errors = _array_length(d, end, &pos, flexible)
                if n_errors:
                    record_errors = []
                    for j in range(n_errors):
                        _need(pos, 4, end, "batch_index")
                        batch_index = <int32_t>_get32(d + pos)
                        pos += 4
                        message = _string(d, end, &pos, flexible, True)
                        if flexible:
                            _tagged_fields(d, end, &pos, False, tag0)
                        record_errors.append((batch_index, message))
                error_message = _string(d, end, &pos, flexible, True)
            leader[0] = leader[1] = -1
            if flexible:
                tag0[0] = -1
                _tagged_fields(d, end, &pos, tagged_leader, tag0)
                if tag0[0] >= 0:
                    _leader(d, tag0[0], tag0[1], leader)
            partitions.append((index, error_code, base_offset, log_append_time, log_start_offset,
                               record_errors, error_message, leader[0], leader[1]))
        if flexible:
            _tagged_fields(d, end, &pos, False, tag0)
        topics.append((name, topic_id, partitions))
    _need(pos, 4, end, "throttle_time_ms")
    throttle_time_ms = <int32_t>_get32(d + pos)
    pos += 4
    node_endpoints = []
    if flexible:
        tag0[0] = -1
        _tagged_fields(d, end, &pos, tagged_leader, tag0)
        if tag0[0] >= 0:
            node_endpoints = _endpoints(d, tag0[0], tag0[1])
    result = ProduceResult.__new__(ProduceResult)
    result.topics = topics
    result.throttle_time_ms = throttle_time_ms
    result.node_endpoints = node_endpoints
    return result, pos


cdef class ProduceResult:
    """A decoded Produce response: its topics, ``throttle_time_ms``, and the leaders' endpoints
    (version 10 on, when a partition's leader moved)."""

    cdef public object topics
    cdef public object throttle_time_ms
    cdef public object node_endpoints

    def __init__(self, topics, throttle_time_ms, node_endpoints):
        self.topics = topics
        self.throttle_time_ms = throttle_time_ms
        self.node_endpoints = node_endpoints


cdef class ProduceMessage:
    """A Produce request as data, encoded and decoded by the functions of this module."""

    cdef public object transactional_id
    cdef public object acks
    cdef public object timeout_ms
    cdef public object topics

    def __init__(self, transactional_id, acks, timeout_ms, topics):
        self.transactional_id = transactional_id
        self.acks = acks
        self.timeout_ms = timeout_ms
        self.topics = topics

    def encode_body(self, bytearray out not None, int version):
        """Append the request's body at ``version`` (3 to 13) to ``out``; a request it cannot encode
        raises :class:`KafkaProtocolError` and leaves ``out`` as it was."""
        cdef bint flexible = version >= FIRST_FLEXIBLE_V
        cdef bint by_id = version >= FIRST_TOPIC_ID_V
        cdef int16_t acks
        cdef int32_t timeout_ms
        cdef Py_ssize_t start = PyByteArray_GET_SIZE(out)
        cdef Py_ssize_t size
        cdef unsigned char* p
        if not LOWEST <= version <= HIGHEST:
            raise _unknown_version(version)
        try:
            acks = self.acks
            timeout_ms = self.timeout_ms
            topics = self.topics
            size = _measure(self.transactional_id, topics, flexible, by_id)
            PyByteArray_Resize(out, start + size)
            p = <unsigned char*>PyByteArray_AS_STRING(out) + start
            if _put_body(p, p + size, self.transactional_id, acks, timeout_ms, topics, flexible, by_id) != p + size:
                raise RuntimeError("the request changed while it was encoded")  # a bug, not bad input: logged by the sender
        except BaseException as exc:
            PyByteArray_Resize(out, start)  # nothing half-written stays in out
            if isinstance(exc, _UNENCODABLE):
                raise _unencodable(exc) from exc
            raise

    @staticmethod
    def decode_body(buf, Py_ssize_t pos, int version):
        """The Produce response body of ``version`` (3 to 13) at ``pos`` in ``buf``, and the
        position after it; malformed bytes raise :class:`KafkaProtocolError`."""
        cdef Py_buffer view
        if not LOWEST <= version <= HIGHEST:
            raise _unknown_version(version)
        PyObject_GetBuffer(buf, &view, PyBUF_SIMPLE)
        try:
            return _decode(<const unsigned char*>view.buf, view.len, pos, version)
        finally:
            PyBuffer_Release(&view)
