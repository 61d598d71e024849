"""Keep-alive, pools, connection limits and concurrency, observed from the server side."""

from __future__ import annotations

import asyncio
import base64

import pytest
from support.app import loads, payload
from support.raw import read_request, simple_response
from support.waits import eventually, pooled_protocols

import aiosonic
from aiosonic.pools import CyclicQueuePool, SmartPool


async def port_of(client, url: str) -> int:
    resp = await client.get(url)
    assert resp.status_code == 200
    return int(loads(await resp.content())["port"])


# ------------------------------------------------------------------------------- keep-alive


async def test_keep_alive_reuses_one_connection_smart_pool(server, make_client):
    client, connector = make_client(pool_cls=SmartPool)
    assert isinstance(connector.pool, SmartPool)
    ports = [await port_of(client, server.url("/echo")) for _ in range(6)]
    assert len(set(ports)) == 1, ports


async def test_default_pool_is_smart_pool_and_reuses(server, client):
    ports = [await port_of(client, server.url("/echo")) for _ in range(4)]
    assert len(set(ports)) == 1, ports


async def test_keep_alive_reuses_one_connection_cyclic_pool(server, make_client):
    client, connector = make_client(pool_cls=CyclicQueuePool, pool_size=1)
    assert isinstance(connector.pool, CyclicQueuePool)
    ports = [await port_of(client, server.url("/echo")) for _ in range(6)]
    assert len(set(ports)) == 1, ports


@pytest.mark.parametrize("pool_cls", [SmartPool, CyclicQueuePool])
async def test_sequential_requests_never_open_more_than_pool_size(server, make_client, pool_cls):
    client, _ = make_client(pool_cls=pool_cls, pool_size=3)
    ports = [await port_of(client, server.url("/echo")) for _ in range(12)]
    assert len(set(ports)) <= 3, ports
    # and no port is used once and then abandoned while others are reused: every
    # connection that was opened got reused (12 requests over at most 3 connections)
    assert all(ports.count(port) >= 2 for port in set(ports)), ports


@pytest.mark.parametrize("pool_cls", [SmartPool, CyclicQueuePool])
async def test_pool_free_after_requests(server, make_client, pool_cls):
    client, connector = make_client(pool_cls=pool_cls, pool_size=4)
    for _ in range(3):
        await (await client.get(server.url("/echo"))).content()
    assert connector.pool.is_all_free()
    assert connector.pool.free_conns() == 4


async def test_conn_max_requests_rotates_connections(server, make_client):
    client, _ = make_client(conn_max_requests=2)
    ports = [await port_of(client, server.url("/echo")) for _ in range(6)]
    assert ports[0] == ports[1], ports
    assert ports[2] == ports[3], ports
    assert ports[4] == ports[5], ports
    assert len({ports[0], ports[2], ports[4]}) == 3, ports


async def test_conn_max_requests_one_means_no_reuse(server, make_client):
    client, _ = make_client(conn_max_requests=1)
    ports = [await port_of(client, server.url("/echo")) for _ in range(4)]
    assert len(set(ports)) == 4, ports


async def test_server_connection_close_forces_a_new_connection(server, client):
    before = await port_of(client, server.url("/echo"))
    closing = await port_of(client, server.url("/close"))
    assert closing == before  # the keep-alive connection served /close ...
    after = await port_of(client, server.url("/echo"))
    assert after != closing  # ... and was not reused after "Connection: close"
    again = await port_of(client, server.url("/echo"))
    assert again == after


async def test_http10_response_without_keep_alive_is_not_reused(raw_server, client):
    async def respond(request):
        return b"HTTP/1.0 200 OK\r\nContent-Length: 4\r\n\r\nv1.0"

    srv = await raw_server(respond=respond)
    for _ in range(3):
        resp = await client.get(srv.url("/"))
        assert resp.http_version == "1.0"
        assert await resp.content() == b"v1.0"
    assert srv.connections == 3


@pytest.mark.parametrize(
    "first_reply",
    [
        b"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 5\r\n\r\nfirst",
        b"HTTP/1.0 200 OK\r\nContent-Length: 5\r\n\r\nfirst",
        b"HTTP/1.1 200 OK\r\nConnection: Close\r\nContent-Length: 5\r\n\r\nfirst",
    ],
    ids=["connection-close", "http10", "connection-close-mixed-case"],
)
async def test_no_reuse_after_close_even_if_server_keeps_socket_open(
    raw_server, client, first_reply
):
    # The server says the connection is done but leaves the socket open; anything sent on
    # it afterwards gets a reply that must never be seen.
    async def handler(reader, writer):
        served = 0
        while (request := await read_request(reader)) is not None:
            if served == 0:
                writer.write(first_reply)
            else:
                writer.write(simple_response(b"reused " + request.target.encode()))
            served += 1
            await writer.drain()

    srv = await raw_server(handler=handler)
    resp = await client.get(srv.url("/one"))
    assert await resp.content() == b"first"
    resp = await client.get(srv.url("/two"))
    assert await resp.content() == b"first"
    assert srv.connections == 2


async def test_keep_alive_connection_closed_by_server_while_idle(raw_server, client):
    # The server answers one request per connection and then silently closes it (no
    # "Connection: close" header). The next request must still succeed.
    closed = asyncio.Event()

    async def handler(reader, writer):
        request = await read_request(reader)
        assert request is not None
        writer.write(simple_response(request.target.encode()))
        await writer.drain()
        writer.close()
        await writer.wait_closed()
        closed.set()

    srv = await raw_server(handler=handler)
    assert await (await client.get(srv.url("/one"))).content() == b"/one"
    (idle,) = pooled_protocols(client)
    await asyncio.wait_for(closed.wait(), 5)
    await eventually(lambda: idle.is_closed)  # the client saw the FIN while idle
    assert await (await client.get(srv.url("/two"))).content() == b"/two"
    assert await (await client.get(srv.url("/three"))).content() == b"/three"
    assert srv.connections == 3


async def test_keep_alive_stale_connection_is_retried_transparently(raw_server, client):
    # Same as above but the close races with the next request: no sleep in between.
    async def handler(reader, writer):
        request = await read_request(reader)
        assert request is not None
        writer.write(simple_response(request.target.encode()))
        await writer.drain()

    srv = await raw_server(handler=handler)
    for i in range(5):
        assert await (await client.get(srv.url(f"/{i}"))).content() == f"/{i}".encode()
    assert srv.connections == 5


async def test_a_stale_retry_goes_to_a_new_connection_not_another_idle_one(
    raw_server, make_client
):
    # Like a proxy that drops its kept-alive connections unannounced (tinyproxy): every
    # connection answers one request and closes on the next one without answering. The
    # retry of a request that met such a connection must not meet another one.
    async def handler(reader, writer):
        request = await read_request(reader)
        assert request is not None
        writer.write(simple_response(request.target.encode()))
        await writer.drain()
        await read_request(reader)  # the next request on this connection: never answered
        writer.close()

    srv = await raw_server(handler=handler)
    client, _ = make_client(pool_size=4)
    first = await asyncio.gather(*(client.get(srv.url(f"/a{i}")) for i in range(4)))
    assert [await r.content() for r in first] == [f"/a{i}".encode() for i in range(4)]
    assert srv.connections == 4  # four idle connections, each of them good for nothing now
    for i in range(4):
        assert await (await client.get(srv.url(f"/b{i}"))).content() == f"/b{i}".encode()
    assert srv.connections == 8  # each request met one dead connection, then dialed anew
    with pytest.raises(aiosonic.exceptions.ConnectionDisconnected):
        # Never for a POST: it is not sent twice.
        await client.post(srv.url("/c"), data=b"x")


@pytest.mark.parametrize(
    "path", ["/stream/300000", "/compressed/gzip?n=100000", "/compressed/deflate?chunked=1"]
)
async def test_connection_reused_after_chunked_or_compressed_body(server, client, path):
    first = await port_of(client, server.url("/echo"))
    resp = await client.get(server.url(path))
    assert len(await resp.content()) > 0
    assert await port_of(client, server.url("/echo")) == first


async def test_unread_body_does_not_corrupt_the_next_response(server, client):
    # The first response is never read; the next request must still get its own body.
    await client.get(server.url("/bytes/100000"))
    resp = await client.get(server.url("/json"))
    assert resp.status_code == 200
    assert loads(await resp.content())["name"] == "aiosonic"


async def test_requests_to_two_servers_use_separate_connections(server, raw_server, client):
    async def respond(request):
        return simple_response(b"raw")

    srv = await raw_server(respond=respond)
    for _ in range(3):
        assert (await (await client.get(srv.url("/"))).content()) == b"raw"
        assert loads(await (await client.get(server.url("/echo"))).content())["method"] == "GET"
    assert srv.connections == 1
    assert len(set(server.state.ports)) == 1


async def test_head_returns_promptly_and_connection_is_reused(server, client):
    first = await port_of(client, server.url("/echo"))
    resp = await asyncio.wait_for(client.request(server.url("/echo"), method="HEAD"), 2)
    assert resp.status_code == 200
    assert int(resp.headers["Content-Length"]) > 0
    assert await asyncio.wait_for(resp.content(), 2) == b""
    assert await port_of(client, server.url("/echo")) == first
    assert server.state.ports == [first, first, first]


@pytest.mark.parametrize("code", [204, 304])
async def test_bodyless_status_returns_promptly_and_connection_is_reused(server, client, code):
    first = await port_of(client, server.url("/echo"))
    resp = await asyncio.wait_for(client.get(server.url(f"/status/{code}")), 2)
    assert resp.status_code == code
    assert resp.headers["X-Port"] == str(first)
    if code == 304:
        assert resp.headers["ETag"] == '"v1"'
    assert await asyncio.wait_for(resp.content(), 2) == b""
    assert await port_of(client, server.url("/echo")) == first


async def test_bodyless_responses_streamed_with_read_chunks(server, client):
    first = await port_of(client, server.url("/echo"))
    for method, path in (("HEAD", "/echo"), ("GET", "/status/204"), ("GET", "/status/304")):
        resp = await client.request(server.url(path), method=method)
        chunks = await asyncio.wait_for(_collect(resp), 2)
        assert chunks == b""
    assert await port_of(client, server.url("/echo")) == first


async def _collect(resp) -> bytes:
    return b"".join([chunk async for chunk in resp.read_chunks()])


# ------------------------------------------------------------------------------- concurrency


@pytest.mark.parametrize("pool_cls", [SmartPool, CyclicQueuePool])
async def test_pool_size_bounds_concurrency(server, make_client, pool_cls):
    client, connector = make_client(pool_size=2, pool_cls=pool_cls)

    async def one(i: int) -> dict:
        resp = await client.get(server.url("/slow"), params={"delay": "0.05", "i": str(i)})
        return loads(await resp.content())

    docs = await asyncio.gather(*(one(i) for i in range(10)))
    assert [doc["query"] for doc in docs] == [f"delay=0.05&i={i}" for i in range(10)]
    assert server.state.slow_finished == 10
    assert server.state.max_in_flight == 2
    assert len({doc["port"] for doc in docs}) <= 2
    assert connector.pool.is_all_free()


@pytest.mark.parametrize("pool_cls", [SmartPool, CyclicQueuePool])
async def test_300_concurrent_requests_get_their_own_answers(server, make_client, pool_cls):
    client, connector = make_client(pool_cls=pool_cls)

    async def one(i: int) -> tuple[int, dict, bytes]:
        resp = await client.get(server.url("/echo"), params={"i": str(i)})
        assert resp.status_code == 200
        body = await resp.content()
        return i, loads(body), body

    results = await asyncio.gather(*(one(i) for i in range(300)))
    for i, doc, _ in results:
        assert doc["query"] == f"i={i}"
    # default pool_size is 25: never more connections than that
    assert len({doc["port"] for _, doc, _ in results}) <= 25
    assert server.state.requests == 300
    assert connector.pool.is_all_free()


async def test_300_concurrent_requests_with_varied_bodies(server, client):
    async def one(i: int) -> tuple[int, bytes]:
        body = (f"<{i}>" * (i % 37 + 1)).encode()
        resp = await client.post(server.url("/echo"), data=body, params={"i": str(i)})
        doc = loads(await resp.content())
        assert doc["query"] == f"i={i}"
        return i, base64.b64decode(doc["body_b64"])

    for i, echoed in await asyncio.gather(*(one(i) for i in range(300))):
        assert echoed == (f"<{i}>" * (i % 37 + 1)).encode()


async def test_concurrent_streams_do_not_mix(server, client):
    sizes = [200_000 + 1000 * i for i in range(8)]

    async def one(size: int) -> bytes:
        resp = await client.get(server.url(f"/stream/{size}?piece=8192"))
        got = bytearray()
        async for chunk in resp.read_chunks():
            got += chunk
            await asyncio.sleep(0)
        return bytes(got)

    bodies = await asyncio.gather(*(one(size) for size in sizes))
    for size, body in zip(sizes, bodies, strict=True):
        assert body == payload(size)


# ------------------------------------------------------------------------------- wait_requests


async def test_wait_requests_true_when_idle(server, client):
    assert await client.wait_requests(timeout=1) is True
    await (await client.get(server.url("/echo"))).content()
    assert await client.wait_requests(timeout=1) is True


async def test_wait_requests_false_while_a_request_is_in_flight(server, client):
    task = asyncio.create_task(client.get(server.url("/slow"), params={"delay": "0.5"}))
    await server.state.wait_slow_started()
    assert await client.wait_requests(timeout=0.1) is False
    resp = await task
    await resp.content()
    assert await client.wait_requests(timeout=2) is True


async def test_wait_requests_waits_for_the_request_to_finish(server, client):
    task = asyncio.create_task(client.get(server.url("/slow"), params={"delay": "0.2"}))
    await server.state.wait_slow_started()
    assert await client.wait_requests(timeout=3) is True
    assert server.state.slow_finished == 1
    resp = await task
    assert resp.status_code == 200
    await resp.content()


# ------------------------------------------------------------------------------- cancellation


async def test_cancelling_a_request_releases_its_connection(server, make_client):
    client, connector = make_client(pool_size=2)
    task = asyncio.create_task(client.get(server.url("/slow"), params={"delay": "2"}))
    await server.state.wait_slow_started()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert connector.pool.is_all_free()
    assert connector.pool.free_conns() == 2
    # the pool still has its full capacity: two concurrent requests both go through
    docs = await asyncio.gather(
        *(client.get(server.url("/slow"), params={"delay": "0.05"}) for _ in range(2))
    )
    for resp in docs:
        assert resp.status_code == 200
        await resp.content()
    assert connector.pool.is_all_free()


async def test_cancelling_many_waiters_on_a_full_pool(server, make_client):
    client, connector = make_client(pool_size=1)
    tasks = [
        asyncio.create_task(client.get(server.url("/slow"), params={"delay": "1"}))
        for _ in range(5)
    ]
    await server.state.wait_slow_started()
    for task in tasks:
        task.cancel()
    results = await asyncio.gather(*tasks, return_exceptions=True)
    assert all(isinstance(r, asyncio.CancelledError) for r in results), results
    assert connector.pool.is_all_free()
    resp = await client.get(server.url("/echo"))
    assert loads(await resp.content())["method"] == "GET"


async def test_cancelling_while_streaming_the_body(raw_server, make_client):
    client, connector = make_client(pool_size=1)

    async def handler(reader, writer):
        await reader.readuntil(b"\r\n\r\n")
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 1000000\r\n\r\n" + b"x" * 1000)
        await writer.drain()
        await asyncio.sleep(10)

    srv = await raw_server(handler=handler)
    got_data = asyncio.Event()

    async def consume() -> None:
        resp = await client.get(srv.url("/"))
        async for _ in resp.read_chunks():
            got_data.set()

    task = asyncio.create_task(consume())
    await asyncio.wait_for(got_data.wait(), 5)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    # the half-read connection is discarded, the slot is free again
    for _ in range(50):
        if connector.pool.is_all_free():
            break
        await asyncio.sleep(0.01)
    assert connector.pool.is_all_free()


async def test_client_close_is_idempotent_and_context_manager_closes(server):
    async with aiosonic.HTTPClient() as client:
        await (await client.get(server.url("/echo"))).content()
    await client.close()
