"""What the client says when the server will not give it an event stream."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from aiohttp import web
from support.sse_server import HOST, Handler, SSEServer, no_content

import aiosonic
from aiosonic.exceptions import AiosonicError, ConnectError
from aiosonic.sse_client import SSEClient, SSEConnectionError, SSEError, SSEParsingError

Start = Callable[[Handler], Awaitable[SSEServer]]
WAIT = 10


def answer(status: int, body: bytes = b"", content_type: str = "text/plain") -> Handler:
    async def handler(request: web.Request, attempt: int) -> web.StreamResponse:
        return web.Response(status=status, body=body, content_type=content_type)

    return handler


@pytest.mark.parametrize(
    ("status", "body"),
    [(404, b"no such stream"), (500, b"boom"), (401, b'{"error": "bad key"}'), (202, b"")],
)
async def test_refused_status(
    sse_server: Start, http_client: aiosonic.HTTPClient, sse: SSEClient, status: int, body: bytes
) -> None:
    server = await sse_server(answer(status, body))
    conn = sse.connect(server.url("/events?token=secret"))
    with pytest.raises(SSEConnectionError) as info:
        async with conn:
            pytest.fail("the stream must not open")
    error = info.value
    assert error.status_code == status
    assert error.body == body
    assert str(status) in str(error)
    assert "secret" not in str(error) and HOST not in str(error)
    assert isinstance(error, SSEError) and isinstance(error, AiosonicError)
    assert conn.closed
    assert len(server.requests) == 1
    assert await http_client.wait_requests(WAIT)


@pytest.mark.parametrize(
    "content_type",
    ["application/json", "text/plain", "text/event-streams", "application/octet-stream"],
)
async def test_wrong_content_type(
    sse_server: Start, sse: SSEClient, content_type: str
) -> None:
    server = await sse_server(answer(200, b"data: x\n\n", content_type))
    with pytest.raises(SSEConnectionError, match="Content-Type") as info:
        async with sse.connect(server.url()):
            pass
    assert info.value.status_code == 200
    assert info.value.body == b"data: x\n\n"


async def test_missing_content_type(raw_server: Callable[..., Any], sse: SSEClient) -> None:
    async def respond(request: Any) -> bytes:
        return b"HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\ndata: x\n\n"

    server = await raw_server(respond=respond)
    with pytest.raises(SSEConnectionError, match="Content-Type ''") as info:
        async with sse.connect(server.url("/events")):
            pass
    assert info.value.status_code == 200
    assert info.value.body == b"data: x\n\n"


@pytest.mark.parametrize(
    "content_type", ["text/event-stream; charset=utf-8", "Text/Event-Stream", "text/event-stream;"]
)
async def test_content_type_parameters_and_case(
    sse_server: Start, sse: SSEClient, content_type: str
) -> None:
    async def handler(request: web.Request, attempt: int) -> web.StreamResponse:
        return await server.stream(request, [b"data: x\n\n"], content_type=content_type)

    server = await sse_server(handler)
    async with sse.connect(server.url(), reconnect=False) as conn:
        assert [event.data async for event in conn] == ["x"]


async def test_large_error_body_is_cut(sse_server: Start, sse: SSEClient) -> None:
    server = await sse_server(answer(503, b"x" * 200_000))
    with pytest.raises(SSEConnectionError) as info:
        await sse.connect(server.url())
    assert info.value.body == b"x" * 65536


async def test_redirect_is_refused_unless_followed(sse_server: Start, sse: SSEClient) -> None:
    async def handler(request: web.Request, attempt: int) -> web.StreamResponse:
        if request.path == "/old":
            raise web.HTTPFound("/events")
        return await server.stream(request, [b"data: x\n\n"])

    server = await sse_server(handler)
    with pytest.raises(SSEConnectionError) as info:
        await sse.connect(server.url("/old"))
    assert info.value.status_code == 302
    async with sse.connect(server.url("/old"), follow=True, reconnect=False) as conn:
        assert [event.data async for event in conn] == ["x"]


async def test_refused_on_reconnection(
    sse_server: Start, http_client: aiosonic.HTTPClient, sse: SSEClient
) -> None:
    async def handler(request: web.Request, attempt: int) -> web.StreamResponse:
        if attempt == 0:
            return await server.stream(request, [b"id: 1\ndata: a\n\n"])
        if attempt == 1:
            return web.Response(status=503, text="maintenance")
        return no_content()

    server = await sse_server(handler)
    data: list[str] = []
    async with sse.connect(server.url(), retry_delay=1) as conn:
        with pytest.raises(SSEConnectionError) as info:
            async for event in conn:
                data.append(event.data)
    assert data == ["a"]
    assert info.value.status_code == 503
    assert info.value.body == b"maintenance"
    assert len(server.requests) == 2  # a refusal is final: no further attempt
    assert await http_client.wait_requests(WAIT)


async def test_unreachable_server(sse: SSEClient) -> None:
    sock = socket.socket()
    sock.bind((HOST, 0))  # a port nobody listens on
    port = sock.getsockname()[1]
    try:
        with pytest.raises(SSEConnectionError, match="could not open") as info:
            async with sse.connect(f"http://{HOST}:{port}/events"):
                pass
    finally:
        sock.close()
    assert isinstance(info.value.__cause__, ConnectError)
    assert info.value.status_code is None


async def test_invalid_url_is_not_a_connection_error(sse: SSEClient) -> None:
    with pytest.raises(aiosonic.exceptions.InvalidRequest):
        await sse.connect("ftp://example.invalid/")


async def test_line_over_the_size_limit(
    sse_server: Start, http_client: aiosonic.HTTPClient, sse: SSEClient
) -> None:
    async def handler(request: web.Request, attempt: int) -> web.StreamResponse:
        response = await server.open(request)
        await response.write(b"data: fine\n\n")
        await server.hold(response, heartbeat=b"x" * 100)  # a line that never ends
        return response

    server = await sse_server(handler)
    data: list[str] = []
    async with sse.connect(server.url(), max_event_size=4096) as conn:
        with pytest.raises(SSEParsingError, match="max_event_size"):
            async for event in conn:
                data.append(event.data)
    assert data == ["fine"]
    await asyncio.wait_for(server.disconnected.wait(), WAIT)
    assert len(server.requests) == 1  # a stream that breaks the limit is not retried
    assert await http_client.wait_requests(WAIT)


async def test_event_over_the_size_limit(sse_server: Start, sse: SSEClient) -> None:
    async def handler(request: web.Request, attempt: int) -> web.StreamResponse:
        return await server.stream(request, [b"data: 0123456789\n" * 200 + b"\n"])

    server = await sse_server(handler)
    async with sse.connect(server.url(), max_event_size=1000) as conn:
        with pytest.raises(SSEParsingError, match="data"):
            await conn.__anext__()
    assert len(server.requests) == 1


async def test_default_size_limit_is_one_mebibyte(sse_server: Start, sse: SSEClient) -> None:
    async def handler(request: web.Request, attempt: int) -> web.StreamResponse:
        big = b"x" * (1024 * 1024 - 10)
        return await server.stream(request, [b"data: ", big, b"\n\ndata: ", big, b"y" * 20])

    server = await sse_server(handler)
    async with sse.connect(server.url(), reconnect=False) as conn:
        assert len((await conn.__anext__()).data) == 1024 * 1024 - 10
        with pytest.raises(SSEParsingError):
            await conn.__anext__()
