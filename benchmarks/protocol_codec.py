"""Cost of the schema-generated protocol codec on the messages of a ``send_and_wait`` round trip.

Encodes a Produce request (one topic, one partition, a 180-byte record batch) and decodes a
Produce response (one partition, no error) the way the connection does (``encode_request`` /
``decode_response``), at the Produce versions current brokers negotiate, and prints microseconds
per message: the best of ROUNDS rounds of N messages (the best, because other work on a shared
machine only ever adds time). Environment: N (20000), ROUNDS (5).

    .venv/bin/python -m benchmarks.protocol_codec

Compare two trees on the same machine by alternating runs with ``PYTHONPATH`` set to each.
"""
from __future__ import annotations

import os
import time

from kafkaio.protocol import ApiKey, decode_response, encode_request
from kafkaio.protocol.api import encode_response

_REQUEST = {"transactional_id": None, "acks": -1, "timeout_ms": 30000,
            "topic_data": [{"name": "roundtrip-1a2b3c4d", "partition_data": [{"index": 0, "records": b"x" * 180}]}]}
_RESPONSE = {"responses": [{"name": "roundtrip-1a2b3c4d", "partition_responses": [
    {"index": 0, "error_code": 0, "base_offset": 12345, "log_append_time_ms": -1, "log_start_offset": 0,
     "record_errors": [], "error_message": None}]}], "throttle_time_ms": 0}


def _best(fn: object, n: int, rounds: int) -> float:
    best = float("inf")
    for _ in range(rounds):
        start = time.perf_counter()
        for i in range(n):
            fn(i)  # type: ignore[operator]
        best = min(best, (time.perf_counter() - start) / n * 1e6)
    return best


def main() -> None:
    n = int(os.environ.get("N", "20000"))
    rounds = int(os.environ.get("ROUNDS", "5"))
    for version in (9, 11, 12):
        payload = bytes(encode_response(ApiKey.PRODUCE, version, 7, _RESPONSE))[4:]
        enc = _best(lambda i: encode_request(ApiKey.PRODUCE, version, i, "kafkaio", _REQUEST), n, rounds)
        dec = _best(lambda i: decode_response(ApiKey.PRODUCE, version, payload), n, rounds)
        print(f"Produce v{version}: encode request {enc:.2f} us, decode response {dec:.2f} us")


if __name__ == "__main__":
    main()
