"""Server-sent events edge cases (``aiosonic.sse_client``): a refused answer whose body is cut
short, the caller's own Accept and Cache-Control headers, a method of the wrong type, and a
stream closed by another task while its request is on the way."""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import Callable
from typing import Any, cast

import pytest
import trustme
from support.raw import RawRequest, RawServer, simple_response

import aiosonic
from aiosonic.exceptions import InvalidRequest, TLSError
from aiosonic.sse_client import SSEClient, SSEConnectionError

STREAM_HEAD = b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n\r\n"


async def test_a_refused_answer_cut_short_still_reports_its_status_and_what_came(
    raw_server: Callable[..., Any], sse: SSEClient
) -> None:
    async def refuse_and_hang_up(
        reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        await reader.readuntil(b"\r\n\r\n")
        writer.write(b"HTTP/1.1 503 Busy\r\nContent-Length: 100\r\n\r\ntry later")
        await writer.drain()

    srv: RawServer = await raw_server(handler=refuse_and_hang_up)
    with pytest.raises(SSEConnectionError) as raised:
        async with sse.connect(srv.url("/events"), reconnect=False):
            pytest.fail("the stream must not open")
    assert raised.value.status_code == 503
    assert raised.value.body == b"try later"


async def test_the_callers_accept_and_cache_control_are_sent_as_given(
    raw_server: Callable[..., Any], sse: SSEClient
) -> None:
    async def no_content(request: RawRequest) -> bytes:
        return simple_response(status="204 No Content", content_length=False)

    srv: RawServer = await raw_server(respond=no_content)
    headers = {"Accept": "text/event-stream; q=1", "Cache-Control": "max-age=0"}
    async with sse.connect(srv.url("/events"), headers=headers) as stream:
        assert [event async for event in stream] == []  # 204: nothing to stream
    (request,) = srv.requests
    assert [v for k, v in request.headers if k.lower() == "accept"] == ["text/event-stream; q=1"]
    assert [v for k, v in request.headers if k.lower() == "cache-control"] == ["max-age=0"]


async def test_a_method_that_is_not_a_str_is_refused_by_the_http_client(
    sse: SSEClient,
) -> None:
    with pytest.raises(InvalidRequest, match="method must be a str, not int"):
        async with sse.connect("http://127.0.0.1:9/events", method=cast(Any, 7),
                               reconnect=False):
            pytest.fail("the stream must not open")


async def test_closed_by_another_task_while_the_request_is_on_its_way(
    raw_server: Callable[..., Any], http_client: aiosonic.HTTPClient, sse: SSEClient
) -> None:
    asked = asyncio.Event()
    answer = asyncio.Event()

    async def late_stream(request: RawRequest) -> bytes:
        asked.set()
        await answer.wait()
        return STREAM_HEAD + b"data: too late\n\n"

    srv: RawServer = await raw_server(respond=late_stream)
    conn = sse.connect(srv.url("/events"))
    opening = asyncio.create_task(conn.__aenter__())
    await asyncio.wait_for(asked.wait(), 5)
    await conn.close()
    answer.set()
    opened = await opening
    assert opened.closed
    assert [event async for event in opened] == []
    assert await http_client.wait_requests(5)  # the late answer's connection was let go


async def test_a_reconnection_that_fails_tls_verification_is_not_retried(
    sse: SSEClient,
) -> None:
    # The first connection streams one event and ends; the next handshake presents a
    # certificate for another name: a configuration problem, not worth retrying.
    ca = trustme.CA()
    good = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("localhost").configure_cert(good)
    wrong = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("other.test").configure_cert(wrong)
    handshakes: list[str | None] = []

    def pick_certificate(sock: ssl.SSLObject, name: str | None, _: ssl.SSLContext) -> None:
        handshakes.append(name)
        if len(handshakes) > 1:
            sock.context = wrong

    good.sni_callback = pick_certificate  # type: ignore[assignment]

    async def one_event(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        writer.write(STREAM_HEAD + b"data: one\n\n")
        await writer.drain()
        writer.close()

    origin = await asyncio.start_server(one_event, "127.0.0.1", 0, ssl=good)
    trusting = ssl.create_default_context()
    ca.configure_trust(trusting)
    url = f"https://localhost:{origin.sockets[0].getsockname()[1]}/events"
    received: list[str] = []
    try:
        with pytest.raises(TLSError):
            async with sse.connect(url, ssl=trusting, retry_delay=10) as stream:
                async for event in stream:
                    received.append(event.data)
    finally:
        origin.close()
        await origin.wait_closed()
    assert received == ["one"]
    assert handshakes == ["localhost", "localhost"]  # one reconnection, no retries after it
