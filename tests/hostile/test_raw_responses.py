"""Edge cases from scripted raw-socket servers that send exact bytes."""

from __future__ import annotations

import asyncio

import pytest
from support.app import payload
from support.raw import read_request, refused_port, simple_response
from support.waits import eventually, pooled_protocols

from aiosonic.exceptions import (
    AiosonicError,
    ConnectError,
    ConnectionDisconnected,
    HttpParsingError,
)


async def read_all_chunks(resp) -> tuple[bytes, BaseException | None]:
    got = bytearray()
    try:
        async for chunk in resp.read_chunks():
            got += chunk
    except Exception as exc:
        return bytes(got), exc
    return bytes(got), None


# ------------------------------------------------------------------------------- framing


async def test_body_without_length_is_read_until_close(raw_server, client):
    body = payload(200_000, seed=5)

    async def handler(reader, writer):
        await reader.readuntil(b"\r\n\r\n")
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\n\r\n")
        for start in range(0, len(body), 30_000):
            writer.write(body[start : start + 30_000])
            await writer.drain()
            await asyncio.sleep(0.005)
        # returning closes the connection: that ends the body

    srv = await raw_server(handler=handler)
    resp = await client.get(srv.url("/"))
    assert resp.status_code == 200
    assert await resp.content() == body
    # the connection ended with the body; the next request uses a new one and works
    resp = await client.get(srv.url("/"))
    assert await resp.content() == body
    assert srv.connections == 2


async def test_body_until_close_with_read_chunks(raw_server, client):
    body = payload(100_000, seed=6)

    async def handler(reader, writer):
        await reader.readuntil(b"\r\n\r\n")
        writer.write(b"HTTP/1.1 200 OK\r\n\r\n")
        for start in range(0, len(body), 10_000):
            writer.write(body[start : start + 10_000])
            await writer.drain()
            await asyncio.sleep(0.002)

    srv = await raw_server(handler=handler)
    resp = await client.get(srv.url("/"))
    got, error = await read_all_chunks(resp)
    assert error is None
    assert got == body


async def test_truncated_content_length_body_raises_from_content(raw_server, client):
    async def handler(reader, writer):
        await reader.readuntil(b"\r\n\r\n")
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n" + b"h" * 50)
        await writer.drain()

    srv = await raw_server(handler=handler)
    resp = await client.get(srv.url("/"))
    assert resp.status_code == 200
    with pytest.raises(ConnectionDisconnected):
        await resp.content()


async def test_truncated_content_length_body_raises_at_end_of_read_chunks(raw_server, client):
    async def handler(reader, writer):
        await reader.readuntil(b"\r\n\r\n")
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n" + b"h" * 50)
        await writer.drain()
        await asyncio.sleep(0.05)

    srv = await raw_server(handler=handler)
    resp = await client.get(srv.url("/"))
    got, error = await read_all_chunks(resp)
    assert isinstance(error, ConnectionDisconnected), error
    assert got == b"h" * 50


async def test_truncated_chunked_body_raises_from_content(raw_server, client):
    async def handler(reader, writer):
        await reader.readuntil(b"\r\n\r\n")
        writer.write(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n")
        await writer.drain()

    srv = await raw_server(handler=handler)
    resp = await client.get(srv.url("/"))
    with pytest.raises(ConnectionDisconnected):
        await resp.content()


async def test_truncated_chunked_body_raises_at_end_of_read_chunks(raw_server, client):
    async def handler(reader, writer):
        await reader.readuntil(b"\r\n\r\n")
        writer.write(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n")
        await writer.drain()
        await asyncio.sleep(0.05)
        writer.write(b"6\r\n world\r\n")
        await writer.drain()
        await asyncio.sleep(0.05)

    srv = await raw_server(handler=handler)
    resp = await client.get(srv.url("/"))
    got, error = await read_all_chunks(resp)
    assert isinstance(error, ConnectionDisconnected), error
    assert got == b"hello world"


async def test_chunk_cut_in_the_middle_raises(raw_server, client):
    async def handler(reader, writer):
        await reader.readuntil(b"\r\n\r\n")
        writer.write(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n10\r\nonly-half")
        await writer.drain()

    srv = await raw_server(handler=handler)
    resp = await client.get(srv.url("/"))
    with pytest.raises(ConnectionDisconnected):
        await resp.content()


async def test_chunked_body_with_extensions_and_trailers_then_keep_alive(raw_server, client):
    async def respond(request):
        return (
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
            b"5;name=value\r\nhello\r\n"
            b"1\r\n \r\n"
            b"5\r\nworld\r\n"
            b"0\r\nX-Trailer: yes\r\nX-Other: 1\r\n\r\n"
        )

    srv = await raw_server(respond=respond)
    for _ in range(3):
        resp = await client.get(srv.url("/"))
        assert await resp.content() == b"hello world"
    assert srv.connections == 1


async def test_error_responses_after_truncation_do_not_break_the_client(raw_server, client):
    async def handler(reader, writer):
        request = await read_request(reader)
        assert request is not None
        if request.target == "/bad":
            writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n12345")
            await writer.drain()
            return
        writer.write(simple_response(b"good"))
        await writer.drain()
        await reader.read()

    srv = await raw_server(handler=handler)
    resp = await client.get(srv.url("/bad"))
    with pytest.raises(ConnectionDisconnected):
        await resp.content()
    resp = await client.get(srv.url("/good"))
    assert await resp.content() == b"good"


# ------------------------------------------------------------------------------- connection errors


async def test_server_closes_right_after_accepting(raw_server, client):
    async def handler(reader, writer):
        return  # close immediately, before reading anything

    srv = await raw_server(handler=handler)
    with pytest.raises(AiosonicError) as info:
        await asyncio.wait_for(client.get(srv.url("/")), timeout=5)
    assert isinstance(info.value, (ConnectionDisconnected, ConnectError)), repr(info.value)


async def test_server_closes_after_reading_the_request(raw_server, client):
    async def handler(reader, writer):
        await read_request(reader)
        # close without a single byte of response

    srv = await raw_server(handler=handler)
    with pytest.raises(ConnectionDisconnected):
        await asyncio.wait_for(client.get(srv.url("/")), timeout=5)


async def test_server_closes_in_the_middle_of_the_head(raw_server, client):
    async def handler(reader, writer):
        await read_request(reader)
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Le")
        await writer.drain()

    srv = await raw_server(handler=handler)
    with pytest.raises((ConnectionDisconnected, HttpParsingError)):
        await asyncio.wait_for(client.get(srv.url("/")), timeout=5)


async def test_connection_refused(client):
    sock = refused_port()
    try:
        port = sock.getsockname()[1]
        with pytest.raises(ConnectError):
            await asyncio.wait_for(client.get(f"http://127.0.0.1:{port}/"), timeout=5)
    finally:
        sock.close()


async def test_connection_refused_is_a_connection_error_and_client_recovers(server, client):
    sock = refused_port()
    try:
        port = sock.getsockname()[1]
        with pytest.raises(ConnectionError):
            await client.get(f"http://127.0.0.1:{port}/")
    finally:
        sock.close()
    resp = await client.get(server.url("/echo"))
    assert resp.status_code == 200
    await resp.content()


# ------------------------------------------------------------------------------- interim & garbage


async def test_100_continue_is_skipped(raw_server, client):
    async def respond(request):
        return (
            b"HTTP/1.1 100 Continue\r\n\r\n"
            b"HTTP/1.1 200 OK\r\nContent-Length: 9\r\nX-Final: yes\r\n\r\nthe-final"
        )

    srv = await raw_server(respond=respond)
    resp = await client.post(srv.url("/"), data=b"upload")
    assert resp.status_code == 200
    assert resp.headers["X-Final"] == "yes"
    assert await resp.content() == b"the-final"
    # and the connection stays in sync for the next exchange
    resp = await client.get(srv.url("/"))
    assert resp.status_code == 200
    assert await resp.content() == b"the-final"
    assert srv.connections == 1
    assert srv.requests[0].body == b"upload"


async def test_several_interim_responses_are_skipped(raw_server, client):
    async def respond(request):
        return (
            b"HTTP/1.1 100 Continue\r\n\r\n"
            b"HTTP/1.1 103 Early Hints\r\nLink: </style.css>; rel=preload\r\n\r\n"
            b"HTTP/1.1 201 Created\r\nContent-Length: 2\r\n\r\nok"
        )

    srv = await raw_server(respond=respond)
    resp = await client.get(srv.url("/"))
    assert resp.status_code == 201
    assert await resp.content() == b"ok"


@pytest.mark.parametrize(
    "garbage",
    [
        b"HTTP/1.1 abc OK\r\nContent-Length: 0\r\n\r\n",
        b"NOT-HTTP AT ALL\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nBad Header Without Colon\r\nContent-Length: 0\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nContent-Length: abc\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n",
    ],
    ids=["status-not-a-number", "not-http", "header-without-colon", "bad-length", "bad-chunk"],
)
async def test_malformed_response_raises_parsing_error(raw_server, client, server, garbage):
    async def handler(reader, writer):
        await read_request(reader)
        writer.write(garbage)
        await writer.drain()
        await asyncio.sleep(1)

    srv = await raw_server(handler=handler)
    with pytest.raises(HttpParsingError):
        resp = await asyncio.wait_for(client.get(srv.url("/")), timeout=5)
        await asyncio.wait_for(resp.content(), timeout=5)
    # the broken connection is not reused; other requests work
    resp = await client.get(server.url("/echo"))
    assert resp.status_code == 200
    await resp.content()


async def test_conflicting_content_lengths_are_rejected(raw_server, client):
    async def handler(reader, writer):
        await read_request(reader)
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 7\r\n\r\nhello!!")
        await writer.drain()
        await asyncio.sleep(1)

    srv = await raw_server(handler=handler)
    with pytest.raises(HttpParsingError):
        resp = await client.get(srv.url("/"))
        await resp.content()


async def test_extra_bytes_after_a_body_do_not_poison_the_next_response(raw_server, client):
    # The first reply carries junk after its declared body. The client must not hand that
    # junk to the next request as if it were a response.
    async def respond(request):
        if request.target == "/junk":
            return simple_response(b"ok") + b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nEVIL!"
        return simple_response(b"real:" + request.target.encode())

    srv = await raw_server(respond=respond)
    resp = await client.get(srv.url("/junk"))
    assert await resp.content() == b"ok"
    # Bytes on an idle connection fail it: no connection the pool would reuse is left
    # before /next is sent, even if the junk came in a later segment than the body.
    await eventually(lambda: not any(p.is_available for p in pooled_protocols(client)))
    resp = await client.get(srv.url("/next"))
    assert await resp.content() == b"real:/next"


async def test_head_response_with_content_length_and_no_body_keeps_alive(raw_server, client):
    async def respond(request):
        if request.method == "HEAD":
            return b"HTTP/1.1 200 OK\r\nContent-Length: 12345\r\n\r\n"
        return simple_response(b"after-head")

    srv = await raw_server(respond=respond)
    resp = await asyncio.wait_for(client.request(srv.url("/"), method="HEAD"), timeout=2)
    assert resp.headers["Content-Length"] == "12345"
    assert await asyncio.wait_for(resp.content(), timeout=2) == b""
    resp = await client.get(srv.url("/"))
    assert await resp.content() == b"after-head"
    assert srv.connections == 1


@pytest.mark.parametrize("status", [b"204 No Content", b"304 Not Modified"])
async def test_bodyless_statuses_with_a_content_length_header(raw_server, client, status):
    # A 204/304 never has a body, whatever Content-Length claims.
    async def respond(request):
        if request.target == "/empty":
            return b"HTTP/1.1 " + status + b"\r\nContent-Length: 10\r\n\r\n"
        return simple_response(b"next")

    srv = await raw_server(respond=respond)
    resp = await asyncio.wait_for(client.get(srv.url("/empty")), timeout=2)
    assert await asyncio.wait_for(resp.content(), timeout=2) == b""
    resp = await asyncio.wait_for(client.get(srv.url("/other")), timeout=2)
    assert await resp.content() == b"next"
    assert srv.connections == 1


async def test_request_line_and_headers_on_the_wire(raw_server, client):
    async def respond(request):
        return simple_response(b"ok")

    srv = await raw_server(respond=respond)
    resp = await client.get(srv.url("/some/path?x=1"), headers={"X-Test": "yes"})
    assert await resp.content() == b"ok"
    request = srv.requests[0]
    assert request.method == "GET"
    assert request.target == "/some/path?x=1"
    assert request.version == "HTTP/1.1"
    assert request.header("Host") == f"127.0.0.1:{srv.port}"
    assert request.header("X-Test") == "yes"
    assert request.head.endswith(b"\r\n\r\n")
    assert b"\n" not in request.head.replace(b"\r\n", b"")


async def test_request_with_empty_path_sends_slash(raw_server, client):
    async def respond(request):
        return simple_response(b"root")

    srv = await raw_server(respond=respond)
    resp = await client.get(f"http://127.0.0.1:{srv.port}")
    assert await resp.content() == b"root"
    assert srv.requests[0].target == "/"
