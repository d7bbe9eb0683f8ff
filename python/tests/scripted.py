"""A scripted HTTP/1.1 server for the policy tests: its answers come from a
function of the request, and it records every request it reads (method,
target, headers, body), so tests can check what reached which origin.

``Scripted(respond)`` listens on 127.0.0.1 (a free port). ``url`` is
``http://127.0.0.1:PORT``; ``url_as("localhost")`` names the same server
under another host name, which is another origin for the client.
``respond(seen)`` returns the response bytes (see :func:`reply`), or None to
close the connection without answering.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass, field

from servers import RawServer


@dataclass
class Seen:
    method: str
    target: str
    headers: dict[str, str] = field(default_factory=dict)  # lower-case names
    body: bytes = b""
    raw: bytes = b""  # the request head as it came off the wire, CRLFs included

    @property
    def path(self) -> str:
        return self.target.split("?", 1)[0]


def reply(status: int = 200, headers: list[tuple[str, str]] | dict[str, str] | None = None,
          body: bytes = b"", reason: str = "X") -> bytes:
    items = list(headers.items()) if isinstance(headers, dict) else list(headers or [])
    items.append(("Content-Length", str(len(body))))
    head = f"HTTP/1.1 {status} {reason}\r\n" + "".join(f"{k}: {v}\r\n" for k, v in items)
    return head.encode("latin-1") + b"\r\n" + body


def _read_exact(conn: socket.socket, buf: bytes, n: int) -> tuple[bytes, bytes]:
    while len(buf) < n:
        chunk = conn.recv(65536)
        if not chunk:
            raise ConnectionError("closed")
        buf += chunk
    return buf[:n], buf[n:]


def _read_line(conn: socket.socket, buf: bytes) -> tuple[bytes, bytes]:
    while b"\r\n" not in buf:
        chunk = conn.recv(65536)
        if not chunk:
            raise ConnectionError("closed")
        buf += chunk
    line, rest = buf.split(b"\r\n", 1)
    return line, rest


class Scripted:
    def __init__(self, respond: Callable[[Seen], bytes | None]) -> None:
        self.respond = respond
        self.requests: list[Seen] = []
        self.lock = threading.Lock()
        self.server = RawServer(self._handle)
        self.port = self.server.port
        self.url = f"http://127.0.0.1:{self.port}"

    def url_as(self, host: str) -> str:
        return f"http://{host}:{self.port}"

    @property
    def origin(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _handle(self, conn: socket.socket) -> None:
        buf = b""
        try:
            while True:
                while b"\r\n\r\n" not in buf:
                    chunk = conn.recv(65536)
                    if not chunk:
                        return
                    buf += chunk
                head, buf = buf.split(b"\r\n\r\n", 1)
                lines = head.decode("latin-1").split("\r\n")
                method, target, _ = lines[0].split(" ", 2)
                headers: dict[str, str] = {}
                for line in lines[1:]:
                    name, _, value = line.partition(":")
                    key = name.strip().lower()
                    value = value.strip()
                    headers[key] = f"{headers[key]}, {value}" if key in headers else value
                body = b""
                if headers.get("transfer-encoding", "").lower() == "chunked":
                    while True:
                        size_line, buf = _read_line(conn, buf)
                        size = int(size_line.split(b";")[0], 16)
                        data, buf = _read_exact(conn, buf, size + 2)
                        body += data[:size]
                        if size == 0:
                            break
                elif "content-length" in headers:
                    body, buf = _read_exact(conn, buf, int(headers["content-length"]))
                seen = Seen(method, target, headers, body, head + b"\r\n\r\n")
                with self.lock:
                    self.requests.append(seen)
                out = self.respond(seen)
                if out is None:
                    conn.close()
                    return
                conn.sendall(out)
        except (ConnectionError, OSError):
            return

    def close(self) -> None:
        self.server.close()
