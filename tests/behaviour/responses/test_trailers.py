"""``response.trailers`` over HTTP/1.1: the fields after a chunked body, there once the
body is read, bounded like the head, never mixed into ``headers``. (HTTP/2's are in
``tests/behaviour/http2/test_h2_trailers.py``.)"""

from __future__ import annotations

import asyncio

import pytest
from support.raw import read_request
from support.scripted import chunk

from aiosonic.exceptions import HttpParsingError
from aiosonic.limits import Limits

HEAD = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTrailer: Digest, Server-Timing\r\n\r\n"


def chunked_with_trailers(trailers: bytes, body: bytes = b"hello world") -> bytes:
    return HEAD + chunk(body[:5]) + chunk(body[5:]) + b"0\r\n" + trailers + b"\r\n"


def serve_forever(answer: bytes):
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while await read_request(reader) is not None:
            writer.write(answer)
            await writer.drain()

    return handler


async def test_chunked_trailers_follow_the_body(raw_server, client):
    srv = await raw_server(handler=serve_forever(chunked_with_trailers(
        b"Digest: sha-256=abc\r\nServer-Timing: db;dur=53 \r\nServer-Timing: app;dur=7\r\n"
    )))
    response = await client.get(srv.url("/"))
    assert await response.content() == b"hello world"
    assert response.trailers["digest"] == "sha-256=abc"
    assert response.trailers.getall("server-timing") == ["db;dur=53", "app;dur=7"]
    assert "digest" not in response.headers
    # Read with read_chunks too, and on the same connection: trailers end a response cleanly.
    again = await client.get(srv.url("/"))
    assert b"".join([piece async for piece in again.read_chunks()]) == b"hello world"
    assert again.trailers["digest"] == "sha-256=abc"
    assert srv.connections == 1


async def test_trailers_are_there_once_the_body_has_ended(raw_server, client):
    rest = asyncio.Event()

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        assert await read_request(reader) is not None
        writer.write(HEAD + chunk(b"hello"))
        await rest.wait()
        writer.write(chunk(b" world") + b"0\r\nDigest: sha-256=abc\r\n\r\n")
        await writer.drain()
        await reader.read()

    srv = await raw_server(handler=handler)
    response = await client.get(srv.url("/"))
    chunks = response.read_chunks()
    assert await chunks.__anext__() == b"hello"
    assert len(response.trailers) == 0  # the body has not ended
    rest.set()
    assert [piece async for piece in chunks] == [b" world"]
    assert response.trailers["digest"] == "sha-256=abc"


async def test_a_chunked_body_without_trailers_has_none(raw_server, client):
    srv = await raw_server(handler=serve_forever(chunked_with_trailers(b"")))
    response = await client.get(srv.url("/"))
    assert await response.text() == "hello world"
    assert len(response.trailers) == 0


@pytest.mark.parametrize(
    ("limits", "trailers", "message"),
    [
        (Limits(max_headers=3), b"".join(b"X-%d: v\r\n" % i for i in range(4)),
         "more than 3 trailer fields"),
        (Limits(max_head_size=1024), b"X-Big: " + b"v" * 2000 + b"\r\n",
         "trailers larger than 1024 bytes"),
    ],
)
async def test_trailers_are_bounded_like_the_head(
    raw_server, new_client, limits: Limits, trailers: bytes, message: str
) -> None:
    srv = await raw_server(handler=serve_forever(chunked_with_trailers(trailers)))
    client = new_client({"limits": limits})
    response = await client.get(srv.url("/"))
    with pytest.raises(HttpParsingError, match=message):
        await response.content()
