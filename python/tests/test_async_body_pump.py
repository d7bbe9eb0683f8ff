"""Async iterator request bodies (python/src/aio_body.c): one pump task per
request hands each chunk to the engine, which sends it from the bytes object.
Checked on stock asyncio and uvloop against a raw server that verifies every
byte (length and CRC-32): chunks of every size, sent while the server does
not read yet (the socket fills and the pump waits) and while it reads at full
speed (the pump runs on without a loop turn); the iterator runs inside one
task for the whole body; other tasks keep running during a long upload;
errors and bad chunks fail the request with the iterator's exception. (A binary
file needs no pump: the engine reads it.)
"""

from __future__ import annotations

import asyncio
import socket
import time
import zlib
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
from aio_util import Runner, arun  # noqa: F401 (fixture)
from servers import CountingServer

from fasthttp import Client


class SlowStartServer(CountingServer):
    """A CountingServer that waits before it reads a request: the client's
    socket buffers fill, and the rest of the body waits for the reader."""

    def __init__(self, delay: float) -> None:
        self.delay = delay
        super().__init__()

    def _handle(self, conn: socket.socket) -> None:
        time.sleep(self.delay)
        super()._handle(conn)


@pytest.fixture()
def slow() -> Iterator[SlowStartServer]:
    server = SlowStartServer(0.3)
    yield server
    server.close()


@pytest.fixture()
def counting() -> Iterator[CountingServer]:
    server = CountingServer()
    yield server
    server.close()


# Chunk sizes from 1 byte to 300 KiB, each chunk's bytes distinct from its
# neighbours', so a chunk sent twice, lost, reordered or overwritten while it
# was still being sent changes the CRC.
SIZES = [1, 7, 4096, 65536, 300_000, 3, 131072, 8192, 250_000, 17]


def chunks(total: int) -> list[bytes]:
    out, n, i = [], 0, 0
    while n < total:
        size = min(SIZES[i % len(SIZES)], total - n)
        out.append(bytes((i * 31 + k) & 0xFF for k in range(min(size, 256))) * (size // 256)
                   + bytes([i & 0xFF]) * (size % 256))
        n += size
        i += 1
    return out


def expected(parts: list[bytes]) -> tuple[int, int]:
    crc = 0
    for p in parts:
        crc = zlib.crc32(p, crc)
    return sum(map(len, parts)), crc


async def agen(parts: list[bytes]) -> AsyncIterator[bytes]:
    """Yields a fresh copy of each part, as a file reader would: a chunk is kept
    alive only by the client, so a chunk released before it was sent would be
    freed memory (and the CRC would show it)."""
    for p in parts:
        yield bytes(memoryview(p))


@pytest.mark.parametrize("total", [5 << 20, 40 << 20])
def test_every_byte_arrives_while_the_socket_fills(slow: SlowStartServer, arun: Runner[Any],
                                                   total: int) -> None:
    parts = chunks(total)

    async def main() -> Any:
        async with Client() as c:
            return (await c.post(slow.url + "/up", content=agen(parts))).json()

    got = arun(main())
    assert got["chunked"] and got["complete"]
    assert (got["length"], got["crc32"]) == expected(parts)


def test_every_byte_arrives_at_full_speed(counting: CountingServer, arun: Runner[Any]) -> None:
    parts = chunks(24 << 20)

    async def main() -> list[Any]:
        async with Client() as c:
            # two at once on one client: two pumps, two connections
            rs = await asyncio.gather(*(c.post(counting.url + "/up", content=agen(parts))
                                        for _ in range(2)))
            return [r.json() for r in rs]

    for got in arun(main()):
        assert got["complete"] and (got["length"], got["crc32"]) == expected(parts)


def test_the_iterator_runs_in_one_task(counting: CountingServer, arun: Runner[Any]) -> None:
    """asyncio.current_task() is the same task for every chunk, and what needs a task
    (asyncio.wait_for, a cancel scope's way of cancelling) works inside the iterator."""
    tasks: list[asyncio.Task[Any] | None] = []

    async def source() -> AsyncIterator[bytes]:
        for i in range(20):
            tasks.append(asyncio.current_task())
            await asyncio.wait_for(asyncio.sleep(0), timeout=5)
            yield b"%02d" % i

    async def main() -> Any:
        async with Client() as c:
            return (await c.post(counting.url + "/up", content=source())).json()

    got = arun(main())
    assert got["body"] == "".join("%02d" % i for i in range(20))
    assert len(tasks) == 20 and tasks[0] is not None and len({id(t) for t in tasks}) == 1


def test_other_tasks_run_during_a_long_upload(counting: CountingServer, arun: Runner[Any]) -> None:
    block = b"u" * (256 << 10)

    async def source() -> AsyncIterator[bytes]:
        for _ in range(256):  # 64 MiB
            yield block

    async def main() -> tuple[int, Any]:
        ticks = 0
        stop = False

        async def ticker() -> None:
            nonlocal ticks
            while not stop:
                ticks += 1
                await asyncio.sleep(0)

        t = asyncio.ensure_future(ticker())
        async with Client() as c:
            r = await c.post(counting.url + "/up", content=source())
        stop = True
        await t
        return ticks, r.json()

    ticks, got = arun(main())
    assert got["length"] == 64 << 20
    assert ticks >= 16  # the pump yields after each MiB it feeds without waiting


def test_iterator_errors_and_bad_chunks_fail_the_request(counting: CountingServer,
                                                         arun: Runner[Any]) -> None:
    class Boom(Exception):
        pass

    async def failing() -> AsyncIterator[bytes]:
        yield b"x" * 100_000
        raise Boom("the source broke")

    async def bad() -> AsyncIterator[Any]:
        yield b"ok"
        yield 42

    async def main() -> list[BaseException]:
        out: list[BaseException] = []
        async with Client() as c:
            for src in (failing(), bad()):
                try:
                    await c.post(counting.url + "/up", content=src)
                except Exception as e:
                    out.append(e)
            # the client still works afterwards
            assert (await c.post(counting.url + "/up", content=agen([b"fine"]))).json()[
                "body"] == "fine"
        return out

    boom, bad_chunk = arun(main())
    assert isinstance(boom, Boom) and str(boom) == "the source broke"
    assert isinstance(bad_chunk, TypeError) and "must be bytes, not int" in str(bad_chunk)


def test_binary_file_is_read_by_the_engine(counting: CountingServer, arun: Runner[Any],
                                           tmp_path: Any) -> None:
    """An open(..., "rb") body needs no pump: the engine reads the file itself and
    sends it with Content-Length, from the file's position."""
    data = bytes(range(256)) * 8192  # 2 MiB
    path = tmp_path / "f.bin"
    path.write_bytes(data)

    async def main() -> Any:
        async with Client() as c:
            with open(path, "rb") as f:
                f.seek(7)
                got = (await c.post(counting.url + "/up", content=f)).json()
                assert f.tell() == 7
                return got

    got = arun(main())
    assert not got["chunked"] and "Content-Length: %d" % (len(data) - 7) in got["head"]
    assert (got["length"], got["crc32"]) == (len(data) - 7, zlib.crc32(data[7:]))
