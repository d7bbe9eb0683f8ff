"""Client.headers on the wire: the client's fields travel with every request
as one set made once (libfasthttp's fh_header_set), so every way of changing
Client.headers between requests must show in the very next request's head,
in order, with a request's own fields winning by name."""

from __future__ import annotations

import asyncio
import socket
import threading
from collections.abc import Iterator

import pytest
from servers import RawServer, read_head

import fasthttp
from fasthttp import Client, Request
from fasthttp.errors import InvalidRequest

OK = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"


@pytest.fixture
def heads() -> Iterator[tuple[str, list[bytes]]]:
    """A keep-alive server that records each request head it answers."""
    seen: list[bytes] = []

    def handler(conn: socket.socket) -> None:
        while True:
            head = read_head(conn)
            if not head:
                return
            seen.append(head)
            conn.sendall(OK)

    server = RawServer(handler)
    try:
        yield server.url, seen
    finally:
        server.close()


def fields(head: bytes) -> list[tuple[str, str]]:
    """The header fields of a request head, in order, without Host."""
    lines = head.decode("latin-1").split("\r\n")[1:]
    pairs = [tuple(line.split(": ", 1)) for line in lines if line]
    return [(k, v) for k, v in pairs if k != "Host"]


UA = ("User-Agent", f"fasthttp/{fasthttp.__version__}")
ACCEPT = ("Accept", "*/*")
AE = ("Accept-Encoding", "gzip, deflate, br, zstd")


def test_every_change_shows_in_the_next_request(heads: tuple[str, list[bytes]]) -> None:
    url, seen = heads
    with Client() as c:
        c.get(url)
        assert fields(seen[-1]) == [UA, ACCEPT, AE]
        c.get(url)  # the same set again
        assert fields(seen[-1]) == [UA, ACCEPT, AE]
        c.headers["X-Key"] = "one"
        c.get(url)
        assert fields(seen[-1]) == [UA, ACCEPT, AE, ("X-Key", "one")]
        c.headers["X-Key"] = "two"  # replaced in place: same length, new pair
        c.get(url)
        assert fields(seen[-1]) == [UA, ACCEPT, AE, ("X-Key", "two")]
        del c.headers["Accept"]
        c.get(url)
        assert fields(seen[-1]) == [UA, AE, ("X-Key", "two")]
        c.headers = {"X-Only": "1"}  # a new Headers object
        c.get(url)
        assert fields(seen[-1]) == [("X-Only", "1"), AE]  # the engine's own Accept-Encoding
        c.headers = {}
        c.get(url)
        assert fields(seen[-1]) == [AE]
        c.headers.update({"A": "1", "B": "2"})
        c.get(url)
        assert fields(seen[-1]) == [("A", "1"), ("B", "2"), AE]


def test_send_adds_the_current_client_fields(heads: tuple[str, list[bytes]]) -> None:
    url, seen = heads
    with Client(headers={"X-Key": "one"}) as c:
        c.send(Request("GET", url))
        assert fields(seen[-1]) == [UA, ACCEPT, AE, ("X-Key", "one")]
        c.headers["X-Key"] = "two"
        c.send(Request("GET", url))
        assert fields(seen[-1]) == [UA, ACCEPT, AE, ("X-Key", "two")]
        c.send(Request("GET", url, headers={"accept": "text/plain"}))
        assert fields(seen[-1]) == [UA, AE, ("X-Key", "two"), ("accept", "text/plain")]


def test_request_fields_win_by_name(heads: tuple[str, list[bytes]]) -> None:
    url, seen = heads
    with Client(headers={"X-Key": "client"}) as c:
        c.get(url, headers={"x-key": "request"})  # another case: the same field
        assert fields(seen[-1]) == [UA, ACCEPT, AE, ("x-key", "request")]
        c.get(url, headers={"X-Other": "1"})  # no clash: the client's set, then the request's
        assert fields(seen[-1]) == [UA, ACCEPT, AE, ("X-Key", "client"), ("X-Other", "1")]
        c.get(url)
        assert fields(seen[-1]) == [UA, ACCEPT, AE, ("X-Key", "client")]


def test_bad_client_field_fails_every_request_until_mended(heads: tuple[str, list[bytes]]) -> None:
    url, seen = heads
    with Client() as c:
        c.get(url)
        c.headers["X-Bad"] = "a\r\nInjected: 1"
        for _ in range(2):
            with pytest.raises(InvalidRequest, match="X-Bad"):
                c.get(url)
        c.headers["X-Bad"] = "fine"
        c.get(url)
        assert fields(seen[-1])[-1] == ("X-Bad", "fine")
        assert not any(b"Injected" in h for h in seen)


def test_asyncio_sees_changes(heads: tuple[str, list[bytes]]) -> None:
    url, seen = heads

    async def main() -> None:
        async with Client() as c:
            await c.get(url)
            c.headers["X-Key"] = "a"
            await c.get(url)
            assert fields(seen[-1])[-1] == ("X-Key", "a")
            c.headers["X-Key"] = "b"
            rs = await asyncio.gather(*(c.get(url) for _ in range(8)))
            assert all(r.content == b"ok" for r in rs)
            assert all(fields(h)[-1] == ("X-Key", "b") for h in seen[-8:])

    asyncio.run(main())


def test_threads_share_the_set(heads: tuple[str, list[bytes]]) -> None:
    url, seen = heads
    errors: list[BaseException] = []
    with Client(headers={"X-Shared": "s"}) as c:

        def run(k: int) -> None:
            try:
                for i in range(25):
                    r = c.get(url, headers={"X-Call": f"{k}-{i}"} if i % 2 else None)
                    assert r.content == b"ok"
            except BaseException as e:  # noqa: BLE001 - reported below
                errors.append(e)

        threads = [threading.Thread(target=run, args=(k,)) for k in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    assert not errors
    assert len(seen) == 200
    assert all(("X-Shared", "s") in fields(h) for h in seen)
