"""pyreqwest (reqwest and hyper, in Rust), sync: `concurrency` threads sharing
one SyncClient. With --http2 the client offers h2 by ALPN (``http2(True)``);
hyper then multiplexes every request of the client over one connection."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from ..config import RunResult, RunSpec
from ..measure import SyncOne, run_threads
from . import headers, http_version, need


def configure(builder: Any, spec: RunSpec) -> Any:
    """Settings shared by SyncClientBuilder and ClientBuilder."""
    c = spec.concurrency
    b = (builder.timeout(timedelta(seconds=spec.timeout))
         .pool_max_idle_per_host(c)
         .default_headers(headers(spec)))
    b = b.http2(True) if spec.http2 else b.http1_only()
    if spec.verify is False:
        b = b.danger_accept_invalid_certs(True)
    elif isinstance(spec.verify, str):
        with open(spec.verify, "rb") as f:
            b = b.add_root_certificate_pem(f.read())
    return b


def run(spec: RunSpec) -> RunResult:
    client_mod = need("pyreqwest.client", "pyreqwest")
    with configure(client_mod.SyncClientBuilder(), spec).build() as client:
        request, method, url, body = client.request, spec.method, spec.url, spec.body()

        def one() -> tuple[int, int]:
            rb = request(method, url)
            if body is not None:
                rb = rb.body_bytes(body)
            r = rb.build().send()
            return int(r.status), len(r.bytes())

        probe = request(method, url)
        if body is not None:
            probe = probe.body_bytes(body)
        pr = probe.build().send()
        pr.bytes()
        ones: list[SyncOne] = [one] * spec.concurrency
        res = run_threads(spec, ones)
        res.protocol = http_version(pr.version)
        return res


def stream(spec: RunSpec) -> RunResult:
    """One streamed transfer (stream.py): build_streamed() and read_chunk() down,
    body_stream() of a generator up."""
    client_mod = need("pyreqwest.client", "pyreqwest")
    from ..stream import Upload, transfer

    with configure(client_mod.SyncClientBuilder(), spec).build() as client:

        def one(up: Upload | None) -> tuple[int, int]:
            if up is not None:
                r = client.request("POST", spec.url).body_stream(iter(up)).build().send()
                return int(r.status), len(r.bytes())
            n = 0
            with client.request("GET", spec.url).build_streamed() as resp:
                reader = resp.body_reader
                while (chunk := reader.read_chunk()) is not None:
                    n += len(chunk)
            return int(resp.status), n

        return transfer(spec, one)
