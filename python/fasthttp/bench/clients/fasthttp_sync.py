"""fasthttp, sync face: `concurrency` threads sharing one `with Client()`."""

from __future__ import annotations

from ..config import RunResult, RunSpec, Skip
from ..measure import SyncOne, run_threads
from . import fasthttp_version, headers, http_version


def run(spec: RunSpec) -> RunResult:
    from fasthttp import Client, Limits, Timeout

    from . import fasthttp_version

    c = spec.concurrency
    try:
        client = Client(
            timeout=Timeout(spec.timeout),
            limits=Limits(max_connections=c, max_connections_per_host=c,
                          max_keepalive_per_host=c),
            verify=spec.verify,
            http2=spec.http2,
        )
    except NotImplementedError as e:
        raise Skip(f"unsupported: this fasthttp build has no HTTP/2 ({e})") from e
    with client as sync:  # the sync face (SyncClient in the stubs)
        request, method, url = sync.request, spec.method, spec.url
        hdrs, body = headers(spec) or None, spec.body()

        def one() -> tuple[int, int]:
            r = request(method, url, headers=hdrs, content=body)
            return r.status_code, len(r.content)

        probe = request(method, url, headers=hdrs, content=body)
        ones: list[SyncOne] = [one] * c
        res = run_threads(spec, ones)
        res.protocol = http_version(probe.http_version)
        res.version = fasthttp_version()
        return res


def stream(spec: RunSpec) -> RunResult:
    """One streamed transfer (stream.py): iter_bytes() down, a generator up."""
    from fasthttp import Client, Timeout

    from ..stream import CHUNK, Upload, transfer

    with Client(timeout=Timeout(spec.timeout), verify=spec.verify) as client:
        hdrs = headers(spec) or None

        def one(up: Upload | None) -> tuple[int, int]:
            if up is not None:
                r = client.post(spec.url, headers=hdrs, content=iter(up))
                return r.status_code, len(r.content)
            n = 0
            with client.get(spec.url, headers=hdrs, stream=True) as r:
                for chunk in r.iter_bytes(CHUNK):
                    n += len(chunk)
            return r.status_code, n

        res = transfer(spec, one)
        res.version = fasthttp_version()
        return res
