# The cell's C layout, for the modules that read its field directly (_producer's append path).
cimport cython


@cython.final
cdef class MetadataCell:
    cdef public object current
