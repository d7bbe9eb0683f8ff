"""niquests, sync: `concurrency` threads, each with its own Session holding one
pooled connection (like requests). HTTP/2 and HTTP/3 are turned off unless
--http2 asks for HTTP/2; then the threads share one Session whose pool holds a
single connection, which niquests multiplexes: on this machine that beat a
Session (and an HTTP/2 connection) per thread, so niquests is shown at its best.
niquests' `multiplexed=True` mode is not used: it sends a batch and gathers the
lazy responses, which is not the one-request-per-worker loop measured here."""

from __future__ import annotations

from typing import Any

from ..config import RunResult, RunSpec
from ..measure import SyncOne, run_threads
from . import headers, http_version, need


def session_kwargs(spec: RunSpec, pool: int) -> dict[str, Any]:
    """pool: connections kept; over HTTP/2 always 1 (see the module's doc)."""
    return {"pool_connections": 1, "pool_maxsize": 1 if spec.http2 else pool, "retries": 0,
            "disable_http2": not spec.http2, "disable_http3": True}


def response_protocol(r: Any) -> str:
    v = getattr(r, "http_version", None) or getattr(getattr(r, "raw", None), "version", None)
    return http_version(v) if v else ""


def run(spec: RunSpec) -> RunResult:
    niquests = need("niquests")
    method, url, body, timeout = spec.method, spec.url, spec.body(), spec.timeout
    # Per request: a session's verify loses to REQUESTS_CA_BUNDLE / CURL_CA_BUNDLE.
    verify = spec.verify

    def make() -> tuple[SyncOne, Any]:
        s = niquests.Session(**session_kwargs(spec, 1))
        s.headers.update(headers(spec))
        request = s.request

        def one() -> tuple[int, int]:
            r = request(method, url, data=body, timeout=timeout, verify=verify)
            return int(r.status_code), len(r.content or b"")

        return one, s

    if spec.http2:  # one shared Session: threads' requests become streams of one connection
        one, shared = make()
        made = [(one, shared)] * spec.concurrency
    else:
        made = [make() for _ in range(spec.concurrency)]
    probe = made[0][1].request(method, url, data=body, timeout=timeout, verify=verify)
    res = run_threads(spec, [one for one, _ in made])
    res.protocol = response_protocol(probe)
    for s in {id(s): s for _, s in made}.values():
        s.close()
    return res


def stream(spec: RunSpec) -> RunResult:
    """One streamed transfer (stream.py): stream=True and iter_content() down, a
    generator up (sent chunked)."""
    niquests = need("niquests")
    from ..stream import CHUNK, Upload, transfer

    with niquests.Session(**session_kwargs(spec, 1)) as s:
        s.headers.update(headers(spec))

        def one(up: Upload | None) -> tuple[int, int]:
            if up is not None:
                r = s.post(spec.url, data=iter(up), timeout=spec.timeout, verify=spec.verify)
                return int(r.status_code or 0), len(r.content or b"")
            n = 0
            r = s.get(spec.url, stream=True, timeout=spec.timeout, verify=spec.verify)
            for chunk in r.iter_content(CHUNK):
                n += len(chunk)
            r.close()
            return int(r.status_code or 0), n

        return transfer(spec, one)
