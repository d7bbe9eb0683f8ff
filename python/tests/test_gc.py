"""Extension types that hold Python objects take part in garbage collection.

Each test builds a reference cycle that runs through one extension object
and through a `Mark` (a plain Python object whose finalizer counts), drops
every outside reference and runs gc.collect(). The cycle is collected only
when the extension type tells the collector what it holds (tp_traverse) and
can let go of it (tp_clear); a type that is not GC-tracked keeps the whole
cycle alive forever, and the mark's finalizer never runs."""

from __future__ import annotations

import asyncio
import gc
import warnings
from collections.abc import Iterator
from typing import Any

import pytest
from scripted import Scripted, reply

import fasthttp._fasthttp as ext
from fasthttp import Client, Headers, Request, Response
from fasthttp.formdata import MultipartEncoder


class Mark:
    """Counts its finalizations; `ref` is where the cycle goes on."""

    collected = 0

    def __init__(self) -> None:
        self.ref: Any = None
        self.sent = False

    def __del__(self) -> None:
        Mark.collected += 1

    def __iter__(self) -> Iterator[bytes]:  # a request body: one chunk
        return self

    def __next__(self) -> bytes:
        if self.sent:
            raise StopIteration
        self.sent = True
        return b"x"

    def __call__(self, *args: Any) -> None:  # a hook or a custom auth
        return None


class MarkedStr(str):
    """A str (so it may be a header value or an encoding) with attributes."""

    ref: Any


def collected(build: Any) -> bool:
    """Runs build() (which makes a cycle and returns nothing), then collects."""
    gc.collect()
    before = Mark.collected
    build()
    gc.collect()
    gc.collect()
    return Mark.collected > before


@pytest.fixture
def server() -> Iterator[Scripted]:
    s = Scripted(lambda seen: reply(200, None, b"0123456789" * 10))
    yield s
    s.close()


def marked_response() -> tuple[Response, Mark]:
    """A user-made Response whose Request points at a Mark (Request._sensitive
    takes any object), so cycles can run Mark -> X -> Response -> Request -> Mark."""
    mark = Mark()
    req = Request("GET", "http://example.invalid/")
    req._sensitive = mark  # type: ignore[attr-defined]
    return Response(200, content=b"hello\nworld\n", request=req), mark


# ---- the synchronous types -----------------------------------------------------------


def test_headers_cycle() -> None:
    def build() -> None:
        mark, value = Mark(), MarkedStr("v")
        h = Headers()
        h["X-Marked"] = value
        value.ref = mark
        mark.ref = h  # Mark -> Headers -> list -> tuple -> MarkedStr -> Mark
    assert collected(build)


def test_headers_still_work_after_gc_clear() -> None:
    h = Headers({"a": "1"})
    assert gc.is_tracked(h)
    h2 = h.copy()
    assert h2 == h and len(h2) == 1


def test_request_cycle() -> None:
    def build() -> None:
        mark = Mark()
        mark.ref = Request("POST", "http://example.invalid/", content=mark)
    assert collected(build)


def test_response_cycle_through_encoding() -> None:
    def build() -> None:
        mark, enc = Mark(), MarkedStr("utf-8")
        r = Response(200, content=b"x")
        r.encoding = enc
        enc.ref = mark
        mark.ref = r
    assert collected(build)


@pytest.mark.parametrize("make", [
    lambda r: r.iter_bytes(), lambda r: r.iter_bytes(2), lambda r: r.iter_text(),
    lambda r: r.iter_lines(), lambda r: r.aiter_bytes(), lambda r: r.__aenter__(),
], ids=["iter_bytes", "iter_bytes_2", "iter_text", "iter_lines", "aiter_bytes", "aenter"])
def test_response_iterators_and_awaitables_cycle(make: Any) -> None:
    def build() -> None:
        r, mark = marked_response()
        mark.ref = make(r)  # Mark -> iterator/awaitable -> Response -> Request -> Mark
    assert collected(build)


def test_iterators_after_collection_are_exhausted() -> None:
    r, _ = marked_response()
    it = r.iter_lines()
    assert next(it) == "hello"
    assert list(it) == ["world"]


def test_client_cycle(server: Scripted) -> None:
    def build() -> None:
        mark = Mark()
        c = Client(hooks={"response": mark})
        c.__enter__()
        assert c.get(server.url + "/").status_code == 200
        mark.ref = c  # Mark -> Client (and its pool) -> hooks -> Mark; never closed
    assert collected(build)


def test_sync_stream_with_body_iterator_cycle(server: Scripted) -> None:
    """A streamed response dropped unread still holds its upload's iterator."""
    with Client() as c:
        def build() -> None:
            mark = Mark()
            # Mark -> Response (open stream) -> exchange -> body source -> Mark
            mark.ref = c.post(server.url + "/", content=mark, stream=True)
        assert collected(build)
        assert c.pool_stats()["open"] == 0  # the unread stream's connection was closed
        assert c.get(server.url + "/").content == b"0123456789" * 10


def test_multipart_stream_cycle() -> None:
    def build() -> None:
        mark = Mark()
        stream = MultipartEncoder(fields={"a": "b"}, files={"f": ("f.bin", mark)}).iter_bytes()
        mark.ref = stream
    assert collected(build)


# ---- the asyncio types ----------------------------------------------------------------


def test_unawaited_request_cycle(server: Scripted) -> None:
    """An awaitable (and its exchange) built and dropped without being awaited."""
    async def main() -> None:
        async with Client() as c:
            def build() -> None:
                mark = Mark()
                # Mark -> Awaitable -> exchange -> Request -> body iterator (Mark)
                mark.ref = c.post(server.url + "/", content=mark)
            assert collected(build)
    asyncio.run(main())
    assert server.requests == []  # nothing was sent


def test_flow_sender_cycle(server: Scripted) -> None:
    """A call with a custom auth runs as a coroutine holding a sender that owns the call."""
    async def main() -> None:
        async with Client() as c:
            def build() -> None:
                mark = Mark()
                # Mark -> coroutine -> sender -> call -> auth (Mark)
                mark.ref = c.get(server.url + "/", auth=mark)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)  # never awaited, on purpose
                assert collected(build)
    asyncio.run(main())


def test_client_and_event_loop_cycle(server: Scripted) -> None:
    """A bare client used on a loop that refers back to it, never closed:
    Client -> AioLoop -> event loop -> Client."""
    def build() -> None:
        loop = asyncio.new_event_loop()
        mark = Mark()
        c = Client()
        loop.fasthttp_client = c  # type: ignore[attr-defined]
        loop.mark = mark  # type: ignore[attr-defined]
        async def get() -> Response:
            return await c.get(server.url + "/")
        assert loop.run_until_complete(get()).status_code == 200
        loop.close()
        mark.ref = loop
    assert collected(build)


def test_every_extension_type_with_references_is_gc_tracked() -> None:
    """The list of types is the module's: a new type that holds objects must
    be added here, and be GC-aware."""
    holding = {
        "Headers", "Request", "Response", "Client", "ByteIterator", "TextIterator",
        "AsyncByteIterator", "Awaitable", "_Exchange", "_AioLoop", "_Sender", "MultipartStream",
        "_WebSocket",
    }
    seen = {}
    r, _ = marked_response()
    for obj in (Headers(), r.request, r, Client(), r.iter_bytes(), r.iter_text(),
                r.aiter_bytes(), r.__aenter__()):
        seen[type(obj).__name__] = type(obj)
    seen["MultipartStream"] = type(MultipartEncoder(fields={"a": "b"}).iter_bytes())
    seen["_WebSocket"] = ext._WebSocket
    assert set(seen) <= holding
    for name, tp in seen.items():
        assert tp.__flags__ & (1 << 14), f"{name} is not GC-aware (Py_TPFLAGS_HAVE_GC)"
    # The internal ones (_Exchange, _AioLoop, _Sender) are exercised by the
    # asyncio cycles above. The cookie jar's C base holds no Python object.
    assert ext._CookieJar.__flags__ & (1 << 14) == 0


def test_websocket_cycles(ws_server: str) -> None:
    """An open WebSocket in a cycle (its __dict__ -> Mark -> the WebSocket), dropped
    without close(): collected, and its connection closed (the server sees the end)."""
    from fasthttp import WebSocket

    def build_sync() -> None:
        with Client() as c:
            ws = c.websocket(ws_server + "/echo")
            mark = Mark()
            ws.mark = mark
            mark.ref = ws

    def build_async() -> None:
        async def main() -> None:
            ws = await WebSocket.connect(ws_server + "/echo")
            mark = Mark()
            ws.mark = mark  # type: ignore[attr-defined]
            mark.ref = ws
        asyncio.run(main())

    assert collected(build_sync)
    assert collected(build_async)
