"""``aiosonic.testing.Response``: an in-memory HttpResponse reads like one from the network."""

from __future__ import annotations

import gzip
import zlib
from collections.abc import AsyncIterator, Iterator

import pytest

from aiosonic import HttpResponse
from aiosonic.exceptions import ConnectionDisconnected, DecompressionError, HTTPStatusError
from aiosonic.response import ResponseConsumed
from aiosonic.testing import Response


async def test_json_body_sets_type_and_length() -> None:
    response = Response(201, json={"id": 7, "tags": ["a"]})
    assert isinstance(response, HttpResponse)
    assert response.status_code == 201 and response.reason == "Created"
    assert response.http_version == "1.1" and response.ok
    assert response.raw_headers == [
        (b"Content-Type", b"application/json"),
        (b"Content-Length", b"24"),
    ]
    assert response.headers["content-length"] == "24"
    assert await response.json() == {"id": 7, "tags": ["a"]}
    assert await response.content() == b'{"id": 7, "tags": ["a"]}'


async def test_text_body_and_given_content_type_wins() -> None:
    response = Response(200, text="caf\u00e9")
    assert response.headers["content-type"] == "text/plain; charset=utf-8"
    assert await response.text() == "caf\u00e9"
    latin = Response(
        200, headers={"Content-Type": "text/plain; charset=latin-1"}, content=b"caf\xe9"
    )
    assert latin.headers.getall("content-type") == ["text/plain; charset=latin-1"]
    assert await latin.text() == "caf\u00e9"


async def test_json_none_is_null_and_no_body_has_no_length() -> None:
    assert await Response(json=None).content() == b"null"
    empty = Response(204)
    assert empty.raw_headers == [] and empty.reason == "No Content"
    assert await empty.content() == b""
    assert [chunk async for chunk in Response(204).read_chunks()] == []


async def test_header_pairs_cookies_and_own_length_kept() -> None:
    response = Response(
        200,
        headers=[
            ("Set-Cookie", "a=1; Path=/"),
            (b"set-cookie", b"b=2"),
            ("Content-Length", "2"),
            ("X-Name", "\u00fcber"),
        ],
        content=b"ok",
    )
    assert response.headers.getall("set-cookie") == ["a=1; Path=/", "b=2"]
    assert response.headers["x-name"] == "\u00fcber"  # UTF-8 round trip, as from the wire
    assert [name for name, _ in response.raw_headers].count(b"Content-Length") == 1
    cookies = response.cookies
    assert cookies is not None and cookies["a"].value == "1" and cookies["b"].value == "2"


async def test_gzip_and_deflate_bodies_are_decoded_on_reading() -> None:
    payload = b"hello " * 1000
    response = Response(headers={"Content-Encoding": "gzip"}, content=gzip.compress(payload))
    assert await response.content() == payload
    chunked = Response(
        headers={"content-encoding": "deflate"}, stream=[zlib.compress(payload)[:10],
                                                         zlib.compress(payload)[10:]]
    )
    assert b"".join([chunk async for chunk in chunked.read_chunks()]) == payload
    broken = Response(headers={"Content-Encoding": "gzip"}, content=b"not gzip")
    with pytest.raises(DecompressionError):
        await broken.content()


async def test_async_stream_is_read_piece_by_piece() -> None:
    pulled: list[int] = []

    async def pieces() -> AsyncIterator[bytes]:
        for number in range(3):
            pulled.append(number)
            yield b"line %d\n" % number

    response = Response(200, stream=pieces())
    assert response.chunked and response.headers["transfer-encoding"] == "chunked"
    assert pulled == []  # nothing is read before somebody reads
    seen = []
    async for chunk in response.read_chunks():
        seen.append((chunk, list(pulled)))
    assert seen == [(b"line 0\n", [0]), (b"line 1\n", [0, 1]), (b"line 2\n", [0, 1, 2])]
    with pytest.raises(ResponseConsumed):
        await response.read_chunks().__anext__()


async def test_sync_stream_iter_lines_and_content() -> None:
    response = Response(stream=iter([b"a\r", b"\nb\n", b"tail"]))
    assert [line async for line in response.iter_lines()] == ["a", "b", "tail"]
    joined = Response(stream=[b"x", b"", bytearray(b"y")], http_version="2")
    assert joined.reason == "" and "transfer-encoding" not in joined.headers
    assert await joined.content() == b"xy"
    assert await joined.content() == b"xy"  # kept once read whole


async def test_stream_error_reaches_every_reader() -> None:
    async def failing() -> AsyncIterator[bytes]:
        yield b"first"
        raise RuntimeError("source broke")

    response = Response(stream=failing())
    chunks = []
    with pytest.raises(RuntimeError, match="source broke"):
        async for chunk in response.read_chunks():
            chunks.append(chunk)
    assert chunks == [b"first"]
    again = Response(stream=failing())
    with pytest.raises(RuntimeError, match="source broke"):
        await again.content()
    with pytest.raises(RuntimeError, match="source broke"):
        await again.content()


async def test_non_bytes_piece_is_a_type_error() -> None:
    closed = []

    def pieces() -> Iterator[object]:
        try:
            yield b"ok"
            yield "text"
            yield b"never"
        finally:
            closed.append(True)

    response = Response(stream=pieces())  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="str, not bytes"):
        await response.content()
    assert closed == [True]


async def test_discard_closes_async_stream_and_later_reads_fail() -> None:
    events: list[str] = []

    async def endless() -> AsyncIterator[bytes]:
        try:
            while True:
                yield b"x" * 100
        finally:
            events.append("closed")

    response = Response(stream=endless())
    reader = response.read_chunks()
    assert await reader.__anext__() == b"x" * 100
    await reader.aclose()
    await response.aclose()
    assert events == ["closed"]
    unread = Response(stream=endless())
    await unread.discard()
    with pytest.raises(ConnectionDisconnected, match="discarded"):
        await unread.content()


async def test_breaking_out_of_a_sync_stream_closes_it() -> None:
    events: list[str] = []

    def pieces() -> Iterator[bytes]:
        try:
            yield from (b"a", b"b", b"c")
        finally:
            events.append("closed")

    response = Response(stream=pieces())
    reader = response.read_chunks()
    assert await reader.__anext__() == b"a"
    await reader.aclose()  # what `break` in `async for` does
    assert events == ["closed"]


async def test_raise_for_status() -> None:
    assert Response(204).raise_for_status().status_code == 204
    with pytest.raises(HTTPStatusError) as info:
        Response(503, text="down").raise_for_status()
    assert info.value.status_code == 503
    assert str(info.value).startswith("503 Service Unavailable (server error)")
    assert Response(599).reason == "" and Response(299, reason="Fine").reason == "Fine"


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"content": b"a", "text": "b"}, ValueError, "content and text"),
        ({"json": 1, "stream": [b"a"]}, ValueError, "json and stream"),
        ({"status_code": 42}, ValueError, "between 100 and 999"),
        ({"status_code": "200"}, TypeError, "must be an int"),
        ({"status_code": True}, TypeError, "must be an int"),
        ({"headers": {"X": "a\r\nInjected: 1"}}, ValueError, "CR, LF or NUL"),
        ({"headers": {"Bad Name": "v"}}, ValueError, "not a valid token"),
        ({"headers": [("X", 1)]}, TypeError, "str or bytes"),
        ({"content": "text"}, TypeError, "content must be bytes"),
        ({"text": b"raw"}, TypeError, "text must be a str"),
        ({"stream": b"bytes"}, TypeError, "pass bytes as content="),
        ({"stream": 5}, TypeError, "iterable of bytes"),
    ],
)
def test_bad_arguments_are_refused(kwargs: dict[str, object], error: type, match: str) -> None:
    with pytest.raises(error, match=match):
        Response(**kwargs)  # type: ignore[arg-type]
