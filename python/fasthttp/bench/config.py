"""What one run of one client is asked to do (RunSpec) and what it reports
(RunResult). Both cross the process boundary as JSON."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any, Union

Verify = Union[bool, str]  # False: no verification; True: system CAs; str: a CA file


@dataclass
class RunSpec:
    """One measured run: one client, one scenario."""

    client: str
    url: str
    method: str = "GET"
    headers: list[tuple[str, str]] = field(default_factory=list)
    body_size: int = 0
    concurrency: int = 1
    duration: float = 5.0
    warmup: int = 10  # requests per concurrent worker before the clock starts
    timeout: float = 30.0
    verify: Verify = True
    http2: bool = False
    latency_samples: int = 200_000
    loop: str = "asyncio"  # event loop of the async clients: asyncio | uvloop
    target_pid: int = 0  # the embedded nginx (0: external target), for its CPU share
    # The body length every response must have (the embedded target knows it); a 2xx
    # response of another length counts as an error, so a client that returns short or
    # empty bodies is never counted as fast. -1: unknown (--url).
    expect_bytes: int = -1
    # A single streamed transfer instead of a timed loop (stream.py): "down" reads
    # the URL's body chunk by chunk, "up" POSTs stream_size bytes from a generator;
    # the result is the throughput and the extra peak RSS it took.
    stream: str = ""
    stream_size: int = 0

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> RunSpec:
        d = dict(d)
        d["headers"] = [(str(k), str(v)) for k, v in d.get("headers", [])]
        return cls(**d)

    def body(self) -> bytes | None:
        """The request body: body_size bytes, or None for no body."""
        return b"x" * self.body_size if self.body_size > 0 else None


@dataclass
class RunResult:
    """The outcome of one run. status: ok | skipped | failed."""

    client: str
    status: str = "ok"
    reason: str = ""
    version: str = ""
    protocol: str = ""  # the HTTP version the responses came with, where the client tells
    requests: int = 0  # completed in the window (success + errors)
    success: int = 0  # 2xx responses
    errors: int = 0  # exceptions and non-2xx responses
    error_kinds: dict[str, int] = field(default_factory=dict)  # exception class or "HTTP nnn"
    error_example: str = ""  # the first error's message
    seconds: float = 0.0
    rps: float = 0.0
    avg_ms: float = 0.0
    p50_ms: float = 0.0
    p95_ms: float = 0.0
    p99_ms: float = 0.0
    max_ms: float = 0.0
    latency_samples: int = 0
    bytes_in: int = 0  # response body bytes
    bytes_out: int = 0  # request body bytes
    mbps: float = 0.0  # (bytes_in + bytes_out) * 8 / seconds / 1e6
    client_cpu_us_per_req: float = 0.0
    target_cpu_pct: float = -1.0  # % of one core; -1: unknown (external target)
    other_cpu_pct: float = -1.0  # other processes on the machine, % of one core
    # What the server logged for this run (--http2 runs): requests per protocol as nginx's
    # $server_protocol spells it ("HTTP/2.0", "HTTP/1.1"), and connections used.
    server_protocols: dict[str, int] = field(default_factory=dict)
    server_connections: int = 0
    # Streamed transfers (spec.stream): resident memory before the transfer (the client
    # set up) and its peak during it, KiB; extra = peak - base.
    rss_base_kib: int = 0
    rss_peak_kib: int = 0
    rss_extra_kib: int = 0

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> RunResult:
        names = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in d.items() if k in names})


class Skip(Exception):
    """Raised by a client that cannot run: not installed, or unsupported."""
