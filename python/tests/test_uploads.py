"""Request bodies: multipart uploads (files=, MultipartEncoder), JSON and
forms, against the local httpbin (which parses and echoes them) and a
counting raw-socket server (which reports the exact bytes received).

The seed README's two upload examples are here in synchronous form; their
async originals need the asyncio face (see the note at the end).
"""

from __future__ import annotations

import asyncio
import base64
import io
import json
import os
import zlib
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
from servers import CountingServer

from fasthttp import Client, Request
from fasthttp import errors as E
from fasthttp.formdata import MultipartEncoder, MultipartStream


@pytest.fixture
def counting() -> Iterator[CountingServer]:
    server = CountingServer()
    yield server
    server.close()


def data_url(content: bytes, ctype: str) -> str:
    """How httpbin echoes a file that is not UTF-8."""
    return f"data:{ctype};base64," + base64.b64encode(content).decode()


def part(name: str, content: bytes, filename: str | None = None,
         ctype: str | None = None, boundary: str = "B") -> bytes:
    head = f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"'
    if filename is not None:
        head += f'; filename="{filename}"'
    head += "\r\n"
    if ctype:
        head += f"Content-Type: {ctype}\r\n"
    return head.encode() + b"\r\n" + content + b"\r\n"


def received(r: Any) -> dict[str, Any]:
    res: dict[str, Any] = r.json()
    assert res["complete"], res
    return res


def body_of(res: dict[str, Any]) -> bytes:
    body: bytes = res["body"].encode("latin-1")
    assert len(body) == res["length"]
    return body


JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + bytes(range(256)) * 40 + b"\xff\xd9"


# ---- the seed's examples (sync form) --------------------------------------------------------


def test_seed_files_example(api: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    Path("photo.jpg").write_bytes(JPEG)

    with Client(base_url=api) as client:
        files = {
            "avatar": ("photo.jpg", open("photo.jpg", "rb")),  # noqa: SIM115
            "metadata": ("meta.json", b'{"public": true}', "application/json"),
        }
        data = {"user_id": "123"}
        resp = client.post("/upload", data=data, files=files)
        resp.raise_for_status()
    files["avatar"][1].close()

    echo = resp.json()
    assert echo["url"] == f"{api}/upload"
    assert echo["form"] == {"user_id": "123"}
    assert echo["files"] == {"avatar": data_url(JPEG, "image/jpeg"),
                             "metadata": '{"public": true}'}
    ctype = echo["headers"]["Content-Type"]
    assert ctype.startswith("multipart/form-data; boundary=")
    # Every size is known (bytes, an open regular file): Content-Length, exact.
    boundary = ctype.split("=", 1)[1]
    want = (part("user_id", b"123", boundary=boundary)
            + part("avatar", JPEG, "photo.jpg", "image/jpeg", boundary)
            + part("metadata", b'{"public": true}', "meta.json", "application/json", boundary)
            + f"--{boundary}--\r\n".encode())
    assert echo["headers"]["Content-Length"] == str(len(want))
    assert "Transfer-Encoding" not in echo["headers"]


def test_seed_multipart_encoder_example(api: str, tmp_path: Path,
                                        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    payload = os.urandom(3 * 1024 * 1024 + 17)
    Path("large.bin").write_bytes(payload)

    with Client(base_url=api) as client:
        from fasthttp.formdata import MultipartEncoder

        encoder = MultipartEncoder(
            fields={"description": "Sample upload"},
            files={"file": ("large.bin", open("large.bin", "rb"), "application/octet-stream")},  # noqa: SIM115
        )

        resp = client.post("/upload", content=encoder.iter_bytes(), headers={
            "Content-Type": encoder.content_type,
        })
        resp.raise_for_status()

    echo = resp.json()
    assert echo["form"] == {"description": "Sample upload"}
    assert echo["files"] == {"file": data_url(payload, "application/octet-stream")}
    assert echo["headers"]["Content-Type"] == encoder.content_type
    assert echo["headers"]["Content-Length"] == str(encoder.content_length)


# ---- what httpbin parses back ----------------------------------------------------------------


def test_every_content_kind(api: str, client: Client, tmp_path: Path) -> None:
    path = tmp_path / "report.csv"
    path.write_bytes(b"a,b\n1,2\n")
    binary = os.urandom(70000)

    def gen() -> Iterator[bytes]:
        yield b"chunk-1;"
        yield b""
        yield bytearray(b"chunk-2;")
        yield memoryview(b"chunk-3")

    files = [
        ("bytes", ("b.bin", binary)),
        ("text", ("t.txt", "héllo wörld")),
        ("path", ("report.csv", path)),
        ("bare_path", path),
        ("fileobj", ("f.json", io.BytesIO(b'{"k": [1, 2]}'))),
        ("iterator", ("gen.txt", gen(), "text/x-custom")),
        ("no_type", ("n.unknownext", b"xyz")),
    ]
    r = client.post(api, data={"user": "ü", "n": 5, "flag": True, "skip": None,
                               "multi": ["x", "y"]}, files=files)
    echo = r.json()
    assert echo["files"] == {
        "bytes": data_url(binary, "application/octet-stream"),
        "text": "héllo wörld",
        "path": "a,b\n1,2\n",
        "bare_path": "a,b\n1,2\n",
        "fileobj": '{"k": [1, 2]}',
        "iterator": "chunk-1;chunk-2;chunk-3",
        "no_type": "xyz",
    }
    assert echo["form"] == {"user": "ü", "n": "5", "flag": "true", "multi": ["x", "y"]}
    # The iterator's size is unknown: chunked.
    assert echo["headers"]["Transfer-Encoding"] == "chunked"
    assert isinstance(r.request.stream, MultipartStream)


def test_escaped_names_parse_back(api: str, client: Client) -> None:
    r = client.post(api, data={'quo"te': "1", "line\r\nbreak": "2", "café": "3"},
                    files={'fi"le': ('na"me\r\n.txt', b"content")})
    echo = r.json()
    # Werkzeug turns the browsers' %22 back into a quote; CR/LF stay escaped.
    assert echo["form"] == {'quo"te': "1", "line%0D%0Abreak": "2", "café": "3"}
    assert echo["files"] == {'fi"le': "content"}
    assert "Injected" not in json.dumps(echo["headers"])


def test_json_and_form_bodies_byte_for_byte(api: str, client: Client,
                                            counting: CountingServer) -> None:
    doc = {"name": "fasthttp", "unicode": "Grüße ✓", "n": [1, 2.5, None, True]}
    wire = json.dumps(doc, separators=(",", ":"), ensure_ascii=False).encode()
    res = received(client.post(counting.url, json=doc))
    assert body_of(res) == wire
    assert "Content-Type: application/json" in res["head"]
    assert f"Content-Length: {len(wire)}" in res["head"]
    echo = client.post(api, json=doc).json()
    assert echo["data"] == wire.decode() and echo["json"] == doc

    res = received(client.post(counting.url, data={"a b": "c&d", "multi": [1, 2]}))
    assert body_of(res) == b"a+b=c%26d&multi=1&multi=2"
    assert "Content-Type: application/x-www-form-urlencoded" in res["head"]


# ---- exact bytes on the wire ------------------------------------------------------------------


def test_exact_multipart_bytes_and_content_length(client: Client,
                                                  counting: CountingServer) -> None:
    enc = MultipartEncoder(
        fields=[("a", "1"), ("a", b"2")],
        files={"f": ("x.json", b"{}"), "g": (None, b"raw", "text/csv")},
        boundary="B",
    )
    want = (part("a", b"1") + part("a", b"2") + part("f", b"{}", "x.json", "application/json")
            + part("g", b"raw", None, "text/csv") + b"--B--\r\n")
    assert enc.content_length == len(want)
    assert enc.to_bytes() == want
    res = received(client.post(counting.url, content=enc.iter_bytes(),
                               headers={"Content-Type": enc.content_type}))
    assert body_of(res) == want
    assert not res["chunked"] and f"Content-Length: {len(want)}\r\n" in res["head"] + "\r\n"
    assert "Content-Type: multipart/form-data; boundary=B" in res["head"]


def test_escaping_on_the_wire(client: Client, counting: CountingServer) -> None:
    res = received(client.post(
        counting.url,
        files={'a"b\r\nX-Injected: 1': ('evil".txt\r\n\r\n--B--', b"v"),
               "naïve ✓": ("résumé ✓.pdf", b"%")},
        headers={"Content-Type": "multipart/form-data; boundary=B"},
    ))
    body = body_of(res)
    assert body == (
        b'--B\r\nContent-Disposition: form-data; name="a%22b%0D%0AX-Injected: 1"; '
        b'filename="evil%22.txt%0D%0A%0D%0A--B--"\r\n'
        b"Content-Type: application/octet-stream\r\n\r\nv\r\n"
        + '--B\r\nContent-Disposition: form-data; name="naïve ✓"; filename="résumé ✓.pdf"\r\n'
        .encode()
        + b"Content-Type: application/pdf\r\n\r\n%\r\n--B--\r\n"
    )
    assert b"filename*" not in body


def test_user_boundary_kept_and_other_content_type_replaced(client: Client,
                                                           counting: CountingServer) -> None:
    res = received(client.post(counting.url, files={"f": ("f", b"x")},
                               headers={"Content-Type": 'multipart/mixed; boundary="my b"'}))
    assert 'Content-Type: multipart/mixed; boundary="my b"' in res["head"]
    assert body_of(res).startswith(b"--my b\r\n") and body_of(res).endswith(b"--my b--\r\n")
    res = received(client.post(counting.url, files={"f": ("f", b"x")},
                               headers={"Content-Type": "text/plain"}))
    assert "Content-Type: multipart/form-data; boundary=" in res["head"]
    assert "text/plain\r\n" not in res["head"] + "\r\n"


def test_framing(client: Client, counting: CountingServer, tmp_path: Path) -> None:
    path = tmp_path / "f.bin"
    path.write_bytes(b"p" * 100000)
    with open(path, "rb") as f:
        f.seek(10)  # read from the current position
        res = received(client.post(counting.url, files={"a": path, "b": f, "c": b"x" * 10}))
    assert not res["chunked"]
    body = body_of(res)
    assert b"p" * 100000 + b"\r\n" in body and b"\r\n" + b"p" * 99990 + b"\r\n" in body
    assert 'name="a"; filename="f.bin"' in res["body"] and 'name="b"; filename="f.bin"' in res["body"]

    res = received(client.post(counting.url, files={"a": iter([b"1", b"2"]), "b": path}))
    assert res["chunked"]
    # A bare iterator: the field name is the filename.
    assert 'name="a"; filename="a"\r\nContent-Type: application/octet-stream\r\n\r\n12\r\n' \
        in res["body"]

    # Unseekable file (a pipe): unknown size, chunked.
    rfd, wfd = os.pipe()
    os.write(wfd, b"piped")
    os.close(wfd)
    with os.fdopen(rfd, "rb") as pipe:
        res = received(client.post(counting.url, files={"p": ("p.txt", pipe)}))
    assert res["chunked"] and "\r\n\r\npiped\r\n" in res["body"]


def test_binary_file_content_sent_with_content_length(client: Client, counting: CountingServer,
                                                     tmp_path: Path) -> None:
    """content=open(path, "rb"): the engine reads the file itself (pread, no Python
    call per piece) and sends it with Content-Length, from the file's position to
    its end; the position is left where it was. Other file-likes stream chunked."""
    data = os.urandom(3 << 20)
    path = tmp_path / "f.bin"
    path.write_bytes(data)
    for opener in (lambda: open(path, "rb"), lambda: open(path, "rb", buffering=0),
                   lambda: open(path, "r+b")):
        with opener() as f:
            f.read(1000)  # a buffered reader holds more than this: its tell() counts
            res = received(client.post(counting.url, content=f))
            assert f.tell() == 1000
        assert not res["chunked"] and "Content-Length: %d" % (len(data) - 1000) in res["head"]
        assert (res["length"], res["crc32"]) == (len(data) - 1000, zlib.crc32(data[1000:]))
    with open(path, "rb") as f:
        f.seek(0, os.SEEK_END)  # at the end: an empty body
        res = received(client.post(counting.url, content=f))
    assert "Content-Length: 0" in res["head"] and res["length"] == 0
    # A pipe is a stream: chunked, as it comes.
    rfd, wfd = os.pipe()
    os.write(wfd, b"piped")
    os.close(wfd)
    with os.fdopen(rfd, "rb") as pipe:
        res = received(client.post(counting.url, content=pipe))
    assert res["chunked"] and res["body"] == "piped"
    # A subclass may read differently: read() is called.
    class Upper(io.BufferedReader):
        def read(self, size: int | None = -1) -> bytes:
            return super().read(size).upper()

    small = tmp_path / "t.txt"
    small.write_bytes(b"abc")
    with Upper(io.FileIO(small, "rb")) as f:
        res = received(client.post(counting.url, content=f))
    assert res["chunked"] and res["body"] == "ABC"


def test_binary_file_errors(client: Client, counting: CountingServer, tmp_path: Path) -> None:
    """(A file that ends before its length was sent: tests/test_faults_conn.c.)"""
    path = tmp_path / "closed.bin"
    path.write_bytes(b"z" * 5000)
    f = open(path, "rb")
    f.close()
    with pytest.raises(ValueError, match="closed file"):
        client.post(counting.url, content=f)
    assert client.pool_stats()["open"] == 0


def test_request_object_with_files(client: Client, counting: CountingServer) -> None:
    req = Request("POST", counting.url, data={"k": "v"}, files={"f": ("a.txt", "text")})
    assert isinstance(req.stream, MultipartStream)
    assert req.headers["Content-Type"] == req.stream.content_type
    res = received(client.send(req))
    assert res["length"] == req.stream.content_length


# ---- the encoder ------------------------------------------------------------------------------


def test_encoder_lengths_and_reuse(tmp_path: Path) -> None:
    path = tmp_path / "data.txt"
    path.write_bytes(b"0123456789" * 1000)
    f = io.BytesIO(b"seekable")
    enc = MultipartEncoder(fields={"x": "y"}, files={"p": path, "f": ("f", f)})
    assert enc.boundary and len(enc.boundary) == 32
    assert enc.content_type == f"multipart/form-data; boundary={enc.boundary}"
    first = b"".join(enc.iter_bytes(chunk_size=1000))
    assert len(first) == enc.content_length
    assert b"".join(enc.iter_bytes()) == first  # path reopened, file rewound
    assert enc.to_bytes() == first
    assert max(len(c) for c in enc.iter_bytes(chunk_size=333)) == 333

    once = MultipartEncoder(files={"g": ("g", iter([b"a"]))})
    assert once.content_length is None
    assert b"a" in once.to_bytes()
    with pytest.raises(RuntimeError, match="only once"):
        once.iter_bytes()


def test_stream_is_file_like() -> None:
    stream = MultipartEncoder(fields={"a": "b" * 100}, boundary="B").iter_bytes()
    assert stream.read(0) == b""
    head = stream.read(10)
    assert head == b"--B\r\nConte"
    rest = stream.read()
    assert (head + rest).endswith(b"--B--\r\n")
    assert stream.read(5) == b"" and list(stream) == []
    stream.close()
    with pytest.raises(E.StreamClosed):
        stream.read(1)


def test_invalid_arguments(api: str, client: Client) -> None:
    with pytest.raises(ValueError, match="boundary"):
        MultipartEncoder(boundary="bad\r\nboundary")
    with pytest.raises(ValueError, match="boundary"):
        MultipartEncoder(boundary="x" * 71)
    with pytest.raises(ValueError, match="content type"):
        MultipartEncoder(files={"f": ("f", b"x", "text/plain\r\nX-Injected: 1")})
    with pytest.raises(TypeError, match="binary mode"):
        MultipartEncoder(files={"f": io.StringIO("text")})
    with pytest.raises(TypeError, match="tuple of 4"):
        MultipartEncoder(files={"f": ("f", b"x", "a/b", {"X": "1"})})
    with pytest.raises(TypeError, match="file content"):
        MultipartEncoder(files={"f": ("f", 42)})
    with pytest.raises(TypeError, match="field values"):
        MultipartEncoder(fields={"f": object()})
    with pytest.raises(ValueError, match="NUL"):
        MultipartEncoder(fields={"a\0b": "x"})
    with pytest.raises(FileNotFoundError):
        MultipartEncoder(files={"f": Path("/nonexistent/file")})
    with pytest.raises(ValueError, match="not with json"):
        client.post(api, json={}, files={"f": b"x"})
    with pytest.raises(TypeError, match="mapping or a list"):
        client.post(api, data=b"raw", files={"f": b"x"})


# ---- failures abort the request and close the connection -----------------------------------


def test_iterator_error_aborts_upload(client: Client, counting: CountingServer) -> None:
    def gen() -> Iterator[bytes]:
        yield b"x" * 300000
        raise ConnectionAbortedError("source broke")

    with pytest.raises(ConnectionAbortedError, match="source broke"):
        client.post(counting.url, files={"f": ("f", gen())})
    assert counting.done.wait(5)
    assert counting.results[-1]["complete"] is False  # the connection ended mid-body
    assert client.pool_stats()["open"] == 0
    # The client goes on working.
    assert received(client.post(counting.url, content=b"ok"))["length"] == 2


def test_removed_file_aborts_upload(client: Client, counting: CountingServer,
                                    tmp_path: Path) -> None:
    path = tmp_path / "gone.bin"
    path.write_bytes(b"z" * 1000)
    req = Request("POST", counting.url, data={"first": "field" * 100000}, files={"f": path})
    path.unlink()
    with pytest.raises(FileNotFoundError) as info:
        client.send(req)
    assert "gone.bin" in str(info.value)
    assert client.pool_stats()["open"] == 0


def test_shrunk_file_aborts_upload(client: Client, counting: CountingServer,
                                   tmp_path: Path) -> None:
    path = tmp_path / "shrinks.bin"
    path.write_bytes(b"z" * 5000)
    req = Request("POST", counting.url, files={"f": path})
    os.truncate(path, 3000)
    with pytest.raises(E.RequestBodyError, match="ended after 3000 of 5000 bytes"):
        client.send(req)
    assert client.pool_stats()["open"] == 0


# ---- async sources ------------------------------------------------------------------------------


class AsyncFile:
    def __init__(self, data: bytes) -> None:
        self.f = io.BytesIO(data)
        self.name = "async.bin"

    async def read(self, size: int = -1) -> bytes:
        await asyncio.sleep(0)
        return self.f.read(size)


async def agen(pieces: list[bytes]) -> AsyncIterator[bytes]:
    for p in pieces:
        await asyncio.sleep(0)
        yield p


def test_async_sources_in_aiter_bytes(tmp_path: Path) -> None:
    """aiter_bytes() awaits async sources; sync ones are read inline."""
    path = tmp_path / "p.txt"
    path.write_bytes(b"from a path")
    big = os.urandom(200000)

    def make(async_: bool) -> MultipartEncoder:
        return MultipartEncoder(
            fields={"k": "v"},
            files=[
                ("afile", ("a.bin", AsyncFile(big) if async_ else io.BytesIO(big))),
                ("aiter", ("i.txt", agen([b"x", b"", b"yz"]) if async_ else iter([b"x", b"yz"]))),
                ("path", path),
            ],
            boundary="B",
        )

    async def collect(enc: MultipartEncoder) -> bytes:
        return b"".join([c async for c in enc.aiter_bytes(chunk_size=4096)])

    enc = make(True)
    assert enc.has_async and enc.content_length is None
    assert asyncio.run(collect(enc)) == make(False).to_bytes()
    # A sync-only encoder works with aiter_bytes() too.
    assert asyncio.run(collect(make(False))) == make(False).to_bytes()


def test_async_sources_refused_in_sync_mode(api: str, client: Client) -> None:
    with pytest.raises(TypeError, match="async mode"):
        client.post(api, files={"f": ("f", agen([b"x"]))})
    with pytest.raises(TypeError, match="async mode"):
        client.post(api, files={"f": ("f", AsyncFile(b"x"))})
    enc = MultipartEncoder(files={"f": ("f", AsyncFile(b"x"))})
    with pytest.raises(TypeError, match="aiter_bytes"):
        enc.iter_bytes()


# NOTE for the asyncio face: the seed's upload examples are `async with Client()`
# + `await client.post(...)`. Wiring them needs (1) files= streams with
# `stream.has_async` read through `fasthttp.formdata.aiter_stream(stream)`, with
# `stream.content_length` for Content-Length; (2) `content=encoder.aiter_bytes()`
# as an async-iterator body. Then run both examples above in async form and the
# 1 GiB upload from an async iterator (test_uploads_big.py).


def test_crc_helper_matches_server(client: Client, counting: CountingServer) -> None:
    data = os.urandom(100000)
    res = received(client.post(counting.url, content=iter([data[:5], data[5:]])))
    assert res["chunked"] and res["crc32"] == zlib.crc32(data) and res["length"] == len(data)
