"""One streamed transfer per run (RunSpec.stream): a large download read chunk
by chunk, or a large upload sent from a generator, with the throughput and the
extra resident memory it took.

Every run is a process of its own (runner.py), so the memory is the client's
alone: the peak RSS is reset (``/proc/self/clear_refs``, Linux) once the
client is set up and its connection open, and the extra RSS is the peak during
the transfer less the RSS before it. A client that buffers the whole body
shows it here. The transfer must be whole: a download that does not deliver
exactly ``stream_size`` bytes, or an upload whose generator was not drained or
whose reply is not the target's, is an error.
"""

from __future__ import annotations

import resource
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator

from .config import RunResult, RunSpec
from .measure import Window
from .target import UPLOAD_REPLY

CHUNK = 256 * 1024  # what the upload generator yields, and the read size asked for


class Upload:
    """A request body of `size` bytes in CHUNK pieces (one bytes object, yielded
    again and again, so the body itself costs no memory); counts what was taken."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.sent = 0
        self.block = b"x" * CHUNK

    def __iter__(self) -> Iterator[bytes]:
        while self.sent < self.size:
            n = min(CHUNK, self.size - self.sent)
            self.sent += n
            yield self.block if n == CHUNK else self.block[:n]

    async def aiter(self) -> AsyncIterator[bytes]:
        for chunk in self:
            yield chunk

    def read(self, n: int = -1) -> bytes:
        """A file-like read, for clients that pull (pycurl's READFUNCTION)."""
        left = self.size - self.sent
        k = min(left, CHUNK if n < 0 else n)
        self.sent += k
        return self.block[:k]


def _status_kib(field: str) -> int:
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        pass
    return -1


def _reset_peak() -> bool:
    """Resets VmHWM to the current RSS (Linux >= 4.0); False if it cannot."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


# A transfer: given the upload body (None for a download), does the whole request and
# returns (status, bytes): the body bytes read for a download, the reply's length for an
# upload.
Transfer = Callable[["Upload | None"], "tuple[int, int]"]
AsyncTransfer = Callable[["Upload | None"], "Awaitable[tuple[int, int]]"]


class _Meter:
    def __init__(self, spec: RunSpec) -> None:
        self.spec = spec
        self.up = Upload(spec.stream_size) if spec.stream == "up" else None
        self.w = Window(spec)
        self.reset = _reset_peak()
        self.base = _status_kib("VmRSS")
        self.w.start()

    def finish(self, status: int, nbytes: int, error: BaseException | None) -> RunResult:
        self.w.stop()
        peak = _status_kib("VmHWM") if self.reset else resource.getrusage(
            resource.RUSAGE_SELF).ru_maxrss
        spec, r = self.spec, RunResult(client=self.spec.client)
        r.seconds = max(self.w.t1 - self.w.t0, 1e-9)
        r.requests = 1
        if error is not None:
            kind, msg = type(error).__name__, str(error) or repr(error)
        elif not 200 <= status < 300:
            kind, msg = f"HTTP {status}", f"status {status}"
        elif self.up is not None and (self.up.sent != spec.stream_size
                                      or nbytes != len(UPLOAD_REPLY)):
            kind, msg = "incomplete upload", (f"{self.up.sent} of {spec.stream_size} bytes "
                                              f"taken, reply of {nbytes} bytes")
        elif self.up is None and nbytes != spec.stream_size:
            kind, msg = "wrong body length", f"{nbytes} bytes, expected {spec.stream_size}"
        else:
            kind = msg = ""
        if kind:
            r.errors, r.error_kinds, r.error_example = 1, {kind: 1}, f"{kind}: {msg}"[:300]
        else:
            r.success = 1
            r.bytes_in = nbytes if self.up is None else 0
            r.bytes_out = spec.stream_size if self.up is not None else 0
        r.rps = 1 / r.seconds
        r.mbps = (r.bytes_in + r.bytes_out) * 8 / r.seconds / 1e6
        r.avg_ms = r.p50_ms = r.p95_ms = r.p99_ms = r.max_ms = r.seconds * 1000
        r.client_cpu_us_per_req = (self.w.cpu1 - self.w.cpu0) * 1e6
        if spec.target_pid > 0:
            r.target_cpu_pct = (self.w.target1 - self.w.target0) / r.seconds * 100.0
        if self.w.other0 >= 0 and self.w.other1 >= 0:
            r.other_cpu_pct = max(0.0, (self.w.other1 - self.w.other0) / r.seconds * 100.0)
        r.rss_base_kib, r.rss_peak_kib = self.base, peak
        r.rss_extra_kib = max(0, peak - self.base)
        return r


def transfer(spec: RunSpec, one: Transfer) -> RunResult:
    """Runs one streamed transfer (sync clients); the client is set up already."""
    m = _Meter(spec)
    try:
        status, n = one(m.up)
    except Exception as e:  # reported as the run's error
        return m.finish(0, 0, e)
    return m.finish(status, n, None)


async def atransfer(spec: RunSpec, one: AsyncTransfer) -> RunResult:
    """The same for async clients, on the running loop."""
    m = _Meter(spec)
    try:
        status, n = await one(m.up)
    except Exception as e:
        return m.finish(0, 0, e)
    return m.finish(status, n, None)
