"""Proxies and Unix sockets (docs/python.md, "Proxies"), against real servers on
127.0.0.1: nginx as the origin, tinyproxy (forward mode, CONNECT, Basic auth, 407),
microsocks (socks5 and socks5h with a user name), proxy.py as an HTTPS proxy (TLS to
the proxy, then TLS to the origin inside it) and a scripted proxy for refusals; the
synchronous and asyncio faces, HTTP/1.1, HTTP/2 through CONNECT and WebSocket through
every kind. What the origin received is read back from nginx's /headers, so the
proxy's credentials are asserted to reach the proxy only. The environment's rules
are table-tested through Client._proxy_for, which asks libfasthttp.
"""

from __future__ import annotations

import asyncio
import json
import os
import socket
import subprocess
import threading
from collections.abc import Iterator

import pytest
import trustme
from proxy_servers import (
    PASSWORD,
    USER,
    Microsocks,
    ProxyPy,
    RefusingProxy,
    Tinyproxy,
    _Daemon,
)
from servers import Nginx, NginxH2, read_head

import fasthttp
from fasthttp.errors import ConnectError, ProxyError

ENV_NAMES = ("http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY", "all_proxy",
             "ALL_PROXY", "no_proxy", "NO_PROXY")


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every test starts from an environment without proxy variables."""
    for name in ENV_NAMES:
        monkeypatch.delenv(name, raising=False)


def _start(server: _Daemon) -> Iterator[_Daemon]:
    server.start()
    try:
        yield server
    finally:
        server.close()


@pytest.fixture(scope="module")
def tiny() -> Iterator[_Daemon]:
    yield from _start(Tinyproxy())


@pytest.fixture(scope="module")
def tiny_auth() -> Iterator[_Daemon]:
    yield from _start(Tinyproxy(auth=True))


@pytest.fixture(scope="module")
def socks_auth() -> Iterator[_Daemon]:
    yield from _start(Microsocks(auth=True))


@pytest.fixture(scope="module")
def https_proxy(ca: trustme.CA) -> Iterator[_Daemon]:
    yield from _start(ProxyPy(ca, auth=True))


KINDS = ["http", "http-auth", "socks5", "socks5h", "https"]


@pytest.fixture(params=KINDS)
def proxy_url(request: pytest.FixtureRequest, tiny: _Daemon, tiny_auth: _Daemon,
              socks_auth: _Daemon, https_proxy: _Daemon) -> str:
    """One proxy URL per kind, with the credentials the proxy wants."""
    kind = request.param
    if kind == "http":
        return tiny.url
    if kind == "http-auth":
        return tiny_auth.url
    if kind == "socks5":
        return socks_auth.url
    if kind == "socks5h":
        return socks_auth.url.replace("socks5://", "socks5h://")
    return https_proxy.url


def _no_credentials_at_origin(text: str) -> None:
    assert "pa= " in text and "auth= " in text, text
    assert "Basic" not in text and PASSWORD not in text


# ---- every kind, both faces ----------------------------------------------------------


def test_sync_http_and_https(proxy_url: str, nginx: Nginx) -> None:
    with fasthttp.Client(proxy=proxy_url, verify=nginx.ca_file) as client:
        r = client.get(nginx.http + "/headers")
        assert r.status_code == 200
        _no_credentials_at_origin(r.text())
        if proxy_url.startswith("http://"):
            assert "tinyproxy" in r.text()  # forward mode: the proxy carried it
        r = client.get(nginx.https + "/headers")
        assert r.status_code == 200
        _no_credentials_at_origin(r.text())
        assert "via= " in r.text()  # a tunnel: the proxy never saw the request
        assert client.get(nginx.https + "/json").json() == client.get(nginx.http + "/json").json()


def test_async_http_and_https(proxy_url: str, nginx: Nginx) -> None:
    async def main() -> None:
        async with fasthttp.Client(proxy=proxy_url, verify=nginx.ca_file) as client:
            rs = await asyncio.gather(*(client.get(base + "/headers")
                                        for base in (nginx.http, nginx.https) * 4))
            for r in rs:
                assert r.status_code == 200
                _no_credentials_at_origin(r.text())

    asyncio.run(main())


def test_http2_through_the_tunnel(proxy_url: str, nginx_h2: NginxH2, nginx: Nginx) -> None:
    with fasthttp.Client(proxy=proxy_url, verify=nginx.ca_file, http2=True) as client:
        r = client.get(nginx_h2.h2 + "/json")
        assert r.status_code == 200
        assert r.http_version == "HTTP/2"

    async def main() -> None:
        async with fasthttp.Client(proxy=proxy_url, verify=nginx.ca_file, http2=True) as c:
            rs = await asyncio.gather(*(c.get(nginx_h2.h2 + "/json") for _ in range(8)))
            assert {r.http_version for r in rs} == {"HTTP/2"}
            assert c.pool_stats()["created"] == 1  # one tunnel carries every stream

    asyncio.run(main())


def test_websocket_through_the_proxy(proxy_url: str, ws_server: str, wss_server: str,
                                     nginx: Nginx) -> None:
    with fasthttp.Client(proxy=proxy_url, verify=nginx.ca_file) as client:
        for base in (ws_server, wss_server):
            with client.websocket(base + "/echo") as ws:
                ws.send_text("through")
                assert ws.recv_text() == "through"
            with client.websocket(base + "/headers") as ws:
                sent = {k.lower(): v for k, v in json.loads(ws.recv_text()).items()}
                assert "proxy-authorization" not in sent

    async def main() -> None:
        async with fasthttp.Client(proxy=proxy_url, verify=nginx.ca_file) as client:
            async with await client.websocket(wss_server + "/echo") as ws:
                await ws.send_bytes(b"\x00async")
                assert await ws.recv_bytes() == b"\x00async"

    asyncio.run(main())


def test_one_shot_get_takes_a_proxy(tiny: _Daemon, nginx: Nginx) -> None:
    r = fasthttp.get(nginx.http + "/headers", proxy=tiny.url)
    assert "tinyproxy" in r.text()


# ---- refusals ----------------------------------------------------------------------


def test_407_without_or_with_wrong_credentials(tiny_auth: _Daemon, https_proxy: _Daemon,
                                               nginx: Nginx) -> None:
    for proxy in (tiny_auth.bare_url, https_proxy.bare_url):
        with fasthttp.Client(proxy=proxy, verify=nginx.ca_file) as client:
            for url in (nginx.https + "/json", nginx.http + "/json"):  # CONNECT, forward
                with pytest.raises(ProxyError) as e:
                    client.get(url)
                assert e.value.status_code == 407
                assert "407" in str(e.value) and PASSWORD not in str(e.value)
                assert isinstance(e.value, ConnectError)
    wrong = f"http://{USER}:wrong@127.0.0.1:{tiny_auth.port}"
    with fasthttp.Client(proxy=wrong, verify=nginx.ca_file) as client, \
            pytest.raises(ProxyError) as e:
        client.get(nginx.https + "/json")
    assert e.value.status_code == 401  # tinyproxy's answer to wrong credentials
    assert "wrong" not in str(e.value)


@pytest.mark.parametrize("status", [403, 407, 502])
def test_connect_refused_with_the_proxys_status(status: int, nginx: Nginx) -> None:
    proxy = RefusingProxy(status)
    try:
        with fasthttp.Client(proxy=proxy.url, verify=nginx.ca_file) as client, \
                pytest.raises(ProxyError) as e:
            client.get(nginx.https + "/json")
        assert e.value.status_code == status
        assert str(status) in str(e.value)

        async def main() -> None:
            async with fasthttp.Client(proxy=proxy.url, verify=nginx.ca_file) as client:
                with pytest.raises(ProxyError) as e:
                    await client.get(nginx.https + "/json")
                assert e.value.status_code == status

        asyncio.run(main())
    finally:
        proxy.close()


def test_a_proxy_that_closes(nginx: Nginx) -> None:
    silent = RefusingProxy(-1)
    tunnel_closes = RefusingProxy(0)
    try:
        with fasthttp.Client(proxy=silent.url, verify=nginx.ca_file) as client:
            with pytest.raises(ProxyError) as e:
                client.get(nginx.https + "/json")
            assert e.value.status_code is None
            assert "closed the connection" in str(e.value)
        with fasthttp.Client(proxy=tunnel_closes.url, verify=nginx.ca_file) as client, \
                pytest.raises(fasthttp.errors.RequestError):
            client.get(nginx.https + "/json")
    finally:
        silent.close()
        tunnel_closes.close()


def test_socks_refusals(socks_auth: _Daemon, nginx: Nginx) -> None:
    with fasthttp.Client(proxy=socks_auth.bare_url) as client, pytest.raises(ProxyError) as e:
        client.get(nginx.http + "/json")
    assert e.value.status_code is None and "authentication" in str(e.value)
    bad = f"socks5h://{USER}:nope@127.0.0.1:{socks_auth.port}"
    with fasthttp.Client(proxy=bad) as client, pytest.raises(ProxyError) as e:
        client.get(nginx.http + "/json")
    assert "rejected" in str(e.value)


# ---- configuration, the environment, NO_PROXY -------------------------------------------


def test_settings_forms() -> None:
    c = fasthttp.Client(proxies={"http://": "http://p1:1", "https://": "socks5://p2:2"},
                        trust_env=False)
    assert c._proxy_for("http://a/") == "http://p1:1"
    assert c._proxy_for("https://a/") == "socks5://p2:2"
    c = fasthttp.Client(proxies={"http": "p3:3", "all": "https://p4"}, trust_env=False)
    assert c._proxy_for("http://a/") == "http://p3:3"
    assert c._proxy_for("https://a/") == "https://p4:443"
    c = fasthttp.Client(proxy="http://u:pw@p:3128", trust_env=False)
    assert c._proxy_for("https://a/").startswith("http://u@p:3128#")  # type: ignore[union-attr]
    assert "pw" not in (c._proxy_for("https://a/") or "")
    with pytest.raises(fasthttp.errors.InvalidURL, match="scheme"):
        fasthttp.Client(proxy="ftp://p")
    with pytest.raises(fasthttp.errors.InvalidURL, match="path"):
        fasthttp.Client(proxy="http://p/x")
    with pytest.raises(fasthttp.errors.InvalidRequest, match="unknown scheme"):
        fasthttp.Client(proxies={"gopher": "http://p"})
    with pytest.raises(TypeError):
        fasthttp.Client(proxies=["http://p"])  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="uds"):
        fasthttp.Client(uds="x" * 200)


ENV_TABLE: list[tuple[dict[str, str], str, str | None]] = [
    # curl's rules: http_proxy in lower case only (httpoxy), the others either case
    ({"HTTP_PROXY": "http://upper:1"}, "http://a.test/", None),
    ({"http_proxy": "http://lower:1"}, "http://a.test/", "http://lower:1"),
    ({"http_proxy": "http://lower:1"}, "https://a.test/", None),
    ({"HTTPS_PROXY": "http://up:2"}, "https://a.test/", "http://up:2"),
    ({"https_proxy": "http://low:2", "HTTPS_PROXY": "http://up:2"}, "https://a.test/",
     "http://low:2"),
    ({"ALL_PROXY": "socks5h://all:3"}, "http://a.test/", "socks5h://all:3"),
    ({"all_proxy": "socks5://all:3", "https_proxy": "http://s:4"}, "https://a.test/",
     "http://s:4"),
    ({"http_proxy": ""}, "http://a.test/", None),
    # NO_PROXY: names and subdomains, a leading dot, *, ports, addresses, CIDR
    ({"ALL_PROXY": "http://p:1", "NO_PROXY": "a.test"}, "http://x.a.test/", None),
    ({"ALL_PROXY": "http://p:1", "no_proxy": ".a.test"}, "http://a.test/", None),
    ({"ALL_PROXY": "http://p:1", "no_proxy": "a.test"}, "http://ba.test/", "http://p:1"),
    ({"ALL_PROXY": "http://p:1", "no_proxy": "*"}, "https://any.where/", None),
    ({"ALL_PROXY": "http://p:1", "no_proxy": "a.test:8080"}, "http://a.test:8080/", None),
    ({"ALL_PROXY": "http://p:1", "no_proxy": "a.test:8080"}, "http://a.test/", "http://p:1"),
    ({"ALL_PROXY": "http://p:1", "no_proxy": "10.0.0.0/8"}, "http://10.9.8.7/", None),
    ({"ALL_PROXY": "http://p:1", "no_proxy": "10.0.0.0/8"}, "http://11.0.0.1/", "http://p:1"),
    ({"ALL_PROXY": "http://p:1", "no_proxy": "127.0.0.1"}, "http://127.0.0.1:8/", None),
    ({"ALL_PROXY": "http://p:1", "no_proxy": "::1"}, "http://[::1]:8/", None),
    ({"ALL_PROXY": "http://p:1", "no_proxy": "[::1]:8"}, "http://[::1]:9/", "http://p:1"),
    ({"ALL_PROXY": "http://p:1", "no_proxy": "fd00::/8"}, "http://[fd01::5]/", None),
    ({"ALL_PROXY": "http://p:1", "no_proxy": "localhost"}, "http://127.0.0.1/", "http://p:1"),
    ({"ALL_PROXY": "http://p:1", "NO_PROXY": "x.test, a.test"}, "http://a.test/", None),
]


@pytest.mark.parametrize(("env", "url", "route"), ENV_TABLE)
def test_environment_rules(env: dict[str, str], url: str, route: str | None,
                           monkeypatch: pytest.MonkeyPatch) -> None:
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    assert fasthttp.Client()._proxy_for(url) == route
    assert fasthttp.Client(trust_env=False)._proxy_for(url) is None


def test_explicit_settings_win_over_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("https_proxy", "http://env:1")
    monkeypatch.setenv("no_proxy", "a.test")
    c = fasthttp.Client(proxies={"https": None})
    assert c._proxy_for("https://b.test/") is None
    c = fasthttp.Client(proxy="http://mine:2")
    assert c._proxy_for("https://b.test/") == "http://mine:2"
    assert c._proxy_for("https://a.test/") is None  # the environment's NO_PROXY still holds
    monkeypatch.setenv("https_proxy", "ftp://broken")
    with fasthttp.Client() as client, pytest.raises(fasthttp.errors.InvalidURL,
                                                    match="https_proxy"):
        client.get("https://b.test/")  # never sent direct when the variable is broken


def test_environment_proxy_is_used(tiny: _Daemon, nginx: Nginx,
                                   monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("http_proxy", tiny.url)
    with fasthttp.Client() as client:
        assert "tinyproxy" in client.get(nginx.http + "/headers").text()
    monkeypatch.setenv("no_proxy", "127.0.0.1")
    with fasthttp.Client() as client:
        assert "via= " in client.get(nginx.http + "/headers").text()


def test_pool_separates_proxies_and_identities(tiny: _Daemon, tiny_auth: _Daemon,
                                               nginx: Nginx) -> None:
    with fasthttp.Client(proxies={"https": tiny.url}, verify=nginx.ca_file) as a:
        a.get(nginx.https + "/json")
        a.get(nginx.https + "/json")
        assert a.pool_stats()["created"] == 1
    with fasthttp.Client(proxies={"https": tiny_auth.url}, verify=nginx.ca_file) as b:
        b.get(nginx.https + "/json")
        b.get(nginx.https + "/json", uds=None)
        assert b.pool_stats()["created"] == 1


# ---- Unix sockets ------------------------------------------------------------------------


def test_unix_socket_sync_and_async(nginx: Nginx, tiny: _Daemon) -> None:
    with fasthttp.Client(uds=nginx.unix_http, proxy=tiny.url) as client:  # no proxy for UDS
        text = client.get("http://example.test/headers").text()
        assert "host=example.test" in text and "via= " in text
    with fasthttp.Client(uds=nginx.unix_https, verify=nginx.ca_file) as client:
        assert client.get("https://localhost/json").status_code == 200  # SNI: localhost
        with pytest.raises(fasthttp.errors.CertificateError):
            client.get("https://not-in-the-cert.test/json")
    with fasthttp.Client() as client:
        r = client.get("http://per.request/headers", uds=nginx.unix_http)
        assert "host=per.request" in r.text()
        with pytest.raises(ConnectError, match="Unix socket"):
            client.get("http://x/", uds="/nonexistent/fh.sock")

    async def main() -> None:
        async with fasthttp.Client(uds=nginx.unix_http) as client:
            rs = await asyncio.gather(*(client.get("http://u.test/json") for _ in range(5)))
            assert {r.status_code for r in rs} == {200}

    asyncio.run(main())


def test_abstract_unix_socket() -> None:
    name = f"fasthttp-test-{os.getpid()}"
    srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    srv.bind("\0" + name)
    srv.listen(4)

    def serve() -> None:
        conn, _ = srv.accept()
        head = read_head(conn)
        body = head.split(b"\r\n")[0]
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % len(body) + body)
        conn.close()

    t = threading.Thread(target=serve, daemon=True)
    t.start()
    try:
        with fasthttp.Client(uds="@" + name) as client:
            assert client.get("http://abstract.test/x?y=1").text() == "GET /x?y=1 HTTP/1.1"
    finally:
        t.join(5)
        srv.close()


# ---- fh ws through proxies (fh -x for HTTP is in tests/test_proxy.c) ---------------------


def test_fh_ws_through_proxies(proxy_url: str, ws_server: str, wss_server: str,
                               nginx: Nginx, fh: str) -> None:
    for base in (ws_server, wss_server):
        p = subprocess.Popen([fh, "ws", "--cacert", nginx.ca_file, "-x", proxy_url,
                              f"{base}/echo"], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE)
        assert p.stdin and p.stdout
        p.stdin.write(b"via proxy\n")
        p.stdin.flush()
        assert p.stdout.readline() == b"via proxy\n"
        p.stdin.close()  # end of input: close with 1000
        assert p.wait(10) == 0
        p.stdout.close()
        if p.stderr:
            p.stderr.close()
