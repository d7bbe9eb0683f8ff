"""WebSocket client (RFC 6455, permessage-deflate of RFC 7692) over libfasthttp.

asyncio::

    async with WebSocket.connect("wss://example.org/socket") as ws:
        await ws.send_text("hello")
        print(await ws.recv_text())

    async with Client(base_url="wss://example.org") as client:
        async with await client.websocket("/chat") as ws:
            async for message in ws:
                ...

synchronous, inside ``with Client() as client``::

    with client.websocket("/chat") as ws:
        ws.send_text("hi")
        for message in ws:
            ...

Framing, compression, UTF-8 checks, keepalive and the closing handshake are in C
(``fasthttp/ws.h``); this module adds the typed helpers, JSON, context managers and
iteration. The handshake is an HTTP/1.1 request of the client: its TLS settings,
timeouts, default headers, cookies and credentials apply.
"""

from __future__ import annotations

import json
import os
import ssl
import tempfile
from collections.abc import Awaitable, Generator, Iterator, Sequence
from typing import Any, Callable, Union

from ._fasthttp import Client, _WebSocket, _ws_open
from .errors import (
    WebSocketClosed,
    WebSocketDecodeError,
    WebSocketMessageTypeError,
    WebSocketProtocolError,
)

__all__ = ["SyncWebSocket", "WebSocket"]

Message = Union[str, bytes]

# Close codes after which iteration ends quietly: a normal closing handshake.
_NORMAL = (1000, 1001, 1005)


def _typed(msg: Message, want: type) -> Any:
    if not isinstance(msg, want):
        got = "text" if isinstance(msg, str) else "binary"
        raise WebSocketMessageTypeError(
            f"expected a {'text' if want is str else 'binary'} message, got a {got} one")
    return msg


def _json(msg: Message, loads: Callable[[Any], Any] | None) -> Any:
    try:
        return (loads or json.loads)(msg)
    except (ValueError, UnicodeDecodeError) as exc:
        raise WebSocketDecodeError(f"the message is not valid JSON: {exc}") from exc


def _dumps(obj: Any, dumps: Callable[[Any], Any] | None) -> str | bytes:
    data = (dumps or json.dumps)(obj)
    if not isinstance(data, (str, bytes)):
        raise TypeError("dumps must return str or bytes")
    return data


class WebSocket(_WebSocket):
    """A WebSocket on asyncio. Made by :meth:`connect` or ``await client.websocket(url)``.

    Methods are awaitables: ``send_text``, ``send_bytes``, ``send_json``, ``recv``,
    ``recv_text``, ``recv_bytes``, ``recv_json``, ``ping``, ``close``. ``async for``
    yields messages until the server closes normally (1000, 1001 or no code); other
    endings raise :class:`WebSocketClosed` (``code``, ``reason``) or, when the peer broke
    the protocol, :class:`WebSocketProtocolError`.
    """

    @classmethod
    def connect(
        cls,
        url: str,
        *,
        headers: Any = None,
        subprotocols: Sequence[str] | None = None,
        extensions: Sequence[str] | None = None,
        timeout: Any = None,
        verify: bool | str = True,
        ssl_context: ssl.SSLContext | None = None,
    ) -> _Connect:
        """Opens a WebSocket to a ``ws://`` or ``wss://`` URL on a client of its own
        (closed with the WebSocket). Await it, or use it with ``async with``.

        ``extensions=None`` offers permessage-deflate; ``[]`` offers nothing.
        ``ssl_context`` is honoured for its verification: ``verify_mode=CERT_NONE``
        turns verification off, and the CA certificates it loaded from files or data
        replace the system store. Client certificates and cipher settings in it are
        not used (pass ``cert=`` to a :class:`Client` and use ``client.websocket``).
        """
        scheme = url.split("://", 1)[0].lower() if isinstance(url, str) else ""
        if scheme not in ("ws", "wss"):
            raise WebSocketProtocolError(
                f"invalid WebSocket URL {url!r}: a ws:// or wss:// URL is expected")
        return _Connect(cls, url, headers, subprotocols, extensions, timeout, verify,
                        ssl_context)

    async def send_json(self, obj: Any, *, dumps: Callable[[Any], Any] | None = None) -> None:
        data = _dumps(obj, dumps)
        if isinstance(data, bytes):
            await self.send_bytes(data)
        else:
            await self.send_text(data)

    async def recv_text(self) -> str:
        return _typed(await self.recv(), str)  # type: ignore[no-any-return]

    async def recv_bytes(self) -> bytes:
        return _typed(await self.recv(), bytes)  # type: ignore[no-any-return]

    async def recv_json(self, *, loads: Callable[[Any], Any] | None = None) -> Any:
        return _json(await self.recv(), loads)

    async def __aenter__(self) -> WebSocket:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    def __aiter__(self) -> WebSocket:
        return self

    async def __anext__(self) -> Message:
        try:
            return await self.recv()  # type: ignore[no-any-return]
        except WebSocketClosed as exc:
            if exc.code in _NORMAL:
                raise StopAsyncIteration from None
            raise


class SyncWebSocket(_WebSocket):
    """A blocking WebSocket: ``client.websocket(url)`` inside ``with Client() as client``.
    The same methods as :class:`WebSocket`, returning values; ``with`` closes it and
    ``for message in ws`` iterates until a normal close."""

    def send_json(self, obj: Any, *, dumps: Callable[[Any], Any] | None = None) -> None:
        data = _dumps(obj, dumps)
        if isinstance(data, bytes):
            self.send_bytes(data)
        else:
            self.send_text(data)

    def recv_text(self) -> str:
        return _typed(self.recv(), str)  # type: ignore[no-any-return]

    def recv_bytes(self) -> bytes:
        return _typed(self.recv(), bytes)  # type: ignore[no-any-return]

    def recv_json(self, *, loads: Callable[[Any], Any] | None = None) -> Any:
        return _json(self.recv(), loads)

    def __enter__(self) -> SyncWebSocket:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __iter__(self) -> Iterator[Message]:
        while True:
            try:
                yield self.recv()
            except WebSocketClosed as exc:
                if exc.code in _NORMAL:
                    return
                raise


def _verify_from(ctx: ssl.SSLContext | None, verify: bool | str) -> tuple[bool | str, Any]:
    """What Client(verify=) can take from an SSLContext: CERT_NONE, or its CA certs
    (written to a temporary PEM file that lives as long as the WebSocket)."""
    if ctx is None:
        return verify, None
    if ctx.verify_mode == ssl.CERT_NONE:
        return False, None
    cas = ctx.get_ca_certs(binary_form=True)
    if not cas:
        return verify, None
    tmp = tempfile.NamedTemporaryFile("w", suffix=".pem", prefix="fasthttp-ca-", delete=False)
    with tmp:
        for der in cas:
            tmp.write(ssl.DER_cert_to_PEM_cert(der))
    return tmp.name, tmp.name


class _Connect:
    """What WebSocket.connect() returns: awaitable, and an async context manager."""

    def __init__(self, cls: type[WebSocket], url: str, headers: Any, subprotocols: Any,
                 extensions: Any, timeout: Any, verify: bool | str,
                 ssl_context: ssl.SSLContext | None) -> None:
        self._args = (cls, url, headers, subprotocols, extensions, timeout)
        self._verify = verify
        self._ctx = ssl_context
        self._ws: WebSocket | None = None

    async def _open(self) -> WebSocket:
        cls, url, headers, subprotocols, extensions, timeout = self._args
        verify, tmp = _verify_from(self._ctx, self._verify)
        try:
            client = Client(verify=verify, timeout=timeout)
            try:
                ws = await _ws_open(cls, client, url, headers, subprotocols, extensions,
                                    timeout, True)
            except BaseException:
                await client.close()
                raise
        finally:
            if tmp:  # the TLS context read it during the handshake
                os.unlink(tmp)
        return ws  # type: ignore[no-any-return]

    def __await__(self) -> Generator[Any, None, WebSocket]:
        return self._open().__await__()

    async def __aenter__(self) -> WebSocket:
        self._ws = await self._open()
        return self._ws

    async def __aexit__(self, *exc: object) -> None:
        if self._ws is not None:
            await self._ws.close()


def _client_websocket(
    client: Client,
    url: str,
    *,
    headers: Any = None,
    subprotocols: Sequence[str] | None = None,
    extensions: Sequence[str] | None = None,
    timeout: Any = None,
) -> SyncWebSocket | Awaitable[WebSocket]:
    """Client.websocket(): the client's base_url (ws://, wss://, or http(s):// mapped to
    ws(s)://), headers, cookies, credentials, TLS settings and timeouts."""
    return _ws_open((WebSocket, SyncWebSocket), client, url, headers, subprotocols,  # type: ignore[no-any-return]
                    extensions, timeout, False)
