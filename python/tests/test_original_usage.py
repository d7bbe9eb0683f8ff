"""Code written the way users of the original pure-Python fasthttp (PyPI
``pyfasthttp`` 0.1.8, renamed ``maxhttp`` 0.1.9) write it, run unchanged
against local servers: its README examples with its spellings, streaming with
``async for chunk in resp.iter_bytes()``, cookies, retries spelled
``retry_on_status`` / ``retry_exceptions``, module-level calls, redirects
inspected through ``resp.request``. Each scenario runs in the synchronous and
in the asyncio form (docs/migrating.md, "From the original library").
"""

from __future__ import annotations

import asyncio
import gzip
import time
from typing import Any

import pytest
from scripted import Scripted, Seen, reply

import fasthttp
from fasthttp import Client, Cookie, CookieJar, DigestAuth, Response
from fasthttp.errors import HTTPStatusError, RemoteProtocolError, RequestError
from fasthttp.retry import RetryPolicy
from fasthttp.timeouts import Timeout


def run(coro: Any) -> Any:
    return asyncio.run(coro)


# ---- the README's quick start, client and methods -----------------------------------


def test_quick_start_sync(httpbin: str) -> None:
    with Client(timeout=Timeout(connect=5, read=10)) as client:
        resp = client.get(f"{httpbin}/get", params={"q": "a b"})
        assert resp.status_code == 200 and resp.ok and resp
        assert resp.json()["args"] == {"q": "a b"}
        assert resp.request.url.endswith("/get?q=a%20b")
        assert resp.elapsed < 30 and resp.elapsed >= 0  # seconds, as the original's float
        assert float(resp.elapsed) >= 0 and f"{resp.elapsed:.3f}"


def test_quick_start_async(httpbin: str) -> None:
    async def main() -> None:
        async with Client(timeout=Timeout(connect=5, read=10)) as client:
            resp = await client.get(f"{httpbin}/get", params={"key": "value"})
            assert resp.ok and resp.json()["args"] == {"key": "value"}
            assert resp.elapsed < 30

    run(main())


def test_positional_base_url_user_agent_and_trace(httpbin: str) -> None:
    # The original's Client(base_url, ..., user_agent=...) and client.trace().
    with Client(httpbin, user_agent="my-app/1.0") as client:
        resp = client.get("/headers")
        assert resp.json()["headers"]["User-Agent"] == "my-app/1.0"
        assert resp.request.headers["User-Agent"] == "my-app/1.0"
        # a request's own header still wins
        resp = client.get("/headers", headers={"User-Agent": "other"})
        assert resp.json()["headers"]["User-Agent"] == "other"
        # httpbin answers TRACE with 405; what counts is the method on the wire
        assert client.trace("/anything").request.method == "TRACE"

    async def main() -> None:
        async with Client(httpbin, user_agent="my-app/2.0") as client:
            resp = await client.get("/headers")
            assert resp.json()["headers"]["User-Agent"] == "my-app/2.0"
            assert (await client.trace("/anything")).request.method == "TRACE"

    run(main())


def test_response_as_the_original_reads_it(httpbin: str) -> None:
    def check(resp: Response) -> None:
        assert resp.ok and resp.is_success and not resp.is_error and not resp.is_redirect
        assert resp.content_type == "application/json"
        assert resp.encoding == "utf-8"
        assert isinstance(resp.text(), str) and resp.json()["url"].endswith("/get")
        assert repr(resp).startswith("<Response [200")

    with Client() as client:
        check(client.get(f"{httpbin}/get"))
        missing = client.get(f"{httpbin}/status/404")
        assert not missing.ok and missing.is_error and not missing
        with pytest.raises(HTTPStatusError):
            missing.raise_for_status()

    async def main() -> None:
        async with Client() as client:
            check(await client.get(f"{httpbin}/get"))

    run(main())


# ---- module-level calls ----------------------------------------------------------------


def test_module_level_calls(httpbin: str) -> None:
    resp = fasthttp.get(f"{httpbin}/get", params={"page": 1})
    assert resp.status_code == 200 and resp.json()["args"] == {"page": "1"}
    resp = fasthttp.post(f"{httpbin}/post", json={"key": "value"})
    assert resp.json()["json"] == {"key": "value"}
    assert fasthttp.put(f"{httpbin}/put", data={"a": "b"}).json()["form"] == {"a": "b"}
    assert fasthttp.patch(f"{httpbin}/patch", content=b"x").json()["data"] == "x"
    assert fasthttp.delete(f"{httpbin}/delete").status_code == 200
    assert fasthttp.head(f"{httpbin}/get").content == b""
    assert fasthttp.options(f"{httpbin}/get").status_code == 200
    assert fasthttp.trace(f"{httpbin}/anything").request.method == "TRACE"
    assert fasthttp.request("GET", f"{httpbin}/get").ok
    # streamed: the connection lives until the body is read
    resp = fasthttp.get(f"{httpbin}/stream/3", stream=True)
    assert len(list(resp.iter_lines())) == 3


def test_module_level_calls_from_async_code(httpbin: str) -> None:
    # They are synchronous (as requests.get): from a coroutine, run them in a thread.
    async def main() -> int:
        resp = await asyncio.to_thread(fasthttp.get, f"{httpbin}/get")
        return resp.status_code

    assert run(main()) == 200


# ---- streaming: iter_* usable with for and async for -------------------------------------


def test_streaming_sync(httpbin: str) -> None:
    with Client() as client:
        resp = client.get(f"{httpbin}/stream/20", stream=True)
        chunks = [chunk for chunk in resp.iter_bytes()]
        assert sum(c.count(b"\n") for c in chunks) == 20
        resp = client.get(f"{httpbin}/stream/5", stream=True)
        assert len([line for line in resp.iter_lines(chunk_size=7)]) == 5


def test_streaming_async_for_over_iter_bytes(httpbin: str) -> None:
    async def main() -> None:
        async with Client() as client:
            resp = await client.get(f"{httpbin}/stream/20", stream=True)
            received = b""
            async for chunk in resp.iter_bytes():
                received += chunk
            assert received.count(b"\n") == 20
            resp = await client.get(f"{httpbin}/stream/4", stream=True)
            text = ""
            async for piece in resp.iter_text():
                text += piece
            assert text.count("\n") == 4
            resp = await client.get(f"{httpbin}/stream/6", stream=True)
            lines = [line async for line in resp.iter_lines(chunk_size=8192)]
            assert len(lines) == 6 and all(line.startswith("{") for line in lines)
            # a buffered response too, and chunk_size is honoured
            resp = await client.get(f"{httpbin}/bytes/1000")
            sizes = [len(c) async for c in resp.iter_bytes(chunk_size=300)]
            assert sizes == [300, 300, 300, 100]

    run(main())


# ---- cookies -------------------------------------------------------------------------------


def test_cookies_as_the_original_uses_them(httpbin: str) -> None:
    jar = CookieJar()
    jar.set("session_id", "abc123", domain="127.0.0.1", path="/", secure=False,
            httponly=True, samesite="Lax")
    c = jar.get_cookie("session_id")
    assert c is not None and c.httponly and c.http_only and c.samesite == "Lax"
    assert jar.get_cookie_header(f"{httpbin}/cookies") == "session_id=abc123"
    with Client(cookies=jar) as client:
        assert client.get(f"{httpbin}/cookies").json() == {"cookies": {"session_id": "abc123"}}
        resp = client.get(f"{httpbin}/cookies/set", params={"theme": "dark"})
        assert resp.request.headers["Cookie"] == "session_id=abc123; theme=dark"
    assert jar.get("theme") == "dark"
    # add_from_response into another jar: the Set-Cookie of the redirect hop
    other = CookieJar()
    other.add_from_response(resp)
    assert other.get("theme") == "dark"
    jar.remove("theme")
    assert jar.get("theme") is None
    # a Cookie made by hand, with the original's keyword defaults
    old = Cookie("gone", "1", expires=time.time() - 10)
    assert old.is_expired() and old.path == "/" and old.domain is None
    assert not Cookie("fresh", "1").is_expired()

    async def main() -> None:
        async with Client(cookies=jar) as client:
            resp = await client.get(f"{httpbin}/cookies/set/lang/en")
            assert resp.json()["cookies"]["lang"] == "en"

    run(main())
    assert jar.get("lang") == "en"


# ---- retries with the original's spellings ---------------------------------------------------


def flaky() -> Scripted:
    """Closes the first connection without answering, then answers 503 once, then 200."""
    state = {"n": 0}

    def respond(seen: Seen) -> bytes | None:
        state["n"] += 1
        if state["n"] == 1:
            return None
        if state["n"] == 2:
            return reply(503, body=b"busy")
        return reply(200, body=b"ok")

    return Scripted(respond)


def test_retries_with_the_originals_spellings() -> None:
    policy = RetryPolicy(max_attempts=3, backoff_factor=0, retry_on_status=(503,),
                         retry_exceptions=(RequestError, RemoteProtocolError, TimeoutError))
    assert policy.retry_on_status == policy.status_codes == (503,)
    server = flaky()
    try:
        with Client(retry=policy) as client:
            resp = client.get(server.url + "/x")
            assert resp.status_code == 200 and resp.text() == "ok" and resp.attempts == 3
    finally:
        server.close()
    # Without the connection error among retry_exceptions, it is raised.
    server = flaky()
    try:
        with Client(retry=RetryPolicy(max_attempts=3, retry_on_status=(503,),
                                      retry_exceptions=(TimeoutError,))) as client:
            with pytest.raises(RemoteProtocolError):
                client.get(server.url + "/x")
    finally:
        server.close()

    async def main() -> None:
        server = flaky()
        try:
            async with Client(retry=policy) as client:
                resp = await client.get(server.url + "/x")
                assert resp.text() == "ok" and resp.attempts == 3
        finally:
            server.close()

    run(main())


# ---- redirects inspected through resp.request -------------------------------------------------


def test_redirects_through_resp_request(httpbin: str) -> None:
    def check(resp: Response) -> None:
        assert resp.status_code == 200
        assert [h.status_code for h in resp.history] == [303]
        first = resp.history[0].request
        assert first.method == "POST" and first.content == b'{"a":1}'
        assert first.headers["Content-Length"] == "7"
        assert resp.request.method == "GET" and resp.request.url == f"{httpbin}/get"
        assert "Content-Length" not in resp.request.headers
        assert resp.request.headers["Host"] == httpbin.split("//")[1]
        assert resp.is_redirect is False and resp.history[0].is_redirect

    url = f"{httpbin}/redirect-to?url=/get&status_code=303"
    with Client() as client:
        check(client.post(url, json={"a": 1}))

    async def main() -> None:
        async with Client() as client:
            check(await client.post(url, json={"a": 1}))

    run(main())


# ---- auth, hooks, gzip ------------------------------------------------------------------------


def test_digest_with_an_algorithm(httpbin: str) -> None:
    url = f"{httpbin}/digest-auth/auth/user/passwd/SHA-256"
    with Client() as client:
        assert client.get(url, auth=DigestAuth("user", "passwd", algorithm="SHA-256")).ok
        # MD5 was asked for, the server offers only SHA-256: the 401 comes back
        assert client.get(url, auth=DigestAuth("user", "passwd", algorithm="MD5")).status_code \
            == 401

    async def main() -> None:
        async with Client(auth=DigestAuth("user", "passwd", algorithm="sha-256")) as client:
            assert (await client.get(url)).ok

    run(main())


def test_gzip_of_several_members() -> None:
    body = gzip.compress(b"hello, ") + gzip.compress(b"world")
    server = Scripted(lambda seen: reply(200, {"Content-Encoding": "gzip"}, body))
    try:
        with Client() as client:
            resp = client.get(server.url)
            assert resp.text() == "hello, world" and resp.num_bytes_downloaded == len(body)
            resp = client.get(server.url, stream=True)
            assert b"".join(resp.iter_bytes(chunk_size=1)) == b"hello, world"

        async def main() -> None:
            async with Client() as client:
                resp = await client.get(server.url, stream=True)
                assert b"".join([c async for c in resp.iter_bytes()]) == b"hello, world"

        run(main())
    finally:
        server.close()


def test_errors_as_the_original_catches_them() -> None:
    with Client(timeout=2) as client:
        with pytest.raises(RequestError):
            client.get("http://127.0.0.1:1/")  # nothing listens there
