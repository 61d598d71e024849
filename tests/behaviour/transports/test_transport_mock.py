"""``MockTransport``: the client's own layers (redirects, cookies, retries, auth, hooks,
progress) run unchanged over a handler instead of the network."""

from __future__ import annotations

import asyncio
import hashlib
import json
import re
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import pytest

from aiosonic import HTTPClient, HttpResponse, Request, RetryPolicy, Timeouts
from aiosonic.auth import DigestAuth
from aiosonic.exceptions import (
    ConnectError,
    HTTPStatusError,
    InvalidRequest,
    ReadTimeout,
    RequestTimeout,
)
from aiosonic.testing import MockTransport, Response


def client_for(handler: Callable[[Request], Any], **kwargs: Any) -> HTTPClient:
    return HTTPClient(transport=MockTransport(handler), **kwargs)


async def test_plain_get_sees_wire_headers() -> None:
    seen: list[Request] = []

    def handler(request: Request) -> HttpResponse:
        seen.append(request)
        return Response(200, text="hello")

    async with client_for(handler) as client:
        response = await client.get("https://api.example/items?q=1", headers={"X-Test": "yes"})
        assert response.status_code == 200
        assert await response.text() == "hello"
        assert response.url == "https://api.example/items?q=1"
    [request] = seen
    assert request.method == "GET" and request.url == "https://api.example/items?q=1"
    assert request.headers["Host"] == "api.example"
    assert request.headers["User-Agent"].startswith("aiosonic/")
    assert request.headers["Accept-Encoding"] and request.headers["x-test"] == "yes"
    assert "content-length" not in request.headers and request.content == b""


async def test_json_post_body_and_headers() -> None:
    def handler(request: Request) -> HttpResponse:
        assert request.method == "POST"
        assert request.headers["Content-Type"] == "application/json"
        assert request.headers["Content-Length"] == str(len(request.content))
        assert request.headers["Host"] == "127.0.0.1:8080"
        return Response(201, json={"got": json.loads(request.content)})

    async with client_for(handler) as client:
        response = await client.post("http://127.0.0.1:8080/users", json={"name": "Ada"})
        assert response.status_code == 201
        assert await response.json() == {"got": {"name": "Ada"}}


async def test_redirects_are_followed_through_the_handler() -> None:
    methods: list[tuple[str, str, bytes]] = []

    def handler(request: Request) -> HttpResponse:
        methods.append((request.method, request.url, request.content))
        if request.url.endswith("/start"):
            return Response(303, headers={"Location": "/middle"}, text="see other")
        if request.url.endswith("/middle"):
            return Response(302, headers={"Location": "http://other.example/end"})
        return Response(200, text="arrived")

    async with client_for(handler) as client:
        response = await client.post("http://one.example/start", data=b"payload", follow=True)
        assert await response.text() == "arrived"
        assert response.url == "http://other.example/end"
        assert [r.status_code for r in response.history] == [303, 302]
        assert response.history[0].url == "http://one.example/start"
        not_followed = await client.post("http://one.example/start", data=b"x")
        assert not_followed.status_code == 303 and not not_followed.history
    assert methods[:3] == [
        ("POST", "http://one.example/start", b"payload"),
        ("GET", "http://one.example/middle", b""),
        ("GET", "http://other.example/end", b""),
    ]


async def test_cookies_set_by_one_response_go_back_on_the_next() -> None:
    cookies: list[str | None] = []

    def handler(request: Request) -> HttpResponse:
        cookies.append(request.headers.get("cookie"))
        if request.url.endswith("/login"):
            return Response(
                200, headers=[("Set-Cookie", "session=abc; Path=/"), ("Set-Cookie", "t=1")]
            )
        return Response(200)

    async with client_for(handler, handle_cookies=True) as client:
        login = await client.get("http://site.example/login")
        assert login.cookies is not None and login.cookies["session"].value == "abc"
        await client.get("http://site.example/account")
        await client.get("http://elsewhere.example/")
    assert cookies[0] is None
    assert cookies[1] is not None and sorted(cookies[1].split("; ")) == ["session=abc", "t=1"]
    assert cookies[2] is None  # another site's jar entry is empty


async def test_retries_on_503_until_success() -> None:
    calls = 0

    def handler(request: Request) -> HttpResponse:
        nonlocal calls
        calls += 1
        if calls < 3:
            return Response(503, text="busy")
        return Response(200, text="done")

    async with client_for(handler, retry=RetryPolicy(attempts=3, backoff=0)) as client:
        response = await client.get("http://svc.example/")
        assert response.status_code == 200 and await response.text() == "done"
    assert calls == 3


async def test_retries_exhausted_return_the_last_response() -> None:
    statuses = iter([503, 502, 504])

    async with client_for(lambda request: Response(next(statuses))) as client:
        response = await client.get("http://svc.example/", retry=RetryPolicy(attempts=3,
                                                                            backoff=0))
        assert response.status_code == 504


async def test_connect_error_from_handler_is_retried_then_raised() -> None:
    calls = 0

    def handler(request: Request) -> HttpResponse:
        nonlocal calls
        calls += 1
        if calls <= 2:
            raise ConnectError("connection refused")
        return Response(200, text="up")

    async with client_for(handler, retry=RetryPolicy(attempts=3, backoff=0)) as client:
        response = await client.get("http://svc.example/")
        assert await response.text() == "up"
        assert calls == 3
        calls = -10  # from now on every call fails
        with pytest.raises(ConnectError, match="refused"):
            await client.post("http://svc.example/", data=b"x")
        assert calls == -7  # a POST is retried too: nothing reached the server


async def test_read_timeout_is_not_retried_for_post() -> None:
    calls = 0

    def handler(request: Request) -> HttpResponse:
        nonlocal calls
        calls += 1
        raise ReadTimeout("no answer")

    async with client_for(handler, retry=RetryPolicy(attempts=3, backoff=0)) as client:
        with pytest.raises(ReadTimeout):
            await client.post("http://svc.example/", data=b"x")
        assert calls == 1
        with pytest.raises(ReadTimeout):
            await client.get("http://svc.example/")
        assert calls == 4


_PARAM = re.compile(r'(\w+)=(?:"([^"]*)"|([^\s,]+))')


def digest_handler(user: str, password: str, log: list[dict[str, str]]) -> Callable[..., Any]:
    """A handler that checks RFC 7616 MD5 qop=auth credentials itself."""
    realm, nonce = "mock", "n0nce"

    def md5(text: str) -> str:
        return hashlib.md5(text.encode()).hexdigest()

    def handler(request: Request) -> HttpResponse:
        header = request.headers.get("authorization", "")
        challenge = Response(401, headers={
            "WWW-Authenticate": f'Digest realm="{realm}", nonce="{nonce}", qop="auth", '
                                f'algorithm=MD5',
        })
        if not header.startswith("Digest "):
            log.append({})
            return challenge
        params = {m[1]: m[2] or m[3] for m in _PARAM.finditer(header)}
        log.append(params)
        target = request.url.split("://", 1)[1]
        uri = "/" + target.split("/", 1)[1]
        ha1 = md5(f"{user}:{realm}:{password}")
        ha2 = md5(f"{request.method}:{uri}")
        expected = md5(f"{ha1}:{nonce}:{params['nc']}:{params['cnonce']}:auth:{ha2}")
        if params.get("username") != user or params.get("uri") != uri:
            return challenge
        if params.get("response") != expected:
            return challenge
        return Response(200, json={"user": user})

    return handler


async def test_digest_auth_challenge_is_answered_through_the_mock() -> None:
    log: list[dict[str, str]] = []
    handler = digest_handler("ada", "s3cret", log)
    async with client_for(handler, auth=DigestAuth("ada", "s3cret")) as client:
        first = await client.get("http://secure.example/data?x=1")
        assert first.status_code == 200 and await first.json() == {"user": "ada"}
        second = await client.get("http://secure.example/other")
        assert second.status_code == 200
    # A bare try, the answer (nc 1), then the next request pre-authenticated (nc 2).
    assert [entry.get("nc") for entry in log] == [None, "00000001", "00000002"]
    assert log[1]["uri"] == "/data?x=1"


async def test_digest_wrong_password_returns_the_401() -> None:
    log: list[dict[str, str]] = []
    handler = digest_handler("ada", "s3cret", log)
    async with client_for(handler) as client:
        response = await client.get("http://secure.example/", auth=DigestAuth("ada", "nope"))
        assert response.status_code == 401
    assert len(log) == 2  # one answer, no loop


async def test_event_hooks_see_and_change_requests() -> None:
    events: list[str] = []

    async def sign(request: Request) -> None:
        request.headers["X-Signature"] = "signed"
        events.append(f"request {request.method} {request.url}")

    def log_response(response: HttpResponse) -> None:
        events.append(f"response {response.status_code}")

    def handler(request: Request) -> HttpResponse:
        events.append(f"handler {request.headers.get('x-signature')}")
        return Response(200)

    hooks = {"request": [sign], "response": [log_response]}
    async with client_for(handler, event_hooks=hooks) as client:
        await client.get("http://hooked.example/")
    assert events == [
        "request GET http://hooked.example/", "handler signed", "response 200"
    ]


async def test_retry_trace_point_is_reported() -> None:
    traces: list[tuple[str, dict[str, Any]]] = []
    statuses = iter([429, 200])
    hooks = {"retry": [lambda event: traces.append((event.name, event.info))]}
    async with client_for(lambda request: Response(next(statuses),
                                                   headers={"Retry-After": "0"}),
                          event_hooks=hooks, retry=RetryPolicy(backoff=0)) as client:
        assert (await client.get("http://t.example/")).status_code == 200
    assert traces == [("retry", {"attempt": 1, "delay": 0.0, "reason": "status 429"})]


async def test_raise_for_status_names_the_url() -> None:
    async with client_for(lambda request: Response(404, text="missing")) as client:
        response = await client.get("http://api.example/nothing")
        with pytest.raises(HTTPStatusError, match=r"404 Not Found .*http://api.example/noth"):
            response.raise_for_status()


async def test_async_handler_reads_a_streamed_request_body() -> None:
    async def handler(request: Request) -> HttpResponse:
        assert request.headers["Transfer-Encoding"] == "chunked"
        body = await request.read()
        return Response(200, stream=_echo(body))

    async def upload() -> AsyncIterator[bytes]:
        for part in (b"one ", b"two ", b"three"):
            yield part

    async with (
        client_for(handler) as client,
        client.stream("PUT", "http://up.example/", data=upload()) as response,
    ):
        assert [chunk async for chunk in response.iter_bytes()] == [b"one ", b"two ", b"three"]


async def _echo(body: bytes) -> AsyncIterator[bytes]:
    for part in body.split(b" "):
        yield part + (b" " if part != b"three" else b"")


class _Upload:
    """An endless upload that records being closed."""

    def __init__(self) -> None:
        self.closed = False

    def __iter__(self) -> Iterator[bytes]:
        return self

    def __next__(self) -> bytes:
        return b"x"

    def close(self) -> None:
        self.closed = True


async def test_unread_streamed_request_body_is_closed() -> None:
    upload = _Upload()
    async with client_for(lambda request: Response(204)) as client:
        response = await client.post("http://up.example/", data=upload)
        assert response.status_code == 204
    assert upload.closed


async def test_progress_callbacks() -> None:
    uploads: list[tuple[int, int | None]] = []
    downloads: list[tuple[int, int | None]] = []

    async def handler(request: Request) -> HttpResponse:
        assert await request.read() == b"u" * 10
        return Response(200, content=b"d" * 7)

    async with client_for(handler) as client:
        response = await client.post(
            "http://p.example/", data=b"u" * 10,
            upload_progress=lambda sent, total: uploads.append((sent, total)),
            download_progress=lambda got, total: downloads.append((got, total)),
        )
        assert await response.content() == b"d" * 7
    assert uploads == [(10, 10)]
    assert downloads == [(7, 7)]


async def test_handler_mistakes_are_clear_errors() -> None:
    async with client_for(lambda request: None) as client:
        with pytest.raises(TypeError, match="must return an HttpResponse"):
            await client.get("http://x.example/")
    shared = Response(200)
    async with client_for(lambda request: shared) as client:
        assert (await client.get("http://x.example/")).status_code == 200
        with pytest.raises(ValueError, match="already returned"):
            await client.get("http://x.example/")
    with pytest.raises(TypeError, match="callable"):
        MockTransport("not a function")  # type: ignore[arg-type]


async def test_handler_exception_propagates_unchanged() -> None:
    def handler(request: Request) -> HttpResponse:
        raise KeyError("bug in the test's handler")

    async with client_for(handler, retry=RetryPolicy(backoff=0)) as client:
        with pytest.raises(KeyError, match="bug in the test"):
            await client.get("http://x.example/")


async def test_transport_refuses_what_the_network_would() -> None:
    calls = 0

    def handler(request: Request) -> HttpResponse:
        nonlocal calls
        calls += 1
        return Response(200)

    async with client_for(handler) as client:
        with pytest.raises(InvalidRequest):
            await client.get("http://svc.example/", headers={"X": "a\r\nInjected: 1"})
        with pytest.raises(InvalidRequest):
            await client.request("http://svc.example/", "GE T", headers={"A": "b"})
    assert calls == 0


async def test_request_timeout_applies_to_the_transport() -> None:
    async def handler(request: Request) -> HttpResponse:
        await asyncio.sleep(5)
        return Response(200)

    async with client_for(handler) as client:
        with pytest.raises(RequestTimeout, match="transport"):
            await client.get(
                "http://svc.example/", timeouts=Timeouts(request_timeout=0.05)
            )
