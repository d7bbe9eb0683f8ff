"""aiohttp: `concurrency` asyncio tasks on one ClientSession (connector limit
= concurrency)."""

from __future__ import annotations

from typing import Any

from ..config import RunResult, RunSpec
from ..measure import run_async, run_tasks
from . import headers, http_version, need, no_http2, ssl_context


def run(spec: RunSpec) -> RunResult:
    aiohttp = need("aiohttp")
    no_http2(spec, "aiohttp")
    c = spec.concurrency

    async def main() -> RunResult:
        ssl: Any = False if spec.verify is False else ssl_context(spec.verify)
        connector = aiohttp.TCPConnector(limit=c, limit_per_host=c, ssl=ssl)
        timeout = aiohttp.ClientTimeout(total=spec.timeout)
        async with aiohttp.ClientSession(connector=connector, timeout=timeout,
                                         headers=headers(spec)) as session:
            request, method, url, body = session.request, spec.method, spec.url, spec.body()

            async def one() -> tuple[int, int]:
                async with request(method, url, data=body) as r:
                    data = await r.read()
                    return int(r.status), len(data)

            async with request(method, url, data=body) as probe:
                await probe.read()
                protocol = http_version(tuple(probe.version))
            res = await run_tasks(spec, one)
            res.protocol = protocol
            return res

    return run_async(spec, main)


def stream(spec: RunSpec) -> RunResult:
    """One streamed transfer (stream.py): content.iter_chunked() down, an async
    generator up."""
    aiohttp = need("aiohttp")
    from ..stream import CHUNK, Upload, atransfer

    async def main() -> RunResult:
        ssl: Any = False if spec.verify is False else ssl_context(spec.verify)
        async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(ssl=ssl),
                                         timeout=aiohttp.ClientTimeout(total=None),
                                         headers=headers(spec)) as session:

            async def one(up: Upload | None) -> tuple[int, int]:
                if up is not None:
                    async with session.post(spec.url, data=up.aiter()) as r:
                        return int(r.status), len(await r.read())
                n = 0
                async with session.get(spec.url) as r:
                    async for chunk in r.content.iter_chunked(CHUNK):
                        n += len(chunk)
                return int(r.status), n

            return await atransfer(spec, one)

    return run_async(spec, main)
