"""``expect100=``: an HTTP/1.1 body held back until the server's ``100 Continue``, a final
answer that comes first returned without the body ever being sent, a 417 answered by
sending again without the expectation, and a server that ignores it served after the wait.
Every case is observed from the server's side: what arrived, and when."""

from __future__ import annotations

import asyncio
import hashlib

import pytest
from support.raw import read_body, read_head, simple_response

from aiosonic.exceptions import InvalidRequest

BODY = bytes(range(256)) * 4096  # 1 MiB
CONTINUE = b"HTTP/1.1 100 Continue\r\n\r\n"


def digest(data: bytes) -> bytes:
    return hashlib.sha256(data).hexdigest().encode()


class Seen:
    """What the server saw: request heads, and body bytes that arrived unasked."""

    def __init__(self) -> None:
        self.heads: list[str] = []
        self.unasked = 0


async def test_the_body_follows_the_100_continue(raw_server, client):
    seen = Seen()

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while (request := await read_head(reader)) is not None:
            seen.heads.append(request.header("Expect") or "")
            writer.write(CONTINUE)
            body = await read_body(reader, request)
            writer.write(simple_response(digest(body)))
            await writer.drain()

    srv = await raw_server(handler=handler)
    response = await client.post(srv.url("/up"), data=BODY, expect100=30)
    assert await response.content() == digest(BODY)
    # A streamed body waits the same way, on the same (kept-alive) connection.

    async def pieces():
        for i in range(0, len(BODY), 65536):
            yield BODY[i : i + 65536]

    response = await client.put(srv.url("/up"), data=pieces(), expect100=True)
    assert await response.content() == digest(BODY)
    assert seen.heads == ["100-continue", "100-continue"]
    assert srv.connections == 1


async def test_a_refusal_before_the_100_means_the_body_is_never_sent(raw_server, client):
    seen = Seen()
    gone = asyncio.Event()

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        request = await read_head(reader)
        assert request is not None
        seen.heads.append(request.header("Expect") or "")
        writer.write(simple_response(b"log in first", "401 Unauthorized"))
        await writer.drain()
        # Whatever the client still sends on this connection, until it closes it.
        while data := await reader.read(65536):
            seen.unasked += len(data)
        gone.set()

    srv = await raw_server(handler=handler)
    response = await client.post(srv.url("/up"), data=BODY, expect100=30)
    assert response.status_code == 401
    assert await response.content() == b"log in first"
    await asyncio.wait_for(gone.wait(), 5)  # not kept: the body was owed
    assert seen.heads == ["100-continue"]
    assert seen.unasked == 0


async def test_a_417_is_answered_by_sending_again_without_the_expectation(raw_server, client):
    seen = Seen()

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while (request := await read_head(reader)) is not None:
            expect = request.header("Expect")
            seen.heads.append(expect or "")
            if expect is not None:
                writer.write(simple_response(b"", "417 Expectation Failed"))
                await writer.drain()
                continue  # the client gives this connection up
            body = await read_body(reader, request)
            writer.write(simple_response(digest(body)))
            await writer.drain()

    srv = await raw_server(handler=handler)
    response = await client.post(srv.url("/up"), data=BODY, expect100=30)  # even a POST
    assert response.status_code == 200
    assert await response.content() == digest(BODY)
    assert seen.heads == ["100-continue", ""]
    assert srv.connections == 2


async def test_a_server_that_ignores_the_expectation_gets_the_body_after_the_wait(
    raw_server, client
):
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while (request := await read_head(reader)) is not None:
            body = await read_body(reader, request)  # never says 100 Continue
            writer.write(simple_response(digest(body)))
            await writer.drain()

    srv = await raw_server(handler=handler)
    response = await client.post(srv.url("/up"), data=BODY, expect100=0.05)
    assert await response.content() == digest(BODY)


async def test_no_expectation_without_a_body_or_without_the_option(raw_server, client):
    heads: list[str | None] = []

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while (request := await read_head(reader)) is not None:
            heads.append(request.header("Expect"))
            await read_body(reader, request)
            writer.write(simple_response(b"ok"))
            await writer.drain()

    srv = await raw_server(handler=handler)
    assert (await client.get(srv.url("/"), expect100=True)).status_code == 200
    assert (await client.post(srv.url("/"), data=b"x")).status_code == 200
    assert heads == [None, None]


@pytest.mark.parametrize("value", [0, -1, float("inf"), "yes"])
async def test_a_bad_expect100_is_refused(client, value: object) -> None:
    with pytest.raises(InvalidRequest, match="expect100"):
        await client.post("http://127.0.0.1:9/", data=b"x", expect100=value)
