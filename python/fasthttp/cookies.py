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

import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar, overload

from ._fasthttp import _CookieJar

if TYPE_CHECKING:
    from ._fasthttp import Response

__all__ = ["Cookie", "CookieJar"]

_T = TypeVar("_T")


@dataclass(frozen=True)
class Cookie:
    """One cookie of a jar (a copy: changing the jar does not change it).

    Made like the original library's ``Cookie(name, value, domain=None,
    path="/", expires=None, secure=False, httponly=False, samesite=None)``;
    ``http_only`` and ``same_site`` read the same fields under fasthttp's
    earlier spellings.
    """

    name: str
    value: str
    #: lower case, no leading dot; None for a cookie set without a domain (sent everywhere)
    domain: str | None = None
    path: str = "/"
    #: seconds since the epoch, or None for a session cookie
    expires: float | None = None
    #: sent over https only
    secure: bool = False
    httponly: bool = False
    #: "Strict", "Lax", "None" or None (kept as information only)
    samesite: str | None = None
    #: True: sent to exactly ``domain``; False: to its subdomains too
    host_only: bool = False

    @property
    def http_only(self) -> bool:
        """The same as :attr:`httponly`."""
        return self.httponly

    @property
    def same_site(self) -> str | None:
        """The same as :attr:`samesite`."""
        return self.samesite

    def is_expired(self, now: float | None = None) -> bool:
        """True when the cookie's expiry time has passed (RFC 6265 §5.3: at or
        before ``now``, seconds since the epoch, default the current time);
        a session cookie (``expires is None``) never expires."""
        if self.expires is None:
            return False
        return self.expires <= (time.time() if now is None else now)

    @classmethod
    def _from_jar(cls, t: tuple[Any, ...]) -> Cookie:
        name, value, domain, path, secure, http_only, host_only, expires, same_site = t
        return cls(name, value, domain or None, path, expires, secure, http_only, same_site,
                   host_only)


class CookieJar(_CookieJar):
    """A thread-safe RFC 6265 cookie jar.

    ``set(name, value, domain=None, path="/", secure=False, http_only=False,
    expires=None, *, httponly=None, samesite=None)`` stores a cookie
    (replacing one with the same name, domain and path; ``httponly`` and
    ``samesite`` are the original library's spellings); ``get``, ``delete``
    (alias ``remove``) and ``clear`` read and remove; ``get_cookie_header(url)``
    and ``add_from_response(resp)`` do what a Client does with a jar. ``len(jar)``
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
        return None if c is None else Cookie._from_jar(c)

    def __iter__(self) -> Iterator[Cookie]:
        return iter([Cookie._from_jar(c) for c in self._entries()])

    def __contains__(self, item: object) -> bool:
        if isinstance(item, Cookie):
            return self._get(item.name, item.domain or "", item.path) is not None
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

    def remove(self, name: str, domain: str | None = None, path: str | None = None) -> int:
        """The original library's name for :meth:`delete`: removes the cookies
        named ``name`` (of that ``domain`` and ``path`` when given); returns
        how many."""
        return self.delete(name, domain, path)

    def get_cookie_header(self, url: str) -> str | None:
        """The ``Cookie`` header value a request to ``url`` would carry
        (``"a=1; b=2"``, RFC 6265 §5.4: domain and path matching, Secure
        cookies only for https, longer paths first), or None when no cookie
        matches. The rules are libfasthttp's, the ones the Client uses."""
        return self._header(url)

    def add_from_response(self, response: Response) -> None:
        """Stores the ``Set-Cookie`` fields of ``response`` and of its redirect
        hops (``response.history``), each as received from its own URL, with
        the rules a Client applies (RFC 6265 §5.2-5.3: default domain and
        path, public suffixes and other sites refused, Secure only from
        https). A Client does this by itself for its own jar; this is for
        another jar, or a Response built by hand."""
        for r in [*response.history, response]:
            for value in r.headers.get_list("set-cookie"):
                self._store(r.url, value)

    def to_dict(self) -> dict[str, str]:
        """``{name: value}`` (a later cookie of the same name wins)."""
        return {c.name: c.value for c in self}

    def __repr__(self) -> str:
        inner = ", ".join(f"{c.name}={c.value!r} for {c.domain or '*'}{c.path}" for c in self)
        return f"<CookieJar[{inner}]>"
