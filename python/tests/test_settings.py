"""One source of truth for settings: RetryPolicy's defaults are libfasthttp's
(fh_retry_policy_init, read through the extension), and the ranges of
RetryPolicy, Timeout and Limits are libfasthttp's checks (fh_retry_policy_check,
fh_timeout_check, fh_limit_check, fh_pool_limits_check). Python keeps the type
checks; the messages name the field and show the value given."""

from __future__ import annotations

import dataclasses
import math
from types import SimpleNamespace
from typing import Any

import pytest

import fasthttp._fasthttp as ext
from fasthttp import Client, Limits
from fasthttp.retry import DEFAULT_STATUS_CODES, MAX_STATUS_CODES, RetryPolicy
from fasthttp.timeouts import Timeout

# ---- defaults --------------------------------------------------------------------------


def test_retry_defaults_are_libfasthttps() -> None:
    c_defaults = ext._retry_defaults()
    ours = dataclasses.asdict(RetryPolicy())
    # None: libfasthttp's own list of retried errors (fh_retry_policy.retry_errors)
    assert ours.pop("retry_exceptions") is None
    assert ours.pop("retry_on_status") == ours["status_codes"]  # the original's name for it
    assert ours == c_defaults
    assert set(c_defaults) | {"retry_exceptions", "retry_on_status"} == {
        f.name for f in dataclasses.fields(RetryPolicy)}
    assert DEFAULT_STATUS_CODES == c_defaults["status_codes"]
    assert MAX_STATUS_CODES == ext.FH_RETRY_MAX_STATUS == 32


def test_retry_defaults_values() -> None:
    """The values decided in C (docs/c-api.md, Policies), as Python sees them."""
    assert ext._retry_defaults() == {
        "max_attempts": 1, "backoff_factor": 0.2, "backoff_max": 60.0,
        "status_codes": (408, 429, 500, 502, 503, 504), "retry_non_idempotent": False,
        "respect_retry_after": True, "retry_after_max": 60.0, "circuit_breaker": False,
        "cb_failure_threshold": 5, "cb_recovery_seconds": 60.0,
    }


def test_seed_keywords_repr_and_attributes() -> None:
    p = RetryPolicy(max_attempts=5, backoff_factor=0.5, status_codes=[500, 502, 503, 504],
                    circuit_breaker=True, cb_failure_threshold=3, cb_recovery_seconds=60)
    assert (p.max_attempts, p.backoff_factor, p.status_codes) == (5, 0.5, (500, 502, 503, 504))
    assert p.circuit_breaker is True and p.cb_failure_threshold == 3
    assert repr(p).startswith("RetryPolicy(max_attempts=5, backoff_factor=0.5, "
                              "status_codes=(500, 502, 503, 504), circuit_breaker=True")


# ---- validation by libfasthttp ----------------------------------------------------------

RETRY_CASES: list[tuple[dict[str, Any], str]] = [
    ({"max_attempts": 0}, "RetryPolicy.max_attempts must be between 1 and 1000000, not 0"),
    ({"max_attempts": 10**30},
     "RetryPolicy.max_attempts must be between 1 and 1000000, not 10000000000000000000000000"
     "00000"),
    ({"max_attempts": 1_000_001},
     "RetryPolicy.max_attempts must be between 1 and 1000000, not 1000001"),
    ({"cb_failure_threshold": 0},
     "RetryPolicy.cb_failure_threshold must be between 1 and 1000000, not 0"),
    ({"backoff_factor": -1},
     "RetryPolicy.backoff_factor must be between 0 and 1000000000 seconds, not -1.0"),
    ({"backoff_max": math.nan},
     "RetryPolicy.backoff_max must be between 0 and 1000000000 seconds, not nan"),
    ({"retry_after_max": math.inf},
     "RetryPolicy.retry_after_max must be between 0 and 1000000000 seconds, not inf"),
    ({"cb_recovery_seconds": 2e9},
     "RetryPolicy.cb_recovery_seconds must be between 0 and 1000000000 seconds, not 2000000000.0"),
    ({"status_codes": [500, 99]},
     "RetryPolicy.status_codes[1] must be an HTTP status code, between 100 and 599, not 99"),
    ({"status_codes": [10**30]},
     "RetryPolicy.status_codes[0] must be an HTTP status code, between 100 and 599, not "
     "1000000000000000000000000000000"),
    ({"status_codes": range(100, 133)},
     "RetryPolicy.status_codes holds 33 codes; at most 32 are allowed"),
]


@pytest.mark.parametrize(("kwargs", "message"), RETRY_CASES)
def test_retry_policy_messages(kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError) as e:
        RetryPolicy(**kwargs)
    assert str(e.value) == message


def test_retry_ranges_accepted_at_the_edges() -> None:
    p = RetryPolicy(max_attempts=1_000_000, backoff_factor=0, backoff_max=1e9,
                    status_codes=range(100, 132), cb_recovery_seconds=1e9)
    assert len(tuple(p.status_codes)) == 32
    assert RetryPolicy(status_codes=[]).status_codes == ()


def test_retry_types_stay_python() -> None:
    for kwargs in ({"max_attempts": True}, {"max_attempts": 2.0}, {"backoff_factor": "1"},
                   {"status_codes": "500"}, {"status_codes": [500.0]}):
        with pytest.raises(TypeError, match="RetryPolicy"):
            RetryPolicy(**kwargs)


def test_client_checks_look_alikes_with_libfasthttp() -> None:
    """An object with RetryPolicy's attributes bypasses __post_init__; the Client
    still refuses a bad one, with libfasthttp's sentence."""
    fake = SimpleNamespace(**dataclasses.asdict(RetryPolicy()))
    fake.max_attempts = 0
    with pytest.raises(ValueError, match=r"^retry: RetryPolicy\.max_attempts must be between 1 "):
        Client(retry=fake)
    fake.max_attempts = 2
    fake.status_codes = (503, 600)
    with Client() as c, pytest.raises(ValueError, match=r"status_codes\[1\] must be"):
        c.get("http://127.0.0.1:1/", retry=fake)
    fake.status_codes = (503,)
    with Client(retry=fake) as c:
        assert c.retry is fake


TIMEOUT_CASES: list[tuple[Any, str]] = [
    (lambda: Timeout(-1),
     "Timeout.timeout must be between 0 and 1000000000 seconds, or None (no limit), not -1"),
    (lambda: Timeout(read=math.nan),
     "Timeout.read must be between 0 and 1000000000 seconds, or None (no limit), not nan"),
    (lambda: Timeout(total=1e9 + 1),
     "Timeout.total must be between 0 and 1000000000 seconds, or None (no limit), "
     "not 1000000001.0"),
    (lambda: Timeout(pool=10**400),
     "Timeout.pool must be between 0 and 1000000000 seconds, or None (no limit), not "
     + repr(10**400)),
]


@pytest.mark.parametrize(("make", "message"), TIMEOUT_CASES)
def test_timeout_messages(make: Any, message: str) -> None:
    with pytest.raises(ValueError) as e:
        make()
    assert str(e.value) == message


@pytest.mark.parametrize("seconds", [0, 0.0001, 1, 1e9, 10**9])
def test_timeout_and_client_agree(seconds: float) -> None:
    """What Timeout accepts, the Client accepts: one range, libfasthttp's."""
    with Client(timeout=Timeout(seconds)) as c:
        assert c.timeout == Timeout(seconds)
    with Client(timeout=seconds):
        pass


@pytest.mark.parametrize("seconds", [1e9 + 0.5, 2e9])
def test_timeout_and_client_refuse_alike(seconds: float) -> None:
    with pytest.raises(ValueError, match="Timeout.timeout must be between 0 and 1000000000"):
        Timeout(seconds)
    with pytest.raises(ValueError, match="timeout must be between 0 and 1000000000 seconds"):
        Client(timeout=seconds)


LIMIT_CASES: list[tuple[dict[str, Any], str]] = [
    ({"max_body_size": 0}, "Limits.max_body_size must be between 1 and 4611686018427387904, not 0"),
    ({"max_header_count": 2**62 + 1},
     f"Limits.max_header_count must be between 1 and 4611686018427387904, not {2**62 + 1}"),
    ({"max_trailer_size": -(10**30)},
     "Limits.max_trailer_size must be between 1 and 4611686018427387904, not "
     "-1000000000000000000000000000000"),
    ({"max_connections": 0}, "Limits.max_connections must be between 1 and 1000000, not 0"),
    ({"max_connections": 1_000_001},
     "Limits.max_connections must be between 1 and 1000000, not 1000001"),
    ({"max_connections_per_host": -1},
     "Limits.max_connections_per_host must be between 1 and 1000000, not -1"),
    ({"max_keepalive_per_host": -1},
     "Limits.max_keepalive_per_host must be between 0 and 1000000, not -1"),
    ({"keepalive_expiry": -0.5},
     "Limits.keepalive_expiry must be between 0 and 1000000000 seconds, not -0.5"),
]


@pytest.mark.parametrize(("kwargs", "message"), LIMIT_CASES)
def test_limits_messages(kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError) as e:
        Limits(**kwargs)
    assert str(e.value) == message


def test_limits_edges_and_mutation() -> None:
    top = Limits(max_body_size=2**62, max_connections=1_000_000, max_keepalive_per_host=0,
                 keepalive_expiry=1e9)
    with Client(limits=top):
        pass
    top.max_connections = 0  # a plain attribute: the Client checks again, in C
    with pytest.raises(ValueError, match="^limits: Limits.max_connections must be between 1"):
        Client(limits=top)
    bad = Limits()
    bad.max_body_size = 0
    with Client() as c, pytest.raises(ValueError, match="Limits.max_body_size must be between"):
        c.get("http://127.0.0.1:1/", limits=bad)
