"""Redirects: follow_redirects (default True), max_redirects (default 20),
Response.url and Response.history, method and body rules (RFC 9110 §15.4),
and the errors for bad Locations, loops and bodies that cannot be sent again.
"""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import quote

import pytest
from scripted import Scripted, Seen, reply

from fasthttp import Client, Request
from fasthttp.errors import (
    BodyNotReplayable,
    RedirectError,
    RequestBodyError,
    RequestError,
    TooManyRedirects,
)


@pytest.fixture
def client() -> Iterator[Client]:
    with Client() as c:
        yield c


def test_defaults() -> None:
    with Client() as c:
        assert c.follow_redirects is True and c.max_redirects == 20
    with Client(follow_redirects=False, max_redirects=3) as c:
        assert c.follow_redirects is False and c.max_redirects == 3


@pytest.mark.parametrize("bad", [-1, 1001])
def test_invalid_max_redirects(bad: int) -> None:
    with pytest.raises(ValueError, match="max_redirects"):
        Client(max_redirects=bad)
    with pytest.raises(TypeError, match="max_redirects"):
        Client(max_redirects="3")  # type: ignore[arg-type]


@pytest.mark.parametrize("kind", ["redirect", "absolute-redirect", "relative-redirect"])
def test_httpbin_redirect_chains(httpbin: str, client: Client, kind: str) -> None:
    r = client.get(f"{httpbin}/{kind}/3")
    assert r.status_code == 200
    assert r.url == f"{httpbin}/get"
    assert r.json()["url"] == f"{httpbin}/get"
    assert [h.status_code for h in r.history] == [302, 302, 302]
    assert r.history[0].url == f"{httpbin}/{kind}/3"
    # Each response carries the request sent for it: the hops theirs, the
    # final response the last one.
    for h in r.history:
        assert h.content == b"" and "location" in h.headers
        assert h.history == []
        assert h.request is not None and h.request.method == "GET"
        assert h.request.url == h.url
    assert r.history[0].request.url == f"{httpbin}/{kind}/3"
    assert r.request.url == r.url == f"{httpbin}/get"
    assert r.attempts == 1


def test_history_is_a_copy(httpbin: str, client: Client) -> None:
    r = client.get(f"{httpbin}/redirect/1")
    r.history.clear()
    assert len(r.history) == 1


def test_no_redirect_no_history(httpbin: str, client: Client) -> None:
    r = client.get(f"{httpbin}/get")
    assert r.history == [] and r.url == f"{httpbin}/get"


@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
def test_redirect_to(httpbin: str, client: Client, status: int) -> None:
    target = f"{httpbin}/anything/landed?x=1"
    r = client.get(f"{httpbin}/redirect-to", params={"url": target, "status_code": status})
    assert r.status_code == 200 and r.url == target
    assert r.json()["args"] == {"x": "1"}
    assert [h.status_code for h in r.history] == [status]


@pytest.mark.parametrize("status", [301, 302, 303])
def test_post_becomes_get(httpbin: str, client: Client, status: int) -> None:
    r = client.post(f"{httpbin}/redirect-to",
                    params={"url": f"{httpbin}/anything", "status_code": status},
                    data={"field": "value"})
    body = r.json()
    assert body["method"] == "GET" and body["data"] == "" and body["form"] == {}
    # the body's headers are gone too
    assert "Content-Type" not in body["headers"] and "Content-Length" not in body["headers"]
    assert r.history[0].request.method == "POST"
    assert r.history[0].request.content == b"field=value"
    assert r.request.method == "GET" and r.request.content == b""
    assert "Content-Length" not in r.request.headers


@pytest.mark.parametrize("status", [307, 308])
def test_307_308_repeat_method_and_body(httpbin: str, client: Client, status: int) -> None:
    url = f"{httpbin}/redirect-to?url={quote(httpbin + '/anything', safe='')}&status_code={status}"
    r = client.put(url, content=b"the body", headers={"Content-Type": "text/plain"})
    body = r.json()
    assert body["method"] == "PUT" and body["data"] == "the body"
    assert body["headers"]["Content-Type"] == "text/plain"


def test_303_head_stays_head(httpbin: str, client: Client) -> None:
    r = client.head(f"{httpbin}/redirect-to",
                    params={"url": f"{httpbin}/get", "status_code": 303})
    assert r.status_code == 200 and r.content == b"" and r.url == f"{httpbin}/get"


def test_follow_redirects_off(httpbin: str) -> None:
    with Client(follow_redirects=False) as c:
        r = c.get(f"{httpbin}/redirect/2")
        assert r.status_code == 302 and r.headers["Location"] == "/relative-redirect/1"
        assert r.history == [] and r.url == f"{httpbin}/redirect/2"
        r = c.get(f"{httpbin}/redirect/2", follow_redirects=True)  # per request
        assert r.status_code == 200 and len(r.history) == 2


def test_follow_redirects_per_request_off(httpbin: str, client: Client) -> None:
    r = client.get(f"{httpbin}/redirect/1", follow_redirects=False)
    assert r.status_code == 302
    r = client.send(Request("GET", f"{httpbin}/redirect/1"), follow_redirects=False)
    assert r.status_code == 302
    assert client.get(f"{httpbin}/redirect/1", follow_redirects=None).status_code == 200


def test_max_redirects(httpbin: str) -> None:
    with Client(max_redirects=3) as c:
        assert c.get(f"{httpbin}/redirect/3").status_code == 200
        with pytest.raises(TooManyRedirects, match="too many redirects") as info:
            c.get(f"{httpbin}/redirect/4")
        assert isinstance(info.value, RedirectError) and isinstance(info.value, RequestError)
        assert info.value.request is not None
        assert info.value.request.url == f"{httpbin}/redirect/4"
    with Client(max_redirects=0) as c:
        with pytest.raises(TooManyRedirects):
            c.get(f"{httpbin}/redirect/1")
        assert c.get(f"{httpbin}/redirect/1", follow_redirects=False).status_code == 302


def test_default_limit_is_20(httpbin: str, client: Client) -> None:
    assert len(client.get(f"{httpbin}/redirect/20").history) == 20
    with pytest.raises(TooManyRedirects):
        client.get(f"{httpbin}/redirect/21")


# ---- scripted: loops and bad Locations ----------------------------------------------------


def test_redirect_loop() -> None:
    server = Scripted(lambda seen: reply(302, {"Location": "/loop"}))
    try:
        with Client(max_redirects=5) as c, pytest.raises(TooManyRedirects):
            c.get(server.url + "/loop")
        assert len(server.requests) == 6  # the request and 5 hops, then the limit
    finally:
        server.close()


def test_two_origin_loop() -> None:
    """a → b → a → ... across two origins."""
    def to(other: list[Scripted]) -> object:
        return lambda seen: reply(302, {"Location": other[0].url + "/x"})

    b_ref: list[Scripted] = []
    a_ref: list[Scripted] = []
    a = Scripted(to(b_ref))  # type: ignore[arg-type]
    b = Scripted(to(a_ref))  # type: ignore[arg-type]
    a_ref.append(a)
    b_ref.append(b)
    try:
        with Client() as c, pytest.raises(TooManyRedirects):
            c.get(a.url + "/x")
        assert len(a.requests) + len(b.requests) == 21
    finally:
        a.close()
        b.close()


@pytest.mark.parametrize(
    ("headers", "match"),
    [({}, "no Location"),
     ({"Location": "ftp://example.com/file"}, "scheme other than http or https"),
     ({"Location": "file:///etc/passwd"}, "scheme other than http or https"),
     ({"Location": "javascript:alert(1)"}, "scheme other than http or https"),
     ({"Location": "http://exa mple.com/"}, "invalid Location"),
     ({"Location": "http://:80/"}, "invalid Location")],
)
def test_bad_location(headers: dict[str, str], match: str) -> None:
    server = Scripted(lambda seen: reply(302, headers))
    try:
        with Client() as c:
            with pytest.raises(RedirectError, match=match) as info:
                c.get(server.url + "/start")
            assert not isinstance(info.value, TooManyRedirects)
            # Not following: the 302 itself is the answer.
            r = c.get(server.url + "/start", follow_redirects=False)
            assert r.status_code == 302
    finally:
        server.close()


def test_httpbin_redirect_to_other_scheme(httpbin: str, client: Client) -> None:
    with pytest.raises(RedirectError, match="scheme"):
        client.get(f"{httpbin}/redirect-to", params={"url": "ftp://127.0.0.1/x"})


def test_307_with_iterator_body_cannot_be_repeated() -> None:
    server = Scripted(lambda seen: reply(307, {"Location": "/again"}))
    try:
        with Client() as c:
            with pytest.raises(BodyNotReplayable, match="cannot repeat") as info:
                c.post(server.url + "/up", content=iter([b"one ", b"two"]))
            assert isinstance(info.value, RequestBodyError)
            assert server.requests[0].body == b"one two"
            assert len(server.requests) == 1
            # bytes can be repeated
            hits: list[Seen] = []

            def respond(seen: Seen) -> bytes:
                hits.append(seen)
                return reply(307, {"Location": "/again"}) if len(hits) == 1 else reply(200)

            server.respond = respond
            assert c.post(server.url + "/up", content=b"one two").status_code == 200
            assert [(s.method, s.path, s.body) for s in hits] == [
                ("POST", "/up", b"one two"), ("POST", "/again", b"one two")]
    finally:
        server.close()


def test_303_after_iterator_body_is_fine() -> None:
    """303 turns the POST into a GET without a body: nothing needs repeating."""
    hits: list[Seen] = []

    def respond(seen: Seen) -> bytes:
        hits.append(seen)
        return reply(303, {"Location": "/done"}) if len(hits) == 1 else reply(200, None, b"ok")

    server = Scripted(respond)
    try:
        with Client() as c:
            r = c.post(server.url + "/form", content=iter([b"a", b"b"]))
        assert r.content == b"ok"
        assert [(s.method, s.path, s.body) for s in hits] == [("POST", "/form", b"ab"),
                                                              ("GET", "/done", b"")]
        assert "transfer-encoding" not in hits[1].headers
    finally:
        server.close()


def test_streamed_response_after_redirects(httpbin: str, client: Client) -> None:
    with client.get(f"{httpbin}/redirect/2", stream=True) as r:
        assert r.url == f"{httpbin}/get" and len(r.history) == 2
        assert r.json()["url"] == f"{httpbin}/get"


def test_redirect_keeps_pool_connection(httpbin: str, client: Client) -> None:
    client.get(f"{httpbin}/redirect/5")
    assert client.pool_stats()["created"] <= 2
