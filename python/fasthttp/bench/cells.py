"""The scenarios of the matrix (python -m fasthttp.bench.matrix): what users
run, each a cell where fasthttp's best face meets the best peer.

Full matrix: GET of 1 KiB JSON, 64 KiB and 1 MiB, sequential and 64
concurrent, over plain HTTP and TLS; a new connection per request
(``Connection: close``); POST uploads of 1 KiB and 1 MiB; a 1 GiB streamed
download and upload (one transfer per client and round, with its extra peak
RSS). --quick: the CI smoke, the same kinds of cell with 4 in flight instead of
64, 8 MiB instead of 1 GiB, and fewer sizes.
"""

from __future__ import annotations

from dataclasses import dataclass

from .target import JSON_SIZE, UPLOAD_REPLY, size_label

GIB = 1 << 30


@dataclass(frozen=True)
class Cell:
    """One row of the matrix."""

    path: str  # on the target: /json, /payload/64k, /upload
    concurrency: int
    tls: bool = False
    body_size: int = 0  # POST this many bytes to /upload
    close: bool = False  # Connection: close, a new connection per request
    stream: str = ""  # "down" | "up": one streamed transfer of stream_size bytes
    stream_size: int = 0

    @property
    def what(self) -> str:
        if self.stream:
            way = "download" if self.stream == "down" else "upload"
            return f"{size_label(self.stream_size)} streamed {way}"
        if self.body_size:
            what = f"POST {size_label(self.body_size)}"
        elif self.path == "/json":
            what = "GET json 1k"
        else:
            what = "GET " + self.path.rsplit("/", 1)[-1]
        if self.close:
            what += ", new connection"
        return what

    @property
    def key(self) -> str:
        parts = [self.what.replace(", ", "-").replace(" ", "-"), f"c{self.concurrency}"]
        return "-".join(parts + (["tls"] if self.tls else []))

    @property
    def title(self) -> str:
        tls = "TLS" if self.tls else "plain HTTP"
        if self.stream:
            return f"{self.what}, one transfer, {tls}"
        return f"{self.what}, concurrency {self.concurrency}, {tls}"

    @property
    def expect_bytes(self) -> int:
        """Every response's body length: what the target serves."""
        if self.body_size or self.stream == "up":
            return len(UPLOAD_REPLY)
        if self.stream == "down":
            return self.stream_size
        if self.path == "/json":
            return JSON_SIZE
        from .target import parse_size

        return parse_size(self.path.rsplit("/", 1)[-1])


def _get(sizes: list[str], concs: list[int], tls: list[bool]) -> list[Cell]:
    paths = ["/json" if s == "json" else f"/payload/{s}" for s in sizes]
    return [Cell(p, c, t) for t in tls for p in paths for c in concs]


def full() -> list[Cell]:
    return [
        *_get(["json", "64k", "1m"], [1, 64], [False, True]),
        Cell("/json", 1, close=True), Cell("/json", 64, close=True),
        Cell("/upload", 1, body_size=1 << 10), Cell("/upload", 64, body_size=1 << 10),
        Cell("/upload", 1, body_size=1 << 20), Cell("/upload", 64, body_size=1 << 20),
        Cell("/payload/1g", 1, stream="down", stream_size=GIB),
        Cell("/upload", 1, stream="up", stream_size=GIB),
    ]


def quick() -> list[Cell]:
    """The CI smoke: every kind of cell once, small."""
    mib8 = 8 << 20
    return [
        Cell("/json", 1), Cell("/payload/64k", 4), Cell("/json", 4, tls=True),
        Cell("/json", 4, close=True), Cell("/upload", 4, body_size=1 << 20),
        Cell("/payload/8m", 1, stream="down", stream_size=mib8),
        Cell("/upload", 1, stream="up", stream_size=mib8),
    ]


def payload_sizes(cells: list[Cell]) -> list[int]:
    """The /payload/<size> files the target must serve."""
    from .target import parse_size

    return sorted({parse_size(c.path.rsplit("/", 1)[-1]) for c in cells
                   if c.path.startswith("/payload/")})
