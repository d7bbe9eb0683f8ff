"""Cookies: an RFC 6265 cookie jar kept by libfasthttp.

Usage (the seed README's example)::

    from fasthttp import Client
    from fasthttp.cookies import CookieJar

    jar = CookieJar()
    jar.set("session_id", "abc123", domain="example.com", path="/", secure=True)

    with Client(cookies=jar) as client:
        resp = client.get("https://example.com/protected")

Every Client has a jar, ``client.cookies``: the one given as ``cookies=`` (used
as is, so the program sees what servers set), a new jar filled from a dict, or
an empty one. Every response updates it from its ``Set-Cookie`` fields,
redirect hops included, and each request and hop sends the cookies that match
its URL (RFC 6265: domain and path matching, ``Secure`` cookies only over
https, expiry, host-only cookies for IP addresses and for servers that gave no
``Domain``, cookies for public suffixes such as ``co.uk`` refused, size and
count limits). The jar is thread-safe.

``cookies=`` on one request (a dict or a jar) adds cookies for that request
only: they are sent with the client's (winning over a client cookie of the same
name, domain and path) and are not stored in ``client.cookies``. Dict cookies
given per request are scoped to the request's host. A ``Cookie`` header set by
the caller replaces the jar's cookies; like ``Authorization`` it is dropped once
a redirect leaves the request's origin.

``jar.set()`` without ``domain`` makes a cookie that is sent to every host the
client talks to (what users of requests and httpx expect of a domain-less
cookie); give ``domain=`` to keep it to one site and its subdomains.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import TypeVar, overload

from ._fasthttp import _CookieJar

__all__ = ["Cookie", "CookieJar"]

_T = TypeVar("_T")


@dataclass(frozen=True)
class Cookie:
    """One cookie of a jar (a copy: changing the jar does not change it)."""

    name: str
    value: str
    #: lower case, no leading dot; "" for a cookie set without a domain (sent everywhere)
    domain: str
    path: str
    #: sent over https only
    secure: bool
    http_only: bool
    #: True: sent to exactly ``domain``; False: to its subdomains too
    host_only: bool
    #: seconds since the epoch, or None for a session cookie
    expires: int | None
    #: "Strict", "Lax", "None" or None (kept as information only)
    same_site: str | None


class CookieJar(_CookieJar):
    """A thread-safe RFC 6265 cookie jar.

    ``set(name, value, domain=None, path="/", secure=False, http_only=False,
    expires=None)`` stores a cookie (replacing one with the same name, domain
    and path); ``get``, ``delete`` and ``clear`` read and remove. ``len(jar)``
    counts cookies; iterating yields :class:`Cookie` objects (in the order they
    were created); ``name in jar`` tests for a cookie of that name (or a
    :class:`Cookie`). Expired cookies disappear by themselves.
    """

    def __init__(self, cookies: Mapping[str, str] | CookieJar | None = None) -> None:
        super().__init__()
        if cookies is not None:
            self.update(cookies)

    @overload
    def get(self, name: str, default: None = None, domain: str | None = None,
            path: str | None = None) -> str | None: ...
    @overload
    def get(self, name: str, default: _T, domain: str | None = None,
            path: str | None = None) -> str | _T: ...
    def get(self, name: str, default: object = None, domain: str | None = None,
            path: str | None = None) -> object:
        """The value of the first cookie (creation order) named ``name`` — of that
        ``domain`` and ``path`` when given ("" is the domain of domain-less
        cookies) — or ``default``."""
        c = self._get(name, domain, path)
        return default if c is None else c[1]

    def get_cookie(self, name: str, domain: str | None = None,
                   path: str | None = None) -> Cookie | None:
        """Like :meth:`get`, but the whole :class:`Cookie` (or None)."""
        c = self._get(name, domain, path)
        return None if c is None else Cookie(*c)

    def __iter__(self) -> Iterator[Cookie]:
        return iter([Cookie(*c) for c in self._entries()])

    def __contains__(self, item: object) -> bool:
        if isinstance(item, Cookie):
            return self._get(item.name, item.domain, item.path) is not None
        return isinstance(item, str) and self._get(item, None, None) is not None

    def update(self, cookies: Mapping[str, str] | CookieJar) -> None:
        """Adds the cookies of a dict (without a domain) or of another jar."""
        if isinstance(cookies, _CookieJar):
            self._merge(cookies)
            return
        if not isinstance(cookies, Mapping):
            raise TypeError("cookies must be a CookieJar or a dict of str to str, "
                            f"not {type(cookies).__name__}")
        for name, value in cookies.items():
            self.set(name, value)

    def to_dict(self) -> dict[str, str]:
        """``{name: value}`` (a later cookie of the same name wins)."""
        return {c.name: c.value for c in self}

    def __repr__(self) -> str:
        inner = ", ".join(f"{c.name}={c.value!r} for {c.domain or '*'}{c.path}" for c in self)
        return f"<CookieJar[{inner}]>"
