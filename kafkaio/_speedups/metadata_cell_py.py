"""The cluster's current metadata in one field (pure-Python twin of ``_metadata_cell.pyx``).

Its own module, below both the cluster and the producer: the cluster owns the one cell and writes
each new metadata into it; the producer's append path and the per-request readers hold the cell and
read ``current`` (a slot, not a property's call).
"""
from __future__ import annotations

from typing import Generic, NoReturn, TypeVar

__all__ = ["MetadataCell"]

T = TypeVar("T")
# one owner per state: a copy would be a second cell that the cluster never writes
NOT_COPIED = "a MetadataCell is not copied or pickled: the cluster, its one writer, would never update the copy"


class MetadataCell(Generic[T]):
    """The current cluster metadata in one field: the cluster writes each new metadata into it
    (its only writer); readers that need it once per record or per request hold the cell and read
    ``current``."""

    __slots__ = ("current",)

    def __init__(self, current: T) -> None:
        self.current = current

    def __reduce_ex__(self, protocol: object) -> NoReturn:
        """Refuses: ``copy``, ``deepcopy`` and ``pickle`` all ask this (as the compiled twin)."""
        raise TypeError(NOT_COPIED)
