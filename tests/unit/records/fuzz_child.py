"""The compiled reader over random mutations of valid batches, as a script: a crash kills this process,
not the test run (test_records_fuzz.py runs it in a child), and memory checkers can run it alone:

    PYTHONMALLOC=malloc valgrind --tool=memcheck --leak-check=no \\
        .venv/bin/python tests/unit/records/fuzz_child.py SEED tests/unit/records [COUNT]

Prints "ok" when every mutation decoded or raised CorruptRecordError."""
from __future__ import annotations

import random
import sys


def main(seed: int, tests_dir: str, count: int) -> None:
    from kafkaio._speedups import _records
    from kafkaio.errors import CorruptRecordError

    sys.path.insert(0, tests_dir)
    from test_records_fuzz import SEEDS

    rnd = random.Random(seed)
    for _ in range(count):
        data = bytearray(rnd.choice(SEEDS))
        for _ in range(rnd.randint(1, 6)):
            pos = rnd.randrange(len(data)) if data else 0
            op = rnd.random()
            if op < 0.5 and data:
                data[pos] = rnd.randrange(256)
            elif op < 0.7:
                del data[pos:pos + rnd.randint(1, 16)]
            elif op < 0.85:
                data[pos:pos] = rnd.randbytes(rnd.randint(1, 16))
            else:
                data += rnd.randbytes(rnd.randint(1, 64))
        for check in (False, True):
            try:
                for b in _records.read_batches(bytes(data), check_crcs=check):
                    b.records("t", 0)
                    b.control_type
            except CorruptRecordError:
                pass
    print("ok")


if __name__ == "__main__":
    main(int(sys.argv[1]), sys.argv[2], int(sys.argv[3]) if len(sys.argv) > 3 else 20000)
