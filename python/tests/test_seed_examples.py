"""Every synchronous example of the seed README (../shared/seed/fasthttp-README.md),
with only the host changed: https://httpbin.org → the local httpbin, and
https://api.example.com → the local httpbin's /anything echo endpoint.

The policy examples (Retry Policy, Circuit Breaker, Cookies, Authentication,
Response Hooks) are in test_policies_seed.py, the HTTP/2 preference examples in
test_http2.py. Left out (features of later releases): the asynchronous examples,
WebSocket and File Uploads.
"""

from __future__ import annotations

import pytest


def test_quick_start_synchronous(httpbin: str, capsys: pytest.CaptureFixture[str]) -> None:
    from fasthttp import Client
    from fasthttp.timeouts import Timeout

    # Basic GET request
    with Client() as client:
        resp = client.get(f"{httpbin}/get")
        print(f"Status: {resp.status_code}")
        print(f"Response: {resp.json()}")

    # With custom timeout
    with Client(timeout=Timeout(connect=5, read=10)) as client:
        resp = client.get(f"{httpbin}/get")
        print(resp.json())

    out = capsys.readouterr().out
    assert "Status: 200" in out
    assert f"'url': '{httpbin}/get'" in out


def test_api_reference_client(api: str) -> None:
    from fasthttp import Client

    # Basic client
    with Client() as client:
        response = client.get(f"{api}/users")
    assert response.status_code == 200
    assert response.json()["url"] == f"{api}/users"

    # Client with base URL
    with Client(base_url=api) as client:
        response = client.get("/users")  # Will make request to {api}/users
    assert response.json()["url"] == f"{api}/users"

    # Client with custom timeout
    from fasthttp.timeouts import Timeout

    with Client(timeout=Timeout(connect=5, read=10, total=30)) as client:
        response = client.get(f"{api}/users")
    assert response.status_code == 200


def test_api_reference_request(api: str) -> None:
    from fasthttp import Request

    # Create a request object
    request = Request(
        method="GET",
        url=f"{api}/users",
        headers={"Authorization": "Bearer token"},
        params={"page": 1, "limit": 10},
        data={"key": "value"},
    )
    assert request.method == "GET"
    assert request.url == f"{api}/users?page=1&limit=10"
    assert request.headers["authorization"] == "Bearer token"
    assert request.content == b"key=value"


def test_api_reference_response(httpbin: str, capsys: pytest.CaptureFixture[str]) -> None:
    from fasthttp import Client

    with Client() as client:
        resp = client.get(f"{httpbin}/json")

        # Access response properties
        print(f"Status: {resp.status_code}")
        print(f"Headers: {resp.headers}")
        print(f"Text: {resp.text()}")
        print(f"JSON: {resp.json()}")

        # Check status
        resp.raise_for_status()  # Raises an exception for 4xx/5xx responses

    out = capsys.readouterr().out
    assert "Status: 200" in out
    assert "Headers: Headers([" in out and "'Content-Type', 'application/json'" in out
    assert "Sample Slide Show" in out
    # The properties the reference lists.
    assert isinstance(resp.content, bytes) and resp.encoding == "utf-8"


def test_timeouts() -> None:
    from fasthttp.timeouts import Timeout

    # Different timeout configurations
    no_timeout = Timeout()  # No timeouts
    connect_timeout = Timeout(connect=5)  # 5 seconds to connect
    read_timeout = Timeout(read=10)  # 10 seconds to read
    full_timeout = Timeout(connect=5, read=10, total=30)  # Full configuration

    assert no_timeout.as_dict() == dict.fromkeys(("connect", "read", "write", "pool", "total"))
    assert connect_timeout.connect == 5 and connect_timeout.read is None
    assert read_timeout.read == 10 and read_timeout.connect is None
    assert (full_timeout.connect, full_timeout.read, full_timeout.total) == (5, 10, 30)


def test_streaming_large_responses(httpbin: str, capsys: pytest.CaptureFixture[str]) -> None:
    from fasthttp import Client

    with Client() as client:
        resp = client.get(f"{httpbin}/stream/20", stream=True)

        # Process response in chunks
        for chunk in resp.iter_bytes():
            print(f"Received chunk: {len(chunk)} bytes")

    out = capsys.readouterr().out
    sizes = [int(line.split()[2]) for line in out.splitlines()]
    assert sizes and all(s > 0 for s in sizes)
    assert sum(sizes) > 20 * 100  # 20 JSON lines


def test_custom_headers_and_parameters(httpbin: str, capsys: pytest.CaptureFixture[str]) -> None:
    from fasthttp import Client

    with Client() as client:
        # With custom headers and query parameters
        resp = client.get(
            f"{httpbin}/headers", headers={"User-Agent": "MyApp/1.0"}, params={"key": "value"}
        )
        print(resp.json())

    out = capsys.readouterr().out
    assert "'User-Agent': 'MyApp/1.0'" in out
    assert resp.url == f"{httpbin}/headers?key=value"


def test_post_request_with_data(httpbin: str, capsys: pytest.CaptureFixture[str]) -> None:
    from fasthttp import Client

    with Client() as client:
        # Send JSON data
        resp = client.post(f"{httpbin}/post", json={"key": "value"})
        print(resp.json())
        assert resp.json()["json"] == {"key": "value"}

        # Send form data
        resp = client.post(f"{httpbin}/post", data={"field": "value"})
        print(resp.json())
        assert resp.json()["form"] == {"field": "value"}

    assert capsys.readouterr().out.count("'url':") == 2


def test_synchronous_wrapper(api: str) -> None:
    from fasthttp import Client

    # Now you can use async classes synchronously
    with Client(base_url=api) as client:
        resp = client.get("/users")  # No await needed
        data = resp.json()
    assert data["url"] == f"{api}/users"
    assert data["method"] == "GET"


def test_error_handling(httpbin: str, capsys: pytest.CaptureFixture[str]) -> None:
    from fasthttp import Client
    from fasthttp.errors import (
        FastHTTPError,
        HTTPStatusError,
        PoolError,
        RequestError,
        ResponseError,
    )

    with Client() as client:
        try:
            resp = client.get(f"{httpbin}/status/500")
            resp.raise_for_status()  # Raises HTTPStatusError for 5xx responses
        except HTTPStatusError as e:
            print(f"HTTP error occurred: {e}")
        except RequestError as e:
            print(f"Request error occurred: {e}")
        except FastHTTPError as e:
            print(f"General FastHTTP error occurred: {e}")

    out = capsys.readouterr().out
    assert out.startswith("HTTP error occurred: Server error '500")
    assert f"{httpbin}/status/500" in out
    for cls in (RequestError, ResponseError, HTTPStatusError, PoolError):
        assert issubclass(cls, FastHTTPError)
