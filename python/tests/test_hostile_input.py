"""Hostile input (issue 10): a NUL character in a method, URL or base_url is
refused, never read as the end of the string; credentials in a URL are sent
as Basic auth to their origin only, never in the URL on the wire, and are
hidden in Response.url, reprs and error messages.

Every test checks what reached a scripted raw-socket server (scripted.py),
in both faces: sync (`with Client()`) and asyncio (`async with Client()`).
"""

from __future__ import annotations

import asyncio
import base64
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from scripted import Scripted, Seen, reply

from fasthttp import Client, Request, Response
from fasthttp.errors import ConnectError, InvalidRequest, InvalidURL, RemoteProtocolError

FACES = ["sync", "async"]


def basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


def run(face: str, fn: Callable[[Client], Any], **client_kw: Any) -> Any:
    """fn(client) with a sync client, or awaited with an asyncio one."""
    if face == "sync":
        with Client(**client_kw) as c:
            return fn(c)

    async def main() -> Any:
        async with Client(**client_kw) as c:
            return await fn(c)

    return asyncio.run(main())


@pytest.fixture
def server() -> Iterator[Scripted]:
    s = Scripted(lambda seen: reply(200, body=b"ok"))
    yield s
    s.close()


# ---- NUL ------------------------------------------------------------------------------


@pytest.mark.parametrize("face", FACES)
def test_nul_in_method_is_refused(server: Scripted, face: str) -> None:
    with pytest.raises(InvalidRequest, match=r"invalid method 'GET\\x00X'"):
        run(face, lambda c: c.request("GET\x00X", server.url + "/"))
    assert server.server.accepted == 0


NUL_URLS = [
    "/public\x00/../admin",          # the path: "GET /public" was sent
    "\x00.evil.example:8080/",       # the host: 127.0.0.1 port 80 was used
    "/?q=a\x00b",                    # the query
]


@pytest.mark.parametrize("face", FACES)
@pytest.mark.parametrize("tail", NUL_URLS)
def test_nul_in_url_is_refused(server: Scripted, face: str, tail: str) -> None:
    url = server.url + tail if tail.startswith("/") else "http://127.0.0.1" + tail
    with pytest.raises(InvalidURL, match="NUL character") as e:
        run(face, lambda c: c.get(url, params={"x": "1"}))
    assert "\\x00" in str(e.value)  # shown, not swallowed
    with pytest.raises(InvalidURL, match="NUL character"):
        run(face, lambda c: c.send(Request("GET", url)))
    with pytest.raises(InvalidURL, match="NUL character"):
        run(face, lambda c: c.request("POST", url, content=b"x"))
    assert server.server.accepted == 0


@pytest.mark.parametrize("face", FACES)
def test_nul_in_relative_url_with_base_url(server: Scripted, face: str) -> None:
    with pytest.raises(InvalidURL, match="NUL character"):
        run(face, lambda c: c.get("/a\x00b"), base_url=server.url)
    assert server.server.accepted == 0


def test_nul_in_base_url_is_refused_at_construction(server: Scripted) -> None:
    with pytest.raises(InvalidURL, match="NUL character"):
        Client(base_url="http://127.0.0.1\x00.evil.example:8080/")
    with pytest.raises(InvalidURL, match="NUL character"):
        Client(base_url=server.url + "/api\x00")
    with pytest.raises(InvalidURL, match="invalid port"):  # checked whole, not just the scheme
        Client(base_url="http://127.0.0.1:99999/")
    with pytest.raises(TypeError, match="base_url must be a str"):
        Client(base_url=b"http://x/")  # type: ignore[arg-type]


@pytest.mark.parametrize("face", FACES)
def test_raw_nul_in_location_is_a_protocol_error(face: str) -> None:
    seen: list[str] = []

    def respond(s: Seen) -> bytes:
        seen.append(s.target)
        return b"HTTP/1.1 302 Found\r\nLocation: /a\x00b\r\nContent-Length: 0\r\n\r\n"

    server = Scripted(respond)
    try:
        with pytest.raises(RemoteProtocolError):
            run(face, lambda c: c.get(server.url + "/start"))
        assert seen == ["/start"]  # no second request, truncated or not
    finally:
        server.close()


# ---- credentials in the URL -------------------------------------------------------------


def creds_url(server: Scripted, path: str = "/x", user: str = "alice",
              password: str = "s3cret") -> str:
    return f"http://{user}:{password}@127.0.0.1:{server.port}{path}"


@pytest.mark.parametrize("face", FACES)
@pytest.mark.parametrize("stream", [False, True])
def test_url_credentials_sent_as_basic(server: Scripted, face: str, stream: bool) -> None:
    def go(c: Client) -> Any:
        if face == "sync":
            r = c.get(creds_url(server), stream=stream)
            r.read()
            return r

        async def a() -> Response:
            r = await c.get(creds_url(server), stream=stream)
            await r.aread()
            return r
        return a()

    r = run(face, go)
    seen = server.requests[0]
    assert seen.target == "/x"
    assert seen.headers["authorization"] == basic("alice", "s3cret")
    assert seen.headers["host"] == f"127.0.0.1:{server.port}"
    assert b"s3cret" not in seen.raw and b"alice" not in seen.raw
    assert r.url == f"http://127.0.0.1:{server.port}/x"
    assert "s3cret" not in repr(r)


@pytest.mark.parametrize("face", FACES)
def test_url_credentials_percent_decoded(server: Scripted, face: str) -> None:
    run(face, lambda c: c.get(creds_url(server, user="a%40b.c", password="p%3Aw%2F%25")))
    assert server.requests[0].headers["authorization"] == basic("a@b.c", "p:w/%")


@pytest.mark.parametrize("face", FACES)
def test_url_credentials_in_base_url(server: Scripted, face: str) -> None:
    r = run(face, lambda c: c.get("/y"), base_url=creds_url(server, path="/api"))
    assert server.requests[0].target == "/api/y"
    assert server.requests[0].headers["authorization"] == basic("alice", "s3cret")
    assert r.url == f"http://127.0.0.1:{server.port}/api/y"


@pytest.mark.parametrize("face", FACES)
def test_given_auth_wins_over_url_credentials(server: Scripted, face: str) -> None:
    run(face, lambda c: c.get(creds_url(server), auth=("carol", "x")))
    run(face, lambda c: c.get(creds_url(server)), auth=("dave", "y"))
    run(face, lambda c: c.get(creds_url(server), headers={"Authorization": "Bearer t"}))
    got = [s.headers["authorization"] for s in server.requests]
    assert got == [basic("carol", "x"), basic("dave", "y"), "Bearer t"]


@pytest.mark.parametrize("face", FACES)
def test_bad_url_credentials_are_refused(server: Scripted, face: str) -> None:
    with pytest.raises(InvalidURL, match="user name in URL contains ':'"):
        run(face, lambda c: c.get(creds_url(server, user="a%3Ab")))
    with pytest.raises(InvalidURL, match="control character") as e:
        run(face, lambda c: c.get(creds_url(server, password="s3cret%0D%0AX-Evil:%201")))
    assert "s3cret" not in str(e.value)
    assert server.server.accepted == 0


@pytest.mark.parametrize("face", FACES)
def test_password_hidden_in_errors_and_reprs(server: Scripted, face: str) -> None:
    port = server.port
    server.close()  # nobody listens there now
    url = f"http://alice:s3cret@127.0.0.1:{port}/x"
    with pytest.raises(ConnectError) as e:
        run(face, lambda c: c.get(url))
    assert "s3cret" not in str(e.value)
    assert f"alice:***@127.0.0.1:{port}" in str(e.value)
    with pytest.raises(InvalidURL) as e2:
        run(face, lambda c: c.get("http://alice:s3cret@bad host/"))
    assert "s3cret" not in str(e2.value) and "alice:***@" in str(e2.value)
    with pytest.raises(InvalidURL) as e3:
        run(face, lambda c: c.get("alice:s3cret@example.com/"))  # no scheme
    assert "s3cret" not in str(e3.value)
    token = "ghp_abcdef0123456789"  # a lone user name is often a token
    with pytest.raises(ConnectError) as e4:
        run(face, lambda c: c.get(f"http://{token}@127.0.0.1:{port}/"))
    assert token not in str(e4.value)
    req = Request("GET", url)
    assert "s3cret" not in repr(req) and "alice:***@" in repr(req)


@pytest.mark.parametrize("face", FACES)
def test_redirect_credentials_stay_with_their_origin(face: str) -> None:
    """The URL's credentials follow a redirect within their origin, never to
    another; a Location's own user:pass@ serve the Location's origin."""
    other = Scripted(lambda seen: reply(200, body=b"landed"))
    hops = {
        "/start": reply(302, {"Location": "/same"}),
        "/same": reply(302, {"Location": f"http://localhost:{other.port}/plain"}),
    }
    first = Scripted(lambda seen: hops[seen.path])
    try:
        r = run(face, lambda c: c.get(creds_url(first, path="/start")))
        assert r.status_code == 200
        a, b = first.requests
        assert a.headers["authorization"] == basic("alice", "s3cret")
        assert b.headers["authorization"] == basic("alice", "s3cret")  # same origin
        assert "authorization" not in other.requests[0].headers  # another origin
        assert [h.url for h in r.history] == [
            f"http://127.0.0.1:{first.port}/start", f"http://127.0.0.1:{first.port}/same"]

        hops["/start"] = reply(302, {"Location": f"http://bob:pw@localhost:{other.port}/in"})
        r = run(face, lambda c: c.get(first.url + "/start"))
        assert other.requests[1].headers["authorization"] == basic("bob", "pw")
        assert b"pw@" not in other.requests[1].raw
        assert r.url == f"http://localhost:{other.port}/in"
    finally:
        first.close()
        other.close()


def test_base_url_scheme_checked_at_construction() -> None:
    with pytest.raises(InvalidURL, match="scheme must be http or https"):
        Client(base_url="ftp://example.com/")
    with pytest.raises(InvalidURL, match="alice:\\*\\*\\*@") as e:
        Client(base_url="ftp://alice:s3cret@example.com/")
    assert "s3cret" not in str(e.value)
