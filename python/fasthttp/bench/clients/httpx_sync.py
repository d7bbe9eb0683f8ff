"""httpx, sync: `concurrency` threads sharing one httpx.Client."""

from __future__ import annotations

from typing import Any

from ..config import RunResult, RunSpec, Skip
from ..measure import SyncOne, run_threads
from . import headers, http_version, need, ssl_context


def client_kwargs(spec: RunSpec, httpx: Any) -> dict[str, Any]:
    """Settings shared by httpx.Client and httpx.AsyncClient."""
    c = spec.concurrency
    if spec.http2:
        need("h2", "httpx[http2]")
    return {
        "limits": httpx.Limits(max_connections=c, max_keepalive_connections=c),
        "timeout": httpx.Timeout(spec.timeout),
        "verify": False if spec.verify is False else ssl_context(spec.verify),
        "http2": spec.http2,
        "http1": True,
        "headers": headers(spec),
    }


def run(spec: RunSpec) -> RunResult:
    httpx = need("httpx")
    try:
        client = httpx.Client(**client_kwargs(spec, httpx))
    except ImportError as e:
        raise Skip(f"not installed: {e}") from e
    with client:
        request, method, url, body = client.request, spec.method, spec.url, spec.body()

        def one() -> tuple[int, int]:
            r = request(method, url, content=body)
            return int(r.status_code), len(r.content)

        probe = request(method, url, content=body)
        ones: list[SyncOne] = [one] * spec.concurrency
        res = run_threads(spec, ones)
        res.protocol = http_version(probe.http_version)
        return res


def stream(spec: RunSpec) -> RunResult:
    """One streamed transfer (stream.py): client.stream() down, a generator up."""
    httpx = need("httpx")
    from ..stream import CHUNK, Upload, transfer

    with httpx.Client(**client_kwargs(spec, httpx)) as client:

        def one(up: Upload | None) -> tuple[int, int]:
            if up is not None:
                r = client.post(spec.url, content=iter(up))
                return int(r.status_code), len(r.content)
            n = 0
            with client.stream("GET", spec.url) as r:
                for chunk in r.iter_bytes(CHUNK):
                    n += len(chunk)
            return int(r.status_code), n

        return transfer(spec, one)
