"""URLs as the WHATWG parser and yarl send them: dot segments removed (RFC 3986 5.2.4), a
stray ``%`` escaped, and CR, LF, TAB or NUL refused instead of silently dropped. What goes
out is seen by a scripted server."""

from __future__ import annotations

import asyncio

import pytest
from support.raw import read_request, simple_response

from aiosonic._url import remove_dot_segments
from aiosonic.exceptions import InvalidRequest, InvalidURL


@pytest.mark.parametrize(
    ("path", "removed"),
    [
        ("/a/../b/./c", "/b/c"),
        ("/a/b/..", "/a/"),
        ("/a/./", "/a/"),
        ("/..", "/"),
        ("/a/b/../../..", "/"),
        ("/a/%2e%2E/b", "/b"),
        ("/a/.%2e/b", "/b"),
        ("/a//../b", "/a/b"),
        ("/a.b/c..d/.e", "/a.b/c..d/.e"),
        ("/", "/"),
    ],
)
def test_dot_segments(path: str, removed: str) -> None:
    assert remove_dot_segments(path) == removed


def echo_target():
    seen: list[str] = []

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while (request := await read_request(reader)) is not None:
            seen.append(request.target)
            writer.write(simple_response(b"ok"))
            await writer.drain()

    return seen, handler


@pytest.mark.parametrize(
    ("path", "sent"),
    [
        ("/a/../b/./c", "/b/c"),
        ("/files/../../etc/passwd", "/etc/passwd"),
        ("/100%/done", "/100%25/done"),
        ("/ok%20space?q=50%&r=%41", "/ok%20space?q=50%25&r=%41"),
    ],
)
async def test_what_goes_out(raw_server, client, path: str, sent: str) -> None:
    seen, handler = echo_target()
    srv = await raw_server(handler=handler)
    assert (await client.get(srv.url(path))).status_code == 200
    assert seen == [sent]


@pytest.mark.parametrize("bad", ["/a\r\nX-Injected: 1", "/a\nb", "/a\tb", "/a\0b", "/a\r"])
async def test_control_characters_are_refused_not_dropped(raw_server, client, bad: str) -> None:
    seen, handler = echo_target()
    srv = await raw_server(handler=handler)
    with pytest.raises(InvalidURL, match="CR, LF, TAB or NUL") as info:
        await client.get(srv.url("/") + bad[1:])
    assert isinstance(info.value, InvalidRequest)
    assert seen == []
    assert srv.connections == 0
