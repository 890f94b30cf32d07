"""An in-process fake Kafka cluster for fast, deterministic tests (see docs/fake-broker.md).

    async with FakeCluster(brokers=1, topics={"t": 3}) as fake:
        async with Producer(bootstrap_servers=fake.bootstrap_servers) as p:
            await p.send_and_wait("t", b"v", partition=0)
        assert [r.value for r in fake.records("t", 0)] == [b"v"]

Requests are decoded and responses encoded with kafkaio's own protocol layer; ``fake.control``
answers, delays or drops any request.
"""
from kafkaio.testing.fake.control import CLOSE, DELAY, DROP, DROP_RESPONSE, Control, RequestInfo
from kafkaio.testing.fake.server import FakeCluster, FakeRecord
from kafkaio.testing.fake.state import StoredBatch

__all__ = ["FakeCluster", "FakeRecord", "StoredBatch", "RequestInfo", "Control", "DROP", "DROP_RESPONSE",
           "CLOSE", "DELAY"]
