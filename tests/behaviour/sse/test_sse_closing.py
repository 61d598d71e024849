"""Leaving, closing and cancelling an event source closes its HTTP connection at once."""

from __future__ import annotations

import asyncio
import gc
from collections.abc import Awaitable, Callable

import pytest
from aiohttp import web
from support.sse_server import Handler, SSEServer

import aiosonic
from aiosonic.sse_client import SSEClient, SSEConnection, SSEEvent

Start = Callable[[Handler], Awaitable[SSEServer]]
WAIT = 10  # seconds: a bound for things that happen at once, never a speed measurement


def endless(server_ref: list[SSEServer]) -> Handler:
    """A stream of numbered events, then heartbeats until the client leaves."""

    async def handler(request: web.Request, attempt: int) -> web.StreamResponse:
        server = server_ref[0]
        response = await server.open(request)
        for n in range(3):
            await response.write(b"id: %d\ndata: event %d\n\n" % (n, n))
        await server.hold(response)
        return response

    return handler


async def start_endless(sse_server: Start) -> SSEServer:
    ref: list[SSEServer] = []
    server = await sse_server(endless(ref))
    ref.append(server)
    return server


async def assert_released(server: SSEServer, http_client: aiosonic.HTTPClient) -> None:
    """The server saw the client go, and the client has nothing in flight."""
    await asyncio.wait_for(server.disconnected.wait(), WAIT)
    assert await http_client.wait_requests(WAIT)
    gc.collect()  # an unclosed transport would warn here, and warnings fail the test


async def test_leaving_async_with_mid_stream(
    sse_server: Start, http_client: aiosonic.HTTPClient, sse: SSEClient
) -> None:
    server = await start_endless(sse_server)
    events: list[SSEEvent] = []
    async with sse.connect(server.url()) as conn:
        async for event in conn:
            events.append(event)
            if len(events) == 2:
                break
    assert [event.data for event in events] == ["event 0", "event 1"]
    assert conn.closed and conn.response is None
    await assert_released(server, http_client)
    assert len(server.requests) == 1  # closing never reconnects


async def test_an_error_in_the_loop_body_closes(
    sse_server: Start, http_client: aiosonic.HTTPClient, sse: SSEClient
) -> None:
    server = await start_endless(sse_server)
    with pytest.raises(ZeroDivisionError):
        async with sse.connect(server.url()) as conn:
            async for _event in conn:
                1 / 0  # noqa: B018
    assert conn.closed
    await assert_released(server, http_client)


async def test_leaving_before_iterating(
    sse_server: Start, http_client: aiosonic.HTTPClient, sse: SSEClient
) -> None:
    server = await start_endless(sse_server)
    async with sse.connect(server.url()) as conn:
        assert conn.response is not None
    assert conn.closed
    await assert_released(server, http_client)


async def test_cancelled_mid_stream(
    sse_server: Start, http_client: aiosonic.HTTPClient, sse: SSEClient
) -> None:
    server = await start_endless(sse_server)
    first = asyncio.Event()

    async def consume() -> None:
        seen = 0
        async with sse.connect(server.url()) as conn:
            async for _event in conn:
                seen += 1
                if seen == 3:
                    first.set()

    task = asyncio.create_task(consume())
    # after the last numbered event the task is back to waiting for the next bytes
    await asyncio.wait_for(first.wait(), WAIT)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    await assert_released(server, http_client)


async def test_cancelled_without_async_with(
    sse_server: Start, http_client: aiosonic.HTTPClient, sse: SSEClient
) -> None:
    server = await start_endless(sse_server)
    conn = await sse.connect(server.url())
    first = asyncio.Event()

    async def consume() -> None:
        async for _event in conn:
            first.set()

    task = asyncio.create_task(consume())
    await asyncio.wait_for(first.wait(), WAIT)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    # The cancelled read already gave the connection up; close() is still due.
    await asyncio.wait_for(server.disconnected.wait(), WAIT)
    await conn.close()
    await assert_released(server, http_client)


async def test_cancelled_while_waiting_to_reconnect(
    sse_server: Start, http_client: aiosonic.HTTPClient, sse: SSEClient
) -> None:
    async def handler(request: web.Request, attempt: int) -> web.StreamResponse:
        return await server.stream(request, [b"data: a\n\n"])

    server = await sse_server(handler)
    got = asyncio.Event()

    async def consume() -> None:
        async with sse.connect(server.url(), retry_delay=3_600_000) as conn:
            async for _event in conn:
                got.set()

    task = asyncio.create_task(consume())
    await asyncio.wait_for(got.wait(), WAIT)
    # the stream ended (its request is over): the task waits the reconnection time
    assert await http_client.wait_requests(WAIT)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert len(server.requests) == 1
    assert await http_client.wait_requests(WAIT)


async def collect_all(conn: SSEConnection, reached: asyncio.Event, n: int = 1) -> list[str]:
    """Every event's data; ``reached`` is set once ``n`` events have come."""
    data: list[str] = []
    async for event in conn:
        data.append(event.data)
        if len(data) >= n:
            reached.set()
    return data


async def test_close_from_another_task_ends_the_iteration(
    sse_server: Start, http_client: aiosonic.HTTPClient, sse: SSEClient
) -> None:
    server = await start_endless(sse_server)
    conn = await sse.connect(server.url())
    first = asyncio.Event()
    task = asyncio.create_task(collect_all(conn, first, n=3))
    await asyncio.wait_for(first.wait(), WAIT)  # the task now waits for the next bytes
    await conn.close()
    data = await asyncio.wait_for(task, WAIT)  # ends quietly, without an error
    assert data == ["event 0", "event 1", "event 2"]
    assert len(server.requests) == 1
    await assert_released(server, http_client)


async def test_close_while_waiting_to_reconnect(
    sse_server: Start, http_client: aiosonic.HTTPClient, sse: SSEClient
) -> None:
    async def handler(request: web.Request, attempt: int) -> web.StreamResponse:
        return await server.stream(request, [b"data: a\n\n"])

    server = await sse_server(handler)
    conn = await sse.connect(server.url(), retry_delay=3_600_000)
    first = asyncio.Event()
    task = asyncio.create_task(collect_all(conn, first))
    await asyncio.wait_for(first.wait(), WAIT)
    # the stream ended (its request is over): the task waits the reconnection time
    assert await http_client.wait_requests(WAIT)
    await conn.close()
    assert await asyncio.wait_for(task, WAIT) == ["a"]
    assert len(server.requests) == 1


async def test_closing_the_sse_client_closes_its_connections(
    sse_server: Start, http_client: aiosonic.HTTPClient
) -> None:
    server = await start_endless(sse_server)
    sse = SSEClient(http_client)
    conn = await sse.connect(server.url())
    assert (await conn.__anext__()).data == "event 0"
    await sse.close()
    assert conn.closed
    with pytest.raises(StopAsyncIteration):
        await conn.__anext__()
    await assert_released(server, http_client)


async def test_closing_before_opening(sse: SSEClient) -> None:
    conn = sse.connect("http://127.0.0.1:1/never")
    await conn.close()
    async with conn:  # nothing is sent once closed
        assert conn.response is None
        assert [event async for event in conn] == []
