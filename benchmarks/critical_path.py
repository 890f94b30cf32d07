"""The critical path of a ``send_and_wait`` round trip: from the Produce response's bytes being
read to the next Produce request's ``transport.write``, measured on the client alone.

With one record at a time (linger 0, acks=all, idempotent), the caller awaits each result and
calls ``send_and_wait`` again, so the client's work between "response readable" and "next request
written" adds to every round trip, while its work after the write overlaps the broker's. This
module measures that stretch three ways, all on a patched copy of the producer's hooks (no change
to the tree it measures):

- ``wall``: ``time.perf_counter_ns()`` stamps at the points below over N round trips; per segment,
  the median and p99 in microseconds, and the whole path's percentiles. Wall time: alternate trees
  and repeat (the machine is shared).
- ``trace``: ``sys.settrace`` switched on at the response's read callback and off at the next
  write: Python calls and bytecodes on the path per round trip (deterministic, load-free), the
  callbacks the event loop ran on it (frames entered from the loop, ``handles``) and, on asyncio,
  the loop passes (``_run_once`` calls); the functions with the most bytecodes. Compiled code
  (Cython) runs without bytecodes and shows up only as the calls it makes into Python.
- ``floor``: the ``wall`` stamps of the floor client's equivalent (a bare ``asyncio.Protocol``:
  read callback -> future -> caller -> write).

The points (``wall``), in order on the path:

    ready      asyncio only: the selector returned the socket as readable
    read       the protocol's read callback (``buffer_updated``) starts
    decoded    the response is cut and decoded: the request's sink gets it (``set_result``)
    completed  the batch is settled and its future resolved (``set_result`` returns)
    read_done  the read callback returns
    resumed    the caller's ``await send_and_wait()`` returns the metadata
    appended   the record is appended in a new batch, handed to the sender (``ship_now``)
    built      the Produce request is built, handed to the connection (``start_request``)
    write      ``transport.write`` of the request

and, past the path (the broker's turn): ``idle``, asyncio only, the loop's first wait for events
after the write (what the client does between the two overlaps the broker's work, and delays the
response's read when the broker is faster), then the next ``ready`` and ``read``.

Environment: KAFKAIO_BOOTSTRAP (required), CLIENT (kafkaio or floor; kafkaio), LOOP (asyncio or
uvloop; asyncio), N (wall 10000, trace 1000, instructions 300), WARMUP (300), VALUE_SIZE (100),
TOP (trace: functions listed, 40), SPIN_AFTER_WRITE_US (busy-wait this long after each write: does
the client's work after the write lengthen the broker's turn?), PRODUCE_VERSION (kafkaio: the highest Produce version used), SPAN (trace: ``after`` traces from the write to the loop's next
wait instead, asyncio only), ANNOTATE (instructions: print callgrind_annotate's profile), SEGMENT (instructions: the two points
to count between, ``read,write`` unless given; e.g. ``write,read`` counts the client's work during
the broker's turn).

    KAFKAIO_BOOTSTRAP=127.0.0.1:9092 .venv/bin/python -m benchmarks.critical_path wall
    KAFKAIO_BOOTSTRAP=127.0.0.1:9092 LOOP=uvloop .venv/bin/python -m benchmarks.critical_path trace

``PYTHONPATH=/path/to/other/tree`` measures another tree's ``kafkaio``.
"""
from __future__ import annotations

import array
import asyncio
import collections
import gc
import os
import statistics
import sys
import time
import uuid
from types import FrameType
from typing import Any, Awaitable, Callable, cast

POINTS = ("ready", "read", "decoded", "completed", "read_done", "resumed", "appended", "built", "write", "idle")
_INDEX = {name: i for i, name in enumerate(POINTS)}
_clock = time.perf_counter_ns
_SPIN_NS = int(float(os.environ.get("SPIN_AFTER_WRITE_US", "0")) * 1000)


class _Stamps:
    """Every stamp of a run, in order."""

    def __init__(self) -> None:
        # two arrays, not a list of tuples: the stamps must not feed the cyclic GC (a collection
        # they set off would be counted on the path)
        self._points = array.array("b")
        self._times = array.array("q")
        self.on = False
        self.watch: dict[int, Callable[[], None]] = {}  # what to do at a point, besides its stamp

    def stamp(self, point: int) -> None:
        if self.on:
            self._times.append(_clock())
            self._points.append(point)
            action = self.watch.get(point)
            if action is not None:
                action()

    @property
    def events(self) -> list[tuple[int, int]]:
        """Every stamp, in order: (point index, ns)."""
        return list(zip(self._points, self._times))

    @events.setter
    def events(self, events: list[tuple[int, int]]) -> None:
        self._points = array.array("b", [point for point, _ in events])
        self._times = array.array("q", [ns for _, ns in events])

    def after_write(self) -> dict[str, list[int]]:
        """From each write to the next ``idle``, ``ready`` and ``read`` (ns)."""
        out: dict[str, list[int]] = {"write -> idle": [], "write -> ready": [], "write -> read": []}
        names = {9: "write -> idle", 0: "write -> ready", 1: "write -> read"}
        written: int | None = None
        seen: set[int] = set()
        for point, ns in self.events:
            if point == 8:
                written, seen = ns, set()
            elif written is not None and point in names and point not in seen:
                seen.add(point)
                out[names[point]].append(ns - written)
                if point == 1:
                    written = None
        return out

    def rounds(self) -> list[dict[int, int]]:
        """Per round trip, the first stamp of each point from one response's read to the next
        write (``ready`` is taken as the last before that read)."""
        out: list[dict[int, int]] = []
        current: dict[int, int] | None = None
        last_ready: int | None = None
        for point, ns in self.events:
            if point == 0:
                last_ready = ns
                continue
            if point == 1 and current is None:
                current = {1: ns}
                if last_ready is not None:
                    current[0] = last_ready
                continue
            if current is None:
                continue
            current.setdefault(point, ns)
            if point == 8:
                out.append(current)
                current = None
                last_ready = None
        return out


def _wrap_method(cls: Any, name: str, before: Callable[[], None] | None,
                 after: Callable[[], None] | None = None) -> bool:
    original = getattr(cls, name, None)
    if original is None:
        return False

    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if before is not None:
            before()
        try:
            return original(*args, **kwargs)
        finally:
            if after is not None:
                after()

    setattr(cls, name, wrapper)
    return True


class _WriteProxy:
    """The connection's transport, with ``write`` calling ``hook`` first."""

    def __init__(self, transport: Any, hook: Callable[[], None]) -> None:
        self._transport = transport
        self._hook = hook

    def write(self, data: Any) -> None:
        self._hook()
        self._transport.write(data)
        if _SPIN_NS:  # work after the write, to see whether it delays the response
            end = _clock() + _SPIN_NS
            while _clock() < end:
                pass

    def __getattr__(self, name: str) -> Any:
        return getattr(self._transport, name)


class Hooks:
    """What the measurement does at the path's two ends (``on_read``: a response's read callback
    starts; ``on_write``: the next request is written), besides the stamps."""

    def __init__(self, stamps: _Stamps, on_read: Callable[[], None] | None = None,
                 on_write: Callable[[], None] | None = None, on_idle: Callable[[], None] | None = None,
                 on_end: Callable[[], None] | None = None) -> None:
        self.stamps = stamps
        self._on_read = on_read
        self._on_write = on_write
        self._on_idle = on_idle
        self._on_end = on_end

    def end(self) -> None:
        """The measured round trips are over: what the last read started must not go on counting
        the close."""
        self.stamps.on = False
        if self._on_end is not None:
            self._on_end()

    def idle(self) -> None:
        self.stamps.stamp(9)
        if self._on_idle is not None and self.stamps.on:
            self._on_idle()

    def read(self) -> None:
        self.stamps.stamp(1)
        if self._on_read is not None and self.stamps.on:
            self._on_read()

    def write(self) -> None:
        self.stamps.stamp(8)
        if self._on_write is not None and self.stamps.on:
            self._on_write()


def _hook_kafkaio(hooks: Hooks) -> None:
    """Stamp the producer's path (class-level patches; the transport is patched per connection)."""
    from kafkaio.conn import BrokerConnection
    from kafkaio.framing import FrameProtocol
    from kafkaio.producer import sender

    stamps = hooks.stamps
    _wrap_method(FrameProtocol, "buffer_updated", hooks.read, lambda: stamps.stamp(4))
    request = getattr(sender, "_ProduceRequest", None)
    if request is not None:
        _wrap_method(request, "set_result", lambda: stamps.stamp(2), lambda: stamps.stamp(3))
    _wrap_method(sender.Sender, "ship_now", lambda: stamps.stamp(6))
    _wrap_method(BrokerConnection, "start_request", lambda: stamps.stamp(7))


def _hook_selector(hooks: Hooks) -> None:
    """asyncio: ``idle`` when the loop waits for events, ``ready`` when the selector returns some."""
    stamps = hooks.stamps
    loop = asyncio.get_running_loop()
    selector = getattr(loop, "_selector", None)
    if selector is None:
        return
    select = selector.select

    def timed_select(timeout: float | None = None) -> Any:
        hooks.idle()
        events = select(timeout)
        if events:
            stamps.stamp(0)
        return events

    selector.select = timed_select


async def _measured(hooks: Hooks, send: Callable[[bytes], Any], n: int) -> list[int]:
    """WARMUP sends, then ``n`` stamped ones; their latencies in ns."""
    value = b"x" * int(os.environ.get("VALUE_SIZE", "100"))
    for _ in range(int(os.environ.get("WARMUP", "300"))):
        await send(value)
    stamps = hooks.stamps
    _hook_selector(hooks)
    latencies = array.array("q", bytes(8 * n))
    # a full collection now: none falls due while measuring (one would be counted on whichever
    # segment allocated last); the young generations' collections are the client's own cost
    gc.collect()
    stamps.on = True
    try:
        for i in range(n):
            t = _clock()
            await send(value)
            stamps.stamp(5)
            latencies[i] = _clock() - t
    finally:
        hooks.end()
    return list(latencies)


async def _on_topic(client: Callable[[Hooks, int, str], Awaitable[list[int]]], hooks: Hooks, n: int) -> list[int]:
    """``client`` run on a topic of its own (one partition), deleted afterwards; no admin client is
    open meanwhile (its connection's work would be measured too)."""
    from kafkaio import Admin, NewTopic

    topic = "critical-path-" + uuid.uuid4().hex[:8]
    async with Admin(bootstrap_servers=os.environ["KAFKAIO_BOOTSTRAP"]) as admin:
        await admin.create_topics([NewTopic(topic, 1, 1)], wait_for_leaders=True)
    try:
        return await client(hooks, n, topic)
    finally:
        async with Admin(bootstrap_servers=os.environ["KAFKAIO_BOOTSTRAP"]) as admin:
            await admin.delete_topics([topic])


async def _kafkaio(hooks: Hooks, n: int, topic: str) -> list[int]:
    from kafkaio import Producer

    _hook_kafkaio(hooks)
    producer = Producer(bootstrap_servers=os.environ["KAFKAIO_BOOTSTRAP"], acks="all",
                        enable_idempotence=True, linger_ms=0)
    await producer.start()
    try:
        await producer.send_and_wait(topic, b"")  # the connection is open: patch its transport
        cap = os.environ.get("PRODUCE_VERSION")
        for conn in list(producer._cluster._conns.values()):
            if conn._transport is not None:
                conn._transport = cast(asyncio.Transport, _WriteProxy(conn._transport, hooks.write))
            if cap is not None and 0 in conn._versions:  # the broker's side of the round trip by version
                conn._versions[0] = min(conn._versions[0], int(cap))
        send_and_wait = producer.send_and_wait
        return await _measured(hooks, lambda value: send_and_wait(topic, value), n)
    finally:
        await producer.close()


async def _floor(hooks: Hooks, n: int, topic: str) -> list[int]:
    from benchmarks.clients import floor_client
    from benchmarks.settings import Job

    stamps = hooks.stamps
    frames_cls = floor_client._Frames
    _wrap_method(frames_cls, "data_received", hooks.read, lambda: stamps.stamp(4))
    call = frames_cls.call

    def stamped_call(self: Any, request: Any) -> Any:
        stamps.stamp(7)
        if not isinstance(self.transport, _WriteProxy):
            self.transport = _WriteProxy(self.transport, hooks.write)
        return call(self, request)

    setattr(frames_cls, "call", stamped_call)
    latencies: list[int] = []

    async def measure(job: Job, send_one: Callable[[bytes], Any]) -> dict[str, Any]:
        latencies.extend(await _measured(hooks, send_one, n))
        return {}

    setattr(floor_client, "measure_latency_async", measure)  # the floor's own loop, stamped
    job = Job(client="floor", scenario="latency", api="send_and_wait", bootstrap=os.environ["KAFKAIO_BOOTSTRAP"],
              topic=topic, records=n, record_size=int(os.environ.get("VALUE_SIZE", "100")), partitions=1)
    await floor_client._latency(job)
    return latencies


def _run(hooks: Hooks, n: int) -> list[int]:
    client = _kafkaio if os.environ.get("CLIENT", "kafkaio") == "kafkaio" else _floor
    if os.environ.get("LOOP", "asyncio") == "uvloop":
        import uvloop

        return uvloop.run(_on_topic(client, hooks, n))
    return asyncio.run(_on_topic(client, hooks, n))


def _label() -> str:
    return f"{os.environ.get('CLIENT', 'kafkaio')} loop={os.environ.get('LOOP', 'asyncio')}"


def _pct(values: list[int], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(q * len(values)))] / 1000.0


def _report_wall(stamps: _Stamps, latencies: list[int]) -> None:
    rounds = stamps.rounds()
    print(f"{_label()} rounds={len(rounds)} load={os.getloadavg()[0]:.2f}")
    print(f"send_and_wait latency us: p50 {_pct(latencies, 0.5):.1f} p99 {_pct(latencies, 0.99):.1f} "
          f"p99.9 {_pct(latencies, 0.999):.1f}")
    order = [p for p in range(9) if sum(1 for r in rounds if p in r) >= len(rounds) // 2]
    print(f"{'segment':24s} {'p50 us':>8s} {'p99 us':>8s}")
    for a, b in zip(order, order[1:]):
        seg = [r[b] - r[a] for r in rounds if a in r and b in r]
        if seg:
            print(f"{POINTS[a] + ' -> ' + POINTS[b]:24s} {_pct(seg, 0.5):8.1f} {_pct(seg, 0.99):8.1f}")
    for name, values in stamps.after_write().items():
        if values:
            print(f"{name:24s} {_pct(values, 0.5):8.1f} {_pct(values, 0.99):8.1f}  (the broker's turn)")
    for first in (p for p in (0, 1) if p in order):  # from ready (asyncio) and from read
        whole = [r[8] - r[first] for r in rounds if first in r]
        print(f"{POINTS[first] + ' -> write':24s} {_pct(whole, 0.5):8.1f} {_pct(whole, 0.99):8.1f}  "
              f"p99.9 {_pct(whole, 0.999):.1f} mean {statistics.fmean(whole) / 1000:.1f}")


def wall() -> None:
    stamps = _Stamps()
    latencies = _run(Hooks(stamps), int(os.environ.get("N", "10000")))
    _report_wall(stamps, latencies)


_LOOP_FRAMES = frozenset({"_run", "run", "run_until_complete", "run_forever"})


def trace() -> None:
    n = int(os.environ.get("N", "1000"))
    calls: collections.Counter[tuple[str, int, str]] = collections.Counter()
    ops: collections.Counter[tuple[str, int, str]] = collections.Counter()
    handles = collections.Counter[str]()
    passes = [0]

    def tracer(frame: FrameType, event: str, arg: Any) -> Any:
        code = frame.f_code
        if event == "call":
            key = (code.co_filename, code.co_firstlineno, code.co_qualname)
            calls[key] += 1
            if code.co_name == "_run_once":
                passes[0] += 1
            back = frame.f_back
            # called by the loop: asyncio's Handle._run; uvloop's C callbacks, under the frame that started the loop
            if (back is None or back.f_code.co_name in _LOOP_FRAMES) and code.co_name != "_run_once":
                handles[code.co_qualname] += 1
            frame.f_trace_opcodes = True
            frame.f_trace_lines = False
        elif event == "opcode":
            ops[(code.co_filename, code.co_firstlineno, code.co_qualname)] += 1
        return tracer

    stamps = _Stamps()
    on, off = (lambda: sys.settrace(tracer)), (lambda: sys.settrace(None))
    # SPAN=after: from the write to the loop's next wait for events (asyncio), the work that
    # overlaps the broker's
    hooks = Hooks(stamps, on_write=on, on_idle=off, on_end=off) if os.environ.get("SPAN") == "after" else \
        Hooks(stamps, on_read=on, on_write=off, on_end=off)
    try:
        _run(hooks, n)
    finally:
        sys.settrace(None)
    rounds = len(stamps.rounds())
    import kafkaio

    root = os.path.dirname(os.path.dirname(os.path.abspath(str(kafkaio.__file__))))
    print(f"{_label()} round trips traced: {rounds}")
    print(f"per round trip: python calls {sum(calls.values()) / rounds:.1f}, bytecodes {sum(ops.values()) / rounds:.1f}, "
          f"loop passes {passes[0] / rounds:.2f} (asyncio only), callbacks from the loop {sum(handles.values()) / rounds:.2f}")
    print("callbacks from the loop per round trip:")
    for name, count in handles.most_common():
        print(f"{count / rounds:8.2f}  {name}")
    print("functions (calls, bytecodes per round trip):")
    for key, count in ops.most_common(int(os.environ.get("TOP", "40"))):
        filename, line, name = key
        print(f"{calls[key] / rounds:6.2f} {count / rounds:8.1f}  {os.path.relpath(filename, root)}:{line} {name}")


_MARKER_C = """
#include <valgrind/callgrind.h>
void toggle(void) { CALLGRIND_TOGGLE_COLLECT; }
"""


def _marker() -> Callable[[], None]:
    """``toggle()``: callgrind's client request that switches collection on or off."""
    import ctypes
    import subprocess
    import tempfile

    tmp = tempfile.mkdtemp()
    src, lib = os.path.join(tmp, "marker.c"), os.path.join(tmp, "marker.so")
    with open(src, "w") as f:
        f.write(_MARKER_C)
    subprocess.run(["cc", "-O2", "-shared", "-fPIC", "-o", lib, src], check=True)
    toggle: Callable[[], None] = ctypes.CDLL(lib).toggle
    return toggle


def _segment() -> tuple[int, int]:
    first, last = os.environ.get("SEGMENT", "read,write").split(",")
    return _INDEX[first], _INDEX[last]


def _collect() -> None:
    """Run under callgrind (``--collect-atstart=no``): collect over SEGMENT (from each read to the
    next write, unless told otherwise)."""
    toggle = _marker()
    collecting = [False]

    def on() -> None:
        if not collecting[0]:
            collecting[0] = True
            toggle()

    def off() -> None:
        if collecting[0]:
            collecting[0] = False
            toggle()

    stamps = _Stamps()
    first, last = _segment()
    stamps.watch = {first: on, last: off}
    try:
        _run(Hooks(stamps, on_end=off), int(os.environ.get("N", "300")))
    finally:
        off()
    print(f"rounds {len(stamps.rounds())}")


def instructions() -> None:
    import re
    import subprocess
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "callgrind.out")
        run = subprocess.run(["valgrind", "--tool=callgrind", "--collect-atstart=no", f"--callgrind-out-file={out}",
                              sys.executable, "-m", "benchmarks.critical_path", "collect"],
                             check=True, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        rounds = int(re.search(r"rounds (\d+)", run.stdout).group(1))  # type: ignore[union-attr]
        with open(out) as f:
            text = f.read()
        match = re.search(r"^(?:summary|totals): (\d+)", text, re.MULTILINE)
        if match is None:
            raise RuntimeError("callgrind wrote no instruction total")
        total = int(match.group(1))
        first, last = _segment()
        print(f"{_label()} instructions {POINTS[first]} -> {POINTS[last]}: {total / rounds:.0f} "
              f"per round trip ({rounds} round trips)")
        if os.environ.get("ANNOTATE"):
            subprocess.run(["callgrind_annotate", "--inclusive=no", out], check=True)


if __name__ == "__main__":
    what = sys.argv[1] if len(sys.argv) > 1 else ""
    if what == "wall":
        wall()
    elif what == "trace":
        trace()
    elif what == "instructions":
        instructions()
    elif what == "collect":  # one run under callgrind (instructions() starts it)
        _collect()
    else:
        sys.exit("usage: python -m benchmarks.critical_path wall|trace|instructions")
