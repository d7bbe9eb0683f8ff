"""Limits from Python (issue 10): every size limit of libfasthttp on the Client
and per request, defaults a server cannot turn into memory exhaustion (a
buffered 1 MiB gzip of 1 GiB of zeros is refused before the process grew by
256 MiB), errors that name the limit, and streaming left unlimited."""

from __future__ import annotations

import asyncio
import json
import socket
import subprocess
import sys
import zlib
from collections.abc import Iterator

import pytest
from scripted import Scripted, reply
from servers import RawServer, read_head

from fasthttp import Client, Limits, Request
from fasthttp.errors import InvalidRequest, RemoteProtocolError, ResponseTooLarge

GiB = 1 << 30
MiB = 1 << 20


@pytest.fixture(scope="session")
def bomb() -> bytes:
    """gzip of 1 GiB of zeros (about 1 MiB)."""
    c = zlib.compressobj(1, zlib.DEFLATED, 31)
    zeros = bytes(MiB)
    return b"".join([c.compress(zeros) for _ in range(1024)] + [c.flush()])


@pytest.fixture
def bomb_server(bomb: bytes) -> Iterator[RawServer]:
    head = (b"HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: %d\r\n\r\n"
            % len(bomb))

    def handler(conn: socket.socket) -> None:
        while read_head(conn):
            conn.sendall(head + bomb)

    server = RawServer(handler)
    yield server
    server.close()


def test_defaults_come_from_libfasthttp() -> None:
    d = Limits.defaults()
    sizes = [n for n in Limits.__slots__ if n not in (
        "max_connections", "max_connections_per_host", "max_keepalive_per_host",
        "keepalive_expiry")]
    assert sorted(d) == sorted(sizes)
    assert d["max_body_size"] == GiB
    assert d["max_decoded_body_size"] == 128 * MiB
    assert d["max_request_header_size"] == 64 * 1024
    assert repr(Limits()) == "Limits()"
    assert repr(Limits(max_body_size=5)) == "Limits(max_body_size=5)"
    assert Limits(max_body_size=5) == Limits(max_body_size=5) != Limits()


@pytest.mark.parametrize(("kw", "exc", "msg"), [
    ({"max_body_size": 0}, ValueError, "Limits.max_body_size must be between 1"),
    ({"max_body_size": -5}, ValueError, "Limits.max_body_size"),
    ({"max_body_size": 2**70}, ValueError, "Limits.max_body_size"),
    ({"max_body_size": True}, TypeError, "Limits.max_body_size must be an int"),
    ({"max_header_count": 1.5}, TypeError, "Limits.max_header_count"),
    ({"max_connections": 0}, ValueError, "Limits.max_connections"),
    ({"keepalive_expiry": -1}, ValueError, "Limits.keepalive_expiry"),
    ({"keepalive_expiry": "1"}, TypeError, "Limits.keepalive_expiry"),
])
def test_bad_limits(kw: dict[str, object], exc: type[Exception], msg: str) -> None:
    with pytest.raises(exc, match=msg):
        Limits(**kw)  # type: ignore[arg-type]


def test_limits_argument_types() -> None:
    with pytest.raises(TypeError, match="limits must be a fasthttp.Limits or None, not int"):
        Client(limits=5)  # type: ignore[arg-type]
    with Client() as c:
        with pytest.raises(TypeError, match="limits must be a fasthttp.Limits or None, not dict"):
            c.get("http://127.0.0.1:1/", limits={"max_body_size": 1})  # type: ignore[arg-type]
        with pytest.raises(ValueError, match="max_connections applies to the Client's pool"):
            c.get("http://127.0.0.1:1/", limits=Limits(max_connections=5))


@pytest.fixture
def twenty() -> Iterator[Scripted]:
    s = Scripted(lambda seen: reply(200, body=b"0123456789abcdefghij"))
    yield s
    s.close()


@pytest.mark.parametrize("face", ["sync", "async"])
def test_body_limit_client_and_request(twenty: Scripted, face: str) -> None:
    url = twenty.url + "/"

    async def amain() -> None:
        async with Client(limits=Limits(max_body_size=10)) as c:
            with pytest.raises(ResponseTooLarge, match=r"limit of 10 bytes \(max_body_size\)"):
                await c.get(url)
            r = await c.get(url, limits=Limits(max_body_size=20))
            assert r.content == b"0123456789abcdefghij"
            r = await c.get(url, stream=True)  # streaming is not limited
            assert await r.aread() == b"0123456789abcdefghij"

    if face == "async":
        asyncio.run(amain())
        return
    with Client(limits=Limits(max_body_size=10)) as c:
        with pytest.raises(ResponseTooLarge, match=r"limit of 10 bytes \(max_body_size\)") as e:
            c.get(url)
        assert "raise the limit or stream the response" in str(e.value)
        assert c.get(url, limits=Limits(max_body_size=20)).content == b"0123456789abcdefghij"
        with c.get(url, stream=True) as r:
            assert r.read() == b"0123456789abcdefghij"
    with Client() as c:
        with pytest.raises(ResponseTooLarge):
            c.get(url, limits=Limits(max_body_size=19))
        with pytest.raises(ResponseTooLarge):
            c.send(Request("GET", url), limits=Limits(max_body_size=19))


def test_header_limits_name_the_limit() -> None:
    many = reply(200, {f"X-{i}": "v" for i in range(5)})
    s = Scripted(lambda seen: many)
    try:
        with Client(limits=Limits(max_header_count=3)) as c:
            with pytest.raises(RemoteProtocolError, match="max_header_count"):
                c.get(s.url)
            assert c.get(s.url, limits=Limits(max_header_count=10)).status_code == 200
        with Client() as c:
            with pytest.raises(RemoteProtocolError, match="max_header_size"):
                c.get(s.url, limits=Limits(max_header_size=64))
    finally:
        s.close()


def test_request_header_limit(twenty: Scripted) -> None:
    with Client(limits=Limits(max_request_header_size=1024)) as c:
        with pytest.raises(InvalidRequest, match="max_request_header_size"):
            c.get(twenty.url, headers={"X-Big": "v" * 2000})
        assert twenty.server.accepted == 0  # nothing was sent
        r = c.get(twenty.url, headers={"X-Big": "v" * 2000},
                  limits=Limits(max_request_header_size=4096))
        assert r.status_code == 200


BOMB = r"""
import asyncio, json, resource, sys
from fasthttp import Client
from fasthttp.errors import ResponseTooLarge

url, face = sys.argv[1], sys.argv[2]
def rss_kib():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss

async def amain():
    async with Client() as c:
        try:
            await c.get(url)
        except ResponseTooLarge as e:
            return str(e)
    return "accepted"

def sync():
    with Client() as c:
        try:
            c.get(url)
        except ResponseTooLarge as e:
            return str(e)
    return "accepted"

before = rss_kib()
msg = asyncio.run(amain()) if face == "async" else sync()
print(json.dumps({"growth_kib": rss_kib() - before, "msg": msg}))
"""


@pytest.mark.parametrize("face", ["sync", "async"])
def test_buffered_gzip_bomb_refused_by_default(bomb_server: RawServer, face: str) -> None:
    proc = subprocess.run([sys.executable, "-c", BOMB, bomb_server.url + "/bomb", face],
                          capture_output=True, timeout=120)
    assert proc.returncode == 0, proc.stderr.decode()
    res = json.loads(proc.stdout)
    print("buffered gzip bomb:", res)
    assert "max_decoded_body_size" in res["msg"]
    assert res["growth_kib"] < 256 * 1024


def test_streamed_gzip_bomb_is_not_limited(bomb_server: RawServer) -> None:
    """stream=True reads all of it, in pieces, whatever the limits say."""
    total = 0
    with Client(limits=Limits(max_decoded_body_size=MiB, max_body_size=MiB)) as c:
        with c.get(bomb_server.url, stream=True) as r:
            for chunk in r.iter_bytes(chunk_size=4 * MiB):
                assert len(chunk) <= 4 * MiB
                total += len(chunk)
                if total >= 256 * MiB:
                    break
    assert total >= 256 * MiB


def test_the_tighter_limit_applies_to_decoded_bodies(bomb_server: RawServer) -> None:
    with Client(limits=Limits(max_decoded_body_size=GiB)) as c:
        with pytest.raises(ResponseTooLarge, match=r"limit of 2097152 bytes \(max_body_size\)"):
            c.get(bomb_server.url, limits=Limits(max_body_size=2 * MiB))
        with pytest.raises(ResponseTooLarge,
                           match=r"decoded response body exceeds the limit of 1048576 bytes "
                                 r"\(max_decoded_body_size\)"):
            c.get(bomb_server.url, limits=Limits(max_decoded_body_size=MiB))
