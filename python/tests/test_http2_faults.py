"""A misbehaving HTTP/2 server (h2scripted.py: the `h2` package's server side
over a loopback socket) against the Python faces: what the user sees when a
server sends GOAWAY below streams in flight, refuses or resets a stream, or
drops the connection mid-body. The C library's own fault tests go further
(tests/test_h2*.c); these prove the Python surface: which requests succeed,
which raise what, that retried requests reached the server again, and that
nothing hangs (every wait is bounded by pytest-timeout and asyncio timeouts).

The client speaks HTTP/2 by prior knowledge (Client(http2=True, http1=False))
over cleartext.
"""

from __future__ import annotations

import asyncio
import functools
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from aio_util import Runner, arun  # noqa: F401 (fixture)
from h2.errors import ErrorCodes
from h2scripted import H2Conn, H2Scripted
from servers import sigint_default

import fasthttp
from fasthttp import Client, Response
from fasthttp.errors import RemoteProtocolError

pytestmark = pytest.mark.timeout(30)


@pytest.fixture
def scripted() -> Iterator[Callable[[Callable[[H2Conn], None]], H2Scripted]]:
    servers: list[H2Scripted] = []

    def make(script: Callable[[H2Conn], None]) -> H2Scripted:
        servers.append(H2Scripted(script))
        return servers[-1]

    yield make
    for s in servers:
        s.close()  # re-raises an exception of a script


def h2only() -> Client:
    return Client(http2=True, http1=False)


# ---- GOAWAY with last-stream-id below streams in flight ----------------------------------


def goaway_after_three(conn: H2Conn) -> None:
    """First connection: wait for 6 requests, answer the 3 lowest streams,
    GOAWAY with the 3rd's id (the 3 others were never processed), then read
    until the client leaves. Later connections: echo everything."""
    if conn.number > 1:
        conn.serve()
        return
    reqs = sorted(conn.wait_requests(6), key=lambda r: r.stream_id)
    for r in reqs[:3]:
        conn.echo(r)
    conn.goaway(last_stream_id=reqs[2].stream_id if len(reqs) >= 3 else 0)
    conn.drain()


def check_goaway(server: H2Scripted, bodies: list[str]) -> None:
    first = [r for r in server.requests if r.conn == 1]
    later = [r for r in server.requests if r.conn > 1]
    assert len(first) == 6 and len(later) == 3, server.requests
    # The three above last-stream-id went again, with their bodies, elsewhere.
    above = sorted(first, key=lambda r: r.stream_id)[3:]
    assert sorted((r.method, r.path, r.body) for r in above) == sorted(
        (r.method, r.path, r.body) for r in later)
    assert {r.body.decode() for r in first} >= {b for b in bodies if b}


def test_goaway_below_streams_in_flight_asyncio(scripted: Any, arun: Runner[Any]) -> None:
    server = scripted(goaway_after_three)
    calls = [("GET", "/a", ""), ("GET", "/b", ""), ("POST", "/c", "c-body"),
             ("POST", "/d", "d-body"), ("POST", "/e", "e-body"), ("GET", "/f", "")]

    async def main() -> list[Response]:
        async with h2only() as c:
            return await asyncio.wait_for(asyncio.gather(*(
                c.request(m, server.url + p, content=b.encode() or None) for m, p, b in calls
            )), 20)

    rs = arun(main())
    for r, (m, p, b) in zip(rs, calls):
        assert r.status_code == 200 and r.http_version == "HTTP/2"
        assert r.content == f"{m} {p} {b}".encode()
    check_goaway(server, [b for _, _, b in calls])
    # Submission order is stream order: the POSTs /d and /e were above it.
    assert {r.path for r in server.requests if r.conn > 1} == {"/d", "/e", "/f"}


def test_goaway_below_streams_in_flight_threads(scripted: Any) -> None:
    # Six threads on one synchronous client share one connection (the shared
    # engine), all POSTs: whichever three land above last-stream-id go again.
    server = scripted(goaway_after_three)
    with h2only() as c, ThreadPoolExecutor(6) as ex:
        rs = list(ex.map(lambda i: c.post(f"{server.url}/p{i}", content=b"body %d" % i),
                         range(6)))
        assert c.pool_stats()["created"] == 2
    for i, r in enumerate(rs):
        assert r.status_code == 200 and r.content == b"POST /p%d body %d" % (i, i)
    check_goaway(server, [f"body {i}" for i in range(6)])


# ---- RST_STREAM -------------------------------------------------------------------------


def refuse_first_attempts(seen: set[str], conn: H2Conn) -> None:
    """REFUSED_STREAM for the first attempt of each path (on whichever
    connection it comes), an echo after."""
    while not conn.closed:
        for r in conn.wait_requests(1, timeout=0.5):
            if r.path in seen:
                conn.echo(r)
            else:
                seen.add(r.path)
                conn.reset(r, ErrorCodes.REFUSED_STREAM)


def test_refused_stream_is_retried(scripted: Any, arun: Runner[Any]) -> None:
    server = scripted(functools.partial(refuse_first_attempts, set()))

    async def main() -> list[Response]:
        async with h2only() as c:
            return await asyncio.wait_for(asyncio.gather(
                c.get(server.url + "/g"), c.post(server.url + "/p", content=b"posted"),
                c.delete(server.url + "/d")), 20)

    rs = arun(main())
    assert [r.content for r in rs] == [b"GET /g ", b"POST /p posted", b"DELETE /d "]
    with h2only() as c:  # the synchronous face, POST too
        assert c.post(server.url + "/sync", content=b"x").content == b"POST /sync x"
    paths = [r.path for r in server.requests]
    for p in ("/g", "/p", "/d", "/sync"):
        assert paths.count(p) == 2, paths  # refused, then processed


def reset_bad(conn: H2Conn) -> None:
    """INTERNAL_ERROR for /bad, an echo for everything else."""
    while not conn.closed:
        for r in conn.wait_requests(1, timeout=0.5):
            if r.path == "/bad":
                conn.reset(r, ErrorCodes.INTERNAL_ERROR)
            else:
                conn.echo(r)


def test_internal_error_fails_that_request_only(scripted: Any, arun: Runner[Any]) -> None:
    server = scripted(reset_bad)

    async def main() -> list[Any]:
        async with h2only() as c:
            rs = await asyncio.wait_for(asyncio.gather(
                c.get(server.url + "/ok1"), c.post(server.url + "/bad", content=b"x"),
                c.get(server.url + "/ok2"), return_exceptions=True), 20)
            # The connection survived the stream's reset.
            rs.append(await c.get(server.url + "/after"))
            assert c.pool_stats()["created"] == 1
            return list(rs)

    ok1, bad, ok2, after = arun(main())
    assert ok1.content == b"GET /ok1 " and ok2.content == b"GET /ok2 "
    assert after.content == b"GET /after "
    assert isinstance(bad, RemoteProtocolError), bad
    assert "INTERNAL_ERROR" in str(bad) and "/bad" in str(bad)
    assert bad.code == fasthttp._fasthttp.FH_EPROTO

    with h2only() as c:
        with pytest.raises(RemoteProtocolError, match="INTERNAL_ERROR"):
            c.get(server.url + "/bad")
        assert c.get(server.url + "/ok3").content == b"GET /ok3 "
    # Processed requests are never sent again: /bad reached the server once a call.
    assert [r.path for r in server.requests].count("/bad") == 2


# ---- the connection dropped mid-stream ----------------------------------------------------


def drop_mid_body(conn: H2Conn) -> None:
    """/cut gets 1000 of 5000 announced bytes, then the socket closes (at
    once; for /cut-later after 200 ms, so that the head is delivered before
    the close is seen); other paths get an echo."""
    while not conn.closed:
        for r in conn.wait_requests(1, timeout=0.5):
            if r.path.startswith("/cut"):
                conn.head_and_part(r, b"x" * 1000, 5000)
                if r.path == "/cut-later":
                    time.sleep(0.2)
                conn.drop()
                return
            conn.echo(r)


def test_connection_dropped_mid_body(scripted: Any, arun: Runner[Any]) -> None:
    server = scripted(drop_mid_body)

    async def main() -> None:
        async with h2only() as c:
            with pytest.raises(RemoteProtocolError) as info:
                await asyncio.wait_for(c.get(server.url + "/cut"), 10)
            assert "closed" in str(info.value) and "/cut" in str(info.value)
            # A new connection serves what comes next.
            assert (await c.get(server.url + "/next")).content == b"GET /next "

    arun(main())
    assert [(r.conn, r.path) for r in server.requests] == [(1, "/cut"), (2, "/next")]


def test_connection_dropped_mid_stream(scripted: Any, arun: Runner[Any]) -> None:
    server = scripted(drop_mid_body)

    async def main() -> None:
        async with h2only() as c:
            r = await asyncio.wait_for(c.get(server.url + "/cut-later", stream=True), 10)
            assert r.status_code == 200 and r.http_version == "HTTP/2"
            got = b""
            with pytest.raises(RemoteProtocolError, match="closed"):
                async with r:
                    async for chunk in r.aiter_bytes():
                        got += chunk
            assert got == b"x" * 1000

    arun(main())
    # Buffered, synchronous (the shared engine): the error, and nothing hangs.
    with h2only() as c:
        with pytest.raises(RemoteProtocolError, match="closed"):
            c.get(server.url + "/cut")

    # Synchronous: the streamed response reads on the caller's engine.
    with h2only() as c:
        with c.get(server.url + "/cut-later", stream=True) as r:
            got = b""
            with pytest.raises(RemoteProtocolError, match="closed"):
                for chunk in r.iter_bytes():
                    got += chunk
        assert got == b"x" * 1000


# ---- a protocol error while streams are in flight -----------------------------------------


def bad_frame(conn: H2Conn) -> None:
    """Reads one request, then sends a DATA frame on stream 0 (a connection
    error, RFC 9113 §6.1) and keeps the socket open without a word more."""
    if conn.wait_requests(1):
        conn.sock.sendall(b"\x00\x00\x01\x00\x00\x00\x00\x00\x00X")
    conn.drain(timeout=10)


def test_protocol_error_fails_at_once(scripted: Any, arun: Runner[Any]) -> None:
    # nghttp2 ends the session (GOAWAY PROTOCOL_ERROR) and reads no more:
    # the request must fail then, not when the server closes, nor hang.
    server = scripted(bad_frame)

    async def main() -> None:
        async with h2only() as c:
            t0 = time.monotonic()
            with pytest.raises(RemoteProtocolError, match="protocol error"):
                await asyncio.wait_for(c.get(server.url + "/x"), 10)
            assert time.monotonic() - t0 < 2

    arun(main())
    with h2only() as c:
        t0 = time.monotonic()
        with pytest.raises(RemoteProtocolError, match="protocol error"):
            c.get(server.url + "/y")
        assert time.monotonic() - t0 < 2


# ---- Ctrl-C while a synchronous call waits on the shared engine ------------------------------

INTERRUPT = r"""
import sys
from fasthttp import Client
url = sys.argv[1]
with Client(http2=True, http1=False) as c:
    c.get(url + "/warm")
    print("ready", flush=True)
    try:
        c.get(url + "/stall")
        print("not interrupted", flush=True)
    except KeyboardInterrupt:
        r = c.get(url + "/after")
        print("interrupted", r.http_version, c.pool_stats()["created"], flush=True)
"""


def never_answer_stall(conn: H2Conn) -> None:
    while not conn.closed:
        for r in conn.wait_requests(1, timeout=0.5):
            if r.path != "/stall":
                conn.echo(r)


def test_sigint_interrupts_a_call_on_the_shared_engine(scripted: Any) -> None:
    # The main thread waits for the shared engine's thread with its signal
    # check (every 100 ms): SIGINT cancels the request there (its stream is
    # reset) and KeyboardInterrupt propagates; the connection stays.
    server = scripted(never_answer_stall)
    proc = subprocess.Popen([sys.executable, "-c", INTERRUPT, server.url],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            preexec_fn=sigint_default)
    try:
        assert proc.stdout is not None
        assert proc.stdout.readline().strip() == b"ready"
        time.sleep(0.5)  # blocked in the wait for /stall
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert out.strip() == b"interrupted HTTP/2 1", (out, err)
    assert [r.path for r in server.requests] == ["/warm", "/stall", "/after"]
