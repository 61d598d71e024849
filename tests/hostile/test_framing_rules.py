"""Framing that the most careful clients refuse (browsers, curl, Go, http.client), each
from a scripted server: an endless run of interim responses, chunked framing that outgrows
its data, and ``chunked`` given twice or before another coding. Each is a clear
``HttpParsingError``, at once, never a wait for a timeout or a body passed off as good."""

from __future__ import annotations

import asyncio

import pytest
from support.raw import read_request, simple_response
from support.scripted import chunk

from aiosonic.exceptions import HttpParsingError
from aiosonic.timeout import Timeouts

QUICK = Timeouts(sock_read=30, request_timeout=60)  # a hang would be seen as one


def answer_with(*parts: bytes, then_wait: bool = True):
    """A handler writing ``parts`` to the first request, then holding the connection open
    (so that only the client's own rule can end the exchange)."""

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        assert await read_request(reader) is not None
        for part in parts:
            writer.write(part)
            await writer.drain()
        if then_wait:
            await reader.read()

    return handler


@pytest.mark.timeout(10)
async def test_an_endless_run_of_100_continue_is_refused(raw_server, client):
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        assert await read_request(reader) is not None
        while not writer.is_closing():  # until the client gives up on it
            writer.write(b"HTTP/1.1 100 Continue\r\n\r\n" * 50)
            await writer.drain()

    srv = await raw_server(handler=handler)
    with pytest.raises(HttpParsingError, match="more than 100 interim responses"):
        await client.get(srv.url("/"), timeouts=QUICK)


async def test_interim_responses_within_the_bounds_are_skipped(raw_server, client):
    interims = b"HTTP/1.1 103 Early Hints\r\nLink: </a.css>; rel=preload\r\n\r\n" * 100
    srv = await raw_server(handler=answer_with(interims + simple_response(b"ok")))
    assert await (await client.get(srv.url("/"), timeouts=QUICK)).content() == b"ok"


async def test_interim_responses_are_bounded_by_bytes_too(raw_server, client):
    big = b"HTTP/1.1 103 Early Hints\r\nLink: " + b"x" * 20_000 + b"\r\n\r\n"
    srv = await raw_server(handler=answer_with(big * 4 + simple_response(b"ok")))
    with pytest.raises(HttpParsingError, match="bytes of them"):
        await client.get(srv.url("/"), timeouts=QUICK)


@pytest.mark.timeout(10)
async def test_one_byte_chunks_with_long_extensions_are_refused(raw_server, client):
    # About 40 MB of framing for 10 KB of body if read to the end: refused after a few.
    head = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
    flood = b"".join(b"1;ext=" + b"e" * 4000 + b"\r\nx\r\n" for _ in range(10_000))
    srv = await raw_server(handler=answer_with(head, flood, b"0\r\n\r\n"))
    response = await client.get(srv.url("/"), timeouts=QUICK)
    with pytest.raises(HttpParsingError, match="far larger than the data"):
        await response.content()


async def test_many_small_chunks_without_extensions_are_fine(raw_server, client):
    head = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
    body = b"".join(chunk(b"x") for _ in range(20_000)) + b"0\r\n\r\n"
    srv = await raw_server(handler=answer_with(head, body))
    response = await client.get(srv.url("/"), timeouts=QUICK)
    assert await response.content() == b"x" * 20_000


@pytest.mark.parametrize(
    "coding",
    [b"chunked, chunked", b"chunked,chunked", b"chunked, gzip", b"gzip, chunked, chunked"],
)
async def test_chunked_twice_or_not_last_is_refused(raw_server, client, coding: bytes) -> None:
    head = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: " + coding + b"\r\n\r\n"
    srv = await raw_server(handler=answer_with(head + chunk(b"hello") + b"0\r\n\r\n"))
    with pytest.raises(HttpParsingError, match="chunked more than once or not last"):
        await client.get(srv.url("/"), timeouts=QUICK)


async def test_chunked_given_in_two_header_lines_is_refused(raw_server, client):
    head = (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n"
            b"Transfer-Encoding: chunked\r\n\r\n")
    srv = await raw_server(handler=answer_with(head + chunk(b"hello") + b"0\r\n\r\n"))
    with pytest.raises(HttpParsingError):
        await client.get(srv.url("/"), timeouts=QUICK)


async def test_chunked_after_another_coding_is_still_chunked(raw_server, client):
    # Another coding, then chunked last (RFC 9112 6.3): chunked framing.
    head = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: identity, chunked\r\n\r\n"
    srv = await raw_server(handler=answer_with(head + chunk(b"hello") + b"0\r\n\r\n"))
    response = await client.get(srv.url("/"), timeouts=QUICK)
    assert await response.content() == b"hello"
