# C-level helpers for Kafka's varints, inlined into every module that cimports them.
# Readers take [p, end) and return the position after the value, or NULL when the input is truncated
# or the varint is longer than its type allows (5 bytes for 32 bits, 10 for 64): callers raise
# CorruptRecordError on NULL. Writers assume the caller reserved uvarint_size() bytes.
from libc.stdint cimport int32_t, int64_t, uint32_t, uint64_t


cdef inline uint32_t zigzag32(int32_t v) noexcept nogil:
    return (<uint32_t>v << 1) ^ <uint32_t>(v >> 31)


cdef inline uint64_t zigzag64(int64_t v) noexcept nogil:
    return (<uint64_t>v << 1) ^ <uint64_t>(v >> 63)


cdef extern from *:
    """
    /* Bytes of the unsigned varint of v: one per started group of 7 significant bits (at least one).
       With a count-leading-zeros instruction this is branch-free: bits*9/64 rounds up bits/7 for
       every bit length 1..64 (checked against the loop below for all of them in the unit tests). */
    static inline int kafkaio_uvarint_size(uint64_t v) {
        /* record fields are mostly 1 or 2 bytes: two predictable compares beat BSR, which some CPUs
           (AMD Zen) run with a 4-cycle latency, on the encoder's critical path */
        if (v < 0x80) return 1;
        if (v < 0x4000) return 2;
    #if defined(__GNUC__) || defined(__clang__)
        int bits = 64 - __builtin_clzll(v | 1);
        return (bits * 9 + 64) >> 6;
    #else
        int n = 1;
        while (v >= 0x80) { v >>= 7; n++; }
        return n;
    #endif
    }
    """
    int uvarint_size "kafkaio_uvarint_size"(uint64_t v) noexcept nogil


cdef inline unsigned char* write_uvarint(unsigned char* p, uint64_t v) noexcept nogil:
    if v < 0x80:  # the usual one and two bytes without the loop
        p[0] = <unsigned char>v
        return p + 1
    if v < 0x4000:
        p[0] = <unsigned char>(v | 0x80)
        p[1] = <unsigned char>(v >> 7)
        return p + 2
    while v >= 0x80:
        p[0] = <unsigned char>((v & 0x7F) | 0x80)
        p += 1
        v >>= 7
    p[0] = <unsigned char>v
    return p + 1


cdef inline const unsigned char* read_uvarint32(const unsigned char* p, const unsigned char* end,
                                                uint32_t* out) noexcept nogil:
    cdef uint32_t result = 0
    cdef unsigned int shift = 0
    cdef unsigned char b
    while shift <= 28:
        if p >= end:
            return NULL
        b = p[0]
        p += 1
        result |= <uint32_t>(b & 0x7F) << shift
        if not (b & 0x80):
            out[0] = result
            return p
        shift += 7
    return NULL


cdef inline const unsigned char* read_varint32(const unsigned char* p, const unsigned char* end,
                                               int32_t* out) noexcept nogil:
    cdef uint32_t u
    # the common cases: one byte (values -64..63) and two bytes (lengths up to 8 KiB)
    if end - p >= 2:
        if not (p[0] & 0x80):
            u = p[0]
            out[0] = <int32_t>((u >> 1) ^ (0u - (u & 1)))
            return p + 1
        if not (p[1] & 0x80):
            u = (p[0] & 0x7Fu) | (<uint32_t>p[1] << 7)
            out[0] = <int32_t>((u >> 1) ^ (0u - (u & 1)))
            return p + 2
    p = read_uvarint32(p, end, &u)
    if p != NULL:
        out[0] = <int32_t>((u >> 1) ^ (0u - (u & 1)))
    return p


cdef inline const unsigned char* read_varint64(const unsigned char* p, const unsigned char* end,
                                               int64_t* out) noexcept nogil:
    cdef uint64_t result = 0
    cdef unsigned int shift = 0
    cdef unsigned char b
    if p < end and not (p[0] & 0x80):  # the common case: one byte
        result = p[0]
        out[0] = <int64_t>((result >> 1) ^ (<uint64_t>0 - (result & 1)))
        return p + 1
    while shift <= 63:
        if p >= end:
            return NULL
        b = p[0]
        p += 1
        result |= <uint64_t>(b & 0x7F) << shift
        if not (b & 0x80):
            out[0] = <int64_t>((result >> 1) ^ (<uint64_t>0 - (result & 1)))
            return p
        shift += 7
    return NULL
