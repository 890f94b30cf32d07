# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True, binding=False
# binding=False: methods are plain C methods, which the interpreter's specialised calls reach directly;
# as Cython function objects every append() cost about 28 ns more in the call machinery alone.
"""Record batch v2: builder and reader (compiled twin of ``records_py``; the layout is documented there).

The builder appends each record straight into one growing C buffer (the 61-byte batch header is
reserved at its front) and makes no Python object per record; compression and the CRC run once per
batch. The reader walks ``const unsigned char*`` over the fetched bytes, checks every length against
the end of the batch, and allocates only what it returns: one ``ConsumerRecord`` per record, its key
and value, and (when present) its headers.
"""
cimport cython
from cpython.buffer cimport PyBUF_READ, PyBUF_SIMPLE, PyBuffer_Release, PyObject_GetBuffer
from cpython.bytes cimport PyBytes_AS_STRING, PyBytes_CheckExact, PyBytes_FromStringAndSize, PyBytes_GET_SIZE
from cpython.list cimport PyList_New, PyList_SET_ITEM
from cpython.tuple cimport PyTuple_GET_ITEM
from cpython.mem cimport PyMem_Free, PyMem_Malloc, PyMem_Realloc
from cpython.ref cimport Py_INCREF, PyObject, Py_XDECREF
from cpython.memoryview cimport PyMemoryView_FromMemory
from cpython.unicode cimport PyUnicode_AsUTF8AndSize, PyUnicode_DecodeUTF8
from libc.stdint cimport int16_t, int32_t, int64_t, uint16_t, uint32_t, uint64_t
from libc.string cimport memcpy

from kafkaio._speedups._bigendian cimport _get16, _get32, _get64, _put16, _put32, _put64
from kafkaio._speedups._varint cimport (read_varint32, read_varint64, uvarint_size, write_uvarint, zigzag32,
                                        zigzag64)

from kafkaio.records import legacy as _legacy
from kafkaio.records._errors import CorruptRecordError
from kafkaio.records.codecs import check_level, compress as _compress, decompress as _decompress
from kafkaio.records.control import control_type_of as _control_type_of
from kafkaio.records.enums import Compression, TimestampType

cdef enum:
    HEADER_SIZE = 61
    LOG_OVERHEAD = 12
    MIN_RECORD_SIZE = 7
    INT32_MAX = 2147483647

# C-level references: module globals would cost a dict lookup per record.
cdef object _TS_CREATE = TimestampType.CREATE_TIME
cdef object _TS_APPEND = TimestampType.LOG_APPEND_TIME
cdef tuple _CODECS = tuple(Compression)
# The crc32c package, imported on first use: the compiled CRC path below needs it only on CPUs
# without the CRC32 instruction, and importing it costs tens of milliseconds (it reads its own
# package metadata) in every process that imports kafkaio.
cdef object _crc32c = None
cdef object _CorruptRecordError = CorruptRecordError

HEADER_SIZE_BYTES = HEADER_SIZE


# CRC-32C by carry-less multiplication (the folding method of Intel's white paper "Fast CRC
# Computation for Generic Polynomials Using PCLMULQDQ"), used when the CPU has PCLMULQDQ and SSE4.2.
# The crc32c package drives the CRC32 instruction, one 8-byte step at a time per stream; on some CPUs
# (AMD Zen 1: one CRC32 every 3 cycles) that ran at ~3 GB/s and was half of the per-record decode
# time, on top of a ~200 ns Python call per batch. Folding four 16-byte lanes with PCLMULQDQ does not
# depend on CRC32's throughput. The constants are x^n mod P for the Castagnoli polynomial, bit-reflected
# (tests/unit/records/test_records_crc.py derives them again from the polynomial and checks this
# function against the crc32c package byte for byte); tails shorter than 16 bytes and inputs shorter
# than 64 go through the CRC32 instruction. Other CPUs and compilers keep using the crc32c package.
cdef extern from *:
    """
    #if (defined(__GNUC__) || defined(__clang__)) && defined(__x86_64__)
    #include <immintrin.h>
    #define KAFKAIO_CLMUL_CRC 1
    #define KAFKAIO_CRC_TARGET __attribute__((target("sse4.2,pclmul")))

    /* one folding step: lane * (x^(d+64), x^d) mod P, plus the next 16 bytes of data */
    KAFKAIO_CRC_TARGET static inline __m128i kafkaio_fold16(__m128i lane, __m128i k, __m128i next) {
        __m128i lo = _mm_clmulepi64_si128(lane, k, 0x00);
        __m128i hi = _mm_clmulepi64_si128(lane, k, 0x11);
        return _mm_xor_si128(_mm_xor_si128(lo, hi), next);
    }

    /* CRC state over n >= 64 bytes, n a multiple of 16 (state in and out not inverted here) */
    KAFKAIO_CRC_TARGET static uint32_t kafkaio_crc32c_fold(uint32_t state, const unsigned char* p, size_t n) {
        const __m128i k_by4 = _mm_set_epi64x(0x9e4addf8, 0x740eef02);    /* x^(512-32), x^(512+32) */
        const __m128i k_by1 = _mm_set_epi64x(0x14cd00bd6, 0xf20c0dfe);   /* x^(128-32), x^(128+32) */
        const __m128i k_64 = _mm_set_epi64x(0, 0xdd45aab8);              /* x^64 */
        const __m128i barrett = _mm_set_epi64x(0xdea713f1, 0x105ec76f1); /* floor(x^64 / P), P */
        const __m128i low32 = _mm_set_epi32(0, -1, 0, -1);
        __m128i a = _mm_xor_si128(_mm_loadu_si128((const __m128i*)p), _mm_cvtsi32_si128((int)state));
        __m128i b = _mm_loadu_si128((const __m128i*)(p + 16));
        __m128i c = _mm_loadu_si128((const __m128i*)(p + 32));
        __m128i d = _mm_loadu_si128((const __m128i*)(p + 48));
        __m128i t;
        p += 64;
        n -= 64;
        while (n >= 64) {
            a = kafkaio_fold16(a, k_by4, _mm_loadu_si128((const __m128i*)p));
            b = kafkaio_fold16(b, k_by4, _mm_loadu_si128((const __m128i*)(p + 16)));
            c = kafkaio_fold16(c, k_by4, _mm_loadu_si128((const __m128i*)(p + 32)));
            d = kafkaio_fold16(d, k_by4, _mm_loadu_si128((const __m128i*)(p + 48)));
            p += 64;
            n -= 64;
        }
        a = kafkaio_fold16(a, k_by1, b);
        a = kafkaio_fold16(a, k_by1, c);
        a = kafkaio_fold16(a, k_by1, d);
        for (; n >= 16; n -= 16, p += 16)
            a = kafkaio_fold16(a, k_by1, _mm_loadu_si128((const __m128i*)p));
        /* 128 -> 64 bits, then 64 -> 32 bits of remainder, then Barrett reduction */
        a = _mm_xor_si128(_mm_srli_si128(a, 8), _mm_clmulepi64_si128(a, k_by1, 0x10));
        a = _mm_xor_si128(_mm_srli_si128(a, 4), _mm_clmulepi64_si128(_mm_and_si128(a, low32), k_64, 0x00));
        t = _mm_and_si128(_mm_clmulepi64_si128(_mm_and_si128(a, low32), barrett, 0x10), low32);
        a = _mm_xor_si128(a, _mm_clmulepi64_si128(t, barrett, 0x00));
        return (uint32_t)_mm_extract_epi32(a, 1);
    }

    KAFKAIO_CRC_TARGET static uint32_t kafkaio_crc32c_hw(const unsigned char* p, size_t n) {
        uint32_t state = 0xFFFFFFFFu;
        uint64_t s64;
        if (n >= 64) {
            size_t bulk = n & ~(size_t)15;
            state = kafkaio_crc32c_fold(state, p, bulk);
            p += bulk;
            n -= bulk;
        }
        s64 = state;
        for (; n >= 8; n -= 8, p += 8) {
            uint64_t w;
            memcpy(&w, p, 8);
            s64 = _mm_crc32_u64(s64, w);
        }
        state = (uint32_t)s64;
        for (; n > 0; n--, p++)
            state = _mm_crc32_u8(state, *p);
        return ~state;
    }

    static int kafkaio_crc32c_hw_usable(void) {
        __builtin_cpu_init();
        return __builtin_cpu_supports("sse4.2") && __builtin_cpu_supports("pclmul");
    }
    #else
    static uint32_t kafkaio_crc32c_hw(const unsigned char* p, size_t n) { (void)p; (void)n; return 0; }
    static int kafkaio_crc32c_hw_usable(void) { return 0; }  /* never the compiled path: use the package */
    #endif
    """
    uint32_t _crc32c_hw "kafkaio_crc32c_hw"(const unsigned char* p, size_t n) noexcept nogil
    bint _crc32c_hw_usable "kafkaio_crc32c_hw_usable"() noexcept

cdef bint _crc_hw = _crc32c_hw_usable()
_CRC32C_HARDWARE = _crc_hw  # which path _crc_of takes (for the tests)


cdef uint32_t _crc_of(const unsigned char* p, Py_ssize_t n) except? 0xFFFFFFFF:
    if _crc_hw:
        if n < 65536:
            return _crc32c_hw(p, <size_t>n)
        with nogil:  # like the package: let other threads run during a long checksum
            return _crc32c_hw(p, <size_t>n)
    # the crc32c package (hardware CRC, GIL released on large buffers) over a zero-copy view
    global _crc32c
    if _crc32c is None:
        from crc32c import crc32c as package_crc32c  # checksums_py.crc32c without its Python frame
        _crc32c = package_crc32c
    return _crc32c(PyMemoryView_FromMemory(<char*>p, n, PyBUF_READ))


def _crc32c_of(data):
    """CRC-32C of a bytes-like object, computed the way the batch code does (for the tests)."""
    cdef Py_buffer view
    PyObject_GetBuffer(data, &view, PyBUF_SIMPLE)
    try:
        return _crc_of(<const unsigned char*>view.buf, view.len)
    finally:
        PyBuffer_Release(&view)


# Record fields are short (keys of a few bytes, values of tens to hundreds). A call into libc's memcpy
# for each took about 10% of the encoder's time on the benchmark's records (perf: two calls per
# record, each a PLT jump, a size dispatch and AVX moves). Up to 128 bytes the copy is inlined instead:
# two overlapping moves of a fixed size picked by the length (1, 4, 8, 16, 32 or 64 bytes each), which
# stay inside [d, d + n) and [s, s + n); longer fields go to memcpy. The fixed-size memcpy calls below
# compile to plain loads and stores. Always inlined: GCC otherwise moved it, and the functions using
# it, out of line, leaving a call per field again.
cdef extern from *:
    """
    #if defined(__GNUC__) || defined(__clang__)
    #define KAFKAIO_ALWAYS_INLINE inline __attribute__((always_inline))
    #else
    #define KAFKAIO_ALWAYS_INLINE inline
    #endif
    static KAFKAIO_ALWAYS_INLINE void kafkaio_copy(void* dst, const void* src, size_t n) {
        unsigned char* d = (unsigned char*)dst;
        const unsigned char* s = (const unsigned char*)src;
        if (n <= 16) {
            if (n >= 8) {
                uint64_t a, b;
                memcpy(&a, s, 8); memcpy(&b, s + n - 8, 8);
                memcpy(d, &a, 8); memcpy(d + n - 8, &b, 8);
            } else if (n >= 4) {
                uint32_t a, b;
                memcpy(&a, s, 4); memcpy(&b, s + n - 4, 4);
                memcpy(d, &a, 4); memcpy(d + n - 4, &b, 4);
            } else if (n > 0) {
                unsigned char a = s[0], b = s[n / 2], c = s[n - 1];
                d[0] = a; d[n / 2] = b; d[n - 1] = c;
            }
        } else if (n <= 32) {
            unsigned char a[16], b[16];
            memcpy(a, s, 16); memcpy(b, s + n - 16, 16);
            memcpy(d, a, 16); memcpy(d + n - 16, b, 16);
        } else if (n <= 64) {
            unsigned char a[32], b[32];
            memcpy(a, s, 32); memcpy(b, s + n - 32, 32);
            memcpy(d, a, 32); memcpy(d + n - 32, b, 32);
        } else if (n <= 128) {
            unsigned char a[64], b[64];
            memcpy(a, s, 64); memcpy(b, s + n - 64, 64);
            memcpy(d, a, 64); memcpy(d + n - 64, b, 64);
        } else {
            memcpy(d, s, n);
        }
    }
    """
    void _copy "kafkaio_copy"(void* dst, const void* src, size_t n) noexcept nogil


# How the reader makes objects: bytes in place and records from a pool (below), on the CPython builds
# whose object layout this matches. An object gets its header as _Py_NewReference gives it there:
#   KAFKAIO_OBJECTS_DIRECT (3.11, 3.12) and KAFKAIO_OBJECTS_TRACED (3.13): a reference count of 1
#       stored directly, all it does on a release build unless something observes new objects; when
#       something does, through PyObject_Init (public API), which tells it. The observer is tracemalloc
#       on 3.11 and 3.12 (it follows a reused block to its new object), and from 3.13 any reference
#       tracer (PyRefTracer_SetTracer; tracemalloc installs one), which is also told of every object's
#       destruction, so it must see each creation, a pooled record's reuse included. PyObject_Init for
#       every object cost about 70 of the ~840 instructions per record on 3.13. The reader asks once
#       per batch (kafkaio_ref_traced), which is exact: the decoding loop runs no Python code that
#       could start an observer (no bytecode: from 3.12 even a collection its allocations trigger waits
#       for the eval loop; on 3.11 one could run inside a record with headers, and would at worst leave
#       a few objects of that batch untold to a tracemalloc started by a finaliser);
#   KAFKAIO_OBJECTS_INIT (3.14): PyObject_Init always, since 3.14 changed the reference count's
#       layout (count, flags) and only that function is sure to know the newer ones.
# Other builds (PyPy, the limited API, free-threaded, debug builds with reference tracing or counting,
# versions after 3.14) take the public functions only: records through Cython's own allocation, bytes
# through PyBytes_FromStringAndSize.
cdef extern from *:
    """
    #if !defined(PYPY_VERSION) && !defined(Py_LIMITED_API) && !defined(Py_TRACE_REFS) && \
        !defined(Py_REF_DEBUG) && !defined(Py_GIL_DISABLED)
    #if PY_VERSION_HEX >= 0x030B0000 && PY_VERSION_HEX < 0x030D0000
    #define KAFKAIO_OBJECTS_DIRECT 1
    #elif PY_VERSION_HEX >= 0x030D0000 && PY_VERSION_HEX < 0x030E0000
    #define KAFKAIO_OBJECTS_TRACED 1
    #elif PY_VERSION_HEX >= 0x030E0000 && PY_VERSION_HEX < 0x030F0000
    #define KAFKAIO_OBJECTS_INIT 1
    #endif
    #endif
    #if defined(KAFKAIO_OBJECTS_DIRECT) || defined(KAFKAIO_OBJECTS_TRACED) || defined(KAFKAIO_OBJECTS_INIT)
    #define KAFKAIO_FAST_OBJECTS 1
    #else
    #define KAFKAIO_FAST_OBJECTS 0
    #endif
    /* Whether objects must be made through PyObject_Init, for an observer of new objects. */
    #if defined(KAFKAIO_OBJECTS_TRACED)
    static inline int kafkaio_ref_traced(void) {
        void* data;
        return PyRefTracer_GetTracer(&data) != NULL;
    }
    #elif defined(KAFKAIO_OBJECTS_DIRECT)
    static inline int kafkaio_ref_traced(void) {
        /* tracemalloc, told of new objects there: untracking the null pointer, never a block, returns
           -2 exactly when it is not tracing (the public way to ask) */
        return PyTraceMalloc_Untrack(0, 0) != -2;
    }
    #else
    static inline int kafkaio_ref_traced(void) { return 0; }
    #endif
    #if KAFKAIO_FAST_OBJECTS
    /* Make op, whose type (a static one: no reference to take) is set, a new object with one
       reference. traced: kafkaio_ref_traced() of the caller's batch. */
    static KAFKAIO_ALWAYS_INLINE void kafkaio_new_object(PyObject* op, int traced) {
    #if defined(KAFKAIO_OBJECTS_DIRECT) || defined(KAFKAIO_OBJECTS_TRACED)
        if (traced)
            (void)PyObject_Init(op, Py_TYPE(op));  /* cannot fail */
        else
            op->ob_refcnt = 1;  /* not Py_SET_REFCNT: from 3.12 it reads the count, fresh memory here */
    #else
        (void)traced;
        (void)PyObject_Init(op, Py_TYPE(op));
    #endif
    }
    #endif
    """
    bint _FAST_OBJECTS_C "KAFKAIO_FAST_OBJECTS"
    bint _ref_traced "kafkaio_ref_traced"() noexcept


# A bytes object made in place: PyBytes_FromStringAndSize spends more on its generic path (size
# checks, an out-of-line header initialisation and reference bookkeeping) than on copying a 100-byte
# value, and the reader makes two per record. It does what bytesobject.c does for a new object (memory
# from PyObject_Malloc, the header, the hash marked as not computed, the trailing NUL) with the header
# made as above; the shared empty and one-byte objects, and the builds without KAFKAIO_FAST_OBJECTS,
# go through the public function.
cdef extern from *:
    """
    #if KAFKAIO_FAST_OBJECTS
    static KAFKAIO_ALWAYS_INLINE PyObject* kafkaio_bytes(const char* data, Py_ssize_t n, int traced) {
        PyBytesObject* op;
        if (n < 2 || n > PY_SSIZE_T_MAX - (Py_ssize_t)offsetof(PyBytesObject, ob_sval) - 1)
            return PyBytes_FromStringAndSize(data, n);
        op = (PyBytesObject*)PyObject_Malloc(offsetof(PyBytesObject, ob_sval) + (size_t)n + 1);
        if (op == NULL)
            return PyErr_NoMemory();
        Py_SET_TYPE((PyObject*)op, &PyBytes_Type);
        kafkaio_new_object((PyObject*)op, traced);
        Py_SET_SIZE(op, n);
        _Py_COMP_DIAG_PUSH
        _Py_COMP_DIAG_IGNORE_DEPR_DECLS
        op->ob_shash = -1;  /* hash not computed yet */
        _Py_COMP_DIAG_POP
        kafkaio_copy(PyBytes_AS_STRING(op), data, (size_t)n);
        PyBytes_AS_STRING(op)[n] = 0;
        return (PyObject*)op;
    }
    #else
    #define kafkaio_bytes(data, n, traced) PyBytes_FromStringAndSize((data), (n))
    #endif
    /* A record field: its bytes, or None for length -1; a new reference, NULL with MemoryError set.
       Always inlined: GCC kept it out of line on 3.13, a call per field. */
    static KAFKAIO_ALWAYS_INLINE PyObject* kafkaio_bytes_or_none(const unsigned char* p, int32_t n,
                                                                 int traced) {
        if (n >= 0)
            return kafkaio_bytes((const char*)p, n, traced);
        Py_INCREF(Py_None);
        return Py_None;
    }
    """
    PyObject* _bytes_or_none "kafkaio_bytes_or_none"(const unsigned char* p, int32_t n, bint traced) noexcept  # NULL: error set


cdef inline object _corrupt(str message):
    return _CorruptRecordError(message)


# ---- ConsumerRecord -----------------------------------------------------------------------------

# A pool of freed records for the reader to reuse. Cython's own free list re-zeroes a reused record,
# re-initialises its header out of line and points every field at None before the reader overwrites
# them; the pool instead keeps the freed memory as it is (type set, object fields cleared to NULL by
# dealloc) and the reader fills the fields once. It is the type's tp_free, so it sees every record
# freed whoever made it, and takes only exact ConsumerRecords (a subclass has another size). A reused
# record gets its header as a new object does (KAFKAIO_OBJECTS_DIRECT or _INIT above): to a reference
# tracer it is destroyed when freed and created again when reused, as CPython's own free lists do.
# It is installed only where KAFKAIO_FAST_OBJECTS is set and only for a static, non-GC type;
# otherwise records are made and freed the ordinary way.
cdef extern from *:
    """
    #define KAFKAIO_RECORD struct __pyx_obj_7kafkaio_9_speedups_8_records_ConsumerRecord
    #define KAFKAIO_RECORD_POOL_SIZE 1024
    static PyTypeObject* kafkaio_record_type = NULL;
    #if KAFKAIO_FAST_OBJECTS
    static PyObject* kafkaio_record_pool[KAFKAIO_RECORD_POOL_SIZE];
    static int kafkaio_record_pool_n = 0;
    static void kafkaio_record_free(void* p) {
        if (Py_TYPE((PyObject*)p) == kafkaio_record_type && kafkaio_record_pool_n < KAFKAIO_RECORD_POOL_SIZE)
            kafkaio_record_pool[kafkaio_record_pool_n++] = (PyObject*)p;
        else
            PyObject_Free(p);
    }
    static int kafkaio_record_pool_install(PyObject* type) {
        PyTypeObject* t = (PyTypeObject*)type;
        if (t->tp_flags & (Py_TPFLAGS_HEAPTYPE | Py_TPFLAGS_HAVE_GC)) return 0;
        if (t->tp_free != PyObject_Del || t->tp_alloc != PyType_GenericAlloc) return 0;
        kafkaio_record_type = t;
        t->tp_free = kafkaio_record_free;
        return 1;
    }
    /* A record whose object fields are all NULL: from the pool, else freshly allocated (zeroed). */
    static inline PyObject* kafkaio_record_alloc(int traced) {
        PyObject* o;
        if (kafkaio_record_pool_n > 0) {
            o = kafkaio_record_pool[--kafkaio_record_pool_n];
            kafkaio_new_object(o, traced);  /* its type is still set */
            return o;
        }
        return PyType_GenericAlloc(kafkaio_record_type, 0);
    }
    #else
    static int kafkaio_record_pool_install(PyObject* type) { (void)type; return 0; }
    static inline PyObject* kafkaio_record_alloc(int traced) { return PyErr_NoMemory(); }  /* never called */
    #endif
    /* Fill every field of a record from kafkaio_record_alloc (a macro: the struct comes later). Takes
       over the references to key_ and value_ (new bytes or a new reference to None); the others are
       borrowed. */
    static inline int kafkaio_propagate(void) { return -1; }
    #define kafkaio_record_fill(o, topic_, ts_type_, key_, value_, headers_, partition_, offset_, ts_, epoch_) \
    do { \
        KAFKAIO_RECORD* r_ = (KAFKAIO_RECORD*)(o); \
        Py_INCREF(topic_); r_->topic = (topic_); \
        Py_INCREF(ts_type_); r_->timestamp_type = (ts_type_); \
        r_->key = (key_); \
        r_->value = (value_); \
        Py_INCREF(headers_); r_->_headers = (headers_); \
        r_->partition = (partition_); \
        r_->offset = (offset_); \
        r_->timestamp = (ts_); \
        r_->leader_epoch = (epoch_); \
    } while (0)
    """
    int kafkaio_record_pool_install(object type) except -1


# Not tracked by the cyclic GC: records are made by the hundred thousand and hold only bytes, str
# and ints when made; a cycle would need a deserializer to store the record inside its own value.
@cython.no_gc
cdef class ConsumerRecord:
    """One record as the consumer hands it out; attributes are writable (deserializers replace them)."""

    cdef public str topic
    cdef public int partition
    cdef public int64_t offset
    cdef public int64_t timestamp
    cdef public object timestamp_type
    cdef public object key
    cdef public object value
    cdef object _headers
    cdef public int leader_epoch

    def __init__(self, str topic, int partition, int64_t offset, int64_t timestamp, timestamp_type,
                 key, value, headers, int leader_epoch=-1):
        self.topic = topic
        self.partition = partition
        self.offset = offset
        self.timestamp = timestamp
        self.timestamp_type = timestamp_type
        self.key = key
        self.value = value
        self._headers = headers
        self.leader_epoch = leader_epoch

    @property
    def headers(self):
        """``list[tuple[str, bytes | None]]`` (made on first access when the record has none)."""
        if self._headers is None:
            self._headers = []
        return self._headers

    @headers.setter
    def headers(self, value):
        self._headers = value

    def __reduce__(self):
        return (ConsumerRecord, (self.topic, self.partition, self.offset, self.timestamp, self.timestamp_type,
                                 self.key, self.value, self.headers, self.leader_epoch))

    def __repr__(self):
        return (f"ConsumerRecord(topic={self.topic!r}, partition={self.partition}, offset={self.offset}, "
                f"timestamp={self.timestamp}, timestamp_type={self.timestamp_type!r}, key={self.key!r}, "
                f"value={self.value!r}, headers={self.headers!r}, leader_epoch={self.leader_epoch})")


cdef extern from *:
    PyObject* kafkaio_record_alloc(bint traced)  # a new reference, NULL on error (the C code is above)
    void kafkaio_record_fill(PyObject* rec, str topic, object ts_type, PyObject* key, PyObject* value,
                             PyObject* headers, int partition, int64_t offset, int64_t timestamp, int epoch)
    int _propagate "kafkaio_propagate"() except -1  # raises the exception already set
    void _list_set_stolen "PyList_SET_ITEM"(object lst, Py_ssize_t i, PyObject* item)

cdef bint _record_pool = kafkaio_record_pool_install(ConsumerRecord)
_FAST_OBJECTS = (bool(_FAST_OBJECTS_C), bool(_record_pool))  # (bytes in place, record pool): for the tests

# append()'s return values (offset deltas) for the usual batch sizes, made once: PyLong_FromLong's
# generic path cost as much as the rest of the bookkeeping of an append.
cdef enum:
    _DELTAS_CACHED = 4096
cdef tuple _DELTAS = tuple(range(_DELTAS_CACHED))


# ---- builder ------------------------------------------------------------------------------------

cdef bytes _as_bytes(object data, str what):
    try:
        return memoryview(data).tobytes()
    except TypeError:
        raise TypeError(f"record {what} must be bytes-like or None, not {type(data).__name__}") from None


cdef inline Py_ssize_t _field_size(Py_ssize_t n) noexcept:
    # a varint length (-1 for null: one byte) plus the bytes
    if n < 0:
        return 1
    return uvarint_size(zigzag32(<int32_t>n)) + n


cdef inline unsigned char* _put_field(unsigned char* p, const char* data, Py_ssize_t n) noexcept:
    if n < 0:
        p[0] = 1  # zigzag(-1)
        return p + 1
    p = write_uvarint(p, zigzag32(<int32_t>n))
    _copy(p, data, <size_t>n)
    return p + n


cdef bint _plain_headers(object headers):
    # a list or tuple of (str, bytes | None) tuples: written as it is, without a normalized copy
    if type(headers) is not list and type(headers) is not tuple:
        return False
    for pair in headers:
        if type(pair) is not tuple or len(<tuple>pair) != 2 or type((<tuple>pair)[0]) is not str:
            return False
        hvalue = (<tuple>pair)[1]
        if hvalue is not None and not PyBytes_CheckExact(hvalue):
            return False
    return True


cdef list _normalize_headers(object headers):
    """[(str key, bytes | None value)], type-checked; keys are encoded later through the str's cache."""
    cdef list out = []
    for item in headers:
        hkey, hvalue = item
        if type(hkey) is not str:
            raise TypeError(f"header keys must be str, not {type(hkey).__name__}")
        if hvalue is not None and not PyBytes_CheckExact(hvalue):
            hvalue = _as_bytes(hvalue, "header value")
        out.append((hkey, hvalue))
    return out


cdef extern from *:
    """
    /* a bytes object of n bytes (n >= 2, so never a shared one), not yet filled */
    static PyObject* kafkaio_store_new(Py_ssize_t n) { return PyBytes_FromStringAndSize(NULL, n); }
    """
    PyObject* _store_new "kafkaio_store_new"(Py_ssize_t n) noexcept  # NULL: MemoryError set
    bint _is_bytes "PyBytes_CheckExact"(PyObject* o) noexcept
    char* _bytes_data "PyBytes_AS_STRING"(PyObject* o) noexcept
    Py_ssize_t _bytes_size "PyBytes_GET_SIZE"(PyObject* o) noexcept
    int _PyBytes_Resize(PyObject** obj, Py_ssize_t n) noexcept  # -1: the object freed, error set


cdef enum:
    _HANDOFF_MAX = 1 << 16  # the largest buffer build() hands out as the batch itself


@cython.final  # direct (inlinable) calls of its cdef methods instead of calls through a vtable
cdef class BatchBuilder:
    """Appends records into one growing buffer and turns them into a record batch v2.

    With a batch_size up to 64 KiB the buffer is the inside of a private bytes object: an uncompressed
    batch is finished in place (header written, object shrunk to size) and handed out without a copy. An append after build()
    first copies the records back into a new buffer, as the handed-out bytes must never change.
    """

    cdef PyObject* _store  # the bytes object owning _buf (up to 64 KiB), else NULL: _buf is PyMem
                           # memory, or NULL too while build() has handed the buffer out
    cdef unsigned char* _buf
    cdef Py_ssize_t _len
    cdef Py_ssize_t _cap
    cdef int _codec
    cdef object _level
    cdef Py_ssize_t _batch_size
    cdef bint _transactional
    cdef int32_t _count
    cdef int64_t _base_ts
    cdef int64_t _max_ts
    cdef object _built
    cdef int64_t _built_pid
    cdef int _built_epoch
    cdef int32_t _built_seq

    def __cinit__(self):
        self._store = NULL
        self._buf = NULL

    def __init__(self, compression=Compression.NONE, Py_ssize_t batch_size=16384, compression_level=None,
                 transactional=False, magic=2):
        if magic != 2:
            raise ValueError(f"only record batch magic 2 can be written, not {magic}")
        if compression not in (0, 1, 2, 3, 4):
            raise ValueError(f"unknown compression codec {compression!r}")
        if compression_level is not None:  # (None always passes: skip the Python call per batch)
            check_level(compression, compression_level)
        self._codec = compression
        self._level = compression_level
        self._batch_size = batch_size
        self._transactional = bool(transactional)
        self._len = HEADER_SIZE
        self._count = 0
        self._release()
        self._new_store(min(max(batch_size, 1024), 1 << 20), 0)
        self._base_ts = 0
        self._max_ts = -1
        self._built = None

    def __dealloc__(self):
        self._release()

    cdef void _release(self) noexcept:
        if self._store != NULL:
            Py_XDECREF(self._store)
            self._store = NULL
        elif self._buf != NULL:
            PyMem_Free(self._buf)
        self._buf = NULL

    cdef int _new_store(self, Py_ssize_t cap, Py_ssize_t keep) except -1:
        # A fresh buffer of cap bytes starting with the first keep bytes of the current one. Up to
        # 64 KiB (batch_size up to 64 KiB, the producer's default is 16 KiB) it is a bytes object
        # that build() can hand out: glibc serves it from its heap and build()'s shrink splits it in
        # place. Larger ones are plain memory, copied out at build() as before. Handing out large
        # ones too was tried and was slower for full large batches (1 MiB: 190 -> 250-360 ns per
        # record): a shrunk, freed mapping left glibc's mmap threshold below the next buffer's size
        # (map, fault in, remap, unmap per batch), and starting small then growing made the heap
        # trim and regrow per batch; both are glibc heuristics that the plain buffer stays clear of.
        cdef PyObject* store = NULL
        cdef unsigned char* buf
        if cap <= _HANDOFF_MAX:
            store = _store_new(cap)
            if store == NULL:
                _propagate()
            buf = <unsigned char*>PyBytes_AS_STRING(<object>store)
        else:
            buf = <unsigned char*>PyMem_Malloc(cap)
            if buf == NULL:
                raise MemoryError()
        if keep:
            memcpy(buf, self._buf, keep)
        self._release()
        self._store = store
        self._buf = buf
        self._cap = cap
        return 0

    cdef int _take_back(self) except -1:
        # after build() handed the buffer out: a new one holding the same records (from the batch,
        # whose records section is the buffer's, whatever producer state was written since)
        self._new_store(self._cap, 0)
        memcpy(self._buf + HEADER_SIZE, PyBytes_AS_STRING(self._built) + HEADER_SIZE, self._len - HEADER_SIZE)
        return 0

    @property
    def record_count(self):
        """Number of records appended so far."""
        return self._count

    def estimated_size(self):
        """Size of the batch so far, before compression (what ``batch_size`` is compared with)."""
        return self._len

    cdef int _reserve(self, Py_ssize_t extra) except -1:
        cdef Py_ssize_t cap = self._cap
        if self._len + extra <= cap:
            return 0
        while cap < self._len + extra:
            cap *= 2
        return self._new_store(cap, self._len)

    cdef inline Py_ssize_t append_plain(self, int64_t timestamp_ms, PyObject* key, PyObject* value) noexcept:
        """append() of the usual record: no headers, key and value exact bytes or None, room in the
        buffer. Returns its offset delta, -1 when the batch is full, or -2 when append()'s general
        path must handle it (other types, a bad timestamp, a buffer to grow or to take back from
        build()); -2 changes nothing. Reached through _append_entry (append's C entry)."""
        # Every step is C: borrowed pointers, no reference counting, no exception. The general path
        # below costs about 250 more instructions per record, half of them argument and reference
        # bookkeeping (measured with callgrind, see benchmarks/records.py). Its record writer is a
        # near-copy of _append's on purpose: one writer shared by both (with the header loop, the
        # buffer growth and an exception return) costs 4-6% more instructions per appended record.
        cdef Py_ssize_t kn = -1, vn = -1, body, total
        cdef Py_ssize_t length = self._len
        cdef int32_t count = self._count
        cdef const char* kp = NULL
        cdef const char* vp = NULL
        cdef int64_t base
        cdef uint64_t ts_zz
        cdef unsigned char* p
        if key != <PyObject*>None:
            if not _is_bytes(key):
                return -2
            kp = _bytes_data(key)
            kn = _bytes_size(key)
        if value != <PyObject*>None:
            if not _is_bytes(value):
                return -2
            vp = _bytes_data(value)
            vn = _bytes_size(value)
        if timestamp_ms < -1 or count == INT32_MAX or self._buf == NULL or kn > INT32_MAX or vn > INT32_MAX:
            return -2
        base = timestamp_ms if count == 0 else self._base_ts
        ts_zz = zigzag64(<int64_t>(<uint64_t>timestamp_ms - <uint64_t>base))
        body = 2 + uvarint_size(ts_zz) + uvarint_size(zigzag32(count)) + _field_size(kn) + _field_size(vn)
        if body > INT32_MAX:
            return -2
        total = uvarint_size(zigzag32(<int32_t>body)) + body
        if count > 0 and length + total > self._batch_size:
            return -1
        if length + total > self._cap:
            return -2
        p = self._buf + length
        p = write_uvarint(p, zigzag32(<int32_t>body))
        p[0] = 0  # record attributes
        p = write_uvarint(p + 1, ts_zz)
        p = write_uvarint(p, zigzag32(count))
        # the fields written here rather than by _put_field: with the inlined copy inside, GCC made
        # _put_field a function of its own, a call per field
        if kn < 0:
            p[0] = 1  # zigzag(-1): null
            p += 1
        else:
            p = write_uvarint(p, zigzag32(<int32_t>kn))
            _copy(p, kp, <size_t>kn)
            p += kn
        if vn < 0:
            p[0] = 1
            p += 1
        else:
            p = write_uvarint(p, zigzag32(<int32_t>vn))
            _copy(p, vp, <size_t>vn)
            p += vn
        p[0] = 0  # no headers
        self._len = length + total
        self._base_ts = base
        if timestamp_ms > self._max_ts:
            self._max_ts = timestamp_ms
        if self._built is not None:
            self._built = None
        self._count = count + 1
        return count

    def append(self, timestamp_ms, key, value, headers=None):
        """Append a record; its offset delta, or -1 when it does not fit (the first record always fits)."""
        # the usual call reaches append_plain() through _append_entry (below) and never gets here
        if not isinstance(timestamp_ms, int):  # (an int64_t parameter would truncate a float)
            raise TypeError(f"record timestamp must be an int, not {type(timestamp_ms).__name__}")
        return self._append(timestamp_ms, key, value, headers)

    cdef object _append(self, int64_t timestamp_ms, key, value, headers):
        cdef const char* kp = NULL
        cdef const char* vp = NULL
        cdef const char* hp
        cdef Py_ssize_t kn = -1, vn = -1, hn, body, total, headers_size = 0
        cdef int64_t base
        cdef uint64_t ts_zz
        cdef unsigned char* p
        cdef object hlist = None  # the headers as (str, bytes | None) tuples
        if timestamp_ms < -1:
            raise ValueError(f"invalid negative timestamp {timestamp_ms}")
        if self._count == INT32_MAX:
            return -1
        if key is not None:
            if not PyBytes_CheckExact(key):
                key = _as_bytes(key, "key")
            kp = PyBytes_AS_STRING(key)
            kn = PyBytes_GET_SIZE(key)
        if value is not None:
            if not PyBytes_CheckExact(value):
                value = _as_bytes(value, "value")
            vp = PyBytes_AS_STRING(value)
            vn = PyBytes_GET_SIZE(value)
        if headers:
            hlist = headers if _plain_headers(headers) else _normalize_headers(headers)
            headers_size = uvarint_size(zigzag32(<int32_t>len(hlist)))
            for pair in hlist:
                hvalue = (<tuple>pair)[1]
                PyUnicode_AsUTF8AndSize((<tuple>pair)[0], &hn)
                headers_size += _field_size(hn)
                headers_size += _field_size(-1 if hvalue is None else PyBytes_GET_SIZE(hvalue))
        else:
            headers_size = 1
        if kn > INT32_MAX or vn > INT32_MAX or headers_size > INT32_MAX:
            raise ValueError("record field larger than 2 GiB")
        base = timestamp_ms if self._count == 0 else self._base_ts
        ts_zz = zigzag64(<int64_t>(<uint64_t>timestamp_ms - <uint64_t>base))
        body = (1 + uvarint_size(ts_zz) + uvarint_size(zigzag32(self._count)) + _field_size(kn)
                + _field_size(vn) + headers_size)
        if body > INT32_MAX:
            raise ValueError("record larger than 2 GiB")
        total = uvarint_size(zigzag32(<int32_t>body)) + body
        if self._count > 0 and self._len + total > self._batch_size:
            return -1
        if self._buf == NULL:
            self._take_back()
        if self._len + total > self._cap:
            self._reserve(total)
        p = self._buf + self._len
        p = write_uvarint(p, zigzag32(<int32_t>body))
        p[0] = 0  # record attributes
        p = write_uvarint(p + 1, ts_zz)
        p = write_uvarint(p, zigzag32(self._count))
        p = _put_field(p, kp, kn)
        p = _put_field(p, vp, vn)
        if hlist is None:
            p[0] = 0
            p += 1
        else:
            p = write_uvarint(p, zigzag32(<int32_t>len(hlist)))
            for pair in hlist:
                hvalue = (<tuple>pair)[1]
                hp = PyUnicode_AsUTF8AndSize((<tuple>pair)[0], &hn)
                p = _put_field(p, hp, hn)
                if hvalue is None:
                    p = _put_field(p, NULL, -1)
                else:
                    p = _put_field(p, PyBytes_AS_STRING(hvalue), PyBytes_GET_SIZE(hvalue))
        self._len += total
        self._base_ts = base
        if timestamp_ms > self._max_ts:
            self._max_ts = timestamp_ms
        if self._built is not None:
            self._built = None
        self._count += 1
        if self._count <= _DELTAS_CACHED:
            return <object>PyTuple_GET_ITEM(_DELTAS, self._count - 1)  # Cython takes the reference
        return self._count - 1

    cdef bytes _finish(self):
        cdef Py_ssize_t n = self._len - HEADER_SIZE
        cdef bytes out
        cdef unsigned char* o
        cdef PyObject* store
        if self._codec == 0 and self._store == NULL:
            # a large buffer (see _new_store) is copied out and stays the builder's
            out = PyBytes_FromStringAndSize(NULL, self._len)
            o = <unsigned char*>PyBytes_AS_STRING(out)
            memcpy(o + HEADER_SIZE, self._buf + HEADER_SIZE, n)
        elif self._codec == 0:
            # the buffer becomes the batch: shrink it to size and hand it out (no copy)
            store = self._store
            self._store = NULL
            self._buf = NULL
            if _PyBytes_Resize(&store, self._len) < 0:  # only when out of memory; it freed the buffer
                self._len = HEADER_SIZE
                self._count = 0
                self._new_store(self._cap, 0)
                _propagate()
            out = <bytes>store
            Py_XDECREF(store)
            o = <unsigned char*>PyBytes_AS_STRING(out)
        else:
            payload = _compress(self._codec, PyMemoryView_FromMemory(<char*>self._buf + HEADER_SIZE, n, PyBUF_READ),
                                self._level)
            if not PyBytes_CheckExact(payload):
                payload = bytes(payload)
            n = PyBytes_GET_SIZE(payload)
            out = PyBytes_FromStringAndSize(NULL, HEADER_SIZE + n)
            o = <unsigned char*>PyBytes_AS_STRING(out)
            memcpy(o + HEADER_SIZE, PyBytes_AS_STRING(payload), n)
        _put64(o, 0)
        _put32(o + 8, <uint32_t>(HEADER_SIZE - LOG_OVERHEAD + n))
        _put32(o + 12, <uint32_t>-1)
        o[16] = 2
        _put16(o + 21, <uint16_t>(self._codec | (0x10 if self._transactional else 0)))
        _put32(o + 23, <uint32_t>(self._count - 1))
        _put64(o + 27, <uint64_t>self._base_ts)
        _put64(o + 35, <uint64_t>self._max_ts)
        _put64(o + 43, <uint64_t>-1)
        _put16(o + 51, <uint16_t>-1)
        _put32(o + 53, <uint32_t>-1)
        _put32(o + 57, <uint32_t>self._count)
        _put32(o + 17, _crc_of(o + 21, HEADER_SIZE - 21 + n))
        return out

    def build(self, int64_t producer_id=-1, int16_t producer_epoch=-1, int32_t base_sequence=-1):
        """The finished batch (compressed and CRC'd); b"" when no record was appended."""
        if self._count == 0:
            return b""
        if self._built is None:
            self._built = self._finish()
            self._built_pid, self._built_epoch, self._built_seq = -1, -1, -1
        if (producer_id != self._built_pid or producer_epoch != self._built_epoch
                or base_sequence != self._built_seq):
            self._built = rewrite_producer_state(self._built, producer_id, producer_epoch, base_sequence)
            self._built_pid, self._built_epoch, self._built_seq = producer_id, producer_epoch, base_sequence
        return self._built


# append()'s entry point, written as a plain C fast call instead of Cython's wrapper. Cython's
# argument handling (keyword support, a new reference per argument, the generic int64 conversion) cost
# about 90 instructions per call, as much as writing the record itself; the benchmark's per-record
# call (10-byte key, 100-byte value) spent 116 of its ~740 instructions there (callgrind). The entry
# takes the usual call, three or four positional arguments with no headers and an int timestamp, to
# append_plain() directly; every other call, and every record append_plain() declines, goes to the
# Cython wrapper unchanged, so behaviour and errors are the general path's. It replaces the method in
# the type's dict at import; where that is not possible (another Python, a build without fast calls)
# the Cython method stays and nothing changes but speed.
cdef extern from *:
    """
    #if !defined(PYPY_VERSION) && !defined(Py_LIMITED_API) && defined(METH_FASTCALL)
    typedef PyObject* (*kafkaio_fastcall_kw)(PyObject*, PyObject* const*, Py_ssize_t, PyObject*);
    static kafkaio_fastcall_kw kafkaio_append_general = NULL;
    static PyMethodDef kafkaio_append_def;
    static int kafkaio_install_append(PyObject* type, void* entry) {
        PyTypeObject* t = (PyTypeObject*)type;
        PyObject* old;
        PyMethodDef* d;
        PyObject* descr;
        if (t->tp_dict == NULL) return 0;
        old = PyDict_GetItemString(t->tp_dict, "append");  /* borrowed */
        if (old == NULL || Py_TYPE(old) != &PyMethodDescr_Type) return 0;
        d = ((PyMethodDescrObject*)old)->d_method;
        if (d->ml_flags != (METH_FASTCALL | METH_KEYWORDS)) return 0;
        kafkaio_append_general = (kafkaio_fastcall_kw)(void(*)(void))d->ml_meth;
        kafkaio_append_def = *d;
        kafkaio_append_def.ml_meth = (PyCFunction)(void(*)(void))entry;
        descr = PyDescr_NewMethod(t, &kafkaio_append_def);
        if (descr == NULL) return -1;
        if (PyDict_SetItemString(t->tp_dict, "append", descr) < 0) { Py_DECREF(descr); return -1; }
        Py_DECREF(descr);
        PyType_Modified(t);
        return 1;
    }
    static PyObject* kafkaio_append_call_general(PyObject* self, PyObject** args, Py_ssize_t nargs,
                                                 PyObject* kwnames) {
        return kafkaio_append_general(self, args, nargs, kwnames);
    }
    #else
    static int kafkaio_install_append(PyObject* type, void* entry) { (void)type; (void)entry; return 0; }
    static PyObject* kafkaio_append_call_general(PyObject* self, PyObject** args, Py_ssize_t nargs,
                                                 PyObject* kwnames) {
        (void)self; (void)args; (void)nargs; (void)kwnames;
        PyErr_SetString(PyExc_SystemError, "kafkaio: append entry without its general path");
        return NULL;
    }
    #endif
    /* An exact int of at most 60 bits as int64 (always exact there): 1, else 0 and nothing set. */
    static inline int kafkaio_small_int(PyObject* o, int64_t* out) {
        if (!PyLong_CheckExact(o)) return 0;
    #if !defined(PYPY_VERSION) && !defined(Py_LIMITED_API) && PY_VERSION_HEX < 0x030C0000 && PyLong_SHIFT == 30
        {
            const digit* d = ((PyLongObject*)o)->ob_digit;
            switch (Py_SIZE(o)) {
                case 0: *out = 0; return 1;
                case 1: *out = (int64_t)d[0]; return 1;
                case -1: *out = -(int64_t)d[0]; return 1;
                case 2: *out = ((int64_t)d[1] << 30) | (int64_t)d[0]; return 1;
                case -2: *out = -(((int64_t)d[1] << 30) | (int64_t)d[0]); return 1;
                default: return 0;
            }
        }
    #else
        {
            int overflow = 0;
            long long v = PyLong_AsLongLongAndOverflow(o, &overflow);  /* cannot fail on an exact int */
            if (overflow || (v == -1 && PyErr_Occurred())) { PyErr_Clear(); return 0; }
            *out = (int64_t)v;
            return 1;
        }
    #endif
    }
    """
    int _install_append "kafkaio_install_append"(object type, void* entry) except -1
    object _append_general "kafkaio_append_call_general"(object self, PyObject** args, Py_ssize_t nargs,
                                                          PyObject* kwnames)
    bint _small_int "kafkaio_small_int"(PyObject* o, int64_t* out) noexcept


cdef object _append_entry(object self, PyObject** args, Py_ssize_t nargs, PyObject* kwnames):
    # the C signature of a METH_FASTCALL | METH_KEYWORDS method: self borrowed, a new reference or NULL
    cdef int64_t ts
    cdef Py_ssize_t delta
    if (kwnames == NULL and (nargs == 3 or (nargs == 4 and args[3] == <PyObject*>None))
            and _small_int(args[0], &ts)):
        delta = (<BatchBuilder>self).append_plain(ts, args[1], args[2])
        if delta >= 0:
            if delta < _DELTAS_CACHED:
                return <object>PyTuple_GET_ITEM(_DELTAS, delta)
            return delta
        if delta == -1:
            return -1
    return _append_general(self, args, nargs, kwnames)


_APPEND_FAST_ENTRY = bool(_install_append(BatchBuilder, <void*>_append_entry))  # for the tests


cdef Py_ssize_t builder_size(object builder) except -1:
    # builder.estimated_size(), read without a Python call from a compiled builder: the producer
    # reads it before and after each sticky record to count the bytes the record added
    if type(builder) is BatchBuilder:
        return (<BatchBuilder>builder)._len
    return builder.estimated_size()


cdef Py_ssize_t builder_append(object builder, object timestamp_ms, object key, object value,
                               object headers) except -3:
    # builder.append(timestamp_ms, key, value, headers) from another compiled module: a compiled
    # builder and an int timestamp go to append_plain(), or to _append() as append() would, without
    # a Python method call; anything else is the method call itself
    cdef int64_t ts
    if type(builder) is BatchBuilder and _small_int(<PyObject*>timestamp_ms, &ts):
        return builder_append_ms(builder, ts, key, value, headers)
    return builder.append(timestamp_ms, key, value, headers)


cdef Py_ssize_t builder_append_ms(object builder, int64_t timestamp_ms, object key, object value,
                                  object headers) except -3:
    # builder_append with a C timestamp (the producer's clock): no Python int unless the builder
    # is not a compiled one
    cdef Py_ssize_t delta
    if type(builder) is BatchBuilder:
        if headers is None:
            delta = (<BatchBuilder>builder).append_plain(timestamp_ms, <PyObject*>key, <PyObject*>value)
            if delta != -2:
                return delta
        return (<BatchBuilder>builder)._append(timestamp_ms, key, value, headers)
    return builder.append(timestamp_ms, key, value, headers)


def rewrite_producer_state(data, int64_t producer_id, int16_t producer_epoch, int32_t base_sequence):
    """A copy of batch ``data`` with new producer id, epoch and base sequence, and its CRC recomputed."""
    cdef Py_buffer view
    cdef bytes out
    cdef unsigned char* o
    cdef Py_ssize_t n
    PyObject_GetBuffer(data, &view, PyBUF_SIMPLE)
    try:
        n = view.len
        if n < HEADER_SIZE or (<const unsigned char*>view.buf)[16] != 2:
            raise ValueError("not a record batch v2")
        out = PyBytes_FromStringAndSize(<const char*>view.buf, n)
    finally:
        PyBuffer_Release(&view)
    o = <unsigned char*>PyBytes_AS_STRING(out)
    _put64(o + 43, <uint64_t>producer_id)
    _put16(o + 51, <uint16_t>producer_epoch)
    _put32(o + 53, <uint32_t>base_sequence)
    _put32(o + 17, _crc_of(o + 21, n - 21))
    return out


# ---- reader -------------------------------------------------------------------------------------

# Not tracked by the garbage collector: it refers only to the buffer and to a memoryview of raw
# memory, neither of which can refer back, so it is never part of a cycle; tracked, the collector
# could clear the buffer's memoryview while this still holds an export of it (BufferError).
@cython.no_gc
cdef class _Source:
    """Holds the buffer of a fetched record set while batches read from it."""

    cdef object obj
    cdef Py_buffer view
    cdef bint held
    cdef const unsigned char* ptr
    cdef Py_ssize_t size
    cdef object _mv

    def __cinit__(self, obj):
        PyObject_GetBuffer(obj, &self.view, PyBUF_SIMPLE)
        self.held = True
        self.obj = obj
        self.ptr = <const unsigned char*>self.view.buf
        self.size = self.view.len

    def __dealloc__(self):
        if self.held:
            PyBuffer_Release(&self.view)
            self.held = False

    cdef object memoryview(self):
        if self._mv is None:
            self._mv = PyMemoryView_FromMemory(<char*>self.ptr, self.size, PyBUF_READ)
        return self._mv


cdef list _decode_headers(const unsigned char* p, const unsigned char* rec_end, int32_t nh):
    cdef list headers = []
    cdef int32_t j, hk, hv
    for j in range(nh):
        p = read_varint32(p, rec_end, &hk)
        if p == NULL or hk < 0 or hk > rec_end - p:
            raise _corrupt("header key length invalid or past the end of the record")
        hkey = PyUnicode_DecodeUTF8(<const char*>p, hk, "replace")
        p += hk
        p = read_varint32(p, rec_end, &hv)
        if p == NULL or hv < -1 or hv > rec_end - p:
            raise _corrupt("header value length invalid or past the end of the record")
        if hv >= 0:
            hvalue = PyBytes_FromStringAndSize(<const char*>p, hv)
            p += hv
        else:
            hvalue = None
        headers.append((hkey, hvalue))
    if p != rec_end:
        raise _corrupt("record length disagrees with its content")
    return headers


cdef list _decode_records(const unsigned char* p, const unsigned char* end, Batch batch, str topic,
                          int partition):
    cdef int32_t count = batch.record_count
    cdef int32_t i, length, off_delta, kn, vn, nh
    cdef int64_t ts_delta
    cdef int64_t base_offset = batch.base_offset
    cdef uint64_t base_ts = <uint64_t>batch.base_timestamp
    cdef int64_t max_ts = batch.max_timestamp
    cdef bint log_append = (batch.attributes & 0x08) != 0
    cdef object ts_type = _TS_APPEND if log_append else _TS_CREATE
    cdef int epoch = batch.partition_leader_epoch
    cdef const unsigned char* rec_end
    cdef const unsigned char* kp
    cdef const unsigned char* vp
    cdef list out
    cdef object headers = None  # owns the last record's decoded headers list, if any
    cdef PyObject* hdr  # this record's headers (borrowed): that list, or None
    cdef PyObject* key
    cdef PyObject* value
    cdef PyObject* rec
    cdef ConsumerRecord made
    cdef bint traced = _ref_traced()  # for the whole batch: see KAFKAIO_OBJECTS_TRACED
    if count < 0 or count > (end - p) // MIN_RECORD_SIZE:
        raise _corrupt(f"record count {count} impossible for {end - p} bytes of records")
    out = PyList_New(count)  # filled in order; on error the rest are NULL, which list_dealloc skips
    for i in range(count):
        # every length is checked before any object is made, so an error leaves nothing to release
        p = read_varint32(p, end, &length)
        if p == NULL or length < 1 or length > end - p:
            raise _corrupt("record length invalid or past the end of the batch")
        rec_end = p + length
        p += 1  # record attributes: unused
        p = read_varint64(p, rec_end, &ts_delta)
        if p == NULL:
            raise _corrupt("malformed timestamp delta")
        p = read_varint32(p, rec_end, &off_delta)
        if p == NULL:
            raise _corrupt("malformed offset delta")
        p = read_varint32(p, rec_end, &kn)
        if p == NULL or kn < -1 or kn > rec_end - p:
            raise _corrupt("record key length invalid or past the end of the record")
        kp = p
        if kn > 0:
            p += kn
        p = read_varint32(p, rec_end, &vn)
        if p == NULL or vn < -1 or vn > rec_end - p:
            raise _corrupt("record value length invalid or past the end of the record")
        vp = p
        if vn > 0:
            p += vn
        p = read_varint32(p, rec_end, &nh)
        if p == NULL or nh < 0 or nh > rec_end - p:
            raise _corrupt("invalid header count")
        # the usual record has no headers: a borrowed None, no reference counting on a local per record
        if nh:
            headers = _decode_headers(p, rec_end, nh)  # also checks that they end with the record
            hdr = <PyObject*>headers
        elif p != rec_end:
            raise _corrupt("record length disagrees with its content")
        else:
            hdr = <PyObject*>None
        p = rec_end
        key = _bytes_or_none(kp, kn, traced)
        if key == NULL:
            _propagate()
        value = _bytes_or_none(vp, vn, traced)
        if value == NULL:
            Py_XDECREF(key)
            _propagate()
        if _record_pool:
            rec = kafkaio_record_alloc(traced)
            if rec == NULL:
                Py_XDECREF(key)
                Py_XDECREF(value)
                raise MemoryError()
            kafkaio_record_fill(rec, topic, ts_type, key, value, hdr, partition,
                                base_offset + off_delta,
                                max_ts if log_append else <int64_t>(base_ts + <uint64_t>ts_delta), epoch)
            _list_set_stolen(out, i, rec)
        else:
            made = ConsumerRecord.__new__(ConsumerRecord)
            made.topic = topic
            made.timestamp_type = ts_type
            made.key = <object>key
            made.value = <object>value
            Py_XDECREF(key)
            Py_XDECREF(value)
            made._headers = <object>hdr
            made.partition = partition
            made.offset = base_offset + off_delta
            made.timestamp = max_ts if log_append else <int64_t>(base_ts + <uint64_t>ts_delta)
            made.leader_epoch = epoch
            Py_INCREF(made)
            PyList_SET_ITEM(out, i, made)
    if p != end:
        raise _corrupt("bytes left over after the batch's last record")
    return out


cdef class Batch:
    """A record batch v2 inside a fetched record set; records are decoded when asked for."""

    cdef _Source _src
    cdef Py_ssize_t _pos
    cdef readonly Py_ssize_t size_in_bytes
    cdef readonly int64_t base_offset
    cdef readonly int32_t partition_leader_epoch
    cdef readonly int magic
    cdef readonly uint32_t crc
    cdef readonly int attributes
    cdef readonly int32_t last_offset_delta
    cdef readonly int64_t base_timestamp
    cdef readonly int64_t max_timestamp
    cdef readonly int64_t producer_id
    cdef readonly int producer_epoch
    cdef readonly int32_t base_sequence
    cdef readonly int32_t record_count

    @property
    def last_offset(self):
        # Python integers, like the twin: a corrupt header's sum can leave the int64 range
        return <object>self.base_offset + self.last_offset_delta

    @property
    def next_offset(self):
        return <object>self.base_offset + self.last_offset_delta + 1

    @property
    def compression(self):
        cdef int codec = self.attributes & 0x07
        return _CODECS[codec] if codec <= 4 else codec

    @property
    def timestamp_type(self):
        return _TS_APPEND if self.attributes & 0x08 else _TS_CREATE

    @property
    def is_transactional(self):
        return (self.attributes & 0x10) != 0

    @property
    def is_control(self):
        return (self.attributes & 0x20) != 0

    def is_valid(self):
        """Whether the stored CRC-32C matches the batch bytes."""
        return self._crc_ok()

    cdef bint _crc_ok(self) except -1:
        return _crc_of(self._src.ptr + self._pos + 21, self.size_in_bytes - 21) == self.crc

    cdef object _compressed_section(self):
        return PyMemoryView_FromMemory(<char*>self._src.ptr + self._pos + HEADER_SIZE,
                                       self.size_in_bytes - HEADER_SIZE, PyBUF_READ)

    @property
    def control_type(self):
        """For a control batch, the type of its control record (ABORT/COMMIT markers); else None."""
        if not self.attributes & 0x20:
            return None
        data = self._compressed_section()
        if self.attributes & 0x07:
            data = _decompress(self.attributes & 0x07, data)
        return _control_type_of(data, self.record_count)

    def records(self, str topic, int partition):
        """The batch's records (an empty list for control batches, which the user never sees)."""
        cdef const unsigned char* p
        cdef int codec = self.attributes & 0x07
        if self.attributes & 0x20:
            return []
        if codec:
            data = _decompress(codec, self._compressed_section())
            if not PyBytes_CheckExact(data):
                data = bytes(data)
            p = <const unsigned char*>PyBytes_AS_STRING(data)
            return _decode_records(p, p + PyBytes_GET_SIZE(data), self, topic, partition)
        p = self._src.ptr + self._pos
        return _decode_records(p + HEADER_SIZE, p + self.size_in_bytes, self, topic, partition)

    def __repr__(self):
        return (f"Batch(base_offset={self.base_offset}, last_offset={self.last_offset}, "
                f"records={self.record_count}, compression={self.compression!r}, "
                f"control={self.is_control}, transactional={self.is_transactional})")


cdef Batch _make_batch(_Source src, Py_ssize_t pos, Py_ssize_t size):
    cdef const unsigned char* p = src.ptr + pos
    cdef Batch b = Batch.__new__(Batch)
    b._src = src
    b._pos = pos
    b.size_in_bytes = size
    b.base_offset = <int64_t>_get64(p)
    b.partition_leader_epoch = <int32_t>_get32(p + 12)
    b.magic = <signed char>p[16]
    b.crc = _get32(p + 17)
    b.attributes = <int16_t>_get16(p + 21)
    b.last_offset_delta = <int32_t>_get32(p + 23)
    b.base_timestamp = <int64_t>_get64(p + 27)
    b.max_timestamp = <int64_t>_get64(p + 35)
    b.producer_id = <int64_t>_get64(p + 43)
    b.producer_epoch = <int16_t>_get16(p + 51)
    b.base_sequence = <int32_t>_get32(p + 53)
    b.record_count = <int32_t>_get32(p + 57)
    return b


cdef class _BatchIterator:
    cdef _Source _src
    cdef Py_ssize_t _pos
    cdef bint _check_crcs

    def __iter__(self):
        return self

    def __next__(self):
        cdef Py_ssize_t remaining = self._src.size - self._pos
        cdef const unsigned char* p = self._src.ptr + self._pos
        cdef int32_t length
        cdef Py_ssize_t size
        cdef int magic
        cdef Batch batch
        if remaining < LOG_OVERHEAD:
            raise StopIteration
        length = <int32_t>_get32(p + 8)
        if length < _legacy.MIN_MESSAGE_SIZE_V0:
            self._pos = self._src.size
            raise _corrupt(f"record batch size {length} smaller than the minimum")
        if remaining < 17:
            raise StopIteration
        magic = p[16]
        if magic > 2:
            self._pos = self._src.size
            raise _corrupt(f"invalid magic byte {magic} in record batch")
        size = <Py_ssize_t>length + LOG_OVERHEAD
        if remaining < size:
            self._pos = self._src.size
            raise StopIteration
        if magic == 2:
            if size < HEADER_SIZE:
                self._pos = self._src.size
                raise _corrupt(f"record batch size {length} smaller than the v2 header")
            batch = _make_batch(self._src, self._pos, size)
            if self._check_crcs and not batch._crc_ok():  # no Python method call
                self._pos = self._src.size
                raise _corrupt(f"CRC mismatch in record batch at offset {batch.base_offset}")
            self._pos += size
            return batch
        try:
            legacy_batch = _legacy.LegacyBatch(self._src.memoryview(), self._pos, size, self._check_crcs)
        except BaseException:
            self._pos = self._src.size
            raise
        self._pos += size
        return legacy_batch


def read_batches(buf, check_crcs=True):
    """The batches of a fetched record set, one by one; stops quietly at a partial trailing batch."""
    cdef _BatchIterator it = _BatchIterator.__new__(_BatchIterator)
    it._src = _Source(buf)
    it._pos = 0
    it._check_crcs = bool(check_crcs)
    return it
