"""Cookies: fasthttp.cookies.CookieJar (over libfasthttp's RFC 6265 jar), the
client's jar updated from every response (redirect hops included), per-request
cookies, and cookies never reaching another origin than theirs.

Two loopback origins stand for two sites: 127.0.0.1:A and localhost:B.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest
from scripted import Scripted, Seen, reply

from fasthttp import Client, Cookie, CookieJar, Request
from fasthttp.cookies import CookieJar as CookieJar2


@pytest.fixture
def client() -> Iterator[Client]:
    with Client() as c:
        yield c


# ---- the jar ---------------------------------------------------------------------------


def test_jar_basics() -> None:
    assert CookieJar is CookieJar2
    jar = CookieJar()
    assert len(jar) == 0 and list(jar) == [] and "a" not in jar
    jar.set("a", "1")
    jar.set("b", "2", domain="Example.COM", path="/p", secure=True)
    jar.set("a", "3", domain=".example.com")
    assert len(jar) == 3
    assert [c.name for c in jar] == ["a", "b", "a"]  # creation order
    assert jar.get("a") == "1"  # the first one
    assert jar.get("a", domain="example.com") == "3"
    assert jar.get("a", domain="") == "1"  # "": the domain-less ones
    assert jar.get("b", path="/p") == "2" and jar.get("b", path="/") is None
    assert jar.get("zz") is None and jar.get("zz", "dflt") == "dflt"
    assert "a" in jar and "zz" not in jar and 3 not in jar
    b = jar.get_cookie("b")
    assert b == Cookie("b", "2", "example.com", "/p", None, True, False, None, False)
    assert b == Cookie("b", "2", domain="example.com", path="/p", secure=True)
    assert b in jar
    assert jar.to_dict() == {"a": "3", "b": "2"}
    assert "b='2' for example.com/p" in repr(jar)
    # set() replaces a cookie with the same name, domain and path
    jar.set("a", "4", domain="example.com")
    assert len(jar) == 3 and jar.get("a", domain="example.com") == "4"
    assert jar.delete("a", domain="example.com") == 1
    assert jar.delete("nothing") == 0
    assert jar.delete("a") == 1 and len(jar) == 1
    jar.clear()
    assert len(jar) == 0


def test_jar_from_dict_and_update() -> None:
    jar = CookieJar({"a": "1", "b": "2"})
    assert jar.to_dict() == {"a": "1", "b": "2"}
    other = CookieJar()
    other.set("c", "3", domain="example.org", http_only=True)
    jar.update(other)
    c = jar.get_cookie("c")
    assert c is not None and c.domain == "example.org" and c.http_only
    jar.update({"d": "4"})
    assert len(jar) == 4
    with pytest.raises(TypeError):
        jar.update([("e", "5")])  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("args", "kwargs"),
    [(("", "v"), {}), (("a=b", "v"), {}), (("a", "v;w"), {}), (("a", "v\x01"), {}),
     (("a\n", "v"), {}), (("a", "v"), {"path": "nopath"}), (("a", "v"), {"domain": "bad host"}),
     (("a", "v" * 5000), {}), (("a", "v\x00w"), {})],
)
def test_jar_rejects(args: tuple[str, str], kwargs: dict[str, str]) -> None:
    with pytest.raises(ValueError):
        CookieJar().set(*args, **kwargs)  # type: ignore[arg-type]


def test_jar_type_errors() -> None:
    jar = CookieJar()
    with pytest.raises(TypeError):
        jar.set("a", 1)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        jar.set("a", "1", domain=b"x")  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        jar.get(1)  # type: ignore[arg-type]


def test_jar_expiry() -> None:
    jar = CookieJar()
    now = int(time.time())
    jar.set("old", "1", expires=now - 10)  # an expiry in the past stores nothing
    assert "old" not in jar
    jar.set("soon", "1", expires=now + 100)
    c = jar.get_cookie("soon")
    assert c is not None and c.expires == now + 100
    jar._set_fake_time(now + 99)
    assert "soon" in jar
    jar._set_fake_time(now + 100)
    assert "soon" not in jar and len(jar) == 0
    jar._set_fake_time(None)
    jar.set("session", "1")
    session = jar.get_cookie("session")
    assert session is not None and session.expires is None


def test_jar_is_thread_safe() -> None:
    jar = CookieJar()

    def work(i: int) -> None:
        for j in range(200):
            jar.set(f"c{i}_{j % 20}", str(j), domain=f"h{i}.example")
            list(jar)
            jar.get(f"c{i}_1")

    threads = [threading.Thread(target=work, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(jar) == 80


# ---- the client's jar -------------------------------------------------------------------


def test_client_always_has_a_jar() -> None:
    with Client() as c:
        assert isinstance(c.cookies, CookieJar) and len(c.cookies) == 0
    jar = CookieJar()
    with Client(cookies=jar) as c:
        assert c.cookies is jar  # used as is
    with Client(cookies={"a": "1"}) as c:
        assert c.cookies.to_dict() == {"a": "1"}
    with pytest.raises(TypeError, match="CookieJar or a dict"):
        Client(cookies=[("a", "1")])  # type: ignore[arg-type]


def test_set_cookie_on_hop_then_sent(httpbin: str, client: Client) -> None:
    """/cookies/set answers 302 with Set-Cookie; the next hop, /cookies, shows it."""
    r = client.get(f"{httpbin}/cookies/set", params={"a": "b", "c": "d"})
    assert r.url == f"{httpbin}/cookies" and r.json() == {"cookies": {"a": "b", "c": "d"}}
    assert "set-cookie" in r.history[0].headers
    a = client.cookies.get_cookie("a")
    assert a is not None and a.domain == "127.0.0.1" and a.host_only and a.path == "/"
    # later requests send them
    assert client.get(f"{httpbin}/cookies").json() == {"cookies": {"a": "b", "c": "d"}}
    # /cookies/delete expires them
    r = client.get(f"{httpbin}/cookies/delete", params={"a": ""})
    assert r.json() == {"cookies": {"c": "d"}} and "a" not in client.cookies


def test_client_cookies_sent(httpbin: str) -> None:
    jar = CookieJar()
    jar.set("k", "v")  # no domain: every host
    jar.set("only_here", "1", domain="127.0.0.1")
    jar.set("elsewhere", "1", domain="example.com")
    with Client(cookies=jar) as c:
        assert c.get(f"{httpbin}/cookies").json()["cookies"] == {"k": "v", "only_here": "1"}
        c.get(f"{httpbin}/cookies/set?new=1")
    assert jar.get("new") == "1"  # the program's jar is the client's


def test_jar_changes_are_seen(httpbin: str, client: Client) -> None:
    client.cookies.set("late", "1")
    assert client.get(f"{httpbin}/cookies").json()["cookies"] == {"late": "1"}
    client.cookies.clear()
    assert client.get(f"{httpbin}/cookies").json()["cookies"] == {}


def test_per_request_cookies(httpbin: str) -> None:
    with Client(cookies={"k": "client", "keep": "1"}) as c:
        r = c.get(f"{httpbin}/cookies", cookies={"k": "request", "extra": "2"})
        assert r.json()["cookies"] == {"k": "request", "keep": "1", "extra": "2"}
        # that request's cookies are not kept
        assert c.cookies.to_dict() == {"k": "client", "keep": "1"}
        assert c.get(f"{httpbin}/cookies").json()["cookies"] == {"k": "client", "keep": "1"}
        # a jar per request
        jar = CookieJar()
        jar.set("j", "3", domain="127.0.0.1")
        r = c.get(f"{httpbin}/cookies", cookies=jar)
        assert r.json()["cookies"] == {"k": "client", "keep": "1", "j": "3"}
        assert "j" not in c.cookies
        # Set-Cookie still updates the client's jar
        c.get(f"{httpbin}/cookies/set?srv=4", cookies={"x": "5"})
        assert c.cookies.get("srv") == "4" and "x" not in c.cookies
        with pytest.raises(TypeError, match="CookieJar or a dict"):
            c.get(f"{httpbin}/cookies", cookies="a=b")  # type: ignore[arg-type]
        r = c.send(Request("GET", f"{httpbin}/cookies"), cookies={"s": "6"})
        assert r.json()["cookies"] == {"k": "client", "keep": "1", "srv": "4", "s": "6"}


def test_cookie_header_replaces_jar(httpbin: str) -> None:
    with Client(cookies={"k": "jar"}) as c:
        r = c.get(f"{httpbin}/cookies", headers={"Cookie": "mine=1"})
    assert r.json()["cookies"] == {"mine": "1"}


def test_secure_cookie_not_over_http(httpbin: str) -> None:
    jar = CookieJar()
    jar.set("s", "1", secure=True)
    jar.set("p", "2")
    with Client(cookies=jar) as c:
        assert c.get(f"{httpbin}/cookies").json()["cookies"] == {"p": "2"}


def test_path_matching(httpbin: str) -> None:
    jar = CookieJar()
    jar.set("root", "1", path="/")
    jar.set("deep", "2", path="/cookies")
    jar.set("other", "3", path="/elsewhere")
    with Client(cookies=jar) as c:
        assert c.get(f"{httpbin}/cookies").json()["cookies"] == {"root": "1", "deep": "2"}


# ---- scripted: attributes, hops and origins ---------------------------------------------------


def test_set_cookie_attributes_and_max_age() -> None:
    def respond(seen: Seen) -> bytes:
        if seen.path == "/set":
            return reply(200, [("Set-Cookie", "a=1; Path=/; HttpOnly; SameSite=Lax"),
                               ("Set-Cookie", "b=2; Max-Age=3600"),
                               ("Set-Cookie", "s=5; Secure"),
                               ("Set-Cookie", "foreign=3; Domain=example.com"),
                               ("Set-Cookie", "c=4; Domain=127.0.0.1")])
        if seen.path == "/unset":
            return reply(200, [("Set-Cookie", "a=gone; Max-Age=0")])
        return reply(200, None, seen.headers.get("cookie", "").encode())

    server = Scripted(respond)
    try:
        with Client() as c:
            c.get(server.url + "/set")
            a = c.cookies.get_cookie("a")
            assert a is not None and a.http_only and a.same_site == "Lax" and a.expires is None
            b = c.cookies.get_cookie("b")
            assert b is not None and not b.secure and b.expires is not None
            assert b.expires >= int(time.time()) + 3590
            assert "s" not in c.cookies  # RFC 6265bis: Secure only from secure origins
            assert "foreign" not in c.cookies  # another site's domain: refused
            assert c.cookies.get("c") == "4"
            assert c.get(server.url + "/echo").content == b"a=1; b=2; c=4"
            c.get(server.url + "/unset")
            assert "a" not in c.cookies
    finally:
        server.close()


def test_cookie_set_on_redirect_used_by_next_hop() -> None:
    def respond(seen: Seen) -> bytes:
        if seen.path == "/login":
            return reply(302, [("Location", "/home"), ("Set-Cookie", "sid=xyz; Path=/")])
        return reply(200, None, seen.headers.get("cookie", "").encode())

    server = Scripted(respond)
    try:
        with Client() as c:
            r = c.get(server.url + "/login")
        assert r.content == b"sid=xyz" and r.url == server.url + "/home"
    finally:
        server.close()


@pytest.fixture
def two_origins() -> Iterator[tuple[Scripted, Scripted]]:
    """A (127.0.0.1) sets a cookie and redirects /go to B (localhost) or to its own /stay.
    Both echo what they receive."""
    b = Scripted(lambda seen: reply(200, None, b"B"))

    def respond_a(seen: Seen) -> bytes:
        if seen.path == "/go":
            return reply(302, [("Location", b.url_as("localhost") + "/landing"),
                               ("Set-Cookie", "a_cookie=1; Path=/")])
        if seen.path == "/go-self":
            return reply(302, [("Location", "/stay"), ("Set-Cookie", "a_cookie=1; Path=/")])
        return reply(200, None, b"A")

    a = Scripted(respond_a)
    yield a, b
    a.close()
    b.close()


def test_cookies_do_not_cross_origins(two_origins: tuple[Scripted, Scripted]) -> None:
    a, b = two_origins
    jar = CookieJar()
    jar.set("for_a", "1", domain="127.0.0.1")
    with Client(cookies=jar) as c:
        r = c.get(a.url + "/go", cookies={"per_request": "2"},
                  headers={"Cookie": "by_header=3", "X-Other": "kept"})
        assert r.content == b"B" and r.url == b.url_as("localhost") + "/landing"
        # A got the caller's Cookie header (it replaces the jar's cookies)
        assert a.requests[0].headers["cookie"] == "by_header=3"
        landing = b.requests[0]
        assert "cookie" not in landing.headers  # no header, no jar cookie, no per-request one
        assert landing.headers["x-other"] == "kept"
        # without the header, A gets the jar's and the request's cookies
        c.get(a.url + "/go", cookies={"per_request": "2"})
        assert a.requests[1].headers["cookie"] == "for_a=1; a_cookie=1; per_request=2"
        assert "cookie" not in b.requests[1].headers
        # A's Set-Cookie is host-only for 127.0.0.1: B never sees it
        ac = c.cookies.get_cookie("a_cookie")
        assert ac is not None and ac.host_only and ac.domain == "127.0.0.1"
        c.get(b.url_as("localhost") + "/direct")
        assert "cookie" not in b.requests[2].headers


def test_cookies_follow_same_origin_hops(two_origins: tuple[Scripted, Scripted]) -> None:
    a, _ = two_origins
    with Client() as c:
        r = c.get(a.url + "/go-self", headers={"Cookie": "by_header=3"})
        assert r.content == b"A"
        assert a.requests[1].path == "/stay"
        assert a.requests[1].headers["cookie"] == "by_header=3"  # same origin: kept
        r = c.get(a.url + "/go-self", cookies={"per_request": "2"})
        assert a.requests[3].headers["cookie"] == "a_cookie=1; per_request=2"


def test_domainless_cookie_goes_everywhere(two_origins: tuple[Scripted, Scripted]) -> None:
    """Documented: jar.set() without a domain is for every host (like requests/httpx)."""
    a, b = two_origins
    jar = CookieJar()
    jar.set("everywhere", "1")
    with Client(cookies=jar) as c:
        c.get(a.url + "/go")
    assert b.requests[0].headers["cookie"] == "everywhere=1"
