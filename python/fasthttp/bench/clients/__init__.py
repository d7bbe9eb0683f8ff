"""The clients the benchmark measures, one module each.

Every module has ``run(spec: RunSpec) -> RunResult``; it raises
:class:`~fasthttp.bench.config.Skip` when its library is not installed or
cannot do what the spec asks (HTTP/2, say). Third-party libraries are imported
inside ``run`` through :func:`need`, so a missing one is reported, not fatal.
"""

from __future__ import annotations

import importlib
import ssl
from dataclasses import dataclass
from typing import Any

from ..config import RunSpec, Skip, Verify


@dataclass(frozen=True)
class ClientInfo:
    id: str  # what --clients accepts, e.g. "httpx-async"
    label: str  # the table's Library column
    library: str  # --clients also accepts this, for every face of the library
    dist: str  # distribution name, for the version
    mode: str  # sync | async: the fasthttp face it is compared with
    module: str  # module in this package
    how: str  # one line: how it runs `concurrency` requests
    # A reference row of --http2 runs: fasthttp over HTTP/1.1 (same TLS target, same
    # run), so HTTP/2 is compared with what the same client does without it. Such a
    # client is left out of runs without --http2, where it would repeat the main row.
    http1_reference: bool = False


CLIENTS: tuple[ClientInfo, ...] = (
    ClientInfo("fasthttp", "fasthttp (sync)", "fasthttp", "pyfasthttp", "sync", "fasthttp_sync",
               "threads sharing one Client"),
    ClientInfo("fasthttp-async", "fasthttp (async)", "fasthttp", "pyfasthttp", "async",
               "fasthttp_async", "asyncio tasks, one `async with Client()`"),
    ClientInfo("fasthttp-h1", "fasthttp (sync, HTTP/1.1)", "fasthttp", "pyfasthttp", "sync",
               "fasthttp_sync", "threads sharing one Client, http2=False", http1_reference=True),
    ClientInfo("fasthttp-async-h1", "fasthttp (async, HTTP/1.1)", "fasthttp", "pyfasthttp",
               "async", "fasthttp_async", "asyncio tasks, one `async with Client(http2=False)`",
               http1_reference=True),
    ClientInfo("aiohttp", "aiohttp (async)", "aiohttp", "aiohttp", "async", "aiohttp_client",
               "asyncio tasks, one ClientSession"),
    ClientInfo("httpx", "httpx (sync)", "httpx", "httpx", "sync", "httpx_sync",
               "threads sharing one httpx.Client"),
    ClientInfo("httpx-async", "httpx (async)", "httpx", "httpx", "async", "httpx_async",
               "asyncio tasks, one httpx.AsyncClient"),
    ClientInfo("requests", "requests (sync)", "requests", "requests", "sync", "requests_client",
               "threads, one Session each (Session is not thread-safe)"),
    ClientInfo("urllib3", "urllib3 (sync)", "urllib3", "urllib3", "sync", "urllib3_client",
               "threads sharing one PoolManager"),
    ClientInfo("pycurl", "pycurl (sync)", "pycurl", "pycurl", "sync", "pycurl_client",
               "one Curl handle, perform() in a loop at concurrency 1; "
               "CurlMulti with `concurrency` handles above"),
    ClientInfo("niquests", "niquests (sync)", "niquests", "niquests", "sync", "niquests_sync",
               "threads, one Session each; with --http2 one Session shared by the threads "
               "over one multiplexed connection"),
    ClientInfo("niquests-async", "niquests (async)", "niquests", "niquests", "async",
               "niquests_async", "asyncio tasks, one AsyncSession (with --http2 over one "
               "multiplexed connection)"),
    ClientInfo("pyreqwest", "pyreqwest (sync)", "pyreqwest", "pyreqwest", "sync",
               "pyreqwest_sync", "threads sharing one SyncClient (reqwest/hyper in Rust)"),
    ClientInfo("pyreqwest-async", "pyreqwest (async)", "pyreqwest", "pyreqwest", "async",
               "pyreqwest_async", "asyncio tasks, one Client (reqwest/hyper in Rust)"),
    ClientInfo("curl_cffi-async", "curl_cffi (async)", "curl_cffi", "curl_cffi", "async",
               "curl_cffi_async", "asyncio tasks, one AsyncSession (libcurl through cffi)"),
    ClientInfo("maxhttp-async", "maxhttp (async)", "maxhttp", "maxhttp", "async",
               "maxhttp_async", "asyncio tasks, one Client (the original pure-Python "
               "fasthttp, on h11pro)"),
)

BY_ID = {c.id: c for c in CLIENTS}


def select(names: list[str], mode: str, http2: bool = False) -> list[ClientInfo]:
    """Clients for --clients (ids or library names) and --mode, in table order;
    the HTTP/1.1 reference rows only with --http2."""
    wanted: set[str] = set()
    for name in names:
        hits = [c.id for c in CLIENTS if name in (c.id, c.library)]
        if not hits:
            known = ", ".join(sorted({c.id for c in CLIENTS} | {c.library for c in CLIENTS}))
            raise ValueError(f"unknown client {name!r} (known: {known})")
        wanted.update(hits)
    return [c for c in CLIENTS if c.id in wanted and mode in ("both", c.mode)
            and (http2 or not c.http1_reference)]


def need(module: str, pip_name: str | None = None) -> Any:
    """Imports a library the client needs, or raises Skip saying how to get it."""
    try:
        return importlib.import_module(module)
    except ImportError as e:
        raise Skip(f"not installed: {module} ({e}); pip install {pip_name or module}") from e


def ssl_context(verify: Verify) -> ssl.SSLContext:
    """An SSLContext that trusts what `verify` says (system CAs, a CA file, nothing)."""
    if verify is False:
        ctx = ssl.create_default_context()
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        return ctx
    return ssl.create_default_context(cafile=verify if isinstance(verify, str) else None)


def headers(spec: RunSpec) -> dict[str, str]:
    """The --header fields as a dict (a repeated name: the last one wins)."""
    return dict(spec.headers)


def http_version(v: Any) -> str:
    """'HTTP/1.1' from 11, (1, 1), '1.1', 'HTTP/1.1', 20, 'HTTP/2.0', ..."""
    if isinstance(v, str):
        text = v[5:] if v.upper().startswith("HTTP/") else v
        hi, _, lo = text.partition(".")
        if hi.isdigit() and (not lo or lo.isdigit()):
            return http_version((int(hi), int(lo or 0)))
        return v if v.startswith("HTTP/") else f"HTTP/{v}"
    if isinstance(v, int):
        return {9: "HTTP/0.9", 10: "HTTP/1.0", 11: "HTTP/1.1", 20: "HTTP/2", 30: "HTTP/3"}.get(
            v, f"HTTP/{v}")
    try:
        major, minor = int(v[0]), int(v[1])
    except (TypeError, IndexError, ValueError):
        return str(v)
    return f"HTTP/{major}" if major >= 2 else f"HTTP/{major}.{minor}"


def no_http2(spec: RunSpec, library: str, why: str = "") -> None:
    """Raises Skip for a client without HTTP/2 when --http2 asks for it."""
    if spec.http2:
        raise Skip(f"unsupported: {library} has no HTTP/2{why}")


def fasthttp_version() -> str:
    import fasthttp
    from fasthttp import _fasthttp

    return f"{fasthttp.__version__} (libfasthttp {_fasthttp.libfasthttp_version()})"
