# What other compiled modules take from _records at C level (exported through its module).
from libc.stdint cimport int64_t


cdef Py_ssize_t builder_size(object builder) except -1
cdef Py_ssize_t builder_append(object builder, object timestamp_ms, object key, object value,
                               object headers) except -3
cdef Py_ssize_t builder_append_ms(object builder, int64_t timestamp_ms, object key, object value,
                                  object headers) except -3
