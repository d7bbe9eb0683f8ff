"""Response.elapsed: a ``datetime.timedelta`` that also reads as seconds.

requests and httpx give ``elapsed`` as a timedelta; the original pure-Python
fasthttp gave seconds as a float. ``Elapsed`` is a timedelta (so
``resp.elapsed.total_seconds()`` and comparisons with timedeltas work), and
code written for the float keeps working where it can do so unambiguously:

- ``float(resp.elapsed)`` and ``round(resp.elapsed, 3)`` give seconds;
- ``<``, ``<=``, ``>`` and ``>=`` against an int or float compare seconds;
- a format spec formats the seconds (``f"{resp.elapsed:.3f}"``), an empty
  one the timedelta (``str()``, ``f"{resp.elapsed}"``).

Where the two meanings would silently disagree, it fails with a message:
``resp.elapsed * 1000`` (a timedelta to requests, milliseconds to the
original) and division by a number raise ``TypeError``; adding or subtracting
a number already does. ``==`` with a number is False, as for any timedelta
(equality of measured times is meaningless, and equal objects must hash
equal).
"""

from __future__ import annotations

import datetime
from typing import Any, NoReturn, SupportsIndex

__all__ = ["Elapsed"]

_MSG = ("Response.elapsed is a datetime.timedelta; for seconds as a number use "
        "float(resp.elapsed) or resp.elapsed.total_seconds()")


def _number(x: object) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool)


class Elapsed(datetime.timedelta):
    """The time from sending a request to its complete response (see the module)."""

    __slots__ = ()

    def __float__(self) -> float:
        return self.total_seconds()

    def __round__(self, ndigits: SupportsIndex | None = None) -> Any:
        return round(self.total_seconds(), ndigits)

    def __format__(self, spec: str) -> str:
        return format(self.total_seconds(), spec) if spec else str(self)

    def __lt__(self, other: object) -> bool:
        if _number(other):
            return self.total_seconds() < other  # type: ignore[operator]
        return super().__lt__(other)  # type: ignore[operator]

    def __le__(self, other: object) -> bool:
        if _number(other):
            return self.total_seconds() <= other  # type: ignore[operator]
        return super().__le__(other)  # type: ignore[operator]

    def __gt__(self, other: object) -> bool:
        if _number(other):
            return self.total_seconds() > other  # type: ignore[operator]
        return super().__gt__(other)  # type: ignore[operator]

    def __ge__(self, other: object) -> bool:
        if _number(other):
            return self.total_seconds() >= other  # type: ignore[operator]
        return super().__ge__(other)  # type: ignore[operator]

    def __eq__(self, other: object) -> bool:
        return super().__eq__(other)

    def __hash__(self) -> int:
        return super().__hash__()

    def _refuse(self, other: object) -> NoReturn:
        raise TypeError(f"{_MSG} (not {type(other).__name__} arithmetic)")

    def __mul__(self, other: Any) -> Any:
        if _number(other):
            self._refuse(other)
        return super().__mul__(other)

    __rmul__ = __mul__

    def __truediv__(self, other: Any) -> Any:
        if _number(other):
            self._refuse(other)
        return super().__truediv__(other)

    def __floordiv__(self, other: Any) -> Any:
        if _number(other):
            self._refuse(other)
        return super().__floordiv__(other)
