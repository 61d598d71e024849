"""HTTP/1.1 connections (``aiosonic._http11_conn``) against real loopback servers: what a
streamed body may yield, a server that goes away while a body is uploading, write and read
flow control, and the connection's one timer when requests with different limits share it."""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from support.app import AppServer, echo_body, loads, payload
from support.raw import RawServer
from support.waits import eventually, pooled_protocols

import aiosonic
from aiosonic.exceptions import ConnectionDisconnected, InvalidRequest, RequestTimeout

MakeClient = Callable[..., tuple[aiosonic.HTTPClient, aiosonic.TCPConnector]]


async def test_str_pieces_of_a_streamed_body_are_sent_as_utf8(
    server: AppServer, client: aiosonic.HTTPClient
) -> None:
    pieces: list[Any] = ["grüße, ", b"bytes, ", "✓"]
    response = await client.post(server.url("/echo"), data=iter(pieces))
    doc = loads(await response.content())
    assert echo_body(doc) == "grüße, bytes, ✓".encode()
    assert doc["chunked"] == "chunked"


async def test_a_body_piece_that_is_not_bytes_fails_and_closes_the_connection(
    server: AppServer, client: aiosonic.HTTPClient
) -> None:
    first = await client.get(server.url("/echo"))
    port = loads(await first.content())["port"]
    pieces: list[Any] = [b"fine", 42]
    with pytest.raises(InvalidRequest, match="must yield bytes, not int"):
        await client.post(server.url("/echo"), data=iter(pieces))
    after = loads(await (await client.get(server.url("/echo"))).content())
    assert after["port"] != port  # the half-sent request's connection was not reused


async def test_a_server_that_hangs_up_during_an_upload_fails_it_and_closes_the_source(
    raw_server: Callable[..., Any], client: aiosonic.HTTPClient
) -> None:
    async def hang_up(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")

    srv: RawServer = await raw_server(handler=hang_up)
    finalised = asyncio.Event()

    async def slow_upload() -> AsyncIterator[bytes]:
        try:
            for _ in range(500):
                yield b"x" * 1000
                await asyncio.sleep(0.005)
        finally:
            finalised.set()

    with pytest.raises(ConnectionDisconnected):
        await client.post(srv.url("/"), data=slow_upload())
    assert finalised.is_set()


async def test_a_body_of_almost_a_mebibyte_goes_out_in_one_write_and_arrives_whole(
    server: AppServer, client: aiosonic.HTTPClient
) -> None:
    data = payload(1_000_000, seed=3)
    response = await client.post(server.url("/upload"), data=data)
    doc = loads(await response.content())
    assert doc["sha256"] == hashlib.sha256(data).hexdigest()
    assert doc["content_length"] == "1000000"


async def test_two_long_bodies_in_a_row_on_one_connection(
    server: AppServer, client: aiosonic.HTTPClient
) -> None:
    for size in (2_000_000, 3_000_000):
        response = await client.get(server.url(f"/bytes/{size}"))
        assert await response.content() == payload(size)
    assert len(set(server.state.ports)) == 1


async def test_a_body_left_unread_for_a_while_still_arrives_whole(
    server: AppServer, client: aiosonic.HTTPClient
) -> None:
    # More than the 4 MiB the client buffers for a reader: reading from the socket pauses
    # while nobody reads, and must resume when the body is finally read.
    size = 12 * 1024 * 1024
    response = await client.get(server.url(f"/stream/{size}"))
    (protocol,) = pooled_protocols(client)
    await eventually(lambda: protocol._reading_paused)  # the buffer is full: reading paused
    assert await response.content() == payload(size)
    again = await client.get(server.url("/echo"))
    assert loads(await again.content())["port"] == server.state.ports[0]


async def test_a_shorter_request_timeout_on_a_reused_connection_fires(
    server: AppServer, client: aiosonic.HTTPClient
) -> None:
    relaxed = aiosonic.Timeouts(sock_read=None, request_timeout=30)
    await (await client.get(server.url("/echo"), timeouts=relaxed)).content()
    strict = aiosonic.Timeouts(sock_read=None, request_timeout=0.3)
    with pytest.raises(RequestTimeout):
        await client.get(server.url("/slow?delay=5"), timeouts=strict)


async def test_a_timer_left_from_a_finished_request_does_not_hurt_the_connection(
    server: AppServer, client: aiosonic.HTTPClient
) -> None:
    quick = aiosonic.Timeouts(sock_read=None, request_timeout=0.1)
    first = await client.get(server.url("/echo"), timeouts=quick)
    port = loads(await first.content())["port"]
    await asyncio.sleep(0.25)  # the first request's limit passes while the connection idles
    second = await client.get(server.url("/echo"))
    assert loads(await second.content())["port"] == port


async def test_a_long_upload_and_a_long_download_at_once_on_one_connection(
    raw_server: Callable[..., Any], client: aiosonic.HTTPClient
) -> None:
    # The server starts a long answer before it reads the upload: the client receives
    # through its reused read buffer while its own writes are held back by flow control.
    answer = payload(3_000_000, seed=5)
    upload = payload(8_000_000, seed=6)
    received: list[str] = []

    async def answer_first(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % len(answer))
        writer.write(answer[:1_500_000])
        await writer.drain()
        await asyncio.sleep(0.2)
        received.append(hashlib.sha256(await reader.readexactly(len(upload))).hexdigest())
        writer.write(answer[1_500_000:])
        await writer.drain()
        await reader.read()

    srv: RawServer = await raw_server(handler=answer_first)
    pieces = (upload[i : i + 65536] for i in range(0, len(upload), 65536))
    response = await client.post(
        srv.url("/"), data=pieces, headers={"Content-Length": str(len(upload))}
    )
    assert await response.content() == answer
    assert received == [hashlib.sha256(upload).hexdigest()]


async def test_an_early_answer_during_a_streamed_upload_does_not_reuse_the_connection(
    raw_server: Callable[..., Any], client: aiosonic.HTTPClient
) -> None:
    seen: list[bytes] = []

    async def answer_early(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        writer.write(b"HTTP/1.1 413 Payload Too Large\r\nContent-Length: 4\r\n\r\nnope")
        await writer.drain()
        rest = b""
        while b"GET /next" not in rest:
            piece = await reader.read(65536)
            if not piece:
                return
            rest += piece
        seen.append(rest)
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
        await writer.drain()

    srv: RawServer = await raw_server(handler=answer_early)

    async def slow_upload() -> AsyncIterator[bytes]:
        for _ in range(20):
            yield b"y" * 1000
            await asyncio.sleep(0.01)

    early = await client.post(srv.url("/"), data=slow_upload())
    assert early.status_code == 413
    assert await early.content() == b"nope"
    after = await client.get(srv.url("/next"))
    await after.content()
    assert seen == []  # the second request must not travel inside the first one's body
    assert srv.connections == 2
