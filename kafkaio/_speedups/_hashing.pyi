"""Stub of the compiled ``_hashing`` (twin: ``hashing_py``)."""

def murmur2(data: bytes | bytearray | memoryview) -> int:
    """32-bit MurmurHash2 with Kafka's seed, returned as Java's signed int."""
