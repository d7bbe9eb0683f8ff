"""RetryPolicy and the circuit breaker (fasthttp.retry), synchronous client.

Against the local httpbin where it can show the behaviour (/status/503,
/response-headers), against scripted servers for the rest: Retry-After
timing (lower bounds only), connection failures, and the circuit breaker's
transitions under a fake clock (Client._set_fake_clock_us), never sleeps.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Iterator
from email.utils import formatdate

import pytest
from scripted import Scripted, Seen, reply
from servers import free_port

from fasthttp import Client, Request
from fasthttp.errors import CircuitOpenError, ConnectError, RequestError
from fasthttp.retry import DEFAULT_STATUS_CODES, RetryPolicy
from fasthttp.timeouts import Timeout

FAST = dict(backoff_factor=0.0)


@pytest.fixture
def flaky() -> Iterator[Scripted]:
    """503 for the first `fail` requests (2 unless the test changes it), then 200."""
    state = {"fail": 2}

    def respond(seen: Seen) -> bytes:
        n = len(server.requests)
        if n <= state["fail"]:
            return reply(503, {"Retry-After": state.get("retry_after", "0")}
                         if "retry_after" in state else None, b"busy")
        return reply(200, None, b"ok %d" % n)

    server = Scripted(respond)
    server.state = state  # type: ignore[attr-defined]
    yield server
    server.close()


# ---- the policy object -----------------------------------------------------------------


def test_defaults() -> None:
    p = RetryPolicy()
    assert p.max_attempts == 1 and p.backoff_factor == 0.2 and p.backoff_max == 60
    assert p.status_codes == DEFAULT_STATUS_CODES == (408, 429, 500, 502, 503, 504)
    assert not p.circuit_breaker and p.cb_failure_threshold == 5 and p.cb_recovery_seconds == 60
    assert not p.retry_non_idempotent and p.respect_retry_after and p.retry_after_max == 60


def test_normalised_and_frozen() -> None:
    p = RetryPolicy(max_attempts=3, status_codes=[503, 500, 503], circuit_breaker=1)  # type: ignore[arg-type]
    assert p.status_codes == (503, 500) and p.circuit_breaker is True
    with pytest.raises(dataclasses.FrozenInstanceError):
        p.max_attempts = 5  # type: ignore[misc]
    assert dataclasses.replace(p, max_attempts=5).max_attempts == 5
    assert p == RetryPolicy(max_attempts=3, status_codes=(503, 500), circuit_breaker=True)
    assert hash(p) == hash(dataclasses.replace(p))


@pytest.mark.parametrize(
    ("kwargs", "exc"),
    [({"max_attempts": 0}, ValueError), ({"max_attempts": 1.5}, TypeError),
     ({"backoff_factor": -1}, ValueError), ({"backoff_factor": float("inf")}, ValueError),
     ({"status_codes": [99]}, ValueError), ({"status_codes": "503"}, TypeError),
     ({"status_codes": list(range(500, 533))}, ValueError),
     ({"cb_failure_threshold": 0}, ValueError), ({"cb_recovery_seconds": -1}, ValueError),
     ({"retry_after_max": float("nan")}, ValueError), ({"backoff_max": "1"}, TypeError)],
)
def test_invalid(kwargs: dict[str, object], exc: type[Exception]) -> None:
    with pytest.raises(exc):
        RetryPolicy(**kwargs)  # type: ignore[arg-type]


def test_client_exposes_policy_and_rejects_other_types() -> None:
    p = RetryPolicy(max_attempts=2)
    with Client(retry=p) as c:
        assert c.retry is p
    with Client() as c:
        assert c.retry is None
    with pytest.raises(TypeError, match="RetryPolicy"):
        Client(retry=3)  # type: ignore[arg-type]


# ---- retries against httpbin --------------------------------------------------------------


def test_status_retried_until_attempts_run_out(httpbin: str) -> None:
    with Client(retry=RetryPolicy(max_attempts=3, **FAST)) as c:
        r = c.get(f"{httpbin}/status/503")
    assert r.status_code == 503 and r.attempts == 3  # the last response is returned


def test_unlisted_status_not_retried(httpbin: str) -> None:
    with Client(retry=RetryPolicy(max_attempts=3, status_codes=[502], **FAST)) as c:
        r = c.get(f"{httpbin}/status/503")
    assert r.status_code == 503 and r.attempts == 1


def test_success_is_one_attempt(httpbin: str) -> None:
    with Client(retry=RetryPolicy(max_attempts=3)) as c:
        r = c.get(f"{httpbin}/get")
    assert r.status_code == 200 and r.attempts == 1


def test_without_policy_one_attempt(httpbin: str) -> None:
    with Client() as c:
        r = c.get(f"{httpbin}/status/503")
    assert r.attempts == 1


def test_per_request_policy_wins(httpbin: str) -> None:
    two = RetryPolicy(max_attempts=2, **FAST)
    with Client(retry=RetryPolicy(max_attempts=4, **FAST)) as c:
        assert c.get(f"{httpbin}/status/503", retry=two).attempts == 2
        assert c.get(f"{httpbin}/status/503", retry=None).attempts == 4  # None: the client's
    with Client() as c:
        assert c.get(f"{httpbin}/status/500", retry=two).attempts == 2
        assert c.send(Request("GET", f"{httpbin}/status/502"), retry=two).attempts == 2


def test_retry_after_from_httpbin(httpbin: str) -> None:
    """/response-headers?Retry-After=1 answers 200: only listed statuses are retried."""
    policy = RetryPolicy(max_attempts=2, status_codes=[200], backoff_factor=0)
    with Client(retry=policy) as c:
        t0 = time.monotonic()
        r = c.get(f"{httpbin}/response-headers", params={"Retry-After": "1"})
        elapsed = time.monotonic() - t0
    assert r.attempts == 2 and r.headers["Retry-After"] == "1"
    assert elapsed >= 0.9


# ---- scripted: which requests, how long ---------------------------------------------------


def test_eventual_success(flaky: Scripted) -> None:
    with Client(retry=RetryPolicy(max_attempts=5, **FAST)) as c:
        r = c.get(flaky.url + "/x")
    assert r.status_code == 200 and r.attempts == 3 and r.content == b"ok 3"
    assert [s.method for s in flaky.requests] == ["GET"] * 3


@pytest.mark.parametrize("method", ["GET", "HEAD", "PUT", "DELETE", "OPTIONS", "TRACE"])
def test_idempotent_methods_retried(flaky: Scripted, method: str) -> None:
    with Client(retry=RetryPolicy(max_attempts=3, **FAST)) as c:
        r = c.request(method, flaky.url)
    assert r.status_code == 200 and r.attempts == 3


@pytest.mark.parametrize("method", ["POST", "PATCH"])
def test_non_idempotent_not_retried_unless_allowed(flaky: Scripted, method: str) -> None:
    with Client(retry=RetryPolicy(max_attempts=3, **FAST)) as c:
        r = c.request(method, flaky.url, content=b"payload")
        assert r.status_code == 503 and r.attempts == 1
        allowed = RetryPolicy(max_attempts=3, retry_non_idempotent=True, **FAST)
        r = c.request(method, flaky.url, content=b"payload", retry=allowed)
    assert r.status_code == 200 and r.attempts == 2
    assert [s.body for s in flaky.requests] == [b"payload"] * 3  # the body was sent again


def test_iterator_body_never_retried(flaky: Scripted) -> None:
    allowed = RetryPolicy(max_attempts=3, retry_non_idempotent=True, **FAST)
    with Client(retry=allowed) as c:
        r = c.put(flaky.url, content=iter([b"a", b"b"]))
    assert r.status_code == 503 and r.attempts == 1
    assert flaky.requests[0].body == b"ab"


def test_retry_after_seconds_is_waited(flaky: Scripted) -> None:
    flaky.state["fail"] = 1  # type: ignore[attr-defined]
    flaky.state["retry_after"] = "1"  # type: ignore[attr-defined]
    with Client(retry=RetryPolicy(max_attempts=2, status_codes=[503], **FAST)) as c:
        t0 = time.monotonic()
        r = c.get(flaky.url)
        elapsed = time.monotonic() - t0
    assert r.status_code == 200 and r.attempts == 2
    assert elapsed >= 0.95


def test_retry_after_http_date_is_waited(flaky: Scripted) -> None:
    flaky.state["fail"] = 1  # type: ignore[attr-defined]
    flaky.state["retry_after"] = formatdate(time.time() + 2.5, usegmt=True)  # type: ignore[attr-defined]
    with Client(retry=RetryPolicy(max_attempts=2, status_codes=[503], **FAST)) as c:
        t0 = time.monotonic()
        r = c.get(flaky.url)
        elapsed = time.monotonic() - t0
    assert r.status_code == 200 and r.attempts == 2
    assert elapsed >= 1.0  # whole seconds: at least 2.5 - 1 - scheduling slack


def test_retry_after_capped(flaky: Scripted) -> None:
    """Retry-After: 3600 capped at 0.1 s: without the cap the wait would pass the
    total timeout and the 503 would be returned after one attempt."""
    flaky.state["fail"] = 1  # type: ignore[attr-defined]
    flaky.state["retry_after"] = "3600"  # type: ignore[attr-defined]
    policy = RetryPolicy(max_attempts=2, status_codes=[503], retry_after_max=0.1, **FAST)
    with Client(retry=policy, timeout=30) as c:
        r = c.get(flaky.url)
    assert r.status_code == 200 and r.attempts == 2


def test_retry_after_ignored_when_asked(flaky: Scripted) -> None:
    flaky.state["fail"] = 1  # type: ignore[attr-defined]
    flaky.state["retry_after"] = "3600"  # type: ignore[attr-defined]
    policy = RetryPolicy(max_attempts=2, status_codes=[503], respect_retry_after=False, **FAST)
    with Client(retry=policy, timeout=30) as c:
        r = c.get(flaky.url)
    assert r.status_code == 200 and r.attempts == 2


def test_retries_stop_at_total_timeout(flaky: Scripted) -> None:
    """A wait that would end after the total deadline is not started: the 503 comes back."""
    flaky.state["fail"] = 5  # type: ignore[attr-defined]
    flaky.state["retry_after"] = "30"  # type: ignore[attr-defined]
    with Client(retry=RetryPolicy(max_attempts=5, status_codes=[503], **FAST),
                timeout=Timeout(total=2)) as c:
        r = c.get(flaky.url)
    assert r.status_code == 503 and r.attempts == 1


def test_connection_errors_retried() -> None:
    """The first two connections are closed without an answer, the third is served."""
    def respond(seen: Seen) -> bytes | None:
        return None if len(server.requests) <= 2 else reply(200, None, b"finally")

    server = Scripted(respond)
    try:
        with Client(retry=RetryPolicy(max_attempts=3, **FAST)) as c:
            r = c.get(server.url)
        assert r.content == b"finally" and r.attempts == 3
    finally:
        server.close()


def test_connection_error_after_last_attempt_raises() -> None:
    port = free_port()  # nothing listens there
    with Client(retry=RetryPolicy(max_attempts=3, **FAST)) as c, pytest.raises(ConnectError):
        c.get(f"http://127.0.0.1:{port}/")


def test_backoff_waits(flaky: Scripted) -> None:
    """Full jitter: each wait is random in [0, cap], so only that it returns is certain;
    with backoff_max=0 the waits are zero whatever the factor."""
    with Client(retry=RetryPolicy(max_attempts=3, backoff_factor=30, backoff_max=0)) as c:
        r = c.get(flaky.url)
    assert r.status_code == 200 and r.attempts == 3


# ---- the circuit breaker, under a fake clock ------------------------------------------------

SECOND = 1_000_000


def breaker(threshold: int = 3, recovery: float = 60) -> RetryPolicy:
    return RetryPolicy(max_attempts=1, status_codes=[503], circuit_breaker=True,
                       cb_failure_threshold=threshold, cb_recovery_seconds=recovery)


@pytest.fixture
def switchable() -> Iterator[Scripted]:
    """503 while state["down"], 200 otherwise."""
    state = {"down": True}

    def respond(seen: Seen) -> bytes:
        return reply(503, None, b"down") if state["down"] else reply(200, None, b"up")

    server = Scripted(respond)
    server.state = state  # type: ignore[attr-defined]
    yield server
    server.close()


def test_circuit_breaker_transitions(switchable: Scripted) -> None:
    origin = switchable.origin
    with Client(retry=breaker()) as c:
        c._set_fake_clock_us(1000 * SECOND)
        assert c._circuit_state(origin) == "closed"
        for _ in range(3):
            assert c.get(switchable.url).status_code == 503
        assert c._circuit_state(origin) == "open"
        # Open: refused at once, without touching the network.
        with pytest.raises(CircuitOpenError, match="circuit breaker open") as info:
            c.get(switchable.url + "/more")
        assert isinstance(info.value, RequestError) and info.value.request is not None
        assert len(switchable.requests) == 3
        # Still open just before the recovery time.
        c._set_fake_clock_us(1059 * SECOND)
        with pytest.raises(CircuitOpenError):
            c.get(switchable.url)
        assert len(switchable.requests) == 3
        # Half-open: one trial; it fails, so the circuit opens again.
        c._set_fake_clock_us(1060 * SECOND)
        assert c.get(switchable.url).status_code == 503
        assert len(switchable.requests) == 4
        assert c._circuit_state(origin) == "open"
        with pytest.raises(CircuitOpenError):
            c.get(switchable.url)
        # After another recovery period the trial succeeds and closes it.
        switchable.state["down"] = False  # type: ignore[attr-defined]
        c._set_fake_clock_us(1120 * SECOND)
        assert c.get(switchable.url).content == b"up"
        assert c._circuit_state(origin) == "closed"
        for _ in range(3):
            assert c.get(switchable.url).status_code == 200
        assert len(switchable.requests) == 8


def test_success_resets_the_count(switchable: Scripted) -> None:
    with Client(retry=breaker(threshold=2)) as c:
        c._set_fake_clock_us(0)
        assert c.get(switchable.url).status_code == 503
        switchable.state["down"] = False  # type: ignore[attr-defined]
        assert c.get(switchable.url).status_code == 200
        switchable.state["down"] = True  # type: ignore[attr-defined]
        assert c.get(switchable.url).status_code == 503
        assert c._circuit_state(switchable.origin) == "closed"  # not 2 in a row
        assert c.get(switchable.url).status_code == 503
        assert c._circuit_state(switchable.origin) == "open"


def test_breaker_counts_attempts_of_retries(switchable: Scripted) -> None:
    policy = dataclasses.replace(breaker(threshold=3), max_attempts=5, backoff_factor=0)
    with Client(retry=policy) as c:
        c._set_fake_clock_us(0)
        with pytest.raises(CircuitOpenError):
            c.get(switchable.url)  # attempts 1-3 fail, the 4th is refused
        assert len(switchable.requests) == 3


def test_breaker_counts_connection_failures() -> None:
    port = free_port()
    origin = f"http://127.0.0.1:{port}"
    with Client(retry=breaker(threshold=2)) as c:
        c._set_fake_clock_us(0)
        for _ in range(2):
            with pytest.raises(ConnectError):
                c.get(origin + "/")
        assert c._circuit_state(origin) == "open"
        with pytest.raises(CircuitOpenError):
            c.get(origin + "/")


def test_breaker_is_per_origin(switchable: Scripted, httpbin: str) -> None:
    with Client(retry=breaker(threshold=1)) as c:
        c._set_fake_clock_us(0)
        c.get(switchable.url)
        with pytest.raises(CircuitOpenError):
            c.get(switchable.url)
        with pytest.raises(CircuitOpenError):  # the same origin by another path
            c.get(switchable.url + "/other")
        assert c.get(f"{httpbin}/get").status_code == 200  # another origin
        assert c._circuit_state(httpbin) == "closed"


def test_breaker_shared_by_threads(switchable: Scripted) -> None:
    import threading

    with Client(retry=breaker(threshold=4)) as c:
        c._set_fake_clock_us(0)
        threads = [threading.Thread(target=c.get, args=(switchable.url,)) for _ in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert c._circuit_state(switchable.origin) == "open"
        with pytest.raises(CircuitOpenError):
            c.get(switchable.url)


def test_breaker_per_request_policy(switchable: Scripted) -> None:
    with Client() as c:
        c._set_fake_clock_us(0)
        for _ in range(2):
            c.get(switchable.url, retry=breaker(threshold=2))
        with pytest.raises(CircuitOpenError):
            c.get(switchable.url, retry=breaker(threshold=2))
        # A request without the breaker ignores its state.
        assert c.get(switchable.url).status_code == 503


def test_real_clock_again(switchable: Scripted) -> None:
    with Client(retry=breaker(threshold=1, recovery=0)) as c:
        c._set_fake_clock_us(0)
        c._set_fake_clock_us(None)
        c.get(switchable.url)
        assert c._circuit_state(switchable.origin) == "open"
        switchable.state["down"] = False  # type: ignore[attr-defined]
        assert c.get(switchable.url).status_code == 200  # recovery 0: the next is a trial
