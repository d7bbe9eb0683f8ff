"""A small ASGI app that hypercorn serves over HTTP/2 for the tests (TLS with
ALPN, and cleartext by prior knowledge), with what httpbin has no ASGI form
of: an echo that reports the HTTP version the server saw, a streaming
endpoint whose pace the test sets, and a few policy endpoints.

    /echo/...            JSON: method, path, query, headers ([name, value]
                         pairs as received), body (latin-1; only the first
                         MiB), length and CRC-32 of the body, http_version
    /reqinfo             the same (stands in for the seed README's
                         https://http2.golang.org/reqinfo)
    /stream?n=&size=&delay=
                         n chunks of size bytes (b"0123456789" repeated),
                         delay seconds apart, sent as separate DATA frames
    /delay?s=            answers "slept" after s seconds
    /status/<code>       that status, body "status <code>"
    /redirect?to=&code=  a redirect (302 by default) to `to`
    /cookies/set?n=v...  Set-Cookie for each pair, JSON of them
    /cookies             JSON of the Cookie header's pairs
    /basic-auth/<u>/<p>  200 with JSON {"user": u} for Basic u:p, else 401
                         with a Basic challenge
"""

from __future__ import annotations

import asyncio
import base64
import json
import zlib
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import parse_qsl

Scope = dict[str, Any]
Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]

KEEP = 1 << 20


async def _body(receive: Receive) -> tuple[bytes, int, int]:
    kept = bytearray()
    length = crc = 0
    while True:
        msg = await receive()
        if msg["type"] == "http.disconnect":
            break
        chunk = msg.get("body", b"")
        length += len(chunk)
        crc = zlib.crc32(chunk, crc)
        if len(kept) < KEEP:
            kept += chunk[: KEEP - len(kept)]
        if not msg.get("more_body"):
            break
    return bytes(kept), length, crc


async def _reply(send: Send, status: int, body: bytes, ctype: str = "application/json",
                 headers: list[tuple[bytes, bytes]] | None = None) -> None:
    hdrs = [(b"content-type", ctype.encode()), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status,
                "headers": hdrs + (headers or [])})
    await send({"type": "http.response.body", "body": body})


def _json(obj: Any) -> bytes:
    return json.dumps(obj).encode()


async def app(scope: Scope, receive: Receive, send: Send) -> None:
    if scope["type"] == "lifespan":
        while True:
            msg = await receive()
            if msg["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            else:
                await send({"type": "lifespan.shutdown.complete"})
                return
    path: str = scope["path"]
    query = dict(parse_qsl(scope["query_string"].decode("latin-1")))
    headers = [(k.decode("latin-1"), v.decode("latin-1")) for k, v in scope["headers"]]
    hmap = {k: v for k, v in headers}
    if path.startswith("/echo") or path == "/reqinfo":
        body, length, crc = await _body(receive)
        await _reply(send, 200, _json({
            "method": scope["method"], "path": path, "query": scope["query_string"].decode(),
            "headers": headers, "body": body.decode("latin-1"), "length": length,
            "crc32": crc, "http_version": scope["http_version"],
        }))
    elif path == "/stream":
        n, size = int(query.get("n", "10")), int(query.get("size", "1024"))
        delay = float(query.get("delay", "0"))
        chunk = (b"0123456789" * (size // 10 + 1))[:size]
        await send({"type": "http.response.start", "status": 200,
                    "headers": [(b"content-type", b"application/octet-stream")]})
        for i in range(n):
            if delay:
                await asyncio.sleep(delay)
            await send({"type": "http.response.body", "body": chunk, "more_body": i < n - 1})
    elif path == "/delay":
        await asyncio.sleep(float(query.get("s", "1")))
        await _reply(send, 200, b"slept", "text/plain")
    elif path.startswith("/status/"):
        code = int(path.rsplit("/", 1)[1])
        await _reply(send, code, b"status %d" % code, "text/plain")
    elif path == "/redirect":
        await _reply(send, int(query.get("code", "302")), b"", "text/plain",
                     [(b"location", query["to"].encode())])
    elif path == "/cookies/set":
        await _reply(send, 200, _json(query), headers=[
            (b"set-cookie", f"{k}={v}; Path=/".encode()) for k, v in query.items()])
    elif path == "/cookies":
        pairs = [p.strip().partition("=") for p in hmap.get("cookie", "").split(";") if p.strip()]
        await _reply(send, 200, _json({k: v for k, _, v in pairs}))
    elif path.startswith("/basic-auth/"):
        _, _, user, password = path.split("/", 3)
        want = "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()
        if hmap.get("authorization") == want:
            await _reply(send, 200, _json({"authenticated": True, "user": user}))
        else:
            await _reply(send, 401, b"", "text/plain",
                         [(b"www-authenticate", b'Basic realm="fasthttp"')])
    else:
        await _reply(send, 404, b"not found", "text/plain")
