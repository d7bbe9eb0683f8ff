"""fasthttp: a fast HTTP client for Python, written in C over libfasthttp.

Synchronous use::

    from fasthttp import Client

    with Client(base_url="https://api.example.com") as client:
        resp = client.get("/users", params={"page": 1})
        resp.raise_for_status()
        print(resp.json())
"""

from __future__ import annotations

from collections.abc import MutableMapping

from . import errors, formdata, timeouts
from ._fasthttp import Client, Headers, Request, Response
from ._fasthttp import __version__ as __version__
from .errors import (
    FastHTTPError,
    HTTPStatusError,
    PoolError,
    RequestError,
    ResponseError,
)
from .limits import Limits
from .timeouts import Timeout

MutableMapping.register(Headers)

__all__ = [
    "Client",
    "FastHTTPError",
    "HTTPStatusError",
    "Headers",
    "Limits",
    "PoolError",
    "Request",
    "RequestError",
    "Response",
    "ResponseError",
    "Timeout",
    "__version__",
    "errors",
    "formdata",
    "timeouts",
]
