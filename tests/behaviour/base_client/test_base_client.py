"""``BaseClient`` subclasses against the aiohttp application: ``base_url`` joining,
``default_headers`` under the call's own (names without case), ``default_params``, the
default ``process_response`` (the ``HttpResponse``, as upstream 1.x) and the parsing one
of ``parse_responses`` (JSON, text, ``HTTPStatusError``), overriding it, the methods it
sends and refuses, and who closes the ``HTTPClient`` (the wrapper only when it made it)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import parse_qsl

import pytest
from support.app import JSON_DOC, TEXTS, AppServer, header_values
from support.scripted import replies, status

import aiosonic
from aiosonic import BaseClient, HTTPClient, HttpResponse, HTTPStatusError
from aiosonic.exceptions import InvalidRequest

Start = Callable[..., Awaitable[Any]]


def api_for(base: str) -> type[BaseClient]:
    class Api(BaseClient):
        base_url = base
        default_headers = {"X-Default": "d", "Accept": "application/json"}
        default_params = {"key": "k", "lang": "en"}
        parse_responses = True

        async def echo(self, path: str = "/echo", **kwargs: Any) -> Any:
            return await self.get(path, **kwargs)

    return Api


@pytest.mark.parametrize(
    ("base", "path", "expected"),
    [
        ("/echo/", "/items", "/echo/items"),
        ("/echo", "items", "/echo/items"),
        ("/echo/", "items/3", "/echo/items/3"),
        ("", "/echo/x", "/echo/x"),
    ],
)
async def test_base_url_joining(
    server: AppServer, base: str, path: str, expected: str
) -> None:
    async with api_for(server.url(base) if base else server.url(""))() as api:
        doc = await api.get(path)
    assert doc["path"] == expected


async def test_absolute_url_bypasses_base_url(server: AppServer, server2: AppServer) -> None:
    async with api_for(server.url("/echo"))() as api:
        doc = await api.get(server2.url("/echo/elsewhere"))
    assert doc["path"] == "/echo/elsewhere"
    assert header_values(doc, "Host") == [f"127.0.0.1:{server2.port}"]


async def test_no_base_url_uses_the_url_as_given(server: AppServer) -> None:
    class Plain(BaseClient):
        pass

    async with Plain() as api:
        response = await api.get(server.url("/echo/plain"))
        doc = await response.json()
    assert doc["path"] == "/echo/plain"


async def test_by_default_a_call_returns_the_response(server: AppServer) -> None:
    class Raw(BaseClient):
        base_url = server.url("/")
        default_headers = {"X-Default": "d"}

    async with Raw() as api:
        response = await api.delete("/status/404")
        assert isinstance(response, HttpResponse)
        assert response.status_code == 404  # no HTTPStatusError: the caller decides
        assert await response.content() == b""
        echoed = await api.post("/echo", json={"v": 1})
        assert echoed.status_code == 200
        doc = await echoed.json()
    assert doc["method"] == "POST"
    assert header_values(doc, "X-Default") == ["d"]


async def test_default_headers_merged_under_call_headers(server: AppServer) -> None:
    async with api_for(server.url("/"))() as api:
        doc = await api.echo(headers={"accept": "text/plain", "X-Call": "c"})
        assert header_values(doc, "Accept") == ["text/plain"]
        assert header_values(doc, "X-Default") == ["d"]
        assert header_values(doc, "X-Call") == ["c"]
        doc = await api.echo(headers={"x-DEFAULT": "override"})
        assert header_values(doc, "X-Default") == ["override"]
        assert header_values(doc, "Accept") == ["application/json"]
        # The class's defaults are not changed by a call.
        assert type(api).default_headers == {"X-Default": "d", "Accept": "application/json"}


async def test_default_params_merged_with_call_params(server: AppServer) -> None:
    async with api_for(server.url("/"))() as api:
        doc = await api.echo()
        assert sorted(parse_qsl(doc["query"])) == [("key", "k"), ("lang", "en")]
        doc = await api.echo(params={"q": "1", "lang": "de"})
        assert sorted(parse_qsl(doc["query"])) == [("key", "k"), ("lang", "de"), ("q", "1")]
        assert type(api).default_params == {"key": "k", "lang": "en"}


async def test_process_response_json_and_text(server: AppServer) -> None:
    async with api_for(server.url("/"))() as api:
        assert await api.get("/json") == JSON_DOC
        text, _, _ = TEXTS["utf8-charset"]
        assert await api.get("/text/utf8-charset") == text
        assert await api.get("/status/204") == ""


@pytest.mark.parametrize("code", [404, 418, 500])
async def test_process_response_raises_on_error_status(server: AppServer, code: int) -> None:
    async with api_for(server.url("/"))() as api:
        with pytest.raises(HTTPStatusError) as caught:
            await api.get(f"/status/{code}")
    assert caught.value.status_code == code
    assert isinstance(caught.value.response, HttpResponse)


@pytest.mark.parametrize("method", ["TRACE", "CONNECT", "BREW", "get "])
async def test_an_unsupported_method_raises_before_sending(logged: Start, method: str) -> None:
    srv = await logged(replies(status(200, b"x")))
    async with api_for(srv.url("/"))() as api:
        with pytest.raises(ValueError, match="not supported") as caught:
            await api.request(method, "/a")
    assert isinstance(caught.value, InvalidRequest)
    assert srv.log.opened == 0 and srv.log.requests == []


async def test_methods_are_compared_without_case_and_may_be_extended(
    server: AppServer,
) -> None:
    class Dav(BaseClient):
        base_url = server.url("/")
        methods = BaseClient.methods | {"PROPFIND"}

    async with Dav() as api:
        for method in ("get", "Patch", "HEAD", "options", "propfind"):
            response = await api.request(method, "/echo")
            assert response.status_code == 200, method
            if method != "HEAD":
                assert (await response.json())["method"] == method.upper()
            await response.discard()
    assert "PROPFIND" not in BaseClient.methods


async def test_head_and_options_as_upstream_1x(logged: Start) -> None:
    # A correct HEAD answer: the length of the body it would have, and no body.
    head_answer = b"HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\n"
    srv = await logged(replies(head_answer, status(204, b"")))

    class Raw(BaseClient):
        base_url = srv.url("/api")

    async with Raw() as api:
        head = await api.head("/h", headers={"X-Call": "1"})
        assert head.status_code == 200
        assert head.headers["content-length"] == "4"
        assert await head.content() == b""  # a HEAD answer has no body
        options = await api.options("/o")
        assert options.status_code == 204
    seen = [(request.method, request.target) for request in srv.log.requests]
    assert seen == [("HEAD", "/api/h"), ("OPTIONS", "/api/o")]
    assert srv.log.requests[0].header("X-Call") == "1"
    assert srv.log.opened == 1  # one keep-alive connection: the HEAD answer was read right


async def test_overriding_process_response(server: AppServer) -> None:
    class Lenient(api_for(server.url("/"))):  # type: ignore[misc]
        async def process_response(self, response: HttpResponse) -> Any:
            return response.status_code, await response.content()

    async with Lenient() as api:
        assert await api.get("/status/404") == (404, b"")
        status_code, body = await api.get("/json")
        assert status_code == 200 and body.startswith(b"{")


async def test_verbs_and_body_options_pass_through(server: AppServer) -> None:
    async with api_for(server.url("/"))() as api:
        for verb in ("post", "put", "patch", "delete"):
            doc = await getattr(api, verb)("/echo", json={"v": verb})
            assert doc["method"] == verb.upper()
            assert header_values(doc, "Content-Type") == ["application/json"]
        doc = await api.get("/redirect/1", follow=True)
        assert doc["query"].startswith("from=redirect")


async def test_owned_client_is_closed_with_the_wrapper(logged: Start) -> None:
    srv = await logged(replies(status(200, b"x")))
    async with api_for(srv.url("/"))() as api:
        assert await api.get("/a") == "x"
        assert srv.log.closed == 0
    await srv.log.wait_for(lambda: srv.log.closed == 1)


async def test_shared_client_stays_open(
    logged: Start, new_client: Callable[..., HTTPClient]
) -> None:
    srv = await logged(replies(status(200, b"x")))
    shared = new_client()
    async with api_for(srv.url("/"))(http_client=shared) as api:
        assert api.client is shared
        assert await api.get("/a") == "x"
    # Still open and still pooled: the next request rides the same connection.
    response = await shared.get(srv.url("/b"))
    assert await response.content() == b"x"
    assert srv.log.opened == 1
    assert srv.log.closed == 0


async def test_a_bad_base_url_is_an_invalid_request() -> None:
    class Bad(BaseClient):
        base_url = "ftp://files.example"

    async with Bad() as api:
        with pytest.raises(InvalidRequest):
            await api.get("/x")


def test_exported_lazily() -> None:
    assert aiosonic.BaseClient is BaseClient
