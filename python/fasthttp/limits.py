"""Limits of a :class:`fasthttp.Client`: its connection pool, and the sizes it
accepts from servers (and sends to them).

``Client(limits=Limits(max_connections=200, max_body_size=10_000_000))`` sets
them for every request; ``client.get(url, limits=Limits(max_body_size=...))``
overrides the size limits for one request. A field left at ``None`` keeps
libfasthttp's default; :meth:`Limits.defaults` lists them. The ranges are
libfasthttp's too (``fh_limit_check``, ``fh_pool_limits_check``): sizes from 1 to
2**62, pool sizes up to 1000000, ``keepalive_expiry`` up to 1e9 seconds.
"""

from __future__ import annotations

from ._fasthttp import _limit_check, _limit_defaults, _pool_check, _timeout_check

__all__ = ["Limits"]

_POOL = ("max_connections", "max_connections_per_host", "max_keepalive_per_host",
         "keepalive_expiry")
_SIZES = ("max_status_line_size", "max_header_size", "max_header_count",
          "max_interim_responses", "max_body_size", "max_trailer_size",
          "max_content_encodings", "max_decoded_body_size", "max_request_header_size")


def _check_int(name: str, value: int | None) -> None:
    if value is not None and (isinstance(value, bool) or not isinstance(value, int)):
        raise TypeError(f"Limits.{name} must be an int or None, not {type(value).__name__}")


def _refuse(problem: str | None, value: object) -> None:
    """Raises libfasthttp's sentence about a field, with the value given."""
    if problem is not None:
        raise ValueError(f"Limits.{problem}, not {value!r}")


class Limits:
    """Pool sizes and size limits. Every field is keyword-only; ``None`` means
    libfasthttp's default (see :meth:`defaults`).

    Pool (``Client(limits=...)`` only):

    - ``max_connections``: open connections of the client, all origins
      together (default 100);
    - ``max_connections_per_host``: open connections to one origin (scheme,
      host, port); further requests wait up to ``Timeout.pool`` (default 10);
    - ``max_keepalive_per_host``: idle connections kept per origin for reuse
      (default: as many as ``max_connections_per_host``);
    - ``keepalive_expiry``: seconds an idle connection is kept (default 60).

    Sizes (the client's, and per request with ``limits=`` on a request;
    exceeding one raises an error naming it):

    - ``max_body_size``: a buffered response body, after decoding;
    - ``max_decoded_body_size``: a buffered body that came with a
      ``Content-Encoding``, after decoding — lower, because compression lets
      a server make the client hold far more than it sent (a 1 MiB gzip
      holds 1 GiB of zeros);
    - ``max_header_size``, ``max_status_line_size``, ``max_header_count``,
      ``max_trailer_size``, ``max_interim_responses``,
      ``max_content_encodings``: the response head and framing;
    - ``max_request_header_size``: the request head this client writes.

    None of the response limits applies to ``stream=True``: a streamed body
    is read in pieces of bounded size, whatever its length or compression.
    """

    __slots__ = _POOL + _SIZES

    def __init__(
        self,
        *,
        max_connections: int | None = None,
        max_connections_per_host: int | None = None,
        max_keepalive_per_host: int | None = None,
        keepalive_expiry: float | None = None,
        max_status_line_size: int | None = None,
        max_header_size: int | None = None,
        max_header_count: int | None = None,
        max_interim_responses: int | None = None,
        max_body_size: int | None = None,
        max_trailer_size: int | None = None,
        max_content_encodings: int | None = None,
        max_decoded_body_size: int | None = None,
        max_request_header_size: int | None = None,
    ) -> None:
        pool = (max_connections, max_connections_per_host, max_keepalive_per_host)
        for name, value in zip(_POOL, pool):
            _check_int(name, value)
        problem = _pool_check(*pool)  # libfasthttp's ranges (fh_pool_limits_check)
        if problem is not None:
            name = problem.split(" ", 1)[0]
            _refuse(problem, pool[_POOL.index(name)])
        if keepalive_expiry is not None:
            if isinstance(keepalive_expiry, bool) or not isinstance(keepalive_expiry, (int, float)):
                raise TypeError("Limits.keepalive_expiry must be a number of seconds or None, "
                                f"not {type(keepalive_expiry).__name__}")
            problem = _timeout_check(keepalive_expiry)
            _refuse(None if problem is None else f"keepalive_expiry {problem}", keepalive_expiry)
        self.max_connections = max_connections
        self.max_connections_per_host = max_connections_per_host
        self.max_keepalive_per_host = max_keepalive_per_host
        self.keepalive_expiry = None if keepalive_expiry is None else float(keepalive_expiry)
        sizes = (max_status_line_size, max_header_size, max_header_count,
                 max_interim_responses, max_body_size, max_trailer_size,
                 max_content_encodings, max_decoded_body_size, max_request_header_size)
        for name, value in zip(_SIZES, sizes):
            _check_int(name, value)
            if value is not None:
                _refuse(_limit_check(name, value), value)  # fh_limit_check
            setattr(self, name, value)

    @staticmethod
    def defaults() -> dict[str, int]:
        """libfasthttp's default of every size limit, by field name."""
        return dict(_limit_defaults())

    def __repr__(self) -> str:
        given = ", ".join(f"{n}={getattr(self, n)!r}" for n in self.__slots__
                          if getattr(self, n) is not None)
        return f"Limits({given})"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Limits):
            return NotImplemented
        return all(getattr(self, n) == getattr(other, n) for n in self.__slots__)

    __hash__ = None  # type: ignore[assignment]
