"""Real proxies for the proxy tests, each on 127.0.0.1 with its own configuration in
a temp dir (never a stock daemon config: Debian's tinyproxy.conf listens on every
interface).

- ``Tinyproxy`` (Debian ``tinyproxy``): forward mode and CONNECT, optionally with
  ``BasicAuth``;
- ``Microsocks`` (Debian ``microsocks``): SOCKS5, optionally with a user name and
  password;
- ``ProxyPy`` (PyPI ``proxy.py``): an HTTPS proxy (TLS to the proxy with a
  certificate of the session's trustme CA), optionally with Basic auth;
- ``RefusingProxy``: a scripted proxy answering every request head with a fixed
  status, or 200 and then closing the tunnel, or closing without an answer.

A proxy that cannot start raises, so the session fails: nothing is skipped.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
from pathlib import Path

import trustme
from servers import RawServer, _die_with_parent, free_port, read_head, stop, wait_port

USER, PASSWORD = "alice", "s3cr3t"


def _which(name: str) -> str:
    for d in ("/usr/bin", "/usr/sbin", "/usr/local/bin"):
        path = os.path.join(d, name)
        if os.access(path, os.X_OK):
            return path
    raise RuntimeError(f"{name} not found: run scripts/install-deps.sh")


class _Daemon:
    """A proxy process of ours, restarted on a fresh port if its port was taken."""

    scheme = "http"

    def __init__(self, auth: bool = False) -> None:
        self.auth = auth
        self.dir = tempfile.mkdtemp(prefix=f"fh-{type(self).__name__.lower()}-")
        self.proc: subprocess.Popen[bytes] | None = None
        self.port = 0

    def _argv(self, port: int) -> list[str]:
        raise NotImplementedError

    @property
    def url(self) -> str:
        """With the credentials when the proxy wants them."""
        cred = f"{USER}:{PASSWORD}@" if self.auth else ""
        return f"{self.scheme}://{cred}127.0.0.1:{self.port}"

    @property
    def bare_url(self) -> str:
        return f"{self.scheme}://127.0.0.1:{self.port}"

    def start(self) -> _Daemon:
        err = ""
        for _ in range(3):
            self.port = free_port()
            with open(os.path.join(self.dir, "out.log"), "wb") as log:
                self.proc = subprocess.Popen(
                    self._argv(self.port), stdout=log, stderr=subprocess.STDOUT,
                    preexec_fn=_die_with_parent,
                )
            try:
                wait_port(self.port, self.proc)
                return self
            except RuntimeError as e:
                err = str(e) + Path(self.dir, "out.log").read_text(errors="replace")
                stop(self.proc)
        raise RuntimeError(f"{type(self).__name__} did not start: {err}")

    def close(self) -> None:
        if self.proc:
            stop(self.proc)
        shutil.rmtree(self.dir, ignore_errors=True)


class Tinyproxy(_Daemon):
    def _argv(self, port: int) -> list[str]:
        conf = Path(self.dir, "tinyproxy.conf")
        lines = [f"Port {port}", "Listen 127.0.0.1", "Timeout 60", "MaxClients 64",
                 "LogLevel Info", f'LogFile "{self.dir}/tinyproxy.log"']
        if self.auth:
            lines.append(f"BasicAuth {USER} {PASSWORD}")
        conf.write_text("\n".join(lines) + "\n")
        return [_which("tinyproxy"), "-d", "-c", str(conf)]  # -d: in the foreground


class Microsocks(_Daemon):
    scheme = "socks5"

    def _argv(self, port: int) -> list[str]:
        argv = [_which("microsocks"), "-i", "127.0.0.1", "-p", str(port)]
        if self.auth:
            argv += ["-u", USER, "-P", PASSWORD]
        return argv


class ProxyPy(_Daemon):
    """proxy.py with --cert-file/--key-file: clients speak TLS to the proxy."""

    scheme = "https"

    def __init__(self, ca: trustme.CA, auth: bool = False) -> None:
        super().__init__(auth)
        cert = ca.issue_cert("localhost", "127.0.0.1")
        self.cert = os.path.join(self.dir, "proxy.pem")
        self.key = os.path.join(self.dir, "proxy.key")
        cert.cert_chain_pems[0].write_to_path(self.cert)
        cert.private_key_pem.write_to_path(self.key)

    def _argv(self, port: int) -> list[str]:
        argv = [sys.executable, "-m", "proxy", "--hostname", "127.0.0.1", "--port", str(port),
                "--cert-file", self.cert, "--key-file", self.key, "--num-workers", "1",
                "--num-acceptors", "1", "--log-file", os.path.join(self.dir, "proxy.log")]
        if self.auth:
            argv += ["--basic-auth", f"{USER}:{PASSWORD}"]
        return argv


class RefusingProxy(RawServer):
    """status > 0: that status to every request; 0: 200, then the tunnel closes;
    -1: closes without answering."""

    def __init__(self, status: int) -> None:
        self.status = status
        super().__init__(self._handle)

    def _handle(self, conn: socket.socket) -> None:
        read_head(conn)
        if self.status > 0:
            conn.sendall(b"HTTP/1.1 %d Scripted\r\nContent-Length: 0\r\n\r\n" % self.status)
        elif self.status == 0:
            conn.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")
        conn.close()
