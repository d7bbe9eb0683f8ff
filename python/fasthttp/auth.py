"""Authentication: Basic, Digest and custom schemes.

``auth=`` is accepted by ``Client(...)`` and by every request method; a
request's ``auth`` wins over the client's. It may be:

- a ``(user, password)`` tuple or :class:`BasicAuth` — HTTP Basic (RFC 7617);
- :class:`DigestAuth` — HTTP Digest (RFC 7616: MD5, SHA-256, SHA-512-256 and
  their ``-sess`` variants, ``qop=auth``, nonce counts; the 401 challenge is
  answered once, a second time only when the server says ``stale=true``; a
  further 401 is returned to the caller);
- an :class:`AuthBase` subclass (or any object with ``on_request`` /
  ``on_response``, or a plain callable taking the Request) for other schemes.

Basic and Digest run inside libfasthttp's engine: their credentials are sent
only to the origin of the request's URL and never follow a redirect to another
scheme, host or port. The engine also drops the ``Authorization``,
``Proxy-Authorization`` and ``Cookie`` headers of the request (whoever set them,
a custom auth included) once a redirect leaves the origin.

Custom schemes, as called by the client:

1. ``on_request(request)`` runs once, before the request is sent (not again
   for redirect hops, which the engine follows). It may change ``request``
   (for example ``request.headers[...]``) or return another Request to send.
   :class:`AuthBase`'s default calls ``_on_request(request)``, so overriding
   either spelling works (the seed README overrides ``_on_request``).
2. ``on_response(request, response)`` runs on each final response (after
   redirects); returning a Request sends that request next (challenge and
   response), returning None ends the exchange. At most
   :data:`MAX_AUTH_ROUNDS` requests follow the first. The default calls
   ``_on_response(request, response)``.

Either may be ``async def``: the asyncio client awaits it; the synchronous
client runs it to completion on a private event loop.

Headers other than ``Authorization``/``Proxy-Authorization``/``Cookie`` that a
custom scheme adds (``X-API-Key`` and the like) are sent on every redirect hop
of that request, including hops to another origin; pass
``follow_redirects=False`` when that matters.
"""

from __future__ import annotations

from collections.abc import Awaitable
from typing import TYPE_CHECKING, ClassVar, Union

from ._fasthttp import _check_auth, _check_digest_algorithm

if TYPE_CHECKING:
    from ._fasthttp import Request, Response

__all__ = ["MAX_AUTH_ROUNDS", "AuthBase", "BasicAuth", "DigestAuth"]

#: Requests an ``on_response`` may send after the first one, at most.
MAX_AUTH_ROUNDS = 5

RequestResult = Union["Request", None, Awaitable[Union["Request", None]]]


class AuthBase:
    """Base class of authentication schemes; override ``on_request`` and/or
    ``on_response`` (or their ``_on_request`` / ``_on_response`` spellings)."""

    def on_request(self, request: Request) -> RequestResult:
        """Called once before the request is sent; may change it or return another."""
        return self._on_request(request)

    def on_response(self, request: Request, response: Response) -> RequestResult:
        """Called with the final response; may return a Request to send next."""
        return self._on_response(request, response)

    def _on_request(self, request: Request) -> RequestResult:
        return None

    def _on_response(self, request: Request, response: Response) -> RequestResult:
        return None


class _EngineAuth(AuthBase):
    """Credentials the engine itself uses (its on_request/on_response are not called)."""

    _fh_kind: ClassVar[int] = 0

    def __init__(self, username: str, password: str) -> None:
        for what, v in (("username", username), ("password", password)):
            if not isinstance(v, str):
                raise TypeError(f"{type(self).__name__}: {what} must be a str, "
                                f"not {type(v).__name__}")
            if "\0" in v:
                raise ValueError(f"{type(self).__name__}: {what} contains a NUL character")
        # libfasthttp's rules (fh_auth_check): no ':' in a Basic user name
        # (RFC 7617 §2), no control characters in either part.
        _check_auth(self._fh_kind, username, password)
        self.username = username
        self.password = password

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.username!r}, '***')"

    def __eq__(self, other: object) -> bool:
        return (type(other) is type(self) and isinstance(other, _EngineAuth)
                and (other.username, other.password) == (self.username, self.password))

    def __hash__(self) -> int:
        return hash((type(self), self.username, self.password))


class BasicAuth(_EngineAuth):
    """HTTP Basic authentication (RFC 7617; credentials sent as UTF-8)."""

    _fh_kind = 1


class DigestAuth(_EngineAuth):
    """HTTP Digest authentication (RFC 7616), answered by the engine.

    ``algorithm`` (the original library's keyword) picks the one algorithm to
    answer with: "MD5", "SHA-256" or "SHA-512-256", each optionally with
    "-sess" (case-insensitive). Only a challenge with that algorithm is
    answered (RFC 7616 §3.7: the client chooses among the challenges); a 401
    offering none is returned as it is. None (default): the strongest one
    the server offers. libfasthttp checks the name (``ValueError``).
    """

    _fh_kind = 2

    def __init__(self, username: str, password: str, *, algorithm: str | None = None) -> None:
        super().__init__(username, password)
        if algorithm is not None:
            if not isinstance(algorithm, str):
                raise TypeError("DigestAuth: algorithm must be a str or None, "
                                f"not {type(algorithm).__name__}")
            _check_digest_algorithm(algorithm)
        self.algorithm = algorithm

    def __repr__(self) -> str:
        alg = f", algorithm={self.algorithm!r}" if self.algorithm else ""
        return f"DigestAuth({self.username!r}, '***'{alg})"

    def __eq__(self, other: object) -> bool:
        return super().__eq__(other) and isinstance(other, DigestAuth) and \
            (other.algorithm or "").upper() == (self.algorithm or "").upper()

    def __hash__(self) -> int:
        return hash((type(self), self.username, self.password, (self.algorithm or "").upper()))
