"""Servers that never answer, trickle forever or reset mid-body: each fails the request with
its own error within its bound, and the same client then works against a healthy server."""

from __future__ import annotations

import asyncio
import time

import pytest
from support.faults import reset
from support.raw import RawRequest, read_request, simple_response

from aiosonic.exceptions import ConnectionDisconnected, ReadTimeout, RequestTimeout
from aiosonic.timeout import Timeouts

MARGIN = 0.5  # seconds of slack for a busy machine


async def _healthy(raw_server):
    async def respond(request: RawRequest) -> bytes:
        return simple_response(b"healthy")

    return await raw_server(respond=respond)


async def _check_healthy(client, healthy) -> None:
    response = await asyncio.wait_for(client.get(healthy.url("/ok")), 5)
    assert response.status_code == 200
    assert await response.content() == b"healthy"


async def test_server_that_never_answers(raw_server, make_client):
    async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        await asyncio.Event().wait()  # never answers; cancelled when the server closes

    mute = await raw_server(handler=silent)
    healthy = await _healthy(raw_server)
    client, connector = make_client(timeouts=Timeouts(sock_read=0.3, request_timeout=5))
    started = time.monotonic()
    with pytest.raises(ReadTimeout):
        await asyncio.wait_for(client.get(mute.url("/")), 5)
    elapsed = time.monotonic() - started
    assert 0.3 - 0.05 <= elapsed <= 0.3 + MARGIN, elapsed
    assert connector.pool.is_all_free()
    await _check_healthy(client, healthy)


@pytest.mark.parametrize("phase", ["head", "body"])
async def test_server_that_trickles_forever(raw_server, make_client, phase):
    async def trickle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        head = b"HTTP/1.1 200 OK\r\nContent-Length: 1000000\r\nX-Pad: "
        if phase == "body":
            writer.write(head + b"x\r\n\r\n")
        else:
            for byte in head:
                writer.write(bytes([byte]))
                await asyncio.sleep(0.05)
        while True:  # one byte every 50 ms, forever (the X-Pad value or the body)
            writer.write(b"a")
            await writer.drain()
            await asyncio.sleep(0.05)

    slow = await raw_server(handler=trickle)
    healthy = await _healthy(raw_server)
    bound = 0.6
    client, connector = make_client(timeouts=Timeouts(sock_read=0.3, request_timeout=bound))
    started = time.monotonic()
    with pytest.raises(RequestTimeout):
        response = await asyncio.wait_for(client.get(slow.url("/")), 5)
        assert phase == "body", "a head trickled byte by byte cannot be complete yet"
        await asyncio.wait_for(response.content(), 5)
    elapsed = time.monotonic() - started
    assert bound - 0.05 <= elapsed <= bound + MARGIN, elapsed
    assert await connector.pool.wait_all_free(1)
    await _check_healthy(client, healthy)


async def test_server_that_resets_mid_body(raw_server, make_client):
    sent = asyncio.Event()

    async def cut(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n" + b"z" * 40_000)
        await writer.drain()
        await asyncio.sleep(0.05)
        sent.set()
        reset(writer.transport)

    cutter = await raw_server(handler=cut)
    healthy = await _healthy(raw_server)
    client, connector = make_client(timeouts=Timeouts(sock_read=5, request_timeout=10))
    response = await asyncio.wait_for(client.get(cutter.url("/")), 5)
    assert response.status_code == 200
    with pytest.raises(ConnectionDisconnected):
        await asyncio.wait_for(response.content(), 5)
    assert sent.is_set()
    assert await connector.pool.wait_all_free(1)
    await _check_healthy(client, healthy)
