"""httpx, async: `concurrency` asyncio tasks on one httpx.AsyncClient."""

from __future__ import annotations

from ..config import RunResult, RunSpec, Skip
from ..measure import run_async, run_tasks
from . import http_version, need
from .httpx_sync import client_kwargs


def run(spec: RunSpec) -> RunResult:
    httpx = need("httpx")

    async def main() -> RunResult:
        try:
            client = httpx.AsyncClient(**client_kwargs(spec, httpx))
        except ImportError as e:
            raise Skip(f"not installed: {e}") from e
        async with client:
            request, method, url, body = client.request, spec.method, spec.url, spec.body()

            async def one() -> tuple[int, int]:
                r = await request(method, url, content=body)
                return int(r.status_code), len(r.content)

            probe = await request(method, url, content=body)
            res = await run_tasks(spec, one)
            res.protocol = http_version(probe.http_version)
            return res

    return run_async(spec, main)


def stream(spec: RunSpec) -> RunResult:
    """One streamed transfer (stream.py): client.stream() down, an async generator up."""
    httpx = need("httpx")
    from ..stream import CHUNK, Upload, atransfer

    async def main() -> RunResult:
        async with httpx.AsyncClient(**client_kwargs(spec, httpx)) as client:

            async def one(up: Upload | None) -> tuple[int, int]:
                if up is not None:
                    r = await client.post(spec.url, content=up.aiter())
                    return int(r.status_code), len(r.content)
                n = 0
                async with client.stream("GET", spec.url) as r:
                    async for chunk in r.aiter_bytes(CHUNK):
                        n += len(chunk)
                return int(r.status_code), n

            return await atransfer(spec, one)

    return run_async(spec, main)
