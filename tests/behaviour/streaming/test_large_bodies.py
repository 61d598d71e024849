"""Large downloads and uploads, byte-exact, and streaming with ``read_chunks()``."""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import AsyncIterator, Iterator

import pytest
from support.app import first_mismatch, loads, payload

MB = 1024 * 1024


async def test_8mb_download_with_content_length(server, client):
    resp = await client.get(server.url(f"/bytes/{8 * MB}"))
    assert resp.status_code == 200
    assert resp.headers["Content-Length"] == str(8 * MB)
    body = await resp.content()
    assert not first_mismatch(body, payload(8 * MB)), first_mismatch(body, payload(8 * MB))


async def test_8mb_download_streamed_with_read_chunks(server, client):
    resp = await client.get(server.url(f"/bytes/{8 * MB}"))
    chunks = []
    async for chunk in resp.read_chunks():
        assert isinstance(chunk, bytes)
        chunks.append(chunk)
    body = b"".join(chunks)
    assert len(chunks) > 1
    assert not first_mismatch(body, payload(8 * MB)), first_mismatch(body, payload(8 * MB))


async def test_8mb_chunked_download(server, client):
    resp = await client.get(server.url(f"/stream/{8 * MB}"))
    assert "chunked" in resp.headers["Transfer-Encoding"].lower()
    body = await resp.content()
    assert not first_mismatch(body, payload(8 * MB)), first_mismatch(body, payload(8 * MB))


async def test_chunked_download_streamed_with_small_pieces(server, client):
    size = 300_000
    resp = await client.get(server.url(f"/stream/{size}?piece=1000"))
    chunks = [chunk async for chunk in resp.read_chunks()]
    assert len(chunks) > 1
    assert b"".join(chunks) == payload(size)


async def test_read_chunks_of_a_small_body(server, client):
    resp = await client.get(server.url("/bytes/10"))
    chunks = [chunk async for chunk in resp.read_chunks()]
    assert b"".join(chunks) == payload(10)
    assert all(chunks), "read_chunks() must not yield empty chunks"
    # Streamed away: asking for the whole body now is an error, not a silent b"".
    from aiosonic.response import ResponseConsumed

    with pytest.raises(ResponseConsumed):
        await resp.content()


async def test_a_body_read_after_its_chunks_is_a_connection_error(server, client):
    # Upstream programs catch ConnectionError there.
    from aiosonic import exceptions, response

    resp = await client.get(server.url("/bytes/10"))
    assert b"".join([chunk async for chunk in resp.read_chunks()]) == payload(10)
    with pytest.raises(ConnectionError) as caught:
        await resp.text()
    assert isinstance(caught.value, exceptions.ResponseConsumed)
    assert response.ResponseConsumed is exceptions.ResponseConsumed


async def test_read_chunks_of_an_empty_body(server, client):
    resp = await client.get(server.url("/status/204"))
    chunks = [chunk async for chunk in resp.read_chunks()]
    assert b"".join(chunks) == b""


async def test_connection_reused_after_streamed_body(server, client):
    resp = await client.get(server.url(f"/bytes/{MB}"))
    async for _ in resp.read_chunks():
        pass
    first = loads(await (await client.get(server.url("/echo"))).content())["port"]
    second = loads(await (await client.get(server.url("/echo"))).content())["port"]
    assert first == second


async def test_long_bodies_are_read_into_a_reused_buffer_then_the_protocol_returns(
    server, make_client
):
    """Bodies over 1 MiB with a Content-Length go through _BodyReader (a BufferedProtocol);
    once the body ends the connection's own protocol reads again, and the connection is
    reused for ordinary responses."""
    from aiosonic._http11_conn import HTTP11Protocol, _BodyReader

    client, connector = make_client(pool_size=1)
    resp = await client.get(server.url(f"/bytes/{3 * MB}"))
    protocol = connector.pool.conns[0].protocol
    assert isinstance(protocol.transport.get_protocol(), _BodyReader)
    body = b"".join([chunk async for chunk in resp.read_chunks()])
    assert not first_mismatch(body, payload(3 * MB))
    assert protocol.transport.get_protocol() is protocol
    assert isinstance(protocol, HTTP11Protocol)
    ports = set()
    for _ in range(2):
        ports.add(loads(await (await client.get(server.url("/echo"))).content())["port"])
    assert len(ports) == 1 and connector.pool.conns[0].protocol is protocol


async def test_long_body_cut_short_through_the_reused_buffer(raw_server, client):
    from aiosonic.exceptions import ConnectionDisconnected

    async def handler(reader, writer):
        await reader.readuntil(b"\r\n\r\n")
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % (4 * MB))
        writer.write(payload(2 * MB))
        await writer.drain()
        writer.close()

    srv = await raw_server(handler=handler)
    resp = await client.get(srv.url("/"))
    with pytest.raises(ConnectionDisconnected, match="truncated"):
        await resp.content()


async def test_read_chunks_yields_before_the_body_is_complete(raw_server, client):
    """Streaming must hand over data as it arrives, not buffer the whole body first."""
    first_half = payload(64 * 1024, seed=1)
    second_half = payload(64 * 1024, seed=2)
    release = asyncio.Event()

    async def handler(reader, writer):
        await reader.readuntil(b"\r\n\r\n")
        total = len(first_half) + len(second_half)
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % total + first_half)
        await writer.drain()
        await release.wait()  # the rest only once the client has seen the first half
        writer.write(second_half)
        await writer.drain()
        await reader.read()

    srv = await raw_server(handler=handler)

    async def consume() -> bytes:
        resp = await client.get(srv.url("/"))
        got = bytearray()
        async for chunk in resp.read_chunks():
            got += chunk
            if len(got) >= len(first_half):
                release.set()
        return bytes(got)

    body = await asyncio.wait_for(consume(), timeout=5)
    assert body == first_half + second_half


async def test_5mb_upload_with_content_length(server, client):
    data = payload(5 * MB, seed=7)
    resp = await client.post(server.url("/upload"), data=data)
    doc = loads(await resp.content())
    assert doc["length"] == len(data)
    assert doc["sha256"] == hashlib.sha256(data).hexdigest()
    assert doc["content_length"] == str(len(data))
    assert doc["chunked"] is None


async def test_several_mb_chunked_upload_from_async_generator(server, client):
    pieces = [payload(64 * 1024, seed=i) for i in range(64)]  # 4 MB

    async def agen() -> AsyncIterator[bytes]:
        for piece in pieces:
            yield piece
            await asyncio.sleep(0)

    resp = await client.post(server.url("/upload"), data=agen())
    doc = loads(await resp.content())
    expected = b"".join(pieces)
    assert "chunked" in (doc["chunked"] or "").lower()
    assert doc["content_length"] is None
    assert doc["length"] == len(expected)
    assert doc["sha256"] == hashlib.sha256(expected).hexdigest()


async def test_chunked_upload_from_sync_generator_of_uneven_pieces(server, client):
    sizes = [1, 7, 65536, 3, 1_000_000, 12345]

    def gen() -> Iterator[bytes]:
        for i, size in enumerate(sizes):
            yield payload(size, seed=100 + i)

    expected = b"".join(payload(size, seed=100 + i) for i, size in enumerate(sizes))
    resp = await client.put(server.url("/upload"), data=gen())
    doc = loads(await resp.content())
    assert doc["length"] == len(expected)
    assert doc["sha256"] == hashlib.sha256(expected).hexdigest()


async def test_upload_then_download_on_same_client(server, client):
    data = payload(2 * MB, seed=3)
    doc = loads(await (await client.post(server.url("/upload"), data=data)).content())
    assert doc["sha256"] == hashlib.sha256(data).hexdigest()
    body = await (await client.get(server.url(f"/bytes/{2 * MB}"))).content()
    assert body == payload(2 * MB)
