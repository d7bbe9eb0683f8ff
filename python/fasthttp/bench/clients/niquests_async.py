"""niquests, async: `concurrency` asyncio tasks on one AsyncSession (pool of
`concurrency` connections; with --http2 one connection the tasks' requests are
multiplexed over, as in niquests_sync)."""

from __future__ import annotations

from ..config import RunResult, RunSpec, Skip
from ..measure import run_async, run_tasks
from . import headers, need
from .niquests_sync import response_protocol, session_kwargs


def run(spec: RunSpec) -> RunResult:
    niquests = need("niquests")
    if not hasattr(niquests, "AsyncSession"):
        raise Skip(f"niquests {niquests.__version__} has no AsyncSession")
    method, url, body, timeout = spec.method, spec.url, spec.body(), spec.timeout
    # Per request: a session's verify loses to REQUESTS_CA_BUNDLE / CURL_CA_BUNDLE.
    verify = spec.verify

    async def main() -> RunResult:
        async with niquests.AsyncSession(**session_kwargs(spec, spec.concurrency)) as s:
            s.headers.update(headers(spec))
            request = s.request

            async def one() -> tuple[int, int]:
                r = await request(method, url, data=body, timeout=timeout, verify=verify)
                return int(r.status_code), len(r.content or b"")

            probe = await request(method, url, data=body, timeout=timeout, verify=verify)
            res = await run_tasks(spec, one)
            res.protocol = response_protocol(probe)
            return res

    return run_async(spec, main)
