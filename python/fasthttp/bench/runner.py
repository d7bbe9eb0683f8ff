"""Runs every (scenario, client) pair in interleaved rounds — round 1: A B C,
round 2: A B C, ... — each run in a fresh worker process, so no client inherits
another's heap, threads or sockets, and slow drifts of a shared machine hit
every client alike."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import TextIO

from . import cpu
from .clients import ClientInfo
from .config import RunResult, RunSpec, Verify
from .target import ProtocolLog


@dataclass(frozen=True)
class Scenario:
    """One table: what is requested, how many at a time."""

    key: str  # e.g. "json-c64"
    title: str  # e.g. "GET /json, 1 KiB JSON, concurrency 64"
    payload: str  # "json", "64k", "upload 1k", "url"
    url: str
    method: str
    body_size: int
    concurrency: int
    expect_bytes: int = -1  # every response's body length (-1: unknown, --url)
    headers: tuple[tuple[str, str], ...] = ()  # added to the run's --header fields
    stream: str = ""  # "down" | "up": one streamed transfer of stream_size bytes
    stream_size: int = 0
    # Set by a run over several targets (the matrix: plain and TLS nginx): the target
    # this scenario's URL is on and how to trust it, and its own timeout; 0 / None: the
    # run's.
    target_pid: int = 0
    target_name: str = "nginx"  # whose CPU the table shows (the upload sink's: "sink")
    verify: Verify | None = None
    timeout: float = 0.0


Results = dict[tuple[str, str], list[RunResult]]  # (scenario key, client id) → one per round


def run_worker(spec: RunSpec) -> RunResult:
    """One run in a new process: python -m fasthttp.bench.worker."""
    fd, out = tempfile.mkstemp(prefix="fh-bench-", suffix=".json")
    os.close(fd)
    budget = spec.duration + 3 * spec.timeout + 120
    try:
        proc = subprocess.run(
            [sys.executable, "-m", "fasthttp.bench.worker", "--out", out],
            input=json.dumps(spec.to_dict()).encode(), capture_output=True, timeout=budget,
        )
        with open(out) as f:
            text = f.read()
        if proc.returncode == 0 and text:
            return RunResult.from_dict(json.loads(text))
        tail = proc.stderr.decode(errors="replace").strip().splitlines()[-3:]
        return RunResult(client=spec.client, status="failed",
                         reason=f"worker exited with status {proc.returncode}: "
                                + " | ".join(tail))
    except subprocess.TimeoutExpired:
        return RunResult(client=spec.client, status="failed",
                         reason=f"worker did not finish within {budget:.0f} s")
    finally:
        os.unlink(out)


def _line(res: RunResult) -> str:
    if res.status == "ok" and res.rss_peak_kib:  # a streamed transfer
        errs = f", error: {res.error_example}" if res.errors else ""
        return (f"{res.mbps / 8:10.0f} MB/s, +{res.rss_extra_kib / 1024:.1f} MiB RSS{errs}")
    if res.status == "ok":
        errs = f", {res.errors} errors" if res.errors else ""
        return f"{res.rps:10.0f} req/s{errs}"
    return f"{res.status}: {res.reason}"


class Runner:
    """`server_log`, when given, returns what the server logged since its last call
    (NginxTarget.take_log): called before a run to start afresh, and after it, so
    each run is told which protocol the server really saw. `prepare` maps a
    scenario's key to what must happen before each of its runs, outside the
    measured window (NginxTarget.warm for the 1 GiB download)."""

    def __init__(self, base: RunSpec, clients: list[ClientInfo], scenarios: list[Scenario],
                 rounds: int, max_other: float, log: TextIO,
                 server_log: Callable[[], ProtocolLog] | None = None,
                 prepare: Mapping[str, Callable[[], None]] | None = None) -> None:
        self.base = base
        self.server_log = server_log
        self.prepare = prepare or {}
        self.clients = clients
        self.scenarios = scenarios
        self.rounds = rounds
        self.max_other = max_other
        self.log = log
        self.repeats = 0

    def _spec(self, s: Scenario, c: ClientInfo) -> RunSpec:
        return replace(self.base, client=c.id, url=s.url, method=s.method,
                       body_size=s.body_size, concurrency=s.concurrency,
                       http2=self.base.http2 and not c.http1_reference,
                       expect_bytes=s.expect_bytes, headers=[*self.base.headers, *s.headers],
                       stream=s.stream, stream_size=s.stream_size,
                       target_pid=s.target_pid or self.base.target_pid,
                       verify=self.base.verify if s.verify is None else s.verify,
                       timeout=s.timeout or self.base.timeout)

    def _run_logged(self, spec: RunSpec) -> RunResult:
        """One worker run, with the server's view of it when there is a log."""
        if self.server_log is None:
            return run_worker(spec)
        self.server_log()  # whatever came before (waiting, an earlier run) is dropped
        res = run_worker(spec)
        seen = self.server_log()
        res.server_protocols = dict(seen.requests)
        res.server_connections = seen.connections
        return res

    def _wait_quiet(self, spec: RunSpec, limit: float = 10.0) -> None:
        """Before a run: wait (up to `limit` s) until other processes take less than
        max_other % of a core over half a second."""
        if self.max_other <= 0:
            return
        mine = {os.getpid(), os.getppid(), spec.target_pid}
        deadline = time.monotonic() + limit
        while True:
            t0, c0 = time.monotonic(), cpu.others_seconds(mine)
            time.sleep(0.5)
            busy = (cpu.others_seconds(mine) - c0) / (time.monotonic() - t0) * 100
            if c0 < 0 or busy <= self.max_other or time.monotonic() >= deadline:
                return

    def _one(self, spec: RunSpec) -> RunResult:
        self._wait_quiet(spec)
        res = self._run_logged(spec)
        # Another job on the machine distorts a run: repeat it (twice at most), keep the
        # least disturbed one.
        for _ in range(2):
            if res.status != "ok" or self.max_other <= 0 or res.other_cpu_pct <= self.max_other:
                break
            self.log.write(f"busy (other processes {res.other_cpu_pct:.0f}%), again ... ")
            self.log.flush()
            self.repeats += 1
            self._wait_quiet(spec)
            again = self._run_logged(spec)
            if again.status == "ok" and again.other_cpu_pct < res.other_cpu_pct:
                res = again
        return res

    def run(self) -> Results:
        results: Results = {}
        # A skip (not installed, unsupported) is final for the client, per kind of run
        # (timed loop, streamed download, streamed upload).
        skipped: dict[tuple[str, str], RunResult] = {}
        for r in range(self.rounds):
            for s in self.scenarios:
                for c in self.clients:
                    self.log.write(f"  round {r + 1}/{self.rounds}  {s.key:<12} {c.label:<18} ... ")
                    self.log.flush()
                    if (c.id, s.stream) in skipped:
                        res = replace(skipped[c.id, s.stream])
                    else:
                        if s.key in self.prepare:
                            self.prepare[s.key]()
                        res = self._one(self._spec(s, c))
                        if res.status == "skipped":
                            skipped[c.id, s.stream] = res
                    results.setdefault((s.key, c.id), []).append(res)
                    self.log.write(_line(res) + "\n")
                    self.log.flush()
        return results
