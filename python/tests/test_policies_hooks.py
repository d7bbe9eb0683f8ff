"""Response hooks: hooks={"response": f or [f, ...]} on the client and per
request (the client's run first), sync callables and, in the synchronous
client, async ones run to completion; a returned Response replaces the
current one; exceptions propagate unchanged. Also fasthttp._policy's flow,
driven the way the asyncio client will drive it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import Any

import pytest

from fasthttp import AuthBase, Client, Request, Response
from fasthttp._policy import AWAIT, SEND, drive_async, drive_sync, flow, normalize_hooks


def test_client_then_request_hooks(httpbin: str) -> None:
    order: list[str] = []

    def named(name: str) -> Any:
        return lambda resp: order.append(f"{name}:{resp.status_code}")

    with Client(hooks={"response": named("client")}) as c:
        c.get(f"{httpbin}/get")
        assert order == ["client:200"]
        order.clear()
        c.get(f"{httpbin}/status/404", hooks={"response": [named("r1"), named("r2")]})
        assert order == ["client:404", "r1:404", "r2:404"]
        order.clear()
        c.send(Request("GET", f"{httpbin}/get"), hooks={"response": named("send")})
        assert order == ["client:200", "send:200"]
    with Client() as c:
        order.clear()
        c.get(f"{httpbin}/get", hooks={"response": named("only")})
        assert order == ["only:200"]


def test_hook_sees_final_response_after_redirects(httpbin: str) -> None:
    seen: list[Response] = []
    with Client(hooks={"response": seen.append}) as c:
        r = c.get(f"{httpbin}/redirect/2")
    assert seen == [r] and len(r.history) == 2


def test_hook_replaces_response(httpbin: str) -> None:
    def replace(resp: Response) -> Response:
        return Response(418, content=b"teapot", request=resp.request)

    def check(resp: Response) -> None:
        assert resp.status_code == 418  # later hooks get the replacement

    with Client(hooks={"response": [replace, check]}) as c:
        r = c.get(f"{httpbin}/get")
    assert r.status_code == 418 and r.content == b"teapot" and r.reason == "I'm a Teapot"


def test_async_hook_in_sync_mode(httpbin: str) -> None:
    async def upper(resp: Response) -> Response:
        await asyncio.sleep(0)
        return Response(resp.status_code, headers=resp.headers, content=resp.text().upper(),
                        request=resp.request)

    with Client() as c:
        r = c.get(f"{httpbin}/anything", hooks={"response": upper})
    assert b'"METHOD": "GET"' in r.content


def test_sync_client_inside_running_loop(httpbin: str) -> None:
    """An async hook of a synchronous client used from a coroutine runs on a helper loop."""
    async def tag(resp: Response) -> None:
        resp.headers["X-Tagged"] = "1"

    async def main() -> str:
        with Client() as c:
            return c.get(f"{httpbin}/get", hooks={"response": tag}).headers["X-Tagged"]

    assert asyncio.run(main()) == "1"


class HookError(Exception):
    pass


def test_hook_exception_propagates_unchanged(httpbin: str) -> None:
    err = HookError("from the hook")

    def boom(resp: Response) -> None:
        raise err

    with Client() as c, pytest.raises(HookError) as info:
        c.get(f"{httpbin}/get", hooks={"response": boom})
    assert info.value is err


def test_async_hook_exception_propagates(httpbin: str) -> None:
    async def boom(resp: Response) -> None:
        raise HookError("async")

    with Client() as c, pytest.raises(HookError, match="async"):
        c.get(f"{httpbin}/get", hooks={"response": boom})


def test_hook_returning_something_else(httpbin: str) -> None:
    with Client() as c, pytest.raises(TypeError, match="Response or None"):
        c.get(f"{httpbin}/get", hooks={"response": lambda r: 42})


@pytest.mark.parametrize(
    ("hooks", "exc"),
    [({"request": print}, ValueError), ({"response": 3}, TypeError), ([print], TypeError),
     ({"response": [print, "x"]}, TypeError)],
)
def test_invalid_hooks(httpbin: str, hooks: object, exc: type[Exception]) -> None:
    with pytest.raises(exc):
        Client(hooks=hooks)  # type: ignore[arg-type]
    with Client() as c, pytest.raises(exc):
        c.get(f"{httpbin}/get", hooks=hooks)  # type: ignore[arg-type]


def test_empty_hooks(httpbin: str) -> None:
    with Client(hooks={"response": []}) as c:
        assert c.get(f"{httpbin}/get", hooks={"response": None}).status_code == 200


def test_streamed_response_in_hook(httpbin: str) -> None:
    chunks: list[bytes] = []
    with Client(hooks={"response": lambda r: chunks.extend(r.iter_bytes())}) as c:
        r = c.get(f"{httpbin}/stream/3", stream=True)
    assert b"".join(chunks).count(b"\n") == 3 and r.is_closed


# ---- the flow itself (what the asyncio client drives) -------------------------------------


def test_normalize_hooks() -> None:
    assert normalize_hooks(None) == () and normalize_hooks({}) == ()
    assert normalize_hooks({"response": print}) == (print,)
    assert normalize_hooks({"response": (print, repr)}) == (print, repr)


def test_flow_steps() -> None:
    req = Request("GET", "http://example.invalid/")

    class Auth(AuthBase):
        def on_request(self, request: Request) -> None:
            request.headers["A"] = "1"

    async def hook(resp: Response) -> Response:
        return Response(201, request=resp.request)

    gen = flow(req, Auth(), (hook,))
    op, arg = gen.send(None)
    assert op == SEND and arg is req and req.headers["A"] == "1"
    op, arg = gen.send(Response(200, request=req))
    assert op == AWAIT
    result = asyncio.run(_await(arg))
    with pytest.raises(StopIteration) as stop:
        gen.send(result)
    assert stop.value.value.status_code == 201


async def _await(a: Awaitable[Any]) -> Any:
    return await a


def test_drive_async_awaits_everything() -> None:
    sent: list[str] = []

    class Challenge(AuthBase):
        async def on_request(self, request: Request) -> None:  # type: ignore[override]
            request.headers["Authorization"] = "first"

        async def on_response(  # type: ignore[override]
            self, request: Request, response: Response
        ) -> Request | None:
            if response.status_code == 401:
                return Request("GET", request.url, headers={"Authorization": "second"})
            return None

    async def send(request: Request) -> Response:
        await asyncio.sleep(0)
        sent.append(request.headers["Authorization"])
        return Response(401 if len(sent) == 1 else 200, request=request)

    async def hook(resp: Response) -> None:
        sent.append(f"hook {resp.status_code}")

    req = Request("GET", "http://example.invalid/")
    resp = asyncio.run(drive_async(flow(req, Challenge(), (hook,)), send))
    assert resp.status_code == 200 and sent == ["first", "second", "hook 200"]


def test_drive_sync_runs_awaitables() -> None:
    async def hook(resp: Response) -> Response:
        return Response(204)

    resp = drive_sync(flow(Request("GET", "http://x.invalid/"), None, (hook,)),
                      lambda r: Response(200, request=r))
    assert resp.status_code == 204
