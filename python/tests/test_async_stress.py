"""Load on the asyncio face: many concurrent requests over a bounded pool,
and random cancellation at every stage, after which no pool slot and no
file descriptor may be left behind. On stock asyncio and on uvloop."""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator
from typing import Any

from aio_util import Runner, arun, open_fds  # noqa: F401 (fixture)
from servers import Nginx

from fasthttp import Client, Limits


def test_1000_concurrent_requests_over_64_connections(nginx: Nginx, arun: Runner[Any]) -> None:
    async def main() -> None:
        limits = Limits(max_connections=64, max_connections_per_host=64)
        async with Client(limits=limits) as c:
            rs = await asyncio.gather(*(c.get(nginx.http + "/json") for _ in range(1000)))
            assert all(r.status_code == 200 for r in rs)
            assert all(len(r.content) == len(rs[0].content) > 1000 for r in rs)
            st = c.pool_stats()
            assert st["created"] <= 64 and st["open"] <= 64
            assert st["created"] + st["reused"] == 1000
            # Freed connections stay with the loop's engine for a moment (a
            # request sent by then takes one without a system call), then
            # its timer hands them to the pool.
            for _ in range(100):
                if c.pool_stats()["idle"] == st["open"]:
                    break
                await asyncio.sleep(0.005)
            st = c.pool_stats()
            assert st["waiting"] == 0 and st["idle"] == st["open"]

    arun(main())


def test_random_cancellation_of_500_requests(
    httpbin: str, nginx: Nginx, arun: Runner[Any]
) -> None:
    rng = random.Random(4)

    async def upload() -> AsyncIterator[bytes]:
        for _ in range(20):
            await asyncio.sleep(0.005)
            yield b"u" * 10000

    async def one(c: Client, i: int) -> int:
        kind = i % 5
        if kind == 0:  # the server takes its time
            r = await c.get(f"{httpbin}/delay/{rng.uniform(0, 0.3):.3f}")
        elif kind == 1:  # a streamed body read slowly
            r = await c.get(nginx.http + "/big.bin", stream=True)
            async with r:
                async for _ in r.aiter_bytes():
                    await asyncio.sleep(0.001)
        elif kind == 2:  # an upload from an async iterator
            r = await c.post(f"{httpbin}/post", content=upload())
        else:  # quick ones, mostly waiting for a connection
            r = await c.get(nginx.http + "/json")
        return r.status_code

    async def main() -> None:
        before = open_fds()
        limits = Limits(max_connections=64, max_connections_per_host=32)
        async with Client(limits=limits) as c:
            tasks = [asyncio.create_task(one(c, i)) for i in range(500)]

            async def cancel_later(t: asyncio.Task[int]) -> None:
                await asyncio.sleep(rng.uniform(0, 0.5))
                t.cancel()

            await asyncio.gather(*(cancel_later(t) for t in tasks))
            results = await asyncio.gather(*tasks, return_exceptions=True)
            cancelled = sum(isinstance(r, asyncio.CancelledError) for r in results)
            ok = sum(r == 200 for r in results)
            assert cancelled + ok == 500, [r for r in results if r != 200][:3]
            assert cancelled > 100
            st = c.pool_stats()
            assert st["waiting"] == 0 and st["idle"] == st["open"], st  # nothing checked out
            # the pool still works
            assert (await c.get(nginx.http + "/json")).status_code == 200
        assert open_fds() == before

    arun(main())
