"""maxhttp, the original pure-Python fasthttp (on h11pro), async: `concurrency`
asyncio tasks on one `async with Client()` whose pool keeps `concurrency`
connections per host. Its Client is async first (the sync face runs each call
on an event loop of its own), so only the asyncio face is measured."""

from __future__ import annotations

import ssl
from typing import Any

from ..config import RunResult, RunSpec
from ..measure import run_async, run_tasks
from . import headers, need, no_http2, ssl_context


def _tls(spec: RunSpec) -> dict[str, Any]:
    """Per-request TLS arguments: maxhttp takes verify / ssl_context per call."""
    if not spec.url.startswith("https:"):
        return {}
    if spec.verify is False:
        return {"verify": False}
    ctx: ssl.SSLContext = ssl_context(spec.verify)
    return {"ssl_context": ctx}


def _client(spec: RunSpec) -> Any:
    maxhttp = need("maxhttp")
    pool = need("maxhttp.pool", "maxhttp")
    return maxhttp.Client(pool=pool.ConnectionPool(max_per_host=max(1, spec.concurrency)),
                          timeout=spec.timeout)


def run(spec: RunSpec) -> RunResult:
    no_http2(spec, "maxhttp", " in this benchmark (its HTTP/2 needs the h2 extra)")
    client = _client(spec)
    hdrs, tls = headers(spec), _tls(spec)
    method, url, body = spec.method, spec.url, spec.body()

    async def main() -> RunResult:
        async with client:
            request = client.request

            async def one() -> tuple[int, int]:
                r = await request(method, url, headers=dict(hdrs), content=body, **tls)
                return int(r.status_code), len(r.content)

            await one()
            res = await run_tasks(spec, one)
            res.protocol = "HTTP/1.1"  # maxhttp's Response does not say; h11 speaks 1.1
            return res

    return run_async(spec, main)


def _frames_twice(version: str) -> bool:
    """maxhttp up to 0.1.9 writes the chunk framing of a generator body itself and
    hands the framed bytes to h11, which frames them again: the server receives
    "3ef\\r\\n3e8\\r\\n" + data..., a different body from the one given (nginx's
    mirror counted it as a body all the same; the upload sink checks the length and
    refuses it)."""
    try:
        return tuple(int(p) for p in version.split(".")[:3]) <= (0, 1, 9)
    except ValueError:
        return False


def stream(spec: RunSpec) -> RunResult:
    """One streamed transfer (stream.py): stream=True and aiter_bytes() down, an
    async generator up (sent chunked)."""
    from ..config import Skip
    from ..stream import Upload, atransfer

    if spec.stream == "up" and _frames_twice(getattr(need("maxhttp"), "__version__", "")):
        raise Skip("unsupported: maxhttp <= 0.1.9 frames a generator body twice (its own "
                   "chunked framing inside h11's), so the server receives another body")
    client = _client(spec)
    hdrs, tls = headers(spec), _tls(spec)

    async def main() -> RunResult:
        async with client:

            async def one(up: Upload | None) -> tuple[int, int]:
                if up is not None:
                    r = await client.request("POST", spec.url, headers=dict(hdrs),
                                             content=up.aiter(), **tls)
                    return int(r.status_code), len(r.content)
                n = 0
                r = await client.request("GET", spec.url, headers=dict(hdrs), stream=True,
                                         **tls)
                async for chunk in r.iter_bytes():
                    n += len(chunk)
                return int(r.status_code), n

            return await atransfer(spec, one)

    return run_async(spec, main)
