# cython: language_level=3
"""The cluster's current metadata in one field (compiled twin of ``metadata_cell_py``).

Its own module, below both the cluster and the producer: the cluster owns the one cell and writes
each new metadata into it; the producer's compiled append path (``_producer``) cimports the type and
reads the field as a C struct member, once per record; Python readers read ``.current``, a slot
access rather than a property's call.
"""
cimport cython

__all__ = ["MetadataCell"]

# one owner per state: a copy would be a second cell that the cluster never writes
NOT_COPIED = "a MetadataCell is not copied or pickled: the cluster, its one writer, would never update the copy"


@cython.final
@cython.auto_pickle(False)
cdef class MetadataCell:
    """The current cluster metadata in one field: the cluster writes each new metadata into it
    (its only writer); readers that need it once per record or per request hold the cell and read
    ``current``."""

    def __init__(self, current):
        self.current = current

    def __reduce_ex__(self, protocol):
        """Refuses: ``copy``, ``deepcopy`` and ``pickle`` all ask this (as the pure twin)."""
        raise TypeError(NOT_COPIED)

    def __class_getitem__(cls, item):
        """``MetadataCell[ClusterMetadata]``, as the pure twin (a Generic) and the stub allow."""
        return cls
