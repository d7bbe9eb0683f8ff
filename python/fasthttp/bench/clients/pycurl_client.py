"""pycurl (libcurl): at concurrency 1 one Curl handle, perform() in a loop
(the fastest sequential use of libcurl); above, one CurlMulti driving
`concurrency` handles, each restarted as soon as it completes.

With --http2: CURL_HTTP_VERSION_2TLS (h2 by ALPN), the multi handle
multiplexes (CURLPIPE_MULTIPLEX) and every handle waits for a connection able to
multiplex rather than opening its own (PIPEWAIT), so the streams share few
connections, as libcurl's documentation advises. Needs a libcurl built with
nghttp2 (the PyPI wheels' is), else the client is skipped saying so."""

from __future__ import annotations

import io
import time
from dataclasses import replace
from typing import Any

from ..config import RunResult, RunSpec, Skip
from ..measure import Recorder, WarmupFailed, Window, result, run_threads
from . import need


def _handle(pycurl: Any, spec: RunSpec) -> tuple[Any, io.BytesIO]:
    c = pycurl.Curl()
    buf = io.BytesIO()
    c.setopt(pycurl.URL, spec.url)
    c.setopt(pycurl.WRITEDATA, buf)
    c.setopt(pycurl.NOSIGNAL, 1)
    c.setopt(pycurl.TIMEOUT_MS, int(spec.timeout * 1000))
    c.setopt(pycurl.HTTPHEADER, [f"{k}: {v}" for k, v in spec.headers])
    body = spec.body()
    if spec.method == "GET" and body is None:
        c.setopt(pycurl.HTTPGET, 1)
    elif spec.method == "HEAD":
        c.setopt(pycurl.NOBODY, 1)
    else:
        if body is not None:
            c.setopt(pycurl.POSTFIELDS, body)
        if spec.method != "POST":
            c.setopt(pycurl.CUSTOMREQUEST, spec.method)
    if spec.http2:
        if not pycurl.version_info()[4] & pycurl.VERSION_HTTP2:
            raise Skip(f"unsupported: this libcurl has no HTTP/2 (built without nghttp2: "
                       f"{pycurl.version})")
        c.setopt(pycurl.HTTP_VERSION, pycurl.CURL_HTTP_VERSION_2TLS)
        c.setopt(pycurl.PIPEWAIT, 1)
    else:
        c.setopt(pycurl.HTTP_VERSION, pycurl.CURL_HTTP_VERSION_1_1)
    if spec.verify is False:
        c.setopt(pycurl.SSL_VERIFYPEER, 0)
        c.setopt(pycurl.SSL_VERIFYHOST, 0)
    elif isinstance(spec.verify, str):
        c.setopt(pycurl.CAINFO, spec.verify)
    return c, buf


def _protocol(pycurl: Any, c: Any) -> str:
    v = c.getinfo(pycurl.INFO_HTTP_VERSION)
    return {pycurl.CURL_HTTP_VERSION_1_0: "HTTP/1.0", pycurl.CURL_HTTP_VERSION_1_1: "HTTP/1.1",
            pycurl.CURL_HTTP_VERSION_2_0: "HTTP/2"}.get(v, f"curl version code {v}")


def _sequential(pycurl: Any, spec: RunSpec) -> RunResult:
    c, buf = _handle(pycurl, spec)
    perform, getinfo, code = c.perform, c.getinfo, pycurl.RESPONSE_CODE

    def one() -> tuple[int, int]:
        buf.seek(0)
        buf.truncate()
        perform()
        return int(getinfo(code)), len(buf.getvalue())

    one()
    res = run_threads(spec, [one])
    res.protocol = _protocol(pycurl, c)
    c.close()
    return res


class _Multi:
    """`concurrency` easy handles on one CurlMulti; a finished handle is
    recorded and restarted while `more(handle)` says so."""

    def __init__(self, pycurl: Any, spec: RunSpec) -> None:
        self.pycurl = pycurl
        self.m = pycurl.CurlMulti()
        self.m.setopt(pycurl.M_MAX_HOST_CONNECTIONS, spec.concurrency)
        self.m.setopt(pycurl.M_MAXCONNECTS, spec.concurrency)
        if spec.http2:
            self.m.setopt(pycurl.M_PIPELINING, pycurl.PIPE_MULTIPLEX)
        self.handles = [_handle(pycurl, spec) for _ in range(spec.concurrency)]
        self.bufs = {id(c): b for c, b in self.handles}
        self.started: dict[int, float] = {}
        self.count: dict[int, int] = {}

    def _start(self, c: Any) -> None:
        b = self.bufs[id(c)]
        b.seek(0)
        b.truncate()
        self.count[id(c)] = self.count.get(id(c), 0) + 1
        self.started[id(c)] = time.perf_counter()
        self.m.add_handle(c)

    def pump(self, rec: Recorder, warmup: int, deadline: float) -> None:
        """Runs until every handle has done `warmup` requests (warmup > 0) or
        until the deadline; latencies go to rec."""
        pycurl, m, pc = self.pycurl, self.m, time.perf_counter
        self.count.clear()

        def more(c: Any) -> bool:
            return self.count[id(c)] < warmup if warmup else pc() < deadline

        active = 0
        for c, _ in self.handles:
            if warmup or pc() < deadline:
                self._start(c)
                active += 1
        while active:
            while True:
                ret, _ = m.perform()
                if ret != pycurl.E_CALL_MULTI_PERFORM:
                    break
            while True:
                queued, ok, failed = m.info_read()
                now = pc()
                for c in ok:
                    m.remove_handle(c)
                    rec.add(now - self.started[id(c)], int(c.getinfo(pycurl.RESPONSE_CODE)),
                            len(self.bufs[id(c)].getvalue()))
                    if more(c):
                        self._start(c)
                    else:
                        active -= 1
                for c, errno, msg in failed:
                    m.remove_handle(c)
                    rec.error(f"pycurl.error {errno}", str(msg))
                    if more(c):
                        self._start(c)
                    else:
                        active -= 1
                if not queued:
                    break
            if active:
                # libcurl's own deadline caps the wait: over HTTP/2 + TLS it may hold
                # data already read (no socket turns readable for it) and asks to be
                # called at once (timeout 0); a blind select(0.5) stalled such runs.
                ms = m.timeout()
                if ms != 0:
                    m.select(0.5 if ms < 0 else min(ms / 1000.0, 0.5))

    def close(self) -> None:
        for c, _ in self.handles:
            c.close()
        self.m.close()


def run(spec: RunSpec) -> RunResult:
    pycurl = need("pycurl")
    res = _sequential(pycurl, spec) if spec.concurrency == 1 else _concurrent(pycurl, spec)
    info = pycurl.version_info()
    h2 = [p for p in pycurl.version.split() if p.startswith("nghttp2/")]  # the wheel's own
    res.version = (f"{pycurl.version.split()[0].split('/')[1]} (libcurl {info[1]}, {info[5]}"
                   f"{', ' + h2[0] if h2 else ''})")
    return res


def _concurrent(pycurl: Any, spec: RunSpec) -> RunResult:
    multi = _Multi(pycurl, spec)
    warm = Recorder(1, spec.expect_bytes)
    multi.pump(warm, max(1, spec.warmup), 0.0)
    if warm.success == 0:
        raise WarmupFailed(f"every warm-up request failed: {warm.example}")
    rec = Recorder(spec.latency_samples, spec.expect_bytes)
    w = Window(spec)
    deadline = w.start()
    multi.pump(rec, 0, deadline)
    w.stop()
    res = result(spec, w, [rec])
    res.protocol = _protocol(pycurl, multi.handles[0][0])
    multi.close()
    return res


def stream(spec: RunSpec) -> RunResult:
    """One streamed transfer (stream.py): a WRITEFUNCTION that counts down, a
    READFUNCTION up (POST with the length known)."""
    pycurl = need("pycurl")
    from ..stream import Upload, transfer

    c, _ = _handle(pycurl, replace(spec, timeout=0.0))
    c.setopt(pycurl.TIMEOUT_MS, 0)  # no overall deadline for a long transfer

    def one(up: Upload | None) -> tuple[int, int]:
        got = [0]

        def sink(data: bytes) -> None:
            got[0] += len(data)

        c.setopt(pycurl.WRITEFUNCTION, sink)
        if up is not None:
            c.setopt(pycurl.POST, 1)
            c.setopt(pycurl.READFUNCTION, up.read)
            c.setopt(pycurl.POSTFIELDSIZE_LARGE, up.size)
        c.perform()
        return int(c.getinfo(pycurl.RESPONSE_CODE)), got[0]

    res = transfer(spec, one)
    c.close()
    return res
