"""A forked child never uses its parent's connections (docs/security.md, "Fork").

Parent and child share one Client created before the fork. They send many
requests at the same time to a server that answers with the request's path and
the server-side id of the connection it came on (a raw echo server over http,
nginx's $connection over https). Each side must get its own answers; the
child must never use the connection the parent pooled before the fork; that
connection must still be the parent's after the child exited and closed its
client (a close_notify from the child would have made nginx close it). Both
os.fork() and multiprocessing's fork start method, both faces (asyncio with
a new event loop in the child), and responses streamed across the fork.
"""

from __future__ import annotations

import asyncio
import json
import multiprocessing
import os
import select
import signal
import socket
import threading
import time
import traceback
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from aio_util import Runner, arun, run_on  # noqa: F401 (fixture)
from servers import Nginx, RawServer

import fasthttp._fasthttp as core
from fasthttp import Client
from fasthttp import errors as E

pytestmark = [
    pytest.mark.timeout(180),
    # A test process with server threads forks: fine here, the child only
    # uses fasthttp (Python 3.12 warns about fork with threads).
    pytest.mark.filterwarnings("ignore::DeprecationWarning"),
]

CHILD_TIMEOUT = 60.0


class EchoServer:
    """Keep-alive HTTP/1.1: answers "<path> conn=<id>" and records, per
    connection id, the paths it served."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.served: dict[int, list[str]] = {}
        self.server = RawServer(self._handle, backlog=128)
        self.url = self.server.url

    def _handle(self, conn: socket.socket) -> None:
        with self.lock:
            cid = len(self.served)
            self.served[cid] = []
        buf = b""
        while True:
            while b"\r\n\r\n" not in buf:
                chunk = conn.recv(65536)
                if not chunk:
                    return
                buf += chunk
            head, _, buf = buf.partition(b"\r\n\r\n")
            path = head.split(b" ", 2)[1].decode()
            with self.lock:
                self.served[cid].append(path)
            body = f"{path} conn={cid}".encode()
            conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body))

    def close(self) -> None:
        self.server.close()


@dataclass
class Target:
    base: str  # URL prefix; requests go to base + "/<side>/<n>"
    kw: dict[str, Any]  # Client arguments
    echo: EchoServer | None  # server-side records (http only)


@pytest.fixture(params=["http", "https"])
def target(request: pytest.FixtureRequest, nginx: Nginx) -> Iterator[Target]:
    if request.param == "http":
        echo = EchoServer()
        yield Target(echo.url, {}, echo)
        echo.close()
    else:
        yield Target(nginx.https + "/whoami", {"verify": nginx.ca_file}, None)


def parse(body: str) -> tuple[str, int]:
    """The path asked (without nginx's /whoami location) and the connection id."""
    path, _, conn = body.rpartition(" conn=")
    if path.startswith("/whoami/"):
        path = path[len("/whoami"):]
    return path, int(conn)


def check_answers(answers: list[tuple[str, str]]) -> tuple[list[str], set[int]]:
    """(path asked, body received) pairs: the mismatches and connection ids."""
    errors, conns = [], set()
    for path, body in answers:
        got, cid = parse(body)
        conns.add(cid)
        if got != path:
            errors.append(f"asked {path}, got the answer to {got}")
    return errors, conns


# ---- running a child --------------------------------------------------------------------------


def fork_call(fn: Callable[[], Any]) -> tuple[int, int]:
    """Runs fn() in a forked child; its JSON result (or traceback) comes back
    through a pipe. The child never returns into pytest."""
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover (the child)
        code = 1
        try:
            os.close(r)
            out = json.dumps({"ok": fn()}).encode()
            code = 0
        except BaseException:
            out = json.dumps({"error": traceback.format_exc()}).encode()
        finally:
            try:
                os.write(w, out)
            finally:
                os._exit(code)
    os.close(w)
    return pid, r


def child_result(pid: int, r: int, timeout: float = CHILD_TIMEOUT) -> Any:
    """Waits for the child (killing it after timeout) and returns fn()'s result."""
    data, deadline = b"", time.monotonic() + timeout

    def hung() -> AssertionError:
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        return AssertionError(f"the child hung (>{timeout}s); it wrote {data!r}")

    try:
        while True:  # until EOF: the child exited (or closed its end)
            left = deadline - time.monotonic()
            if left <= 0:
                raise hung()
            if select.select([r], [], [], min(left, 0.1))[0]:
                chunk = os.read(r, 65536)
                if not chunk:
                    break
                data += chunk
    finally:
        os.close(r)
    while not (done := os.waitpid(pid, os.WNOHANG))[0]:
        if time.monotonic() > deadline:
            raise hung()
        time.sleep(0.01)
    status = os.waitstatus_to_exitcode(done[1])
    res = json.loads(data or b'{"error": "no result"}')
    assert status == 0 and "error" not in res, f"child exit {status}: {res.get('error')}"
    return res["ok"]


def child_busy(r: int) -> bool:
    """True while the child has neither written its result nor exited."""
    return not select.select([r], [], [], 0)[0]


def child_requests_sync(c: Any, base: str, n: int, threads: int) -> dict[str, Any]:
    """In the child: n requests from each of several threads, then close."""
    answers: list[tuple[str, str]] = []
    failures: list[str] = []

    def work(t: int) -> None:
        for i in range(n):
            path = f"/child/{t}/{i}"
            try:
                answers.append((path, c.get(base + path).text()))
            except Exception as e:  # reported to the parent
                failures.append(f"{path}: {e!r}")

    ts = [threading.Thread(target=work, args=(t,)) for t in range(threads)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    c.close()
    errors, conns = check_answers(answers)
    return {"errors": errors + failures, "conns": sorted(conns)}


async def child_requests_async(c: Any, base: str, n: int) -> dict[str, Any]:
    """In the child, on a new event loop: n concurrent requests, then close."""

    async def one(i: int) -> tuple[str, str]:
        path = f"/child/{i}"
        return path, (await c.get(base + path)).text()

    results = await asyncio.gather(*(one(i) for i in range(n)), return_exceptions=True)
    await c.close()
    failures = [repr(r) for r in results if isinstance(r, BaseException)]
    errors, conns = check_answers([r for r in results if isinstance(r, tuple)])
    return {"errors": errors + failures, "conns": sorted(conns)}


def check_child(res: dict[str, Any], conn0: int) -> None:
    assert res["errors"] == []
    assert conn0 not in res["conns"], "the child used the parent's pooled connection"


def check_server(t: Target, conn0: int) -> None:
    if t.echo:
        with t.echo.lock:
            served = list(t.echo.served[conn0])
        assert served and all(p.startswith("/parent/") for p in served), served


# ---- os.fork() ------------------------------------------------------------------------------


def test_sync_os_fork(target: Target) -> None:
    with Client(timeout=10, **target.kw) as c:
        conn0 = parse(c.get(target.base + "/parent/first").text())[1]
        pid, r = fork_call(lambda: child_requests_sync(c, target.base, 25, 4))
        # Meanwhile the parent keeps using its pooled connection, with short
        # pauses in which the connection is idle (and looks reusable).
        i = 0
        while i < 100 or child_busy(r):
            path = f"/parent/{i}"
            assert parse(c.get(target.base + path).text()) == (path, conn0)
            i += 1
            time.sleep(0.001)
        check_child(child_result(pid, r), conn0)
        time.sleep(0.2)  # a close_notify from the child would have been acted on
        assert parse(c.get(target.base + "/parent/after").text()) == ("/parent/after", conn0)
        assert c.pool_stats()["created"] == 1
    check_server(target, conn0)


def test_async_os_fork(target: Target, arun: Runner[Any]) -> None:
    c = Client(timeout=10, **target.kw)

    async def first() -> int:
        return parse((await c.get(target.base + "/parent/first")).text())[1]

    async def parent(conn0: int, r: int) -> None:
        i = 0
        while i < 100 or child_busy(r):
            path = f"/parent/{i}"
            assert parse((await c.get(target.base + path)).text()) == (path, conn0)
            i += 1
            await asyncio.sleep(0.001)

    async def after() -> int:
        r = await c.get(target.base + "/parent/after")
        await c.close()
        return parse(r.text())[1]

    conn0 = arun(first())
    # The child runs a new event loop of the same kind (the `arun` one is closed).
    pid, r = fork_call(lambda: arun(child_requests_async(c, target.base, 100)))
    arun(parent(conn0, r))
    check_child(child_result(pid, r), conn0)
    time.sleep(0.2)
    assert arun(after()) == conn0
    check_server(target, conn0)


# ---- multiprocessing, fork start method -------------------------------------------------------


def _mp_child(fn: Callable[[], Any], q: Any) -> None:
    try:
        q.put({"ok": fn()})
    except BaseException:
        q.put({"error": traceback.format_exc()})
        raise


@pytest.mark.parametrize("face", ["sync", "async"])
def test_multiprocessing_fork(face: str, target: Target) -> None:
    ctx = multiprocessing.get_context("fork")
    q = ctx.Queue()
    c = Client(timeout=10, **target.kw)
    sync = c.__enter__() if face == "sync" else None

    def get(path: str) -> str:
        if sync is not None:
            return str(sync.get(target.base + path).text())

        async def one() -> str:
            return (await c.get(target.base + path)).text()

        return run_on("asyncio", one())

    def child() -> dict[str, Any]:
        if sync is not None:
            return child_requests_sync(sync, target.base, 20, 2)
        return run_on("asyncio", child_requests_async(c, target.base, 40))

    conn0 = parse(get("/parent/first"))[1]
    procs = [ctx.Process(target=_mp_child, args=(child, q)) for _ in range(2)]
    for p in procs:
        p.start()
    for i in range(60):
        assert parse(get(f"/parent/{i}")) == (f"/parent/{i}", conn0)
    results = [q.get(timeout=CHILD_TIMEOUT) for _ in procs]
    for p in procs:
        p.join(CHILD_TIMEOUT)
        assert p.exitcode == 0
    for res in results:
        assert "error" not in res, res["error"]
        check_child(res["ok"], conn0)
    # The two children's connections are their own, not each other's either.
    assert not set(results[0]["ok"]["conns"]) & set(results[1]["ok"]["conns"])
    time.sleep(0.2)
    assert parse(get("/parent/after")) == ("/parent/after", conn0)
    if sync is not None:
        c.__exit__(None, None, None)
    else:
        run_on("asyncio", c.close())
    check_server(target, conn0)


# ---- responses streamed across the fork -------------------------------------------------------


class SlowBody:
    """Answers /stream with its head and 5 body bytes and the other 5 once `go`
    is set; /slow entirely once `go` is set; anything else at once. `got` is
    set when a /stream or /slow request arrived."""

    def __init__(self) -> None:
        self.go = threading.Event()
        self.got = threading.Event()
        self.server = RawServer(self._handle)
        self.url = self.server.url

    def _handle(self, conn: socket.socket) -> None:
        while True:
            buf = b""
            while b"\r\n\r\n" not in buf:
                chunk = conn.recv(65536)
                if not chunk:
                    return
                buf += chunk
            if buf.startswith(b"GET /stream "):
                self.got.set()
                conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nhello")
                self.go.wait(30)
                conn.sendall(b"world")
            elif buf.startswith(b"GET /slow "):
                self.got.set()
                self.go.wait(30)
                conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nslow")
            else:
                conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nfresh")

    def close(self) -> None:
        self.go.set()
        self.server.close()


@pytest.fixture
def slow() -> Iterator[SlowBody]:
    s = SlowBody()
    yield s
    s.close()


def forked_error(e: BaseException) -> list[Any]:
    return [type(e).__name__, isinstance(e, E.RequestError), getattr(e, "code", None)]


def test_sync_stream_across_fork(slow: SlowBody) -> None:
    with Client(timeout=5) as c:
        resp = c.get(slow.url + "/stream", stream=True)

        def child() -> Any:
            try:
                resp.read()
            except Exception as e:
                err = forked_error(e)
            else:
                err = ["read the parent's body", False, None]
            return [err, c.get(slow.url + "/other").text()]

        pid, r = fork_call(child)
        err, other = child_result(pid, r)
        assert err == ["RequestError", True, core.FH_EFORKED]
        assert other == "fresh"
        slow.go.set()
        assert resp.read() == b"helloworld"
        assert c.pool_stats()["created"] == 1  # the stream's connection went back


def test_async_stream_across_fork(slow: SlowBody, arun: Runner[Any]) -> None:
    """The fork happens inside the running loop; the child reads the stream
    from a new loop: the response's exchange belongs to the inherited one."""

    async def main() -> None:
        async with Client(timeout=5) as c:
            resp = await c.get(slow.url + "/stream", stream=True)

            async def in_child() -> Any:
                try:
                    await asyncio.wait_for(resp.aread(), 5)
                except Exception as e:
                    err = forked_error(e)
                else:
                    err = ["read the parent's body", False, None]
                return [err, (await c.get(slow.url + "/other")).text()]

            pid, r = fork_call(lambda: run_on("asyncio", in_child()))
            err, other = child_result(pid, r)
            assert err == ["RequestError", True, core.FH_EFORKED]
            assert other == "fresh"
            slow.go.set()
            assert await resp.aread() == b"helloworld"

    arun(main())


def test_async_request_in_flight_across_fork(slow: SlowBody, arun: Runner[Any]) -> None:
    """A request still waiting for its response at the fork: awaited in the
    child (from a new loop) it fails with FH_EFORKED, without a byte read."""

    async def main() -> None:
        async with Client(timeout=5) as c:
            aw = c.get(slow.url + "/slow")
            task = asyncio.ensure_future(aw)
            while not slow.got.is_set():
                await asyncio.sleep(0.01)

            async def in_child() -> Any:
                try:
                    await asyncio.wait_for(aw, 5)
                except Exception as e:
                    err = forked_error(e)
                else:
                    err = ["got the parent's response", False, None]
                return [err, (await c.get(slow.url + "/other")).text()]

            pid, r = fork_call(lambda: run_on("asyncio", in_child()))
            err, other = child_result(pid, r)
            assert err == ["RequestError", True, core.FH_EFORKED]
            assert other == "fresh"
            slow.go.set()
            assert (await task).text() == "slow"

    arun(main())


def test_fork_error_code() -> None:
    assert core.FH_EFORKED == -36
    assert "forked" in core.strerror(core.FH_EFORKED)
