"""Protocol violations by a scripted raw-socket server: each one ends in the right
close code (read from the client's close frame on the wire) or handshake error, with
no hang (every test is bounded) and no descriptor left open."""

from __future__ import annotations

import asyncio
import gc
import os
import struct
from collections.abc import Callable
from typing import Any

import pytest
from ws_servers import ScriptedWs, deflate_message, frame

from fasthttp import Client, WebSocket
from fasthttp.errors import (
    WebSocketClosed,
    WebSocketHandshakeError,
    WebSocketProtocolError,
)

PMD = "Sec-WebSocket-Extensions: permessage-deflate\r\n"


def fds() -> int:
    gc.collect()
    return len(os.listdir("/proc/self/fd"))


def run(coro: Any) -> Any:
    return asyncio.run(asyncio.wait_for(coro, 20))


async def first_error(url: str, **kw: Any) -> BaseException:
    """Connects, receives until something is raised, closes; returns what was raised."""
    async with WebSocket.connect(url, **kw) as ws:
        for _ in range(10):
            try:
                await ws.recv()
            except Exception as exc:  # noqa: BLE001 - the test inspects it
                return exc
    raise AssertionError("no error")


VIOLATIONS: list[tuple[str, bytes, int]] = [
    ("masked server frame", frame(1, b"hi", mask=True), 1002),
    ("RSV2 without extension", frame(1, b"hi", rsv=2), 1002),
    ("RSV1 without extension", frame(1, b"hi", rsv=4), 1002),
    ("unknown data opcode", frame(3, b"x"), 1002),
    ("unknown control opcode", frame(0xB, b"x"), 1002),
    ("fragmented ping", frame(9, b"p", fin=False), 1002),
    ("control frame of 126 bytes", frame(9, b"p" * 126), 1002),
    ("orphan continuation", frame(0, b"x"), 1002),
    ("new message inside a fragmented one", frame(1, b"a", fin=False) + frame(1, b"b"), 1002),
    ("invalid UTF-8", frame(1, b"\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5\xed\xa0\x80"),
     1007),
    ("truncated UTF-8 at the end", frame(1, b"ok\xe2\x82"), 1007),
    ("close code 1005 on the wire", frame(8, struct.pack("!H", 1005)), 1002),
    ("close code 999", frame(8, struct.pack("!H", 999)), 1002),
    ("close with a 1-byte payload", frame(8, b"\x03"), 1002),
    ("close reason not UTF-8", frame(8, struct.pack("!H", 1000) + b"\xff"), 1007),
    ("2^63 length", frame(2, b"", length=1 << 63), 1002),
    ("16-bit length encoding a small size", b"\x82\x7e\x00\x05hello", 1002),
    # wslay hands a frame over with its first payload bytes: the length is checked
    # then, before anything is buffered
    ("message over 16 MiB announced", frame(2, b"", length=(16 << 20) + 1) + b"x" * 8, 1009),
]


@pytest.mark.parametrize("what,data,code", VIOLATIONS, ids=[v[0] for v in VIOLATIONS])
def test_violation_fails_the_connection(what: str, data: bytes, code: int) -> None:
    before = fds()
    srv = ScriptedWs(data)
    try:
        exc = run(first_error(srv.url, extensions=[]))
    finally:
        srv.close()
    assert isinstance(exc, WebSocketProtocolError), (what, exc)
    assert exc.close_code == code, (what, exc)
    assert srv.got.close_code == code, (what, srv.got.frames)
    assert srv.got.all_masked
    assert fds() <= before


def test_messages_before_a_violation_are_delivered() -> None:
    srv = ScriptedWs(frame(1, b"first") + frame(1, b"\xff"))

    async def main() -> None:
        async with WebSocket.connect(srv.url, extensions=[]) as ws:
            assert await ws.recv() == "first"
            with pytest.raises(WebSocketProtocolError):
                await ws.recv()
            with pytest.raises(WebSocketProtocolError):  # and again
                await ws.recv()

    try:
        run(main())
    finally:
        srv.close()
    assert srv.got.close_code == 1007


def test_deflate_bomb_ends_in_1009() -> None:
    bomb = deflate_message(b"\0" * (64 << 20))  # 64 MiB of zeros in ~64 KiB
    assert len(bomb) < 100_000
    srv = ScriptedWs(frame(2, bomb, rsv=4), extra_headers=PMD)
    try:
        exc = run(first_error(srv.url))
    finally:
        srv.close()
    assert isinstance(exc, WebSocketProtocolError) and exc.close_code == 1009
    assert srv.got.close_code == 1009


def test_compressed_continuation_with_rsv1_is_refused() -> None:
    part = deflate_message(b"hello")
    data = frame(1, part[:2], rsv=4, fin=False) + frame(0, part[2:], rsv=4)
    srv = ScriptedWs(data, extra_headers=PMD)
    try:
        exc = run(first_error(srv.url))
    finally:
        srv.close()
    assert isinstance(exc, WebSocketProtocolError) and srv.got.close_code == 1002


def test_compressed_invalid_utf8_is_1007() -> None:
    srv = ScriptedWs(frame(1, deflate_message(b"ok \xff\xfe"), rsv=4), extra_headers=PMD)
    try:
        exc = run(first_error(srv.url))
    finally:
        srv.close()
    assert isinstance(exc, WebSocketProtocolError) and srv.got.close_code == 1007


def test_corrupt_deflate_data_is_1007() -> None:
    srv = ScriptedWs(frame(2, b"\xff\xff\xff\xff garbage", rsv=4), extra_headers=PMD)
    try:
        exc = run(first_error(srv.url))
    finally:
        srv.close()
    assert isinstance(exc, WebSocketProtocolError) and srv.got.close_code == 1007


def test_compressed_fragments_and_control_frames_between() -> None:
    part = deflate_message(("é" * 1000).encode())
    data = (frame(1, part[:10], rsv=4, fin=False) + frame(9, b"ping!") +
            frame(0, part[10:]) + frame(8, struct.pack("!H", 1000) + b"done"))
    srv = ScriptedWs(data, extra_headers=PMD)

    async def main() -> None:
        async with WebSocket.connect(srv.url) as ws:
            assert await ws.recv() == "é" * 1000
            assert [m async for m in ws] == []
            assert ws.close_code == 1000 and ws.close_reason == "done"

    try:
        run(main())
    finally:
        srv.close()
    ops = [op for op, _ in srv.got.frames]
    assert ops[:1] == [0xA] and (0xA, b"ping!") in srv.got.frames  # pong echoes the ping
    assert srv.got.close_code == 1000  # our close echoes theirs


def test_tcp_close_without_close_frame_is_1006() -> None:
    srv = ScriptedWs(frame(1, b"last words"), close_tcp=True)

    async def main() -> None:
        async with WebSocket.connect(srv.url, extensions=[]) as ws:
            assert await ws.recv() == "last words"
            with pytest.raises(WebSocketClosed) as ei:
                await ws.recv()
            assert ei.value.code == 1006
            with pytest.raises(WebSocketClosed):
                async for _ in ws:
                    pass

    try:
        run(main())
    finally:
        srv.close()


HANDSHAKES: list[tuple[str, dict[str, Any], dict[str, Any]]] = [
    ("wrong Sec-WebSocket-Accept", {"accept": b"dGhlIHNhbXBsZSBub25jZQ=="}, {}),
    ("unoffered subprotocol", {"extra_headers": "Sec-WebSocket-Protocol: chat\r\n"}, {}),
    ("subprotocol not among those offered",
     {"extra_headers": "Sec-WebSocket-Protocol: other\r\n"}, {"subprotocols": ["chat"]}),
    ("unoffered extension", {"extra_headers": "Sec-WebSocket-Extensions: x-custom\r\n"}, {}),
    ("deflate when none was offered", {"extra_headers": PMD}, {"extensions": []}),
    ("client_max_window_bits above the offer",
     {"extra_headers": "Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits=16\r\n"},
     {}),
    ("two extensions", {"extra_headers": PMD + PMD}, {}),
]


@pytest.mark.parametrize("what,server,client", HANDSHAKES, ids=[h[0] for h in HANDSHAKES])
def test_bad_handshake_answers(what: str, server: dict[str, Any], client: dict[str, Any]) -> None:
    before = fds()
    srv = ScriptedWs(**server)
    try:
        with pytest.raises(WebSocketHandshakeError) as ei:
            run(WebSocket.connect(srv.url, **client))
    finally:
        srv.close()
    assert ei.value.status_code == 101, what
    assert fds() <= before


def test_sync_face_sees_the_same_violations() -> None:
    srv = ScriptedWs(frame(1, b"\xc0\xaf"))  # overlong encoding
    try:
        with Client() as client, client.websocket(srv.url, extensions=[]) as ws:
            with pytest.raises(WebSocketProtocolError) as ei:
                ws.recv()
            assert ei.value.close_code == 1007
    finally:
        srv.close()
    assert srv.got.close_code == 1007


def test_server_that_never_answers_the_close_is_timed_out() -> None:
    # The server reads frames but never sends its close nor closes TCP: our close
    # waits the close timeout (10 s by default), then closes the socket.
    srv = ScriptedWs(b"", timeout=15, answer_close=False)
    make: Callable[[], Any] = lambda: WebSocket.connect(srv.url, extensions=[])  # noqa: E731

    async def main() -> float:
        ws = await make()
        loop = asyncio.get_running_loop()
        t0 = loop.time()
        await ws.close()
        assert ws.close_code == 1006
        return loop.time() - t0

    try:
        took = run(main())
    finally:
        srv.close()
    assert 9 < took < 15
    assert srv.got.close_code == 1000
