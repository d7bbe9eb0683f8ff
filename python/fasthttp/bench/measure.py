"""The measurement shared by every client: warm-up, a timed window, per-request
latencies, counts, bytes and CPU.

A client supplies one callable that sends one request and returns
``(status, body_bytes)`` (reading the whole body); the harness runs
``concurrency`` copies of it — threads for sync clients, asyncio tasks for async
ones. Each worker first sends ``warmup`` requests (so every connection is open
and warm), then all start together and loop until the deadline; a worker never
starts a request after it, and the window ends when the last one is back.
"""

from __future__ import annotations

import asyncio
import os
import random
import resource
import threading
import time
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from typing import Any

from . import cpu
from .config import RunResult, RunSpec

SyncOne = Callable[[], "tuple[int, int]"]
AsyncOne = Callable[[], "Awaitable[tuple[int, int]]"]


class Recorder:
    """Counts and latency samples of one worker (one thread, or every task of
    one event loop). Latencies of successful requests only; beyond ``cap`` the
    samples are a uniform reservoir sample (algorithm R). A 2xx response whose
    body is not ``expect`` bytes long (when expect >= 0) is an error: a client
    that drops or truncates bodies must not be counted as fast."""

    __slots__ = ("bytes_in", "cap", "example", "expect", "kinds", "samples", "seen",
                 "success")

    def __init__(self, cap: int, expect: int = -1) -> None:
        self.cap = max(1, cap)
        self.expect = expect
        self.samples: list[float] = []
        self.seen = 0
        self.success = 0
        self.bytes_in = 0
        self.kinds: dict[str, int] = {}
        self.example = ""

    def add(self, latency: float, status: int, nbytes: int) -> None:
        if 200 <= status < 300 and 0 <= self.expect != nbytes:
            self.error("wrong body length", f"{nbytes} bytes, expected {self.expect}")
        elif 200 <= status < 300:
            self.success += 1
            self.bytes_in += nbytes
            self.seen += 1
            if len(self.samples) < self.cap:
                self.samples.append(latency)
            else:
                j = random.randrange(self.seen)
                if j < self.cap:
                    self.samples[j] = latency
        else:
            self.error(f"HTTP {status}", f"status {status}")

    def error(self, kind: str, message: str) -> None:
        self.kinds[kind] = self.kinds.get(kind, 0) + 1
        if not self.example:
            self.example = f"{kind}: {message}"[:300]

    def exception(self, e: BaseException) -> None:
        self.error(type(e).__name__, str(e) or repr(e))

    @property
    def errors(self) -> int:
        return sum(self.kinds.values())


class Window:
    """Wall clock and CPU at the start and the end of the measured window."""

    def __init__(self, spec: RunSpec) -> None:
        self.spec = spec
        self.t0 = self.t1 = 0.0
        self.cpu0 = self.cpu1 = 0.0
        self.target0 = self.target1 = 0.0
        self.other0 = self.other1 = -1.0
        self._exclude = {os.getpid(), os.getppid(), spec.target_pid}

    @staticmethod
    def _self_cpu() -> float:
        ru = resource.getrusage(resource.RUSAGE_SELF)
        return ru.ru_utime + ru.ru_stime

    def start(self) -> float:
        """Marks the start; returns the deadline."""
        self.other0 = cpu.others_seconds(self._exclude)
        self.target0 = cpu.process_seconds(self.spec.target_pid)
        self.cpu0 = self._self_cpu()
        self.t0 = time.perf_counter()
        return self.t0 + self.spec.duration

    def stop(self) -> None:
        self.t1 = time.perf_counter()
        self.cpu1 = self._self_cpu()
        self.target1 = cpu.process_seconds(self.spec.target_pid)
        self.other1 = cpu.others_seconds(self._exclude)


def _pct(p: float, ordered: Sequence[float]) -> float:
    """Nearest-rank percentile of sorted samples, in ms."""
    if not ordered:
        return 0.0
    k = max(0, min(len(ordered) - 1, int(-(-p * len(ordered) // 100)) - 1))
    return ordered[k] * 1000.0


def result(spec: RunSpec, w: Window, recs: Sequence[Recorder]) -> RunResult:
    """The RunResult of a finished window."""
    r = RunResult(client=spec.client)
    secs = max(w.t1 - w.t0, 1e-9)
    samples = sorted(s for rec in recs for s in rec.samples)
    r.success = sum(rec.success for rec in recs)
    r.errors = sum(rec.errors for rec in recs)
    r.requests = r.success + r.errors
    for rec in recs:
        for k, n in rec.kinds.items():
            r.error_kinds[k] = r.error_kinds.get(k, 0) + n
        r.error_example = r.error_example or rec.example
    r.seconds = secs
    r.rps = r.requests / secs
    r.latency_samples = len(samples)
    if samples:
        r.avg_ms = sum(samples) / len(samples) * 1000.0
        r.p50_ms = _pct(50, samples)
        r.p95_ms = _pct(95, samples)
        r.p99_ms = _pct(99, samples)
        r.max_ms = samples[-1] * 1000.0
    r.bytes_in = sum(rec.bytes_in for rec in recs)
    r.bytes_out = r.success * (spec.body_size if spec.body_size > 0 else 0)
    r.mbps = (r.bytes_in + r.bytes_out) * 8 / secs / 1e6
    if r.requests:
        r.client_cpu_us_per_req = (w.cpu1 - w.cpu0) / r.requests * 1e6
    if spec.target_pid > 0:
        r.target_cpu_pct = (w.target1 - w.target0) / secs * 100.0
    if w.other0 >= 0 and w.other1 >= 0:
        r.other_cpu_pct = max(0.0, (w.other1 - w.other0) / secs * 100.0)
    return r


class WarmupFailed(RuntimeError):
    """Every warm-up request failed: nothing sensible can be measured."""


def _check_warmup(recs: Sequence[Recorder]) -> None:
    if sum(r.success for r in recs) == 0 and any(r.kinds for r in recs):
        example = next(r.example for r in recs if r.example)
        raise WarmupFailed(f"every warm-up request failed: {example}")


def _sync_loop(one: SyncOne, deadline: float, rec: Recorder) -> None:
    pc = time.perf_counter
    add = rec.add
    while True:
        t0 = pc()
        if t0 >= deadline:
            return
        try:
            status, n = one()
        except Exception as e:  # counted, the run goes on
            rec.exception(e)
            continue
        add(pc() - t0, status, n)


def _sync_warm(one: SyncOne, count: int, rec: Recorder) -> None:
    for _ in range(count):
        try:
            status, n = one()
            rec.add(0.0, status, n)
        except Exception as e:
            rec.exception(e)


def run_threads(spec: RunSpec, ones: Sequence[SyncOne]) -> RunResult:
    """Sync clients: one thread per callable in `ones` (one per concurrent
    worker; they may share one client object). With one, no thread at all."""
    n = len(ones)
    cap = max(1, spec.latency_samples // n)
    warm = [Recorder(1, spec.expect_bytes) for _ in range(n)]
    recs = [Recorder(cap, spec.expect_bytes) for _ in range(n)]
    w = Window(spec)
    if n == 1:
        _sync_warm(ones[0], spec.warmup, warm[0])
        _check_warmup(warm)
        deadline = w.start()
        _sync_loop(ones[0], deadline, recs[0])
        w.stop()
        return result(spec, w, recs)

    ready = threading.Barrier(n + 1)
    go = threading.Barrier(n + 1)
    shared = {"deadline": 0.0}

    def body(i: int) -> None:
        _sync_warm(ones[i], spec.warmup, warm[i])
        ready.wait()
        go.wait()
        _sync_loop(ones[i], shared["deadline"], recs[i])

    threads = [threading.Thread(target=body, args=(i,), daemon=True) for i in range(n)]
    for t in threads:
        t.start()
    ready.wait()
    try:
        _check_warmup(warm)
    except WarmupFailed:
        shared["deadline"] = 0.0
        go.wait()
        for t in threads:
            t.join()
        raise
    shared["deadline"] = w.start()
    go.wait()
    for t in threads:
        t.join()
    w.stop()
    return result(spec, w, recs)


async def run_tasks(spec: RunSpec, one: AsyncOne) -> RunResult:
    """Async clients: `concurrency` tasks on the running loop, one client."""
    n = spec.concurrency
    warm = Recorder(1, spec.expect_bytes)
    rec = Recorder(spec.latency_samples, spec.expect_bytes)

    async def warmer() -> None:
        for _ in range(spec.warmup):
            try:
                status, nbytes = await one()
                warm.add(0.0, status, nbytes)
            except Exception as e:
                warm.exception(e)

    async def worker(deadline: float) -> None:
        pc = time.perf_counter
        add = rec.add
        while True:
            t0 = pc()
            if t0 >= deadline:
                return
            try:
                status, nbytes = await one()
            except Exception as e:  # counted, the run goes on
                rec.exception(e)
                continue
            add(pc() - t0, status, nbytes)

    await asyncio.gather(*(warmer() for _ in range(n)))
    _check_warmup([warm])
    w = Window(spec)
    deadline = w.start()
    await asyncio.gather(*(worker(deadline) for _ in range(n)))
    w.stop()
    return result(spec, w, [rec])


def run_async(spec: RunSpec, main: Callable[[], Coroutine[Any, Any, RunResult]]) -> RunResult:
    """Runs an async client's main coroutine on the loop the spec asks for."""
    loop: asyncio.AbstractEventLoop
    if spec.loop == "uvloop":
        import importlib

        loop = importlib.import_module("uvloop").new_event_loop()
    else:
        loop = asyncio.new_event_loop()
    try:
        asyncio.set_event_loop(loop)
        return loop.run_until_complete(main())
    finally:
        asyncio.set_event_loop(None)
        loop.close()
