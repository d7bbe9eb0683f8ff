"""requests: `concurrency` threads, each with its own Session (a Session is not
documented as thread-safe) holding one pooled connection."""

from __future__ import annotations

from ..config import RunResult, RunSpec
from ..measure import SyncOne, run_threads
from . import headers, http_version, need, no_http2
from .urllib3_client import urllib3_version


def run(spec: RunSpec) -> RunResult:
    requests = need("requests")
    adapters = need("requests.adapters", "requests")
    no_http2(spec, "requests")
    method, url, body, timeout = spec.method, spec.url, spec.body(), spec.timeout
    # Per request: a session's verify loses to REQUESTS_CA_BUNDLE / CURL_CA_BUNDLE.
    verify = spec.verify

    def make() -> SyncOne:
        s = requests.Session()
        adapter = adapters.HTTPAdapter(pool_connections=1, pool_maxsize=1, max_retries=0)
        s.mount("http://", adapter)
        s.mount("https://", adapter)
        s.headers.update(headers(spec))
        request = s.request

        def one() -> tuple[int, int]:
            r = request(method, url, data=body, timeout=timeout, verify=verify)
            return int(r.status_code), len(r.content)

        return one

    ones = [make() for _ in range(spec.concurrency)]
    probe = requests.request(method, url, data=body, timeout=timeout, verify=spec.verify,
                             headers=headers(spec))
    res = run_threads(spec, ones)
    res.protocol = http_version(probe.raw.version)
    res.version = f"{requests.__version__} (urllib3 {urllib3_version()})"
    return res


def stream(spec: RunSpec) -> RunResult:
    """One streamed transfer (stream.py): stream=True and iter_content() down, a
    generator up (sent chunked)."""
    requests = need("requests")
    from ..stream import CHUNK, Upload, transfer

    with requests.Session() as s:
        s.headers.update(headers(spec))

        def one(up: Upload | None) -> tuple[int, int]:
            if up is not None:
                r = s.post(spec.url, data=iter(up), timeout=spec.timeout, verify=spec.verify)
                return int(r.status_code), len(r.content)
            n = 0
            with s.get(spec.url, stream=True, timeout=spec.timeout, verify=spec.verify) as r:
                for chunk in r.iter_content(CHUNK):
                    n += len(chunk)
            return int(r.status_code), n

        return transfer(spec, one)
