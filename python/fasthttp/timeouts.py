"""Timeouts: how long each phase of a request may take.

``Timeout()`` means no timeouts at all; ``Timeout(5)`` limits every phase and
the whole exchange to 5 seconds; keyword arguments set or override single
phases, e.g. ``Timeout(connect=5, read=10, total=30)``. Values are seconds
(int or float) from 0 to 1e9, libfasthttp's range (``fh_timeout_check``); ``None``
means no limit for that phase.

- ``connect``: DNS resolution, TCP connect and TLS handshake;
- ``read``: the longest silence while waiting for response bytes (with
  ``stream=True``, only while you wait in a read);
- ``write``: the longest stall while sending the request;
- ``pool``: the wait for a free connection when the pool is at its limit;
- ``total``: the whole exchange, including a streamed body.

A number passed where a timeout is expected (``Client(timeout=5)``) is the same
as ``Timeout(5)``.
"""

from __future__ import annotations

from typing import Any, Union

from ._fasthttp import _timeout_check

__all__ = ["Timeout", "TimeoutTypes"]

_UNSET: Any = object()  # "not given": the positional default applies


def _check(name: str, value: float | None) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"Timeout.{name} must be a number of seconds or None, "
                        f"not {type(value).__name__}")
    problem = _timeout_check(value)  # libfasthttp's range (fh_timeout_check)
    if problem is not None:
        raise ValueError(f"Timeout.{name} {problem}, or None (no limit), not {value!r}")
    return value


class Timeout:
    """Per-phase timeouts in seconds; see the module documentation."""

    __slots__ = ("connect", "pool", "read", "total", "write")

    connect: float | None
    read: float | None
    write: float | None
    pool: float | None
    total: float | None

    def __init__(
        self,
        timeout: float | None = None,
        *,
        connect: float | None = _UNSET,
        read: float | None = _UNSET,
        write: float | None = _UNSET,
        pool: float | None = _UNSET,
        total: float | None = _UNSET,
    ) -> None:
        default = _check("timeout", timeout)
        for name, value in (
            ("connect", connect),
            ("read", read),
            ("write", write),
            ("pool", pool),
            ("total", total),
        ):
            given = value is None or value is not _UNSET
            object.__setattr__(self, name, _check(name, value) if given else default)

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError("Timeout is immutable; create a new one")

    def as_dict(self) -> dict[str, float | None]:
        return {n: getattr(self, n) for n in ("connect", "read", "write", "pool", "total")}

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Timeout):
            return self.as_dict() == other.as_dict()
        return NotImplemented

    def __hash__(self) -> int:
        return hash(tuple(self.as_dict().values()))

    def __repr__(self) -> str:
        parts = ", ".join(f"{k}={v!r}" for k, v in self.as_dict().items() if v is not None)
        return f"Timeout({parts})"


TimeoutTypes = Union[Timeout, float, None]
