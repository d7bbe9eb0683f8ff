"""Large bodies under the receive low-water mark (docs/architecture.md, "Large
bodies: one wake-up per 64 KiB").

While at least 64 KiB of a body of known length is still to come, the engine
asks the kernel to report the socket readable only once 64 KiB are queued.
A server that trickles the rest of such a body must not turn that into a
read timeout: bytes that arrived are progress. These tests run it on both
faces, buffered and streamed, against a raw-socket server that sends 100000
bytes at once and the other 80000 in 2000-byte pieces 25 ms apart (the mark
alone would hold them back 800 ms, past the 0.3 s read timeout), and then
answers a second request on the same connection. Streams are read in
256 KiB chunks, so the chunk still has room for more than the mark when the
trickle starts (a 64 KiB chunk would rarely ask for that much).
"""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from typing import Any

import pytest
from aio_util import Runner, arun  # noqa: F401 (fixture)
from servers import RawServer, read_head

from fasthttp import Client, Timeout

FAST, PIECE, PIECES = 100_000, 2_000, 40
BODY = bytes((i * 13 + 5) & 0xFF for i in range(FAST + PIECE * PIECES))


def _trickle(conn: socket.socket) -> None:
    read_head(conn)
    conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % len(BODY) + BODY[:FAST])
    for i in range(PIECES):
        time.sleep(0.025)
        conn.sendall(BODY[FAST + i * PIECE:FAST + (i + 1) * PIECE])
    read_head(conn)  # the next request comes on the same connection
    conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
    conn.recv(1)


@pytest.fixture
def trickle() -> Iterator[RawServer]:
    srv = RawServer(_trickle)
    yield srv
    srv.close()


@pytest.mark.parametrize("stream", [False, True])
def test_trickled_body_sync(trickle: RawServer, stream: bool) -> None:
    with Client(timeout=Timeout(read=0.3)) as c:
        if stream:
            with c.get(trickle.url, stream=True) as r:
                body = b"".join(r.iter_bytes(262144))
        else:
            body = c.get(trickle.url).content
        assert body == BODY
        assert c.get(trickle.url).content == b"ok"
    assert trickle.accepted == 1


@pytest.mark.parametrize("stream", [False, True])
def test_trickled_body_async(trickle: RawServer, stream: bool, arun: Runner[Any]) -> None:
    async def main() -> None:
        async with Client(timeout=Timeout(read=0.3)) as c:
            if stream:
                r = await c.get(trickle.url, stream=True)
                body = b"".join([chunk async for chunk in r.aiter_bytes(262144)])
            else:
                body = (await c.get(trickle.url)).content
            assert body == BODY
            assert (await c.get(trickle.url)).content == b"ok"

    arun(main())
    assert trickle.accepted == 1
