"""Multipart form bodies (``multipart/form-data``, RFC 7578).

``MultipartEncoder`` builds a body from form fields and files without
loading files into memory; ``Client`` methods use the same code for
``files=``::

    from fasthttp.formdata import MultipartEncoder

    encoder = MultipartEncoder(
        fields={"description": "Sample upload"},
        files={"file": ("large.bin", open("large.bin", "rb"), "application/octet-stream")},
    )
    resp = client.post("/upload", content=encoder.iter_bytes(),
                       headers={"Content-Type": encoder.content_type})

The wire format, the escaping of names and filenames, the media types
guessed from filenames and the lengths come from libfasthttp's encoder
(``fasthttp/multipart.h``); this module only turns Python values into parts.

Fields (``fields=`` here, ``data=`` on a request): a mapping or a list of
``(name, value)`` pairs; values are str, bytes, int, float, bool
(``true``/``false``) or None (left out); a list or tuple value repeats the
field.

Files: a mapping or a list of ``(name, value)`` pairs, where value is
``(filename, content)``, ``(filename, content, content_type)`` or just
``content`` (the filename is then taken from the path or the file's name,
else the field name). ``filename=None`` sends the part without a filename;
``content_type=None`` guesses it from the filename. Content is one of:

- ``bytes`` / ``bytearray`` / ``memoryview``, or ``str`` (sent as UTF-8);
- an ``os.PathLike`` such as ``pathlib.Path``: opened when its turn comes,
  read in 64 KiB pieces and closed;
- a binary file object (anything with ``read``), read from its current
  position;
- a sync iterable of bytes;
- an async file object (``async def read``) or an async iterable of bytes:
  only in async mode (``aiter_bytes()``, or a Client in async mode).

The body has a length (sent as ``Content-Length``) when every part's length
is known: bytes, str, paths to regular files and seekable files; otherwise
it is sent chunked.
"""

from __future__ import annotations

import inspect
import io
import os
import stat
from collections.abc import AsyncIterable, AsyncIterator, Iterable, Iterator, Mapping
from typing import IO, Any, Protocol, Union

from ._fasthttp import MultipartStream

__all__ = [
    "CHUNK_SIZE",
    "FieldsLike",
    "FileContent",
    "FilesLike",
    "MultipartEncoder",
    "MultipartStream",
    "aiter_stream",
]

#: Bytes per chunk produced by the iterators (and read from a file at once).
CHUNK_SIZE = 65536

# Kinds of part sources, as MultipartStream._add() takes them.
_BYTES, _PATH, _FILE, _ITER, _ASYNC = range(5)


class AsyncReadable(Protocol):
    """An async binary file: ``await f.read(n)`` gives bytes, ``b""`` at the end."""

    async def read(self, size: int = ..., /) -> bytes: ...


FieldValue = Union[str, bytes, int, float, bool, None]
FieldsLike = Union[
    Mapping[str, Union[FieldValue, "list[FieldValue]", "tuple[FieldValue, ...]"]],
    Iterable["tuple[str, FieldValue]"],
]
FileContent = Union[
    bytes,
    bytearray,
    memoryview,
    str,
    "os.PathLike[str]",
    IO[bytes],
    Iterable[bytes],
    AsyncIterable[bytes],
    AsyncReadable,
]
FileValue = Union[
    FileContent,
    "tuple[str | None, FileContent]",
    "tuple[str | None, FileContent, str | None]",
]
FilesLike = Union[Mapping[str, FileValue], Iterable["tuple[str, FileValue]"]]


class _Part:
    __slots__ = ("content_type", "filename", "kind", "length", "name", "source", "start")

    def __init__(
        self,
        name: str,
        filename: str | None,
        content_type: str | None,
        kind: int,
        source: Any,
        length: int,
        start: int | None = None,
    ) -> None:
        self.name = name
        self.filename = filename
        self.content_type = content_type
        self.kind = kind
        self.source = source
        self.length = length  # -1: unknown
        self.start = start  # seekable files: where to rewind for another pass


def _pairs(obj: Any, what: str) -> Iterator[tuple[Any, Any]]:
    if isinstance(obj, (str, bytes, bytearray, memoryview)):
        raise TypeError(
            f"{what} must be a mapping or a list of (name, value) pairs when sending a "
            f"multipart form, not {type(obj).__name__}"
        )
    items = obj.items() if hasattr(obj, "items") else obj
    if not isinstance(items, Iterable):
        raise TypeError(f"{what} must be a mapping or a list of (name, value) pairs, "
                        f"not {type(obj).__name__}")
    for pair in items:
        try:
            name, value = pair
        except (TypeError, ValueError):
            raise TypeError(f"{what} items must be (name, value) pairs, not {pair!r}") from None
        yield name, value


def _name(name: Any, what: str) -> str:
    if isinstance(name, bytes):
        return name.decode()
    if not isinstance(name, str):
        raise TypeError(f"{what} names must be str, not {type(name).__name__}")
    return name


def _field_bytes(value: Any) -> bytes:
    if isinstance(value, bool):
        return b"true" if value else b"false"
    if isinstance(value, str):
        return value.encode()
    if isinstance(value, (bytes, bytearray, memoryview)):
        return bytes(value)
    if isinstance(value, (int, float)):
        return str(value).encode()
    raise TypeError(
        f"form field values must be str, bytes, int, float, bool or None, not "
        f"{type(value).__name__} (files go in files=)"
    )


def _field_parts(fields: Any) -> list[_Part]:
    parts: list[_Part] = []
    if fields is None:
        return parts
    for name, value in _pairs(fields, "fields (data=)"):
        key = _name(name, "field")
        for v in value if isinstance(value, (list, tuple)) else (value,):
            if v is None:
                continue
            b = _field_bytes(v)
            parts.append(_Part(key, None, None, _BYTES, b, len(b)))
    return parts


def _file_length(f: Any) -> tuple[int, int | None]:
    """(bytes from the current position to the end or -1, position to rewind to)."""
    try:
        pos = f.tell()
    except (AttributeError, OSError, ValueError):
        return -1, None
    try:
        fd = f.fileno()
    except (AttributeError, OSError, ValueError):
        fd = None
    if fd is not None:
        st = os.fstat(fd)
        if stat.S_ISREG(st.st_mode):
            return max(st.st_size - pos, 0), pos
    try:
        if f.seekable():
            end = f.seek(0, os.SEEK_END)
            f.seek(pos)
            return max(end - pos, 0), pos
    except (AttributeError, OSError, ValueError):
        pass
    return -1, None


def _source(content: Any) -> tuple[int, Any, int, int | None]:
    """(kind, source, length or -1, rewind position) of a file's content."""
    if isinstance(content, (bytes, bytearray, memoryview)):
        b = bytes(content)
        return _BYTES, b, len(b), None
    if isinstance(content, str):
        b = content.encode()
        return _BYTES, b, len(b), None
    if isinstance(content, os.PathLike):
        path = os.fspath(content)
        st = os.stat(path)
        return _PATH, path, st.st_size if stat.S_ISREG(st.st_mode) else -1, None
    read = getattr(content, "read", None)
    if read is not None:
        if inspect.iscoroutinefunction(read):
            return _ASYNC, content, -1, None
        if isinstance(content, io.TextIOBase):
            raise TypeError("a file in files= must be opened in binary mode ('rb')")
        length, start = _file_length(content)
        return _FILE, content, length, start
    if hasattr(content, "__aiter__"):
        return _ASYNC, content, -1, None
    if isinstance(content, Iterable):
        return _ITER, content, -1, None
    raise TypeError(
        "file content must be bytes, str, a path, a binary file, an iterable of bytes, "
        f"an async file or an async iterable of bytes, not {type(content).__name__}"
    )


def _default_filename(content: Any, field: str) -> str:
    if isinstance(content, os.PathLike):
        return os.path.basename(os.fsdecode(os.fspath(content)))
    name = getattr(content, "name", None)
    if isinstance(name, (str, bytes)) and name:
        base = os.path.basename(os.fsdecode(name))
        if base and not (base.startswith("<") and base.endswith(">")):
            return base
    return field


def _file_parts(files: Any) -> list[_Part]:
    parts: list[_Part] = []
    if files is None:
        return parts
    for name, value in _pairs(files, "files"):
        key = _name(name, "file field")
        content_type: str | None = None
        if isinstance(value, tuple):
            if len(value) == 2:
                filename, content = value
            elif len(value) == 3:
                filename, content, content_type = value
            else:
                raise TypeError(
                    "a file must be (filename, content) or (filename, content, content_type), "
                    f"not a tuple of {len(value)}"
                )
            if filename is not None and not isinstance(filename, str):
                raise TypeError(f"filenames must be str or None, not {type(filename).__name__}")
            if content_type is not None and not isinstance(content_type, str):
                raise TypeError(
                    f"content types must be str or None, not {type(content_type).__name__}"
                )
        else:
            content = value
            filename = _default_filename(content, key)
        kind, source, length, start = _source(content)
        parts.append(_Part(key, filename, content_type, kind, source, length, start))
    return parts


class MultipartEncoder:
    """A ``multipart/form-data`` body from form fields and files, streamed.

    ``content_type`` goes in the Content-Type header; ``content_length`` is the
    body's size, or None when a part's size is unknown (then it is sent
    chunked). ``iter_bytes()`` and ``aiter_bytes()`` produce the body; each
    call starts from the beginning (paths are reopened, seekable files
    rewound), except that iterators and unseekable files can be read once.
    """

    def __init__(
        self,
        fields: FieldsLike | None = None,
        files: FilesLike | None = None,
        boundary: str | None = None,
    ) -> None:
        self._parts = _field_parts(fields) + _file_parts(files)
        template = self._build(boundary)
        self.boundary: str = template.boundary
        self.content_type: str = template.content_type
        self.content_length: int | None = template.content_length
        self._once = any(
            p.kind in (_ITER, _ASYNC) or (p.kind == _FILE and p.start is None)
            for p in self._parts
        )
        self._used = False

    def _build(self, boundary: str | None, chunk_size: int = CHUNK_SIZE) -> MultipartStream:
        stream = MultipartStream(boundary, chunk_size=chunk_size)
        for p in self._parts:
            stream._add(p.name, p.filename, p.content_type, p.kind, p.source, p.length)
        return stream

    def _open(self, chunk_size: int) -> MultipartStream:
        if self._used and self._once:
            raise RuntimeError(
                "this MultipartEncoder has an iterator or unseekable file that can be read only "
                "once; create a new MultipartEncoder"
            )
        if self._used:
            for p in self._parts:
                if p.kind == _FILE and p.start is not None:
                    p.source.seek(p.start)
        self._used = True
        return self._build(self.boundary, chunk_size)

    @property
    def has_async(self) -> bool:
        """True when a part is an async file or iterator (async mode only)."""
        return any(p.kind == _ASYNC for p in self._parts)

    def iter_bytes(self, chunk_size: int = CHUNK_SIZE) -> MultipartStream:
        """The body as an iterator of bytes (a MultipartStream, also file-like).

        Passed as ``content=`` it is sent with Content-Length when
        ``content_length`` is known, chunked otherwise.
        """
        stream = self._open(chunk_size)
        if stream.has_async:
            stream.close()
            raise TypeError(
                "this form has an async file or async iterator: read it with aiter_bytes()"
            )
        return stream

    def aiter_bytes(self, chunk_size: int = CHUNK_SIZE) -> AsyncIterator[bytes]:
        """The body as an async iterator of bytes; async sources are awaited."""
        return aiter_stream(self._open(chunk_size), chunk_size)

    def to_bytes(self) -> bytes:
        """The whole body at once (for small forms and tests)."""
        return self.iter_bytes().read()

    def __repr__(self) -> str:
        return (
            f"<MultipartEncoder {len(self._parts)} parts, boundary={self.boundary!r}, "
            f"content_length={self.content_length}>"
        )


async def _next_async(
    iterators: dict[int, AsyncIterator[Any]], index: int, source: Any, chunk_size: int
) -> Any:
    read = getattr(source, "read", None)
    if read is not None:
        data = await read(chunk_size)
        return data if data else None  # b"": the end of the file
    it = iterators.get(index)
    if it is None:
        it = iterators[index] = source.__aiter__()
    try:
        return await it.__anext__()
    except StopAsyncIteration:
        return None


async def aiter_stream(
    stream: MultipartStream, chunk_size: int = CHUNK_SIZE
) -> AsyncIterator[bytes]:
    """Produces a MultipartStream's bytes, awaiting its async sources.

    The driver of async bodies: the stream reads its sync sources itself and
    says which async part waits for data; this awaits that part's next chunk
    and feeds it back. Closes the stream at the end.
    """
    iterators: dict[int, AsyncIterator[Any]] = {}
    try:
        while True:
            chunk = stream._read_async(chunk_size)
            if chunk is None:
                waiting = stream._waiting()
                if waiting is None:  # pragma: no cover - the C type guarantees one
                    raise RuntimeError("multipart stream paused without a waiting part")
                index, source = waiting
                stream._feed(await _next_async(iterators, index, source, chunk_size))
                continue
            if not chunk:
                return
            yield chunk
    finally:
        stream.close()


def _boundary_of(content_type: str | None) -> str | None:
    """The boundary parameter of a Content-Type value, if any."""
    if not content_type:
        return None
    for param in content_type.split(";")[1:]:
        key, sep, value = param.strip().partition("=")
        if sep and key.strip().lower() == "boundary":
            value = value.strip()
            if len(value) >= 2 and value[0] == value[-1] == '"':
                value = value[1:-1]
            return value
    return None


def _request_stream(
    data: Any, files: Any, content_type: str | None
) -> tuple[MultipartStream, str | None]:
    """files= on a request: (body stream, Content-Type to set or None).

    A Content-Type the caller set that carries a boundary is kept and its
    boundary used; any other is replaced by multipart/form-data.
    """
    boundary = _boundary_of(content_type)
    # Async sources are allowed here: the sync client refuses them when sending.
    stream = MultipartEncoder(fields=data, files=files, boundary=boundary)._open(CHUNK_SIZE)
    return stream, None if boundary else stream.content_type
