"""1 GiB multipart uploads stream in bounded memory: from a path (a sparse
file), from a sync iterator and from an async iterator (asyncio client), each
in a fresh process so that the peak
resident memory (ru_maxrss) of earlier tests cannot hide growth. The
counting server checks every byte by length and CRC-32.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from servers import CountingServer

GIB = 1 << 30
LIMIT_KIB = 32 * 1024
PATTERN = bytes(range(256)) * 256  # 64 KiB

UPLOAD = r"""
import json, resource, sys
from pathlib import Path
from fasthttp import Client

url, mode, arg, small = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4]
CT = {"Content-Type": "multipart/form-data; boundary=BIG"}
PATTERN = bytes(range(256)) * 256

def rss_kib():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss

def upload(c, arg):
    if mode == "path":
        return c.post(url, files={"file": Path(arg)}, headers=CT).json()
    def gen():
        for _ in range(int(arg) // len(PATTERN)):
            yield PATTERN
    return c.post(url, files={"file": ("big.bin", gen())}, headers=CT).json()

async def aupload(c, n):
    async def agen():
        for _ in range(int(n) // len(PATTERN)):
            yield PATTERN
    r = await c.post(url, files={"file": ("big.bin", agen())}, headers=CT)
    return r.json()

async def amain():
    async with Client() as c:
        await aupload(c, small)
        before = rss_kib()
        result = await aupload(c, arg)
        return before, rss_kib(), result

if mode == "aiter":
    import asyncio
    before, after, result = asyncio.run(amain())
else:
    with Client() as c:
        upload(c, small)  # warm up the same path through the code
        before = rss_kib()
        result = upload(c, arg)
        after = rss_kib()
print(json.dumps({"before": before, "after": after, "result": result}))
"""


@pytest.fixture
def counting() -> Iterator[CountingServer]:
    server = CountingServer()
    yield server
    server.close()


def expected(filename: str, size: int, block: bytes) -> tuple[int, int]:
    head = (f'--BIG\r\nContent-Disposition: form-data; name="file"; filename="{filename}"\r\n'
            "Content-Type: application/octet-stream\r\n\r\n").encode()
    tail = b"\r\n--BIG--\r\n"
    crc = zlib.crc32(head)
    for _ in range(size // len(block)):
        crc = zlib.crc32(block, crc)
    return len(head) + size + len(tail), zlib.crc32(tail, crc)


def run(counting: CountingServer, mode: str, arg: str, small: str) -> dict[str, Any]:
    proc = subprocess.run(
        [sys.executable, "-c", UPLOAD, counting.url + "/upload", mode, arg, small],
        capture_output=True, timeout=280,
    )
    assert proc.returncode == 0, proc.stderr.decode()
    out: dict[str, Any] = json.loads(proc.stdout)
    print("peak RSS (KiB) before/after:", out["before"], out["after"])
    return out


def test_1gib_upload_from_sparse_path(counting: CountingServer, tmp_path: Path) -> None:
    big, small = tmp_path / "big.bin", tmp_path / "small.bin"
    with open(big, "wb") as f:
        f.truncate(GIB)  # sparse: no disk, reads give zeros
    small.write_bytes(b"s" * 100000)
    out = run(counting, "path", str(big), str(small))
    res = out["result"]
    length, crc = expected("big.bin", GIB, bytes(1 << 20))
    assert res["complete"] and not res["chunked"]
    assert f"Content-Length: {length}" in res["head"]
    assert (res["length"], res["crc32"]) == (length, crc)
    assert out["after"] - out["before"] < LIMIT_KIB


def test_1gib_upload_from_sync_iterator(counting: CountingServer) -> None:
    out = run(counting, "iter", str(GIB), str(len(PATTERN) * 4))
    res = out["result"]
    length, crc = expected("big.bin", GIB, PATTERN)
    assert res["complete"] and res["chunked"]
    assert (res["length"], res["crc32"]) == (length, crc)
    assert out["after"] - out["before"] < LIMIT_KIB


def test_1gib_upload_from_async_iterator(counting: CountingServer) -> None:
    out = run(counting, "aiter", str(GIB), str(len(PATTERN) * 4))
    res = out["result"]
    length, crc = expected("big.bin", GIB, PATTERN)
    assert res["complete"] and res["chunked"]
    assert (res["length"], res["crc32"]) == (length, crc)
    assert out["after"] - out["before"] < LIMIT_KIB


def test_sparse_file_is_sparse(tmp_path: Path) -> None:
    """The premise of the path test: the 1 GiB file takes no disk blocks."""
    p = tmp_path / "sparse"
    with open(p, "wb") as f:
        f.truncate(GIB)
    assert os.stat(p).st_size == GIB
    assert os.stat(p).st_blocks * 512 < 1 << 20
