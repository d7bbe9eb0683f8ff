# pyright: strict
"""Every example of the seed README (shared/seed/fasthttp-README.md), sync and async,
written as a type checker sees user code: checked, not run, by `mypy --strict` and
`pyright` (strict) in scripts/test-python.sh, against the package's stubs
(fasthttp/_fasthttp.pyi) and annotations. The examples run for real in
test_seed_examples.py, test_async_seed_examples.py, test_policies_seed.py and
test_ws_seed_examples.py; here only the annotations a user would add are added (the
seed's hook and auth examples leave their parameters unannotated)."""

from __future__ import annotations

import asyncio
from typing import Any

from fasthttp import AuthBase, BasicAuth, Client, DigestAuth, Request, Response, WebSocket
from fasthttp.cookies import CookieJar
from fasthttp.errors import (
    FastHTTPError,
    HTTPStatusError,
    PoolError,
    RequestError,
    ResponseError,
    WebSocketDecodeError,
    WebSocketHandshakeError,
)
from fasthttp.formdata import MultipartEncoder
from fasthttp.retry import RetryPolicy
from fasthttp.timeouts import Timeout


def quick_start_sync() -> None:
    with Client() as client:
        resp = client.get("https://httpbin.org/get")
        print(f"Status: {resp.status_code}")
        print(f"Response: {resp.json()}")
    with Client(timeout=Timeout(connect=5, read=10)) as client:
        resp = client.get("https://httpbin.org/get")
        print(resp.json())


async def quick_start_async() -> None:
    async with Client() as client:
        resp = await client.get("https://httpbin.org/get")
        print(f"Status: {resp.status_code}")
        print(f"Response: {resp.json()}")
    async with Client(timeout=Timeout(connect=5, read=10)) as client:
        resp = await client.get("https://httpbin.org/get")
        print(resp.json())


def api_reference_client() -> None:
    with Client() as client:
        response = client.get("https://api.example.com/users")
    with Client(base_url="https://api.example.com") as client:
        response = client.get("/users")
    with Client(timeout=Timeout(connect=5, read=10, total=30)) as client:
        response = client.get("https://api.example.com/users")
    status: int = response.status_code
    print(status)


def client_methods() -> None:
    with Client() as client:
        for resp in (client.get("u"), client.post("u"), client.put("u"), client.patch("u"),
                     client.delete("u"), client.head("u"), client.options("u"),
                     client.request("PURGE", "u")):
            print(resp.status_code)


def api_reference_request() -> Request:
    return Request(
        method="GET",
        url="https://api.example.com/users",
        headers={"Authorization": "Bearer token"},
        params={"page": 1, "limit": 10},
        data={"key": "value"},
    )


def api_reference_response() -> None:
    with Client() as client:
        resp = client.get("https://httpbin.org/json")
        print(f"Status: {resp.status_code}")
        print(f"Headers: {resp.headers}")
        print(f"Text: {resp.text()}")
        print(f"JSON: {resp.json()}")
        resp.raise_for_status()
        content: bytes = resp.content
        encoding: str | None = resp.encoding
        print(content, encoding)


def timeouts() -> list[Timeout]:
    no_timeout = Timeout()
    connect_timeout = Timeout(connect=5)
    read_timeout = Timeout(read=10)
    full_timeout = Timeout(connect=5, read=10, total=30)
    return [no_timeout, connect_timeout, read_timeout, full_timeout]


def retry_policy() -> None:
    retry_policy = RetryPolicy(max_attempts=3)
    retry_policy = RetryPolicy(
        max_attempts=5,
        backoff_factor=0.5,
        status_codes=[500, 502, 503, 504],
        circuit_breaker=True,
        cb_failure_threshold=3,
        cb_recovery_seconds=60,
    )
    with Client(retry=retry_policy) as client:
        resp = client.get("https://api.example.com/resource")
        print(resp.status_code)


def cookies() -> None:
    jar = CookieJar()
    jar.set("session_id", "abc123", domain="example.com", path="/", secure=True)
    with Client(cookies=jar) as client:
        resp = client.get("https://example.com/protected")
        print(resp.status_code)


async def websocket_quick_example() -> None:
    async with WebSocket.connect("wss://echo.websocket.org") as ws:
        await ws.send_text("hello")
        print("Text echo:", await ws.recv_text())
        await ws.send_bytes(b"\x00\x01")
        print("Binary echo:", await ws.recv_bytes())
        await ws.send_json({"ping": True})
        try:
            print("JSON echo:", await ws.recv_json())
        except WebSocketDecodeError:
            print("Peer did not return JSON.")


async def websocket_api_overview() -> None:
    async with WebSocket.connect("wss://example.org", headers={"X-A": "1"},
                                 subprotocols=["chat"], timeout=5) as ws:
        await ws.send_text("part", final=False)
        await ws.send_text("end")
        message: str | bytes = await ws.recv()
        print(message)
        await ws.ping(b"")
        async for incoming in ws:
            print(incoming)
        await ws.close(1000, None)


async def websocket_through_client() -> None:
    async with Client(base_url="wss://example.org") as client:
        async with await client.websocket("/chat") as ws:
            await ws.send_text("hi!")
            async for message in ws:
                print("Incoming:", message)


async def websocket_errors() -> None:
    try:
        async with WebSocket.connect("wss://example.org/socket") as ws:
            print(ws)
    except WebSocketHandshakeError as exc:
        print("Server rejected upgrade:", exc)
    except WebSocketDecodeError as exc:
        print("Bad payload:", exc)


class APIKeyAuth(AuthBase):
    def __init__(self, key: str) -> None:
        self.key = key

    def _on_request(self, request: Request) -> None:
        request.headers["X-API-Key"] = self.key


def authentication() -> None:
    with Client(base_url="https://api.example.com", auth=("user", "pass")) as client:
        resp = client.get("/basic-auth")
        resp.raise_for_status()
    digest = DigestAuth("digest-user", "digest-pass")
    with Client(base_url="https://api.example.com") as client:
        resp = client.get("/digest-endpoint", auth=digest)
        resp.raise_for_status()
    with Client(base_url="https://api.example.com") as client:
        resp = client.get("/custom-auth", auth=APIKeyAuth("my-secret"))
        resp.raise_for_status()
    with Client(auth=BasicAuth("user", "pass")) as client:
        client.get("/")


async def http2_preference() -> None:
    async with Client(http2=True) as client:
        resp = await client.get("https://http2.golang.org/reqinfo")
        resp = await client.get("https://example.com/data", http2=False)
        resp = await client.get("https://example.com/data", http2=True)
        print(resp.http_version)


def log_status(resp: Response) -> None:
    print("Got status:", resp.status_code)


async def uppercase_hook(resp: Response) -> Response:
    return Response(
        status_code=resp.status_code,
        headers=resp.headers,
        content=resp.content.upper(),
        request=resp.request,
    )


def response_hooks() -> None:
    with Client(base_url="https://api.example.com", hooks={"response": log_status}) as client:
        resp = client.get("/resource", hooks={"response": [log_status, uppercase_hook]})
        resp.raise_for_status()


def streaming() -> None:
    with Client() as client:
        resp = client.get("https://httpbin.org/stream/20", stream=True)
        for chunk in resp.iter_bytes():
            print(f"Received chunk: {len(chunk)} bytes")
        for text in resp.iter_text():
            print(text)


async def async_streaming() -> None:
    async with Client() as client:
        resp = await client.get("https://httpbin.org/stream/20", stream=True)
        async for chunk in resp.aiter_bytes():
            print(f"Received chunk: {len(chunk)} bytes")
        async for text in resp.aiter_text():
            print(text)


def headers_and_params() -> None:
    with Client() as client:
        resp = client.get(
            "https://httpbin.org/headers",
            headers={"User-Agent": "MyApp/1.0"},
            params={"key": "value"},
        )
        print(resp.json())


def post_data() -> None:
    with Client() as client:
        resp = client.post("https://httpbin.org/post", json={"key": "value"})
        print(resp.json())
        resp = client.post("https://httpbin.org/post", data={"field": "value"})
        print(resp.json())


def circuit_breaker() -> None:
    retry_policy = RetryPolicy(
        max_attempts=1,
        circuit_breaker=True,
        cb_failure_threshold=3,
        cb_recovery_seconds=60,
    )
    with Client(base_url="https://api.example.com", retry=retry_policy) as client:
        resp = client.get("/resource")
        print(resp.status_code)


async def file_uploads() -> None:
    async with Client(base_url="https://api.example.com") as client:
        with open("photo.jpg", "rb") as photo:
            files: dict[str, Any] = {
                "avatar": ("photo.jpg", photo),
                "metadata": ("meta.json", b'{"public": true}', "application/json"),
            }
            data = {"user_id": "123"}
            resp = await client.post("/upload", data=data, files=files)
            resp.raise_for_status()
        with open("large.bin", "rb") as large:
            encoder = MultipartEncoder(
                fields={"description": "Sample upload"},
                files={"file": ("large.bin", large, "application/octet-stream")},
            )
            resp = await client.post("/upload", content=encoder.iter_bytes(), headers={
                "Content-Type": encoder.content_type,
            })


def synchronous_wrapper() -> Any:
    with Client(base_url="https://api.example.com") as client:
        resp = client.get("/users")
        return resp.json()


def error_handling() -> None:
    with Client() as client:
        try:
            resp = client.get("https://httpbin.org/status/500")
            resp.raise_for_status()
        except HTTPStatusError as e:
            print(f"HTTP error occurred: {e}")
        except RequestError as e:
            print(f"Request error occurred: {e}")
        except FastHTTPError as e:
            print(f"General FastHTTP error occurred: {e}")
    errors: list[type[FastHTTPError]] = [ResponseError, PoolError]
    print(errors)


def main() -> None:
    asyncio.run(quick_start_async())
