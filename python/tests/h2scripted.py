"""A scripted, misbehaving HTTP/2 server: the PyPI `h2` package's
server-side H2Connection over a loopback socket, one thread per
connection, cleartext by prior knowledge (the client is
``Client(http2=True, http1=False)``).

Each connection runs ``script(conn)`` with an :class:`H2Conn`, which reads
requests and answers them as the test says: a response, a RST_STREAM with
any code, a GOAWAY with any last-stream-id, part of a body then a dropped
socket. Every complete request is recorded in ``server.requests`` with the
number of its connection, so tests can say which attempt reached which
connection.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import h2.config
import h2.connection
import h2.events
import h2.exceptions
from servers import RawServer


@dataclass
class H2Request:
    conn: int                       # 1 for the server's first connection, ...
    stream_id: int
    method: str = ""
    path: str = ""
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""


class H2Conn:
    def __init__(self, server: H2Scripted, sock: socket.socket, number: int) -> None:
        self.server = server
        self.sock = sock
        self.number = number
        self.h2 = h2.connection.H2Connection(
            h2.config.H2Configuration(client_side=False, header_encoding="utf-8"))
        self.partial: dict[int, H2Request] = {}
        self.ready: list[H2Request] = []   # complete, not yet taken by the script
        self.closed = False
        self.h2.initiate_connection()
        self.flush()

    def flush(self) -> None:
        data = self.h2.data_to_send()
        if data:
            self.sock.sendall(data)

    def _pump(self, timeout: float) -> bool:
        """Reads once (up to timeout); False when the peer closed."""
        self.sock.settimeout(timeout)
        try:
            data = self.sock.recv(65536)
        except socket.timeout:  # noqa: UP041 (3.9: not yet TimeoutError)
            return True
        except OSError:
            data = b""
        if not data:
            self.closed = True
            return False
        try:
            events = self.h2.receive_data(data)
        except h2.exceptions.ProtocolError:
            self.closed = True
            return False
        for ev in events:
            if isinstance(ev, h2.events.RequestReceived):
                hdrs = {str(k): str(v) for k, v in ev.headers}
                self.partial[ev.stream_id] = H2Request(
                    self.number, ev.stream_id, hdrs.get(":method", ""), hdrs.get(":path", ""),
                    hdrs)
            elif isinstance(ev, h2.events.DataReceived):
                req = self.partial.get(ev.stream_id)
                if req is not None:
                    req.body += ev.data
                # The window comes back at once: bodies are small here.
                self.h2.acknowledge_received_data(ev.flow_controlled_length, ev.stream_id)
            elif isinstance(ev, h2.events.StreamEnded):
                req = self.partial.pop(ev.stream_id, None)
                if req is not None:
                    self.ready.append(req)
                    with self.server.lock:
                        self.server.requests.append(req)
            elif isinstance(ev, h2.events.StreamReset):
                self.partial.pop(ev.stream_id, None)
        self.flush()
        return True

    def wait_requests(self, n: int, timeout: float = 5.0) -> list[H2Request]:
        """The next n complete requests of this connection (fewer if the
        peer closed or the time ran out: the test's asserts then fail)."""
        deadline = time.monotonic() + timeout
        while len(self.ready) < n and not self.closed:
            left = deadline - time.monotonic()
            if left <= 0:
                break
            self._pump(min(left, 0.2))
        taken, self.ready = self.ready[:n], self.ready[n:]
        return taken

    def respond(self, req: H2Request, status: int = 200, body: bytes = b"",
                headers: list[tuple[str, str]] | None = None) -> None:
        hdrs = [(":status", str(status)), ("content-length", str(len(body)))]
        self.h2.send_headers(req.stream_id, hdrs + list(headers or []),
                             end_stream=not body)
        if body:
            self.h2.send_data(req.stream_id, body, end_stream=True)
        self.flush()

    def echo(self, req: H2Request) -> None:
        """200 with "<method> <path> <body>" (bodies here are small)."""
        self.respond(req, 200, f"{req.method} {req.path} ".encode() + req.body)

    def reset(self, req: H2Request, code: int) -> None:
        self.h2.reset_stream(req.stream_id, error_code=code)
        self.flush()

    def goaway(self, last_stream_id: int, code: int = 0) -> None:
        self.h2.close_connection(error_code=code, last_stream_id=last_stream_id)
        self.flush()

    def head_and_part(self, req: H2Request, part: bytes, length: int) -> None:
        """The head (announcing length bytes) and the first part of the body."""
        self.h2.send_headers(req.stream_id, [(":status", "200"),
                                             ("content-length", str(length))])
        self.h2.send_data(req.stream_id, part)
        self.flush()

    def serve(self, timeout: float = 10.0) -> None:
        """Echoes every request until the peer closes (or timeout)."""
        deadline = time.monotonic() + timeout
        while not self.closed and time.monotonic() < deadline:
            for req in self.wait_requests(1, timeout=0.5):
                self.echo(req)

    def drain(self, timeout: float = 10.0) -> None:
        """Reads (and answers only the protocol: PING, SETTINGS) until the
        peer closes, so a close by the server never resets unread bytes."""
        deadline = time.monotonic() + timeout
        while not self.closed and time.monotonic() < deadline:
            self._pump(0.2)

    def drop(self) -> None:
        self.closed = True
        try:
            self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.sock.close()


class H2Scripted:
    def __init__(self, script: Callable[[H2Conn], None]) -> None:
        self.script = script
        self.requests: list[H2Request] = []
        self.errors: list[BaseException] = []
        self.lock = threading.Lock()
        self.count = 0
        self.server = RawServer(self._handle)
        self.url = f"http://127.0.0.1:{self.server.port}"

    @property
    def accepted(self) -> int:
        return self.server.accepted

    def _handle(self, sock: socket.socket) -> None:
        with self.lock:
            self.count += 1
            number = self.count
        try:
            conn = H2Conn(self, sock, number)
            self.script(conn)
        except OSError:
            pass
        except BaseException as e:  # a broken script must fail the test, not vanish
            self.errors.append(e)
        finally:
            try:
                sock.close()
            except OSError:
                pass

    def close(self) -> None:
        self.server.close()
        if self.errors:
            raise self.errors[0]
