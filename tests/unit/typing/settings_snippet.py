# Checked by tests/unit/test_typing.py with mypy --strict: each line marked "error" must be
# reported, and nothing else. Not imported by pytest (no test_ prefix).
import kafkaio

ok = kafkaio.Producer("h:9092", linger_ms=5, compression_type="lz4", acks="all")
reveal_type(ok)
admin = kafkaio.Admin("h:9092", request_timeout_ms=5000)
consumer = kafkaio.Consumer("t", bootstrap_servers="h:9092", group_id="g", auto_offset_reset="earliest")
reveal_type(consumer)
bad_type = kafkaio.Producer("h:9092", linger_ms="abc")  # error
bad_name = kafkaio.Producer("h:9092", linger_msec=5)  # error
bad_choice = kafkaio.Producer("h:9092", compression_type="brotli")  # error
bad_admin = kafkaio.Admin("h:9092", request_timeout_ms="5000")  # error
reveal_type(kafkaio.errors.UnknownTopicOrPartitionError)
bad_consumer = kafkaio.Consumer("t", isolation_level="read-committed")  # error



async def send(p: kafkaio.Producer) -> None:
    fut = await p.send("t", b"v")
    reveal_type(fut)
    reveal_type(await fut)
    reveal_type(await p.send_and_wait("t", b"v"))
