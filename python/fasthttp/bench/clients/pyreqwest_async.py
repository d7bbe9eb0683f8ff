"""pyreqwest (reqwest and hyper, in Rust), async: `concurrency` asyncio tasks on
one Client (see pyreqwest_sync for the settings)."""

from __future__ import annotations

from ..config import RunResult, RunSpec
from ..measure import run_async, run_tasks
from . import http_version, need
from .pyreqwest_sync import configure


def run(spec: RunSpec) -> RunResult:
    client_mod = need("pyreqwest.client", "pyreqwest")

    async def main() -> RunResult:
        async with configure(client_mod.ClientBuilder(), spec).build() as client:
            request, method, url, body = client.request, spec.method, spec.url, spec.body()

            async def one() -> tuple[int, int]:
                rb = request(method, url)
                if body is not None:
                    rb = rb.body_bytes(body)
                r = await rb.build().send()
                return int(r.status), len(await r.bytes())

            probe = request(method, url)
            if body is not None:
                probe = probe.body_bytes(body)
            pr = await probe.build().send()
            await pr.bytes()
            res = await run_tasks(spec, one)
            res.protocol = http_version(pr.version)
            return res

    return run_async(spec, main)


def stream(spec: RunSpec) -> RunResult:
    """One streamed transfer (stream.py): build_streamed() and read_chunk() down,
    body_stream() of an async generator up."""
    client_mod = need("pyreqwest.client", "pyreqwest")
    from ..stream import Upload, atransfer

    async def main() -> RunResult:
        async with configure(client_mod.ClientBuilder(), spec).build() as client:

            async def one(up: Upload | None) -> tuple[int, int]:
                if up is not None:
                    rb = client.request("POST", spec.url).body_stream(up.aiter())
                    r = await rb.build().send()
                    return int(r.status), len(await r.bytes())
                n = 0
                async with client.request("GET", spec.url).build_streamed() as resp:
                    reader = resp.body_reader
                    while (chunk := await reader.read_chunk()) is not None:
                        n += len(chunk)
                return int(resp.status), n

            return await atransfer(spec, one)

    return run_async(spec, main)
