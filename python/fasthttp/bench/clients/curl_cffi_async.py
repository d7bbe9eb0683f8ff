"""curl_cffi (libcurl-impersonate through cffi), async: `concurrency` asyncio
tasks on one AsyncSession with `concurrency` curl handles (max_clients), no
browser impersonation (plain libcurl behaviour)."""

from __future__ import annotations

from typing import Any

from ..config import RunResult, RunSpec
from ..measure import run_async, run_tasks
from . import headers, http_version, need


def _session(spec: RunSpec) -> Any:
    requests = need("curl_cffi.requests", "curl_cffi")
    curl = need("curl_cffi", "curl_cffi")
    version = (curl.CurlHttpVersion.V2TLS if spec.http2 else curl.CurlHttpVersion.V1_1)
    return requests.AsyncSession(max_clients=max(1, spec.concurrency), timeout=spec.timeout,
                                 verify=spec.verify, headers=headers(spec),
                                 http_version=version)


def _protocol(v: Any) -> str:
    """curl_cffi's http_version is libcurl's CURL_HTTP_VERSION_* code, not 11 or 20."""
    return {1: "HTTP/1.0", 2: "HTTP/1.1", 3: "HTTP/2", 30: "HTTP/3"}.get(int(v), http_version(v))


def run(spec: RunSpec) -> RunResult:
    method, url, body = spec.method, spec.url, spec.body()

    async def main() -> RunResult:
        async with _session(spec) as s:
            request = s.request

            async def one() -> tuple[int, int]:
                r = await request(method, url, data=body)
                return int(r.status_code), len(r.content)

            protocol = _protocol((await request(method, url, data=body)).http_version)
            res = await run_tasks(spec, one)
            res.protocol = protocol
            return res

    return run_async(spec, main)


def stream(spec: RunSpec) -> RunResult:
    """One streamed transfer (stream.py): stream=True and aiter_content() down; up,
    curl_cffi takes no generator body, so the run is a skip."""
    from ..config import Skip
    from ..stream import Upload, atransfer

    if spec.stream == "up":
        raise Skip("unsupported: curl_cffi sends bytes bodies only (no streamed upload)")

    async def main() -> RunResult:
        async with _session(replace_timeout(spec)) as s:

            async def one(up: Upload | None) -> tuple[int, int]:
                n = 0
                async with s.stream("GET", spec.url) as r:
                    async for chunk in r.aiter_content():
                        n += len(chunk)
                return int(r.status_code), n

            return await atransfer(spec, one)

    return run_async(spec, main)


def replace_timeout(spec: RunSpec) -> RunSpec:
    """A long transfer: libcurl's timeout is for the whole transfer."""
    from dataclasses import replace

    return replace(spec, timeout=max(spec.timeout, 600.0))
