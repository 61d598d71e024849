"""SSEClient against a real aiohttp server on loopback: streaming, headers, reconnection."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from aiohttp import web
from support.sse_server import Handler, SSEServer, no_content, odd_pieces

import aiosonic
from aiosonic.exceptions import ConnectionDisconnected, InvalidRequest, ReadTimeout
from aiosonic.sse_client import SSEClient, SSEConnection, SSEConnectionError, SSEEvent

Start = Callable[[Handler], Awaitable[SSEServer]]

STREAM = (
    b": a comment first\r\n"
    b"retry: 5\r\n"
    b"\r\n"
    b"event: greeting\n"
    b"data: h\xc3\xa9llo\n"
    b"id: 1\n"
    b"\n"
    b"data: line one\r"
    b"data: line two\r"
    b"data:\r"
    b"data:  indented\r"
    b"\r"
    b"id: 2\n"
    b"data: {\"n\": 3, \"s\": \"\xe2\x82\xac\"}\n"
    b"\n"
)
EXPECTED = [
    {"data": "héllo", "event": "greeting", "id": "1", "retry": None},
    # No id field of its own: None (upstream's id); the last event ID is still "1".
    {"data": "line one\nline two\n\n indented", "event": "message", "id": None, "retry": None},
    {"data": '{"n": 3, "s": "€"}', "event": "message", "id": "2", "retry": None},
]


async def collect(conn: SSEConnection, limit: int = 100) -> list[SSEEvent]:
    events: list[SSEEvent] = []
    async for event in conn:
        events.append(event)
        if len(events) >= limit:
            break
    return events


async def test_events_streamed_slowly_in_odd_pieces(sse_server: Start, sse: SSEClient) -> None:
    async def handler(request: web.Request, attempt: int) -> web.StreamResponse:
        return await server.stream(request, odd_pieces(STREAM), pause=0.002)

    server = await sse_server(handler)
    async with sse.connect(server.url(), reconnect=False) as conn:
        events = await collect(conn)
    assert [dict(event) for event in events] == EXPECTED
    assert events[2].json() == {"n": 3, "s": "€"}
    assert events[0].data == events[0]["data"] == "héllo"
    assert [event.last_event_id for event in events] == ["1", "1", "2"]
    assert conn.last_event_id == "2"
    assert conn.retry_delay == 5
    assert conn.closed
    assert len(server.requests) == 1
    seen = server.requests[0]
    assert seen.method == "GET"
    assert seen.headers["Accept"] == "text/event-stream"
    assert seen.headers["Cache-Control"] == "no-cache"
    assert "Last-Event-ID" not in seen.headers


async def test_every_byte_in_its_own_write(sse_server: Start, sse: SSEClient) -> None:
    async def handler(request: web.Request, attempt: int) -> web.StreamResponse:
        return await server.stream(request, odd_pieces(STREAM, (1,)), pause=0.0005)

    server = await sse_server(handler)
    async with sse.connect(server.url(), reconnect=False) as conn:
        events = await collect(conn)
    assert [dict(event) for event in events] == EXPECTED


async def test_whole_stream_in_one_write_with_a_bom(sse_server: Start, sse: SSEClient) -> None:
    async def handler(request: web.Request, attempt: int) -> web.StreamResponse:
        return await server.stream(request, [b"\xef\xbb\xbf" + STREAM])

    server = await sse_server(handler)
    async with sse.connect(server.url(), reconnect=False) as conn:
        events = await collect(conn)
    assert [dict(event) for event in events] == EXPECTED


async def test_query_params_and_caller_headers(sse_server: Start, sse: SSEClient) -> None:
    async def handler(request: web.Request, attempt: int) -> web.StreamResponse:
        return await server.stream(request, [b"data: x\n\n"])

    server = await sse_server(handler)
    headers = {"Accept": "text/event-stream, */*", "X-Token": "abc", "Last-Event-ID": "41"}
    async with sse.connect(
        server.url(), headers=headers, params={"topic": "news"}, reconnect=False
    ) as conn:
        events = await collect(conn)
    assert [event.id for event in events] == [None]  # the event has no id field
    assert [event.last_event_id for event in events] == ["41"]  # resumed from the caller's
    seen = server.requests[0]
    assert seen.path_qs == "/events?topic=news"
    assert seen.headers["Accept"] == "text/event-stream, */*"
    assert seen.headers["X-Token"] == "abc"
    assert seen.headers["Last-Event-ID"] == "41"
    assert seen.headers["Cache-Control"] == "no-cache"


async def test_reconnects_with_last_event_id_until_204(
    sse_server: Start, sse: SSEClient
) -> None:
    async def handler(request: web.Request, attempt: int) -> web.StreamResponse:
        if attempt == 0:
            return await server.stream(
                request, [b"retry: 1\nid: 1\ndata: a\n\n", b"id: 2\ndata: b\n\n"]
            )
        if attempt == 1:
            return await server.stream(request, [b"data: c\n\nid: 3\ndata: d\n\n"])
        if attempt == 2:
            # Not an event: the ID still becomes the one to resume from.
            return await server.stream(request, [b"id: 4\n\n"])
        return no_content()

    server = await sse_server(handler)
    async with sse.connect(server.url()) as conn:
        events = await collect(conn)
    assert [(event.data, event.id, event.last_event_id) for event in events] == [
        ("a", "1", "1"), ("b", "2", "2"), ("c", None, "2"), ("d", "3", "3"),
    ]
    assert server.header("Last-Event-ID") == [None, "2", "3", "4"]
    assert len(server.requests) == 4  # 204: no further attempt
    assert conn.closed


async def test_empty_id_sends_no_last_event_id(sse_server: Start, sse: SSEClient) -> None:
    async def handler(request: web.Request, attempt: int) -> web.StreamResponse:
        if attempt == 0:
            return await server.stream(request, [b"id: 7\ndata: a\n\nid\ndata: b\n\n"])
        return no_content()

    server = await sse_server(handler)
    async with sse.connect(server.url(), retry_delay=1, headers={"Last-Event-ID": "6"}) as c:
        events = await collect(c)
    assert [event.id for event in events] == ["7", ""]
    assert server.header("Last-Event-ID") == ["6", None]


async def test_retry_field_overrides_retry_delay(sse_server: Start, sse: SSEClient) -> None:
    loop = asyncio.get_running_loop()
    times: list[float] = []

    async def handler(request: web.Request, attempt: int) -> web.StreamResponse:
        times.append(loop.time())
        if attempt == 0:
            return await server.stream(request, [b"retry: 60\ndata: a\n\n"])
        return no_content()

    server = await sse_server(handler)
    # An hour unless the server's retry field is honoured (the test would time out).
    async with sse.connect(server.url(), retry_delay=3_600_000) as conn:
        assert conn.retry_delay == 3_600_000
        events = await asyncio.wait_for(collect(conn), 30)
        assert conn.retry_delay == 60
    assert [event.data for event in events] == ["a"]
    assert len(times) == 2
    assert times[1] - times[0] >= 0.055  # it did wait the reconnection time


async def test_server_drops_the_connection_mid_stream(sse_server: Start, sse: SSEClient) -> None:
    async def handler(request: web.Request, attempt: int) -> web.StreamResponse:
        if attempt == 0:
            response = await server.open(request)
            await response.write(b"id: 1\ndata: a\n\nid: 2\ndata: cut sh")
            await asyncio.sleep(0.01)
            await server.drop(request, response)
            return response
        if attempt == 1:
            return await server.stream(request, [b"id: 2\ndata: b\n\n"])
        return no_content()

    server = await sse_server(handler)
    async with sse.connect(server.url(), retry_delay=1) as conn:
        events = await collect(conn)
    # The cut event was never dispatched: the reconnection resumes after event 1.
    assert [(event.data, event.id) for event in events] == [("a", "1"), ("b", "2")]
    assert server.header("Last-Event-ID") == [None, "1", "2"]


async def test_without_reconnect_a_broken_stream_raises(
    sse_server: Start, sse: SSEClient
) -> None:
    async def handler(request: web.Request, attempt: int) -> web.StreamResponse:
        response = await server.open(request)
        await response.write(b"data: a\n\ndata: cut")
        await asyncio.sleep(0.01)
        await server.drop(request, response)
        return response

    server = await sse_server(handler)
    events: list[SSEEvent] = []
    async with sse.connect(server.url(), reconnect=False) as conn:
        with pytest.raises(SSEConnectionError, match="broke") as info:
            async for event in conn:
                events.append(event)
    assert [event.data for event in events] == ["a"]
    assert isinstance(info.value.__cause__, ConnectionDisconnected)
    assert info.value.status_code is None
    assert len(server.requests) == 1


async def test_without_reconnect_iteration_ends_with_the_stream(
    sse_server: Start, sse: SSEClient
) -> None:
    async def handler(request: web.Request, attempt: int) -> web.StreamResponse:
        return await server.stream(request, [b"data: a\n\ndata: never dispatched"])

    server = await sse_server(handler)
    async with sse.connect(server.url(), reconnect=False) as conn:
        events = await collect(conn)
        assert [event.data for event in events] == ["a"]
        assert await collect(conn) == []  # it stays finished
    assert len(server.requests) == 1


async def test_204_at_once_means_no_events(sse_server: Start, sse: SSEClient) -> None:
    async def handler(request: web.Request, attempt: int) -> web.StreamResponse:
        return no_content()

    server = await sse_server(handler)
    async with sse.connect(server.url()) as conn:
        assert conn.closed
        assert await collect(conn) == []
    assert len(server.requests) == 1


async def test_max_reconnect_attempts_without_events(sse_server: Start, sse: SSEClient) -> None:
    async def handler(request: web.Request, attempt: int) -> web.StreamResponse:
        return await server.stream(request, [b": nothing to say\n"])

    server = await sse_server(handler)
    async with sse.connect(server.url(), retry_delay=1, max_reconnect_attempts=3) as conn:
        assert await collect(conn) == []
    assert len(server.requests) == 4  # the first connection and three more


async def test_attempts_count_again_after_an_event(sse_server: Start, sse: SSEClient) -> None:
    async def handler(request: web.Request, attempt: int) -> web.StreamResponse:
        if attempt in (2, 4):
            return await server.stream(request, [b"data: %d\n\n" % attempt])
        if attempt > 6:
            raise AssertionError("too many attempts")
        return await server.stream(request, [b""])

    server = await sse_server(handler)
    async with sse.connect(server.url(), retry_delay=1, max_reconnect_attempts=2) as conn:
        events = await collect(conn)
    assert [event.data for event in events] == ["2", "4"]
    assert len(server.requests) == 7


async def test_gives_up_on_a_server_that_keeps_breaking(
    sse_server: Start, sse: SSEClient
) -> None:
    async def handler(request: web.Request, attempt: int) -> web.StreamResponse:
        response = await server.open(request)
        await response.write(b": hello\n")
        await server.drop(request, response)
        return response

    server = await sse_server(handler)
    async with sse.connect(server.url(), retry_delay=1, max_reconnect_attempts=2) as conn:
        with pytest.raises(SSEConnectionError) as info:
            await collect(conn)
    assert isinstance(info.value.__cause__, ConnectionDisconnected)
    assert len(server.requests) == 3


async def test_reconnects_after_the_server_went_away(sse_server: Start, sse: SSEClient) -> None:
    # The first server goes away; reconnections are refused until a second one takes over
    # the port.
    async def first(request: web.Request, attempt: int) -> web.StreamResponse:
        response = await server.open(request)
        await response.write(b"retry: 20\nid: 1\ndata: a\n\n")
        await server.hold(response)
        return response

    async def second(request: web.Request, attempt: int) -> web.StreamResponse:
        if attempt == 0:
            return await server2.stream(request, [b"data: b\n\n"])
        return no_content()

    async def swap() -> None:
        await server.close()
        await asyncio.sleep(0.2)  # several reconnections are refused meanwhile
        await server2.start(server.port)

    server = await sse_server(first)
    server2 = SSEServer(second)
    swapping: asyncio.Task[None] | None = None
    events: list[SSEEvent] = []
    try:
        async with sse.connect(server.url()) as conn:
            async for event in conn:
                events.append(event)
                if swapping is None:
                    swapping = asyncio.create_task(swap())
        assert swapping is not None
        await swapping
    finally:
        await server2.close()
    assert [(event.data, event.id, event.last_event_id) for event in events] == [
        ("a", "1", "1"), ("b", None, "1"),
    ]
    assert server2.header("Last-Event-ID") == ["1", "1"]


async def test_sock_read_timeout_reconnects(sse_server: Start, sse: SSEClient) -> None:
    async def handler(request: web.Request, attempt: int) -> web.StreamResponse:
        if attempt == 0:
            response = await server.open(request)
            await response.write(b"id: 1\ndata: a\n\n")
            await server.hold(response, heartbeat=b"")  # silent from now on
            return response
        if attempt == 1:
            return await server.stream(request, [b"data: b\n\n"])
        return no_content()

    server = await sse_server(handler)
    timeouts = aiosonic.Timeouts(sock_read=0.2, request_timeout=None)
    async with sse.connect(server.url(), retry_delay=1, timeouts=timeouts) as conn:
        events = await collect(conn)
    assert [event.data for event in events] == ["a", "b"]
    assert server.header("Last-Event-ID") == [None, "1", "1"]


async def test_sock_read_timeout_without_reconnect_raises(
    sse_server: Start, sse: SSEClient
) -> None:
    async def handler(request: web.Request, attempt: int) -> web.StreamResponse:
        response = await server.open(request)
        await response.write(b"data: a\n\n")
        await server.hold(response, heartbeat=b"")
        return response

    server = await sse_server(handler)
    timeouts = aiosonic.Timeouts(sock_read=0.2, request_timeout=None)
    async with sse.connect(server.url(), reconnect=False, timeouts=timeouts) as conn:
        with pytest.raises(SSEConnectionError) as info:
            await collect(conn)
    assert isinstance(info.value.__cause__, ReadTimeout)


async def test_default_timeouts_let_a_slow_stream_live(sse_server: Start) -> None:
    # The HTTP client's own timeouts would cut this stream; the SSE defaults do not.
    async def handler(request: web.Request, attempt: int) -> web.StreamResponse:
        pieces = [b"data: 1\n\n", b": still here\n", b"data: 2\n\n", b"data: 3\n\n"]
        return await server.stream(request, pieces, pause=0.25)

    server = await sse_server(handler)
    strict = aiosonic.Timeouts(sock_read=0.15, request_timeout=0.3)
    connector = aiosonic.TCPConnector(timeouts=strict)
    async with (
        aiosonic.HTTPClient(connector) as http_client,
        SSEClient(http_client) as sse,
        sse.connect(server.url(), reconnect=False) as conn,
    ):
        events = await collect(conn)
    assert [event.data for event in events] == ["1", "2", "3"]


async def test_post_json_streaming(sse_server: Start, sse: SSEClient) -> None:
    async def handler(request: web.Request, attempt: int) -> web.StreamResponse:
        prompt = json.loads(server.requests[-1].body)
        response = await server.open(request)
        for word in prompt["prompt"].split():
            await response.write(b"data: %s\n\n" % json.dumps({"token": word}).encode())
            await asyncio.sleep(0.002)
        await response.write(b"data: [DONE]\n\n")
        await response.write_eof()
        return response

    server = await sse_server(handler)
    tokens: list[str] = []
    async with sse.connect(
        server.url("/v1/chat"), method="POST", json={"prompt": "one two three", "stream": True}
    ) as conn:
        async for event in conn:
            if event.data == "[DONE]":
                continue
            tokens.append(event.json()["token"])
    assert tokens == ["one", "two", "three"]
    # reconnect defaults to off for a POST: the end of the stream ends the iteration.
    assert len(server.requests) == 1
    seen = server.requests[0]
    assert seen.method == "POST"
    assert seen.headers["Content-Type"] == "application/json"
    assert seen.headers["Accept"] == "text/event-stream"
    assert json.loads(seen.body) == {"prompt": "one two three", "stream": True}


async def test_post_is_sent_again_when_asked(sse_server: Start, sse: SSEClient) -> None:
    async def handler(request: web.Request, attempt: int) -> web.StreamResponse:
        if attempt == 0:
            return await server.stream(request, [b"id: 1\ndata: a\n\n"])
        return no_content()

    server = await sse_server(handler)
    async with sse.connect(
        server.url(), method="post", data=b"payload", reconnect=True, retry_delay=1
    ) as conn:
        events = await collect(conn)
    assert [event.data for event in events] == ["a"]
    assert [seen.method for seen in server.requests] == ["POST", "POST"]
    assert [seen.body for seen in server.requests] == [b"payload", b"payload"]
    assert server.header("Last-Event-ID") == [None, "1"]


async def test_one_shot_body_with_reconnect_is_refused(sse: SSEClient) -> None:
    def body() -> Any:
        yield b"once"

    with pytest.raises(InvalidRequest, match="sent again"):
        sse.connect("http://127.0.0.1:1/", method="POST", data=body(), reconnect=True)
    with pytest.raises(InvalidRequest):
        sse.connect("http://127.0.0.1:1/", data=body())  # GET reconnects by default


async def test_one_shot_body_without_reconnect(sse_server: Start, sse: SSEClient) -> None:
    async def handler(request: web.Request, attempt: int) -> web.StreamResponse:
        return await server.stream(request, [b"data: " + server.requests[-1].body + b"\n\n"])

    async def body() -> Any:
        yield b"stre"
        yield b"amed"

    server = await sse_server(handler)
    async with sse.connect(server.url(), method="POST", data=body()) as conn:
        events = await collect(conn)
    assert [event.data for event in events] == ["streamed"]


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"retry_delay": -1}, ValueError),
        ({"retry_delay": 1.5}, ValueError),
        ({"max_reconnect_attempts": -1}, ValueError),
        ({"max_event_size": 0}, ValueError),
    ],
)
async def test_bad_arguments(sse: SSEClient, kwargs: dict[str, Any], error: type) -> None:
    with pytest.raises(error):
        sse.connect("http://127.0.0.1:1/", **kwargs)


async def test_await_then_close(sse_server: Start, sse: SSEClient) -> None:
    async def handler(request: web.Request, attempt: int) -> web.StreamResponse:
        return await server.stream(request, [b"data: a\n\n"])

    server = await sse_server(handler)
    conn = await sse.connect(server.url(), reconnect=False)
    try:
        assert conn.response is not None and conn.response.status_code == 200
        assert [event.data for event in await collect(conn)] == ["a"]
    finally:
        await conn.close()
    assert conn.closed
    await conn.close()  # twice is harmless


async def test_iterating_without_opening_first(sse_server: Start, sse: SSEClient) -> None:
    async def handler(request: web.Request, attempt: int) -> web.StreamResponse:
        return await server.stream(request, [b"data: a\n\n"])

    server = await sse_server(handler)
    conn = sse.connect(server.url(), reconnect=False)
    assert "new" in repr(conn)
    assert [event.data for event in await collect(conn)] == ["a"]
    assert "closed" in repr(conn)


async def test_sse_client_makes_and_closes_its_own_http_client(sse_server: Start) -> None:
    async def handler(request: web.Request, attempt: int) -> web.StreamResponse:
        return await server.stream(request, [b"data: a\n\n"])

    server = await sse_server(handler)
    async with SSEClient() as sse:
        assert isinstance(sse.http_client, aiosonic.HTTPClient)
        async with sse.connect(server.url(), reconnect=False) as conn:
            assert [event.data for event in await collect(conn)] == ["a"]


async def test_a_given_http_client_stays_open(
    sse_server: Start, http_client: aiosonic.HTTPClient
) -> None:
    async def handler(request: web.Request, attempt: int) -> web.StreamResponse:
        return await server.stream(request, [b"data: a\n\n"])

    server = await sse_server(handler)
    async with SSEClient(http_client) as sse, sse.connect(server.url(), reconnect=False) as conn:
        assert len(await collect(conn)) == 1
    response = await http_client.get(server.url("/after"))
    assert response.status_code == 200
    await response.discard()
