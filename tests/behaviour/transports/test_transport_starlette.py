"""``ASGITransport`` driving a real Starlette application (skipped if Starlette is absent)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest

pytest.importorskip("starlette")

from starlette.applications import Starlette
from starlette.background import BackgroundTask
from starlette.requests import Request
from starlette.responses import (
    JSONResponse,
    PlainTextResponse,
    RedirectResponse,
    Response,
    StreamingResponse,
)
from starlette.routing import Mount, Route

from aiosonic import HTTPClient, RetryPolicy
from aiosonic.testing import ASGITransport

background_log: list[str] = []


async def item(request: Request) -> JSONResponse:
    return JSONResponse({
        "id": request.path_params["item_id"],
        "q": request.query_params.getlist("q"),
        "agent": request.headers["user-agent"],
        "client": request.client.host if request.client else None,
        "url": str(request.url),
    })


async def create(request: Request) -> JSONResponse:
    payload = await request.json()
    return JSONResponse({"created": payload}, status_code=201)


async def upload(request: Request) -> PlainTextResponse:
    sizes = [len(chunk) async for chunk in request.stream() if chunk]
    return PlainTextResponse(f"{sum(sizes)} bytes")


async def login(request: Request) -> RedirectResponse:
    response = RedirectResponse("/me", status_code=303)
    response.set_cookie("session", "s-1")
    return response


async def me(request: Request) -> PlainTextResponse:
    return PlainTextResponse(request.cookies.get("session", "anonymous"))


async def ticks(request: Request) -> StreamingResponse:
    async def events() -> AsyncIterator[bytes]:
        for number in range(3):
            yield f"data: {number}\n\n".encode()
            await asyncio.sleep(0)

    return StreamingResponse(events(), media_type="text/event-stream")


async def crash(request: Request) -> Response:
    raise RuntimeError("handler crashed")


async def with_background(request: Request) -> PlainTextResponse:
    async def record() -> None:
        await asyncio.sleep(0)
        background_log.append("ran")

    return PlainTextResponse("queued", background=BackgroundTask(record))


flaky_calls: list[int] = []


async def flaky(request: Request) -> PlainTextResponse:
    flaky_calls.append(1)
    if len(flaky_calls) < 3:
        return PlainTextResponse("busy", status_code=503)
    return PlainTextResponse("fine")


async def mounted(request: Request) -> JSONResponse:
    return JSONResponse({"root_path": request.scope["root_path"],
                         "path": request.url.path})


app = Starlette(routes=[
    Route("/items/{item_id}", item),
    Route("/items", create, methods=["POST"]),
    Route("/upload", upload, methods=["PUT"]),
    Route("/login", login, methods=["POST"]),
    Route("/me", me),
    Route("/ticks", ticks),
    Route("/crash", crash),
    Route("/background", with_background),
    Route("/flaky", flaky),
    Mount("/sub", routes=[Route("/here", mounted)]),
])


def client_for(**kwargs: Any) -> HTTPClient:
    handle_cookies = kwargs.pop("handle_cookies", False)
    return HTTPClient(transport=ASGITransport(app, **kwargs), handle_cookies=handle_cookies)


async def test_path_and_query_params() -> None:
    async with client_for(client=("192.0.2.7", 4000)) as client:
        response = await client.get("http://testserver/items/caf%C3%A9?q=a%20b&q=%26")
        assert response.status_code == 200
        body = await response.json()
    assert body["id"] == "caf\u00e9" and body["q"] == ["a b", "&"]
    assert body["agent"].startswith("aiosonic/") and body["client"] == "192.0.2.7"
    # Starlette rebuilds the URL from the decoded path, as behind any ASGI server.
    assert body["url"] == "http://testserver/items/caf\u00e9?q=a%20b&q=%26"


async def test_json_post_and_streamed_upload() -> None:
    async def parts() -> AsyncIterator[bytes]:
        for _ in range(4):
            yield b"z" * 1000

    async with client_for() as client:
        created = await client.post("http://testserver/items", json={"name": "widget"})
        assert created.status_code == 201
        assert await created.json() == {"created": {"name": "widget"}}
        uploaded = await client.put("http://testserver/upload", data=parts())
        assert await uploaded.text() == "4000 bytes"
        missing = await client.get("http://testserver/nowhere")
        assert missing.status_code == 404


async def test_cookie_set_on_redirect_is_sent_back() -> None:
    async with client_for(handle_cookies=True) as client:
        response = await client.post("http://testserver/login", follow=True)
        assert await response.text() == "s-1"
        assert [r.status_code for r in response.history] == [303]
        assert response.url == "http://testserver/me"


async def test_streaming_response() -> None:
    async with client_for() as client:
        response = await client.get("http://testserver/ticks")
        assert response.headers["content-type"].startswith("text/event-stream")
        lines = [line async for line in response.iter_lines() if line]
    assert lines == ["data: 0", "data: 1", "data: 2"]


async def test_handler_exception() -> None:
    async with client_for() as client:
        with pytest.raises(RuntimeError, match="handler crashed"):
            await client.get("http://testserver/crash")
    async with client_for(raise_app_exceptions=False) as client:
        response = await client.get("http://testserver/crash")
        assert response.status_code == 500
        assert await response.text() == "Internal Server Error"


async def test_background_task_has_run_once_the_body_is_read() -> None:
    background_log.clear()
    async with client_for() as client:
        response = await client.get("http://testserver/background")
        assert await response.text() == "queued"
    assert background_log == ["ran"]


async def test_retry_policy_against_the_app() -> None:
    flaky_calls.clear()
    async with client_for() as client:
        response = await client.get("http://testserver/flaky",
                                    retry=RetryPolicy(attempts=3, backoff=0))
        assert await response.text() == "fine"
    assert len(flaky_calls) == 3


async def test_root_path_and_mount() -> None:
    async with client_for(root_path="/prefix") as client:
        response = await client.get("http://testserver/prefix/sub/here")
        assert response.status_code == 200
        body = await response.json()
    assert body["root_path"] == "/prefix/sub"
    assert body["path"] == "/prefix/sub/here"
