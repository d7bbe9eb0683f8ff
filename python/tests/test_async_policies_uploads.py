"""Policies (retry, redirects, cookies, auth, hooks) and uploads (files=,
MultipartEncoder, async sources) in asyncio mode, on stock asyncio and uvloop,
against the local httpbin. The sync side of each is tested in
test_policies_*.py and test_uploads*.py; this checks the async paths reach the
same engine and flow, including the seed's async upload and hook examples."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from aio_util import Runner, arun  # noqa: F401 (fixture)

from fasthttp import AuthBase, Client, DigestAuth, Request, Response
from fasthttp.formdata import MultipartEncoder
from fasthttp.retry import RetryPolicy


def test_redirects_cookies_and_retry(httpbin: str, arun: Runner[Any]) -> None:
    async def main() -> None:
        async with Client(base_url=httpbin) as client:
            r = await client.get("/redirect/3")
            assert r.status_code == 200
            assert [h.status_code for h in r.history] == [302, 302, 302]
            assert r.url.endswith("/get")
            r = await client.get("/cookies/set?flavour=oat")  # sets, then redirects
            assert r.json()["cookies"] == {"flavour": "oat"}
            assert client.cookies.get("flavour") == "oat"
            policy = RetryPolicy(max_attempts=3, backoff_factor=0, status_codes=[503])
            r = await client.get("/status/503", retry=policy)
            assert r.status_code == 503
            assert r.attempts == 3

    arun(main())


def test_basic_digest_and_custom_auth(httpbin: str, arun: Runner[Any]) -> None:
    class APIKeyAuth(AuthBase):
        def __init__(self, key: str) -> None:
            self.key = key

        def _on_request(self, request: Request) -> None:
            request.headers["X-API-Key"] = self.key

    async def main() -> None:
        async with Client(base_url=httpbin, auth=("user", "pass")) as client:
            (await client.get("/basic-auth/user/pass")).raise_for_status()
            r = await client.get("/digest-auth/auth/u/p/SHA-256", auth=DigestAuth("u", "p"))
            r.raise_for_status()
            r = await client.get("/headers", auth=APIKeyAuth("my-secret"))
            assert r.json()["headers"]["X-Api-Key"] == "my-secret"

    arun(main())


def test_async_hooks_replace_the_response(httpbin: str, arun: Runner[Any]) -> None:
    seen: list[int] = []

    def log_status(resp: Response) -> None:
        seen.append(resp.status_code)

    async def uppercase_hook(resp: Response) -> Response:  # the seed's hook
        return Response(status_code=resp.status_code, headers=resp.headers,
                        content=resp.text().upper().encode("utf-8"), reason=resp.reason,
                        request=resp.request)

    async def main() -> None:
        async with Client(base_url=httpbin, hooks={"response": log_status}) as client:
            resp = await client.get("/anything/resource",
                                    hooks={"response": [log_status, uppercase_hook]})
            resp.raise_for_status()
            assert b'"URL"' in resp.content  # upper-cased by the async hook

    arun(main())
    assert seen == [200, 200]  # client hook, then the request's first hook


def test_seed_file_upload_example(httpbin: str, arun: Runner[Any], tmp_path: Path) -> None:
    photo = tmp_path / "photo.jpg"
    photo.write_bytes(b"\xff\xd8jpeg-bytes" * 100)

    async def main() -> None:
        async with Client(base_url=httpbin) as client:
            with open(photo, "rb") as f:
                files = {
                    "avatar": ("photo.jpg", f),
                    "metadata": ("meta.json", b'{"public": true}', "application/json"),
                }
                data = {"user_id": "123"}
                resp = await client.post("/post", data=data, files=files)
                resp.raise_for_status()
        body = resp.json()
        assert body["form"] == {"user_id": "123"}
        assert body["files"]["metadata"] == '{"public": true}'
        assert body["files"]["avatar"].startswith("data:")  # binary: httpbin base64s it

    arun(main())


def test_seed_multipart_encoder_example(httpbin: str, arun: Runner[Any], tmp_path: Path) -> None:
    large = tmp_path / "large.bin"
    large.write_bytes(bytes(range(256)) * 4096)  # 1 MiB

    async def main() -> dict[str, Any]:
        async with Client(base_url=httpbin) as client:
            with open(large, "rb") as f:
                encoder = MultipartEncoder(
                    fields={"description": "Sample upload"},
                    files={"file": ("large.bin", f, "application/octet-stream")},
                )
                resp = await client.post("/post", content=encoder.iter_bytes(), headers={
                    "Content-Type": encoder.content_type,
                })
                resp.raise_for_status()
                result: dict[str, Any] = resp.json()
                return result

    body = arun(main())
    assert body["form"] == {"description": "Sample upload"}
    assert "file" in body["files"]


def test_async_sources_in_files(httpbin: str, arun: Runner[Any]) -> None:
    async def parts() -> AsyncIterator[bytes]:
        for i in range(5):
            yield f"line {i}\n".encode()

    async def main() -> dict[str, Any]:
        async with Client(base_url=httpbin) as client:
            resp = await client.post("/post", files={"log": ("log.txt", parts(), "text/plain")},
                                     data={"k": "v"})
            resp.raise_for_status()
            result: dict[str, Any] = resp.json()
            return result

    body = arun(main())
    assert body["files"]["log"] == "".join(f"line {i}\n" for i in range(5))
    assert body["form"] == {"k": "v"}


def test_json_and_form_bodies(httpbin: str, arun: Runner[Any]) -> None:
    async def main() -> None:
        async with Client(base_url=httpbin) as client:
            r = await client.post("/post", json={"key": "value"})
            assert json.loads(r.json()["data"]) == {"key": "value"}
            r = await client.post("/post", data={"field": ["a", "b"]})
            assert r.json()["form"] == {"field": ["a", "b"]}

    arun(main())


@pytest.mark.parametrize("seed_form", [True])
def test_async_auth_on_response_challenge(httpbin: str, arun: Runner[Any],
                                          seed_form: bool) -> None:
    class Retry401(AuthBase):
        async def on_response(self, request: Request, response: Response) -> Request | None:
            if response.status_code == 401:
                return Request("GET", f"{httpbin}/basic-auth/a/b",
                               headers={"Authorization": "Basic YTpi"})
            return None

    async def main() -> None:
        async with Client() as client:
            r = await client.get(f"{httpbin}/basic-auth/a/b", auth=Retry401())
            assert r.status_code == 200

    arun(main())
