"""Retries with exponential backoff and a per-origin circuit breaker.

Usage (the seed README's example)::

    from fasthttp import Client
    from fasthttp.retry import RetryPolicy

    retry_policy = RetryPolicy(
        max_attempts=5,
        backoff_factor=0.5,
        status_codes=[500, 502, 503, 504],
        circuit_breaker=True,
        cb_failure_threshold=3,
        cb_recovery_seconds=60,
    )
    with Client(retry=retry_policy) as client:
        resp = client.get("https://api.example.com/resource")
        print(resp.attempts)

The policy is carried out by libfasthttp's engine (``fasthttp/policy.h``), so
the synchronous and the asyncio client behave the same:

- **What is retried**: responses whose status is in ``status_codes`` and
  connection failures (connect errors and timeouts, a connection closed or
  reset, read and write timeouts). Protocol and certificate errors are not:
  they would fail the same way again.
- **Which requests**: only idempotent methods (GET, HEAD, PUT, DELETE, OPTIONS,
  TRACE) unless ``retry_non_idempotent=True``; never a request whose body is an
  iterator or a file (it cannot be sent twice).
- **Waits**: before retry *n* a uniformly random time in
  ``[0, min(backoff_max, backoff_factor * 2**(n-1))]`` ("full jitter"). A
  ``Retry-After`` header (seconds or an HTTP-date) on a retried status replaces
  it when ``respect_retry_after`` is true, capped at ``retry_after_max``.
- **Deadline**: retries stop at the total timeout (``Timeout(total=...)``): a
  wait that would end after it is not started and the last response (or error)
  is what the caller gets. ``Response.attempts`` tells how many attempts were
  made.
- **Defaults** are libfasthttp's (``fh_retry_policy_init``), read from the
  extension: ``max_attempts=1`` (no retries), ``backoff_factor=0.2``,
  ``backoff_max=60``, ``status_codes=DEFAULT_STATUS_CODES`` (408, 429, 500,
  502, 503, 504), ``respect_retry_after=True``, ``retry_after_max=60``,
  ``circuit_breaker=False``, ``cb_failure_threshold=5``,
  ``cb_recovery_seconds=60``. Ranges are libfasthttp's too: counts from 1 to
  1000000, times from 0 to 1e9 seconds, codes from 100 to 599.
- **Circuit breaker** (``circuit_breaker=True``): per origin
  (``scheme://host:port``), shared by every request and thread of a client.
  After ``cb_failure_threshold`` consecutive failed attempts (connection
  failures or listed statuses) the circuit opens and requests to that origin
  raise :class:`CircuitOpenError` at once, without touching the network. After
  ``cb_recovery_seconds`` one trial request is let through (half-open); its
  success closes the circuit, its failure opens it again.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from ._fasthttp import FH_RETRY_MAX_STATUS, _retry_check, _retry_defaults
from .errors import CircuitOpenError

__all__ = ["DEFAULT_STATUS_CODES", "MAX_STATUS_CODES", "CircuitOpenError", "RetryPolicy"]

# Every default is libfasthttp's (fh_retry_policy_init), read once here.
_DEFAULTS: dict[str, Any] = _retry_defaults()

#: Statuses retried when ``status_codes`` is not given (libfasthttp's default):
#: request timeout, too many requests, and the server errors that usually pass.
DEFAULT_STATUS_CODES: tuple[int, ...] = tuple(_DEFAULTS["status_codes"])
#: At most this many distinct status codes (libfasthttp's FH_RETRY_MAX_STATUS).
MAX_STATUS_CODES: int = FH_RETRY_MAX_STATUS

# libfasthttp's sentences start with the field ("status_codes[2] must ...").
_FIELD = re.compile(r"(\w+)(?:\[(\d+)\])? must ")


def _seconds(name: str, value: object) -> object:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"RetryPolicy.{name} must be a number of seconds, "
                        f"not {type(value).__name__}")
    try:
        return float(value)
    except OverflowError:  # an int beyond any float: kept, libfasthttp refuses it
        return value


def _count(name: str, value: object) -> object:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"RetryPolicy.{name} must be an int, not {type(value).__name__}")
    return value


class _Codes(tuple[int, ...]):
    """The codes of a policy once made: what dataclasses.replace() hands the
    next one for the field it was not told to change."""


def _pick_codes(status_codes: Iterable[int], retry_on_status: Iterable[int] | None
                ) -> Iterable[int]:
    """status_codes or retry_on_status, whichever was given (replace() gives
    back the other one as a _Codes); both with different codes: ValueError."""
    if retry_on_status is None:
        return status_codes
    old_sc, old_ros = isinstance(status_codes, _Codes), isinstance(retry_on_status, _Codes)
    if old_ros and not old_sc:
        return status_codes
    if old_sc or status_codes is DEFAULT_STATUS_CODES or \
            _same_codes(status_codes, retry_on_status):
        return retry_on_status
    raise ValueError("RetryPolicy takes status_codes or retry_on_status (the original "
                     "library's name for it), not both")


def _same_codes(a: Iterable[int], b: Iterable[int]) -> bool:
    try:
        return list(a) == list(b)
    except TypeError:
        return False


def _exception_classes(value: object) -> tuple[type[BaseException], ...] | None:
    if value is None:
        return None
    if isinstance(value, type):
        value = (value,)
    if not isinstance(value, (tuple, list)):
        raise TypeError("RetryPolicy.retry_exceptions must be a tuple of exception classes "
                        f"or None, not {type(value).__name__}")
    for cls in value:
        if not (isinstance(cls, type) and issubclass(cls, BaseException)):
            raise TypeError("RetryPolicy.retry_exceptions must hold exception classes, "
                            f"not {cls!r}")
    return tuple(value)


@dataclass(frozen=True)
class RetryPolicy:
    """How often and when to retry, and whether to use a circuit breaker.

    Immutable; use :func:`dataclasses.replace` to derive a variant. Every
    default and every range is libfasthttp's (``fh_retry_policy_init``,
    ``fh_retry_policy_check``): a wrong type is a ``TypeError``, a value out
    of range a ``ValueError`` naming the field.

    :param max_attempts: attempts in all, including the first (1: no retries).
    :param backoff_factor: seconds; retry *n* waits up to ``factor * 2**(n-1)``.
    :param status_codes: response statuses that are retried (at most 32).
    :param circuit_breaker: enable the per-origin circuit breaker.
    :param cb_failure_threshold: consecutive failures that open the circuit.
    :param cb_recovery_seconds: how long it stays open before one trial request.
    :param retry_non_idempotent: also retry POST, PATCH and other methods.
    :param respect_retry_after: let a ``Retry-After`` header set the wait.
    :param retry_after_max: cap on a ``Retry-After`` wait, seconds.
    :param backoff_max: cap on one backoff wait, seconds.
    :param retry_exceptions: exception classes whose failures are retried
        (the original library's option): each failure of an attempt that
        libfasthttp can retry (connect, TLS, connection closed or reset,
        malformed response, decoding, connect/read/write timeout) is retried
        when its :mod:`fasthttp.errors` class is one of these or a subclass,
        e.g. ``(ConnectError, TimeoutError)``. None (default): libfasthttp's
        choice, the connection failures and those timeouts.
    :param retry_on_status: the original library's name for ``status_codes``
        (give one of the two); also readable as an attribute.
    """

    max_attempts: int = _DEFAULTS["max_attempts"]
    backoff_factor: float = _DEFAULTS["backoff_factor"]
    status_codes: Iterable[int] = DEFAULT_STATUS_CODES
    circuit_breaker: bool = _DEFAULTS["circuit_breaker"]
    cb_failure_threshold: int = _DEFAULTS["cb_failure_threshold"]
    cb_recovery_seconds: float = _DEFAULTS["cb_recovery_seconds"]
    retry_non_idempotent: bool = _DEFAULTS["retry_non_idempotent"]
    respect_retry_after: bool = _DEFAULTS["respect_retry_after"]
    retry_after_max: float = _DEFAULTS["retry_after_max"]
    backoff_max: float = _DEFAULTS["backoff_max"]
    retry_exceptions: tuple[type[BaseException], ...] | None = None
    #: the original library's name for ``status_codes``: after construction both
    #: hold the same codes
    retry_on_status: Iterable[int] | None = None

    def __post_init__(self) -> None:
        put = object.__setattr__  # frozen: normalise once, here
        put(self, "status_codes", _pick_codes(self.status_codes, self.retry_on_status))
        put(self, "retry_exceptions", _exception_classes(self.retry_exceptions))
        for name in ("max_attempts", "cb_failure_threshold"):
            put(self, name, _count(name, getattr(self, name)))
        for name in ("backoff_factor", "cb_recovery_seconds", "retry_after_max", "backoff_max"):
            put(self, name, _seconds(name, getattr(self, name)))
        if isinstance(self.status_codes, (str, bytes)) or not isinstance(self.status_codes,
                                                                          Iterable):
            raise TypeError("RetryPolicy.status_codes must be a list of ints, "
                            f"not {type(self.status_codes).__name__}")
        codes: list[int] = []
        for code in self.status_codes:
            if isinstance(code, bool) or not isinstance(code, int):
                raise TypeError("RetryPolicy.status_codes must hold ints, "
                                f"not {type(code).__name__}")
            if code not in codes:
                codes.append(code)
        put(self, "status_codes", _Codes(codes))
        put(self, "retry_on_status", self.status_codes)
        for name in ("circuit_breaker", "retry_non_idempotent", "respect_retry_after"):
            put(self, name, bool(getattr(self, name)))
        problem = _retry_check(self)
        if problem is not None:
            raise ValueError(f"RetryPolicy.{problem}{self._given(problem)}")

    def _given(self, problem: str) -> str:
        """', not <value>' for the field (or status code) libfasthttp named."""
        m = _FIELD.match(problem)
        if not m:
            return ""
        value: Any = getattr(self, m[1])
        if m[2] is not None:
            value = value[int(m[2])]
        return f", not {value!r}"

