"""The target of the streamed-upload cell: a small HTTP/1.1 server that reads
request bodies and throws them away, in a process of its own on 127.0.0.1.

Why not nginx: nginx keeps a body larger than its buffer in a temporary file,
and for a 1 GiB upload that file (on tmpfs, so no disk is involved) costs nginx
more than the client: measured here, nginx spent 0.7 to 3.2 s of CPU on the
same 1 GiB, at 100 % of its core in every run, while the clients spent 0.3 to
0.7 s. The cell then ranked the page allocator, not the clients. This server
keeps nothing: it receives into one reused 1 MiB buffer and counts, at
2-4 GB/s on one core.

What it checks, so that a client cannot look fast by losing bytes: the body
is framed by Content-Length or chunked (RFC 9112 §6.3, §7.1), and when the
request target carries ``?expect=N`` the body must be exactly N bytes long;
otherwise the answer is 400. The reply (``200``, body ``ok\\n``, the same as
nginx's ``/upload``) is sent only after the whole body has been read, so a
client that stops sending early gets no answer. ``Expect: 100-continue`` is
answered with ``100 Continue`` first (RFC 9110 §10.1.1). Connections are
kept alive; one thread per connection.

Run: ``python -m fasthttp.bench.sink`` prints the port it listens on, then
serves until its stdin closes or it is killed (BodySink does both, and pins it
to a CPU as nginx is pinned).
"""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import threading
from types import TracebackType

from .target import UPLOAD_REPLY

HEAD_MAX = 64 * 1024  # a request head (or a chunk-size line) longer than this is refused
RECV = 1 << 20  # the reused receive buffer
LINE_READ = 64 * 1024  # what is read while a line is looked for (the rest goes to RECV)


class BadRequest(Exception):
    pass


class _Conn:
    def __init__(self, s: socket.socket) -> None:
        self.s = s
        self.buf = bytearray()  # received, not yet parsed (heads and chunk-size lines)
        self.scratch = bytearray(RECV)
        self.view = memoryview(self.scratch)

    def _fill(self) -> None:
        n = self.s.recv_into(self.scratch, LINE_READ)
        if n == 0:
            raise EOFError
        self.buf += self.view[:n]

    def line_block(self, end: bytes) -> bytes:
        """Everything up to `end` (consumed with it)."""
        start = 0
        while True:
            i = self.buf.find(end, start)
            if i >= 0:
                out = bytes(self.buf[:i])
                del self.buf[:i + len(end)]
                return out
            if len(self.buf) > HEAD_MAX:
                raise BadRequest("request head or chunk-size line too long")
            start = max(0, len(self.buf) - len(end) + 1)
            self._fill()

    def skip(self, n: int) -> None:
        """Discards the next n bytes: first the buffered ones, then straight from the socket."""
        take = min(n, len(self.buf))
        del self.buf[:take]
        n -= take
        while n > 0:
            k = self.s.recv_into(self.scratch, min(n, RECV))
            if k == 0:
                raise EOFError
            n -= k


def _head(c: _Conn) -> tuple[str, dict[str, str]]:
    raw = c.line_block(b"\r\n\r\n").decode("latin-1")
    lines = raw.split("\r\n")
    parts = lines[0].split(" ")
    if len(parts) != 3 or not parts[2].startswith("HTTP/1."):
        raise BadRequest(f"bad request line {lines[0][:100]!r}")
    fields: dict[str, str] = {}
    for line in lines[1:]:
        name, colon, value = line.partition(":")
        if not colon or not name or name != name.strip():
            raise BadRequest(f"bad header line {line[:100]!r}")
        key = name.lower()
        if key in fields and key in ("content-length", "transfer-encoding"):
            raise BadRequest(f"repeated {name}")
        fields[key] = value.strip()
    return parts[1], fields


def _chunked(c: _Conn) -> int:
    """Reads a chunked body (RFC 9112 §7.1); returns its length."""
    total = 0
    while True:
        size_line = c.line_block(b"\r\n").split(b";", 1)[0].strip()
        try:
            size = int(size_line, 16)
        except ValueError:
            raise BadRequest(f"bad chunk size {size_line[:40]!r}") from None
        if size == 0:
            while c.line_block(b"\r\n"):  # trailer fields up to the empty line
                pass
            return total
        c.skip(size)
        if c.line_block(b"\r\n"):
            raise BadRequest("chunk data not followed by CRLF")
        total += size


def _body(c: _Conn, fields: dict[str, str]) -> int:
    te = fields.get("transfer-encoding", "").lower()
    if te:
        if te != "chunked" or "content-length" in fields:
            raise BadRequest(f"unsupported framing: Transfer-Encoding {te!r}")
        return _chunked(c)
    cl = fields.get("content-length", "0")
    if not cl.isdigit():
        raise BadRequest(f"bad Content-Length {cl[:40]!r}")
    c.skip(int(cl))
    return int(cl)


def _expected(target: str) -> int:
    _, _, query = target.partition("?")
    for pair in query.split("&"):
        name, _, value = pair.partition("=")
        if name == "expect" and value.isdigit():
            return int(value)
    return -1


def _reply(s: socket.socket, status: str, body: bytes, close: bool = False) -> None:
    s.sendall(f"HTTP/1.1 {status}\r\nContent-Type: text/plain\r\nContent-Length: {len(body)}\r\n"
              f"{'Connection: close' + chr(13) + chr(10) if close else ''}\r\n".encode() + body)


def serve_connection(s: socket.socket) -> None:
    """Answers the requests of one connection until the client closes it."""
    c = _Conn(s)
    try:
        while True:
            target, fields = _head(c)
            if fields.get("expect", "").lower() == "100-continue":
                s.sendall(b"HTTP/1.1 100 Continue\r\n\r\n")
            got, want = _body(c, fields), _expected(target)
            if want >= 0 and got != want:
                _reply(s, "400 Bad Request", f"got {got} bytes, expected {want}\n".encode())
            else:
                _reply(s, "200 OK", UPLOAD_REPLY)
            if fields.get("connection", "").lower() == "close":
                return
    except BadRequest as e:
        try:
            _reply(s, "400 Bad Request", f"{e}\n".encode(), close=True)
        except OSError:
            pass
    except (EOFError, OSError):
        pass
    finally:
        s.close()


def serve(ls: socket.socket) -> None:
    while True:
        s, _ = ls.accept()
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        threading.Thread(target=serve_connection, args=(s,), daemon=True).start()


class BodySink:
    """The sink in a child process (pinned to `cpu`), stopped with stop()."""

    def __init__(self, cpu: int | None = None) -> None:
        self.cpu = cpu
        self.proc: subprocess.Popen[bytes] | None = None
        self.base = ""

    @property
    def pid(self) -> int:
        return self.proc.pid if self.proc else 0

    def url(self, path: str) -> str:
        return self.base + path

    def start(self) -> BodySink:
        from .target import _die_with_parent_on

        argv = [sys.executable, "-m", "fasthttp.bench.sink"]
        self.proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     preexec_fn=lambda: _die_with_parent_on(self.cpu))
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline().decode().strip()
        if not line.isdigit():
            self.stop()
            raise RuntimeError(f"the upload sink did not start (said {line!r})")
        self.base = f"http://127.0.0.1:{line}"
        return self

    def stop(self) -> None:
        if self.proc is not None:
            if self.proc.stdin:
                self.proc.stdin.close()
            self.proc.kill()
            self.proc.wait()
            if self.proc.stdout:
                self.proc.stdout.close()
            self.proc = None

    def __enter__(self) -> BodySink:
        return self.start()

    def __exit__(self, t: type[BaseException] | None, e: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m fasthttp.bench.sink", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.parse_args(argv)
    ls = socket.socket()
    ls.bind(("127.0.0.1", 0))
    ls.listen(128)
    print(ls.getsockname()[1], flush=True)
    threading.Thread(target=serve, args=(ls,), daemon=True).start()
    try:
        sys.stdin.buffer.read()  # returns when the parent closes our stdin (or dies)
    except KeyboardInterrupt:
        pass
    os._exit(0)


if __name__ == "__main__":
    sys.exit(main())
