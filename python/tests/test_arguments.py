"""Wrong arguments (issue 10, item 6): every argument of Client(...), of the request
methods (sync and asyncio), of Request(...), Timeout, RetryPolicy, BasicAuth /
DigestAuth and CookieJar is fed wrong values. Wrong types raise TypeError, bad
values ValueError (bools where numbers are expected are TypeErrors; huge ints are
ValueErrors, never OverflowError), each message naming the argument; and nothing
reaches the network: the requests target a raw server that counts connections.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

import pytest
from servers import RawServer

from fasthttp import (
    BasicAuth,
    Client,
    CookieJar,
    DigestAuth,
    Limits,
    Request,
    RetryPolicy,
    Timeout,
)

HUGE = 10**30  # beyond a C long
HUGER = 10**400  # beyond a double

Case = tuple[dict[str, Any], type[BaseException], str]

# (keyword arguments, exception, text the message must contain: the argument's name)
CLIENT_CASES: list[Case] = [
    ({"base_url": 5}, TypeError, "base_url"),
    ({"base_url": "not/absolute"}, ValueError, "base_url"),
    ({"headers": 5}, TypeError, "headers"),
    ({"headers": "X-A: b"}, TypeError, "headers"),
    ({"headers": [("a",)]}, ValueError, "headers"),
    ({"params": 5}, TypeError, "params"),
    ({"params": {"a": object()}}, TypeError, "params"),
    ({"timeout": "soon"}, TypeError, "timeout"),
    ({"timeout": True}, TypeError, "timeout"),
    ({"timeout": 1j}, TypeError, "timeout"),
    ({"timeout": -1}, ValueError, "timeout"),
    ({"timeout": math.nan}, ValueError, "timeout"),
    ({"timeout": math.inf}, ValueError, "timeout"),
    ({"timeout": 1e12}, ValueError, "timeout"),
    ({"timeout": HUGER}, ValueError, "timeout"),
    ({"verify": 0}, TypeError, "verify"),
    ({"verify": 1}, TypeError, "verify"),
    ({"verify": None}, TypeError, "verify"),
    ({"verify": "a\0b"}, ValueError, "verify"),
    ({"verify": "/nonexistent/ca.pem"}, FileNotFoundError, "verify"),
    ({"cert": 5}, TypeError, "cert"),
    ({"cert": ("a",)}, TypeError, "cert"),
    ({"cert": ("a", "b", "c")}, TypeError, "cert"),
    ({"cert": ("/nonexistent/c.pem", 5)}, TypeError, "cert"),
    ({"cert": "/nonexistent/c.pem"}, FileNotFoundError, "cert"),
    ({"limits": 5}, TypeError, "limits"),
    ({"limits": {"max_connections": 5}}, TypeError, "limits"),
    ({"max_redirects": True}, TypeError, "max_redirects"),
    ({"max_redirects": "3"}, TypeError, "max_redirects"),
    ({"max_redirects": 3.0}, TypeError, "max_redirects"),
    ({"max_redirects": -1}, ValueError, "max_redirects"),
    ({"max_redirects": 1001}, ValueError, "max_redirects"),
    ({"max_redirects": HUGE}, ValueError, "max_redirects"),
    ({"retry": 3}, TypeError, "retry"),
    ({"retry": {"max_attempts": 3}}, TypeError, "retry"),
    ({"cookies": 5}, TypeError, "cookies"),
    ({"cookies": {"a": 1}}, TypeError, "cookie"),
    ({"cookies": {1: "a"}}, TypeError, "cookie"),
    ({"cookies": {"a;b": "1"}}, ValueError, "cookie"),
    ({"auth": "user"}, TypeError, "auth"),
    ({"auth": ("user",)}, TypeError, "auth"),
    ({"auth": ("user", 5)}, TypeError, "auth"),
    ({"auth": ("a:b", "pw")}, ValueError, "auth"),
    ({"auth": ("user", "pw\r\nX-Injected: 1")}, ValueError, "auth"),
    ({"auth": ("us\ner", "pw")}, ValueError, "auth"),
    ({"auth": ("user\0", "pw")}, ValueError, "auth"),
    ({"hooks": 5}, TypeError, "hooks"),
    ({"hooks": {"request": []}}, ValueError, "hook"),
    ({"hooks": {"response": 5}}, TypeError, "hooks"),
    ({"hooks": {"response": [5]}}, TypeError, "hooks"),
    # HTTP/2 only needs HTTP/2: a client must speak one of them.
    ({"http1": False}, ValueError, "http2"),
    ({"http1": False, "http2": False}, ValueError, "http2"),
]

# Per-request keyword arguments, for get/post/.../request (sync and asyncio).
REQUEST_CASES: list[Case] = [
    ({"params": 5}, TypeError, "params"),
    ({"params": [("a",)]}, ValueError, "pairs"),
    ({"headers": 5}, TypeError, "headers"),
    ({"headers": {"X-A": "a\r\nX-B: b"}}, ValueError, "header"),
    ({"json": math.nan}, ValueError, "json"),
    ({"json": {"a": [1, math.inf]}}, ValueError, "json"),
    ({"json": -math.inf}, ValueError, "json"),
    ({"json": {1, 2}}, TypeError, "json"),
    ({"json": {"a": 1}, "data": {"b": "c"}}, ValueError, "json="),
    ({"data": 5}, TypeError, "content"),
    ({"data": {"a": object()}}, TypeError, "data"),
    ({"content": 5}, TypeError, "content"),
    ({"files": 5}, TypeError, "files"),
    ({"files": {"f": 5}}, TypeError, "file"),
    ({"timeout": "soon"}, TypeError, "timeout"),
    ({"timeout": False}, TypeError, "timeout"),
    ({"timeout": -0.5}, ValueError, "timeout"),
    ({"timeout": HUGER}, ValueError, "timeout"),
    # Timeout() itself refuses 1e12 now (libfasthttp's range); an object with
    # its attributes still reaches the Client's own check.
    ({"timeout": SimpleNamespace(connect=1e12, read=None, write=None, pool=None, total=None)},
     ValueError, "Timeout.connect"),
    ({"cookies": 5}, TypeError, "cookies"),
    ({"cookies": {"a": 1}}, TypeError, "cookie"),
    ({"auth": 5}, TypeError, "auth"),
    ({"auth": ("a:b", "pw")}, ValueError, "auth"),
    ({"auth": ("user", "p\nw")}, ValueError, "auth"),
    ({"hooks": 5}, TypeError, "hooks"),
    ({"hooks": {"response": 5}}, TypeError, "hooks"),
    ({"retry": 5}, TypeError, "retry"),
]

# Request(method, url, **kw) and client.send(request, **kw).
REQUEST_OBJECT_CASES: list[Case] = [
    ({"method": 5}, TypeError, "method"),
    ({"url": 5}, TypeError, "url"),
    ({"url": b"http://x/"}, TypeError, "url"),
    ({"headers": 5}, TypeError, "headers"),
    ({"params": 5}, TypeError, "params"),
    ({"json": math.nan}, ValueError, "json"),
    ({"data": 5}, TypeError, "content"),
    ({"content": 5}, TypeError, "content"),
    ({"files": 5}, TypeError, "files"),
]
SEND_CASES: list[Case] = [
    ({"timeout": "soon"}, TypeError, "timeout"),
    ({"timeout": -1}, ValueError, "timeout"),
    ({"auth": ("a:b", "pw")}, ValueError, "auth"),
    ({"auth": 5}, TypeError, "auth"),
    ({"retry": 5}, TypeError, "retry"),
    ({"cookies": 5}, TypeError, "cookies"),
    ({"hooks": {"response": 5}}, TypeError, "hooks"),
]

# (callable, exception, text) for the option objects.
OBJECT_CASES: list[tuple[Any, type[BaseException], str]] = [
    (lambda: Timeout("soon"), TypeError, "Timeout.timeout"),
    (lambda: Timeout(-1), ValueError, "Timeout.timeout"),
    (lambda: Timeout(math.inf), ValueError, "Timeout.timeout"),
    (lambda: Timeout(1e12), ValueError, "Timeout.timeout"),
    (lambda: Timeout(connect=True), TypeError, "Timeout.connect"),
    (lambda: Timeout(read=math.nan), ValueError, "Timeout.read"),
    (lambda: Timeout(write=-1), ValueError, "Timeout.write"),
    (lambda: Timeout(pool="1"), TypeError, "Timeout.pool"),
    (lambda: Timeout(total=[1]), TypeError, "Timeout.total"),
    (lambda: RetryPolicy(max_attempts=True), TypeError, "max_attempts"),
    (lambda: RetryPolicy(max_attempts=2.0), TypeError, "max_attempts"),
    (lambda: RetryPolicy(max_attempts=0), ValueError, "max_attempts"),
    (lambda: RetryPolicy(max_attempts=HUGE), ValueError, "max_attempts"),
    (lambda: RetryPolicy(backoff_factor="1"), TypeError, "backoff_factor"),
    (lambda: RetryPolicy(backoff_factor=-1), ValueError, "backoff_factor"),
    (lambda: RetryPolicy(backoff_factor=HUGER), ValueError, "backoff_factor"),
    (lambda: RetryPolicy(backoff_max=math.nan), ValueError, "backoff_max"),
    (lambda: RetryPolicy(retry_after_max=math.inf), ValueError, "retry_after_max"),
    (lambda: RetryPolicy(status_codes=500), TypeError, "status_codes"),
    (lambda: RetryPolicy(status_codes="500"), TypeError, "status_codes"),
    (lambda: RetryPolicy(status_codes=["500"]), TypeError, "status_codes"),
    (lambda: RetryPolicy(status_codes=[True]), TypeError, "status_codes"),
    (lambda: RetryPolicy(status_codes=[99]), ValueError, "status_codes"),
    (lambda: RetryPolicy(status_codes=range(100, 200)), ValueError, "status_codes"),
    (lambda: RetryPolicy(cb_failure_threshold=0), ValueError, "cb_failure_threshold"),
    (lambda: RetryPolicy(cb_recovery_seconds=-1), ValueError, "cb_recovery_seconds"),
    (lambda: Limits(max_connections=-1), ValueError, "max_connections"),
    (lambda: Limits(keepalive_expiry="1"), TypeError, "keepalive_expiry"),
    (lambda: BasicAuth(5, "pw"), TypeError, "username"),  # type: ignore[arg-type]
    (lambda: BasicAuth("user", None), TypeError, "password"),  # type: ignore[arg-type]
    (lambda: BasicAuth("a:b", "pw"), ValueError, "':'"),
    (lambda: BasicAuth("user", "pw\r\n"), ValueError, "password"),
    (lambda: BasicAuth("user\0", "pw"), ValueError, "username"),
    (lambda: DigestAuth("us\rer", "pw"), ValueError, "user name"),
    (lambda: DigestAuth("user", "p\x7fw"), ValueError, "password"),
    (lambda: CookieJar(5), TypeError, "cookies"),  # type: ignore[arg-type]
    (lambda: CookieJar().set(5, "v"), TypeError, "name"),  # type: ignore[arg-type]
    (lambda: CookieJar().set("n", 5), TypeError, "value"),  # type: ignore[arg-type]
    (lambda: CookieJar().set("n", "v", domain=5), TypeError, "domain"),  # type: ignore[arg-type]
    (lambda: CookieJar().set("n", "v", path=5), TypeError, "path"),  # type: ignore[arg-type]
    (lambda: CookieJar().set("n", "v", expires="soon"), TypeError, "expires"),  # type: ignore[arg-type]
    (lambda: CookieJar().set("n", "v", expires=math.nan), ValueError, "expires"),
    (lambda: CookieJar().set("a;b", "v"), ValueError, "cookie"),
    (lambda: CookieJar().get(5), TypeError, "name"),  # type: ignore[arg-type]
    (lambda: CookieJar().delete(5), TypeError, "name"),  # type: ignore[arg-type]
]


def _ids(cases: list[Case]) -> list[str]:
    return [",".join(f"{k}={v!r}"[:40] for k, v in kw.items()) for kw, _, _ in cases]


@pytest.fixture(scope="module")
def counter() -> Iterator[RawServer]:
    """A server that would answer nothing: any connection to it is a failure."""
    server = RawServer(lambda conn: conn.close())
    yield server
    server.close()
    assert server.accepted == 0, "an invalid request reached the network"


def _check(info: pytest.ExceptionInfo[BaseException], word: str) -> None:
    assert word in str(info.value), f"{word!r} not named in: {info.value}"
    assert not isinstance(info.value, OverflowError)


@pytest.mark.parametrize(("kw", "exc", "word"), CLIENT_CASES, ids=_ids(CLIENT_CASES))
def test_client_arguments(kw: dict[str, Any], exc: type[BaseException], word: str) -> None:
    with pytest.raises(exc) as info:
        Client(**kw)
    _check(info, word)


@pytest.mark.parametrize(("kw", "exc", "word"), REQUEST_CASES, ids=_ids(REQUEST_CASES))
def test_request_arguments_sync(counter: RawServer, kw: dict[str, Any],
                                exc: type[BaseException], word: str) -> None:
    with Client() as client:
        for call in (lambda: client.post(counter.url + "/x", **kw),
                     lambda: client.request("PUT", counter.url, **kw),
                     lambda: client.get(counter.url, **kw)):
            with pytest.raises(exc) as info:
                call()
            _check(info, word)
    assert counter.accepted == 0


@pytest.mark.parametrize(("kw", "exc", "word"), REQUEST_CASES, ids=_ids(REQUEST_CASES))
def test_request_arguments_asyncio(counter: RawServer, kw: dict[str, Any],
                                   exc: type[BaseException], word: str) -> None:
    async def main() -> None:
        async with Client() as client:
            for method in ("GET", "POST", "DELETE"):
                with pytest.raises(exc) as info:
                    await client.request(method, counter.url + "/x", **kw)
                _check(info, word)
            with pytest.raises(exc) as info:
                await client.patch(counter.url, **kw)
            _check(info, word)

    asyncio.run(main())
    assert counter.accepted == 0


@pytest.mark.parametrize(("kw", "exc", "word"), REQUEST_OBJECT_CASES,
                         ids=_ids(REQUEST_OBJECT_CASES))
def test_request_object_arguments(kw: dict[str, Any], exc: type[BaseException],
                                  word: str) -> None:
    args = {"method": "POST", "url": "http://127.0.0.1/"} | kw
    with pytest.raises(exc) as info:
        Request(args.pop("method"), args.pop("url"), **args)
    _check(info, word)


@pytest.mark.parametrize(("kw", "exc", "word"), SEND_CASES, ids=_ids(SEND_CASES))
def test_send_arguments(counter: RawServer, kw: dict[str, Any], exc: type[BaseException],
                        word: str) -> None:
    request = Request("GET", counter.url)
    with Client() as client:
        with pytest.raises(exc) as info:
            client.send(request, **kw)
        _check(info, word)
        with pytest.raises(TypeError, match="Request"):
            client.send("GET " + counter.url)  # type: ignore[arg-type]

    async def main() -> None:
        async with Client() as client:
            with pytest.raises(exc) as info:
                await client.send(request, **kw)
            _check(info, word)

    asyncio.run(main())
    assert counter.accepted == 0


def test_method_and_url_arguments(counter: RawServer) -> None:
    with Client() as client:
        with pytest.raises(TypeError, match="url"):
            client.get(5)  # type: ignore[arg-type]
        with pytest.raises(TypeError, match="method"):
            client.request(5, counter.url)  # type: ignore[arg-type]
        with pytest.raises(ValueError, match="method"):
            client.request("GE T", counter.url)
    assert counter.accepted == 0


@pytest.mark.parametrize(("make", "exc", "word"), OBJECT_CASES,
                         ids=[str(i) for i in range(len(OBJECT_CASES))])
def test_option_objects(make: Any, exc: type[BaseException], word: str) -> None:
    with pytest.raises(exc) as info:
        make()
    _check(info, word)


def test_digest_user_name_may_hold_a_colon() -> None:
    # RFC 7617's rule is Basic's own: Digest sends the user name quoted.
    assert DigestAuth("domain:user", "pw").username == "domain:user"


# ---- http2: any false value is False ------------------------------------------------------------


@pytest.mark.parametrize("off", [None, False, 0, 0.0, "", [], ()])
def test_http2_false_values(httpbin: str, off: Any) -> None:
    with Client(http2=off) as client:
        r = client.get(httpbin + "/get", http2=off)
        assert r.status_code == 200 and r.http_version == "HTTP/1.1"

    async def main() -> None:
        async with Client(http2=off) as client:
            r = await client.get(httpbin + "/get", http2=off)
            assert r.status_code == 200

    asyncio.run(main())


# ---- what is accepted still works -------------------------------------------------------------


def test_valid_edges_accepted(httpbin: str) -> None:
    """The limits of the checks are inclusive, and the accepted forms stay accepted."""
    with Client(timeout=1e9, max_redirects=1000, verify=True, limits=None,
                auth=("domain user", "pa:ss word ü")) as client:
        r = client.post(httpbin + "/post", json={"x": 1.5, "big": HUGE},
                        timeout=Timeout(connect=0, read=30))
        assert r.json()["json"] == {"x": 1.5, "big": HUGE}
        auth = r.json()["headers"]["Authorization"]
        assert auth.startswith("Basic ")
    with Client(max_redirects=0) as client:
        assert client.get(httpbin + "/get", timeout=0).status_code == 200
