"""WebSocket peers for the tests: the `websockets` package's server (ws:// and wss://)
in a thread of its own, and a scripted raw-socket server that breaks the protocol on
purpose and records what the client sent back."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import socket
import ssl
import struct
import threading
import zlib
from collections.abc import Callable
from http import HTTPStatus
from typing import Any  # noqa: F401

import trustme
from websockets.asyncio.server import ServerConnection, serve
from websockets.datastructures import Headers
from websockets.exceptions import ConnectionClosed
from websockets.http11 import Request, Response

GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"


class WsServer:
    """websockets' server on 127.0.0.1 (TLS when a trustme CA is given). Paths:

    /echo            every message back, same type
    /headers         one text message: the handshake's request headers as JSON; closes
    /close/CODE      closes at once with CODE and reason "bye"
    /ping            pings the client, then sends "pong ok" once its pong arrived
    /forbidden       refuses the upgrade with 403 and X-Why: testing
    /wait-close      records the close code the client sends (see .closes)
    /chat            echoes one message, then closes with 1000
    /binary          sends b"\\x00\\xff", then closes with 1000
    """

    def __init__(self, ca: trustme.CA | None = None, compression: str | None = "deflate") -> None:
        self.ca = ca
        self.compression = compression
        self.closes: list[tuple[int | None, str | None]] = []
        self.loop = asyncio.new_event_loop()
        self.ready = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.port = 0
        self.stop_fut: asyncio.Future[None] | None = None

    @property
    def url(self) -> str:
        return f"{'wss' if self.ca else 'ws'}://127.0.0.1:{self.port}"

    def start(self) -> WsServer:
        self.thread.start()
        if not self.ready.wait(10):
            raise RuntimeError("websockets server did not start")
        return self

    def close(self) -> None:
        if self.stop_fut is not None:
            self.loop.call_soon_threadsafe(self.stop_fut.set_result, None)
        self.thread.join(10)

    def _ssl(self) -> ssl.SSLContext | None:
        if not self.ca:
            return None
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.ca.issue_cert("localhost", "127.0.0.1").configure_cert(ctx)
        return ctx

    def _run(self) -> None:
        asyncio.set_event_loop(self.loop)
        self.loop.run_until_complete(self._main())

    async def _main(self) -> None:
        self.stop_fut = self.loop.create_future()
        async with serve(self._handler, "127.0.0.1", 0, ssl=self._ssl(), max_size=None,
                         compression=self.compression, select_subprotocol=self._pick,
                         process_request=self._process_request, ping_interval=None) as srv:
            self.port = next(iter(srv.sockets)).getsockname()[1]
            self.ready.set()
            await self.stop_fut

    @staticmethod
    def _pick(conn: ServerConnection, offered: Any) -> str | None:
        # the first of ours the client offered; none offered is fine
        return next((p for p in ("chat", "superchat") if p in offered), None)

    @staticmethod
    def _process_request(conn: ServerConnection, req: Request) -> Response | None:
        if req.path == "/forbidden":
            return Response(HTTPStatus.FORBIDDEN.value, "Forbidden",
                            Headers([("X-Why", "testing"), ("Content-Length", "2")]), b"no")
        return None

    async def _handler(self, ws: ServerConnection) -> None:
        path = ws.request.path if ws.request else "/"
        try:
            if path.startswith("/close/"):
                await ws.close(int(path.split("/")[2]), "bye")
            elif path == "/headers":
                await ws.send(json.dumps(dict(ws.request.headers.raw_items())))
                await ws.close(1000)
            elif path == "/ping":
                waiter = await ws.ping(b"srv")
                await asyncio.wait_for(waiter, 5)
                await ws.send("pong ok")
                await ws.wait_closed()
            elif path == "/chat":  # one echo, then a normal close
                await ws.send(await ws.recv())
                await ws.close(1000, "bye")
            elif path == "/binary":  # one binary message, then a normal close
                await ws.send(b"\x00\xff")
                await ws.close(1000)
            elif path == "/wait-close":
                await ws.wait_closed()
            else:
                async for msg in ws:
                    await ws.send(msg)
        except ConnectionClosed:
            pass
        finally:
            rcvd = ws.protocol.close_rcvd
            self.closes.append((rcvd.code if rcvd else None, rcvd.reason if rcvd else None))


# ---- scripted raw-socket server ------------------------------------------------------


def accept_key(key: bytes) -> bytes:
    return base64.b64encode(hashlib.sha1(key + GUID).digest())


def frame(op: int, payload: bytes = b"", *, fin: bool = True, rsv: int = 0,
          mask: bool = False, length: int | None = None) -> bytes:
    """A frame as a server would send it (RFC 6455 §5.2); length overrides the
    encoded payload length (for lies)."""
    n = len(payload) if length is None else length
    b0 = (0x80 if fin else 0) | (rsv << 4) | op
    if n < 126:
        head = struct.pack("!BB", b0, (0x80 if mask else 0) | n)
    elif n < 65536:
        head = struct.pack("!BBH", b0, (0x80 if mask else 0) | 126, n)
    else:
        head = struct.pack("!BBQ", b0, (0x80 if mask else 0) | 127, n)
    if mask:
        key = b"\x01\x02\x03\x04"
        payload = bytes(c ^ key[i % 4] for i, c in enumerate(payload))
        head += key
    return head + payload


def deflate_message(data: bytes) -> bytes:
    """permessage-deflate payload of one message (RFC 7692 §7.2.1)."""
    c = zlib.compressobj(9, zlib.DEFLATED, -15)
    out = c.compress(data) + c.flush(zlib.Z_SYNC_FLUSH)
    assert out.endswith(b"\x00\x00\xff\xff")
    return out[:-4]


class ClientFrames:
    """Frames the client sent, unmasked; masked says whether every one was."""

    def __init__(self) -> None:
        self.frames: list[tuple[int, bytes]] = []
        self.all_masked = True
        self.eof = False

    @property
    def close_code(self) -> int | None:
        for op, payload in self.frames:
            if op == 8:
                return struct.unpack("!H", payload[:2])[0] if len(payload) >= 2 else 1005
        return None


def read_frames(conn: socket.socket, out: ClientFrames, timeout: float = 5.0,
                answer_close: bool = True) -> None:
    """Records the client's frames until it closes TCP, or, with answer_close, until
    its close frame, which is echoed before the server closes TCP (RFC 6455 §5.5.1)."""
    conn.settimeout(timeout)
    buf = b""
    try:
        while True:
            while True:
                if len(buf) >= 2:
                    n = buf[1] & 0x7F
                    off = 2
                    if n == 126 and len(buf) >= 4:
                        n, off = struct.unpack("!H", buf[2:4])[0], 4
                    elif n == 127 and len(buf) >= 10:
                        n, off = struct.unpack("!Q", buf[2:10])[0], 10
                    elif n >= 126:
                        break
                    masked = bool(buf[1] & 0x80)
                    end = off + (4 if masked else 0) + n
                    if len(buf) < end:
                        break
                    key = buf[off:off + 4] if masked else b"\0\0\0\0"
                    body = buf[end - n:end]
                    out.all_masked &= masked
                    out.frames.append((buf[0] & 0x0F,
                                       bytes(c ^ key[i % 4] for i, c in enumerate(body))))
                    buf = buf[end:]
                    if answer_close and out.frames[-1][0] == 8:
                        conn.sendall(frame(8, out.frames[-1][1][:2]))
                        return
                else:
                    break
            chunk = conn.recv(65536)
            if not chunk:
                out.eof = True
                return
            buf += chunk
    except OSError:
        return


class ScriptedWs:
    """Answers the opening handshake (101 with the right accept unless told otherwise),
    sends `frames` (bytes, or a callable given the request head), then records the
    client's frames until it closes the connection or `timeout` passes. `close_tcp`
    closes the socket after sending instead of reading."""

    def __init__(self, frames: bytes | Callable[[bytes], bytes] = b"", *,
                 accept: bytes | None = None, extra_headers: str = "",
                 close_tcp: bool = False, timeout: float = 5.0,
                 answer_close: bool = True) -> None:
        self.answer_close = answer_close
        self.frames = frames
        self.accept = accept
        self.extra = extra_headers
        self.close_tcp = close_tcp
        self.timeout = timeout
        self.got = ClientFrames()
        self.request = b""
        self.done = threading.Event()
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(4)
        self.port = self.sock.getsockname()[1]
        self.url = f"ws://127.0.0.1:{self.port}/"
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        try:
            conn, _ = self.sock.accept()
        except OSError:
            return
        with conn:
            data = b""
            while b"\r\n\r\n" not in data:
                chunk = conn.recv(65536)
                if not chunk:
                    self.done.set()
                    return
                data += chunk
            self.request = data
            key = b""
            for line in data.split(b"\r\n"):
                if line.lower().startswith(b"sec-websocket-key:"):
                    key = line.split(b":", 1)[1].strip()
            acc = self.accept if self.accept is not None else accept_key(key)
            conn.sendall(b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                         b"Connection: Upgrade\r\nSec-WebSocket-Accept: " + acc + b"\r\n" +
                         self.extra.encode() + b"\r\n")
            payload = self.frames(data) if callable(self.frames) else self.frames
            if payload:
                conn.sendall(payload)
            if not self.close_tcp:
                read_frames(conn, self.got, self.timeout, self.answer_close)
        self.done.set()

    def close(self) -> None:
        self.sock.close()
        self.done.wait(10)

