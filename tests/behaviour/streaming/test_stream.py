"""Streaming responses: ``client.stream()`` with ``iter_bytes()`` / ``iter_lines()``
(line endings and UTF-8 characters split across chunks that arrive separately), and what
leaving early or ``aclose()`` does to the connection, seen from the server."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from support.app import AppServer, loads, payload
from support.raw import RawRequest
from support.scripted import Script, chunk, replies, status, wait_client_gone

from aiosonic import HTTPClient

Start = Callable[..., Awaitable[Any]]


def chunked(
    pieces: list[bytes],
    *,
    content_type: str = "text/plain; charset=utf-8",
    finish: bool = True,
    gap: float = 0.01,
) -> Script:
    """Answer with a chunked body, one chunk per piece, each written ``gap`` seconds after
    the last (so that they reach the client as separate reads). Without ``finish`` the body
    never ends: the server waits for the client to close."""

    async def script(
        request: RawRequest, writer: asyncio.StreamWriter, reader: asyncio.StreamReader
    ) -> bool:
        writer.write(
            b"HTTP/1.1 200 OK\r\nContent-Type: " + content_type.encode() +
            b"\r\nTransfer-Encoding: chunked\r\n\r\n"
        )
        await writer.drain()
        for piece in pieces:
            await asyncio.sleep(gap)
            writer.write(chunk(piece))
            await writer.drain()
        if not finish:
            await wait_client_gone(reader)
            return False
        writer.write(b"0\r\n\r\n")
        await writer.drain()
        return True

    return script


def by_path(routes: dict[str, Script]) -> Script:
    async def script(
        request: RawRequest, writer: asyncio.StreamWriter, reader: asyncio.StreamReader
    ) -> bool:
        return await routes[request.target](request, writer, reader)

    return script


HELD = {"/hold": chunked([b"first piece"], finish=False), "/ok": replies(status(200, b"ok"))}


async def test_iter_bytes_of_a_large_body(
    server: AppServer, new_client: Callable[..., HTTPClient]
) -> None:
    client = new_client()
    pieces = []
    async with client.stream("GET", server.url("/stream/300000?piece=7000")) as response:
        assert response.status_code == 200
        async for piece in response.iter_bytes():
            pieces.append(piece)
    assert len(pieces) > 1
    assert b"".join(pieces) == payload(300_000)


async def test_stream_passes_request_options_on(
    server: AppServer, new_client: Callable[..., HTTPClient]
) -> None:
    client = new_client()
    async with client.stream(
        "POST", server.url("/echo"), data=b"sent", headers={"X-S": "1"}, params={"p": "q"}
    ) as response:
        doc = loads(b"".join([piece async for piece in response.iter_bytes()]))
    assert doc["method"] == "POST"
    assert doc["query"] == "p=q"
    assert doc["body_len"] == 4
    assert ["X-S", "1"] in doc["headers"]


@pytest.mark.parametrize(
    ("pieces", "expected"),
    [
        (
            # CR then LF in the next chunk; a lone CR; a UTF-8 "€" and "😀" cut in two;
            # the last line without a line ending.
            [b"alpha\r", b"\nbeta\n", b"gamma\r", b"delta\r\n\xe2\x82",
             b"\xac euro\r\n\xf0\x9f", b"\x98\x80 smile\rlast"],
            ["alpha", "beta", "gamma", "delta", "€ euro", "😀 smile", "last"],
        ),
        ([b"one\r", b"\r\ntwo\r"], ["one", "", "two"]),
        ([b"\n\n", b"x\r\n"], ["", "", "x"]),
        ([b"no newline at all"], ["no newline at all"]),
        ([b"a\nb", b"c\nd", b"\n"], ["a", "bc", "d"]),
    ],
    ids=["mixed", "cr-cr-lf", "empty-lines", "one-line", "joined"],
)
async def test_iter_lines_across_chunks(
    logged: Start, new_client: Callable[..., HTTPClient],
    pieces: list[bytes], expected: list[str],
) -> None:
    srv = await logged(chunked(pieces))
    client = new_client()
    async with client.stream("GET", srv.url()) as response:
        lines = [line async for line in response.iter_lines()]
    assert lines == expected


async def test_iter_lines_uses_the_charset(
    logged: Start, new_client: Callable[..., HTTPClient]
) -> None:
    srv = await logged(chunked(["café\r\n".encode("latin-1"), "naïve".encode("latin-1")],
                               content_type="text/plain; charset=iso-8859-1"))
    client = new_client()
    async with client.stream("GET", srv.url()) as response:
        assert [line async for line in response.iter_lines()] == ["café", "naïve"]


async def test_fully_read_stream_leaves_the_connection_for_reuse(
    logged: Start, new_client: Callable[..., HTTPClient]
) -> None:
    srv = await logged(by_path({"/body": chunked([b"a", b"b"]), **HELD}))
    client = new_client()
    async with client.stream("GET", srv.url("/body")) as response:
        assert [piece async for piece in response.iter_bytes()] == [b"a", b"b"]
    second = await client.get(srv.url("/ok"))
    assert await second.content() == b"ok"
    assert srv.log.opened == 1
    assert srv.log.closed == 0


async def test_leaving_the_stream_block_early_closes_the_connection(
    logged: Start, new_client: Callable[..., HTTPClient]
) -> None:
    srv = await logged(by_path(HELD))
    client = new_client()
    async with client.stream("GET", srv.url("/hold")) as response:
        async for piece in response.iter_bytes():
            assert piece == b"first piece"
            break
    # The body never ends: only the client closing lets the server's handler finish.
    await srv.log.wait_for(lambda: srv.log.closed == 1)
    second = await client.get(srv.url("/ok"))
    assert await second.content() == b"ok"
    assert srv.log.opened == 2


async def test_leaving_iter_lines_early_closes_the_connection(
    logged: Start, new_client: Callable[..., HTTPClient]
) -> None:
    srv = await logged(by_path({"/lines": chunked([b"l1\nl2\n"], finish=False), **HELD}))
    client = new_client()
    async with client.stream("GET", srv.url("/lines")) as response:
        async for line in response.iter_lines():
            assert line == "l1"
            break
    await srv.log.wait_for(lambda: srv.log.closed == 1)
    assert await (await client.get(srv.url("/ok"))).content() == b"ok"
    assert srv.log.opened == 2


async def test_an_error_inside_the_stream_block_closes_the_connection(
    logged: Start, new_client: Callable[..., HTTPClient]
) -> None:
    srv = await logged(by_path(HELD))
    client = new_client()
    with pytest.raises(LookupError):
        async with client.stream("GET", srv.url("/hold")):
            raise LookupError("caller's own error")
    await srv.log.wait_for(lambda: srv.log.closed == 1)
    assert await (await client.get(srv.url("/ok"))).content() == b"ok"
    assert srv.log.opened == 2


@pytest.mark.parametrize("read_first", [False, True])
async def test_aclose_of_a_half_read_response_closes_its_connection(
    logged: Start, new_client: Callable[..., HTTPClient], read_first: bool
) -> None:
    srv = await logged(by_path(HELD))
    client = new_client()
    response = await client.get(srv.url("/hold"))
    if read_first:
        chunks = response.read_chunks()
        assert await chunks.__anext__() == b"first piece"
    await response.aclose()
    await srv.log.wait_for(lambda: srv.log.closed == 1)
    if read_first:
        await chunks.aclose()
    assert await (await client.get(srv.url("/ok"))).content() == b"ok"
    assert srv.log.opened == 2


async def test_aclose_of_a_complete_response_keeps_its_connection(
    logged: Start, new_client: Callable[..., HTTPClient]
) -> None:
    srv = await logged(by_path(HELD))
    client = new_client()
    response = await client.get(srv.url("/ok"))
    assert await response.content() == b"ok"
    await response.aclose()
    await response.aclose()  # twice is harmless
    assert await (await client.get(srv.url("/ok"))).content() == b"ok"
    assert srv.log.opened == 1
    assert srv.log.closed == 0
