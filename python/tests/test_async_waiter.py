"""What an awaited request waits on (python/src/aio_waiter.c): a Future-
compatible object whose completions wake the waiting tasks in a batch right
after the engine's poll, instead of each through loop.call_soon(). These
tests hold it to what asyncio code relies on: each task resumes in its own
context, cancellation and wait_for() behave as with a Future, the Future
protocol itself (isfuture, get_loop, callbacks, result, cancel), errors of
callbacks reach the loop's exception handler, and KeyboardInterrupt raised
by a woken task still stops the loop (the other woken tasks run later)."""

from __future__ import annotations

import asyncio
import contextvars
import socket
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import pytest
from scripted import Scripted, reply
from servers import RawServer

import fasthttp

CV: contextvars.ContextVar[str] = contextvars.ContextVar("CV", default="unset")


@pytest.fixture(scope="module")
def origin() -> Iterator[str]:
    s = Scripted(lambda seen: reply(200, {"Content-Type": "text/plain"}, seen.path.encode()))
    yield s.url
    s.close()


def _silent(conn: socket.socket) -> None:
    """Reads the request and never answers (until the client goes)."""
    try:
        while conn.recv(65536):
            pass
    except OSError:
        pass


@pytest.fixture
def silent() -> Iterator[RawServer]:
    srv = RawServer(_silent)
    yield srv
    srv.close()


def test_each_task_resumes_in_its_own_context(origin: str) -> None:
    async def main() -> None:
        async with fasthttp.Client() as c:
            async def one(i: int) -> None:
                CV.set(f"task {i}")
                for _ in range(3):
                    r = await c.get(f"{origin}/{i}")
                    assert r.text() == f"/{i}"
                    assert CV.get() == f"task {i}"

            await asyncio.gather(*(one(i) for i in range(64)))
            assert CV.get() == "unset"

    asyncio.run(main())


def test_cancel_and_wait_for(origin: str, silent: RawServer) -> None:
    async def main() -> None:
        async with fasthttp.Client() as c:
            t = asyncio.ensure_future(c.get(silent.url + "/never"))
            await asyncio.sleep(0.05)
            assert t.cancel()
            with pytest.raises(asyncio.CancelledError):
                await t
            with pytest.raises(asyncio.TimeoutError):
                await asyncio.wait_for(c.get(silent.url + "/never"), 0.1)
            assert (await asyncio.wait_for(c.get(origin + "/after"), 5)).text() == "/after"

    asyncio.run(main())


def test_future_protocol(origin: str) -> None:
    """Driven by hand, the awaitable yields the waiter: a future to asyncio."""
    async def main() -> None:
        loop = asyncio.get_running_loop()
        async with fasthttp.Client() as c:
            aw: Any = c.get(origin + "/hand")
            w = aw.send(None)
            assert asyncio.isfuture(w)
            assert w.get_loop() is loop
            assert not w.done() and not w.cancelled()
            with pytest.raises(asyncio.InvalidStateError):
                w.result()
            seen: list[Any] = []
            done = loop.create_future()

            def cb(f: Any) -> None:
                seen.append((f, CV.get()))
                done.set_result(None)

            ctx = contextvars.copy_context()
            ctx.run(CV.set, "callback context")
            w.add_done_callback(cb, context=ctx)
            assert w.remove_done_callback(lambda f: None) == 0
            await done
            assert seen == [(w, "callback context")]
            assert w.done() and w.result() is None and w.exception() is None
            assert not w.cancel()  # done: too late
            with pytest.raises(StopIteration) as stop:
                aw.send(None)
            assert stop.value.value.text() == "/hand"

            late: list[Any] = []
            w.add_done_callback(late.append)  # already done: scheduled soon
            await asyncio.sleep(0)
            assert late == [w]

            aw2: Any = c.get(origin + "/cancelled")
            w2 = aw2.send(None)
            got: list[Any] = []
            w2.add_done_callback(got.append)
            assert w2.cancel("why")
            assert w2.cancelled() and not w2.cancel()
            with pytest.raises(asyncio.CancelledError):
                w2.result()
            await asyncio.sleep(0)
            assert got == [w2]
            aw2.close()

    asyncio.run(main())


def test_callback_error_reaches_exception_handler(origin: str) -> None:
    async def main() -> list[dict[str, Any]]:
        loop = asyncio.get_running_loop()
        errors: list[dict[str, Any]] = []
        loop.set_exception_handler(lambda lp, ctx: errors.append(ctx))
        async with fasthttp.Client() as c:
            aw: Any = c.get(origin + "/x")
            w = aw.send(None)
            w.add_done_callback(lambda f: 1 / 0)
            # Other requests finish around it and their tasks go on.
            rs = await asyncio.gather(*(c.get(f"{origin}/{i}") for i in range(8)))
            assert [r.text() for r in rs] == [f"/{i}" for i in range(8)]
            while not w.done():
                await asyncio.sleep(0.01)
            await asyncio.sleep(0)
            aw.close()
        return errors

    errors = asyncio.run(main())
    assert len(errors) == 1
    assert isinstance(errors[0]["exception"], ZeroDivisionError)


INTERRUPT = r"""
import asyncio, sys
import fasthttp
origin = sys.argv[1]
finished = []

async def main():
    async with fasthttp.Client() as c:
        async def one(i):
            await c.get(f"{origin}/{i}")
            if i == 0:
                raise KeyboardInterrupt
            finished.append(i)
        await asyncio.gather(*(one(i) for i in range(8)))

try:
    asyncio.run(main())
except KeyboardInterrupt:
    print("interrupted")

async def again():
    async with fasthttp.Client() as c:
        return (await c.get(origin + "/again")).text()

print(asyncio.run(again()))
"""


def test_keyboard_interrupt_from_a_woken_task_stops_the_loop(origin: str) -> None:
    """In a process of its own: CPython 3.11 leaves its recursion counter
    off after a KeyboardInterrupt inside gather() (plain asyncio does it
    too), which breaks later imports in the test process."""
    proc = subprocess.run([sys.executable, "-c", INTERRUPT, origin], capture_output=True,
                          timeout=60)
    out = proc.stdout.decode()
    assert proc.returncode == 0, proc.stderr.decode()
    assert out.splitlines() == ["interrupted", "/again"], out + proc.stderr.decode()
