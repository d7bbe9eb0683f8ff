"""Type stubs of the C extension fasthttp._fasthttp."""

import logging
import os
from collections.abc import (
    AsyncIterable,
    AsyncIterator,
    Callable,
    Coroutine,
    Generator,
    Iterable,
    Iterator,
    Mapping,
    Sequence,
)
from collections.abc import (
    Awaitable as _AnyAwaitable,
)
from types import TracebackType
from typing import IO, Any, Generic, TypeVar, overload

from ._elapsed import Elapsed
from .auth import AuthBase
from .cookies import CookieJar
from .formdata import FilesLike
from .limits import Limits
from .retry import RetryPolicy
from .timeouts import Timeout
from .websocket import SyncWebSocket, WebSocket

__version__: str

FH_EINVAL: int
FH_EURL: int
FH_EHEADER: int
FH_ECONNECT: int
FH_ETIMEOUT_READ: int
FH_ECIRCUIT_OPEN: int
FH_ETOO_MANY_REDIRECTS: int
FH_EREDIRECT: int
FH_ENOT_REPLAYABLE: int
FH_EFORKED: int
FH_RETRY_MAX_STATUS: int
FH_EPROTO: int
FH_EREFUSED: int
FH_EHTTP2: int

def libfasthttp_version() -> str: ...
def strerror(code: int) -> str: ...
def _limit_defaults() -> dict[str, int]: ...
def _retry_defaults() -> dict[str, Any]:
    """fh_retry_policy_init() by RetryPolicy field name (status_codes a tuple)."""
def _retry_check(policy: RetryPolicy, /) -> str | None:
    """None, or fh_retry_policy_check()'s sentence (it starts with the field's name)."""
def _timeout_check(seconds: float, /) -> str | None:
    """None, or fh_timeout_check()'s sentence ('must be a number of seconds ...')."""
def _limit_check(name: str, value: int, /) -> str | None:
    """None, or fh_limit_check()'s sentence for the size limit called name."""
def _pool_check(max_connections: int | None, max_connections_per_host: int | None,
                max_keepalive_per_host: int | None, /) -> str | None:
    """None, or fh_pool_limits_check()'s sentence (None: the default)."""
def _check_auth(kind: int, user: str, password: str, /) -> None:
    """ValueError when libfasthttp refuses the credentials (kind 1 Basic, 2 Digest)."""
def _set_logger(logger: logging.Logger | None, /) -> None:
    """The logger the C core writes request lines to (fasthttp._log); None: none."""

class Headers:
    """HTTP header fields: ordered, multi-valued, case-insensitive.

    len() counts fields; iteration and keys() give each distinct name once;
    items() and values() give every field; h[name] joins repeated fields
    with ", "; get_list()/getall() give each value.
    """

    def __init__(self, headers: HeadersLike | None = None) -> None: ...
    def __getitem__(self, name: str) -> str: ...
    def __setitem__(self, name: str, value: str | bytes | int) -> None: ...
    def __delitem__(self, name: str) -> None: ...
    def __contains__(self, name: object) -> bool: ...
    def __iter__(self) -> Iterator[str]: ...
    def __len__(self) -> int: ...
    def __eq__(self, other: object) -> bool: ...
    @overload
    def get(self, name: str) -> str | None: ...
    @overload
    def get(self, name: str, default: str) -> str: ...
    @overload
    def get(self, name: str, default: Any) -> Any: ...
    def get_list(self, name: str) -> list[str]: ...
    def getall(self, name: str) -> list[str]: ...
    def keys(self) -> list[str]: ...
    def values(self) -> list[str]: ...
    def items(self) -> list[tuple[str, str]]: ...
    def multi_items(self) -> list[tuple[str, str]]: ...
    def add(self, name: str, value: str | bytes | int) -> None: ...
    def update(self, headers: HeadersLike) -> None: ...
    def copy(self) -> Headers: ...
    @overload
    def pop(self, name: str) -> str: ...
    @overload
    def pop(self, name: str, default: Any) -> Any: ...
    def setdefault(self, name: str, value: str) -> str: ...

HeadersLike = (
    Headers
    | Mapping[str, str]
    | Mapping[bytes, bytes]
    | Iterable[tuple[str, str]]
    | Iterable[tuple[bytes, bytes]]
)
ParamValue = str | bytes | int | float | bool | None
ParamsLike = (
    Mapping[str, ParamValue | Sequence[ParamValue]]
    | Iterable[tuple[str, ParamValue | Sequence[ParamValue]]]
    | str
    | bytes
)
DataLike = (
    Mapping[str, ParamValue | Sequence[ParamValue]]
    | Sequence[tuple[str, ParamValue]]
    | bytes
    | str
    | Iterable[bytes]
    | IO[bytes]
)
ContentLike = (
    bytes | bytearray | memoryview | str | Iterable[bytes] | AsyncIterable[bytes] | IO[bytes]
)
TimeoutLike = Timeout | float | None
StrPath = str | bytes | os.PathLike[str] | os.PathLike[bytes]
CertLike = StrPath | tuple[StrPath, StrPath | None]
AuthLike = tuple[str, str] | AuthBase | Callable[[Request], Request | None]
CookiesLike = CookieJar | Mapping[str, str]
# Hooks may be coroutine functions: any awaitable (not only this module's own
# Awaitable class below, which is what an asynchronous Client returns).
HookFn = Callable[[Response], Response | _AnyAwaitable[Response | None] | None]
HooksLike = Mapping[str, HookFn | Sequence[HookFn] | None]

class _CookieJar:
    """The C base of fasthttp.cookies.CookieJar."""

    def __init__(self, *args: Any, **kwargs: Any) -> None: ...
    def __len__(self) -> int: ...
    def set(
        self,
        name: str,
        value: str,
        domain: str | None = None,
        path: str | None = None,
        secure: bool = False,
        http_only: bool | None = None,
        expires: float | None = None,
        *,
        httponly: bool | None = None,
        samesite: str | None = None,
        same_site: str | None = None,
        host_only: bool = False,
    ) -> None: ...
    def _header(self, url: str) -> str | None: ...
    def _store(self, url: str, set_cookie: str) -> bool: ...
    def delete(self, name: str, domain: str | None = None, path: str | None = None) -> int: ...
    def clear(self) -> None: ...
    def _get(
        self, name: str, domain: str | None = None, path: str | None = None
    ) -> tuple[str, str, str, str, bool, bool, bool, int | None, str | None] | None: ...
    def _entries(
        self,
    ) -> list[tuple[str, str, str, str, bool, bool, bool, int | None, str | None]]: ...
    def _merge(self, other: _CookieJar) -> None: ...
    def _set_fake_time(self, seconds: int | None) -> None: ...

class Request:
    """An HTTP request; send it with Client.send()."""

    @property
    def method(self) -> str: ...
    @property
    def url(self) -> str: ...
    @property
    def headers(self) -> Headers: ...
    @property
    def content(self) -> bytes: ...
    @property
    def stream(self) -> Iterable[bytes] | AsyncIterable[bytes] | IO[bytes] | None: ...
    _sensitive: tuple[str, ...] | None
    def __init__(
        self,
        method: str,
        url: str,
        *,
        headers: HeadersLike | None = None,
        params: ParamsLike | None = None,
        data: DataLike | None = None,
        json: Any = None,
        content: ContentLike | None = None,
        files: FilesLike | None = None,
    ) -> None: ...

class ByteIterator(Iterator[bytes]):
    """What iter_bytes() returns: `for` it, or, for a response of an
    asynchronous Client, `async for` it (then it is aiter_bytes())."""

    def __next__(self) -> bytes: ...
    def __aiter__(self) -> AsyncIterator[bytes]: ...

class TextIterator(Iterator[str]):
    """What iter_text() and iter_lines() return: `for` or `async for`."""

    def __next__(self) -> str: ...
    def __aiter__(self) -> AsyncIterator[str]: ...

class Response:
    """An HTTP response; with stream=True the body is read on demand."""

    @property
    def status_code(self) -> int: ...
    @property
    def reason(self) -> str: ...
    @property
    def headers(self) -> Headers: ...
    @property
    def content(self) -> bytes: ...
    @property
    def encoding(self) -> str: ...
    @encoding.setter
    def encoding(self, value: str | None) -> None: ...
    @property
    def url(self) -> str: ...
    @property
    def request(self) -> Request | None:
        """The request as sent for this response: final method, URL and header
        fields (None for a Response built without one)."""
    @property
    def http_version(self) -> str:
        """'HTTP/1.1', 'HTTP/1.0' or 'HTTP/2': what carried this response."""
    @property
    def elapsed(self) -> Elapsed:
        """A datetime.timedelta that also compares with and converts to seconds."""
    @property
    def ok(self) -> bool:
        """2xx (as the original library); bool(response) is status < 400."""
    @property
    def is_success(self) -> bool: ...
    @property
    def is_informational(self) -> bool: ...
    @property
    def is_redirect(self) -> bool:
        """3xx."""
    @property
    def is_permanent_redirect(self) -> bool:
        """301 or 308."""
    @property
    def is_client_error(self) -> bool: ...
    @property
    def is_server_error(self) -> bool: ...
    @property
    def is_error(self) -> bool:
        """4xx or 5xx."""
    def __bool__(self) -> bool: ...
    @property
    def content_type(self) -> str | None:
        """The media type of Content-Type, lower case, without parameters."""
    @property
    def num_bytes_downloaded(self) -> int:
        """Body bytes received so far, before content decoding."""
    @property
    def links(self) -> dict[str, dict[str, str]]:
        """The Link header (RFC 8288) by relation type: {"next": {"url": ..., ...}}."""
    @property
    def timings(self) -> dict[str, float | bool] | None: ...
    @property
    def history(self) -> list[Response]:
        """The redirect responses followed to this one, oldest first."""
    @property
    def attempts(self) -> int:
        """Attempts made for this response (more than 1 after retries)."""
    @property
    def is_closed(self) -> bool: ...
    def __init__(
        self,
        status_code: int = 200,
        headers: HeadersLike | None = None,
        content: bytes | bytearray | memoryview | str | None = None,
        reason: str | None = None,
        request: Request | None = None,
        *,
        url: str | None = None,
        encoding: str | None = None,
        http_version: str | None = None,
    ) -> None: ...
    def text(self, encoding: str | None = None) -> str: ...
    def json(self, **kwargs: Any) -> Any: ...
    def raise_for_status(self) -> Response: ...
    def read(self) -> bytes: ...
    def iter_bytes(self, chunk_size: int | None = None) -> ByteIterator: ...
    def iter_raw(self, chunk_size: int | None = None) -> ByteIterator: ...
    def iter_text(self, chunk_size: int | None = None) -> TextIterator: ...
    def iter_lines(self, chunk_size: int | None = None) -> TextIterator: ...
    def close(self) -> None: ...
    def __enter__(self) -> Response: ...
    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> bool: ...
    # asyncio (responses of an asynchronous Client)
    async def aread(self) -> bytes: ...
    def aiter_bytes(self, chunk_size: int | None = None) -> AsyncIterator[bytes]: ...
    def aiter_raw(self, chunk_size: int | None = None) -> AsyncIterator[bytes]: ...
    def aiter_text(self, chunk_size: int | None = None) -> AsyncIterator[str]: ...
    def aiter_lines(self, chunk_size: int | None = None) -> AsyncIterator[str]: ...
    async def aclose(self) -> None: ...
    async def __aenter__(self) -> Response: ...
    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...

_T = TypeVar("_T")

class Awaitable(Coroutine[Any, Any, _T]):
    """What an asynchronous Client's methods return: awaitable once, and a
    coroutine for asyncio (create_task, gather, wait_for accept it). The
    request is sent when it is first awaited."""

    def __await__(self) -> Generator[Any, None, _T]: ...
    def send(self, value: None) -> Any: ...
    def throw(self, typ: Any, val: Any = None, tb: Any = None, /) -> Any: ...
    def close(self) -> None: ...

_R = TypeVar("_R", Response, Awaitable[Response])

class _ClientMethods(Generic[_R]):
    """The request methods; _R is Response (sync) or an awaitable of one."""

    @property
    def base_url(self) -> str | None: ...
    @property
    def timeout(self) -> TimeoutLike: ...
    @property
    def headers(self) -> Headers: ...
    @headers.setter
    def headers(self, value: HeadersLike) -> None: ...
    @property
    def is_closed(self) -> bool: ...
    @property
    def cookies(self) -> CookieJar: ...
    @property
    def follow_redirects(self) -> bool: ...
    @property
    def max_redirects(self) -> int: ...
    @property
    def retry(self) -> RetryPolicy | None: ...
    @property
    def auth(self) -> AuthLike | None: ...
    def __init__(
        self,
        base_url: str | None = None,
        *,
        headers: HeadersLike | None = None,
        params: ParamsLike | None = None,
        timeout: TimeoutLike = None,
        verify: bool | StrPath = True,
        cert: CertLike | None = None,
        limits: Limits | None = None,
        follow_redirects: bool = True,
        max_redirects: int = 20,
        retry: RetryPolicy | None = None,
        cookies: CookiesLike | None = None,
        auth: AuthLike | None = None,
        hooks: HooksLike | None = None,
        http2: bool | None = False,
        http1: bool = True,
        user_agent: str | None = None,
        proxy: str | None = None,
        proxies: Mapping[str, str | None] | None = None,
        trust_env: bool = True,
        uds: str | None = None,
    ) -> None:
        """http2=True: HTTPS offers h2 by ALPN and falls back to HTTP/1.1;
        with http1=False, HTTP/2 only (HTTPS must agree to h2, cleartext
        speaks it by prior knowledge; otherwise HTTP2NotAvailable).
        Per request, http2=True/False overrides it (None: the client's).
        proxy= / proxies= / trust_env= / uds=: see docs/python.md, "Proxies"."""
    def request(
        self,
        method: str,
        url: str,
        *,
        params: ParamsLike | None = None,
        headers: HeadersLike | None = None,
        json: Any = None,
        data: DataLike | None = None,
        content: ContentLike | None = None,
        files: FilesLike | None = None,
        timeout: TimeoutLike = None,
        stream: bool = False,
        cookies: CookiesLike | None = None,
        auth: AuthLike | None = None,
        hooks: HooksLike | None = None,
        follow_redirects: bool | None = None,
        http2: bool | None = None,
        retry: RetryPolicy | None = None,
        limits: Limits | None = None,
        expect_continue: bool | float | None = None,
        uds: str | None = None,
    ) -> _R: ...
    def get(
        self,
        url: str,
        *,
        params: ParamsLike | None = None,
        headers: HeadersLike | None = None,
        json: Any = None,
        data: DataLike | None = None,
        content: ContentLike | None = None,
        files: FilesLike | None = None,
        timeout: TimeoutLike = None,
        stream: bool = False,
        cookies: CookiesLike | None = None,
        auth: AuthLike | None = None,
        hooks: HooksLike | None = None,
        follow_redirects: bool | None = None,
        http2: bool | None = None,
        retry: RetryPolicy | None = None,
        limits: Limits | None = None,
        expect_continue: bool | float | None = None,
        uds: str | None = None,
    ) -> _R: ...
    def post(
        self,
        url: str,
        *,
        params: ParamsLike | None = None,
        headers: HeadersLike | None = None,
        json: Any = None,
        data: DataLike | None = None,
        content: ContentLike | None = None,
        files: FilesLike | None = None,
        timeout: TimeoutLike = None,
        stream: bool = False,
        cookies: CookiesLike | None = None,
        auth: AuthLike | None = None,
        hooks: HooksLike | None = None,
        follow_redirects: bool | None = None,
        http2: bool | None = None,
        retry: RetryPolicy | None = None,
        limits: Limits | None = None,
        expect_continue: bool | float | None = None,
        uds: str | None = None,
    ) -> _R: ...
    def put(
        self,
        url: str,
        *,
        params: ParamsLike | None = None,
        headers: HeadersLike | None = None,
        json: Any = None,
        data: DataLike | None = None,
        content: ContentLike | None = None,
        files: FilesLike | None = None,
        timeout: TimeoutLike = None,
        stream: bool = False,
        cookies: CookiesLike | None = None,
        auth: AuthLike | None = None,
        hooks: HooksLike | None = None,
        follow_redirects: bool | None = None,
        http2: bool | None = None,
        retry: RetryPolicy | None = None,
        limits: Limits | None = None,
        expect_continue: bool | float | None = None,
        uds: str | None = None,
    ) -> _R: ...
    def patch(
        self,
        url: str,
        *,
        params: ParamsLike | None = None,
        headers: HeadersLike | None = None,
        json: Any = None,
        data: DataLike | None = None,
        content: ContentLike | None = None,
        files: FilesLike | None = None,
        timeout: TimeoutLike = None,
        stream: bool = False,
        cookies: CookiesLike | None = None,
        auth: AuthLike | None = None,
        hooks: HooksLike | None = None,
        follow_redirects: bool | None = None,
        http2: bool | None = None,
        retry: RetryPolicy | None = None,
        limits: Limits | None = None,
        expect_continue: bool | float | None = None,
        uds: str | None = None,
    ) -> _R: ...
    def delete(
        self,
        url: str,
        *,
        params: ParamsLike | None = None,
        headers: HeadersLike | None = None,
        json: Any = None,
        data: DataLike | None = None,
        content: ContentLike | None = None,
        files: FilesLike | None = None,
        timeout: TimeoutLike = None,
        stream: bool = False,
        cookies: CookiesLike | None = None,
        auth: AuthLike | None = None,
        hooks: HooksLike | None = None,
        follow_redirects: bool | None = None,
        http2: bool | None = None,
        retry: RetryPolicy | None = None,
        limits: Limits | None = None,
        expect_continue: bool | float | None = None,
        uds: str | None = None,
    ) -> _R: ...
    def head(
        self,
        url: str,
        *,
        params: ParamsLike | None = None,
        headers: HeadersLike | None = None,
        json: Any = None,
        data: DataLike | None = None,
        content: ContentLike | None = None,
        files: FilesLike | None = None,
        timeout: TimeoutLike = None,
        stream: bool = False,
        cookies: CookiesLike | None = None,
        auth: AuthLike | None = None,
        hooks: HooksLike | None = None,
        follow_redirects: bool | None = None,
        http2: bool | None = None,
        retry: RetryPolicy | None = None,
        limits: Limits | None = None,
        expect_continue: bool | float | None = None,
        uds: str | None = None,
    ) -> _R: ...
    def options(
        self,
        url: str,
        *,
        params: ParamsLike | None = None,
        headers: HeadersLike | None = None,
        json: Any = None,
        data: DataLike | None = None,
        content: ContentLike | None = None,
        files: FilesLike | None = None,
        timeout: TimeoutLike = None,
        stream: bool = False,
        cookies: CookiesLike | None = None,
        auth: AuthLike | None = None,
        hooks: HooksLike | None = None,
        follow_redirects: bool | None = None,
        http2: bool | None = None,
        retry: RetryPolicy | None = None,
        limits: Limits | None = None,
        expect_continue: bool | float | None = None,
        uds: str | None = None,
    ) -> _R: ...
    def trace(
        self,
        url: str,
        *,
        params: ParamsLike | None = None,
        headers: HeadersLike | None = None,
        json: Any = None,
        data: DataLike | None = None,
        content: ContentLike | None = None,
        files: FilesLike | None = None,
        timeout: TimeoutLike = None,
        stream: bool = False,
        cookies: CookiesLike | None = None,
        auth: AuthLike | None = None,
        hooks: HooksLike | None = None,
        follow_redirects: bool | None = None,
        http2: bool | None = None,
        retry: RetryPolicy | None = None,
        limits: Limits | None = None,
        expect_continue: bool | float | None = None,
        uds: str | None = None,
    ) -> _R: ...
    def send(
        self,
        request: Request,
        *,
        stream: bool = False,
        timeout: TimeoutLike = None,
        auth: AuthLike | None = None,
        follow_redirects: bool | None = None,
        hooks: HooksLike | None = None,
        retry: RetryPolicy | None = None,
        cookies: CookiesLike | None = None,
        limits: Limits | None = None,
    ) -> _R: ...
    def pool_stats(self) -> dict[str, int]: ...
    def close(self) -> Awaitable[None]:
        """Closes the client (asyncio: cancels what is left); `await` it or not."""
    def _set_fake_clock_us(self, now_us: int | None) -> None:
        """For tests: the circuit breaker's clock (None: the real one)."""
    def _proxy_for(self, url: str) -> str | None:
        """For tests: the proxy id, 'unix:<path>', or None (direct) for url."""
    def _circuit_state(self, origin: str) -> str:
        """For tests: 'closed', 'open' or 'half-open' for 'scheme://host:port'."""
    def __enter__(self) -> SyncClient: ...
    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...

class SyncClient(_ClientMethods[Response]):
    """Typing only (not importable at run time): a Client entered with
    `with Client() as client:`, whose methods return a Response."""

    def websocket(
        self,
        url: str,
        *,
        headers: HeadersLike | None = None,
        subprotocols: Sequence[str] | None = None,
        extensions: Sequence[str] | None = None,
        timeout: TimeoutLike | None = None,
    ) -> SyncWebSocket:
        """A connected blocking WebSocket (url relative to base_url; http(s) → ws(s))."""

class Client(_ClientMethods[Awaitable[Response]]):
    """An HTTP client with a connection pool.

    `async with Client() as client:` (or a bare Client()): every method
    returns an awaitable. `with Client() as client:`: every method returns a
    Response (see SyncClient). Mixing the two on one client is an error.
    """

    async def __aenter__(self) -> Client: ...
    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...
    def websocket(
        self,
        url: str,
        *,
        headers: HeadersLike | None = None,
        subprotocols: Sequence[str] | None = None,
        extensions: Sequence[str] | None = None,
        timeout: TimeoutLike | None = None,
    ) -> Awaitable[WebSocket]:
        """An awaitable of a WebSocket (url relative to base_url; http(s) → ws(s))."""

class _WebSocket:
    """The C base of WebSocket (asyncio: methods return awaitables) and SyncWebSocket
    (blocking: they return values)."""

    def send_text(self, data: str, *, final: bool = True) -> Any: ...
    def send_bytes(self, data: bytes | bytearray | memoryview, *, final: bool = True) -> Any: ...
    def recv(self) -> Any: ...
    def ping(self, payload: bytes | str = b"") -> Any: ...
    def close(self, code: int = 1000, reason: str | None = None) -> Any: ...
    @property
    def subprotocol(self) -> str | None: ...
    @property
    def extensions(self) -> str | None: ...
    @property
    def close_code(self) -> int | None: ...
    @property
    def close_reason(self) -> str | None: ...

def _ws_open(
    cls: Any,
    client: Client,
    url: str,
    headers: Any,
    subprotocols: Any,
    extensions: Any,
    timeout: Any,
    own_client: bool,
) -> Any: ...

class MultipartStream:
    """A multipart/form-data body being produced (see fasthttp.formdata).

    An iterator of bytes and a binary file-like object; made by
    MultipartEncoder.iter_bytes(). As content= it is sent with Content-Length
    when content_length is known.
    """

    def __init__(self, boundary: str | None = None, *, chunk_size: int = 65536) -> None: ...
    @property
    def content_type(self) -> str: ...
    @property
    def content_length(self) -> int | None: ...
    @property
    def boundary(self) -> str: ...
    @property
    def has_async(self) -> bool: ...
    @property
    def closed(self) -> bool: ...
    def read(self, size: int | None = -1, /) -> bytes: ...
    def close(self) -> None: ...
    def __iter__(self) -> MultipartStream: ...
    def __next__(self) -> bytes: ...
    def _add(
        self,
        name: str,
        filename: str | None,
        content_type: str | None,
        kind: int,
        source: Any,
        length: int,
        /,
    ) -> None: ...
    def _read_async(self, size: int, /) -> bytes | None: ...
    def _waiting(self) -> tuple[int, Any] | None: ...
    def _feed(self, chunk: bytes | None, /) -> None: ...

def _check_digest_algorithm(name: str, /) -> None: ...
