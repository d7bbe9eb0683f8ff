"""The WebSocket client against the `websockets` package's server, over ws:// and
wss:// (trustme CA): echo, subprotocols, refusal, close codes, big messages,
compression on and off, server-initiated close, pings; async and sync faces."""

from __future__ import annotations

import asyncio
import json
import os
import ssl
import tempfile
from collections.abc import Iterator
from typing import Any

import pytest
import trustme
from ws_servers import WsServer

import fasthttp
from fasthttp import Client, WebSocket
from fasthttp.errors import (
    ConnectError,
    WebSocketClosed,
    WebSocketDecodeError,
    WebSocketHandshakeError,
    WebSocketMessageTypeError,
    WebSocketProtocolError,
)

BIG = 10 << 20  # 10 MiB


@pytest.fixture(scope="module")
def ca_file(ca: trustme.CA) -> Iterator[str]:
    d = tempfile.mkdtemp(prefix="fh-ws-ca-")
    path = os.path.join(d, "ca.pem")
    ca.cert_pem.write_to_path(path)
    yield path
    os.unlink(path)
    os.rmdir(d)


@pytest.fixture(params=["ws", "wss"])
def srv(request: pytest.FixtureRequest, ca: trustme.CA, ca_file: str) -> dict[str, Any]:
    """url, and the TLS settings a client needs for it."""
    if request.param == "ws":
        return {"url": request.getfixturevalue("ws_server"), "client": {}, "connect": {}}
    ctx = ssl.create_default_context()
    ca.configure_trust(ctx)
    return {"url": request.getfixturevalue("wss_server"), "client": {"verify": ca_file},
            "connect": {"ssl_context": ctx}}


def run(coro: Any) -> Any:
    return asyncio.run(asyncio.wait_for(coro, 30))


# ---- asyncio -------------------------------------------------------------------------


def test_echo_text_binary_json(srv: dict[str, Any]) -> None:
    async def main() -> None:
        async with WebSocket.connect(srv["url"] + "/echo", **srv["connect"]) as ws:
            await ws.send_text("héllo")
            assert await ws.recv_text() == "héllo"
            await ws.send_bytes(b"\x00\x01\xff")
            assert await ws.recv_bytes() == b"\x00\x01\xff"
            await ws.send_json({"ping": True, "n": [1, 2]})
            assert await ws.recv_json() == {"ping": True, "n": [1, 2]}
            await ws.send_text("")
            assert await ws.recv() == ""
            assert "permessage-deflate" in (ws.extensions or "")
            assert ws.close_code is None
        assert ws.close_code == 1000

    run(main())


def test_fragments_are_one_message(srv: dict[str, Any]) -> None:
    async def main() -> None:
        async with WebSocket.connect(srv["url"] + "/echo", **srv["connect"]) as ws:
            await ws.send_text("ab", final=False)
            await ws.send_text("cé", final=False)
            await ws.send_text("d")
            assert await ws.recv() == "abcéd"
            await ws.send_bytes(b"1", final=False)
            with pytest.raises(RuntimeError):
                await ws.send_text("x")  # another type while a binary message is open
            await ws.send_bytes(b"2")
            assert await ws.recv() == b"12"

    run(main())


def test_subprotocol_choice(srv: dict[str, Any]) -> None:
    async def main() -> None:
        async with WebSocket.connect(srv["url"] + "/echo", subprotocols=["superchat", "chat"],
                                     **srv["connect"]) as ws:
            assert ws.subprotocol in ("chat", "superchat")
        async with WebSocket.connect(srv["url"] + "/echo", subprotocols=["nope"],
                                     **srv["connect"]) as ws:
            assert ws.subprotocol is None
        async with WebSocket.connect(srv["url"] + "/echo", **srv["connect"]) as ws:
            assert ws.subprotocol is None

    run(main())


def test_refusal_403_has_status_and_headers(srv: dict[str, Any]) -> None:
    async def main() -> None:
        with pytest.raises(WebSocketHandshakeError) as ei:
            await WebSocket.connect(srv["url"] + "/forbidden", **srv["connect"])
        assert ei.value.status_code == 403
        assert ei.value.headers["x-why"] == "testing"
        assert "403" in str(ei.value)

    run(main())


def test_server_closes_with_code_and_reason(srv: dict[str, Any]) -> None:
    async def main() -> None:
        async with WebSocket.connect(srv["url"] + "/close/4001", **srv["connect"]) as ws:
            with pytest.raises(WebSocketClosed) as ei:
                await ws.recv()
            assert ei.value.code == 4001 and ei.value.reason == "bye"
            assert ws.close_code == 4001 and ws.close_reason == "bye"
            with pytest.raises(WebSocketClosed):
                await ws.send_text("too late")
            with pytest.raises(WebSocketClosed):
                async for _ in ws:  # not a normal close: iteration raises
                    pass
        # 1000 from the server ends iteration quietly
        async with WebSocket.connect(srv["url"] + "/close/1000", **srv["connect"]) as ws:
            assert [m async for m in ws] == []
        # leaving `async with` after the peer closed, and closing twice, are harmless
        await ws.close()
        await ws.close()

    run(main())


def test_client_close_code_reaches_server() -> None:
    server = WsServer().start()
    try:
        async def main() -> None:
            ws = await WebSocket.connect(server.url + "/wait-close")
            await ws.close(3001, "done here")
            assert ws.close_code == 3001  # the server echoes it (RFC 6455 §5.5.1)
            await ws.close(1000)  # harmless once closed
        run(main())
    finally:
        server.close()
    assert (3001, "done here") in server.closes


def test_invalid_close_code_is_refused(ws_server: str) -> None:
    async def main() -> None:
        async with WebSocket.connect(ws_server + "/echo") as ws:
            with pytest.raises(ValueError):
                await ws.close(1006)
            with pytest.raises(ValueError):
                await ws.close(1000, "x" * 124)

    run(main())


@pytest.mark.parametrize("compressed", [True, False])
def test_ten_mib_messages(srv: dict[str, Any], compressed: bool) -> None:
    text = ("0123456789abcdef" * (BIG // 16))
    blob = os.urandom(BIG)

    async def main() -> None:
        kw: dict[str, Any] = {} if compressed else {"extensions": []}
        async with WebSocket.connect(srv["url"] + "/echo", **kw, **srv["connect"]) as ws:
            assert (ws.extensions is not None) == compressed
            await ws.send_text(text)
            assert await ws.recv_text() == text
            await ws.send_bytes(blob)
            assert await ws.recv_bytes() == blob

    run(main())


def test_server_without_compression() -> None:
    server = WsServer(compression=None).start()
    try:
        async def main() -> None:
            async with WebSocket.connect(server.url + "/echo") as ws:
                assert ws.extensions is None
                await ws.send_text("plain")
                assert await ws.recv() == "plain"
        run(main())
    finally:
        server.close()


def test_pings_both_ways(srv: dict[str, Any]) -> None:
    async def main() -> None:
        async with WebSocket.connect(srv["url"] + "/ping", **srv["connect"]) as ws:
            assert await ws.recv() == "pong ok"  # our automatic pong reached the server
            await ws.ping(b"client")  # the server's pong is consumed silently
            await ws.ping()
            with pytest.raises(ValueError):
                await ws.ping(b"x" * 126)

    run(main())


def test_typed_helpers_and_decode_errors(ws_server: str) -> None:
    async def main() -> None:
        async with WebSocket.connect(ws_server + "/echo") as ws:
            await ws.send_bytes(b"\x01")
            with pytest.raises(WebSocketMessageTypeError):
                await ws.recv_text()
            await ws.send_text("t")
            with pytest.raises(WebSocketMessageTypeError):
                await ws.recv_bytes()
            await ws.send_text("{not json")
            with pytest.raises(WebSocketDecodeError):
                await ws.recv_json()
            await ws.send_json([1], dumps=lambda o: json.dumps(o).encode())
            assert await ws.recv_json(loads=json.loads) == [1]

    run(main())


def test_concurrent_recv_is_refused(ws_server: str) -> None:
    async def main() -> None:
        async with WebSocket.connect(ws_server + "/echo") as ws:
            first = asyncio.ensure_future(ws.recv())
            await asyncio.sleep(0.05)
            with pytest.raises(RuntimeError):
                await ws.recv()
            await ws.send_text("one")
            assert await first == "one"

    run(main())


def test_cancelled_recv_loses_nothing(ws_server: str) -> None:
    async def main() -> None:
        async with WebSocket.connect(ws_server + "/echo") as ws:
            with pytest.raises(asyncio.TimeoutError):
                await asyncio.wait_for(ws.recv(), 0.05)
            await ws.send_text("after")
            assert await ws.recv() == "after"

    run(main())


def test_client_websocket_uses_base_url_headers_and_cookies(srv: dict[str, Any]) -> None:
    base = srv["url"]

    async def main() -> None:
        async with Client(base_url=base, headers={"X-Token": "t1"}, **srv["client"]) as client:
            client.cookies.set("sid", "abc", domain="127.0.0.1", path="/")
            async with await client.websocket("/headers", headers={"X-Call": "c"}) as ws:
                h = {k.lower(): v for k, v in json.loads(await ws.recv()).items()}
        assert h["x-token"] == "t1" and h["x-call"] == "c"
        assert "sid=abc" in h.get("cookie", "")
        assert h["upgrade"].lower() == "websocket" and h["sec-websocket-version"] == "13"
        assert h["user-agent"].startswith("fasthttp/")
        # http(s):// is taken as ws(s)://
        http_base = base.replace("ws", "http", 1)
        async with Client(base_url=http_base, **srv["client"]) as client:
            async with await client.websocket("/echo") as ws:
                await ws.send_text("via http base")
                assert await ws.recv() == "via http base"

    run(main())


def test_bad_urls_raise_protocol_error(ws_server: str) -> None:
    async def main() -> None:
        for url in ("http://127.0.0.1/", "ftp://x/", "127.0.0.1:1/"):
            with pytest.raises(WebSocketProtocolError):
                await WebSocket.connect(url)
        async with Client() as client:
            with pytest.raises(WebSocketProtocolError):
                await client.websocket("ftp://127.0.0.1/x")

    run(main())


def test_connect_failure_is_a_connect_error() -> None:
    from servers import free_port

    async def main() -> None:
        with pytest.raises(ConnectError):
            await WebSocket.connect(f"ws://127.0.0.1:{free_port()}/")

    run(main())


def test_wss_needs_a_trusted_certificate(wss_server: str) -> None:
    async def main() -> None:
        with pytest.raises(fasthttp.errors.CertificateError):
            await WebSocket.connect(wss_server + "/echo")
        async with WebSocket.connect(wss_server + "/echo", verify=False) as ws:
            await ws.send_text("insecure")
            assert await ws.recv() == "insecure"
        ctx = ssl.create_default_context()
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        async with WebSocket.connect(wss_server + "/echo", ssl_context=ctx) as ws:
            assert await ws.ping() is None

    run(main())


def test_many_sockets_concurrently(ws_server: str) -> None:
    async def one(i: int) -> None:
        async with WebSocket.connect(ws_server + "/echo") as ws:
            for j in range(20):
                await ws.send_text(f"{i}-{j}")
                assert await ws.recv() == f"{i}-{j}"

    async def main() -> None:
        await asyncio.gather(*(one(i) for i in range(32)))

    run(main())


# ---- sync ---------------------------------------------------------------------------


def test_sync_face(srv: dict[str, Any]) -> None:
    with Client(base_url=srv["url"], **srv["client"]) as client:
        with client.websocket("/echo", subprotocols=["chat"]) as ws:
            assert ws.subprotocol == "chat"
            ws.send_text("sync")
            assert ws.recv_text() == "sync"
            ws.send_bytes(b"a", final=False)
            ws.send_bytes(b"b")
            assert ws.recv_bytes() == b"ab"
            ws.send_json({"k": 1})
            assert ws.recv_json() == {"k": 1}
            ws.ping(b"p")
            ws.send_text("x" * BIG)
            assert len(ws.recv()) == BIG
        assert ws.close_code == 1000
        ws.close()  # harmless
        with client.websocket("/close/1000") as ws:
            assert list(ws) == []
        with pytest.raises(WebSocketHandshakeError) as ei:
            client.websocket("/forbidden")
        assert ei.value.status_code == 403
        with client.websocket("/close/4002") as ws, pytest.raises(WebSocketClosed) as ec:
            ws.recv()
        assert ec.value.code == 4002


def test_sync_client_is_not_awaitable_and_async_is_not_sync(ws_server: str) -> None:
    with Client(base_url=ws_server) as client:
        ws = client.websocket("/echo")
        assert isinstance(ws, fasthttp.SyncWebSocket)
        ws.close()
