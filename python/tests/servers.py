"""Real servers for the tests, all on free loopback ports.

- httpbin (the PyPI app the seed README's examples talk to) under gunicorn;
- nginx over HTTP and HTTPS (a trustme CA), serving generated files;
- small raw-socket servers for faults (silent, closing, garbage, ...).

A server that cannot start raises, so the test session fails: nothing is
ever skipped because a server is missing.
"""

from __future__ import annotations

import gzip
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import brotli
import trustme
import zstandard

NGINX = os.environ.get("FH_NGINX", "/usr/sbin/nginx")
BIG_SIZE = 200 * 1024 * 1024


def _die_with_parent() -> None:
    """In the child: SIGTERM when the test process dies, even if it is killed."""
    import ctypes

    pr_set_pdeathsig = 1
    ctypes.CDLL(None).prctl(pr_set_pdeathsig, signal.SIGTERM)


def sigint_default() -> None:
    """In a child: SIGINT back to its default, so that Python installs its
    KeyboardInterrupt handler even when the test run itself was started as a
    background job, which ignores SIGINT and passes that on to children."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def _gunicorn_flags() -> list[str]:
    """Recent gunicorn opens a control socket unless told not to; the last
    release for Python 3.9 (23) has none and refuses the flag. Its settings
    are classes of gunicorn.config, so the setting's presence tells."""
    import gunicorn.config

    return ["--no-control-socket"] if hasattr(gunicorn.config, "ControlSocketDisable") else []


_GUNICORN_FLAGS = _gunicorn_flags()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_http(url: str, proc: subprocess.Popen[bytes], timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    last: Exception | None = None
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode} before answering {url}")
        try:
            with urllib.request.urlopen(url, timeout=2) as r:  # noqa: S310 (loopback)
                r.read()
                return
        except Exception as e:  # not up yet
            last = e
            time.sleep(0.1)
    raise RuntimeError(f"server did not answer {url} within {timeout}s: {last}")


def stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


class Httpbin:
    """httpbin under gunicorn (threaded workers: keep-alive, concurrency)."""

    def __init__(self) -> None:
        self.dir = tempfile.mkdtemp(prefix="fh-httpbin-")
        self.proc: subprocess.Popen[bytes] | None = None
        self.url = ""

    def start(self) -> str:
        err: Exception | None = None
        for _ in range(3):  # a port may be taken between choosing and binding
            port = free_port()
            log = open(os.path.join(self.dir, "gunicorn.log"), "wb")  # noqa: SIM115
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "gunicorn", *_GUNICORN_FLAGS,
                 "-b", f"127.0.0.1:{port}", "-w", "2", "-k", "gthread", "--threads", "16",
                 "--keep-alive", "30", "httpbin:app"],
                stdout=log, stderr=subprocess.STDOUT, preexec_fn=_die_with_parent, cwd=self.dir,
            )
            log.close()
            self.url = f"http://127.0.0.1:{port}"
            try:
                wait_http(self.url + "/get", self.proc)
                return self.url
            except RuntimeError as e:
                err = e
                stop(self.proc)
        log_text = Path(self.dir, "gunicorn.log").read_text(errors="replace")
        raise RuntimeError(f"httpbin under gunicorn did not start: {err}\n{log_text}")

    def close(self) -> None:
        if self.proc:
            stop(self.proc)
        shutil.rmtree(self.dir, ignore_errors=True)


JSON_DOC = (
    '{"name":"fasthttp","items":['
    + ",".join(f'{{"id":{i},"label":"item-{i:05d}","ok":{str(i % 3 == 0).lower()}}}'
               for i in range(1000))
    + "]}"
).encode()
TEXT_UTF16 = "Grüße, 世界\n".encode("utf-16")


class Nginx:
    """nginx in the foreground, single process, everything in a temp dir."""

    def __init__(self, ca: trustme.CA) -> None:
        self.ca = ca
        self.dir = tempfile.mkdtemp(prefix="fh-nginx-")
        self.proc: subprocess.Popen[bytes] | None = None
        self.http = self.https = ""
        self.ca_file = os.path.join(self.dir, "ca.pem")
        self.client_cert = os.path.join(self.dir, "client.crt")
        self.client_key = os.path.join(self.dir, "client.key")
        self.client_pem = os.path.join(self.dir, "client.pem")
        # Unix sockets nginx also listens on (the proxy tests' uds=)
        self.unix_http = os.path.join(self.dir, "http.sock")
        self.unix_https = os.path.join(self.dir, "https.sock")

    def _files(self) -> None:
        www = Path(self.dir, "www")
        www.mkdir()
        (www / "json").write_bytes(JSON_DOC)
        (www / "gzip.json").write_bytes(gzip.compress(JSON_DOC))
        (www / "br.json").write_bytes(brotli.compress(JSON_DOC))
        (www / "zstd.json").write_bytes(zstandard.ZstdCompressor().compress(JSON_DOC))
        (www / "bad.gz").write_bytes(b"\x1f\x8b\x08\x00 this is not gzip at all")
        (www / "utf16.txt").write_bytes(TEXT_UTF16)
        (www / "lines.txt").write_bytes(b"".join(b"line %d\r\n" % i for i in range(5000)))
        with open(www / "big.bin", "wb") as f:  # sparse: no disk, nginx reads zeros
            f.truncate(BIG_SIZE)
        for sub in ("tmp", "logs"):
            Path(self.dir, sub).mkdir()
        cert = self.ca.issue_cert("localhost", "127.0.0.1")
        cert.private_key_pem.write_to_path(os.path.join(self.dir, "server.key"))
        cert.cert_chain_pems[0].write_to_path(os.path.join(self.dir, "server.pem"))
        self.ca.cert_pem.write_to_path(self.ca_file)
        client = self.ca.issue_cert("fasthttp-client")
        client.cert_chain_pems[0].write_to_path(self.client_cert)
        client.private_key_pem.write_to_path(self.client_key)
        client.private_key_and_cert_chain_pem.write_to_path(self.client_pem)

    def _config(self, http: int, https: int) -> None:
        d = self.dir
        enc = "gzip off; types {} default_type application/json; add_header Content-Encoding"
        conf = f"""
daemon off;
master_process off;
worker_processes 1;
pid {d}/nginx.pid;
error_log {d}/logs/error.log warn;
events {{ worker_connections 1024; }}
http {{
  access_log off;
  client_body_temp_path {d}/tmp/body;
  proxy_temp_path {d}/tmp/proxy;
  fastcgi_temp_path {d}/tmp/fastcgi;
  uwsgi_temp_path {d}/tmp/uwsgi;
  scgi_temp_path {d}/tmp/scgi;
  types {{ application/json json; text/plain txt; }}
  default_type application/octet-stream;
  keepalive_timeout 65s;
  keepalive_requests 100000;
  client_max_body_size 256m;
  gzip on; gzip_types application/json; gzip_min_length 0;
  server {{
    listen 127.0.0.1:{http};
    listen 127.0.0.1:{https} ssl;
    listen unix:{d}/http.sock;
    listen unix:{d}/https.sock ssl;
    server_name localhost;
    root {d}/www;
    ssl_certificate {d}/server.pem;
    ssl_certificate_key {d}/server.key;
    ssl_client_certificate {d}/ca.pem;
    ssl_verify_client optional;
    location = /mtls {{
      default_type text/plain;
      if ($ssl_client_verify != SUCCESS) {{ return 403; }}
      return 200 "mtls ok";
    }}
    location = /json {{ gzip off; default_type application/json; }}
    location = /json-gzip {{ alias {d}/www/json; default_type application/json; }}
    location = /gzip.json {{ {enc} gzip; }}
    location = /br.json {{ {enc} br; }}
    location = /zstd.json {{ {enc} zstd; }}
    location = /bad.gz {{ {enc} gzip; }}
    location = /utf16.txt {{ gzip off; types {{}} default_type "text/plain; charset=utf-16"; }}
    location = /lines.txt {{ gzip off; }}
    location = /big.bin {{ gzip off; }}
    location = /status/404 {{ return 404 "not here\\n"; }}
    location = /status/503 {{ return 503 "busy\\n"; }}
    location = /protected {{ default_type text/plain; return 200 "cookie=$http_cookie"; }}
    location = /headers {{
      default_type text/plain;
      return 200 "via=$http_via pa=$http_proxy_authorization auth=$http_authorization host=$host";
    }}
    location /whoami/ {{ default_type text/plain; return 200 "$request_uri conn=$connection"; }}
  }}
}}
"""
        Path(d, "nginx.conf").write_text(conf)

    def start(self) -> None:
        if not os.path.exists(NGINX):
            raise RuntimeError(f"nginx not found at {NGINX} (install nginx-light)")
        self._files()
        err = ""
        for _ in range(3):
            http, https = free_port(), free_port()
            self._config(http, https)
            log = open(os.path.join(self.dir, "logs", "nginx.out"), "wb")  # noqa: SIM115
            self.proc = subprocess.Popen(
                [NGINX, "-p", self.dir, "-c", os.path.join(self.dir, "nginx.conf"),
                 "-e", os.path.join(self.dir, "logs", "error.log")],
                stdout=log, stderr=subprocess.STDOUT, preexec_fn=_die_with_parent,
            )
            log.close()
            self.http = f"http://127.0.0.1:{http}"
            self.https = f"https://127.0.0.1:{https}"
            try:
                wait_http(self.http + "/json", self.proc)
                return
            except RuntimeError as e:
                err = str(e) + Path(self.dir, "logs", "error.log").read_text(errors="replace")
                stop(self.proc)
        raise RuntimeError(f"nginx did not start: {err}")

    def close(self) -> None:
        if self.proc:
            stop(self.proc)
        shutil.rmtree(self.dir, ignore_errors=True)


class RawServer:
    """A loopback TCP server; handler(conn) runs in a thread per connection."""

    def __init__(self, handler: Callable[[socket.socket], Any], backlog: int = 16) -> None:
        self.handler = handler
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(backlog)
        self.port = int(self.sock.getsockname()[1])
        self.url = f"http://127.0.0.1:{self.port}"
        self.accepted = 0
        self.conns: list[socket.socket] = []
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        while not self.stopping.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.accepted += 1
            self.conns.append(conn)
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn: socket.socket) -> None:
        try:
            self.handler(conn)
        except OSError:
            pass

    def close(self) -> None:
        self.stopping.set()
        try:
            self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.sock.close()
        for c in self.conns:
            try:
                c.close()
            except OSError:
                pass


def read_head(conn: socket.socket) -> bytes:
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(65536)
        if not chunk:
            break
        data += chunk
    return data


class CountingServer:
    """Reads each request's body to the end (Content-Length or chunked) and
    answers JSON: the body's length and CRC-32, whether it came chunked, the
    request head, and the body itself (latin-1) when it is at most 1 MiB.
    Bodies are never kept whole, so gigabytes pass through in constant
    memory. `results` lists what each connection saw, including uploads the
    client aborted (complete=False: the connection ended mid-body).
    """

    KEEP = 1 << 20

    def __init__(self) -> None:
        self.results: list[dict[str, Any]] = []
        self.done = threading.Event()
        self.server = RawServer(self._handle)
        self.url = self.server.url

    def close(self) -> None:
        self.server.close()

    def _handle(self, conn: socket.socket) -> None:
        res: dict[str, Any] = {"length": 0, "crc32": 0, "chunked": False, "complete": False}
        kept = bytearray()

        def sink(data: bytes | bytearray | memoryview) -> None:
            res["length"] += len(data)
            res["crc32"] = zlib.crc32(data, res["crc32"])
            if len(kept) <= self.KEEP:
                kept.extend(data[: self.KEEP + 1 - len(kept)])

        try:
            buf = bytearray(read_head(conn))
            end = buf.find(b"\r\n\r\n")
            if end < 0:
                return
            head = bytes(buf[:end]).decode("latin-1")
            res["head"] = head
            del buf[: end + 4]
            fields = {}
            for line in head.split("\r\n")[1:]:
                name, _, value = line.partition(":")
                fields[name.strip().lower()] = value.strip()
            if fields.get("transfer-encoding", "").lower() == "chunked":
                res["chunked"] = True
                self._chunked(conn, buf, sink)
            else:
                self._sized(conn, buf, int(fields.get("content-length", "0")), sink)
            res["complete"] = True
        except (EOFError, OSError, ValueError) as e:
            res["error"] = repr(e)
            return
        finally:
            if len(kept) <= self.KEEP:
                res["body"] = kept.decode("latin-1")
            self.results.append(res)
            self.done.set()
        reply = json.dumps(res).encode()
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                     b"Content-Length: %d\r\nConnection: close\r\n\r\n%s" % (len(reply), reply))
        conn.close()

    @staticmethod
    def _sized(conn: socket.socket, buf: bytearray, size: int, sink: Any) -> None:
        first = bytes(buf[:size])
        sink(first)
        left = size - len(first)
        block = bytearray(1 << 20)
        view = memoryview(block)
        while left > 0:
            n = conn.recv_into(view, min(left, len(block)))
            if n == 0:
                raise EOFError(f"connection closed with {left} body bytes to go")
            sink(view[:n])
            left -= n

    @staticmethod
    def _chunked(conn: socket.socket, buf: bytearray, sink: Any) -> None:
        pos = 0

        def more() -> None:
            nonlocal pos
            data = conn.recv(1 << 20)
            if not data:
                raise EOFError("connection closed inside a chunked body")
            del buf[:pos]
            pos = 0
            buf.extend(data)

        while True:
            while (eol := buf.find(b"\r\n", pos)) < 0:
                more()
            size = int(bytes(buf[pos:eol]).split(b";")[0], 16)
            pos = eol + 2
            if size == 0:
                while buf.find(b"\r\n", pos) < 0:
                    more()
                if buf[pos:pos + 2] != b"\r\n":
                    raise ValueError("trailers are not expected")
                return
            while len(buf) - pos < size + 2:
                more()
            sink(buf[pos:pos + size])
            if buf[pos + size:pos + size + 2] != b"\r\n":
                raise ValueError("chunk data not followed by CRLF")
            pos += size + 2


# ---- HTTP/2 servers ------------------------------------------------------------------------


def wait_port(port: int, proc: subprocess.Popen[bytes], timeout: float = 30.0) -> None:
    """Until something accepts on 127.0.0.1:port (for servers no urllib can ask:
    HTTP/2 only, by prior knowledge)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode} before listening on {port}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"nothing listens on 127.0.0.1:{port} after {timeout}s")


BIG8_SIZE = 8 * 1024 * 1024


class NginxH2:
    """One nginx (foreground, single process) with five servers, each its own
    port, all serving the same files as :class:`Nginx` plus /bin/ (the local
    httpbin behind a proxy: redirects, cookies, auth, delays, echo of
    uploads over HTTP/2; /digest-auth/ goes to httpbin as it is):

    - ``h2``: HTTPS with HTTP/2 (``listen ... ssl http2``): ALPN picks h2;
    - ``h1``: HTTPS without http2: ALPN picks http/1.1 (the fallback);
    - ``plain``: cleartext HTTP/1.1 (an HTTP/1.1 origin for redirects);
    - ``streams2``: HTTPS + HTTP/2 with ``http2_max_concurrent_streams 2``;
    - ``ka10``: HTTPS + HTTP/2 with ``keepalive_requests 10``: nginx sends
      GOAWAY after every 10th request of a connection.

    /whoami/<x> answers "<uri> <server_protocol> conn=<connection number>",
    so a test sees from the server's side which protocol and connection
    carried a request.
    """

    PORTS = ("h2", "h1", "plain", "streams2", "ka10")

    def __init__(self, ca: trustme.CA, httpbin: str) -> None:
        self.ca = ca
        self.upstream = httpbin.split("://", 1)[1]
        self.dir = tempfile.mkdtemp(prefix="fh-nginx-h2-")
        self.proc: subprocess.Popen[bytes] | None = None
        self.url: dict[str, str] = {}
        self.ca_file = os.path.join(self.dir, "ca.pem")

    @property
    def h2(self) -> str:
        return self.url["h2"]

    @property
    def h1(self) -> str:
        return self.url["h1"]

    @property
    def plain(self) -> str:
        return self.url["plain"]

    def _files(self) -> None:
        www = Path(self.dir, "www")
        www.mkdir()
        (www / "json").write_bytes(JSON_DOC)
        (www / "br.json").write_bytes(brotli.compress(JSON_DOC))
        (www / "zstd.json").write_bytes(zstandard.ZstdCompressor().compress(JSON_DOC))
        (www / "gzip.json").write_bytes(gzip.compress(JSON_DOC))
        # Not sparse: a pattern, so a test can check every byte it streamed.
        block = bytes(range(256)) * 4096
        with open(www / "big8.bin", "wb") as f:
            for _ in range(BIG8_SIZE // len(block)):
                f.write(block)
        for sub in ("tmp", "logs"):
            Path(self.dir, sub).mkdir()
        cert = self.ca.issue_cert("localhost", "127.0.0.1")
        cert.private_key_pem.write_to_path(os.path.join(self.dir, "server.key"))
        cert.cert_chain_pems[0].write_to_path(os.path.join(self.dir, "server.pem"))
        self.ca.cert_pem.write_to_path(self.ca_file)

    def _config(self, ports: dict[str, int]) -> None:
        d = self.dir
        enc = "gzip off; types {} default_type application/json; add_header Content-Encoding"
        proxy = ("proxy_http_version 1.1; proxy_set_header Connection \"\"; "
                 "proxy_set_header Host $host:$server_port; proxy_buffering off; gzip off;")
        common = f"""
    server_name localhost;
    root {d}/www;
    ssl_certificate {d}/server.pem;
    ssl_certificate_key {d}/server.key;
    location = /json {{ gzip off; default_type application/json; }}
    location = /json-gzip {{ alias {d}/www/json; default_type application/json; }}
    location = /gzip.json {{ {enc} gzip; }}
    location = /br.json {{ {enc} br; }}
    location = /zstd.json {{ {enc} zstd; }}
    location = /big8.bin {{ gzip off; }}
    location /whoami/ {{
      default_type text/plain;
      return 200 "$request_uri $server_protocol conn=$connection";
    }}
    location /bin/ {{
      proxy_pass http://httpbin/;
      {proxy}
    }}
    # Digest's response covers the request target, which httpbin checks:
    # this one goes through unchanged.
    location /digest-auth/ {{
      proxy_pass http://httpbin;
      {proxy}
    }}"""
        conf = f"""
daemon off;
master_process off;
worker_processes 1;
pid {d}/nginx.pid;
error_log {d}/logs/error.log warn;
events {{ worker_connections 4096; }}
http {{
  access_log off;
  client_body_temp_path {d}/tmp/body;
  proxy_temp_path {d}/tmp/proxy;
  fastcgi_temp_path {d}/tmp/fastcgi;
  uwsgi_temp_path {d}/tmp/uwsgi;
  scgi_temp_path {d}/tmp/scgi;
  types {{ application/json json; text/plain txt; }}
  default_type application/octet-stream;
  keepalive_timeout 65s;
  client_max_body_size 64m;
  gzip on; gzip_types application/json; gzip_min_length 0;
  upstream httpbin {{ server {self.upstream}; keepalive 32; }}
  server {{
    listen 127.0.0.1:{ports["h2"]} ssl http2;
    keepalive_requests 100000;
    {common}
  }}
  server {{
    listen 127.0.0.1:{ports["h1"]} ssl;
    keepalive_requests 100000;
    {common}
  }}
  server {{
    listen 127.0.0.1:{ports["plain"]};
    keepalive_requests 100000;
    {common}
  }}
  server {{
    listen 127.0.0.1:{ports["streams2"]} ssl http2;
    http2_max_concurrent_streams 2;
    keepalive_requests 100000;
    {common}
  }}
  server {{
    listen 127.0.0.1:{ports["ka10"]} ssl http2;
    keepalive_requests 10;
    {common}
  }}
}}
"""
        Path(d, "nginx.conf").write_text(conf)

    def start(self) -> None:
        if not os.path.exists(NGINX):
            raise RuntimeError(f"nginx not found at {NGINX} (install nginx-light)")
        self._files()
        err = ""
        for _ in range(3):
            ports = {name: free_port() for name in self.PORTS}
            self._config(ports)
            log = open(os.path.join(self.dir, "logs", "nginx.out"), "wb")  # noqa: SIM115
            self.proc = subprocess.Popen(
                [NGINX, "-p", self.dir, "-c", os.path.join(self.dir, "nginx.conf"),
                 "-e", os.path.join(self.dir, "logs", "error.log")],
                stdout=log, stderr=subprocess.STDOUT, preexec_fn=_die_with_parent,
            )
            log.close()
            self.url = {name: ("http" if name == "plain" else "https") + f"://127.0.0.1:{port}"
                        for name, port in ports.items()}
            try:
                wait_http(self.plain + "/json", self.proc)
                for name in self.PORTS:
                    wait_port(ports[name], self.proc)
                return
            except RuntimeError as e:
                err = str(e) + Path(self.dir, "logs", "error.log").read_text(errors="replace")
                stop(self.proc)
        raise RuntimeError(f"nginx (HTTP/2) did not start: {err}")

    def close(self) -> None:
        if self.proc:
            stop(self.proc)
        shutil.rmtree(self.dir, ignore_errors=True)


class Nghttpd:
    """nghttpd (Debian nghttp2-server): HTTP/2 only, over TLS (ALPN h2) and
    cleartext (prior knowledge only: it refuses HTTP/1.1), serving a
    document root and echoing POST/PUT bodies (--echo-upload)."""

    def __init__(self, ca: trustme.CA) -> None:
        self.ca = ca
        self.dir = tempfile.mkdtemp(prefix="fh-nghttpd-")
        self.procs: list[subprocess.Popen[bytes]] = []
        self.tls = self.clear = ""
        self.ca_file = os.path.join(self.dir, "ca.pem")

    def _spawn(self, tls: bool) -> str:
        exe = shutil.which("nghttpd") or "/usr/sbin/nghttpd"
        if not os.path.exists(exe):
            raise RuntimeError("nghttpd not found (install nghttp2-server)")
        err = ""
        for _ in range(3):
            port = free_port()
            args = [exe, "-a", "127.0.0.1", "-d", os.path.join(self.dir, "www"),
                    "--echo-upload", str(port)]
            if tls:
                args += [os.path.join(self.dir, "server.key"),
                         os.path.join(self.dir, "server.pem")]
            else:
                args.insert(1, "--no-tls")
            log = open(os.path.join(self.dir, f"nghttpd-{port}.log"), "wb")  # noqa: SIM115
            proc = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT,
                                    preexec_fn=_die_with_parent)
            log.close()
            try:
                wait_port(port, proc)
                self.procs.append(proc)
                return f"{'https' if tls else 'http'}://127.0.0.1:{port}"
            except RuntimeError as e:
                err = str(e) + Path(self.dir, f"nghttpd-{port}.log").read_text(errors="replace")
                stop(proc)
        raise RuntimeError(f"nghttpd did not start: {err}")

    def start(self) -> None:
        www = Path(self.dir, "www")
        www.mkdir()
        (www / "json").write_bytes(JSON_DOC)
        cert = self.ca.issue_cert("localhost", "127.0.0.1")
        cert.private_key_pem.write_to_path(os.path.join(self.dir, "server.key"))
        cert.cert_chain_pems[0].write_to_path(os.path.join(self.dir, "server.pem"))
        self.ca.cert_pem.write_to_path(self.ca_file)
        self.tls = self._spawn(tls=True)
        self.clear = self._spawn(tls=False)

    def close(self) -> None:
        for proc in self.procs:
            stop(proc)
        shutil.rmtree(self.dir, ignore_errors=True)


class Hypercorn:
    """hypercorn (PyPI) serving the ASGI app of h2app.py: one process, two
    binds: HTTPS (ALPN offers h2 and http/1.1) and cleartext (HTTP/1.1, or
    HTTP/2 when the client starts with the prior-knowledge preface)."""

    def __init__(self, ca: trustme.CA) -> None:
        self.ca = ca
        self.dir = tempfile.mkdtemp(prefix="fh-hypercorn-")
        self.proc: subprocess.Popen[bytes] | None = None
        self.tls = self.clear = ""
        self.ca_file = os.path.join(self.dir, "ca.pem")

    def start(self) -> None:
        cert = self.ca.issue_cert("localhost", "127.0.0.1")
        key, pem = os.path.join(self.dir, "server.key"), os.path.join(self.dir, "server.pem")
        cert.private_key_pem.write_to_path(key)
        cert.cert_chain_pems[0].write_to_path(pem)
        self.ca.cert_pem.write_to_path(self.ca_file)
        here = os.path.dirname(os.path.abspath(__file__))
        logpath = os.path.join(self.dir, "hypercorn.log")
        err = ""
        for _ in range(3):
            tls, clear = free_port(), free_port()
            log = open(logpath, "wb")  # noqa: SIM115
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "hypercorn", "--certfile", pem, "--keyfile", key,
                 "--bind", f"127.0.0.1:{tls}", "--insecure-bind", f"127.0.0.1:{clear}",
                 "--keep-alive", "60", "h2app:app"],
                stdout=log, stderr=subprocess.STDOUT, preexec_fn=_die_with_parent, cwd=here,
            )
            log.close()
            self.tls = f"https://127.0.0.1:{tls}"
            self.clear = f"http://127.0.0.1:{clear}"
            try:
                wait_http(self.clear + "/echo", self.proc)
                wait_port(tls, self.proc)
                return
            except RuntimeError as e:
                err = str(e) + Path(logpath).read_text(errors="replace")
                stop(self.proc)
        raise RuntimeError(f"hypercorn did not start: {err}")

    def close(self) -> None:
        if self.proc:
            stop(self.proc)
        shutil.rmtree(self.dir, ignore_errors=True)
