"""br and zstd bodies from a real aiohttp server on loopback: what the client advertises,
plain and stacked encodings, 10 MiB streamed bodies, bombs, corrupt and truncated bodies."""

from __future__ import annotations

import asyncio
import hashlib
import random
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
import pytest_asyncio
from aiohttp import web
from support.app import HOST
from support.encoding_samples import BROTLI_LIBS, ZSTD_LIBS, br_bomb, encode, use_library, zstd_bomb
from support.raw import RawServer, read_request, simple_response

import aiosonic
from aiosonic import _decode
from aiosonic.exceptions import ConnectionDisconnected, DecompressionError

MIB = 1024 * 1024
SMALL = b"".join(b"%04d: zstd and brotli over a real socket\n" % i for i in range(2000))


def _large() -> bytes:
    line = b"%07d the quick brown fox jumps over the lazy dog\n"
    text = b"".join(line % i for i in range(160_000))
    return (text + random.Random(11).randbytes(2 * MIB))[: 10 * MIB]


LARGE = _large()


def _library_pairs() -> list[Any]:
    """Each installed library at least once, brotli ones paired with zstd ones."""
    if not (BROTLI_LIBS and ZSTD_LIBS):
        return [pytest.param(None, marks=pytest.mark.skip(reason="needs br and zstd libraries"))]
    width = max(len(BROTLI_LIBS), len(ZSTD_LIBS))
    return [
        (BROTLI_LIBS[i % len(BROTLI_LIBS)], ZSTD_LIBS[i % len(ZSTD_LIBS)]) for i in range(width)
    ]


LIBS = _library_pairs()


@pytest.fixture(params=LIBS, ids=lambda libs: "+".join(libs) if libs else "none")
def libs(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> tuple[str, str]:
    br_lib, zstd_lib = request.param
    use_library(monkeypatch, "br", br_lib)
    use_library(monkeypatch, "zstd", zstd_lib)
    return br_lib, zstd_lib


class EncodingServer:
    """Serves ``bodies[name] = (Content-Encoding, pieces)`` at ``/name``; one piece is sent
    with a Content-Length, several are streamed chunked. Records each Accept-Encoding."""

    def __init__(self) -> None:
        self.bodies: dict[str, tuple[str, list[bytes]]] = {}
        self.accept_encodings: list[str | None] = []
        self._runner: web.AppRunner | None = None
        self.port = 0

    def serve(self, name: str, content_encoding: str, *pieces: bytes) -> str:
        self.bodies[name] = (content_encoding, list(pieces))
        return f"http://{HOST}:{self.port}/{name}"

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        self.accept_encodings.append(request.headers.get("Accept-Encoding"))
        content_encoding, pieces = self.bodies[request.match_info["name"]]
        headers = {"Content-Encoding": content_encoding} if content_encoding else {}
        if len(pieces) == 1:
            return web.Response(body=pieces[0], headers=headers)
        response = web.StreamResponse(headers=headers)
        response.enable_chunked_encoding()
        await response.prepare(request)
        for piece in pieces:
            await response.write(piece)
        await response.write_eof()
        return response

    async def start(self) -> EncodingServer:
        app = web.Application()
        app.router.add_get("/{name}", self._handle)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.5)
        await self._runner.setup()
        site = web.TCPSite(self._runner, HOST, 0)
        await site.start()
        self.port = self._runner.addresses[0][1]
        return self

    async def close(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()


@pytest_asyncio.fixture
async def server() -> AsyncIterator[EncodingServer]:
    srv = await EncodingServer().start()
    try:
        yield srv
    finally:
        await srv.close()


def split(data: bytes, size: int = 65536) -> list[bytes]:
    return [data[i : i + size] for i in range(0, len(data), size)]


async def read(response: Any, how: str) -> bytes:
    if how == "content":
        return bytes(await response.content())
    return b"".join([chunk async for chunk in response.read_chunks()])


# -- what the client asks for ---------------------------------------------------------------


async def test_client_advertises_installed_encodings(
    server: EncodingServer, client: aiosonic.HTTPClient
) -> None:
    url = server.serve("plain", "", b"hello")
    assert await (await client.get(url)).content() == b"hello"
    advertised = (server.accept_encodings[-1] or "").split(", ")
    assert advertised[:2] == ["gzip", "deflate"]
    assert ("br" in advertised) == bool(BROTLI_LIBS)
    assert ("zstd" in advertised) == bool(ZSTD_LIBS)
    assert server.accept_encodings[-1] == _decode.ACCEPT_ENCODING


# -- bodies ---------------------------------------------------------------------------------

ENCODINGS = ["br", "zstd", "gzip, br", "br, zstd", "zstd, deflate"]


def _encode(content_encoding: str, data: bytes) -> bytes:
    if "deflate" not in content_encoding:
        return encode(content_encoding, data)
    import zlib

    return zlib.compress(encode(content_encoding.split(",")[0], data))


@pytest.mark.parametrize("content_encoding", ENCODINGS)
@pytest.mark.parametrize("how", ["content", "read_chunks"])
async def test_encoded_body(
    libs: tuple[str, str],
    server: EncodingServer,
    client: aiosonic.HTTPClient,
    content_encoding: str,
    how: str,
) -> None:
    encoded = _encode(content_encoding, SMALL)
    assert encoded != SMALL
    url = server.serve("small", content_encoding, encoded)
    response = await client.get(url)
    assert response.headers["content-encoding"] == content_encoding
    assert await read(response, how) == SMALL
    chunked = server.serve("chunked", content_encoding, *split(encoded, 100))
    assert await read(await client.get(chunked), how) == SMALL


@pytest.mark.parametrize("content_encoding", ["br", "zstd", "gzip, br"])
async def test_large_body_streams(
    libs: tuple[str, str],
    server: EncodingServer,
    client: aiosonic.HTTPClient,
    content_encoding: str,
) -> None:
    url = server.serve("large", content_encoding, *split(_encode(content_encoding, LARGE)))
    response = await client.get(url)
    digest = hashlib.sha256()
    sizes = []
    async for chunk in response.read_chunks():
        digest.update(chunk)
        sizes.append(len(chunk))
    assert sum(sizes) == len(LARGE)
    assert digest.digest() == hashlib.sha256(LARGE).digest()
    assert len(sizes) > 5, "decoded as it arrived, not in one piece at the end"


async def test_head_of_an_encoded_body(
    libs: tuple[str, str], server: EncodingServer, client: aiosonic.HTTPClient
) -> None:
    url = server.serve("head", "br", encode("br", SMALL))
    response = await client.request(url, method="HEAD")
    assert response.status_code == 200
    assert await response.content() == b""


# -- bombs ----------------------------------------------------------------------------------

BOMBS: dict[str, Callable[[], bytes]] = {
    "br": lambda: br_bomb(256),
    "zstd": lambda: zstd_bomb(1024),
    "zstd, gzip": lambda: encode("gzip", zstd_bomb(1024)),
}


@pytest.mark.parametrize("content_encoding", list(BOMBS))
@pytest.mark.parametrize("how", ["content", "read_chunks"])
async def test_bomb_stops_at_the_default_limit(
    libs: tuple[str, str],
    server: EncodingServer,
    client: aiosonic.HTTPClient,
    content_encoding: str,
    how: str,
) -> None:
    bomb = BOMBS[content_encoding]()
    assert len(bomb) < 64 * 1024
    url = server.serve("bomb", content_encoding, bomb)
    response = await client.get(url)
    with pytest.raises(DecompressionError, match="decompresses to more than 104857600 bytes"):
        await read(response, how)


@pytest.mark.parametrize("content_encoding", list(BOMBS))
@pytest.mark.parametrize("how", ["content", "read_chunks"])
async def test_bomb_stops_at_a_configured_limit(
    libs: tuple[str, str],
    server: EncodingServer,
    make_client: Callable[..., Any],
    content_encoding: str,
    how: str,
) -> None:
    client, _ = make_client(limits=aiosonic.Limits(max_decompressed_size=MIB))
    url = server.serve("bomb", content_encoding, *split(BOMBS[content_encoding](), 4096))
    response = await client.get(url)
    with pytest.raises(DecompressionError, match="decompresses to more than 1048576 bytes"):
        await read(response, how)
    # A body under the limit still decodes on the same client.
    small = server.serve("small", content_encoding, _encode(content_encoding, SMALL))
    assert await read(await client.get(small), how) == SMALL


# -- corrupt and truncated ------------------------------------------------------------------


@pytest.mark.parametrize("content_encoding", ["br", "zstd", "gzip, br"])
@pytest.mark.parametrize("how", ["content", "read_chunks"])
async def test_truncated_encoding_is_an_error(
    libs: tuple[str, str],
    server: EncodingServer,
    client: aiosonic.HTTPClient,
    content_encoding: str,
    how: str,
) -> None:
    # Complete HTTP framing around an incomplete compressed stream.
    encoded = _encode(content_encoding, LARGE)
    cut = server.serve("cut", content_encoding, *split(encoded[: len(encoded) - 20]))
    with pytest.raises(DecompressionError, match="ended before its end marker"):
        await read(await client.get(cut), how)
    whole = server.serve("whole", content_encoding, encoded)
    assert await read(await client.get(whole), how) == LARGE


@pytest.mark.parametrize("content_encoding", ["br", "zstd"])
@pytest.mark.parametrize("how", ["content", "read_chunks"])
async def test_corrupt_body_is_an_error(
    libs: tuple[str, str],
    server: EncodingServer,
    client: aiosonic.HTTPClient,
    content_encoding: str,
    how: str,
) -> None:
    encoded = encode(content_encoding, SMALL)
    damaged = encoded[:20] + b"\xff" * 40 + encoded[60:]
    for name, body in (("junk", b"<html>not compressed</html>" * 20), ("damaged", damaged)):
        url = server.serve(name, content_encoding, body)
        with pytest.raises(DecompressionError, match=f"invalid {content_encoding} body"):
            await read(await client.get(url), how)


@pytest.mark.parametrize("content_encoding", ["br", "zstd"])
@pytest.mark.parametrize("how", ["content", "read_chunks"])
async def test_connection_closed_mid_body(
    libs: tuple[str, str],
    raw_server: Callable[..., Any],
    client: aiosonic.HTTPClient,
    content_encoding: str,
    how: str,
) -> None:
    encoded = encode(content_encoding, LARGE)
    head = simple_response(headers=[("Content-Encoding", content_encoding)], content_length=False)
    reply = head[:-2] + b"Content-Length: %d\r\n\r\n" % len(encoded) + encoded[: len(encoded) // 2]

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        writer.write(reply)
        await writer.drain()  # and the server closes the connection

    srv: RawServer = await raw_server(handler=handler)
    response = await client.get(srv.url("/"))
    with pytest.raises(ConnectionDisconnected):
        await read(response, how)


# -- missing libraries ----------------------------------------------------------------------


@pytest.mark.parametrize(("content_encoding", "extra"), [("br", "brotli"), ("zstd", "zstd")])
@pytest.mark.parametrize("how", ["content", "read_chunks"])
async def test_body_in_an_encoding_whose_library_is_missing(
    libs: tuple[str, str],
    monkeypatch: pytest.MonkeyPatch,
    server: EncodingServer,
    client: aiosonic.HTTPClient,
    content_encoding: str,
    extra: str,
    how: str,
) -> None:
    url = server.serve("encoded", content_encoding, encode(content_encoding, SMALL))
    use_library(monkeypatch, content_encoding, "aiosonic_test_not_installed")
    response = await client.get(url)
    with pytest.raises(DecompressionError, match=rf"needs .*aiosonic\[{extra}\]"):
        await read(response, how)
    plain = server.serve("plain", "", SMALL)
    assert await read(await client.get(plain), how) == SMALL
