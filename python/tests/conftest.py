from __future__ import annotations

import os
import sys
from collections.abc import Iterator

import pytest
import trustme

sys.path.insert(0, os.path.dirname(__file__))

from servers import Httpbin, Hypercorn, Nghttpd, Nginx, NginxH2  # noqa: E402

import fasthttp  # noqa: E402


@pytest.fixture(scope="session")
def fh() -> str:
    """The fh program of the C build (build/release/fh, which scripts/test.sh builds
    first; FH_BIN points elsewhere). A missing binary fails the test."""
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    path = os.environ.get("FH_BIN", os.path.join(root, "build", "release", "fh"))
    assert os.access(path, os.X_OK), f"{path} is missing: build it (cmake) or set FH_BIN"
    return path


@pytest.fixture(scope="session")
def httpbin() -> Iterator[str]:
    """Base URL of a local httpbin (stands in for https://httpbin.org)."""
    server = Httpbin()
    try:
        yield server.start()
    finally:
        server.close()


@pytest.fixture(scope="session")
def api(httpbin: str) -> str:
    """Stands in for https://api.example.com: httpbin's echo endpoint."""
    return httpbin + "/anything"


@pytest.fixture(scope="session")
def ca() -> trustme.CA:
    return trustme.CA()


@pytest.fixture(scope="session")
def nginx(ca: trustme.CA) -> Iterator[Nginx]:
    server = Nginx(ca)
    try:
        server.start()
        yield server
    finally:
        server.close()


@pytest.fixture(scope="session")
def nginx_h2(ca: trustme.CA, httpbin: str) -> Iterator[NginxH2]:
    """nginx over HTTPS with HTTP/2, and its variants (servers.NginxH2)."""
    server = NginxH2(ca, httpbin)
    try:
        server.start()
        yield server
    finally:
        server.close()


@pytest.fixture(scope="session")
def nghttpd(ca: trustme.CA) -> Iterator[Nghttpd]:
    """nghttpd over TLS and cleartext (HTTP/2 only)."""
    server = Nghttpd(ca)
    try:
        server.start()
        yield server
    finally:
        server.close()


@pytest.fixture(scope="session")
def hypercorn(ca: trustme.CA) -> Iterator[Hypercorn]:
    """hypercorn serving h2app.py over TLS (h2 by ALPN) and cleartext (h2c)."""
    server = Hypercorn(ca)
    try:
        server.start()
        yield server
    finally:
        server.close()


@pytest.fixture
def client() -> Iterator[fasthttp.Client]:
    with fasthttp.Client() as c:
        yield c


@pytest.fixture(scope="session")
def ws_server() -> Iterator[str]:
    """A `websockets` server on ws:// (see ws_servers.WsServer for its paths)."""
    from ws_servers import WsServer

    server = WsServer().start()
    try:
        yield server.url
    finally:
        server.close()


@pytest.fixture(scope="session")
def wss_server(ca: trustme.CA) -> Iterator[str]:
    """The same over wss:// with a certificate of the session's trustme CA."""
    from ws_servers import WsServer

    server = WsServer(ca).start()
    try:
        yield server.url
    finally:
        server.close()
