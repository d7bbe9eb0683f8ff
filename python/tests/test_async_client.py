"""The asyncio face: modes, requests, bodies, streaming, cancellation and
close, on stock asyncio and on uvloop."""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
from aio_util import Runner, arun, open_fds, run_on  # noqa: F401 (fixture)
from servers import Nginx, RawServer, read_head

from fasthttp import Client, Limits, Request, Response
from fasthttp import errors as E

# ---- modes --------------------------------------------------------------------------------------


def test_bare_client_without_loop_is_an_error(api: str) -> None:
    c = Client()
    with pytest.raises(RuntimeError, match="asynchronous: await its methods"):
        c.get(api)
    c.close()


def test_sync_client_refuses_async_with(arun: Runner[Any]) -> None:
    async def main() -> None:
        with Client() as c:
            with pytest.raises(RuntimeError, match="synchronous .* `async with`"):
                async with c:
                    pass

    arun(main())


def test_async_client_refuses_with(api: str, arun: Runner[Any]) -> None:
    async def main() -> Client:
        async with Client() as c:
            with pytest.raises(RuntimeError, match="asynchronous .* cannot be entered with `with`"):
                with c:
                    pass
            assert (await c.get(api)).status_code == 200
            return c

    c = arun(main())
    # Outside any loop, its methods explain what is wrong.
    with pytest.raises(E.ClientClosedError):
        c.get(api)
    d = Client()
    arun(d.__aenter__())
    with pytest.raises(RuntimeError, match="asynchronous .* running event loop"):
        d.get(api)
    d.close()


def test_bare_client_takes_async_mode(api: str, arun: Runner[Any]) -> None:
    async def main() -> None:
        c = Client()
        assert (await c.get(api)).status_code == 200
        with pytest.raises(RuntimeError, match="asynchronous"):
            c.__enter__()
        await c.close()
        assert c.is_closed
        with pytest.raises(E.ClientClosedError):
            await c.get(api)

    arun(main())


def test_async_iterator_body_needs_async_client(api: str) -> None:
    async def gen() -> AsyncIterator[bytes]:
        yield b"x"

    with Client() as c, pytest.raises(TypeError, match="async iterator.*asynchronous Client"):
        c.post(api, content=gen())


def test_sync_read_of_async_stream(httpbin: str, arun: Runner[Any]) -> None:
    async def main() -> None:
        async with Client() as c:
            r = await c.get(f"{httpbin}/bytes/100", stream=True)
            with pytest.raises(RuntimeError, match="aread"):
                r.read()
            with pytest.raises(RuntimeError, match="aread"):
                r.content  # noqa: B018
            assert len(await r.aread()) == 100
            assert len(r.content) == 100 and r.is_closed

    arun(main())


def test_async_read_of_sync_stream(httpbin: str, arun: Runner[Any]) -> None:
    with Client() as c:
        r = c.get(f"{httpbin}/bytes/100", stream=True)

        async def main() -> None:
            with pytest.raises(RuntimeError, match="synchronous Client"):
                await r.aread()
            with pytest.raises(RuntimeError, match="synchronous Client"):
                r.aiter_bytes()

        arun(main())
        assert len(r.read()) == 100


def test_close_returns_awaitable_and_exit_does_not_swallow() -> None:
    with pytest.raises(KeyError), Client():
        raise KeyError("x")
    c = Client()
    res = c.close()
    assert hasattr(res, "__await__")
    assert run_on("asyncio", c.close()) is None  # type: ignore[func-returns-value]


# ---- requests ---------------------------------------------------------------------------------------


def test_gather_create_task_wait_for(httpbin: str, arun: Runner[Any]) -> None:
    async def main() -> None:
        async with Client(base_url=httpbin) as c:
            rs = await asyncio.gather(*(c.get("/get", params={"i": i}) for i in range(40)))
            assert [r.json()["args"]["i"] for r in rs] == [str(i) for i in range(40)]
            t = asyncio.create_task(c.get("/get"))
            assert (await t).status_code == 200
            r = await asyncio.wait_for(c.get("/get"), 10)
            assert r.status_code == 200
            aw = c.get("/get")  # submitted when awaited
            assert repr(aw).startswith("<fasthttp awaitable GET http")
            assert (await aw).status_code == 200
            with pytest.raises(RuntimeError, match="already awaited"):
                await aw

    arun(main())


def test_never_awaited_sends_nothing(nginx: Nginx, arun: Runner[Any]) -> None:
    async def main() -> None:
        async with Client() as c:
            aw = c.get(nginx.http + "/json")
            del aw
            assert c.pool_stats()["created"] == 0

    arun(main())


def test_bodies(httpbin: str, arun: Runner[Any]) -> None:
    async def agen() -> AsyncIterator[bytes]:
        for part in (b"alpha-", b"", "beta-", bytearray(b"gamma")):
            await asyncio.sleep(0.001)
            yield part  # type: ignore[misc]

    class AIter:
        def __init__(self) -> None:
            self.n = 0

        def __aiter__(self) -> AIter:
            return self

        async def __anext__(self) -> bytes:
            self.n += 1
            if self.n > 3:
                raise StopAsyncIteration
            return b"%d" % self.n

    async def main() -> None:
        async with Client(base_url=httpbin) as c:
            r = await c.post("/post", content=agen())
            body = r.json()
            assert body["data"] == "alpha-beta-gamma"
            assert body["headers"]["Transfer-Encoding"] == "chunked"
            r = await c.post("/post", content=AIter())
            assert r.json()["data"] == "123"
            r = await c.put("/put", content=iter([b"a", b"b"]))
            assert r.json()["data"] == "ab"
            r = await c.post("/post", json={"k": [1, 2]})
            assert r.json()["json"] == {"k": [1, 2]}
            r = await c.post("/post", data={"f": "v"})
            assert r.json()["form"] == {"f": "v"}
            big = b"z" * (3 << 20)
            r = await c.post("/post", content=big)
            assert len(r.json()["data"]) == len(big)

    arun(main())


def test_async_iterator_errors_propagate(httpbin: str, arun: Runner[Any]) -> None:
    async def bad() -> AsyncIterator[bytes]:
        yield b"x"
        raise ValueError("source broke")

    async def wrong() -> AsyncIterator[Any]:
        yield 42

    async def main() -> None:
        async with Client(base_url=httpbin) as c:
            with pytest.raises(ValueError, match="source broke"):
                await c.post("/post", content=bad())
            with pytest.raises(TypeError, match="bytes"):
                await c.post("/post", content=wrong())
            assert c.pool_stats()["open"] == c.pool_stats()["idle"]
            assert (await c.get("/get")).status_code == 200

    arun(main())


# ---- streaming ----------------------------------------------------------------------------------------


def test_streaming(httpbin: str, nginx: Nginx, arun: Runner[Any]) -> None:
    async def main() -> None:
        async with Client() as c:
            r = await c.get(f"{httpbin}/stream/5", stream=True)
            assert r.status_code == 200 and not r.is_closed
            lines = [line async for line in r.aiter_lines()]
            assert len(lines) == 5 and all('"id"' in line for line in lines)
            assert r.is_closed
            with pytest.raises(E.StreamConsumed):
                await r.aread()

            r = await c.get(nginx.http + "/big.bin", stream=True)
            sizes = [len(b) async for b in r.aiter_bytes(chunk_size=100_000)]
            assert sum(sizes) == int(r.headers["content-length"])
            assert all(n == 100_000 for n in sizes[:-1])

            r = await c.get(nginx.http + "/json", stream=True)
            text = "".join([t async for t in r.aiter_text()])
            assert text.startswith('{"name":"fasthttp"')

            async with await c.get(nginx.http + "/json", stream=True) as r:
                doc = await r.aread()
                assert r.json()["name"] == "fasthttp" and len(doc) == len(r.content)
            assert r.is_closed

            # buffered responses iterate too
            r = await c.get(nginx.http + "/json")
            chunks = [b async for b in r.aiter_bytes(chunk_size=1000)]
            assert b"".join(chunks) == r.content and len(chunks[0]) == 1000
            assert await r.aread() == r.content

    arun(main())


def test_stream_close_early_frees_connection(nginx: Nginx, arun: Runner[Any]) -> None:
    async def main() -> None:
        async with Client() as c:
            r = await c.get(nginx.http + "/big.bin", stream=True)
            it = r.aiter_bytes()
            first = await it.__anext__()
            assert first
            assert c.pool_stats()["open"] == 1 and c.pool_stats()["idle"] == 0
            await r.aclose()
            assert c.pool_stats()["open"] == 0  # not read to the end: closed
            with pytest.raises(E.StreamClosed):
                await it.__anext__()
            # read to the end: pooled and reused
            r = await c.get(nginx.http + "/json", stream=True)
            await r.aread()
            assert c.pool_stats() == {**c.pool_stats(), "open": 1, "idle": 1}

    arun(main())


def test_stream_back_pressure(nginx: Nginx, arun: Runner[Any]) -> None:
    """A consumer that does not read leaves the bytes in the socket."""
    async def main() -> None:
        async with Client() as c:
            r = await c.get(nginx.http + "/big.bin", stream=True)
            total = int(r.headers["content-length"])
            it = r.aiter_bytes()
            got = len(await it.__anext__())
            await asyncio.sleep(0.3)  # the engine must not buffer the body meanwhile
            async for chunk in it:
                got += len(chunk)
                assert len(chunk) <= 65536
            assert got == total

    arun(main())


def test_concurrent_reads_refused(arun: Runner[Any]) -> None:
    stop = threading.Event()

    def handler(conn: socket.socket) -> None:
        read_head(conn)
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nab")
        stop.wait(10)

    server = RawServer(handler)

    async def main() -> None:
        async with Client() as c:
            r = await c.get(server.url, stream=True)
            t = asyncio.create_task(r.aread())
            await asyncio.sleep(0.05)
            with pytest.raises(RuntimeError, match="another task"):
                await r.aread()
            await r.aclose()
            with pytest.raises(E.StreamClosed):
                await t

    try:
        arun(main())
    finally:
        stop.set()
        server.close()


# ---- cancellation and close ------------------------------------------------------------------------


@pytest.fixture
def silent() -> Iterator[RawServer]:
    stop = threading.Event()

    def handler(conn: socket.socket) -> None:
        head = read_head(conn)
        if b"/head-only" in head:
            conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nxyz")
        stop.wait(30)

    server = RawServer(handler, backlog=64)
    yield server
    stop.set()
    server.close()


def test_cancel_waiting_request(silent: RawServer, arun: Runner[Any]) -> None:
    async def main() -> None:
        async with Client() as c:
            t = asyncio.create_task(c.get(silent.url))
            await asyncio.sleep(0.1)
            assert c.pool_stats()["open"] == 1
            t.cancel()
            with pytest.raises(asyncio.CancelledError):
                await t
            st = c.pool_stats()
            assert st["open"] == 0 and st["waiting"] == 0
            with pytest.raises(asyncio.TimeoutError):
                await asyncio.wait_for(c.get(silent.url), 0.1)
            assert c.pool_stats()["open"] == 0
            if hasattr(asyncio, "timeout"):  # 3.11+
                with pytest.raises(TimeoutError):
                    async with asyncio.timeout(0.1):
                        await c.get(silent.url)
                assert c.pool_stats()["open"] == 0

    arun(main())


def test_cancel_streaming_read(silent: RawServer, arun: Runner[Any]) -> None:
    async def main() -> None:
        async with Client() as c:
            r = await c.get(silent.url + "/head-only", stream=True)
            with pytest.raises(asyncio.TimeoutError):
                await asyncio.wait_for(r.aread(), 0.1)
            assert r.is_closed and c.pool_stats()["open"] == 0
            with pytest.raises(E.StreamClosed):
                await r.aread()

    arun(main())


def test_close_cancels_what_is_left(silent: RawServer, arun: Runner[Any]) -> None:
    async def main() -> None:
        c = Client()
        pending = [asyncio.create_task(c.get(silent.url)) for _ in range(3)]
        r = await c.get(silent.url + "/head-only", stream=True)
        reader = asyncio.create_task(r.aread())
        await asyncio.sleep(0.1)
        await c.close()
        for t in pending:
            with pytest.raises(E.ClientClosedError):
                await t
        with pytest.raises(E.ClientClosedError):
            await reader
        assert r.is_closed and c.pool_stats()["open"] == 0

    arun(main())


def test_bare_client_across_loops(nginx: Nginx) -> None:
    c = Client()

    async def main() -> int:
        return (await c.get(nginx.http + "/json")).status_code

    before = open_fds()
    for kind in ("asyncio", "uvloop", "asyncio"):
        assert run_on(kind, main()) == 200
    c.close()
    assert open_fds() <= before


def test_response_type_and_timings(nginx: Nginx, arun: Runner[Any]) -> None:
    async def main() -> None:
        async with Client() as c:
            r = await c.get(nginx.http + "/json")
            assert isinstance(r, Response) and isinstance(r.request, Request)
            assert r.timings is not None and r.timings["total"] > 0
            assert r.elapsed.total_seconds() > 0
            r = await c.get(nginx.http + "/json", stream=True)
            await r.aread()
            assert r.timings is not None and r.elapsed.total_seconds() > 0

    arun(main())


def test_timeouts_on_the_loop(silent: RawServer, nginx: Nginx, arun: Runner[Any]) -> None:
    from fasthttp.timeouts import Timeout

    async def main() -> None:
        async with Client(timeout=Timeout(read=0.2)) as c:
            t0 = time.monotonic()
            with pytest.raises(E.ReadTimeout):
                await c.get(silent.url)
            assert time.monotonic() - t0 < 3
            r = await c.get(silent.url + "/head-only", stream=True)
            with pytest.raises(E.ReadTimeout):  # the read timeout of a streamed body
                await r.aread()
        async with Client(timeout=Timeout(total=0.3)) as c:
            with pytest.raises(E.TotalTimeout):
                await c.get(silent.url)
            with pytest.raises(E.TotalTimeout):
                await c.get(silent.url, timeout=Timeout(total=0.1, read=5))
        limits = Limits(max_connections_per_host=1)
        async with Client(limits=limits, timeout=Timeout(pool=0.2)) as c:
            held = await c.get(nginx.http + "/big.bin", stream=True)
            with pytest.raises(E.PoolTimeout):
                await c.get(nginx.http + "/json")
            await held.aclose()
            assert (await c.get(nginx.http + "/json")).status_code == 200

    arun(main())


def test_errors_map_like_sync(arun: Runner[Any]) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]

    async def main() -> None:
        async with Client() as c:
            with pytest.raises(E.ConnectError, match="refused") as info:
                await c.get(f"http://127.0.0.1:{port}/x")
            assert f"127.0.0.1:{port}/x" in str(info.value)
            assert isinstance(info.value.request, Request)
            with pytest.raises(E.InvalidURL):
                await c.get("http://exa mple.com/")
            with pytest.raises(E.UnsupportedProtocol):
                await c.get("ftp://127.0.0.1/")

    arun(main())
