"""Each convenience of issue 15 in detail, against local servers: the request
as written on the wire, URLs as users type them, Expect: 100-continue,
Response predicates and properties, Elapsed, cookies, RetryPolicy and
DigestAuth spellings, module-level calls (docs/python.md, docs/migrating.md).
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime
import gzip
import socket

import pytest
from scripted import Scripted, Seen, reply
from servers import RawServer, read_head

import fasthttp
from fasthttp import Client, CookieJar, DigestAuth, Elapsed, Request, Response
from fasthttp.errors import ConnectError, InvalidURL, RemoteProtocolError
from fasthttp.retry import RetryPolicy


def echo_server(status: int = 200, headers: dict[str, str] | None = None,
                body: bytes = b"ok") -> Scripted:
    return Scripted(lambda seen: reply(status, headers or {}, body))


# ---- Response.request: what went on the wire ----------------------------------------------


def _head_of(req: Request) -> bytes:
    target = "/" + req.url.split("/", 3)[3] if req.url.count("/") >= 3 else "/"
    lines = [f"{req.method} {target} HTTP/1.1"] + [f"{k}: {v}" for k, v in req.headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def test_request_as_sent_is_the_head_on_the_wire() -> None:
    server = Scripted(lambda seen: reply(303, {"Location": "/next", "Set-Cookie": "s=1"})
                      if seen.path == "/start" else reply(200, body=b"done"))
    try:
        with Client(auth=("user", "pw"), headers={"X-App": "1"}) as client:
            client.cookies.set("pre", "0")
            r = client.post(server.url + "/start", content=b"payload")
            assert [s.raw for s in server.requests] == [_head_of(h.request) for h in
                                                        [*r.history, r]]
            first, last = r.history[0].request, r.request
            assert first.method == "POST" and first.headers["Content-Length"] == "7"
            assert first.headers["Authorization"].startswith("Basic ")
            assert first.headers["Cookie"] == "pre=0"
            assert last.method == "GET" and last.content == b""
            assert last.headers["Cookie"] == "pre=0; s=1"  # the jar, after the hop
            assert last.headers["Host"] == f"127.0.0.1:{server.port}"
            # an iterator body goes out chunked, and says so
            r = client.put(server.url + "/x", content=iter([b"a", b"b"]))
            assert r.request.headers["Transfer-Encoding"] == "chunked"
            assert server.requests[-1].raw == _head_of(r.request)
        # the same in asyncio
        async def main() -> Response:
            async with Client() as client:
                return await client.post(server.url + "/start", json={"a": 1})

        r = asyncio.run(main())
        assert server.requests[-1].raw == _head_of(r.request)
        assert server.requests[-2].raw == _head_of(r.history[0].request)
        # a Response made by hand keeps the Request it was given
        req = Request("GET", "http://example.test/")
        assert Response(200, request=req).request is req and Response(200).request is None
    finally:
        server.close()


# ---- URLs as users type them ---------------------------------------------------------------


def test_spaces_and_non_ascii_are_percent_encoded() -> None:
    server = echo_server()
    try:
        with Client() as client:
            r = client.get(server.url + "/a b/é?q=c d&w=€#frag ment")
            assert server.requests[-1].target == "/a%20b/%C3%A9?q=c%20d&w=%E2%82%AC"
            assert r.url == server.url + "/a%20b/%C3%A9?q=c%20d&w=%E2%82%AC#frag%20ment"
            assert r.request.url == r.url
            client.get(server.url + "/p", params={"q": "x y", "e": "é"})
            assert server.requests[-1].target == "/p?q=x%20y&e=%C3%A9"
            with Client(base_url=server.url + "/base dir") as based:
                based.get("sub file")
            assert server.requests[-1].target == "/base%20dir/sub%20file"
            for bad in ("/a\r\nX: y", "/a\nb", "/\x00", "/\t"):
                with pytest.raises(InvalidURL, match="control character|NUL"):
                    client.get(server.url + bad)
            with pytest.raises(InvalidURL, match="space"):
                client.get("http://127.0.0.1 :1/")
    finally:
        server.close()


def test_idna_hosts_become_a_labels() -> None:
    with Client(timeout=5) as client:
        with pytest.raises(ConnectError, match="xn--bcher-kva.invalid"):
            client.get("http://bücher.invalid/")
        with pytest.raises(ConnectError, match="xn--r8jz45g.xn--zckzah.invalid"):
            client.get("http://例え。テスト.invalid/")
        # IDNA2008 refuses a label that starts with a combining mark (RFC 5891 §4.2.3.2)
        with pytest.raises(InvalidURL, match="international"):
            client.get("http://\u0300a.test/")


# ---- Expect: 100-continue --------------------------------------------------------------------


def continue_server(answer_first: bytes | None) -> tuple[RawServer, list[bytes]]:
    """Reads the head; answers 100 Continue (answer_first None) and then 200
    with the body it got, or answers answer_first at once without reading."""
    got: list[bytes] = []

    def handle(conn: socket.socket) -> None:
        head = read_head(conn)
        got.append(head)
        if answer_first is not None:
            conn.sendall(answer_first)
            conn.close()
            return
        if b"Expect: 100-continue" in head:
            conn.sendall(b"HTTP/1.1 100 Continue\r\n\r\n")
        _, _, rest = head.partition(b"\r\n\r\n")
        while len(rest) < 5:
            rest += conn.recv(100)
        conn.sendall(reply(200, {"Connection": "close"}, rest))
        conn.close()

    return RawServer(handle), got


def test_expect_continue_per_request() -> None:
    server, got = continue_server(None)
    try:
        with Client() as client:
            r = client.post(server.url, content=b"hello", expect_continue=True)
            assert r.text() == "hello" and b"Expect: 100-continue\r\n" in got[0]
            assert r.request.headers["Expect"] == "100-continue"
            client.post(server.url, content=b"hello")
            assert b"Expect" not in got[1]

        async def main() -> str:
            async with Client() as client:
                r = await client.post(server.url, content=b"hello", expect_continue=5)
                return r.text()

        assert asyncio.run(main()) == "hello" and b"Expect: 100-continue" in got[2]
    finally:
        server.close()
    # A server that refuses at once: the answer comes back, the body stays home.
    refused, got = continue_server(reply(413, {"Connection": "close"}, b"too big"))
    try:
        with Client() as client:
            r = client.post(refused.url, content=b"x" * 100000, expect_continue=True)
            assert r.status_code == 413 and got[0].endswith(b"\r\n\r\n")
    finally:
        refused.close()
    with Client() as client:
        for bad, exc in ((0, ValueError), (-1, ValueError), ("yes", TypeError)):
            with pytest.raises(exc, match="expect_continue"):
                client.post("http://127.0.0.1:9/", content=b"x", expect_continue=bad)


# ---- Response conveniences -------------------------------------------------------------------


@pytest.mark.parametrize(("status", "ok", "truth", "redirect", "permanent", "error"), [
    (200, True, True, False, False, False),
    (204, True, True, False, False, False),
    (301, False, True, True, True, False),
    (304, False, True, True, False, False),
    (308, False, True, True, True, False),
    (404, False, False, False, False, True),
    (503, False, False, False, False, True),
])
def test_status_predicates(status: int, ok: bool, truth: bool, redirect: bool, permanent: bool,
                           error: bool) -> None:
    r = Response(status)
    assert (r.ok, r.is_success, bool(r), r.is_redirect, r.is_permanent_redirect, r.is_error) \
        == (ok, ok, truth, redirect, permanent, error)
    assert r.is_client_error == (400 <= status < 500)
    assert r.is_server_error == (status >= 500)
    assert not r.is_informational


def test_links_content_type_and_bytes_downloaded() -> None:
    body = gzip.compress(b"x" * 5000)
    server = Scripted(lambda seen: reply(200, [
        ("Content-Type", "Text/HTML ; charset=UTF-8"), ("Content-Encoding", "gzip"),
        ("Link", '<?page=2>; rel="next", </items?page=9>; rel=last; title="Last"'),
        ("Link", '<https://other.test/d>; rel="describedby alternate"; TYPE=text/html'),
    ], body))
    try:
        with Client() as client:
            r = client.get(server.url + "/items?page=1")
            assert r.content_type == "text/html"
            assert r.links == {
                "next": {"url": server.url + "/items?page=2", "rel": "next"},
                "last": {"url": server.url + "/items?page=9", "rel": "last", "title": "Last"},
                "describedby": {"url": "https://other.test/d", "rel": "describedby alternate",
                                "type": "text/html"},
                "alternate": {"url": "https://other.test/d", "rel": "describedby alternate",
                              "type": "text/html"},
            }
            assert len(r.content) == 5000 and r.num_bytes_downloaded == len(body)
            r = client.get(server.url, stream=True)
            assert r.num_bytes_downloaded == 0
            it = r.iter_bytes(chunk_size=100)
            first = next(it)
            assert len(first) == 100 and 0 < r.num_bytes_downloaded <= len(body)
            assert len(first + b"".join(it)) == 5000
            assert r.num_bytes_downloaded == len(body)
    finally:
        server.close()
    assert Response(200).content_type is None and Response(200).links == {}
    assert Response(200, {"Link": "<no-base>; rel=x"}).links["x"]["url"] == "no-base"
    assert Response(200, {}, b"body", "Fine").content == b"body"  # the original's order
    # text(encoding=) as the original's: that codec once, response.encoding unchanged
    r = Response(200, {"Content-Type": "text/plain; charset=utf-8"}, "é".encode())
    assert r.text() == "é" and r.text("latin-1") == "\u00c3\u00a9" and r.encoding == "utf-8"
    assert r.text(encoding=None) == "é"
    with pytest.raises(LookupError):
        r.text(encoding="no-such-codec")


def test_elapsed_is_a_timedelta_and_reads_as_seconds() -> None:
    e = Elapsed(seconds=1, microseconds=500000)
    assert isinstance(e, datetime.timedelta) and e.total_seconds() == 1.5
    assert float(e) == 1.5 and round(e) == 2 and round(e, 1) == 1.5
    assert e > 1 and e < 2 and e >= 1.5 and e <= 1.5 and 2 > e and not e > 1.5
    assert e > datetime.timedelta(seconds=1) and e == datetime.timedelta(seconds=1.5)
    assert f"{e:.2f}" == "1.50" and f"{e}" == str(e) == "0:00:01.500000"
    assert e != 1.5  # equality with numbers is a timedelta's (never)
    for bad in (lambda: e * 1000, lambda: 1000 * e, lambda: e / 2, lambda: e // 2,
                lambda: e + 1):
        with pytest.raises(TypeError):
            bad()
    assert e / datetime.timedelta(seconds=0.5) == 3.0  # timedelta algebra stays
    r = Response(200)
    assert isinstance(r.elapsed, Elapsed) and r.elapsed == datetime.timedelta(0)


def test_async_iterators_refuse_the_wrong_loop_kind(httpbin: str) -> None:
    async def main() -> None:
        async with Client() as client:
            r = await client.get(f"{httpbin}/stream/2", stream=True)
            with pytest.raises(RuntimeError, match="async for"):
                list(r.iter_bytes())
            assert len([c async for c in r.iter_lines()]) == 2

    asyncio.run(main())
    with Client() as client:
        r = client.get(f"{httpbin}/stream/2", stream=True)

        async def consume() -> None:
            async for _ in r.iter_bytes():
                pass

        with pytest.raises(RuntimeError, match="synchronous Client"):
            asyncio.run(consume())
        r.close()


# ---- cookies -----------------------------------------------------------------------------------


def test_cookie_jar_additions() -> None:
    jar = CookieJar()
    jar.set("a", "1", domain="example.com", path="/app", expires=4102444800.5, secure=True)
    jar.set("b", "2")
    assert jar.get_cookie_header("https://www.example.com/app/x") == "a=1; b=2"
    assert jar.get_cookie_header("http://www.example.com/app/x") == "b=2"  # Secure
    assert jar.get_cookie_header("https://example.org/") == "b=2"
    jar.remove("b")
    assert jar.get_cookie_header("https://example.org/") is None
    assert jar.remove("nothing") == 0
    with pytest.raises(TypeError, match="http_only"):
        jar.set("c", "3", http_only=True, httponly=True)
    with pytest.raises(ValueError, match="samesite"):
        jar.set("c", "3", samesite="sometimes")
    # add_from_response follows the rules a Client does: the response's URL
    # decides the default domain and path; another site's Domain is refused.
    r = Response(200, [("Set-Cookie", "s=1; Path=/"), ("Set-Cookie", "t=2; Domain=evil.test")],
                 url="https://shop.example.com/cart/view")
    other = CookieJar()
    other.add_from_response(r)
    assert [(c.name, c.domain, c.host_only) for c in other] == [("s", "shop.example.com", True)]
    c = other.get_cookie("s")
    assert c is not None and c.same_site is None and c.expires is None


# ---- policies ---------------------------------------------------------------------------------


def test_retry_policy_spellings() -> None:
    p = RetryPolicy(retry_on_status=[500, 502])
    assert p.status_codes == (500, 502) and p.retry_on_status == (500, 502)
    assert RetryPolicy(status_codes=[500], retry_on_status=[500]).status_codes == (500,)
    with pytest.raises(ValueError, match="not both"):
        RetryPolicy(status_codes=[500], retry_on_status=[503])
    # dataclasses.replace() with either name changes both
    assert dataclasses.replace(p, status_codes=[429]).retry_on_status == (429,)
    assert dataclasses.replace(p, retry_on_status=[408]).status_codes == (408,)
    assert dataclasses.replace(p, max_attempts=3).status_codes == (500, 502)
    with pytest.raises(TypeError, match="retry_exceptions"):
        RetryPolicy(retry_exceptions=("ConnectError",))  # type: ignore[arg-type]
    assert RetryPolicy(retry_exceptions=ConnectError).retry_exceptions == (ConnectError,)  # type: ignore[arg-type]

    def garbage_then_ok() -> Scripted:
        state = {"n": 0}

        def respond(seen: Seen) -> bytes:
            state["n"] += 1
            return b"NOT HTTP\r\n\r\n" if state["n"] == 1 else reply(200, body=b"ok")

        return Scripted(respond)

    # A malformed response is retried only when its class is listed.
    for listed, want in ((RemoteProtocolError, 200), (ConnectError, None)):
        server = garbage_then_ok()
        try:
            with Client(retry=RetryPolicy(max_attempts=2, retry_exceptions=(listed,))) as c:
                if want is None:
                    with pytest.raises(RemoteProtocolError):
                        c.get(server.url)
                else:
                    assert c.get(server.url).status_code == want
        finally:
            server.close()


def test_digest_auth_algorithm_argument() -> None:
    assert DigestAuth("u", "p").algorithm is None
    assert repr(DigestAuth("u", "p", algorithm="SHA-256")) == \
        "DigestAuth('u', '***', algorithm='SHA-256')"
    assert DigestAuth("u", "p", algorithm="md5") == DigestAuth("u", "p", algorithm="MD5")
    assert DigestAuth("u", "p", algorithm="md5") != DigestAuth("u", "p")
    with pytest.raises(ValueError, match="algorithm"):
        DigestAuth("u", "p", algorithm="SHA-1")
    with pytest.raises(TypeError, match="algorithm"):
        DigestAuth("u", "p", algorithm=256)  # type: ignore[arg-type]


# ---- module-level calls and Client options ---------------------------------------------------


def test_module_level_calls_share_nothing(httpbin: str) -> None:
    r = fasthttp.get(f"{httpbin}/cookies/set/k/v")
    assert r.json()["cookies"] == {"k": "v"}
    assert fasthttp.get(f"{httpbin}/cookies").json()["cookies"] == {}  # no jar kept
    r = fasthttp.get(f"{httpbin}/redirect/1")
    assert r.history and r.ok
    with pytest.raises(fasthttp.errors.TooManyRedirects):
        fasthttp.get(f"{httpbin}/redirect/3", max_redirects=1)
    assert fasthttp.get(f"{httpbin}/headers", user_agent="one-shot").json()["headers"][
        "User-Agent"] == "one-shot"
    with pytest.raises(TypeError):
        fasthttp.get(f"{httpbin}/get", bogus=1)


def test_client_option_types() -> None:
    with pytest.raises(TypeError, match="user_agent"):
        Client(user_agent=5)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        Client("http://a.test/", "http://b.test/")  # type: ignore[misc]
    with Client("http://a.test/base") as c:
        assert c.base_url == "http://a.test/base/"
