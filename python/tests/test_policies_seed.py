"""The seed README's policy examples (../shared/seed/fasthttp-README.md, sections
Retry Policy, Circuit Breaker, Cookies, Authentication and Response Hooks),
synchronous, with only the host changed: https://api.example.com → the local
httpbin's /anything echo endpoint (the `api` fixture), so each test can also
check what the server received.

The Cookies example sets a Secure cookie for domain="example.com" and fetches
https://example.com/protected. Nothing local answers for example.com, so it
runs against the local nginx over https with domain="localhost" (nginx's
certificate is for localhost, trusted through verify=<the test CA>), and
/protected there echoes the Cookie header it received. Everything else in the
example is unchanged.
"""

from __future__ import annotations

import pytest
from servers import Nginx


def test_retry_policy(api: str) -> None:
    from fasthttp import Client
    from fasthttp.retry import RetryPolicy

    # Basic retry policy
    retry_policy = RetryPolicy(max_attempts=3)

    # Advanced retry policy with circuit breaker
    retry_policy = RetryPolicy(
        max_attempts=5,
        backoff_factor=0.5,
        status_codes=[500, 502, 503, 504],
        circuit_breaker=True,
        cb_failure_threshold=3,
        cb_recovery_seconds=60,
    )

    with Client(retry=retry_policy) as client:
        resp = client.get(f"{api}/resource")

    assert resp.status_code == 200 and resp.attempts == 1
    assert resp.json()["url"] == f"{api}/resource"


def test_circuit_breaker(api: str) -> None:
    from fasthttp import Client
    from fasthttp.retry import RetryPolicy

    # Configure circuit breaker
    retry_policy = RetryPolicy(
        max_attempts=1,  # Only try once before circuit breaker takes over
        circuit_breaker=True,
        cb_failure_threshold=3,  # Open circuit after 3 failures
        cb_recovery_seconds=60,  # Wait 60 seconds before trying again
    )

    with Client(base_url=api, retry=retry_policy) as client:
        resp = client.get("/resource")

    assert resp.status_code == 200
    assert resp.json()["url"] == f"{api}/resource"


def test_circuit_breaker_opens_like_the_example_says(httpbin: str) -> None:
    """The example's policy against an origin that fails: open after 3 failures."""
    from fasthttp import Client
    from fasthttp.errors import CircuitOpenError
    from fasthttp.retry import RetryPolicy

    retry_policy = RetryPolicy(max_attempts=1, circuit_breaker=True, cb_failure_threshold=3,
                               cb_recovery_seconds=60)
    with Client(base_url=httpbin, retry=retry_policy) as client:
        client._set_fake_clock_us(0)
        for _ in range(3):
            assert client.get("/status/503").status_code == 503
        with pytest.raises(CircuitOpenError):
            client.get("/status/200")
        client._set_fake_clock_us(60_000_000)  # "Wait 60 seconds before trying again"
        assert client.get("/status/200").status_code == 200


def test_cookies(nginx: Nginx) -> None:
    https = nginx.https.replace("127.0.0.1", "localhost")  # for domain="localhost"
    http = nginx.http.replace("127.0.0.1", "localhost")

    from fasthttp import Client
    from fasthttp.cookies import CookieJar

    # Create a cookie jar
    jar = CookieJar()
    jar.set("session_id", "abc123", domain="localhost", path="/", secure=True)

    with Client(cookies=jar, verify=nginx.ca_file) as client:
        resp = client.get(f"{https}/protected")

        assert resp.status_code == 200
        assert resp.text() == "cookie=session_id=abc123"
        # Secure: never over plain http, even to the same host
        assert client.get(f"{http}/protected").text() == "cookie="


def test_authentication(api: str) -> None:
    from fasthttp import AuthBase, Client, DigestAuth, Request

    # 1) Basic authentication (tuple shorthand)
    with Client(base_url=api, auth=("user", "pass")) as client:
        resp = client.get("/basic-auth")
        resp.raise_for_status()
    assert resp.json()["headers"]["Authorization"] == "Basic dXNlcjpwYXNz"

    # 2) Digest authentication
    digest = DigestAuth("digest-user", "digest-pass")
    with Client(base_url=api) as client:
        resp = client.get("/digest-endpoint", auth=digest)
        resp.raise_for_status()
    # /anything does not challenge, so no Digest answer is sent
    assert "Authorization" not in resp.json()["headers"]

    # 3) Custom authentication by subclassing AuthBase
    class APIKeyAuth(AuthBase):
        def __init__(self, key: str) -> None:
            self.key = key

        def _on_request(self, request: Request) -> None:
            request.headers["X-API-Key"] = self.key

    with Client(base_url=api) as client:
        resp = client.get("/custom-auth", auth=APIKeyAuth("my-secret"))
        resp.raise_for_status()
    assert resp.json()["headers"]["X-Api-Key"] == "my-secret"


def test_authentication_against_checking_endpoints(httpbin: str) -> None:
    """The same handlers where httpbin checks them: /basic-auth and /digest-auth."""
    from fasthttp import Client, DigestAuth

    with Client(base_url=httpbin, auth=("user", "pass")) as client:
        client.get("/basic-auth/user/pass").raise_for_status()
    digest = DigestAuth("digest-user", "digest-pass")
    with Client(base_url=httpbin) as client:
        resp = client.get("/digest-auth/auth/digest-user/digest-pass/MD5", auth=digest)
        resp.raise_for_status()
    assert resp.json() == {"authenticated": True, "user": "digest-user"}


def test_response_hooks(api: str, capsys: pytest.CaptureFixture[str]) -> None:
    from fasthttp import Client, Response

    def log_status(resp: Response) -> None:
        print("Got status:", resp.status_code)

    async def uppercase_hook(resp: Response) -> Response:
        # Hooks may be async and may return a replacement Response
        from fasthttp import Response

        return Response(
            status_code=resp.status_code,
            headers=resp.headers,
            content=resp.text().upper().encode("utf-8"),
            reason=resp.reason,
            request=resp.request,
        )

    with Client(base_url=api, hooks={"response": log_status}) as client:
        resp = client.get("/resource", hooks={"response": [log_status, uppercase_hook]})
        resp.raise_for_status()

    # the client's hook, then the request's two
    assert capsys.readouterr().out == "Got status: 200\nGot status: 200\n"
    text = resp.text()
    assert text == text.upper() and f'"URL": "{api}/resource"'.upper() in text
    assert '"METHOD": "GET"' in text
