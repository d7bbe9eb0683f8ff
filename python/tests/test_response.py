"""Response and Headers: properties, encodings, decoding, streaming."""

from __future__ import annotations

import datetime
import json
from collections.abc import MutableMapping
from typing import Any

import pytest
from servers import JSON_DOC, Nginx, RawServer, read_head

from fasthttp import Client, Headers, Request, Response
from fasthttp.errors import HTTPStatusError, StreamClosed, StreamConsumed

# ---- constructed by hand ----------------------------------------------------------------------


def test_response_by_hand() -> None:
    req = Request("GET", "http://example.test/x")
    r = Response(status_code=201, headers={"X-A": "1"}, content=b"hello", request=req)
    assert (r.status_code, r.reason, r.content, r.text()) == (201, "Created", b"hello", "hello")
    assert r.headers["x-a"] == "1"
    assert r.request is req and r.url == "http://example.test/x"
    assert r.http_version == "HTTP/1.1" and r.elapsed == datetime.timedelta(0)
    assert r.raise_for_status() is r
    assert repr(r) == "<Response [201 Created]>"
    assert list(r.iter_bytes(2)) == [b"he", b"ll", b"o"]
    assert list(r.iter_text()) == ["hello"]


def test_hook_style_replacement(httpbin: str) -> None:
    """The seed's response-hook example builds a Response from another one."""
    with Client() as c:
        resp = c.get(httpbin + "/get")
    new = Response(status_code=resp.status_code, headers=resp.headers,
                   content=resp.text().upper().encode("utf-8"), reason=resp.reason,
                   request=resp.request)
    assert new.json()["URL"] == (httpbin + "/get").upper()
    assert new.headers == resp.headers and new.reason == "OK"


def test_raise_for_status_carries_request_and_response() -> None:
    req = Request("DELETE", "http://example.test/y")
    r = Response(404, request=req)
    with pytest.raises(HTTPStatusError) as info:
        r.raise_for_status()
    assert info.value.response is r and info.value.request is req
    assert "404 Not Found" in str(info.value) and "http://example.test/y" in str(info.value)
    assert Response(302).raise_for_status().status_code == 302
    with pytest.raises(HTTPStatusError, match="Server error '503"):
        Response(503).raise_for_status()


# ---- encodings ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("ctype", "body", "encoding"),
    [
        (None, b"x", "utf-8"),
        ("text/plain", b"x", "utf-8"),
        ("text/html; charset=ISO-8859-1", b"x", "iso-8859-1"),
        ('text/plain; format=flowed; charset="utf-16"', b"x", "utf-16"),
        ("text/plain; charset=no-such-codec", b"x", "utf-8"),
        ("application/json", '{"a": "é"}'.encode(), "utf-8"),
        ("application/json", '{"a": "é"}'.encode("utf-16-le"), "utf-16-le"),
        ("application/json", '{"a": "é"}'.encode("utf-16-be"), "utf-16-be"),
        ("application/json", '{"a": "é"}'.encode("utf-32-le"), "utf-32-le"),
        ("application/json", '{"a": "é"}'.encode("utf-32-be"), "utf-32-be"),
        ("application/problem+json", '"é"'.encode("utf-16-le"), "utf-16-le"),
        ("application/json", b"\xef\xbb\xbf{}", "utf-8-sig"),
        ("application/json", '{"a": 1}'.encode("utf-16"), "utf-16"),
    ],
)
def test_encoding_detection(ctype: str | None, body: bytes, encoding: str) -> None:
    r = Response(200, headers={"Content-Type": ctype} if ctype else None, content=body)
    assert r.encoding == encoding
    if ctype and "json" in ctype:
        assert r.json() == json.loads(body.decode(encoding))


def test_encoding_settable() -> None:
    r = Response(200, content="café".encode("latin-1"))
    assert r.text() == "caf\ufffd"
    r.encoding = "latin-1"
    assert r.encoding == "latin-1" and r.text() == "café"
    r.encoding = None
    assert r.encoding == "utf-8"


def test_charset_from_server(nginx: Nginx, client: Client) -> None:
    r = client.get(nginx.http + "/utf16.txt")
    assert r.encoding == "utf-16"
    assert r.text() == "Grüße, 世界\n"
    assert list(client.get(nginx.http + "/utf16.txt", stream=True).iter_text()) != []


def test_json_kwargs() -> None:
    r = Response(200, content=b'{"a": 1.5}')
    assert r.json(parse_float=str) == {"a": "1.5"}


# ---- headers ------------------------------------------------------------------------------------------


def test_headers_type() -> None:
    h = Headers([("Set-Cookie", "a=1"), ("Content-Type", "text/plain"), ("set-cookie", "b=2")])
    assert len(h) == 3 and list(h) == ["Set-Cookie", "Content-Type"]
    assert h["SET-COOKIE"] == "a=1, b=2"
    assert h.get_list("set-cookie") == ["a=1", "b=2"] == h.getall("Set-Cookie")
    assert h.get("missing") is None and h.get("missing", "d") == "d"
    assert "content-type" in h and "x" not in h
    assert h.items()[1] == ("Content-Type", "text/plain")
    h["set-cookie"] = "c=3"
    assert h.items() == [("Set-Cookie", "c=3"), ("Content-Type", "text/plain")]
    h.add("X-Multi", "1")
    h.add("x-multi", "2")
    del h["X-MULTI"]
    assert "x-multi" not in h
    with pytest.raises(KeyError):
        _ = h["nope"]
    with pytest.raises(KeyError):
        del h["nope"]
    h.update({"content-type": "application/json"})
    assert h["Content-Type"] == "application/json"
    assert h.pop("set-cookie") == "c=3" and h.pop("gone", None) is None
    assert h.setdefault("X-New", "v") == "v" and h.setdefault("x-new", "w") == "v"
    assert h == {"CONTENT-TYPE": "application/json", "x-new": "v"}
    assert h.copy() == h and h.copy() is not h
    assert isinstance(h, MutableMapping)
    assert dict(h) == {"content-type": "application/json", "X-New": "v"}
    assert repr(Headers({"a": "b"})) == "Headers([('a', 'b')])"
    with pytest.raises(TypeError):
        Headers({"a": 1.5})
    with pytest.raises(TypeError):
        Headers("not pairs")


def test_response_headers_from_server(client: Client) -> None:
    def handler(conn: Any) -> None:
        read_head(conn)
        conn.sendall(b"HTTP/1.1 200 Fine\r\nSet-Cookie: a=1\r\nX-Caf: caf\xc3\xa9\r\n"
                     b"X-Latin: caf\xe9\r\nset-cookie: b=2\r\nContent-Length: 0\r\n"
                     b"Connection: close\r\n\r\n")

    server = RawServer(handler)
    try:
        r = client.get(server.url)
    finally:
        server.close()
    assert r.reason == "Fine"
    assert r.headers.get_list("Set-Cookie") == ["a=1", "b=2"]
    assert r.headers["x-caf"] == "café" and r.headers["x-latin"] == "café"
    assert [k for k, _ in r.headers.items()] == ["Set-Cookie", "X-Caf", "X-Latin",
                                                  "set-cookie", "Content-Length", "Connection"]


def test_properties_from_server(nginx: Nginx, client: Client) -> None:
    r = client.get(nginx.http + "/json")
    assert r.http_version == "HTTP/1.1"
    assert isinstance(r.elapsed, datetime.timedelta) and r.elapsed.total_seconds() > 0
    t = r.timings
    assert t is not None and t["total"] >= t["ttfb"] >= t["sent"] > 0
    assert r.history == [] and r.is_closed
    assert r.url == nginx.http + "/json" and r.request.url == r.url


# ---- content decoding ---------------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/gzip.json", "/br.json", "/zstd.json", "/json-gzip"])
def test_decoding(nginx: Nginx, client: Client, path: str) -> None:
    r = client.get(nginx.http + path)
    assert r.content == JSON_DOC
    assert r.json()["items"][999]["id"] == 999
    streamed = b"".join(client.get(nginx.http + path, stream=True).iter_bytes())
    assert streamed == JSON_DOC


def test_json_gzip_really_compressed(nginx: Nginx, client: Client) -> None:
    assert client.get(nginx.http + "/json-gzip").headers["Content-Encoding"] == "gzip"


@pytest.mark.parametrize("path", ["/gzip", "/deflate", "/brotli"])
def test_httpbin_decoding(httpbin: str, client: Client, path: str) -> None:
    assert client.get(httpbin + path).json()["method"] == "GET"


# ---- streaming -----------------------------------------------------------------------------------------


def test_stream_read_and_reuse(nginx: Nginx, client: Client) -> None:
    before = client.pool_stats()["reused"]
    with client.get(nginx.http + "/json", stream=True) as r:
        assert not r.is_closed
        assert r.read() == JSON_DOC
        assert r.content == JSON_DOC and r.is_closed
    r2 = client.get(nginx.http + "/json")
    assert r2.status_code == 200
    assert client.pool_stats()["reused"] > before  # the streamed connection went back


def test_iter_bytes_chunk_size(nginx: Nginx, client: Client) -> None:
    r = client.get(nginx.http + "/json", stream=True)
    chunks = list(r.iter_bytes(chunk_size=1000))
    assert b"".join(chunks) == JSON_DOC
    assert all(len(c) == 1000 for c in chunks[:-1]) and 0 < len(chunks[-1]) <= 1000
    with pytest.raises(StreamConsumed):
        _ = r.content


def test_iter_lines(nginx: Nginx, client: Client) -> None:
    r = client.get(nginx.http + "/lines.txt", stream=True)
    lines = list(r.iter_lines())
    assert lines == [f"line {i}" for i in range(5000)]


def test_iter_lines_split_across_chunks(client: Client) -> None:
    def handler(conn: Any) -> None:
        read_head(conn)
        conn.sendall(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n"
                     b"Content-Type: text/plain; charset=utf-8\r\n\r\n")
        for piece in (b"one\r", b"\ntwo\n\n", b"thr", b"\xc3", b"\xa9e\rfour"):
            conn.sendall(b"%x\r\n%s\r\n" % (len(piece), piece))
        conn.sendall(b"0\r\n\r\n")

    server = RawServer(handler)
    try:
        r = client.get(server.url, stream=True)
        assert list(r.iter_lines()) == ["one", "two", "", "thrée", "four"]
        r = client.get(server.url, stream=True)
        assert "".join(r.iter_text()) == "one\r\ntwo\n\nthrée\rfour"
    finally:
        server.close()


def test_stream_close_early(nginx: Nginx, client: Client) -> None:
    r = client.get(nginx.http + "/big.bin", stream=True)
    first = next(r.iter_bytes())
    assert first and set(first) == {0}
    r.close()
    assert r.is_closed
    with pytest.raises(StreamClosed):
        r.read()
    assert client.get(nginx.http + "/json").status_code == 200


def test_stream_iterated_twice(nginx: Nginx, client: Client) -> None:
    r = client.get(nginx.http + "/json", stream=True)
    assert b"".join(r.iter_bytes()) == JSON_DOC
    with pytest.raises(StreamConsumed):
        r.iter_bytes()


def test_buffered_iter(nginx: Nginx, client: Client) -> None:
    r = client.get(nginx.http + "/json")
    assert b"".join(r.iter_bytes(4096)) == JSON_DOC
    assert list(r.iter_lines()) == [JSON_DOC.decode()]


def test_stream_response_outlives_client(nginx: Nginx) -> None:
    with Client() as c:
        r = c.get(nginx.http + "/json", stream=True)
    assert r.read() == JSON_DOC  # the pool is freed when the stream ends


def test_stream_gc_without_close(nginx: Nginx, client: Client) -> None:
    for _ in range(20):
        client.get(nginx.http + "/big.bin", stream=True)  # dropped unread
    assert client.pool_stats()["open"] <= 1
