"""One-shot requests: ``fasthttp.get(url, **kw)`` and friends (synchronous).

Each call makes a :class:`~fasthttp.Client` for itself, sends one request
(redirects, retries and auth rounds included) and closes the client: nothing
is shared between calls — no cookies, no circuit breaker, no connections.
Its connection is closed when the call returns, or, with ``stream=True``,
when the response is read to the end or closed. This is what ``requests.get``
and ``httpx.get`` do; for many requests to a server, use one ``Client``: it
keeps connections open and reuses them (the pool), which is where most of
fasthttp's speed comes from.

Keyword arguments are those of ``Client.request`` (``params``, ``headers``,
``json``, ``data``, ``files``, ``content``, ``timeout``, ``stream``,
``cookies``, ``auth``, ``hooks``, ``follow_redirects``, ``retry``, ``http2``,
``limits``, ``expect_continue``, ``uds``); ``verify``, ``cert``, ``max_redirects``,
``http1``, ``user_agent``, ``proxy``, ``proxies`` and ``trust_env``, which only a
Client takes, go to the client made for the call.

These are synchronous, as ``requests.get`` is: in a coroutine they block the
event loop for the duration of the request. In asyncio code use
``async with fasthttp.Client() as client: await client.get(url)``.
"""

from __future__ import annotations

from typing import Any

from ._fasthttp import Client, Response

__all__ = ["delete", "get", "head", "options", "patch", "post", "put", "request", "trace"]

_CLIENT_ONLY = (
    "verify", "cert", "max_redirects", "http1", "user_agent", "proxy", "proxies", "trust_env",
)


def request(method: str, url: str, **kwargs: Any) -> Response:
    """Sends one request with a Client made for it (see the module doc)."""
    options = {k: kwargs.pop(k) for k in _CLIENT_ONLY if k in kwargs}
    with Client(**options) as client:
        return client.request(method, url, **kwargs)


def get(url: str, **kwargs: Any) -> Response:
    """``request("GET", url, **kwargs)``."""
    return request("GET", url, **kwargs)


def post(url: str, **kwargs: Any) -> Response:
    """``request("POST", url, **kwargs)``."""
    return request("POST", url, **kwargs)


def put(url: str, **kwargs: Any) -> Response:
    """``request("PUT", url, **kwargs)``."""
    return request("PUT", url, **kwargs)


def patch(url: str, **kwargs: Any) -> Response:
    """``request("PATCH", url, **kwargs)``."""
    return request("PATCH", url, **kwargs)


def delete(url: str, **kwargs: Any) -> Response:
    """``request("DELETE", url, **kwargs)``."""
    return request("DELETE", url, **kwargs)


def head(url: str, **kwargs: Any) -> Response:
    """``request("HEAD", url, **kwargs)``."""
    return request("HEAD", url, **kwargs)


def options(url: str, **kwargs: Any) -> Response:
    """``request("OPTIONS", url, **kwargs)``."""
    return request("OPTIONS", url, **kwargs)


def trace(url: str, **kwargs: Any) -> Response:
    """``request("TRACE", url, **kwargs)``."""
    return request("TRACE", url, **kwargs)
