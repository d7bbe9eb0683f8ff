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
- **Circuit breaker** (``circuit_breaker=True``): per origin
  (``scheme://host:port``), shared by every request and thread of a client.
  After ``cb_failure_threshold`` consecutive failed attempts (connection
  failures or listed statuses) the circuit opens and requests to that origin
  raise :class:`CircuitOpenError` at once, without touching the network. After
  ``cb_recovery_seconds`` one trial request is let through (half-open); its
  success closes the circuit, its failure opens it again.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass

from .errors import CircuitOpenError

__all__ = ["DEFAULT_STATUS_CODES", "MAX_STATUS_CODES", "CircuitOpenError", "RetryPolicy"]

#: Statuses retried when ``status_codes`` is not given: request timeout, too many
#: requests, and the server errors that usually pass (as the seed library did).
DEFAULT_STATUS_CODES: tuple[int, ...] = (408, 429, 500, 502, 503, 504)
#: At most this many distinct status codes (libfasthttp's FH_RETRY_MAX_STATUS).
MAX_STATUS_CODES = 32


def _seconds(name: str, value: float) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"RetryPolicy.{name} must be a number of seconds, "
                        f"not {type(value).__name__}")
    try:
        v = float(value)
    except OverflowError:  # an int beyond any float
        v = math.inf
    if not (v >= 0) or math.isinf(v):
        raise ValueError(f"RetryPolicy.{name} must be a finite number >= 0, not {value!r}")
    return v


def _count(name: str, value: int, low: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"RetryPolicy.{name} must be an int, not {type(value).__name__}")
    if value < low or value > 1_000_000:
        raise ValueError(f"RetryPolicy.{name} must be between {low} and 1000000, not {value}")
    return value


@dataclass(frozen=True)
class RetryPolicy:
    """How often and when to retry, and whether to use a circuit breaker.

    Immutable; use :func:`dataclasses.replace` to derive a variant.

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
    """

    max_attempts: int = 1
    backoff_factor: float = 0.2
    status_codes: Iterable[int] = DEFAULT_STATUS_CODES
    circuit_breaker: bool = False
    cb_failure_threshold: int = 5
    cb_recovery_seconds: float = 60.0
    retry_non_idempotent: bool = False
    respect_retry_after: bool = True
    retry_after_max: float = 60.0
    backoff_max: float = 60.0

    def __post_init__(self) -> None:
        put = object.__setattr__  # frozen: normalise once, here
        put(self, "max_attempts", _count("max_attempts", self.max_attempts, 1))
        put(self, "cb_failure_threshold",
            _count("cb_failure_threshold", self.cb_failure_threshold, 1))
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
            if not 100 <= code <= 599:
                raise ValueError(f"RetryPolicy.status_codes: {code!r} is not an HTTP status")
            if code not in codes:
                codes.append(code)
        if len(codes) > MAX_STATUS_CODES:
            raise ValueError(f"RetryPolicy.status_codes: at most {MAX_STATUS_CODES} codes")
        put(self, "status_codes", tuple(codes))
        for name in ("circuit_breaker", "retry_non_idempotent", "respect_retry_after"):
            put(self, name, bool(getattr(self, name)))
