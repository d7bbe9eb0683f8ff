"""niquests, sync: `concurrency` threads, each with its own Session holding one
pooled connection (like requests). HTTP/2 and HTTP/3 are turned off unless
--http2 asks for HTTP/2."""

from __future__ import annotations

from typing import Any

from ..config import RunResult, RunSpec
from ..measure import SyncOne, run_threads
from . import headers, http_version, need


def session_kwargs(spec: RunSpec, pool: int) -> dict[str, Any]:
    return {"pool_connections": 1, "pool_maxsize": pool, "retries": 0,
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

    made = [make() for _ in range(spec.concurrency)]
    probe = made[0][1].request(method, url, data=body, timeout=timeout, verify=verify)
    res = run_threads(spec, [one for one, _ in made])
    res.protocol = response_protocol(probe)
    for _, s in made:
        s.close()
    return res
