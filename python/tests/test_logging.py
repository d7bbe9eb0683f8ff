"""The `fasthttp` logger (fasthttp/_log.py, python/src/log.c): one INFO line per response
in httpx's form, DEBUG lines for the connection (opened or reused, TLS), redirects and
retries; credentials never shown; nothing written when the level is off, and the level
cache follows setLevel and logging.disable. Real servers: httpbin, nginx over HTTPS."""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Iterator

import pytest
from servers import Nginx

import fasthttp
from fasthttp import Client
from fasthttp.retry import RetryPolicy

LOGGER = logging.getLogger("fasthttp")


class Records(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)

    def lines(self, level: int | None = None) -> list[str]:
        return [r.getMessage() for r in self.records if level is None or r.levelno == level]


@pytest.fixture
def logs() -> Iterator[Records]:
    handler = Records()
    LOGGER.addHandler(handler)
    old = LOGGER.level
    LOGGER.setLevel(logging.DEBUG)
    try:
        yield handler
    finally:
        LOGGER.setLevel(old)
        LOGGER.removeHandler(handler)


def test_info_line_per_request_like_httpx(httpbin: str, logs: Records) -> None:
    with Client() as c:
        c.get(httpbin + "/get")
        c.post(httpbin + "/status/418")
    assert logs.lines(logging.INFO) == [
        f'HTTP Request: GET {httpbin}/get "HTTP/1.1 200 OK"',
        f"HTTP Request: POST {httpbin}/status/418 \"HTTP/1.1 418 I'M A TEAPOT\"",
    ]
    record = next(r for r in logs.records if r.levelno == logging.INFO)
    assert record.name == "fasthttp"
    assert record.pathname == __file__  # the caller's line, as logger.info() from here


def test_debug_connection_opened_then_reused(httpbin: str, logs: Records) -> None:
    with Client() as c:
        c.get(httpbin + "/get")
        c.get(httpbin + "/get")
    debug = logs.lines(logging.DEBUG)
    port = httpbin.rsplit(":", 1)[1]
    assert re.fullmatch(rf"connection #(\d+) to 127\.0\.0\.1 port {port} opened \(.*\)", debug[0])
    n = re.match(r"connection #(\d+)", debug[0])
    assert n and debug[1] == f"connection #{n.group(1)} to 127.0.0.1 port {port} reused"


def test_debug_tls_details(nginx: Nginx, logs: Records) -> None:
    with Client(verify=nginx.ca_file, http2=True) as c:
        assert c.get(nginx.https + "/json").status_code == 200
    tls = [line for line in logs.lines(logging.DEBUG) if "TLSv1" in line]
    assert len(tls) == 1, logs.lines()
    assert re.search(r": TLSv1\.[23] \S+, ALPN (h2|http/1\.1), server certificate .+ \(issuer .+\)",
                     tls[0]), tls[0]


def test_redirect_hops_and_redacted_credentials(httpbin: str, logs: Records) -> None:
    secret = httpbin.replace("http://", "http://alice:s3cret@")
    with Client(follow_redirects=True) as c:
        c.get(secret + "/redirect/2")
    text = "\n".join(logs.lines())
    assert "s3cret" not in text and "alice" not in text
    info = logs.lines(logging.INFO)
    assert [line.split('"')[1] for line in info] == ["HTTP/1.1 302 FOUND"] * 2 + ["HTTP/1.1 200 OK"]
    assert sum(line.startswith("redirect: 302 to ") for line in logs.lines(logging.DEBUG)) == 2


def test_retries_reported(httpbin: str, logs: Records) -> None:
    policy = RetryPolicy(max_attempts=3, backoff_factor=0.0)
    with Client(retry=policy) as c:
        assert c.get(httpbin + "/status/503").status_code == 503
    assert f"retried: 3 attempts for {httpbin}/status/503" in logs.lines(logging.DEBUG)


def test_async_client_logs_too(httpbin: str, logs: Records) -> None:
    async def main() -> None:
        async with Client() as c:
            await c.get(httpbin + "/get")

    asyncio.run(main())
    assert logs.lines(logging.INFO) == [f'HTTP Request: GET {httpbin}/get "HTTP/1.1 200 OK"']


def test_nothing_when_off_and_the_cache_follows_level_changes(httpbin: str,
                                                             logs: Records) -> None:
    with Client() as c:
        LOGGER.setLevel(logging.WARNING)
        c.get(httpbin + "/get")
        assert logs.records == []
        LOGGER.setLevel(logging.INFO)  # clears logging's level cache
        c.get(httpbin + "/get")
        assert len(logs.lines(logging.INFO)) == 1 and logs.lines(logging.DEBUG) == []
        logging.disable(logging.INFO)
        try:
            c.get(httpbin + "/get")
        finally:
            logging.disable(logging.NOTSET)
        LOGGER.disabled = True
        try:
            c.get(httpbin + "/get")
        finally:
            LOGGER.disabled = False
    assert len(logs.records) == 1


def test_a_failing_handler_does_not_fail_the_request(httpbin: str, logs: Records,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("handler broke")

    monkeypatch.setattr(LOGGER, "info", broken)
    unraisable: list[object] = []
    monkeypatch.setattr("sys.unraisablehook", unraisable.append)
    with Client() as c:
        assert c.get(httpbin + "/get").status_code == 200
    assert len(unraisable) == 1


def test_logger_is_the_standard_one() -> None:
    assert fasthttp._log.logger is logging.getLogger("fasthttp")
