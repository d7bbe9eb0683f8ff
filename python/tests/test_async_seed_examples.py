"""Every asynchronous example of the seed README (../shared/seed/fasthttp-README.md)
that this release supports, with only the host changed (https://httpbin.org →
the local httpbin, https://api.example.com → its /anything echo), on stock
asyncio and on uvloop.

The async File Uploads, hook and auth examples run in test_async_policies_uploads.py.
The HTTP/2 preference examples (http2=) run in test_http2_async.py; WebSocket is left
for its issue.
"""

from __future__ import annotations

from typing import Any

import pytest
from aio_util import Runner, arun  # noqa: F401 (fixture)


def test_quick_start_asynchronous(
    httpbin: str, arun: Runner[Any], capsys: pytest.CaptureFixture[str]
) -> None:
    import asyncio

    from fasthttp import Client
    from fasthttp.timeouts import Timeout

    async def main() -> None:
        # Basic async request
        async with Client() as client:
            resp = await client.get(f"{httpbin}/get")
            print(f"Status: {resp.status_code}")
            print(f"Response: {resp.json()}")

        # With custom timeout
        async with Client(timeout=Timeout(connect=5, read=10)) as client:
            resp = await client.get(f"{httpbin}/get")
            print(resp.json())

    assert asyncio.iscoroutinefunction(main)
    arun(main())  # asyncio.run(main()) on each kind of loop

    out = capsys.readouterr().out
    assert "Status: 200" in out
    assert out.count(f"'url': '{httpbin}/get'") == 2


def test_async_streaming(
    httpbin: str, arun: Runner[Any], capsys: pytest.CaptureFixture[str]
) -> None:
    from fasthttp import Client

    async def stream_example() -> None:
        async with Client() as client:
            resp = await client.get(f"{httpbin}/stream/20", stream=True)

            # Process response in chunks
            async for chunk in resp.aiter_bytes():
                print(f"Received chunk: {len(chunk)} bytes")

    arun(stream_example())

    out = capsys.readouterr().out
    sizes = [int(line.split()[2]) for line in out.splitlines()]
    assert sizes and all(n > 0 for n in sizes)
    assert sum(sizes) > 20 * 100  # twenty JSON lines of httpbin


def test_api_reference_client_used_directly(api: str, arun: Runner[Any]) -> None:
    """"When used directly, it requires async/await syntax": the Client
    section's examples with a bare client, then `async with`."""
    from fasthttp import Client
    from fasthttp.timeouts import Timeout

    async def main() -> None:
        # Basic client, used directly
        client = Client()
        response = await client.get(f"{api}/users")
        assert response.status_code == 200
        assert response.json()["url"] == f"{api}/users"
        await client.close()

        # Client with base URL
        async with Client(base_url=api) as client:
            response = await client.get("/users")  # request to {api}/users
        assert response.json()["url"] == f"{api}/users"

        # Client with custom timeout
        async with Client(timeout=Timeout(connect=5, read=10, total=30)) as client:
            response = await client.get(f"{api}/users")
        assert response.status_code == 200

    arun(main())


def test_client_methods_are_async(api: str, arun: Runner[Any]) -> None:
    """The Client Methods list: each method, async by default."""
    from fasthttp import Client, Request

    async def main() -> None:
        async with Client(base_url=api) as client:
            for name in ("get", "post", "put", "patch", "delete"):
                resp = await getattr(client, name)("/m")
                assert resp.status_code == 200
                assert resp.json()["method"] == name.upper()
            opts = await client.options("/m")  # answered by the framework: Allow
            assert opts.status_code == 200 and "OPTIONS" in opts.headers["allow"]
            head = await client.head("/m")
            assert head.status_code == 200 and head.content == b""
            resp = await client.request("PATCH", "/r", json={"a": 1})
            assert resp.json()["json"] == {"a": 1}
            resp = await client.send(Request("PUT", "/s", content=b"body"))
            assert resp.json()["data"] == "body"
            assert resp.json()["url"] == f"{api}/s"

    arun(main())
