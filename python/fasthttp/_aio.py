"""Async text iteration over a Response, on top of the C aiter_bytes().

Response.aiter_text() and Response.aiter_lines() call these. They decode
and split exactly like iter_text() and iter_lines(): the response's
encoding with errors="replace"; lines end at \\n, \\r\\n or \\r.
"""

from __future__ import annotations

import codecs
import re
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ._fasthttp import Response

_BREAK = re.compile(r"\r\n|\r|\n")


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
