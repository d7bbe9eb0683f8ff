"""Async helpers of the C extension.

Response.aiter_text() and Response.aiter_lines() call aiter_text and
aiter_lines. They decode and split exactly like iter_text() and
iter_lines(): the response's encoding with errors="replace"; lines end at
\\n, \\r\\n or \\r. pump_body feeds an async iterator request body to the
engine (python/src/aio_body.c).
"""

from __future__ import annotations

import asyncio
import codecs
import re
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ._fasthttp import Response

_BREAK = re.compile(r"\r\n|\r|\n")

_FAIR = 1 << 20  # bytes fed without a pause before the pump lets other tasks run


async def pump_body(chunks: AsyncIterator[object], feed: Callable[[object], Awaitable[None] | None],
                    end: Callable[[], None]) -> None:
    """Runs in its own task for one request: hands each chunk of `chunks` to the
    engine. feed(chunk) returns None when the engine has sent the chunk and wants
    the next one, or something to await until it does. A request whose socket
    never fills would otherwise keep this task running to the end of the body:
    it yields to the other tasks after each MiB fed without a wait."""
    fed = 0
    async for chunk in chunks:
        wait = feed(chunk)
        if wait is not None:
            fed = 0
            await wait
        else:
            fed += len(chunk)  # type: ignore[arg-type]  # feed checked it is bytes-like
            if fed >= _FAIR:
                fed = 0
                await asyncio.sleep(0)
    end()


async def aiter_text(resp: Response, chunk_size: int | None = None) -> AsyncIterator[str]:
    decoder = codecs.getincrementaldecoder(resp.encoding)(errors="replace")
    async for chunk in resp.aiter_bytes(chunk_size):
        text = decoder.decode(chunk)
        if text:
            yield text
    text = decoder.decode(b"", True)
    if text:
        yield text


def _split(pending: str, final: bool) -> tuple[list[str], str]:
    keep = ""
    if not final and pending.endswith("\r"):
        keep, pending = "\r", pending[:-1]  # its \n may come with the next chunk
    parts = _BREAK.split(pending)
    rest = parts.pop()
    return parts, rest + keep


async def aiter_lines(resp: Response, chunk_size: int | None = None) -> AsyncIterator[str]:
    # chunk_size: the size of the pieces read; lines come out as they complete.
    pending = ""
    async for text in aiter_text(resp, chunk_size):
        lines, pending = _split(pending + text, False)
        for line in lines:
            yield line
    lines, pending = _split(pending, True)
    for line in lines:
        yield line
    if pending:
        yield pending
