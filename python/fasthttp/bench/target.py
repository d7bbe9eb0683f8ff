"""The embedded target: nginx on a free loopback port, from a generated
configuration in a temporary directory, stopped at the end.

Served (every location keep-alive, 1 000 000 requests per connection):

- ``/json``: a 1 KiB JSON document (1024 bytes exactly);
- ``/payload/<size>``: incompressible bytes of each size of --payload
  (``/payload/64k`` is 65 536 bytes);
- ``/upload``: for request bodies. nginx cannot echo a body natively, and a
  plain ``return 200`` answers before the body has arrived (nginx discards the
  rest afterwards), which lets a client that stops sending on an early reply look
  fast. So this location makes nginx read the whole body first: a mirror
  subrequest with ``mirror_request_body on`` waits for it (kept in a 2 MiB
  buffer, larger bodies spooled to a temporary file, on /dev/shm where there
  is one, and deleted), then the
  static handler refuses the POST and ``error_page 405 =200`` answers with the
  3-byte file ``upload-reply`` (``UPLOAD_REPLY``).

It is tuned not to be the bottleneck, as fh-bench's target is: one worker in a
single process (``master_process off``), ``access_log off``, open-file cache,
no ETag, ``sendfile off`` for the small document (head and body in one write)
and on for payloads. With ``cpu`` it is pinned to that CPU, so the client can
have another one to itself. With ``tls`` it listens with HTTPS only, with a
certificate for 127.0.0.1 and localhost from a throw-away CA (trustme, or the
openssl command line without it); ``http2`` adds HTTP/2 by ALPN.

With ``log_protocol`` (the harness turns it on with --http2) nginx logs one short
line per request, ``$server_protocol $connection``, into a 256 KiB buffer: a
client's own word on the HTTP version it used is not enough to label a row, so
:meth:`NginxTarget.take_log` tells, after each run, which protocol the server
really saw for every request of that run and over how many connections. The
cost (a buffered write per request) is the same for every client of the run.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType

JSON_SIZE = 1024
UPLOAD_REPLY = b"ok\n"  # what /upload answers: the file upload-reply
SPARSE_FROM = 256 << 20  # payloads this large are sparse files (zeros): no disk, no wait


def parse_size(text: str) -> int:
    """'1k' → 1024, '64k' → 65536, '1m' → 1048576, '1g' → 2**30, '512' → 512."""
    m = re.fullmatch(r"\s*(\d+)\s*([kKmMgG]?)[iI]?[bB]?\s*", text)
    if not m or int(m.group(1)) <= 0:
        raise ValueError(f"not a size: {text!r} (examples: 512, 1k, 64k, 1m, 1g)")
    return int(m.group(1)) * {"": 1, "k": 1 << 10, "m": 1 << 20, "g": 1 << 30}[m.group(2).lower()]


def size_label(n: int) -> str:
    for unit, mult in (("g", 1 << 30), ("m", 1 << 20), ("k", 1 << 10)):
        if n % mult == 0:
            return f"{n // mult}{unit}"
    return str(n)


def json_document(size: int = JSON_SIZE) -> bytes:
    """A JSON object of exactly `size` bytes (ends with a newline)."""
    items: list[str] = []
    i = 0
    head, tail = '{"name":"fasthttp","items":[', '],"pad":"'
    while True:
        item = (f'{{"id":{i},"label":"item-{i:05d}","score":{(i * 37) % 100}.{i % 100:02d},'
                f'"ok":{"true" if i % 3 else "false"}}}')
        if len(head) + len(",".join([*items, item])) + len(tail) + 3 > size - 40:
            break
        items.append(item)
        i += 1
    doc = head + ",".join(items) + tail
    doc += "x" * (size - len(doc) - 3) + '"}\n'
    return doc.encode()


def nginx_binary() -> str | None:
    env = os.environ.get("FH_NGINX")
    if env:
        return env if os.access(env, os.X_OK) else None
    if os.access("/usr/sbin/nginx", os.X_OK):
        return "/usr/sbin/nginx"
    return shutil.which("nginx")


def nginx_version(nginx: str) -> str:
    try:
        out = subprocess.run([nginx, "-v"], capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.SubprocessError):
        return ""
    m = re.search(r"nginx/\S+", out.stderr + out.stdout)
    return m.group(0) if m else ""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _certificate(d: str) -> tuple[str, str, str]:
    """(CA file, server certificate, server key) for 127.0.0.1 and localhost."""
    ca_file, crt, key = (os.path.join(d, n) for n in ("ca.pem", "server.pem", "server.key"))
    try:
        import trustme
    except ImportError:
        subprocess.run(
            ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
             "ec_paramgen_curve:prime256v1", "-nodes", "-days", "2", "-subj", "/CN=127.0.0.1",
             "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost", "-keyout", key, "-out", crt],
            check=True, capture_output=True,
        )
        shutil.copyfile(crt, ca_file)
        return ca_file, crt, key
    ca = trustme.CA()
    cert = ca.issue_cert("localhost", "127.0.0.1")
    ca.cert_pem.write_to_path(ca_file)
    cert.private_key_pem.write_to_path(key)
    cert.cert_chain_pems[0].write_to_path(crt)
    return ca_file, crt, key


@dataclass
class ProtocolLog:
    """What the server saw during one run: requests per protocol, connections."""

    requests: Counter[str] = field(default_factory=Counter)  # "HTTP/2.0" -> count
    connections: int = 0

    @classmethod
    def parse(cls, text: str) -> ProtocolLog:
        out, conns = cls(), set()
        for line in text.splitlines():
            proto, _, conn = line.partition(" ")
            if proto:
                out.requests[proto] += 1
                conns.add(conn)
        out.connections = len(conns)
        return out


def _die_with_parent_on(cpu: int | None) -> None:
    """In nginx's process before exec: SIGTERM when we die; pinned to `cpu`."""
    import ctypes

    pr_set_pdeathsig = 1
    ctypes.CDLL(None).prctl(pr_set_pdeathsig, signal.SIGTERM)
    if cpu is not None:
        os.sched_setaffinity(0, {cpu})


class NginxTarget:
    """nginx serving /json, /payload/<size> and /upload on 127.0.0.1."""

    def __init__(self, payloads: list[int], *, tls: bool = False, http2: bool = False,
                 cpu: int | None = None, log_protocol: bool = False) -> None:
        self.payloads = sorted(set(payloads))
        self.tls = tls or http2
        self.http2 = http2
        self.log_protocol = log_protocol
        self.cpu = cpu
        self.nginx = nginx_binary()
        self.version = nginx_version(self.nginx) if self.nginx else ""
        self.dir = ""
        self.spool = ""
        self.base = ""
        self.ca_file = ""
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def pid(self) -> int:
        return self.proc.pid if self.proc else 0

    def url(self, path: str) -> str:
        return self.base + path

    def warm(self, path: str) -> None:
        """Reads the file served at `path` (e.g. ``/payload/1g``) once, so its pages are
        in the page cache before a client asks for it: a sparse file's pages are
        zero-filled by whoever reads them first, which must not be nginx during a
        client's measured run."""
        buf = bytearray(1 << 20)
        with open(Path(self.dir, "www", path.lstrip("/")), "rb", buffering=0) as f:
            while f.readinto(buf):
                pass

    def _files(self) -> None:
        www = Path(self.dir, "www")
        (www / "payload").mkdir(parents=True)
        (www / "json").write_bytes(json_document())
        (www / "upload").write_bytes(b"")  # the static handler's 405 for POST needs a file
        (www / "upload-reply").write_bytes(UPLOAD_REPLY)
        for n in self.payloads:
            path = www / "payload" / size_label(n)
            if n >= SPARSE_FROM:  # the 1 GiB download: nothing compresses it on the way
                with open(path, "wb") as f:
                    f.truncate(n)
            else:
                path.write_bytes(os.urandom(n))
        Path(self.dir, "tmp").mkdir()

    def _config(self, port: int) -> None:
        d = self.dir
        listen = f"listen 127.0.0.1:{port} backlog=4096"
        tls = ""
        if self.tls:
            listen += " ssl" + (" http2" if self.http2 else "")
            tls = (f"    ssl_certificate {d}/server.pem;\n"
                   f"    ssl_certificate_key {d}/server.key;\n")
        log = "access_log off;"
        if self.log_protocol:
            log = (f"log_format fhproto '$server_protocol $connection';\n"
                   f"  access_log {d}/proto.log fhproto buffer=256k;")
        conf = f"""daemon off;
master_process off;
worker_processes 1;
pid {d}/nginx.pid;
error_log {d}/error.log warn;
events {{ worker_connections 4096; multi_accept on; }}
http {{
  {log}
  client_body_temp_path {self.spool};
  proxy_temp_path {d}/tmp/proxy;
  fastcgi_temp_path {d}/tmp/fastcgi;
  uwsgi_temp_path {d}/tmp/uwsgi;
  scgi_temp_path {d}/tmp/scgi;
  types {{ }}
  default_type application/octet-stream;
  keepalive_timeout 300s;
  keepalive_requests 1000000;
  tcp_nodelay on;
  etag off;
  open_file_cache max=64 inactive=600s;
  open_file_cache_valid 600s;
  server {{
    {listen};
    server_name localhost;
{tls}    root {d}/www;
    location = /json {{ default_type application/json; sendfile off; }}
    location /payload/ {{ sendfile on; }}
    client_max_body_size 0;
    location = /upload {{
      client_body_buffer_size 2m;
      mirror /read-body;
      mirror_request_body on;
      error_page 405 =200 /upload-reply;
    }}
    location = /read-body {{ internal; return 204; }}
    location = /upload-reply {{ internal; default_type text/plain; }}
  }}
}}
"""
        Path(d, "nginx.conf").write_text(conf)

    def _wait(self, port: int, timeout: float = 10.0) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc is None or self.proc.poll() is not None:
                return False
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1):
                    return True
            except OSError:
                time.sleep(0.02)
        return False

    def start(self) -> NginxTarget:
        if not self.nginx:
            raise RuntimeError("nginx not found (install nginx-light: bash scripts/install-deps.sh;"
                               " or set FH_NGINX, or pass --url)")
        self.dir = tempfile.mkdtemp(prefix="fh-pybench-")
        # Upload bodies over 2 MiB are spooled to files: in memory (tmpfs) when there is
        # one, so a 1 GiB upload measures the clients, not the disk's write-back.
        shm = "/dev/shm"
        self.spool = (tempfile.mkdtemp(prefix="fh-pybench-body-", dir=shm)
                      if os.path.isdir(shm) and os.access(shm, os.W_OK)
                      else os.path.join(self.dir, "tmp", "body"))
        os.chmod(self.dir, 0o755)
        self._files()
        if self.tls:
            self.ca_file = _certificate(self.dir)[0]
        for _ in range(5):  # a port may be taken between choosing and binding
            port = free_port()
            self._config(port)
            with open(os.path.join(self.dir, "nginx.out"), "wb") as log:
                self.proc = subprocess.Popen(
                    [self.nginx, "-p", self.dir, "-c", os.path.join(self.dir, "nginx.conf"),
                     "-e", os.path.join(self.dir, "error.log")],
                    stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                    preexec_fn=lambda: _die_with_parent_on(self.cpu),
                )
            if self._wait(port):
                self.base = f"{'https' if self.tls else 'http'}://127.0.0.1:{port}"
                return self
            self._kill()
        err = Path(self.dir, "error.log")
        text = err.read_text(errors="replace") if err.exists() else ""
        self.stop()
        raise RuntimeError(f"nginx did not start: {text.strip()[-2000:]}")

    def take_log(self, timeout: float = 5.0) -> ProtocolLog:
        """The requests logged since the last call (see log_protocol). The log is
        moved aside and nginx told to reopen it (SIGUSR1, which also flushes its
        buffer into the moved file); once the new file exists the old one is
        complete."""
        if not self.log_protocol or self.proc is None or self.proc.poll() is not None:
            return ProtocolLog()
        path = Path(self.dir, "proto.log")
        old = Path(self.dir, "proto.old.log")
        if not path.exists():
            return ProtocolLog()
        path.rename(old)
        self.proc.send_signal(signal.SIGUSR1)
        deadline = time.monotonic() + timeout
        while not path.exists():
            if time.monotonic() > deadline:
                raise RuntimeError("nginx did not reopen its log after SIGUSR1")
            time.sleep(0.005)
        text = old.read_text(errors="replace")
        old.unlink()
        return ProtocolLog.parse(text)

    def _kill(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None

    def stop(self) -> None:
        self._kill()
        if self.dir and not os.environ.get("FH_KEEP_TMP"):
            shutil.rmtree(self.dir, ignore_errors=True)
            if self.spool and not self.spool.startswith(self.dir):
                shutil.rmtree(self.spool, ignore_errors=True)
        self.dir = ""

    def __enter__(self) -> NginxTarget:
        return self.start()

    def __exit__(self, t: type[BaseException] | None, e: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()
