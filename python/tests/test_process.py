"""Behaviour that needs a process of its own: Ctrl-C (SIGINT) interrupting a
blocked request, and memory staying bounded while streaming 200 MB."""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator

import pytest
from servers import BIG_SIZE, Nginx, RawServer, read_head, sigint_default

INTERRUPT = r"""
import sys
from fasthttp import Client
url, mode = sys.argv[1], sys.argv[2]
with Client() as c:
    try:
        if mode == "head":
            print("ready", flush=True)
            c.get(url)
        elif mode == "body":
            r = c.get(url, stream=True)
            print("ready", flush=True)
            r.read()
        elif mode == "upload":
            def gen():
                yield b"x"
                print("ready", flush=True)
                import time
                time.sleep(60)
                yield b"y"
            c.post(url, content=gen())
        else:  # the server stops reading: the client waits in the driver to write
            def endless():
                # "ready" once a chunk is out; the socket's buffers (about 4 MiB on
                # loopback, counted with the kernel's overhead, which depends on the
                # write sizes) fill within the test's half second, and the client then
                # waits to write. Waiting for more than they hold would never come.
                chunk = b"u" * (1 << 20)
                for i in range(1 << 20):
                    if i == 1:
                        print("ready", flush=True)
                    yield chunk
            c.post(url, content=endless())
    except KeyboardInterrupt:
        print("interrupted", flush=True)
        sys.exit(3)
print("not interrupted", flush=True)
"""


@pytest.fixture
def stalling() -> Iterator[RawServer]:
    """Reads the request head; sends a response head only for /body; stalls."""
    stop = threading.Event()

    def handler(conn: socket.socket) -> None:
        head = read_head(conn)
        if head.startswith(b"GET /body"):
            conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\npartial")
        stop.wait(30)

    server = RawServer(handler)
    yield server
    stop.set()
    server.close()


@pytest.mark.parametrize("mode", ["head", "body", "upload", "upload_stalled"])
def test_sigint_interrupts_blocked_request(stalling: RawServer, mode: str) -> None:
    proc = subprocess.Popen(
        [sys.executable, "-c", INTERRUPT, f"{stalling.url}/{mode}", mode],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, preexec_fn=sigint_default,
    )
    try:
        assert proc.stdout is not None
        assert proc.stdout.readline().strip() == b"ready"
        time.sleep(0.5)  # let it block in the engine's poll
        t0 = time.monotonic()
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=5)
        elapsed = time.monotonic() - t0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 3, (out, err)
    assert b"interrupted" in out
    assert elapsed < 2.0


MEMORY = r"""
import json, resource, sys
from fasthttp import Client

def rss_kb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss

download, upload = sys.argv[1], sys.argv[2]
size = int(sys.argv[3])
with Client() as c:
    c.get(download.replace("/big.bin", "/json")).read()  # warm up
    before = rss_kb()
    total = 0
    with c.get(download, stream=True) as r:
        for chunk in r.iter_bytes():
            total += len(chunk)
    after_download = rss_kb()

    def body():
        chunk = b"u" * 65536
        for _ in range(size // 65536):
            yield chunk
    up = c.post(upload, content=body()).json()
    after_upload = rss_kb()
print(json.dumps({"total": total, "before": before, "after_download": after_download,
                  "uploaded": up["received"], "after_upload": after_upload}))
"""


@pytest.fixture
def sink() -> Iterator[RawServer]:
    """Reads a chunked upload to the end, discarding it; answers the byte count."""
    def handler(conn: socket.socket) -> None:
        data = read_head(conn)
        received = len(data) - data.index(b"\r\n\r\n") - 4
        tail = data[-5:]
        while not tail.endswith(b"0\r\n\r\n"):
            chunk = conn.recv(1 << 20)
            if not chunk:
                return
            received += len(chunk)
            tail = (tail + chunk)[-5:]
        body = json.dumps({"received": received}).encode()
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                     b"Content-Length: %d\r\nConnection: close\r\n\r\n%s" % (len(body), body))

    server = RawServer(handler)
    yield server
    server.close()


def test_streaming_200mb_in_bounded_memory(nginx: Nginx, sink: RawServer) -> None:
    proc = subprocess.run(
        [sys.executable, "-c", MEMORY, nginx.http + "/big.bin", sink.url + "/upload",
         str(BIG_SIZE)],
        capture_output=True, timeout=300,
    )
    assert proc.returncode == 0, proc.stderr.decode()
    res = json.loads(proc.stdout)
    print("memory (KiB):", res)
    assert res["total"] == BIG_SIZE
    assert res["uploaded"] > BIG_SIZE  # payload plus chunk framing
    assert res["after_download"] - res["before"] < 32 * 1024  # KiB
    assert res["after_upload"] - res["before"] < 32 * 1024


EXIT_BUSY = r"""
import asyncio, sys, threading
import fasthttp
url = sys.argv[1]
c = fasthttp.Client()
s = c.__enter__()  # never closed
s.get(url + "/json")
held = s.get(url + "/big.bin", stream=True)  # a stream left unread

async def main():
    ac = fasthttp.Client()
    await ac.__aenter__()  # never closed either
    await ac.get(url + "/json")
    asyncio.ensure_future(ac.get(url + "/json"))  # still in flight when the loop ends
    await asyncio.sleep(0)

asyncio.run(main())

def loop():
    while True:
        s.get(url + "/json")

for _ in range(4):  # daemon threads inside requests while the interpreter finalizes
    threading.Thread(target=loop, daemon=True).start()
print("ok")
"""


def test_interpreter_exit_with_clients_busy(nginx: Nginx) -> None:
    """The interpreter exits cleanly with clients left open, a stream unread,
    an asyncio request abandoned and daemon threads blocked in requests: no
    fatal error, no hang, status 0 (a few times: the threads' state at
    finalization varies)."""
    for _ in range(5):
        proc = subprocess.run([sys.executable, "-c", EXIT_BUSY, nginx.http], capture_output=True,
                              timeout=60)
        err = proc.stderr.decode(errors="replace")
        assert proc.returncode == 0 and proc.stdout == b"ok\n", err
        assert "Fatal Python error" not in err, err
