"""fasthttp: a fast HTTP client for Python, written in C over libfasthttp.

Synchronous use::

    from fasthttp import Client

    with Client(base_url="https://api.example.com") as client:
        resp = client.get("/users", params={"page": 1})
        resp.raise_for_status()
        print(resp.json())

One-shot (a Client per call, see ``fasthttp._api``)::

    resp = fasthttp.get("https://api.example.com/users", params={"page": 1})
"""

from __future__ import annotations

from collections.abc import MutableMapping

from . import (
    _log,  # noqa: F401  (hands the "fasthttp" logger to the C core)
    auth,
    cookies,
    errors,
    formdata,
    retry,
    timeouts,
    websocket,
)
from ._api import delete, get, head, options, patch, post, put, request, trace
from ._elapsed import Elapsed
from ._fasthttp import Client, Headers, Request, Response
from ._fasthttp import __version__ as __version__
from .auth import AuthBase, BasicAuth, DigestAuth
from .cookies import Cookie, CookieJar
from .errors import (
    FastHTTPError,
    HTTPStatusError,
    PoolError,
    RequestError,
    ResponseError,
    WebSocketClosed,
    WebSocketDecodeError,
    WebSocketError,
    WebSocketHandshakeError,
    WebSocketMessageTypeError,
    WebSocketProtocolError,
)
from .limits import Limits
from .retry import RetryPolicy
from .timeouts import Timeout
from .websocket import SyncWebSocket, WebSocket

MutableMapping.register(Headers)

__all__ = [
    "AuthBase",
    "BasicAuth",
    "Client",
    "Cookie",
    "CookieJar",
    "DigestAuth",
    "Elapsed",
    "FastHTTPError",
    "HTTPStatusError",
    "Headers",
    "Limits",
    "PoolError",
    "Request",
    "RequestError",
    "Response",
    "ResponseError",
    "RetryPolicy",
    "SyncWebSocket",
    "Timeout",
    "WebSocket",
    "WebSocketClosed",
    "WebSocketDecodeError",
    "WebSocketError",
    "WebSocketHandshakeError",
    "WebSocketMessageTypeError",
    "WebSocketProtocolError",
    "__version__",
    "auth",
    "cookies",
    "delete",
    "errors",
    "formdata",
    "get",
    "head",
    "options",
    "patch",
    "post",
    "put",
    "request",
    "retry",
    "timeouts",
    "trace",
    "websocket",
]
