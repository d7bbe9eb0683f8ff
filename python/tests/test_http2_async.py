"""HTTP/2, asyncio face, on stock asyncio and uvloop, against real servers on
loopback (servers.py): nginx with `listen ... ssl http2` and its variants,
nghttpd, hypercorn.

asyncio requests multiplex on the engine of the running loop: concurrent
requests to one origin share its connections, up to 100 streams each
(SETTINGS_MAX_CONCURRENT_STREAMS, capped by the client). Connection counts
come from client.pool_stats() and, where nginx says it, from the server's
connection number ($connection).
"""

from __future__ import annotations

import asyncio
import hashlib
import time
import zlib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from aio_util import Runner, arun  # noqa: F401 (fixture)
from servers import BIG8_SIZE, JSON_DOC, Hypercorn, Nghttpd, NginxH2

import fasthttp
from fasthttp import AuthBase, Client, DigestAuth, Limits, Request, Response
from fasthttp.errors import CircuitOpenError, HTTP2NotAvailable, ReadTimeout
from fasthttp.retry import RetryPolicy
from fasthttp.timeouts import Timeout


def h2client(server: NginxH2 | Nghttpd | Hypercorn, **kw: Any) -> Client:
    return Client(http2=True, verify=server.ca_file, **kw)


def whoami(resp: Response) -> tuple[str, int]:
    _, proto, conn = resp.text().split(" ")
    return proto, int(conn.removeprefix("conn="))


def big8_digest() -> str:
    block = bytes(range(256)) * 4096
    h = hashlib.sha256()
    for _ in range(BIG8_SIZE // len(block)):
        h.update(block)
    return h.hexdigest()


# ---- negotiation --------------------------------------------------------------------------


def test_negotiation(nginx_h2: NginxH2, hypercorn: Hypercorn, nghttpd: Nghttpd,
                     arun: Runner[Any]) -> None:
    async def main() -> None:
        async with h2client(nginx_h2) as c:
            r = await c.get(nginx_h2.h2 + "/whoami/a")
            assert r.http_version == "HTTP/2" and whoami(r)[0] == "HTTP/2.0"
            r = await c.get(nginx_h2.h1 + "/whoami/b")  # no h2 offered back: fallback
            assert r.http_version == "HTTP/1.1" and whoami(r)[0] == "HTTP/1.1"
            r = await c.get(nginx_h2.h2 + "/whoami/c", http2=False)
            assert r.http_version == "HTTP/1.1"
            assert (await c.get(nginx_h2.h2 + "/json")).http_version == "HTTP/2"
        async with Client(verify=nginx_h2.ca_file) as c:
            assert (await c.get(nginx_h2.h2 + "/json", http2=True)).http_version == "HTTP/2"
            assert (await c.get(nginx_h2.h2 + "/json")).http_version == "HTTP/1.1"
        async with Client(http2=True, http1=False) as c:  # prior knowledge
            r = await c.get(hypercorn.clear + "/echo/x")
            assert r.http_version == "HTTP/2" and r.json()["http_version"] == "2"
            r = await c.get(nghttpd.clear + "/json")
            assert r.http_version == "HTTP/2" and r.content == JSON_DOC
        async with Client(http2=True, http1=False, verify=nginx_h2.ca_file) as c:
            with pytest.raises(HTTP2NotAvailable) as info:
                await c.get(nginx_h2.h1 + "/json")
            assert info.value.code == fasthttp._fasthttp.FH_EHTTP2

    arun(main())


# ---- multiplexing -------------------------------------------------------------------------


def test_1000_concurrent_requests_on_at_most_10_connections(nginx_h2: NginxH2,
                                                           arun: Runner[Any]) -> None:
    # The pool would allow 1000 connections: only multiplexing keeps it to
    # ceil(1000 / 100 streams) = 10. Over HTTP/1.1 this opens hundreds. Each
    # task sends three requests in a row, so after the first burst (which
    # waits on connections still being opened) requests keep arriving while
    # the connections are busy: they must ride on them.
    async def main() -> None:
        limits = Limits(max_connections=1000, max_connections_per_host=1000)
        async with h2client(nginx_h2, limits=limits) as c:
            async def task(i: int) -> list[Response]:
                return [await c.get(f"{nginx_h2.h2}/whoami/{i}-{k}") for k in range(3)]

            rs = [r for rs3 in await asyncio.gather(*(task(i) for i in range(1000)))
                  for r in rs3]
            assert len(rs) == 3000
            assert all(r.status_code == 200 and r.http_version == "HTTP/2" for r in rs)
            conns = {whoami(r)[1] for r in rs}
            st = c.pool_stats()
            assert st["created"] <= 10 and len(conns) <= 10, (st, conns)

    arun(main())


def test_max_concurrent_streams_queue_within_the_per_host_limit(nginx_h2: NginxH2,
                                                                arun: Runner[Any]) -> None:
    # 2 streams per connection (the server's SETTINGS), 2 connections per
    # origin (the client's limit): 40 requests queue and all succeed.
    async def main() -> None:
        async with h2client(nginx_h2, limits=Limits(max_connections_per_host=2)) as c:
            rs = await asyncio.gather(*(c.get(nginx_h2.url["streams2"] + f"/whoami/{i}")
                                        for i in range(40)))
            assert [r.status_code for r in rs] == [200] * 40
            assert len({whoami(r)[1] for r in rs}) <= 2
            assert c.pool_stats()["created"] <= 2, c.pool_stats()

    arun(main())


def test_goaway_under_load(nginx_h2: NginxH2, arun: Runner[Any]) -> None:
    # keepalive_requests 10: a GOAWAY after every 10th request of a
    # connection, with 100 in flight. Nothing fails, POST included.
    url = nginx_h2.url["ka10"]

    async def main() -> None:
        async with h2client(nginx_h2, limits=Limits(max_connections_per_host=100)) as c:
            rs = await asyncio.gather(*(c.get(f"{url}/whoami/{i}") for i in range(100)))
            assert all(r.status_code == 200 and r.http_version == "HTTP/2" for r in rs)
            assert len({whoami(r)[1] for r in rs}) >= 10  # ten requests a connection
            bodies = [f"post {i}".encode() for i in range(100)]
            rs = await asyncio.gather(*(c.post(f"{url}/bin/anything", content=b)
                                        for b in bodies))
            assert [r.json()["data"] for r in rs] == [b.decode() for b in bodies]
            assert c.pool_stats()["created"] >= 20

    arun(main())


# ---- streaming, timeouts, cancellation on a shared connection ---------------------------


def test_slow_stream_while_others_complete_on_the_same_connection(
    nginx_h2: NginxH2, arun: Runner[Any]
) -> None:
    # The stream's window holds back only this stream: 200 requests finish
    # on the same connection while 8 MiB are read slowly.
    async def main() -> None:
        async with h2client(nginx_h2) as c:
            await c.get(nginx_h2.h2 + "/json")
            h = hashlib.sha256()
            others_done = 0.0

            async def others() -> None:
                nonlocal others_done
                conns: set[int] = set()
                for wave in range(4):  # 50 at a time: the stream's connection has room
                    rs = await asyncio.gather(*(c.get(f"{nginx_h2.h2}/whoami/{wave}-{i}")
                                                for i in range(50)))
                    conns |= {whoami(r)[1] for r in rs}
                assert len(conns) == 1
                others_done = time.monotonic()

            async with await c.get(nginx_h2.h2 + "/big8.bin", stream=True) as r:
                assert r.http_version == "HTTP/2"
                task = asyncio.create_task(others())
                async for chunk in r.aiter_bytes(65536):
                    h.update(chunk)
                    await asyncio.sleep(0.008)  # a slow reader: ~1 s for 8 MiB
                ended = time.monotonic()
            await task
            assert h.hexdigest() == big8_digest()
            assert others_done < ended
            assert c.pool_stats()["created"] == 1, c.pool_stats()

    arun(main())


def test_read_timeout_on_one_stream_while_others_complete(nginx_h2: NginxH2,
                                                          arun: Runner[Any]) -> None:
    async def main() -> None:
        async with h2client(nginx_h2) as c:
            await c.get(nginx_h2.h2 + "/json")
            slow = c.get(nginx_h2.h2 + "/bin/delay/3", timeout=Timeout(read=0.5))
            quick = [c.get(f"{nginx_h2.h2}/whoami/{i}") for i in range(50)]
            t0 = time.monotonic()
            rs = await asyncio.gather(slow, *quick, return_exceptions=True)
            assert isinstance(rs[0], ReadTimeout), rs[0]
            assert all(isinstance(r, Response) and r.status_code == 200 for r in rs[1:])
            assert time.monotonic() - t0 < 2.5
            # The stream was reset, the connection carries on.
            assert (await c.get(nginx_h2.h2 + "/json")).http_version == "HTTP/2"
            assert c.pool_stats()["created"] == 1, c.pool_stats()

    arun(main())


def test_cancelled_task_mid_stream_keeps_the_connection(nginx_h2: NginxH2,
                                                        arun: Runner[Any]) -> None:
    async def main() -> None:
        async with h2client(nginx_h2) as c:
            await c.get(nginx_h2.h2 + "/json")
            got_some = asyncio.Event()

            async def reader() -> int:
                n = 0
                async with await c.get(nginx_h2.h2 + "/big8.bin", stream=True) as r:
                    async for chunk in r.aiter_bytes():
                        n += len(chunk)
                        got_some.set()
                        await asyncio.sleep(0.01)
                return n

            task = asyncio.create_task(reader())
            busy = asyncio.gather(*(c.get(f"{nginx_h2.h2}/whoami/{i}") for i in range(50)))
            await got_some.wait()
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
            assert all(r.status_code == 200 for r in await busy)
            # A request in flight (not streamed) cancelled by wait_for: same.
            with pytest.raises(asyncio.TimeoutError):
                await asyncio.wait_for(c.get(nginx_h2.h2 + "/bin/delay/2"), 0.3)
            rs = await asyncio.gather(*(c.get(f"{nginx_h2.h2}/whoami/{i}") for i in range(50)))
            assert len({whoami(r)[1] for r in rs}) == 1
            assert c.pool_stats()["created"] == 1, c.pool_stats()

    arun(main())


# ---- everything else, over HTTP/2 -------------------------------------------------------


class APIKeyAuth(AuthBase):
    def __init__(self, key: str) -> None:
        self.key = key

    def _on_request(self, request: Request) -> None:
        request.headers["X-API-Key"] = self.key


def test_policies(nginx_h2: NginxH2, hypercorn: Hypercorn, arun: Runner[Any]) -> None:
    async def main() -> None:
        last = f"{nginx_h2.h2}/whoami/end"
        middle = f"{nginx_h2.h1}/bin/redirect-to?url={last}"
        seen: list[str] = []

        async def hook(resp: Response) -> None:
            seen.append(resp.http_version)

        async with h2client(nginx_h2, hooks={"response": hook}) as c:
            # redirects h2 → h1 → h2
            r = await c.get(f"{nginx_h2.h2}/bin/redirect-to?url={middle}")
            assert [h.http_version for h in r.history] == ["HTTP/2", "HTTP/1.1"]
            assert r.http_version == "HTTP/2" and r.url == last
            # decoding
            for path in ("/json-gzip", "/br.json", "/zstd.json"):
                assert (await c.get(nginx_h2.h2 + path)).content == JSON_DOC
            # auth
            r = await c.get(nginx_h2.h2 + "/bin/basic-auth/u/p", auth=("u", "p"))
            assert r.status_code == 200
            r = await c.get(nginx_h2.h2 + "/digest-auth/auth/u/p/MD5",
                            auth=DigestAuth("u", "p"))
            assert r.status_code == 200 and r.http_version == "HTTP/2"
            r = await c.get(nginx_h2.h2 + "/bin/headers", auth=APIKeyAuth("k"))
            assert r.json()["headers"]["X-Api-Key"] == "k"
            # retries
            retry = RetryPolicy(max_attempts=3, backoff_factor=0, status_codes=[503])
            r = await c.get(nginx_h2.h2 + "/bin/status/503", retry=retry)
            assert r.status_code == 503 and r.attempts == 3
            assert c.pool_stats()["created"] == 2  # the h2 origin's one, and h1's
        assert seen and set(seen) == {"HTTP/2"}
        breaker = RetryPolicy(max_attempts=1, status_codes=[503], circuit_breaker=True,
                              cb_failure_threshold=2)
        async with h2client(nginx_h2, retry=breaker) as c:
            await asyncio.gather(*(c.get(nginx_h2.h2 + "/bin/status/503") for _ in range(2)))
            with pytest.raises(CircuitOpenError):
                await c.get(nginx_h2.h2 + "/json")
        async with h2client(hypercorn) as c:  # cookies
            await c.get(hypercorn.tls + "/cookies/set?a=1")
            assert (await c.get(hypercorn.tls + "/cookies")).json() == {"a": "1"}

    arun(main())


def test_uploads(hypercorn: Hypercorn, tmp_path: Path, arun: Runner[Any]) -> None:
    big = bytes(range(256)) * (3 * 4096)  # 3 MiB: more than a stream window
    path = tmp_path / "upload.bin"
    path.write_bytes(big)

    async def agen() -> AsyncIterator[bytes]:
        for i in range(0, len(big), 100_000):
            await asyncio.sleep(0)
            yield big[i:i + 100_000]

    def check(r: Response, body: bytes) -> None:
        assert r.status_code == 200 and r.http_version == "HTTP/2"
        got = r.json()
        assert got["http_version"] == "2"
        assert got["length"] == len(body) and got["crc32"] == zlib.crc32(body)

    async def main() -> None:
        url = hypercorn.tls + "/echo/up"
        async with h2client(hypercorn) as c:
            # All at once, on one connection.
            rs = await asyncio.gather(
                c.post(url, content=big),
                c.post(url, content=agen()),
                c.post(url, content=iter([big[:1000], big[1000:]])),
                c.post(url, content=open(path, "rb")),  # noqa: SIM115 (closed by the client)
            )
            for r in rs:
                check(r, big)
            r = await c.post(url, data={"k": "v"}, files={"f": path, "g": ("g.txt", b"x")})
            assert r.http_version == "HTTP/2" and r.json()["length"] > len(big)
            assert c.pool_stats()["created"] == 1, c.pool_stats()

    arun(main())


# ---- the seed README's HTTP/2 examples (https://http2.golang.org and
# https://example.com → the local hypercorn over TLS; verify= the test CA) ----------------


def test_seed_http2_preference_async(hypercorn: Hypercorn, arun: Runner[Any]) -> None:
    ca = hypercorn.ca_file

    async def main() -> None:
        async with Client(http2=True, verify=ca) as client:
            resp = await client.get(f"{hypercorn.tls}/reqinfo")
            assert resp.http_version == "HTTP/2" and resp.json()["http_version"] == "2"

            url = f"{hypercorn.tls}/echo/data"  # stands for https://example.com/data
            resp = await client.get(url, http2=False)   # force HTTP/1.1
            assert resp.http_version == "HTTP/1.1"
            resp = await client.get(url, http2=True)    # force HTTP/2 attempt
            assert resp.http_version == "HTTP/2"

    arun(main())
