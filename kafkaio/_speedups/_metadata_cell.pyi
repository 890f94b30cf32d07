"""Stub of the compiled ``_metadata_cell`` (twin: ``metadata_cell_py``)."""
from typing import Generic, TypeVar

__all__ = ["MetadataCell"]

T = TypeVar("T")

class MetadataCell(Generic[T]):
    """The current cluster metadata in one field (the cluster writes it, hot readers read ``current``)."""

    current: T
    def __init__(self, current: T) -> None: ...
