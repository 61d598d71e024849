"""One HTTP/2 connection per origin carries many concurrent streams; beyond the server's
SETTINGS_MAX_CONCURRENT_STREAMS, requests wait or open another connection within pool_size.

Connections are counted as the server sees them: the client port of each request."""

from __future__ import annotations

import asyncio
import json

import h2.errors
import h2.events
import h2.settings
import pytest

import aiosonic
from aiosonic.exceptions import RequestTimeout


async def test_fifty_concurrent_requests_share_one_connection(hyper, new_client, trusting_context):
    srv = await hyper()
    client = new_client()
    loop = asyncio.get_running_loop()
    started = loop.time()
    responses = await asyncio.gather(
        *(client.get(srv.url(f"/slow?delay=0.5&n={n}"), http2=True, ssl=trusting_context)
          for n in range(50))
    )
    docs = [json.loads(await resp.content()) for resp in responses]
    elapsed = loop.time() - started
    assert elapsed < 3, f"50 x 0.5 s took {elapsed:.2f} s: not concurrent"
    assert all(resp.http_version == "2" and resp.status_code == 200 for resp in responses)
    assert sorted(int(doc["query"]["n"]) for doc in docs) == list(range(50))
    # One connection, as the server saw it, with all 50 streams in flight at once on it.
    assert len(srv.state.ports) == 1
    assert {doc["port"] for doc in docs} == srv.state.ports
    assert srv.state.max_total_in_flight == 50
    # The client's registry agrees (internal detail, secondary to the server's view).
    assert sum(len(shared) for shared in client.connector.pool._multiplexed.values()) == 1


async def test_sequential_requests_reuse_the_connection(hyper, new_client, trusting_context):
    srv = await hyper()
    client = new_client()
    for n in range(10):
        resp = await client.get(srv.url(f"/echo?n={n}"), http2=True, ssl=trusting_context)
        assert json.loads(await resp.content())["query"] == f"n={n}"
    assert len(srv.state.ports) == 1


async def test_h2c_concurrent_requests_share_one_connection(hyper, new_client):
    srv = await hyper(tls=False)
    client = new_client()
    responses = await asyncio.gather(
        *(client.get(srv.url("/slow?delay=0.3"), http2=True) for _ in range(20))
    )
    for resp in responses:
        assert resp.http_version == "2"
        await resp.content()
    assert len(srv.state.ports) == 1
    assert srv.state.max_total_in_flight == 20


async def test_stream_limit_on_a_warm_connection_with_one_slot(hyper, new_client, trusting_context):
    """pool_size=1 and the server allows 5 streams: the sixth and later requests wait for
    a free stream on the one connection (three waves of 0.3 s)."""
    srv = await hyper(max_streams=5)
    client = new_client(connector={"pool_size": 1})
    warm = await client.get(
        srv.url("/echo"), http2=True, ssl=trusting_context
    )  # SETTINGS exchanged
    await warm.content()
    loop = asyncio.get_running_loop()
    started = loop.time()
    responses = await asyncio.gather(
        *(
            client.get(srv.url("/slow?delay=0.3"), http2=True, ssl=trusting_context)
            for _ in range(12)
        )
    )
    for resp in responses:
        assert resp.status_code == 200
        await resp.content()
    elapsed = loop.time() - started
    assert len(srv.state.ports) == 1
    (port,) = srv.state.ports
    assert srv.state.max_in_flight[port] == 5
    assert elapsed >= 0.8, "12 requests at 5 streams at a time need three waves"


async def test_stream_limit_from_a_cold_start_within_pool_size(hyper, new_client, trusting_context):
    """20 requests at once on no connection yet, server limit 5 streams, pool_size 2: all
    succeed, on at most 2 connections, never more than 5 streams in flight on one."""
    srv = await hyper(max_streams=5)
    client = new_client(connector={"pool_size": 2})
    responses = await asyncio.gather(
        *(client.get(srv.url(f"/slow?delay=0.3&n={n}"), http2=True, ssl=trusting_context)
          for n in range(20))
    )
    for resp in responses:
        assert resp.status_code == 200
        assert resp.http_version == "2"
        await resp.content()
    assert 1 <= len(srv.state.ports) <= 2
    assert max(srv.state.max_in_flight.values()) <= 5


async def test_stream_limit_opens_a_second_connection_when_the_pool_allows(
    hyper, new_client, trusting_context
):
    srv = await hyper(max_streams=5)
    client = new_client(connector={"pool_size": 2})
    warm = await client.get(srv.url("/echo"), http2=True, ssl=trusting_context)
    await warm.content()
    responses = await asyncio.gather(
        *(
            client.get(srv.url("/slow?delay=0.4"), http2=True, ssl=trusting_context)
            for _ in range(10)
        )
    )
    for resp in responses:
        await resp.content()
    assert len(srv.state.ports) == 2
    assert srv.state.max_total_in_flight == 10
    assert max(srv.state.max_in_flight.values()) <= 5


async def test_scripted_server_limit_is_never_exceeded(scripted, new_client):
    """A server allowing 2 streams (enforced by h2 on the server side: exceeding it is a
    protocol error) answers each request 0.1 s later; 6 requests over one connection."""

    async def scenario(peer):
        loop = asyncio.get_running_loop()

        def later(peer, request):
            request.answered = True  # scheduled: not answered twice
            loop.call_later(0.1, peer.respond, request.stream_id, b"ok")

        await peer.serve(later)

    limit = {h2.settings.SettingCodes.MAX_CONCURRENT_STREAMS: 2}
    srv = await scripted(scenario, settings=limit)
    client = new_client(connector={"pool_size": 1})
    responses = await asyncio.gather(
        *(client.get(srv.url(f"/r{n}"), http2=True) for n in range(6))
    )
    for resp in responses:
        assert resp.status_code == 200
        assert await resp.content() == b"ok"
    assert len(srv.peers) == 1
    assert srv.peers[0].max_open <= 2


async def test_different_origins_get_their_own_connections(hyper, new_client, trusting_context):
    one = await hyper()
    two = await hyper()
    client = new_client()
    responses = await asyncio.gather(
        *(client.get(srv.url("/slow?delay=0.2"), http2=True, ssl=trusting_context)
          for srv in (one, two, one, two))
    )
    for resp in responses:
        assert resp.http_version == "2"
        await resp.content()
    assert len(one.state.ports) == 1
    assert len(two.state.ports) == 1


async def test_wait_requests_after_h2_exchanges(hyper, new_client, trusting_context):
    """No request is in flight once every response was read: wait_requests says so."""
    srv = await hyper()
    client = new_client()
    responses = await asyncio.gather(
        *(client.get(srv.url("/echo"), http2=True, ssl=trusting_context) for _ in range(3))
    )
    for resp in responses:
        await resp.content()
    assert await client.wait_requests(timeout=1) is True


async def test_close_says_goaway_and_closes_the_h2_connection(scripted):
    """Seen from the server: close() ends the idle h2 connection with a GOAWAY and EOF."""
    closed = asyncio.Event()

    async def scenario(peer):
        await peer.serve()
        closed.set()

    srv = await scripted(scenario)
    client = aiosonic.HTTPClient()
    try:
        resp = await client.get(srv.url("/x"), http2=True)
        assert await resp.content() == b"/x on 0"
    finally:
        await client.close()
    await asyncio.wait_for(closed.wait(), 3)
    (peer,) = srv.peers
    assert peer.eof
    assert any(isinstance(event, h2.events.ConnectionTerminated) for event in peer.events)


async def test_waiting_for_a_free_stream_times_out_and_cancelling_frees_one(
    scripted, new_client
):
    """The server allows one stream and holds /hold; with one pool slot, a second request
    waits for a stream until its request_timeout. Cancelling /hold resets just that stream
    (RST_STREAM CANCEL), and the next request gets the freed stream on the same connection."""
    hold_seen = asyncio.Event()

    async def scenario(peer):
        def answer(peer, request):
            if request.path == "/hold":
                hold_seen.set()
                return  # never answered
            peer.respond(request.stream_id, b"fast")

        await peer.serve(answer)

    limit = {h2.settings.SettingCodes.MAX_CONCURRENT_STREAMS: 1}
    srv = await scripted(scenario, settings=limit)
    client = new_client(connector={"pool_size": 1})
    held = asyncio.ensure_future(client.get(srv.url("/hold"), http2=True))
    await asyncio.wait_for(hold_seen.wait(), 3)
    with pytest.raises(RequestTimeout):
        await client.get(srv.url("/fast"), http2=True,
                         timeouts=aiosonic.Timeouts(request_timeout=0.3))
    held.cancel()
    with pytest.raises(asyncio.CancelledError):
        await held
    resp = await asyncio.wait_for(client.get(srv.url("/fast"), http2=True), 3)
    assert await resp.content() == b"fast"
    (peer,) = srv.peers
    hold = peer.by_path("/hold")
    assert hold is not None
    assert peer.client_resets == {hold.stream_id: h2.errors.ErrorCodes.CANCEL}
    assert [request.path for request in peer.requests.values()] == ["/hold", "/fast"]
