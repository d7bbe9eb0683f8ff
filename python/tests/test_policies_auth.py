"""Authentication: (user, pass) and BasicAuth, DigestAuth (run by the engine),
AuthBase and callables (run around the exchange), client-level and per
request (the request's wins), and credentials never following a redirect to
another origin (127.0.0.1:A → localhost:B).
"""

from __future__ import annotations

import base64
from collections.abc import Iterator

import pytest
from scripted import Scripted, Seen, reply

from fasthttp import AuthBase, BasicAuth, Client, DigestAuth, Request, Response
from fasthttp.auth import MAX_AUTH_ROUNDS


def basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


@pytest.fixture
def client() -> Iterator[Client]:
    with Client() as c:
        yield c


# ---- Basic and Digest against httpbin ---------------------------------------------------


@pytest.mark.parametrize("auth", [("u", "p"), BasicAuth("u", "p")])
def test_basic(httpbin: str, client: Client, auth: object) -> None:
    r = client.get(f"{httpbin}/basic-auth/u/p", auth=auth)  # type: ignore[arg-type]
    assert r.status_code == 200 and r.json() == {"authenticated": True, "user": "u"}
    assert client.get(f"{httpbin}/basic-auth/u/p").status_code == 401
    assert client.get(f"{httpbin}/basic-auth/u/p", auth=("u", "wrong")).status_code == 401


def test_basic_utf8(httpbin: str, client: Client) -> None:
    r = client.get(f"{httpbin}/headers", auth=("üser", "pässword"))
    assert r.json()["headers"]["Authorization"] == basic("üser", "pässword")


@pytest.mark.parametrize("algorithm", ["MD5", "SHA-256"])
def test_digest(httpbin: str, client: Client, algorithm: str) -> None:
    url = f"{httpbin}/digest-auth/auth/u/p/{algorithm}"
    r = client.get(url, auth=DigestAuth("u", "p"))
    assert r.status_code == 200 and r.json() == {"authenticated": True, "user": "u"}
    assert r.history == []  # the challenge is not a redirect
    assert client.get(url, auth=DigestAuth("u", "wrong")).status_code == 401
    assert client.get(url).status_code == 401


def test_digest_default_path(httpbin: str) -> None:
    with Client(auth=DigestAuth("user", "passwd")) as c:
        assert c.get(f"{httpbin}/digest-auth/auth/user/passwd").status_code == 200


def test_client_level_and_per_request(httpbin: str) -> None:
    with Client(auth=("u", "wrong")) as c:
        assert c.auth == ("u", "wrong")
        assert c.get(f"{httpbin}/basic-auth/u/p").status_code == 401
        assert c.get(f"{httpbin}/basic-auth/u/p", auth=("u", "p")).status_code == 200
        assert c.get(f"{httpbin}/digest-auth/auth/u/p/MD5",
                     auth=DigestAuth("u", "p")).status_code == 200
        # A per-request custom auth replaces the client's Basic credentials.
        r = c.get(f"{httpbin}/headers", auth=lambda req: req.headers.update({"X-Key": "k"}))
        headers = r.json()["headers"]
        assert headers["X-Key"] == "k" and "Authorization" not in headers
    with Client(auth=DigestAuth("u", "p")) as c:
        assert c.get(f"{httpbin}/digest-auth/auth/u/p/SHA-256").status_code == 200
        assert c.get(f"{httpbin}/basic-auth/u/p", auth=BasicAuth("u", "p")).status_code == 200


def test_auth_header_set_by_caller_wins(httpbin: str) -> None:
    with Client(auth=("u", "p")) as c:
        r = c.get(f"{httpbin}/headers", headers={"Authorization": "Bearer mine"})
    assert r.json()["headers"]["Authorization"] == "Bearer mine"


@pytest.mark.parametrize(
    ("auth", "exc"),
    [(123, TypeError), (("u",), TypeError), (("u", 1), TypeError), (("u", "a\0b"), ValueError)],
)
def test_invalid_auth(api: str, client: Client, auth: object, exc: type[Exception]) -> None:
    with pytest.raises(exc):
        client.get(api, auth=auth)  # type: ignore[arg-type]
    with pytest.raises(exc):
        Client(auth=auth)  # type: ignore[arg-type]


def test_auth_objects() -> None:
    with pytest.raises(TypeError):
        BasicAuth("u", None)  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        DigestAuth("u\0", "p")
    assert BasicAuth("u", "p") == BasicAuth("u", "p") != DigestAuth("u", "p")
    assert "p" not in repr(DigestAuth("user", "p")).replace("DigestAuth", "")
    assert isinstance(BasicAuth("u", "p"), AuthBase)


# ---- custom schemes -----------------------------------------------------------------------


def test_on_request_changes_the_request(httpbin: str, client: Client) -> None:
    seen: list[Request] = []

    class Token(AuthBase):
        def on_request(self, request: Request) -> None:
            seen.append(request)
            request.headers["Authorization"] = "Bearer t0ken"

    r = client.get(f"{httpbin}/bearer", auth=Token())
    assert r.status_code == 200 and r.json() == {"authenticated": True, "token": "t0ken"}
    assert len(seen) == 1 and seen[0].url == r.request.url
    assert r.request.headers["Authorization"] == "Bearer t0ken"  # as sent


def test_seed_spelling_on_request(httpbin: str, client: Client) -> None:
    class APIKeyAuth(AuthBase):
        def __init__(self, key: str) -> None:
            self.key = key

        def _on_request(self, request: Request) -> None:
            request.headers["X-API-Key"] = self.key

    r = client.get(f"{httpbin}/headers", auth=APIKeyAuth("my-secret"))
    assert r.json()["headers"]["X-Api-Key"] == "my-secret"


def test_on_request_returns_another_request(httpbin: str, client: Client) -> None:
    class Reroute(AuthBase):
        def on_request(self, request: Request) -> Request:
            return Request("GET", f"{httpbin}/anything/rerouted", headers={"X-Via": "auth"})

    r = client.get(f"{httpbin}/get", auth=Reroute())
    body = r.json()
    assert body["url"] == f"{httpbin}/anything/rerouted" and body["headers"]["X-Via"] == "auth"
    assert body["headers"]["User-Agent"].startswith("fasthttp/")  # client defaults applied
    assert r.request.url == f"{httpbin}/anything/rerouted"


def test_callable_auth(httpbin: str, client: Client) -> None:
    def sign(request: Request) -> None:
        request.headers["X-Signature"] = request.method + " " + request.url

    r = client.post(f"{httpbin}/post", auth=sign, content=b"x")
    assert r.json()["headers"]["X-Signature"] == f"POST {httpbin}/post"


def test_challenge_response(httpbin: str, client: Client) -> None:
    """on_response sees the 401 of /bearer and answers with a token."""
    calls: list[int] = []

    class Challenge(AuthBase):
        def on_response(self, request: Request, response: Response) -> Request | None:
            calls.append(response.status_code)
            if response.status_code != 401:
                return None
            return Request(request.method, request.url,
                           headers={"Authorization": "Bearer answered"})

    r = client.get(f"{httpbin}/bearer", auth=Challenge())
    assert r.status_code == 200 and r.json()["token"] == "answered"
    assert calls == [401, 200]
    assert r.request.headers["Authorization"] == "Bearer answered"


def test_challenge_rounds_are_bounded() -> None:
    server = Scripted(lambda seen: reply(401, {"WWW-Authenticate": "Custom"}))

    class Forever(AuthBase):
        def on_response(self, request: Request, response: Response) -> Request:
            return Request("GET", request.url)

    try:
        with Client() as c:
            r = c.get(server.url + "/x", auth=Forever())
        assert r.status_code == 401
        assert len(server.requests) == 1 + MAX_AUTH_ROUNDS == 6
    finally:
        server.close()


def test_on_response_must_return_a_request(httpbin: str, client: Client) -> None:
    class Bad(AuthBase):
        def on_response(self, request: Request, response: Response) -> object:  # type: ignore[override]
            return "nope"

    with pytest.raises(TypeError, match="on_response"):
        client.get(f"{httpbin}/get", auth=Bad())


def test_auth_exceptions_propagate(httpbin: str, client: Client) -> None:
    class Boom(AuthBase):
        def on_request(self, request: Request) -> None:
            raise KeyError("no token")

    with pytest.raises(KeyError, match="no token"):
        client.get(f"{httpbin}/get", auth=Boom())


def test_async_auth_in_sync_mode(httpbin: str, client: Client) -> None:
    class AsyncToken(AuthBase):
        async def on_request(self, request: Request) -> None:  # type: ignore[override]
            request.headers["Authorization"] = "Bearer async"

        async def on_response(  # type: ignore[override]
            self, request: Request, response: Response
        ) -> None:
            response.headers["X-Seen"] = "yes"

    r = client.get(f"{httpbin}/bearer", auth=AsyncToken())
    assert r.status_code == 200 and r.json()["token"] == "async"
    assert r.headers["X-Seen"] == "yes"


def test_client_custom_auth_and_per_request_override(httpbin: str) -> None:
    class Key(AuthBase):
        def __init__(self, key: str) -> None:
            self.key = key

        def on_request(self, request: Request) -> None:
            request.headers["X-Key"] = self.key

    with Client(auth=Key("client")) as c:
        assert c.get(f"{httpbin}/headers").json()["headers"]["X-Key"] == "client"
        h = c.get(f"{httpbin}/headers", auth=Key("request")).json()["headers"]
        assert h["X-Key"] == "request"
        h = c.get(f"{httpbin}/headers", auth=("u", "p")).json()["headers"]
        assert "X-Key" not in h and h["Authorization"] == basic("u", "p")
        # send() takes auth= too
        h = c.send(Request("GET", f"{httpbin}/headers"), auth=Key("send")).json()["headers"]
        assert h["X-Key"] == "send"


# ---- Digest rounds (scripted) ------------------------------------------------------------------

CHALLENGE = 'Digest realm="r", nonce="{nonce}", qop="auth", algorithm=MD5{stale}'


def digest_server(script: list[tuple[int, str | None]]) -> Scripted:
    """Answers request i with script[i]: (status, nonce for a challenge or None),
    and "stale" in the nonce adds stale=true."""
    def respond(seen: Seen) -> bytes:
        status, nonce = script[min(len(server.requests), len(script)) - 1]
        if status == 401 and nonce:
            stale = ", stale=true" if "stale" in nonce else ""
            return reply(401, {"WWW-Authenticate": CHALLENGE.format(nonce=nonce, stale=stale)})
        return reply(status)

    server = Scripted(respond)
    return server


def test_digest_second_401_is_returned() -> None:
    server = digest_server([(401, "n1"), (401, "n2")])
    try:
        with Client(auth=DigestAuth("u", "p")) as c:
            r = c.get(server.url + "/x")
        assert r.status_code == 401
        assert len(server.requests) == 2  # the request and one answer, no loop
        assert "authorization" not in server.requests[0].headers
        assert 'nonce="n1"' in server.requests[1].headers["authorization"]
    finally:
        server.close()


def test_digest_stale_nonce_answered_again() -> None:
    server = digest_server([(401, "n1"), (401, "n2-stale"), (200, None)])
    try:
        with Client() as c:
            r = c.get(server.url + "/x", auth=DigestAuth("u", "p"))
        assert r.status_code == 200 and len(server.requests) == 3
        assert 'nonce="n2-stale"' in server.requests[2].headers["authorization"]
        assert 'username="u"' in server.requests[2].headers["authorization"]
    finally:
        server.close()


# ---- credentials and origins ------------------------------------------------------------------


@pytest.fixture
def two_origins() -> Iterator[tuple[Scripted, Scripted]]:
    """A (127.0.0.1) redirects /go to B (localhost) and /go-self to its own /stay;
    /digest challenges first. Both record what they receive."""
    b = Scripted(lambda seen: reply(200, None, b"B"))

    def respond_a(seen: Seen) -> bytes:
        if seen.path == "/digest" and "authorization" not in seen.headers:
            return reply(401, {"WWW-Authenticate": CHALLENGE.format(nonce="n", stale="")})
        if seen.path in ("/go", "/digest"):
            return reply(302, {"Location": b.url_as("localhost") + "/landing"})
        if seen.path == "/go-self":
            return reply(307, {"Location": "/stay"})
        return reply(200, None, b"A")

    a = Scripted(respond_a)
    yield a, b
    a.close()
    b.close()


SENSITIVE = ("authorization", "proxy-authorization", "cookie")


@pytest.mark.parametrize(
    "kwargs",
    [{"auth": ("u", "p")}, {"auth": BasicAuth("u", "p")},
     {"headers": {"Authorization": "Bearer x", "Proxy-Authorization": "Basic eA==",
                  "Cookie": "c=1"}},
     {"auth": lambda r: r.headers.update({"Authorization": "Custom y"})}],
)
def test_credentials_do_not_cross_origins(two_origins: tuple[Scripted, Scripted],
                                           kwargs: dict[str, object]) -> None:
    a, b = two_origins
    with Client() as c:
        r = c.get(a.url + "/go", **kwargs)  # type: ignore[arg-type]
    assert r.content == b"B"
    assert "authorization" in a.requests[0].headers
    for name in SENSITIVE:
        assert name not in b.requests[0].headers


class KeyAuth(AuthBase):
    def _on_request(self, request: Request) -> None:
        request.headers["X-API-Key"] = "secret-key"


def test_custom_auth_headers_do_not_cross_origins(
        two_origins: tuple[Scripted, Scripted]) -> None:
    a, b = two_origins
    with Client() as c:
        r = c.get(a.url + "/go", auth=KeyAuth(), headers={"X-Plain": "1"})
    assert r.content == b"B"
    assert a.requests[0].headers["x-api-key"] == "secret-key"
    assert "x-api-key" not in b.requests[0].headers  # set by the auth: a credential
    assert b.requests[0].headers["x-plain"] == "1"  # the caller's own header follows


def test_client_credentials_do_not_cross_origins(two_origins: tuple[Scripted, Scripted]) -> None:
    a, b = two_origins
    with Client(auth=("u", "p")) as c:
        c.get(a.url + "/go")
        c.get(a.url + "/go-self")
    assert a.requests[0].headers["authorization"] == basic("u", "p")
    assert "authorization" not in b.requests[0].headers
    # same origin: kept (a 307 from /go-self to /stay)
    assert a.requests[2].path == "/stay"
    assert a.requests[2].headers["authorization"] == basic("u", "p")


def test_digest_does_not_cross_origins(two_origins: tuple[Scripted, Scripted]) -> None:
    a, b = two_origins
    with Client() as c:
        r = c.get(a.url + "/digest", auth=DigestAuth("u", "p"))
    assert r.content == b"B"
    assert [s.path for s in a.requests] == ["/digest", "/digest"]
    assert a.requests[1].headers["authorization"].startswith("Digest ")
    assert "authorization" not in b.requests[0].headers


def test_credentials_stay_stripped_after_returning(two_origins: tuple[Scripted, Scripted]) -> None:
    """A → B → A: once the request left its origin, credentials stay behind."""
    a, b = two_origins

    def respond_b(seen: Seen) -> bytes:
        return reply(302, {"Location": a.url + "/back"})

    b.respond = respond_b
    with Client() as c:
        r = c.get(a.url + "/go", auth=("u", "p"))
    assert r.content == b"A"
    assert a.requests[1].path == "/back" and "authorization" not in a.requests[1].headers
