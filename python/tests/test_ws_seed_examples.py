"""The WebSocket examples of the seed README (section "WebSocket Client"), with only
the remote host swapped for the local `websockets` server (wss://echo.websocket.org
and wss://example.org → its ws:// URL), each in its asynchronous form (on asyncio and
uvloop) and in the synchronous form of `with Client() as client`."""

from __future__ import annotations

from typing import Any

import pytest
from aio_util import Runner, arun  # noqa: F401 (fixture)


def test_quick_example(ws_server: str, arun: Runner[Any],
                       capsys: pytest.CaptureFixture[str]) -> None:
    from fasthttp import WebSocket
    from fasthttp.errors import WebSocketDecodeError  # the seed uses it unimported

    async def main() -> None:
        async with WebSocket.connect(f"{ws_server}/echo") as ws:
            await ws.send_text("hello")
            print("Text echo:", await ws.recv_text())

            await ws.send_bytes(b"\x00\x01")
            print("Binary echo:", await ws.recv_bytes())

            await ws.send_json({"ping": True})
            try:
                print("JSON echo:", await ws.recv_json())
            except WebSocketDecodeError:
                print("Peer did not return JSON.")

    arun(main())  # asyncio.run(main()) on each kind of loop
    out = capsys.readouterr().out
    assert "Text echo: hello\nBinary echo: b'\\x00\\x01'\nJSON echo: {'ping': True}\n" in out


def test_quick_example_sync(ws_server: str, capsys: pytest.CaptureFixture[str]) -> None:
    from fasthttp import Client
    from fasthttp.errors import WebSocketDecodeError

    with Client() as client, client.websocket(f"{ws_server}/echo") as ws:
        ws.send_text("hello")
        print("Text echo:", ws.recv_text())

        ws.send_bytes(b"\x00\x01")
        print("Binary echo:", ws.recv_bytes())

        ws.send_json({"ping": True})
        try:
            print("JSON echo:", ws.recv_json())
        except WebSocketDecodeError:
            print("Peer did not return JSON.")

    out = capsys.readouterr().out
    assert out == "Text echo: hello\nBinary echo: b'\\x00\\x01'\nJSON echo: {'ping': True}\n"


def test_using_through_client(ws_server: str, arun: Runner[Any],
                              capsys: pytest.CaptureFixture[str]) -> None:
    from fasthttp import Client

    async def main() -> None:
        async with Client(base_url=ws_server) as client:
            async with await client.websocket("/chat") as ws:
                await ws.send_text("hi!")
                async for message in ws:
                    print("Incoming:", message)

    arun(main())
    assert capsys.readouterr().out == "Incoming: hi!\n"


def test_using_through_client_sync(ws_server: str, capsys: pytest.CaptureFixture[str]) -> None:
    from fasthttp import Client

    with Client(base_url=ws_server) as client:
        with client.websocket("/chat") as ws:
            ws.send_text("hi!")
            for message in ws:
                print("Incoming:", message)

    assert capsys.readouterr().out == "Incoming: hi!\n"


def test_error_handling(ws_server: str, arun: Runner[Any],
                        capsys: pytest.CaptureFixture[str]) -> None:
    from fasthttp import WebSocket
    from fasthttp.errors import WebSocketDecodeError, WebSocketHandshakeError

    async def main() -> None:
        try:
            async with WebSocket.connect(f"{ws_server}/forbidden") as ws:
                ...
        except WebSocketHandshakeError as exc:
            print("Server rejected upgrade:", exc)
        except WebSocketDecodeError as exc:
            print("Bad payload:", exc)

    arun(main())
    out = capsys.readouterr().out
    assert out.count("Server rejected upgrade:") == 1 and "403" in out


def test_error_handling_sync(ws_server: str, capsys: pytest.CaptureFixture[str]) -> None:
    from fasthttp import Client
    from fasthttp.errors import WebSocketDecodeError, WebSocketHandshakeError

    with Client() as client:
        try:
            with client.websocket(f"{ws_server}/forbidden") as ws:
                ...
        except WebSocketHandshakeError as exc:
            print("Server rejected upgrade:", exc)
        except WebSocketDecodeError as exc:
            print("Bad payload:", exc)

    assert "Server rejected upgrade:" in capsys.readouterr().out
