"""Client: URL building, params, bodies, headers, methods, modes, threads."""

from __future__ import annotations

import io
import threading
import time
import urllib.parse
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from servers import Nginx, RawServer, read_head

import fasthttp
from fasthttp import Client, Request
from fasthttp.errors import ClientClosedError, InvalidRequest, InvalidURL

# ---- base_url joining ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("base", "path", "expected"),
    [
        ("", "/users", "/users"),
        ("", "users", "/users"),
        ("/v1", "/users", "/v1/users"),
        ("/v1/", "/users", "/v1/users"),
        ("/v1/", "users/7", "/v1/users/7"),
        ("/v1", "", "/v1/"),
        ("/v1", "?a=1", "/v1/?a=1"),
    ],
)
def test_base_url_joining(api: str, base: str, path: str, expected: str) -> None:
    with Client(base_url=api + base) as c:
        r = c.get(path)
    assert r.url == api + expected
    assert r.json()["url"] == api + expected


def test_base_url_without_path(httpbin: str) -> None:
    with Client(base_url=httpbin) as c:  # no trailing slash, no path
        assert c.base_url == httpbin + "/"
        assert c.get("/get").json()["url"] == httpbin + "/get"


def test_absolute_url_overrides_base(httpbin: str) -> None:
    with Client(base_url="http://127.0.0.1:1/never") as c:
        assert c.get(httpbin + "/get").status_code == 200


def test_base_url_rejects_query_and_relative() -> None:
    with pytest.raises(InvalidURL):
        Client(base_url="http://example.test/?a=1")
    with pytest.raises(InvalidURL):
        Client(base_url="/relative")


def test_relative_url_without_base(client: Client) -> None:
    with pytest.raises(InvalidURL, match="not an absolute URL"):
        client.get("/users")


# ---- params --------------------------------------------------------------------------------


def test_params_dict_and_types(api: str, client: Client) -> None:
    r = client.get(api, params={"s": "a b&c", "i": 3, "f": 1.5, "t": True, "n": None,
                                "l": [1, "x"], "u": "é"})
    assert r.url == api + "?s=a%20b%26c&i=3&f=1.5&t=true&l=1&l=x&u=%C3%A9"
    assert r.json()["args"] == {"s": "a b&c", "i": "3", "f": "1.5", "t": "true",
                                "l": ["1", "x"], "u": "é"}


def test_params_pairs_and_existing_query(api: str, client: Client) -> None:
    r = client.get(api + "?z=0#frag", params=[("a", "1"), ("a", "2"), ("b", None)])
    assert r.url == api + "?z=0&a=1&a=2"
    assert r.json()["args"] == {"z": "0", "a": ["1", "2"]}


def test_params_client_and_request_merge(api: str) -> None:
    with Client(params={"key": "k1"}) as c:
        r = c.get(api, params={"page": 2})
    assert r.url == api + "?key=k1&page=2"


def test_params_bad_type(api: str, client: Client) -> None:
    with pytest.raises(TypeError):
        client.get(api, params={"a": object()})


# ---- bodies ------------------------------------------------------------------------------------


def test_json_body(api: str, client: Client) -> None:
    r = client.post(api, json={"key": "value", "n": [1, 2], "u": "ü"})
    body = r.json()
    assert body["json"] == {"key": "value", "n": [1, 2], "u": "ü"}
    assert body["headers"]["Content-Type"] == "application/json"
    assert r.request.content == '{"key":"value","n":[1,2],"u":"ü"}'.encode()


def test_form_body(api: str, client: Client) -> None:
    r = client.post(api, data={"field": "a value", "multi": ["1", "2"]})
    body = r.json()
    assert body["form"] == {"field": "a value", "multi": ["1", "2"]}
    assert body["headers"]["Content-Type"] == "application/x-www-form-urlencoded"
    assert r.request.content == b"field=a+value&multi=1&multi=2"


@pytest.mark.parametrize("data", [b"raw bytes", "raw str"])
def test_raw_data(api: str, client: Client, data: Any) -> None:
    r = client.put(api, data=data, headers={"Content-Type": "text/plain"})
    assert r.json()["data"] == "raw " + ("bytes" if isinstance(data, bytes) else "str")
    assert r.json()["headers"]["Content-Length"] == str(len(data))


@pytest.mark.parametrize("content", [b"bytes body", "str body", bytearray(b"array body")])
def test_content_body(api: str, client: Client, content: Any) -> None:
    r = client.patch(api, content=content)
    assert r.json()["data"] == bytes(content if not isinstance(content, str)
                                     else content.encode()).decode()
    assert r.json()["method"] == "PATCH"


def test_content_iterator_is_chunked(api: str, client: Client) -> None:
    def gen() -> Iterator[bytes]:
        for i in range(100):
            yield b"%03d," % i

    r = client.post(api, content=gen())
    body = r.json()
    assert body["headers"]["Transfer-Encoding"] == "chunked"
    assert body["data"] == "".join("%03d," % i for i in range(100))


def test_content_file_object(api: str, client: Client) -> None:
    payload = bytes(range(256)) * 1000
    r = client.post(api, content=io.BytesIO(payload),
                    headers={"Content-Type": "application/octet-stream"})
    assert r.json()["data"].startswith("data:application/octet-stream;base64,")


def test_large_iterator_body_to_nginx(nginx: Nginx, client: Client) -> None:
    """Many chunks: the body reader and the driver loop hand over correctly."""
    def gen() -> Iterator[bytes]:
        for _ in range(2000):
            yield b"x" * 10000

    r = client.post(nginx.http + "/json", content=gen())
    assert r.status_code == 405  # nginx refuses POST to a static file, after the body


def test_iterator_error_propagates(api: str, client: Client) -> None:
    def gen() -> Iterator[bytes]:
        yield b"first"
        raise ValueError("producer failed")

    with pytest.raises(ValueError, match="producer failed"):
        client.post(api, content=gen())


def test_only_one_body(api: str, client: Client) -> None:
    with pytest.raises(ValueError, match="only one"):
        client.post(api, json={}, data={"a": "b"})


# ---- headers --------------------------------------------------------------------------------------


def test_default_headers(api: str, client: Client) -> None:
    sent = client.get(api).json()["headers"]
    assert sent["User-Agent"] == f"fasthttp/{fasthttp.__version__}"
    assert sent["Accept-Encoding"] == "gzip, deflate, br, zstd"


def test_client_and_request_headers(api: str) -> None:
    with Client(headers={"X-Client": "c", "User-Agent": "ua/1"}) as c:
        sent = c.get(api, headers={"x-client": "override", "X-Req": "r"}).json()["headers"]
    assert sent["X-Client"] == "override"
    assert sent["X-Req"] == "r"
    assert sent["User-Agent"] == "ua/1"


def test_crlf_in_header_refused_before_sending() -> None:
    server = RawServer(lambda conn: conn.recv(100))
    try:
        with Client() as c:
            with pytest.raises(InvalidRequest, match="X-Evil"):
                c.get(server.url, headers={"X-Evil": "a\r\nInjected: yes"})
            with pytest.raises(InvalidRequest):
                c.get(server.url, headers={"Bad Name": "x"})
            with pytest.raises(InvalidRequest):
                c.request("GE T", server.url)
        assert server.accepted == 0
    finally:
        server.close()


# ---- methods, HEAD, send -------------------------------------------------------------------------


@pytest.mark.parametrize("method", ["get", "post", "put", "patch", "delete", "options"])
def test_methods(api: str, client: Client, method: str) -> None:
    r = getattr(client, method)(api)
    assert r.status_code == 200
    if method != "options":
        assert r.json()["method"] == method.upper()


def test_request_method(api: str, client: Client) -> None:
    r = client.request("delete", api, params={"x": "1"})
    assert r.json()["method"] == "DELETE"
    assert r.request.method == "DELETE"


def test_head(httpbin: str, nginx: Nginx, client: Client) -> None:
    r = client.head(httpbin + "/get")
    assert r.status_code == 200 and r.content == b""
    r = client.head(nginx.http + "/big.bin")
    assert r.headers["Content-Length"] == str(200 * 1024 * 1024)
    assert r.content == b""


def test_send_request(api: str) -> None:
    req = Request("POST", "/items", params={"a": 1}, json={"k": 1},
                  headers={"X-Custom": "1"})
    req.headers["X-API-Key"] = "secret"  # requests are mutable before sending
    with Client(base_url=api, headers={"X-Default": "d"}) as c:
        r = c.send(req)
    body = r.json()
    assert body["url"] == api + "/items?a=1"
    assert body["json"] == {"k": 1}
    assert body["headers"]["X-Api-Key"] == "secret"
    assert body["headers"]["X-Default"] == "d"
    # r.request is what was sent: the Request's fields plus the client's
    assert r.request is not req and r.request.url == api + "/items?a=1"
    assert r.request.headers["X-API-Key"] == "secret" and r.request.content == req.content
    assert r.request.headers["X-Default"] == "d"


def test_keyword_errors(api: str, client: Client) -> None:
    with pytest.raises(TypeError, match="unexpected keyword"):
        client.get(api, bogus=1)  # type: ignore[call-arg]
    with pytest.raises(TypeError, match="multiple values"):
        client.get(api, url=api)  # type: ignore[misc]
    with pytest.raises(TypeError, match="missing"):
        client.get()  # type: ignore[call-arg]
    kwargs: dict[str, Any] = {"params": {"a": "1"}}
    assert client.get(api, **kwargs).json()["args"] == {"a": "1"}


# ---- lifecycle and modes ----------------------------------------------------------------------------


def test_closed_client(api: str) -> None:
    with Client() as c:
        assert c.get(api).status_code == 200
    assert c.is_closed
    with pytest.raises(ClientClosedError, match="closed"):
        c.get(api)
    assert issubclass(ClientClosedError, RuntimeError)
    c.close()  # idempotent


def test_close_inside_with(api: str) -> None:
    with Client() as c:
        c.close()
        with pytest.raises(ClientClosedError):
            c.get(api)


def test_bare_client_is_async_mode(api: str) -> None:
    c = Client()
    with pytest.raises(RuntimeError, match="asynchronous: await its methods"):
        c.get(api)
    c.close()


def test_async_with_is_async_mode(api: str) -> None:
    import asyncio

    async def main() -> int:
        async with Client() as c:
            return (await c.get(api)).status_code

    assert asyncio.run(main()) == 200  # more in test_async_*.py


def test_default_options_accepted() -> None:
    with Client(retry=None, cookies=None, auth=None, hooks=None, http2=False,
                follow_redirects=False, max_redirects=20, limits=fasthttp.Limits(),
                timeout=5) as c:
        assert c.timeout == 5


# ---- threads --------------------------------------------------------------------------------------------


def test_many_threads_share_one_client(nginx: Nginx) -> None:
    errors: list[BaseException] = []
    counts = [0] * 8

    with Client(limits=fasthttp.Limits(max_connections_per_host=8)) as c:
        def worker(i: int) -> None:
            try:
                for _ in range(50):
                    r = c.get(nginx.http + "/json")
                    assert r.status_code == 200 and len(r.content) == len(r.content)
                    assert r.json()["name"] == "fasthttp"
                    counts[i] += 1
            except BaseException as e:
                errors.append(e)

        threads = [threading.Thread(target=worker, args=(i,)) for i in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        stats = c.pool_stats()
    assert not errors, errors
    assert counts == [50] * 8
    assert stats["created"] <= 8 and stats["reused"] >= 400 - 8


def test_threads_against_httpbin(httpbin: str) -> None:
    results: list[int] = []
    with Client() as c:
        def worker() -> None:
            for _ in range(10):
                results.append(c.get(httpbin + "/get").status_code)

        threads = [threading.Thread(target=worker) for _ in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    assert results == [200] * 80


def test_raw_server_sees_request_line(client: Client) -> None:
    seen: list[bytes] = []

    def handler(conn: Any) -> None:
        seen.append(read_head(conn))
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok")

    server = RawServer(handler)
    try:
        r = client.get(server.url + "/p?q=1", params={"r": "2"})
        assert r.content == b"ok"
        assert seen[0].startswith(b"GET /p?q=1&r=2 HTTP/1.1\r\n")
    finally:
        server.close()


# ---- property tests and the GIL -------------------------------------------------------------------

_text = st.text(st.characters(blacklist_categories=("Cs",)), max_size=20)


@given(st.lists(st.tuples(_text.filter(bool), _text), max_size=8))
def test_params_round_trip(pairs: list[tuple[str, str]]) -> None:
    url = Request("GET", "http://h.test/p", params=pairs).url
    query = urllib.parse.urlsplit(url).query
    assert urllib.parse.parse_qsl(query, keep_blank_values=True) == pairs


@given(st.dictionaries(_text.filter(bool), _text, max_size=8))
def test_form_round_trip(form: dict[str, str]) -> None:
    body = Request("POST", "http://h.test/", data=form).content
    assert dict(urllib.parse.parse_qsl(body.decode(), keep_blank_values=True)) == form


def test_gil_released_while_waiting() -> None:
    """Other Python threads keep running while a request waits for the server."""
    stop = threading.Event()
    server = RawServer(lambda conn: (read_head(conn), stop.wait(30)))
    ticks = 0
    done = threading.Event()

    def count() -> None:
        nonlocal ticks
        while not done.is_set():
            ticks += 1
            time.sleep(0.001)

    t = threading.Thread(target=count)
    t.start()
    try:
        with Client(timeout=fasthttp.Timeout(read=0.5)) as c:
            with pytest.raises(fasthttp.errors.ReadTimeout):
                c.get(server.url)
    finally:
        done.set()
        t.join()
        stop.set()
        server.close()
    assert ticks > 20  # ~500 when the GIL is free; 0 if it were held
