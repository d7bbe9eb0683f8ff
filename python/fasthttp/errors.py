"""Exceptions raised by fasthttp.

Hierarchy::

    FastHTTPError
    ├── RequestError                 the request could not be completed
    │   ├── ConnectError             name resolution or TCP connect failed
    │   │   └── ProxyError           the proxy refused or failed (status_code: its answer)
    │   ├── TimeoutException         (also the builtin TimeoutError)
    │   │   ├── ConnectTimeout
    │   │   ├── ReadTimeout
    │   │   ├── WriteTimeout
    │   │   ├── TotalTimeout
    │   │   └── PoolTimeout          (also a PoolError)
    │   ├── TLSError
    │   │   └── CertificateError     the server certificate was not trusted
    │   ├── NetworkError             a socket error while sending or receiving
    │   ├── InvalidRequest           refused before anything was sent (also ValueError)
    │   │   ├── InvalidURL
    │   │   └── UnsupportedProtocol
    │   ├── RequestBodyError         the request body (iterator, file) failed
    │   │   └── BodyNotReplayable    a 307/308 redirect needs a streamed body again
    │   ├── HTTP2NotAvailable        HTTP/2 was required and the server cannot speak it
    │   ├── RedirectError            a redirect without a usable Location
    │   │   └── TooManyRedirects     more redirects than max_redirects
    │   └── CircuitOpenError         the circuit breaker is open for the origin
    ├── ResponseError                the response could not be read
    │   ├── RemoteProtocolError      malformed response, or the peer closed early
    │   ├── DecodingError            gzip / deflate / br / zstd content was corrupt
    │   └── ResponseTooLarge         buffered body over the configured limit
    ├── HTTPStatusError              raise_for_status() on a 4xx or 5xx response
    ├── PoolError
    │   └── PoolTimeout
    ├── ClientClosedError            the Client was closed (also RuntimeError)
    ├── StreamError                  (also RuntimeError)
    │   ├── StreamConsumed           the streamed body was already iterated
    │   └── StreamClosed             the response was closed before reading
    └── WebSocketError
        ├── WebSocketHandshakeError      the server refused the upgrade (status_code, headers)
        ├── WebSocketClosed              the connection is closed (code, reason)
        ├── WebSocketProtocolError       bad URL, or the peer broke RFC 6455 (close_code)
        ├── WebSocketMessageTypeError
        └── WebSocketDecodeError

Exceptions raised for a request carry ``request`` (the :class:`fasthttp.Request`)
and ``code`` (libfasthttp's negative ``FH_E...`` error code, or ``None``).

A request in flight (or a streamed response not read to its end) when the process
forked raises :class:`RequestError` with ``code == FH_EFORKED`` in the child: it
belongs to the parent, which gets its response.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ._fasthttp import Request, Response

__all__ = [
    "BodyNotReplayable",
    "CertificateError",
    "CircuitOpenError",
    "ClientClosedError",
    "ConnectError",
    "ConnectTimeout",
    "DecodingError",
    "FastHTTPError",
    "HTTP2NotAvailable",
    "HTTPStatusError",
    "InvalidRequest",
    "InvalidURL",
    "NetworkError",
    "PoolError",
    "PoolTimeout",
    "ProxyError",
    "ReadTimeout",
    "RedirectError",
    "RemoteProtocolError",
    "RequestBodyError",
    "RequestError",
    "ResponseError",
    "ResponseTooLarge",
    "StreamClosed",
    "StreamConsumed",
    "StreamError",
    "TLSError",
    "TimeoutException",
    "TooManyRedirects",
    "TotalTimeout",
    "UnsupportedProtocol",
    "WebSocketClosed",
    "WebSocketDecodeError",
    "WebSocketError",
    "WebSocketHandshakeError",
    "WebSocketMessageTypeError",
    "WebSocketProtocolError",
    "WriteTimeout",
]


class FastHTTPError(Exception):
    """Base class of every fasthttp exception."""

    def __init__(
        self, message: str = "", *, request: Request | None = None, code: int | None = None
    ) -> None:
        super().__init__(message)
        self.request = request
        self.code = code

    @property
    def message(self) -> str:
        return str(self.args[0]) if self.args else ""


class RequestError(FastHTTPError):
    """The request could not be completed."""


class ResponseError(FastHTTPError):
    """The response could not be read."""


class ConnectError(RequestError):
    """The host name could not be resolved or the TCP connection failed."""


class TimeoutException(RequestError, TimeoutError):
    """A timeout of :class:`fasthttp.timeouts.Timeout` expired."""


class ConnectTimeout(TimeoutException):
    """Connecting (DNS, TCP and TLS) took longer than ``Timeout.connect``."""


class ReadTimeout(TimeoutException):
    """No response byte arrived within ``Timeout.read``."""


class WriteTimeout(TimeoutException):
    """The request could not be written within ``Timeout.write``."""


class TotalTimeout(TimeoutException):
    """The whole exchange took longer than ``Timeout.total``."""


class PoolError(FastHTTPError):
    """A connection-pool failure."""


class PoolTimeout(PoolError, TimeoutException):
    """No pooled connection became free within ``Timeout.pool``."""


class TLSError(RequestError):
    """The TLS handshake or the TLS record layer failed."""


class CertificateError(TLSError):
    """The server certificate could not be verified."""


class NetworkError(RequestError):
    """A socket error while sending the request or receiving the response."""


class InvalidRequest(RequestError, ValueError):
    """The request was refused before anything was sent (bad method, header or URL)."""


class InvalidURL(InvalidRequest):
    """The URL is malformed."""


class UnsupportedProtocol(InvalidRequest):
    """The URL scheme is not supported (http and https are)."""


class RequestBodyError(RequestError):
    """The request body source failed or gave a wrong length."""


class BodyNotReplayable(RequestBodyError):
    """A 307 or 308 redirect asks for the body again, but it came from an iterator or
    a file and was consumed (send bytes, or pass ``follow_redirects=False``)."""


class ProxyError(ConnectError):
    """The proxy refused or failed the connection: it answered CONNECT with a status
    other than 2xx (``status_code``: 407 when it wants credentials or refused them,
    403, 502, ...), answered a forward-mode request with 407, refused a SOCKS5
    request (``status_code`` None; the message has RFC 1928's reason), or closed
    during its handshake. The connection to the origin never opened, so the request
    was not sent."""

    status_code: int | None = None


class HTTP2NotAvailable(RequestError):
    """HTTP/2 was required (``Client(http2=True, http1=False)``) and the server did not
    agree to it (ALPN chose HTTP/1.1, or a cleartext server does not speak HTTP/2)."""


class RedirectError(RequestError):
    """A redirect could not be followed: no ``Location``, an invalid one, or one to a
    scheme other than http and https."""


class TooManyRedirects(RedirectError):
    """More redirects than ``max_redirects`` (default 20) for one request."""


class CircuitOpenError(RequestError):
    """The circuit breaker of :class:`fasthttp.retry.RetryPolicy` is open for this
    origin: the request failed at once, without touching the network."""


class RemoteProtocolError(ResponseError):
    """The server sent a malformed response or closed the connection early."""


class DecodingError(ResponseError):
    """The response content could not be decoded (gzip, deflate, br, zstd)."""


class ResponseTooLarge(ResponseError):
    """The buffered response body exceeded the configured maximum."""


class HTTPStatusError(FastHTTPError):
    """Raised by :meth:`Response.raise_for_status` for 4xx and 5xx responses."""

    def __init__(
        self,
        message: str = "",
        *,
        request: Request | None = None,
        response: Response | None = None,
        code: int | None = None,
    ) -> None:
        super().__init__(message, request=request, code=code)
        self.response = response


class ClientClosedError(FastHTTPError, RuntimeError):
    """The Client was used after ``close()`` (or after its ``with`` block)."""


class StreamError(FastHTTPError, RuntimeError):
    """A streamed response body was used in a way that cannot work."""


class StreamConsumed(StreamError):
    """The streamed body was already consumed by an iterator."""


class StreamClosed(StreamError):
    """The response was closed before its body was read."""


class WebSocketError(FastHTTPError):
    """Base class of WebSocket errors."""


class WebSocketHandshakeError(WebSocketError):
    """The server refused the upgrade (``status_code`` and ``headers`` of its answer), or
    answered 101 with a wrong ``Sec-WebSocket-Accept``, or with a subprotocol or
    extension that was not offered. Failures before any answer (connect, TLS, timeouts)
    raise the usual :class:`RequestError` subclasses."""

    def __init__(self, message: str = "", *, status_code: int | None = None,
                 headers: Any = None, **kw: Any) -> None:
        super().__init__(message, **kw)
        self.status_code = status_code
        self.headers = headers


class WebSocketClosed(WebSocketError):
    """The WebSocket connection is already closed."""

    def __init__(self, message: str = "", *, code: int | None = None, reason: str = "",
                 **kw: Any) -> None:
        super().__init__(message, **kw)
        self.code = code
        self.reason = reason


class WebSocketProtocolError(WebSocketError):
    """An invalid WebSocket URL, or a protocol violation by the peer: the connection was
    failed with ``close_code`` (1002 protocol error, 1007 invalid payload, 1009 message
    too big)."""

    def __init__(self, message: str = "", *, close_code: int | None = None,
                 **kw: Any) -> None:
        super().__init__(message, **kw)
        self.close_code = close_code


class WebSocketMessageTypeError(WebSocketError):
    """The message was not of the expected type (text or binary)."""


class WebSocketDecodeError(WebSocketError):
    """A text or JSON payload could not be decoded."""
