"""HTTP/2, synchronous face, against real servers on loopback: nginx with
`listen ... ssl http2` and its variants, nghttpd, hypercorn (servers.py).

What the synchronous face promises (docs/python.md, "HTTP/2"): blocking calls
that may use HTTP/2 run on the client's shared engine, so threads share one
multiplexed connection; streamed responses and iterator/file bodies run on
the calling thread's own engine and connection. Everything else behaves as
over HTTP/1.1. Connection counts come from client.pool_stats() and, where
nginx can say it, from the server's own connection number ($connection).
"""

from __future__ import annotations

import hashlib
import io
import os
import socket
import threading
import time
import zlib
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from servers import BIG8_SIZE, JSON_DOC, Hypercorn, Nghttpd, NginxH2, RawServer

import fasthttp
from fasthttp import AuthBase, BasicAuth, Client, DigestAuth, Limits, Request, Response
from fasthttp.errors import (
    CircuitOpenError,
    HTTP2NotAvailable,
    ReadTimeout,
)
from fasthttp.retry import RetryPolicy
from fasthttp.timeouts import Timeout


def h2client(server: NginxH2 | Nghttpd | Hypercorn, **kw: Any) -> Client:
    return Client(http2=True, verify=server.ca_file, **kw)


def whoami(resp: Response) -> tuple[str, int]:
    """(server protocol, server connection number) from nginx's /whoami/."""
    _, proto, conn = resp.text().split(" ")
    return proto, int(conn.removeprefix("conn="))


def big8_digest() -> str:
    block = bytes(range(256)) * 4096
    h = hashlib.sha256()
    for _ in range(BIG8_SIZE // len(block)):
        h.update(block)
    return h.hexdigest()


# ---- negotiation --------------------------------------------------------------------------


def test_alpn_picks_h2(nginx_h2: NginxH2) -> None:
    with h2client(nginx_h2) as c:
        r = c.get(nginx_h2.h2 + "/json")
        assert r.status_code == 200 and r.http_version == "HTTP/2"
        assert r.content == JSON_DOC and r.json()["name"] == "fasthttp"
        assert r.headers["content-type"] == "application/json"
        # The server's side of the same story.
        assert whoami(c.get(nginx_h2.h2 + "/whoami/x"))[0] == "HTTP/2.0"


def test_fallback_to_http11_without_h2(nginx_h2: NginxH2) -> None:
    # nginx's h1 server has no `http2` on its listen: ALPN answers http/1.1.
    with h2client(nginx_h2) as c:
        for _ in range(3):  # the answer is remembered; later calls skip the hop
            r = c.get(nginx_h2.h1 + "/whoami/x")
            assert r.http_version == "HTTP/1.1" and whoami(r)[0] == "HTTP/1.1"
        assert c.pool_stats()["created"] == 1


def test_per_request_http2_false_on_an_http2_client(nginx_h2: NginxH2) -> None:
    with h2client(nginx_h2) as c:
        r = c.get(nginx_h2.h2 + "/whoami/a", http2=False)
        assert r.http_version == "HTTP/1.1" and whoami(r)[0] == "HTTP/1.1"
        r = c.get(nginx_h2.h2 + "/whoami/b")  # the client's preference is untouched
        assert r.http_version == "HTTP/2" and whoami(r)[0] == "HTTP/2.0"
        r = c.get(nginx_h2.h2 + "/whoami/c", http2=None)  # None: the client's
        assert r.http_version == "HTTP/2"


def test_an_idle_connection_of_the_other_protocol_makes_room(nginx_h2: NginxH2) -> None:
    # One connection per origin: the idle HTTP/2 connection cannot carry an
    # http2=False request, nor the idle HTTP/1.1 one the next HTTP/2 request;
    # each is closed to make room instead of blocking until it expires.
    with h2client(nginx_h2, limits=Limits(max_connections_per_host=1),
                  timeout=Timeout(pool=2)) as c:
        for http2, want in ((None, "HTTP/2.0"), (False, "HTTP/1.1"), (None, "HTTP/2.0"),
                            (False, "HTTP/1.1")):
            t0 = time.monotonic()
            assert whoami(c.get(nginx_h2.h2 + "/whoami/x", http2=http2))[0] == want
            assert time.monotonic() - t0 < 1
        assert c.pool_stats()["open"] == 1


def test_per_request_http2_true_on_a_plain_client(nginx_h2: NginxH2) -> None:
    with Client(verify=nginx_h2.ca_file) as c:
        r = c.get(nginx_h2.h2 + "/whoami/a", http2=True)
        assert r.http_version == "HTTP/2" and whoami(r)[0] == "HTTP/2.0"
        r = c.get(nginx_h2.h2 + "/whoami/b")
        assert r.http_version == "HTTP/1.1" and whoami(r)[0] == "HTTP/1.1"


def test_over_tls_to_nghttpd_and_hypercorn(nghttpd: Nghttpd, hypercorn: Hypercorn) -> None:
    with h2client(nghttpd) as c:
        r = c.get(nghttpd.tls + "/json")
        assert r.http_version == "HTTP/2" and r.content == JSON_DOC
    with h2client(hypercorn) as c:
        r = c.get(hypercorn.tls + "/echo/tls")
        assert r.http_version == "HTTP/2" and r.json()["http_version"] == "2"


def test_prior_knowledge_cleartext(nghttpd: Nghttpd, hypercorn: Hypercorn) -> None:
    with Client(http2=True, http1=False) as c:
        r = c.get(nghttpd.clear + "/json")
        assert r.http_version == "HTTP/2" and r.content == JSON_DOC
        r = c.post(nghttpd.clear + "/echo", content=b"ping")  # --echo-upload
        assert r.content == b"ping"
        r = c.get(hypercorn.clear + "/echo/h2c")
        assert r.http_version == "HTTP/2" and r.json()["http_version"] == "2"
    # Without http1=False a cleartext origin stays HTTP/1.1 (no h2c upgrade).
    with Client(http2=True) as c:
        r = c.get(hypercorn.clear + "/echo/plain")
        assert r.http_version == "HTTP/1.1" and r.json()["http_version"] == "1.1"


def test_http2_only_refuses_an_https_server_without_h2(nginx_h2: NginxH2) -> None:
    with Client(http2=True, http1=False, verify=nginx_h2.ca_file) as c:
        with pytest.raises(HTTP2NotAvailable) as info:
            c.get(nginx_h2.h1 + "/json")
        assert info.value.code == fasthttp._fasthttp.FH_EHTTP2
        assert nginx_h2.h1 in str(info.value)
        # The same client speaks HTTP/2 where it is offered...
        assert c.get(nginx_h2.h2 + "/json").http_version == "HTTP/2"
        # ...and HTTP/1.1 where a request asks for it.
        assert c.get(nginx_h2.h1 + "/json", http2=False).http_version == "HTTP/1.1"


def test_prior_knowledge_to_an_http11_server(nginx_h2: NginxH2) -> None:
    # nginx's cleartext server speaks HTTP/1.1 only: it answers the preface
    # with a 400 and closes. A raw server answers 400 and keeps the socket
    # open: the client must not wait for it (no timeout is set).
    def answer_400(conn: socket.socket) -> None:
        conn.recv(65536)
        conn.sendall(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n")
        time.sleep(10)

    raw = RawServer(answer_400)
    try:
        with Client(http2=True, http1=False) as c:
            for url in (nginx_h2.plain + "/json", raw.url + "/x"):
                t0 = time.monotonic()
                with pytest.raises(HTTP2NotAvailable, match="does not speak HTTP/2") as info:
                    c.get(url)
                assert info.value.code == fasthttp._fasthttp.FH_EHTTP2
                assert time.monotonic() - t0 < 2
    finally:
        raw.close()


def test_http2_flags_take_truth_values(nginx_h2: NginxH2) -> None:
    with Client(http2=1, verify=nginx_h2.ca_file) as c:  # type: ignore[arg-type]
        assert c.get(nginx_h2.h2 + "/json").http_version == "HTTP/2"
        assert c.get(nginx_h2.h2 + "/json", http2=0).http_version == "HTTP/1.1"  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="http2"):
        Client(http1=False)


# ---- multiplexing -------------------------------------------------------------------------


def test_threads_share_one_connection(nginx_h2: NginxH2) -> None:
    # 16 threads at once, each with a request that takes 300 ms at the server
    # (so all 16 are in flight together), then 10 quick ones. Over HTTP/1.1
    # this opens 10 connections (the per-host limit); over HTTP/2 the shared
    # engine carries them all on one, even the ones that arrive while the
    # first connection is still negotiating (no warm-up).
    limits = Limits(max_connections_per_host=32)
    with h2client(nginx_h2, limits=limits) as c:
        start = threading.Barrier(16)

        def work(i: int) -> set[int]:
            start.wait()
            r = c.get(nginx_h2.h2 + "/bin/delay/0.3")
            assert r.status_code == 200 and r.http_version == "HTTP/2"
            return {whoami(c.get(nginx_h2.h2 + f"/whoami/{i}-{k}"))[1] for k in range(10)}

        t0 = time.monotonic()
        with ThreadPoolExecutor(16) as ex:
            conns = set().union(*ex.map(work, range(16)))
        elapsed = time.monotonic() - t0
        assert len(conns) == 1, conns  # the server saw one connection
        stats = c.pool_stats()
        assert stats["created"] == 1, stats
        assert elapsed < 3, "the 300 ms requests did not run concurrently"


def test_max_concurrent_streams_queue_within_the_per_host_limit(nginx_h2: NginxH2) -> None:
    # The server allows 2 streams per connection and the client 2 connections
    # per origin: 4 in flight, the other requests wait their turn; none fails.
    with h2client(nginx_h2, limits=Limits(max_connections_per_host=2)) as c:
        url = nginx_h2.url["streams2"] + "/bin/delay/0.1"
        with ThreadPoolExecutor(12) as ex:
            codes = list(ex.map(lambda _: c.get(url).status_code, range(24)))
        assert codes == [200] * 24
        assert c.pool_stats()["created"] <= 2, c.pool_stats()


def test_goaway_under_load_threads(nginx_h2: NginxH2) -> None:
    # keepalive_requests 10: nginx sends GOAWAY after every 10th request of a
    # connection while others are in flight on it. Nothing may fail, POST
    # included (never-processed streams go again, whatever the method).
    url = nginx_h2.url["ka10"]
    with h2client(nginx_h2, limits=Limits(max_connections_per_host=32)) as c:
        def work(i: int) -> int:
            n = 0
            for k in range(6):
                r = c.get(f"{url}/whoami/{i}-{k}")
                assert r.status_code == 200 and r.http_version == "HTTP/2"
                body = f"thread {i} post {k}".encode()
                r = c.post(f"{url}/bin/anything", content=body)
                assert r.status_code == 200 and r.json()["data"] == body.decode()
                n += 2
            return n

        with ThreadPoolExecutor(16) as ex:
            assert sum(ex.map(work, range(16))) == 192
        # 192 requests at 10 per connection: GOAWAY came at least 19 times.
        assert c.pool_stats()["created"] >= 19


def test_after_fork(nginx_h2: NginxH2) -> None:
    # The shared engine's thread exists only in the parent: a child's first
    # blocking call starts its own, on a connection of its own.
    with h2client(nginx_h2) as c:
        parent_conn = whoami(c.get(nginx_h2.h2 + "/whoami/parent"))[1]
        pid = os.fork()
        if pid == 0:  # the child: report through the exit status only
            code = 1
            try:
                proto, conn = whoami(c.get(nginx_h2.h2 + "/whoami/child"))
                code = 0 if proto == "HTTP/2.0" and conn != parent_conn else 2
            finally:
                os._exit(code)
        _, status = os.waitpid(pid, 0)
        assert os.waitstatus_to_exitcode(status) == 0
        assert whoami(c.get(nginx_h2.h2 + "/whoami/parent"))[1] == parent_conn


# ---- everything else, over HTTP/2 -------------------------------------------------------


@pytest.mark.parametrize("path", ["/json-gzip", "/gzip.json", "/br.json", "/zstd.json"])
def test_decoding(nginx_h2: NginxH2, path: str) -> None:
    with h2client(nginx_h2) as c:
        r = c.get(nginx_h2.h2 + path)
        assert r.http_version == "HTTP/2"
        assert r.headers["content-encoding"] in ("gzip", "br", "zstd")
        assert r.content == JSON_DOC


def test_decoding_httpbin_deflate_and_brotli(nginx_h2: NginxH2) -> None:
    with h2client(nginx_h2) as c:
        for kind in ("deflate", "brotli", "gzip"):
            r = c.get(f"{nginx_h2.h2}/bin/{kind}")
            assert r.http_version == "HTTP/2" and r.json()[
                "deflated" if kind == "deflate" else "brotli" if kind == "brotli" else "gzipped"]


def test_streamed_response(nginx_h2: NginxH2) -> None:
    with h2client(nginx_h2) as c:
        with c.get(nginx_h2.h2 + "/big8.bin", stream=True) as r:
            assert r.http_version == "HTTP/2"
            h = hashlib.sha256()
            n = 0
            for chunk in r.iter_bytes():
                h.update(chunk)
                n += len(chunk)
        assert n == BIG8_SIZE and h.hexdigest() == big8_digest()
        # Read to its end: its connection went back to the pool.
        assert c.pool_stats()["open"] >= 1


def test_slow_stream_while_other_threads_complete(nginx_h2: NginxH2) -> None:
    # A streamed response runs on the calling thread's engine and its own
    # connection; 4 threads' buffered requests meanwhile go through the
    # shared engine. They all finish while the stream is still being read.
    with h2client(nginx_h2) as c:
        c.get(nginx_h2.h2 + "/json")  # the shared connection
        done_at: list[float] = []

        def others(i: int) -> None:
            for k in range(25):
                assert c.get(f"{nginx_h2.h2}/whoami/{i}-{k}").status_code == 200
            done_at.append(time.monotonic())

        h = hashlib.sha256()
        with c.get(nginx_h2.h2 + "/big8.bin", stream=True) as r:
            assert r.http_version == "HTTP/2"
            with ThreadPoolExecutor(4) as ex:
                futs = [ex.submit(others, i) for i in range(4)]
                for chunk in r.iter_bytes(65536):
                    h.update(chunk)
                    time.sleep(0.008)  # a slow reader: ~1 s for 8 MiB
                ended = time.monotonic()
                for f in futs:
                    f.result()
        assert h.hexdigest() == big8_digest()
        assert len(done_at) == 4 and max(done_at) < ended
        assert c.pool_stats()["created"] == 2, c.pool_stats()  # shared + the stream's own


def test_redirects_across_http2_and_http11(nginx_h2: NginxH2) -> None:
    # h2 origin → HTTPS origin without h2 → back to the h2 origin.
    last = f"{nginx_h2.h2}/whoami/end"
    middle = f"{nginx_h2.h1}/bin/redirect-to?url={last}"
    with h2client(nginx_h2) as c:
        r = c.get(f"{nginx_h2.h2}/bin/redirect-to?url={middle}")
        assert r.status_code == 200 and r.url == last
        assert [h.http_version for h in r.history] == ["HTTP/2", "HTTP/1.1"]
        assert r.http_version == "HTTP/2" and whoami(r)[0] == "HTTP/2.0"
        # And through a cleartext HTTP/1.1 origin.
        middle = f"{nginx_h2.plain}/bin/redirect-to?url={last}"
        r = c.get(f"{nginx_h2.h2}/bin/redirect-to?url={middle}")
        assert [h.http_version for h in r.history] == ["HTTP/2", "HTTP/1.1"]
        assert r.http_version == "HTTP/2"


def test_redirect_307_replays_the_body(nginx_h2: NginxH2) -> None:
    with h2client(nginx_h2) as c:
        target = f"{nginx_h2.h2}/bin/anything/after"
        r = c.post(f"{nginx_h2.h2}/bin/redirect-to?url={target}&status_code=307",
                   content=b"replayed")
        assert r.status_code == 200 and r.http_version == "HTTP/2"
        assert r.json()["data"] == "replayed" and r.json()["method"] == "POST"
        assert r.history[0].status_code == 307


def test_retries_and_circuit_breaker(nginx_h2: NginxH2) -> None:
    retry = RetryPolicy(max_attempts=3, backoff_factor=0, status_codes=[503])
    with h2client(nginx_h2, retry=retry) as c:
        r = c.get(nginx_h2.h2 + "/bin/status/503")
        assert r.status_code == 503 and r.attempts == 3 and r.http_version == "HTTP/2"
        assert c.get(nginx_h2.h2 + "/bin/status/200").attempts == 1
        assert c.pool_stats()["created"] == 1  # every attempt on the one connection
    breaker = RetryPolicy(max_attempts=1, status_codes=[503], circuit_breaker=True,
                          cb_failure_threshold=2, cb_recovery_seconds=60)
    with h2client(nginx_h2, retry=breaker) as c:
        for _ in range(2):
            assert c.get(nginx_h2.h2 + "/bin/status/503").status_code == 503
        assert c._circuit_state(nginx_h2.h2) == "open"
        with pytest.raises(CircuitOpenError):
            c.get(nginx_h2.h2 + "/bin/status/200")


def test_cookies(hypercorn: Hypercorn) -> None:
    with h2client(hypercorn) as c:
        r = c.get(hypercorn.tls + "/cookies/set?a=1&b=two")
        assert r.http_version == "HTTP/2"
        assert c.cookies.get("a") == "1" and c.cookies.get("b") == "two"
        assert c.get(hypercorn.tls + "/cookies").json() == {"a": "1", "b": "two"}
        assert c.get(hypercorn.tls + "/cookies", cookies={"c": "3"}).json() == {
            "a": "1", "b": "two", "c": "3"}


class APIKeyAuth(AuthBase):
    def __init__(self, key: str) -> None:
        self.key = key

    def _on_request(self, request: Request) -> None:
        request.headers["X-API-Key"] = self.key


def test_auth(nginx_h2: NginxH2, hypercorn: Hypercorn) -> None:
    with h2client(nginx_h2) as c:
        r = c.get(nginx_h2.h2 + "/bin/basic-auth/u/p", auth=("u", "p"))
        assert r.status_code == 200 and r.http_version == "HTTP/2"
        assert c.get(nginx_h2.h2 + "/bin/basic-auth/u/p", auth=BasicAuth("u", "x")
                     ).status_code == 401
        r = c.get(nginx_h2.h2 + "/digest-auth/auth/u/p/MD5", auth=DigestAuth("u", "p"))
        assert r.status_code == 200 and r.http_version == "HTTP/2" and len(r.history) == 0
        r = c.get(nginx_h2.h2 + "/bin/headers", auth=APIKeyAuth("k-123"))
        assert r.json()["headers"]["X-Api-Key"] == "k-123"
    with h2client(hypercorn, auth=("user", "pw")) as c:
        r = c.get(hypercorn.tls + "/basic-auth/user/pw")
        assert r.http_version == "HTTP/2" and r.json() == {"authenticated": True, "user": "user"}


def test_hooks(nginx_h2: NginxH2) -> None:
    seen: list[str] = []

    def log(resp: Response) -> None:
        seen.append(resp.http_version)

    async def replace(resp: Response) -> Response:
        return Response(status_code=299, content=b"replaced", request=resp.request)

    with h2client(nginx_h2, hooks={"response": log}) as c:
        r = c.get(nginx_h2.h2 + "/json", hooks={"response": [log, replace]})
        assert r.status_code == 299 and r.content == b"replaced"
    assert seen == ["HTTP/2", "HTTP/2"]


def _echo_check(r: Response, body: bytes) -> dict[str, Any]:
    assert r.status_code == 200 and r.http_version == "HTTP/2"
    got = r.json()
    assert got["http_version"] == "2"
    assert got["length"] == len(body) and got["crc32"] == zlib.crc32(body)
    return dict(got)


def test_uploads(hypercorn: Hypercorn, tmp_path: Path) -> None:
    big = bytes(range(256)) * (3 * 4096)  # 3 MiB: more than a stream window
    path = tmp_path / "upload.bin"
    path.write_bytes(big)

    def chunks() -> Iterator[bytes]:
        for i in range(0, len(big), 100_000):
            yield big[i:i + 100_000]

    url = hypercorn.tls + "/echo/upload"
    with h2client(hypercorn) as c:
        _echo_check(c.post(url, content=big), big)
        _echo_check(c.put(url, content=chunks()), big)  # iterator: the caller's engine
        with open(path, "rb") as f:
            _echo_check(c.post(url, content=f), big)
        _echo_check(c.post(url, content=io.BytesIO(b"small file")), b"small file")
        r = c.post(url, data={"field": "v"}, files={"f": path, "m": ("m.json", b"{}")})
        got = r.json()
        assert r.http_version == "HTTP/2"
        assert got["length"] > len(big) and 'name="field"' in got["body"]
        assert any(k == "content-type" and "multipart/form-data" in v
                   for k, v in got["headers"])


def test_read_timeout_on_one_stream_while_others_complete(nginx_h2: NginxH2) -> None:
    with h2client(nginx_h2) as c:
        c.get(nginx_h2.h2 + "/json")

        def slow() -> None:
            with pytest.raises(ReadTimeout):
                c.get(nginx_h2.h2 + "/bin/delay/3", timeout=Timeout(read=0.5))

        def quick(i: int) -> list[int]:
            return [c.get(f"{nginx_h2.h2}/whoami/{i}-{k}").status_code for k in range(10)]

        t0 = time.monotonic()
        with ThreadPoolExecutor(5) as ex:
            f = ex.submit(slow)
            codes = [code for codes4 in ex.map(quick, range(4)) for code in codes4]
            f.result()
        assert codes == [200] * 40 and time.monotonic() - t0 < 2.5
        # The timed-out stream was reset; its connection carries on.
        assert c.get(nginx_h2.h2 + "/json").http_version == "HTTP/2"
        assert c.pool_stats()["created"] == 1, c.pool_stats()


# ---- the seed README's HTTP/2 examples (https://http2.golang.org and
# https://example.com → the local hypercorn over TLS; verify= the test CA) ----------------


def test_seed_http2_preference_sync(hypercorn: Hypercorn) -> None:
    ca = hypercorn.ca_file
    with Client(http2=True, verify=ca) as client:
        resp = client.get(f"{hypercorn.tls}/reqinfo")
        assert resp.http_version == "HTTP/2" and resp.json()["http_version"] == "2"

    with Client(verify=ca) as client:
        resp = client.get(f"{hypercorn.tls}/echo/data", http2=False)   # force HTTP/1.1
        assert resp.http_version == "HTTP/1.1" and resp.json()["http_version"] == "1.1"
        resp = client.get(f"{hypercorn.tls}/echo/data", http2=True)    # force HTTP/2 attempt
        assert resp.http_version == "HTTP/2" and resp.json()["http_version"] == "2"


def test_seed_fallback_sentence(nginx_h2: NginxH2) -> None:
    # "If the server declines HTTP/2 during ALPN, fasthttp transparently
    # falls back to HTTP/1.1 and retries the request."
    with Client(http2=True, verify=nginx_h2.ca_file) as client:
        resp = client.post(nginx_h2.h1 + "/bin/anything", json={"k": "v"})
        assert resp.http_version == "HTTP/1.1" and resp.json()["json"] == {"k": "v"}

