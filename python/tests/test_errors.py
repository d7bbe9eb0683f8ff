"""Each error class and each timeout, against real (loopback) servers."""

from __future__ import annotations

import socket
import struct
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
from servers import Nginx, RawServer, read_head

import fasthttp._fasthttp as core
from fasthttp import Client, Limits, Request
from fasthttp import errors as E
from fasthttp.timeouts import Timeout


@pytest.fixture
def silent() -> Iterator[RawServer]:
    """Accepts, reads the request, never answers."""
    stop = threading.Event()

    def handler(conn: socket.socket) -> None:
        read_head(conn)
        stop.wait(30)

    server = RawServer(handler)
    yield server
    stop.set()
    server.close()


def serve_once(reply: bytes) -> RawServer:
    def handler(conn: socket.socket) -> None:
        read_head(conn)
        conn.sendall(reply)
        conn.close()

    return RawServer(handler)


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# ---- hierarchy -----------------------------------------------------------------------------


def test_hierarchy() -> None:
    for cls in (E.ConnectTimeout, E.ReadTimeout, E.WriteTimeout, E.TotalTimeout, E.PoolTimeout):
        assert issubclass(cls, TimeoutError) and issubclass(cls, E.TimeoutException)
        assert issubclass(cls, E.RequestError)
    assert issubclass(E.PoolTimeout, E.PoolError)
    for cls in (E.ConnectError, E.TLSError, E.InvalidRequest, E.NetworkError):
        assert issubclass(cls, E.RequestError)
    assert issubclass(E.CertificateError, E.TLSError)
    assert issubclass(E.InvalidURL, E.InvalidRequest) and issubclass(E.InvalidRequest, ValueError)
    for cls in (E.RemoteProtocolError, E.DecodingError, E.ResponseTooLarge):
        assert issubclass(cls, E.ResponseError)
    for cls in (E.RequestError, E.ResponseError, E.HTTPStatusError, E.PoolError,
                E.WebSocketError, E.ClientClosedError, E.StreamError):
        assert issubclass(cls, E.FastHTTPError)
    for cls in (E.WebSocketHandshakeError, E.WebSocketClosed, E.WebSocketProtocolError,
                E.WebSocketMessageTypeError, E.WebSocketDecodeError):
        assert issubclass(cls, E.WebSocketError)


# ---- timeouts ------------------------------------------------------------------------------------


def test_read_timeout(silent: RawServer) -> None:
    with Client(timeout=Timeout(read=0.3)) as c:
        t0 = time.monotonic()
        with pytest.raises(E.ReadTimeout) as info:
            c.get(silent.url + "/slow")
    assert 0.25 < time.monotonic() - t0 < 3
    assert silent.url + "/slow" in str(info.value)
    assert info.value.code == core.FH_ETIMEOUT_READ
    assert isinstance(info.value.request, Request)


def test_per_request_timeout_overrides(silent: RawServer) -> None:
    with Client(timeout=60) as c:
        with pytest.raises(E.ReadTimeout):
            c.get(silent.url, timeout=Timeout(read=0.2))
        with pytest.raises(E.TotalTimeout):
            c.get(silent.url, timeout=0.2)  # a number is every timeout, total included


def test_total_timeout(silent: RawServer) -> None:
    with Client(timeout=Timeout(total=0.3)) as c, pytest.raises(E.TotalTimeout):
        c.get(silent.url)


def test_total_timeout_covers_streamed_body() -> None:
    stop = threading.Event()

    def handler(conn: socket.socket) -> None:
        read_head(conn)
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n")
        while not stop.is_set():  # one byte every 50 ms: never silent for long
            conn.sendall(b"x")
            time.sleep(0.05)

    server = RawServer(handler)
    try:
        with Client(timeout=Timeout(read=5, total=0.5)) as c:
            r = c.get(server.url, stream=True)
            with pytest.raises(E.TotalTimeout):
                r.read()
    finally:
        stop.set()
        server.close()


def test_write_timeout() -> None:
    """The server accepts and never reads: socket buffers fill, the write stalls."""
    stop = threading.Event()
    server = RawServer(lambda conn: stop.wait(30))

    def body() -> Iterator[bytes]:
        chunk = b"x" * 65536
        for _ in range(4096):  # up to 256 MiB, generated lazily
            yield chunk

    try:
        with Client(timeout=Timeout(write=0.3)) as c, pytest.raises(E.WriteTimeout):
            c.post(server.url, content=body())
    finally:
        stop.set()
        server.close()


def test_connect_timeout() -> None:
    """A listener whose accept queue is full: the kernel drops further SYNs."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(0)
    port = listener.getsockname()[1]
    fillers = []
    for _ in range(4):  # fill the accept queue (backlog 0 holds one or two)
        s = socket.socket()
        s.setblocking(False)
        s.connect_ex(("127.0.0.1", port))
        fillers.append(s)
    time.sleep(0.1)
    try:
        with Client(timeout=Timeout(connect=0.3)) as c:
            t0 = time.monotonic()
            with pytest.raises(E.ConnectTimeout):
                c.get(f"http://127.0.0.1:{port}/")
            assert time.monotonic() - t0 < 3
    finally:
        for s in fillers:
            s.close()
        listener.close()


def test_pool_timeout(nginx: Nginx) -> None:
    limits = Limits(max_connections_per_host=1)
    with Client(limits=limits, timeout=Timeout(pool=0.2)) as c:
        held = c.get(nginx.http + "/big.bin", stream=True)  # keeps the only connection
        with pytest.raises(E.PoolTimeout) as info:
            c.get(nginx.http + "/json")
        assert isinstance(info.value, E.PoolError) and isinstance(info.value, TimeoutError)
        held.close()
        assert c.get(nginx.http + "/json").status_code == 200


def test_timeout_validation() -> None:
    with pytest.raises(ValueError):
        Timeout(-1)
    with pytest.raises(TypeError):
        Timeout(connect="5")  # type: ignore[arg-type]
    t = Timeout(5, total=30)
    assert (t.connect, t.read, t.write, t.pool, t.total) == (5, 5, 5, 5, 30)
    assert Timeout(3) == Timeout(3) and repr(Timeout(connect=1)) == "Timeout(connect=1)"
    with pytest.raises(AttributeError):
        t.read = 1  # type: ignore[misc]
    with pytest.raises(TypeError):
        Client(timeout="soon")  # type: ignore[arg-type]


# ---- connection and TLS errors ---------------------------------------------------------------------


def test_connect_error() -> None:
    url = f"http://127.0.0.1:{closed_port()}/x"
    with Client() as c, pytest.raises(E.ConnectError) as info:
        c.get(url)
    assert url in str(info.value) and "refused" in str(info.value)


def test_tls_error_plain_port(nginx: Nginx, client: Client) -> None:
    with pytest.raises(E.TLSError):
        client.get(nginx.http.replace("http://", "https://") + "/json")


def test_certificate_error(nginx: Nginx, client: Client) -> None:
    with pytest.raises(E.CertificateError) as info:
        client.get(nginx.https + "/json")
    assert nginx.https in str(info.value)


def test_tls_with_ca_and_without_verify(nginx: Nginx) -> None:
    with Client(verify=nginx.ca_file) as c:
        r = c.get(nginx.https + "/json")
        assert r.status_code == 200 and r.json()["name"] == "fasthttp"
        assert r.timings is not None and r.timings["tls"] > 0
    with Client(verify=False) as c:
        assert c.get(nginx.https + "/json").status_code == 200


def test_client_certificate(nginx: Nginx) -> None:
    with Client(verify=nginx.ca_file) as c:
        assert c.get(nginx.https + "/mtls").status_code == 403
    with Client(verify=nginx.ca_file, cert=(nginx.client_cert, nginx.client_key)) as c:
        assert c.get(nginx.https + "/mtls").text() == "mtls ok"
    with Client(verify=nginx.ca_file, cert=nginx.client_pem) as c:
        assert c.get(nginx.https + "/mtls").text() == "mtls ok"


def test_missing_ca_file() -> None:
    # Checked when the client is built, not at the first HTTPS request.
    with pytest.raises(FileNotFoundError, match="verify: CA file '/nonexistent/ca.pem'"):
        Client(verify="/nonexistent/ca.pem")


def test_invalid_urls(client: Client) -> None:
    with pytest.raises(E.InvalidURL):
        client.get("http://exa mple.com/")
    with pytest.raises(E.InvalidURL):
        client.get("http://[::1/")
    with pytest.raises(E.UnsupportedProtocol):
        client.get("ftp://127.0.0.1/")
    with pytest.raises(TypeError):
        client.get(b"http://127.0.0.1/")  # type: ignore[arg-type]


def test_library_managed_headers_refused(client: Client) -> None:
    with pytest.raises(E.InvalidRequest, match="set by the library"):
        client.get(f"http://127.0.0.1:{closed_port()}/", headers={"Content-Length": "3"})


# ---- response errors ------------------------------------------------------------------------------


def test_remote_protocol_error_garbage(client: Client) -> None:
    server = serve_once(b"SMTP ready\r\n\r\n")
    try:
        with pytest.raises(E.RemoteProtocolError) as info:
            client.get(server.url)
        assert server.url in str(info.value)
    finally:
        server.close()


def test_remote_protocol_error_closed_early(client: Client) -> None:
    server = serve_once(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nshort")
    try:
        with pytest.raises(E.RemoteProtocolError, match="closed"):
            client.get(server.url)
    finally:
        server.close()


def test_remote_protocol_error_no_response(client: Client) -> None:
    server = serve_once(b"")
    try:
        with pytest.raises(E.RemoteProtocolError):
            client.post(server.url, content=b"x")
    finally:
        server.close()


def test_reset_while_sending(client: Client) -> None:
    """The server reads a little, then resets: the peer closed early."""
    def handler(conn: socket.socket) -> None:
        read_head(conn)
        conn.recv(65536)
        conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        conn.close()  # RST while the client is still sending

    server = RawServer(handler)
    try:
        with pytest.raises(E.RemoteProtocolError, match="reset") as info:
            client.post(server.url, content=b"x" * (32 << 20))
        assert server.url in str(info.value)
    finally:
        server.close()


def test_decoding_error(nginx: Nginx, client: Client) -> None:
    with pytest.raises(E.DecodingError) as info:
        client.get(nginx.http + "/bad.gz")
    assert isinstance(info.value, E.ResponseError)
    r = client.get(nginx.http + "/bad.gz", stream=True)
    with pytest.raises(E.DecodingError):
        r.read()


def test_error_codes_map_to_classes() -> None:
    """Every FH_E code of errors.h raises a documented class."""
    codes = {
        -1: E.InvalidRequest, -3: E.InvalidURL, -4: E.InvalidRequest, -5: E.ConnectError,
        -6: E.ConnectError, -7: E.TLSError, -8: E.CertificateError,
        -9: E.RemoteProtocolError, -10: E.NetworkError, -11: E.RemoteProtocolError,
        -12: E.RemoteProtocolError, -13: E.RemoteProtocolError, -14: E.RemoteProtocolError,
        -15: E.RemoteProtocolError, -16: E.RemoteProtocolError, -17: E.DecodingError,
        -18: E.ResponseTooLarge, -19: E.ConnectTimeout, -20: E.ReadTimeout,
        -21: E.WriteTimeout, -22: E.PoolTimeout, -23: E.TotalTimeout, -27: E.RequestBodyError,
        -28: E.UnsupportedProtocol, -29: E.RemoteProtocolError,
    }
    for code in range(-36, 0):  # every code has a sentence
        assert core.strerror(code) != "unknown error"
    assert set(codes) <= set(range(-30, 0))
    assert all(issubclass(cls, E.FastHTTPError) for cls in codes.values())


def test_stream_errors(nginx: Nginx, client: Client) -> None:
    r = client.get(nginx.http + "/json", stream=True)
    r.close()
    with pytest.raises(E.StreamClosed):
        list(r.iter_bytes())
    r = client.get(nginx.http + "/json", stream=True)
    list(r.iter_text())
    with pytest.raises(E.StreamConsumed):
        r.read()


def test_http_status_error_from_server(nginx: Nginx, client: Client) -> None:
    r = client.get(nginx.http + "/status/404")
    with pytest.raises(E.HTTPStatusError) as info:
        r.raise_for_status()
    assert info.value.response is r and info.value.request is r.request
    assert r.status_code == 404 and r.text() == "not here\n"


def test_exception_pickle_free_attrs(silent: Any) -> None:
    err = E.ReadTimeout("msg", request=None, code=-20)
    assert err.message == "msg" and err.code == -20 and err.request is None
