"""Reusing a kept-alive HTTP/1.1 connection after it sat idle: the server's
``Keep-Alive: timeout`` is honoured (with a margin), and a connection idle for a while is
looked at before reuse, so that one the server has already closed is not sent to.

``reusable(now)`` takes the time the request goes out; the tests pass a later ``now``
instead of idling for real (the subject is what the connection decides at that time).
"""

from __future__ import annotations

import asyncio
import time

import pytest
from support.raw import read_request, simple_response
from support.waits import pooled_protocols

from aiosonic._http11 import idle_timeout


@pytest.mark.parametrize(
    ("header", "seconds"),
    [
        (b"timeout=5, max=100", 5.0),
        (b"max=100, timeout=15", 15.0),
        (b" Timeout = 2 ", 2.0),
        (b"timeout=0", 0.0),
        (b"max=100", None),
        (b"timeout=soon", None),
        (b"timeout=-1", None),
        (b"timeout=1.5", None),
        (b"timeout=99999999999", None),
        (b"", None),
    ],
)
def test_the_keep_alive_timeout_parameter(header: bytes, seconds: float | None) -> None:
    assert idle_timeout(header) == seconds


def keep_alive_server(keep_alive: str | None):
    """A handler answering every request on a connection with its target, announcing
    ``Keep-Alive: <keep_alive>`` when given."""
    headers = [] if keep_alive is None else [("Keep-Alive", keep_alive)]

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while (request := await read_request(reader)) is not None:
            writer.write(simple_response(request.target.encode(), headers=headers))
            await writer.drain()

    return handler


async def test_a_zero_keep_alive_timeout_means_a_new_connection_each_time(raw_server, client):
    srv = await raw_server(handler=keep_alive_server("timeout=0"))
    for i in range(3):
        assert await (await client.get(srv.url(f"/{i}"))).content() == f"/{i}".encode()
    assert srv.connections == 3


async def test_within_the_keep_alive_timeout_the_connection_is_reused(raw_server, client):
    srv = await raw_server(handler=keep_alive_server("timeout=60, max=100"))
    for i in range(3):
        assert await (await client.get(srv.url(f"/{i}"))).content() == f"/{i}".encode()
    assert srv.connections == 1


@pytest.mark.parametrize(
    ("announced", "reusable_for"), [("timeout=5", 4.0), ("timeout=1", 0.5), (None, None)]
)
async def test_past_the_keep_alive_timeout_less_a_margin_it_is_not_reused(
    raw_server, client, announced: str | None, reusable_for: float | None
) -> None:
    srv = await raw_server(handler=keep_alive_server(announced))
    assert await (await client.get(srv.url("/one"))).content() == b"/one"
    (idle,) = pooled_protocols(client)
    now = time.monotonic()
    if reusable_for is None:  # no timeout announced: reusable while the socket is quiet
        assert idle.reusable(now + 3600)
        assert not idle.is_closed
        return
    # (``now`` was read after the response arrived: a slow machine only adds idle time,
    # so the first check leaves most of the window as slack)
    assert idle.reusable(now + reusable_for / 5)
    assert not idle.reusable(now + reusable_for + 0.1)
    assert not idle.is_available  # closed there and then: it is never offered again
    assert await (await client.get(srv.url("/two"))).content() == b"/two"
    assert srv.connections == 2


async def test_an_idle_connection_whose_server_closed_it_unseen_is_not_reused(
    raw_server, client
) -> None:
    # The server closes the idle connection while the client's loop does not read it (as
    # when the loop is busy elsewhere): the FIN waits unread on the socket. A request going
    # out soon after the last response trusts the connection; one after an idle second
    # looks at the socket first, and dials anew.
    close_now = asyncio.Event()
    closed = asyncio.Event()

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        request = await read_request(reader)
        assert request is not None
        writer.write(simple_response(b"first"))
        await writer.drain()
        await close_now.wait()
        writer.close()
        await writer.wait_closed()
        closed.set()

    srv = await raw_server(handler=handler)
    assert await (await client.get(srv.url("/"))).content() == b"first"
    (idle,) = pooled_protocols(client)
    assert idle.reusable(time.monotonic() + 2)  # nothing on the socket: still good
    # (that look counts as use: the next is due an idle second after it)
    idle.transport.pause_reading()  # the client's loop will not see the FIN
    close_now.set()
    await asyncio.wait_for(closed.wait(), 5)
    assert not idle.is_closed
    assert idle.reusable(time.monotonic() + 2.2)  # just looked at: not again
    assert not idle.reusable(time.monotonic() + 4)
    assert not idle.is_available


async def test_a_stray_byte_on_an_idle_connection_is_seen_before_reuse(raw_server, client):
    # A server that writes after the response (a 408 before closing, say) leaves the
    # connection unusable: the look before reuse sees the unread bytes.
    stray = asyncio.Event()
    written = asyncio.Event()

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        request = await read_request(reader)
        assert request is not None
        writer.write(simple_response(b"first"))
        await writer.drain()
        await stray.wait()
        writer.write(b"HTTP/1.1 408 Request Timeout\r\nContent-Length: 0\r\n\r\n")
        await writer.drain()
        written.set()
        await reader.read()

    srv = await raw_server(handler=handler)
    assert await (await client.get(srv.url("/"))).content() == b"first"
    (idle,) = pooled_protocols(client)
    idle.transport.pause_reading()
    stray.set()
    await asyncio.wait_for(written.wait(), 5)
    assert not idle.reusable(time.monotonic() + 2)
