"""urllib3: `concurrency` threads sharing one PoolManager (maxsize =
concurrency, blocking)."""

from __future__ import annotations

import importlib.metadata

from ..config import RunResult, RunSpec
from ..measure import SyncOne, run_threads
from . import headers, http_version, need, no_http2


def urllib3_version() -> str:
    """urllib3's version, saying so when the package on disk is urllib3-future
    (niquests' fork, whose .pth rewrites `urllib3` at interpreter start)."""
    urllib3 = need("urllib3")
    running = str(urllib3.__version__)
    try:
        declared = importlib.metadata.version("urllib3")
    except importlib.metadata.PackageNotFoundError:
        declared = ""
    if running != declared or hasattr(urllib3, "HttpVersion"):
        return f"{running}, which is urllib3-future in place of urllib3 {declared or '?'}"
    return running


def run(spec: RunSpec) -> RunResult:
    urllib3 = need("urllib3")
    no_http2(spec, "urllib3", " (urllib3 2's HTTP/2 is experimental)")
    kw: dict[str, object] = {}
    if spec.verify is False:
        kw["cert_reqs"] = "CERT_NONE"
        urllib3.disable_warnings()
    elif isinstance(spec.verify, str):
        kw["ca_certs"] = spec.verify
    pool = urllib3.PoolManager(maxsize=spec.concurrency, block=True, retries=False,
                               timeout=urllib3.Timeout(total=spec.timeout),
                               headers=headers(spec), **kw)
    request, method, url, body = pool.request, spec.method, spec.url, spec.body()

    def one() -> tuple[int, int]:
        r = request(method, url, body=body)
        return int(r.status), len(r.data)

    probe = request(method, url, body=body)
    ones: list[SyncOne] = [one] * spec.concurrency
    res = run_threads(spec, ones)
    res.protocol = http_version(probe.version)
    res.version = urllib3_version()
    pool.clear()
    return res


def stream(spec: RunSpec) -> RunResult:
    """One streamed transfer (stream.py): preload_content=False and stream() down, a
    generator up (sent chunked)."""
    urllib3 = need("urllib3")
    from ..stream import CHUNK, Upload, transfer

    kw: dict[str, object] = {}
    if spec.verify is False:
        kw["cert_reqs"] = "CERT_NONE"
    elif isinstance(spec.verify, str):
        kw["ca_certs"] = spec.verify
    pool = urllib3.PoolManager(retries=False, timeout=urllib3.Timeout(total=spec.timeout),
                               headers=headers(spec), **kw)

    def one(up: Upload | None) -> tuple[int, int]:
        if up is not None:
            r = pool.request("POST", spec.url, body=iter(up), chunked=True)
            return int(r.status), len(r.data)
        n = 0
        r = pool.request("GET", spec.url, preload_content=False)
        for chunk in r.stream(CHUNK):
            n += len(chunk)
        r.release_conn()
        return int(r.status), n

    res = transfer(spec, one)
    res.version = urllib3_version()
    return res
