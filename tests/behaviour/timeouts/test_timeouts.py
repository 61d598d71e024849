"""Every timeout raises its own exception promptly, and the client works afterwards."""

from __future__ import annotations

import asyncio
import time

import pytest
from support.app import loads
from support.raw import FullBacklogListener, simple_response

from aiosonic.exceptions import (
    AiosonicError,
    BaseTimeout,
    ConnectionPoolAcquireTimeout,
    ConnectTimeout,
    ReadTimeout,
    RequestTimeout,
)
from aiosonic.timeout import Timeouts


def test_timeouts_value_object():
    assert Timeouts() == Timeouts(
        sock_connect=5, sock_read=30, pool_acquire=None, request_timeout=60
    )
    assert Timeouts(sock_read=1) != Timeouts(sock_read=2)
    text = repr(Timeouts(sock_connect=1.5, sock_read=None))
    assert "sock_connect=1.5" in text
    assert "sock_read=None" in text
    assert "pool_acquire" in text
    assert "request_timeout" in text


def test_timeout_exception_hierarchy():
    for cls in (ConnectTimeout, ReadTimeout, RequestTimeout, ConnectionPoolAcquireTimeout):
        assert issubclass(cls, BaseTimeout)
        assert issubclass(cls, AiosonicError)


async def silent_after_head_request(reader, writer):
    """Read the request, then never answer (until cancelled at teardown)."""
    await reader.readuntil(b"\r\n\r\n")
    await asyncio.sleep(30)


# ------------------------------------------------------------------------------- sock_connect


async def test_connect_timeout(make_client, server):
    listener = FullBacklogListener()
    try:
        if not listener.fill():
            pytest.skip("the kernel kept accepting connections; cannot provoke a connect timeout")
        client, _ = make_client(timeouts=Timeouts(sock_connect=0.3))
        started = time.monotonic()
        with pytest.raises(ConnectTimeout):
            await client.get(listener.url("/"))
        elapsed = time.monotonic() - started
        assert 0.2 < elapsed < 3, elapsed
        # the client still works against a healthy server
        resp = await client.get(server.url("/echo"))
        assert loads(await resp.content())["method"] == "GET"
    finally:
        listener.close()


async def test_connect_timeout_per_request_overrides_connector(make_client):
    listener = FullBacklogListener()
    try:
        if not listener.fill():
            pytest.skip("the kernel kept accepting connections; cannot provoke a connect timeout")
        client, _ = make_client(timeouts=Timeouts(sock_connect=30))
        started = time.monotonic()
        with pytest.raises(ConnectTimeout):
            await client.get(listener.url("/"), timeouts=Timeouts(sock_connect=0.2))
        assert time.monotonic() - started < 3
    finally:
        listener.close()


# ------------------------------------------------------------------------------- sock_read


async def test_read_timeout_waiting_for_the_head(raw_server, make_client, server):
    srv = await raw_server(handler=silent_after_head_request)
    client, connector = make_client(timeouts=Timeouts(sock_read=0.3))
    started = time.monotonic()
    with pytest.raises(ReadTimeout):
        await client.get(srv.url("/"))
    elapsed = time.monotonic() - started
    assert 0.2 < elapsed < 3, elapsed
    assert connector.pool.is_all_free()
    resp = await client.get(server.url("/echo"))
    assert loads(await resp.content())["method"] == "GET"


async def test_read_timeout_per_request(raw_server, client):
    srv = await raw_server(handler=silent_after_head_request)
    started = time.monotonic()
    with pytest.raises(ReadTimeout):
        await client.get(srv.url("/"), timeouts=Timeouts(sock_read=0.2))
    assert time.monotonic() - started < 3


async def test_read_timeout_in_the_middle_of_the_body(raw_server, make_client):
    async def handler(reader, writer):
        await reader.readuntil(b"\r\n\r\n")
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n" + b"a" * 40)
        await writer.drain()
        await asyncio.sleep(30)

    srv = await raw_server(handler=handler)
    client, connector = make_client(timeouts=Timeouts(sock_read=0.3))
    resp = await client.get(srv.url("/"))
    assert resp.status_code == 200
    started = time.monotonic()
    with pytest.raises(ReadTimeout):
        await resp.content()
    assert time.monotonic() - started < 3
    assert connector.pool.is_all_free()


async def test_read_timeout_while_streaming(raw_server, make_client):
    async def handler(reader, writer):
        await reader.readuntil(b"\r\n\r\n")
        writer.write(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n")
        await writer.drain()
        await asyncio.sleep(30)

    srv = await raw_server(handler=handler)
    client, _ = make_client(timeouts=Timeouts(sock_read=0.3))
    resp = await client.get(srv.url("/"))
    got = bytearray()
    with pytest.raises(ReadTimeout):
        async for chunk in resp.read_chunks():
            got += chunk
    assert bytes(got) == b"hello"


async def test_slow_but_steady_server_is_not_a_read_timeout(raw_server, make_client):
    # Each gap (0.1 s) is shorter than sock_read (0.3 s) although the total (~0.6 s) is longer.
    async def handler(reader, writer):
        await reader.readuntil(b"\r\n\r\n")
        await asyncio.sleep(0.1)
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n")
        for byte in b"slow!":
            await asyncio.sleep(0.1)
            writer.write(bytes([byte]))
            await writer.drain()
        await reader.read()

    srv = await raw_server(handler=handler)
    client, _ = make_client(timeouts=Timeouts(sock_read=0.3, request_timeout=10))
    resp = await client.get(srv.url("/"))
    assert await resp.content() == b"slow!"


async def test_a_long_upload_is_not_a_read_timeout(raw_server, make_client):
    """sock_read is the server's silence while we wait on it: an upload that takes longer
    than sock_read (the server answers once it has the whole body) must not time out."""

    async def handler(reader, writer):
        await reader.readuntil(b"\r\n\r\n")
        await reader.readuntil(b"0\r\n\r\n")  # the whole chunked body
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
        await writer.drain()
        await reader.read()

    async def slow_body():
        for _ in range(10):
            await asyncio.sleep(0.05)  # 0.5 s in all, against sock_read=0.25
            yield b"x" * 1024

    srv = await raw_server(handler=handler)
    client, _ = make_client(timeouts=Timeouts(sock_read=0.25, request_timeout=10))
    started = time.monotonic()
    resp = await client.post(srv.url("/"), data=slow_body())
    assert await resp.content() == b"ok"
    assert time.monotonic() - started > 0.25  # the upload really outlasted sock_read


async def test_late_response_after_read_timeout_is_not_delivered_to_the_next_request(
    raw_server, make_client
):
    """After a timeout the connection is discarded, so a stale reply cannot leak."""

    timed_out = asyncio.Event()
    late_reply_sent = asyncio.Event()

    async def respond(request):
        if request.target == "/slow":
            await timed_out.wait()  # answer only once the client has given up
            late_reply_sent.set()
            return simple_response(b"stale reply for /slow")
        return simple_response(b"fresh reply for " + request.target.encode())

    srv = await raw_server(respond=respond)
    client, connector = make_client(pool_size=1)
    with pytest.raises(ReadTimeout):
        await client.get(srv.url("/slow"), timeouts=Timeouts(sock_read=0.2))
    timed_out.set()
    await asyncio.wait_for(late_reply_sent.wait(), 5)  # the late reply goes to the old one
    await asyncio.sleep(0)  # let the server's write of it run
    resp = await client.get(srv.url("/fast"))
    assert await resp.content() == b"fresh reply for /fast"
    assert srv.connections == 2
    assert connector.pool.is_all_free()


# ------------------------------------------------------------------------------- pool_acquire


async def test_pool_acquire_timeout(server, make_client):
    client, connector = make_client(pool_size=1, timeouts=Timeouts(pool_acquire=0.2))
    busy = asyncio.create_task(client.get(server.url("/slow"), params={"delay": "0.6"}))
    await server.state.wait_slow_started()
    started = time.monotonic()
    with pytest.raises(ConnectionPoolAcquireTimeout):
        await client.get(server.url("/echo"))
    elapsed = time.monotonic() - started
    assert 0.1 < elapsed < 0.55, elapsed
    resp = await busy
    assert resp.status_code == 200
    await resp.content()
    # the pool is intact: the one connection is free and usable
    assert connector.pool.is_all_free()
    resp = await client.get(server.url("/echo"))
    assert loads(await resp.content())["method"] == "GET"


async def test_pool_acquire_waits_when_a_connection_frees_in_time(server, make_client):
    client, _ = make_client(pool_size=1, timeouts=Timeouts(pool_acquire=2))
    busy = asyncio.create_task(client.get(server.url("/slow"), params={"delay": "0.2"}))
    await server.state.wait_slow_started()

    async def finish_busy() -> None:
        await (await busy).content()

    second, _ = await asyncio.gather(client.get(server.url("/echo")), finish_busy())
    assert loads(await second.content())["method"] == "GET"


# ------------------------------------------------------------------------------- request_timeout


async def trickle(reader, writer):
    """Answer with a 20-byte body, one byte every 50 ms (about 1 s in total)."""
    await reader.readuntil(b"\r\n\r\n")
    writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 20\r\n\r\n")
    await writer.drain()
    for _ in range(20):
        await asyncio.sleep(0.05)
        writer.write(b"t")
        await writer.drain()
    await reader.read()


async def test_request_timeout_on_a_trickling_body(raw_server, make_client, server):
    srv = await raw_server(handler=trickle)
    client, connector = make_client(timeouts=Timeouts(sock_read=5, request_timeout=0.3))
    started = time.monotonic()
    with pytest.raises(RequestTimeout):
        resp = await client.get(srv.url("/"))
        await resp.content()
    elapsed = time.monotonic() - started
    assert 0.2 < elapsed < 0.9, elapsed
    assert connector.pool.is_all_free()
    resp = await client.get(server.url("/echo"))
    assert loads(await resp.content())["method"] == "GET"


async def test_request_timeout_on_a_trickling_body_with_read_chunks(raw_server, make_client):
    srv = await raw_server(handler=trickle)
    client, _ = make_client(timeouts=Timeouts(sock_read=5, request_timeout=0.3))
    started = time.monotonic()
    got = bytearray()
    with pytest.raises(RequestTimeout):
        resp = await client.get(srv.url("/"))
        async for chunk in resp.read_chunks():
            got += chunk
    assert time.monotonic() - started < 0.9
    assert 0 < len(got) < 20


async def test_request_timeout_per_request_overrides(raw_server, client):
    srv = await raw_server(handler=trickle)
    with pytest.raises(RequestTimeout):
        resp = await client.get(srv.url("/"), timeouts=Timeouts(request_timeout=0.2))
        await resp.content()


async def test_request_timeout_waiting_for_the_head(raw_server, make_client):
    srv = await raw_server(handler=silent_after_head_request)
    client, _ = make_client(timeouts=Timeouts(sock_read=10, request_timeout=0.3))
    started = time.monotonic()
    with pytest.raises(RequestTimeout):
        await client.get(srv.url("/"))
    assert time.monotonic() - started < 2


async def test_trickling_body_completes_without_request_timeout(raw_server, make_client):
    srv = await raw_server(handler=trickle)
    client, _ = make_client(timeouts=Timeouts(sock_read=1, request_timeout=None))
    resp = await client.get(srv.url("/"))
    assert await resp.content() == b"t" * 20
