"""Buffered bodies received straight into Response.content (fh_body_storage,
python/src/bodystore.c): the bytes object is made when the head gives the
length and the engine reads into it. These tests check what a user sees:
every byte in place at every size and on every path (blocking threads that
take the GIL back for the allocation, the asyncio loop, HTTP/2 where the
shared engine's thread falls back to the library's buffer, compressed and
chunked bodies that never use storage), and that a body cut short gives its
bytes object back (tracemalloc traces it: a leak would be a megabyte per
failure)."""

from __future__ import annotations

import asyncio
import gzip
import os
import socket
import threading
import tracemalloc
from collections.abc import Callable, Iterator

import pytest
from scripted import Scripted, Seen, reply
from servers import BIG8_SIZE, NginxH2, RawServer, read_head

import fasthttp
from fasthttp.errors import RemoteProtocolError

SIZES = [1, 1000, 65535, 65536, 65537, (1 << 20) + 3]
BODIES = {n: os.urandom(n) for n in SIZES}


def _respond(seen: Seen) -> bytes:
    kind, _, size = seen.path.strip("/").partition("/")
    body = BODIES[int(size)]
    if kind == "gzip":
        return reply(200, {"Content-Encoding": "gzip"}, gzip.compress(body, 1))
    if kind == "chunked":
        half = len(body) // 2
        parts = [body[:half], body[half:]]
        chunks = b"".join(b"%x\r\n%s\r\n" % (len(p), p) for p in parts if p)
        return b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" + chunks + b"0\r\n\r\n"
    return reply(200, {"Content-Type": "application/octet-stream"}, body)


@pytest.fixture(scope="module")
def origin() -> Iterator[str]:
    s = Scripted(_respond)
    yield s.url
    s.close()


@pytest.mark.parametrize("kind", ["length", "gzip", "chunked"])
def test_sync_every_size(origin: str, kind: str) -> None:
    with fasthttp.Client() as c:
        for n in SIZES:
            r = c.get(f"{origin}/{kind}/{n}")
            assert type(r.content) is bytes
            assert r.content == BODIES[n], (kind, n)
            assert r.num_bytes_downloaded > 0


def _in_threads(n: int, fn: Callable[[], None]) -> None:
    """fn in n threads at once; the first failure is raised here."""
    errors: list[BaseException] = []

    def run() -> None:
        try:
            fn()
        except BaseException as e:  # reported in the test's thread
            errors.append(e)

    ts = [threading.Thread(target=run) for _ in range(n)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    assert not errors, errors[0]


def test_sync_threads_share_the_gil(origin: str) -> None:
    """16 threads of one Client, each allocation on its own thread with the
    GIL taken back: every body intact, in every thread."""
    big = SIZES[-1]
    with fasthttp.Client() as c:
        def worker() -> None:
            for _ in range(8):
                assert c.get(f"{origin}/length/{big}").content == BODIES[big]

        _in_threads(16, worker)


@pytest.mark.parametrize("kind", ["length", "gzip", "chunked"])
def test_async_every_size_concurrently(origin: str, kind: str) -> None:
    async def main() -> None:
        async with fasthttp.Client() as c:
            urls = [f"{origin}/{kind}/{n}" for n in SIZES] * 4
            rs = await asyncio.gather(*(c.get(u) for u in urls))
            for u, r in zip(urls, rs):
                assert r.content == BODIES[int(u.rsplit("/", 1)[1])], u

    asyncio.run(main())


def test_http2_large_bodies(nginx_h2: NginxH2) -> None:
    """Over HTTP/2 (nginx), sync threads multiplex on a connection another
    thread's engine may drive: its allocations fall back to the library's
    buffer, and nothing blocks on the GIL."""
    base, ca = nginx_h2.h2, nginx_h2.ca_file
    want = bytes(range(256)) * 4096 * (BIG8_SIZE // (1 << 20))
    with fasthttp.Client(http2=True, verify=ca) as c:
        def worker() -> None:
            for _ in range(4):
                r = c.get(base + "/big8.bin")
                assert r.http_version == "HTTP/2" and r.content == want

        _in_threads(8, worker)

    async def main() -> None:
        async with fasthttp.Client(http2=True, verify=ca) as c:
            rs = await asyncio.gather(*(c.get(base + "/big8.bin") for _ in range(8)))
            assert all(r.http_version == "HTTP/2" and r.content == want for r in rs)

    asyncio.run(main())


def _cut_short(conn: socket.socket) -> None:
    """Announces 4 MiB, sends 1 MiB of it, closes."""
    if b"\r\n\r\n" not in read_head(conn):
        return
    conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 4194304\r\n\r\n" + bytes(1 << 20))
    conn.close()


def test_body_cut_short_gives_storage_back() -> None:
    srv = RawServer(_cut_short)
    try:
        with fasthttp.Client() as c:
            tracemalloc.start()
            try:
                before = tracemalloc.get_traced_memory()[0]
                for _ in range(12):
                    with pytest.raises(RemoteProtocolError):
                        c.get(srv.url + "/", timeout=5)

                async def main() -> None:
                    async with fasthttp.Client() as ac:
                        for _ in range(12):
                            with pytest.raises(RemoteProtocolError):
                                await ac.get(srv.url + "/", timeout=5)

                asyncio.run(main())
                grown = tracemalloc.get_traced_memory()[0] - before
            finally:
                tracemalloc.stop()
        # 24 failed 4 MiB bodies: a leaked bytes object each would be 96 MiB.
        assert grown < 4 << 20, grown
    finally:
        srv.close()
