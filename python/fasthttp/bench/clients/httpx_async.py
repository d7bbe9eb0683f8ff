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
