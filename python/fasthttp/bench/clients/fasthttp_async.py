"""fasthttp, async face: `concurrency` asyncio tasks on one `async with Client()`.

Written against the seed's API (``async with Client(...)``, ``await
client.request(...)``); a build without the asyncio face raises
NotImplementedError, reported as a skip.
"""

from __future__ import annotations

from typing import Any

from ..config import RunResult, RunSpec, Skip
from ..measure import run_async, run_tasks
from . import fasthttp_version, headers, http_version

NOT_AVAILABLE = "fasthttp asyncio not available in this build"


def run(spec: RunSpec) -> RunResult:
    from fasthttp import Client, Limits, Timeout

    c = spec.concurrency

    async def main() -> RunResult:
        try:
            cm: Any = Client(
                timeout=Timeout(spec.timeout),
                limits=Limits(max_connections=c, max_connections_per_host=c,
                              max_keepalive_per_host=c),
                verify=spec.verify,
                http2=spec.http2,
            )
        except NotImplementedError as e:
            raise Skip(f"unsupported: this fasthttp build has no HTTP/2 ({e})") from e
        try:
            client: Any = await cm.__aenter__()
        except NotImplementedError as e:
            raise Skip(f"{NOT_AVAILABLE} (NotImplementedError: {e})") from e
        try:
            request, method, url = client.request, spec.method, spec.url
            hdrs, body = headers(spec) or None, spec.body()

            async def one() -> tuple[int, int]:
                r = await request(method, url, headers=hdrs, content=body)
                return int(r.status_code), len(r.content)

            probe = await request(method, url, headers=hdrs, content=body)
            res = await run_tasks(spec, one)
            res.protocol = http_version(probe.http_version)
            res.version = fasthttp_version()
            return res
        finally:
            await cm.__aexit__(None, None, None)

    return run_async(spec, main)


def stream(spec: RunSpec) -> RunResult:
    """One streamed transfer (stream.py): aiter_bytes() down, an async generator up."""
    from fasthttp import Client, Timeout

    from ..stream import CHUNK, Upload, atransfer

    async def main() -> RunResult:
        async with Client(timeout=Timeout(spec.timeout), verify=spec.verify) as client:
            hdrs = headers(spec) or None

            async def one(up: Upload | None) -> tuple[int, int]:
                if up is not None:
                    r = await client.post(spec.url, headers=hdrs, content=up.aiter())
                    return int(r.status_code), len(r.content)
                n = 0
                resp = await client.get(spec.url, headers=hdrs, stream=True)
                async with resp:
                    async for chunk in resp.aiter_bytes(CHUNK):
                        n += len(chunk)
                return int(resp.status_code), n

            res = await atransfer(spec, one)
            res.version = fasthttp_version()
            return res

    return run_async(spec, main)
