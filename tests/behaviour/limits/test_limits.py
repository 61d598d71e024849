"""Limits against hostile responses, with real servers: defaults and custom ``Limits``."""

from __future__ import annotations

import asyncio
import time
import zlib

import pytest
from aiohttp import web

import aiosonic
from aiosonic.exceptions import DecompressionError, HttpParsingError


def gzip_zeros(size: int) -> bytes:
    """``size`` zero bytes, gzip-compressed, built without holding them all."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, 31)
    block = bytes(1024 * 1024)
    parts = [compressor.compress(block) for _ in range(size // len(block))]
    parts.append(compressor.flush())
    return b"".join(parts)


@pytest.fixture(scope="module")
def bomb() -> bytes:
    return gzip_zeros(512 * 1024 * 1024)  # 512 MB of zeros in about 500 KB


async def serve(handler) -> tuple[web.AppRunner, str]:
    app = web.Application()
    app.router.add_get("/", handler)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    return runner, f"http://127.0.0.1:{port}/"


@pytest.mark.parametrize("read", ["content", "read_chunks"])
async def test_gzip_bomb_fails_fast(bomb: bytes, read: str) -> None:
    assert len(bomb) < 600_000

    async def handler(request: web.Request) -> web.Response:
        return web.Response(body=bomb, headers={"Content-Encoding": "gzip"})

    runner, url = await serve(handler)
    try:
        async with aiosonic.HTTPClient() as client:
            response = await client.get(url)
            started = time.monotonic()
            with pytest.raises(DecompressionError, match="more than 104857600"):
                if read == "content":
                    await response.content()
                else:
                    async for _ in response.read_chunks():
                        pass
            assert time.monotonic() - started < 5
            small = aiosonic.Limits(max_decompressed_size=1024 * 1024)
            async with aiosonic.HTTPClient(aiosonic.TCPConnector(limits=small)) as strict:
                response = await strict.get(url)
                with pytest.raises(DecompressionError, match="more than 1048576"):
                    await response.content()
    finally:
        await runner.cleanup()


async def test_custom_head_limits(raw_server) -> None:
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while await reader.readuntil(b"\r\n\r\n"):
            writer.write(
                b"HTTP/1.1 200 OK\r\n" + b"X-A: 1\r\n" * 20 + b"Content-Length: 2\r\n\r\nok"
            )

    srv = await raw_server(handler=handler)
    async with aiosonic.HTTPClient() as client:
        assert await (await client.get(srv.url("/"))).content() == b"ok"
    few = aiosonic.TCPConnector(limits=aiosonic.Limits(max_headers=10))
    async with aiosonic.HTTPClient(few) as client:
        with pytest.raises(HttpParsingError, match="more than 10 headers"):
            await client.get(srv.url("/"))
    small = aiosonic.TCPConnector(limits=aiosonic.Limits(max_head_size=100))
    async with aiosonic.HTTPClient(small) as client:
        with pytest.raises(HttpParsingError, match="larger than 100 bytes"):
            await client.get(srv.url("/"))


async def test_long_status_line_is_refused(raw_server) -> None:
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        writer.write(b"HTTP/1.1 200 " + b"O" * 9000 + b"\r\nContent-Length: 0\r\n\r\n")

    srv = await raw_server(handler=handler)
    async with aiosonic.HTTPClient() as client:
        with pytest.raises(HttpParsingError, match="status line longer than 8192"):
            await client.get(srv.url("/"))


def test_limits_value_object() -> None:
    assert aiosonic.Limits() == aiosonic.Limits(65536, 128, 8192, 100 * 1024 * 1024, 2)
    assert "max_headers=128" in repr(aiosonic.Limits())
    with pytest.raises(ValueError, match="max_headers"):
        aiosonic.Limits(max_headers=0)


async def test_upload_to_a_server_that_stops_reading_times_out_as_such(raw_server) -> None:
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        await asyncio.sleep(10)  # never reads the body: the client's writes back up

    async def body():
        block = bytes(1024 * 1024)
        for _ in range(200):
            yield block

    srv = await raw_server(handler=handler)
    async with aiosonic.HTTPClient() as client:
        started = time.monotonic()
        with pytest.raises(aiosonic.exceptions.RequestTimeout):
            await client.post(srv.url("/"), data=body(),
                              timeouts=aiosonic.Timeouts(request_timeout=0.5))
        assert time.monotonic() - started < 3
        assert client.connector.pool.is_all_free()


async def test_the_client_sets_the_decompression_limit_as_upstream_1x_does() -> None:
    body = gzip_zeros(2 * 1024 * 1024)

    async def handler(request: web.Request) -> web.Response:
        return web.Response(body=body, headers={"Content-Encoding": "gzip"})

    runner, url = await serve(handler)
    try:
        # One connector shared by two clients: the limit is the client's, not the pool's.
        async with aiosonic.HTTPClient(max_decompressed_size=42) as strict:
            lenient = aiosonic.HTTPClient(strict.connector)
            response = await strict.get(url)
            with pytest.raises(DecompressionError, match="more than 42 bytes"):
                await response.content()
            assert len(await (await lenient.get(url)).content()) == 2 * 1024 * 1024
        async with aiosonic.HTTPClient(max_decompressed_size=4 * 1024 * 1024) as roomy:
            assert len(await (await roomy.get(url)).content()) == 2 * 1024 * 1024
            # A request's own limit wins over the client's (as upstream 1.x's argument).
            response = await roomy.get(url, max_decompressed_size=1000)
            with pytest.raises(DecompressionError, match="more than 1000 bytes"):
                await response.content()
            with pytest.raises(ValueError, match="max_decompressed_size must be a positive"):
                await roomy.get(url, max_decompressed_size=0)
    finally:
        await runner.cleanup()


@pytest.mark.parametrize("value", [0, -1, True, 1.5, "42"])
def test_a_bad_client_decompression_limit_is_refused(value: object) -> None:
    with pytest.raises(ValueError, match="max_decompressed_size must be a positive int"):
        aiosonic.HTTPClient(max_decompressed_size=value)  # type: ignore[arg-type]
