"""Frame-level behaviour against a scripted h2 server (h2c, and TLS with ALPN h2 where it
matters): the connection dying mid-flight, RST_STREAM on one stream, GOAWAY with streams
above last_stream_id, REFUSED_STREAM, the client's SETTINGS (no push), PING, and garbage
instead of an HTTP/2 server preface."""

from __future__ import annotations

import asyncio

import h2.errors
import h2.events
import h2.exceptions
import h2.settings
import pytest

import aiosonic
from aiosonic.exceptions import ConnectionDisconnected, HttpParsingError, StreamNotProcessed

TRANSPORTS = ["h2c", "tls"]


def _ssl(transport: str, trusting_context) -> dict:
    return {"ssl": trusting_context} if transport == "tls" else {}


async def _elapsed_since(started: float) -> float:
    return asyncio.get_running_loop().time() - started


# --------------------------------------------------------------------------- connection loss


@pytest.mark.parametrize("how", ["close", "abort"])
@pytest.mark.parametrize("transport", TRANSPORTS)
async def test_server_closing_mid_flight_fails_every_stream_then_recovers(
    scripted, new_client, trusting_context, transport, how
):
    async def scenario(peer):
        if peer.index == 0:
            await peer.wait_for(lambda: len(peer.complete()) == 3)
            if how == "abort":
                peer.writer.transport.abort()
            return  # the server closes the connection with three streams unanswered
        await peer.serve()

    srv = await scripted(scenario, tls=transport == "tls")
    client = new_client()
    loop = asyncio.get_running_loop()
    started = loop.time()
    results = await asyncio.gather(
        *(client.get(srv.url(f"/inflight{n}"), http2=True, **_ssl(transport, trusting_context))
          for n in range(3)),
        return_exceptions=True,
    )
    assert await _elapsed_since(started) < 3
    for result in results:
        assert isinstance(result, ConnectionDisconnected), repr(result)
    resp = await client.get(srv.url("/after"), http2=True, **_ssl(transport, trusting_context))
    assert resp.http_version == "2"
    assert await resp.content() == b"/after on 1"
    assert len(srv.peers) == 2


@pytest.mark.parametrize("transport", TRANSPORTS)
async def test_server_closing_mid_body_fails_the_read(
    scripted, new_client, trusting_context, transport
):
    async def scenario(peer):
        if peer.index == 0:
            await peer.wait_for(lambda: len(peer.complete()) == 1)
            (request,) = peer.complete()
            peer.conn.send_headers(request.stream_id, [(b":status", b"200"),
                                                       (b"content-length", b"100000")])
            peer.conn.send_data(request.stream_id, b"x" * 5000)
            peer.flush()
            await asyncio.sleep(0.1)
            return
        await peer.serve()

    srv = await scripted(scenario, tls=transport == "tls")
    client = new_client()
    resp = await client.get(srv.url("/partial"), http2=True, **_ssl(transport, trusting_context))
    assert resp.status_code == 200
    with pytest.raises(ConnectionDisconnected):
        await asyncio.wait_for(resp.content(), 3)
    again = await client.get(srv.url("/again"), http2=True, **_ssl(transport, trusting_context))
    assert await again.content() == b"/again on 1"


# --------------------------------------------------------------------------- RST_STREAM


@pytest.mark.parametrize("transport", TRANSPORTS)
async def test_rst_stream_fails_only_that_stream(scripted, new_client, trusting_context, transport):
    async def scenario(peer):
        await peer.wait_for(lambda: len(peer.complete()) == 3)
        victim = peer.by_path("/b")
        assert victim is not None
        peer.reset(victim.stream_id, h2.errors.ErrorCodes.INTERNAL_ERROR)
        await peer.serve()

    srv = await scripted(scenario, tls=transport == "tls")
    client = new_client()
    results = await asyncio.gather(
        *(client.get(srv.url(path), http2=True, **_ssl(transport, trusting_context))
          for path in ("/a", "/b", "/c")),
        return_exceptions=True,
    )
    ok_a, reset_b, ok_c = results
    assert isinstance(reset_b, ConnectionDisconnected), repr(reset_b)
    assert not isinstance(reset_b, StreamNotProcessed)  # the server may have acted on it
    assert "INTERNAL_ERROR" in str(reset_b) or "2" in str(reset_b)
    assert isinstance(ok_a, aiosonic.HttpResponse), repr(ok_a)
    assert isinstance(ok_c, aiosonic.HttpResponse), repr(ok_c)
    assert await ok_a.content() == b"/a on 0"
    assert await ok_c.content() == b"/c on 0"
    # One connection; /b was not sent again.
    assert len(srv.peers) == 1
    assert [request.path for request in srv.peers[0].requests.values()].count("/b") == 1
    # The connection goes on serving.
    resp = await client.get(srv.url("/d"), http2=True, **_ssl(transport, trusting_context))
    assert await resp.content() == b"/d on 0"


async def test_rst_stream_mid_body(scripted, new_client):
    async def scenario(peer):
        await peer.wait_for(lambda: peer.by_path("/cut") is not None
                            and peer.by_path("/cut").complete)
        request = peer.by_path("/cut")
        peer.respond(request.stream_id, b"partial", end=False)
        await asyncio.sleep(0.05)
        peer.reset(request.stream_id, h2.errors.ErrorCodes.CANCEL)
        await peer.serve()

    srv = await scripted(scenario)
    client = new_client()
    resp = await client.get(srv.url("/cut"), http2=True)
    assert resp.status_code == 200
    with pytest.raises(ConnectionDisconnected):
        await asyncio.wait_for(resp.content(), 3)
    again = await client.get(srv.url("/next"), http2=True)
    assert await again.content() == b"/next on 0"


# --------------------------------------------------------------------------- GOAWAY


@pytest.mark.parametrize("transport", TRANSPORTS)
async def test_goaway_mid_flight(scripted, new_client, trusting_context, transport):
    """GOAWAY with last_stream_id = the lowest in-flight stream: that stream completes; the
    GETs above it are retried on a new connection and succeed; the POST above it fails
    with StreamNotProcessed; the GOAWAY connection takes no new stream."""
    first_seen = asyncio.Event()
    retried_seen = asyncio.Event()
    release_first = asyncio.Event()
    goaway_sent_with: dict[str, int] = {}

    async def scenario(peer):
        if peer.index == 0:
            await peer.wait_for(lambda: peer.by_path("/first") is not None)
            first_seen.set()
            await peer.wait_for(lambda: len(peer.complete()) == 4)
            first = peer.by_path("/first")
            goaway_sent_with["last"] = first.stream_id
            goaway_sent_with["streams"] = len(peer.requests)
            peer.goaway(first.stream_id)
            await peer.wait_for(release_first.is_set)
            peer.respond(first.stream_id, b"first done")
            await peer.wait_eof()
            return

        def answer(peer, request):
            peer.respond(request.stream_id, f"{request.path} on {peer.index}".encode())
            if request.path == "/third":
                retried_seen.set()

        await peer.serve(answer)

    srv = await scripted(scenario, tls=transport == "tls")
    client = new_client()
    extra = _ssl(transport, trusting_context)
    first = asyncio.ensure_future(client.get(srv.url("/first"), http2=True, **extra))
    await asyncio.wait_for(first_seen.wait(), 3)
    others = asyncio.gather(
        client.get(srv.url("/second"), http2=True, **extra),
        client.get(srv.url("/third"), http2=True, **extra),
        client.post(srv.url("/post"), data=b"not idempotent", http2=True, **extra),
        return_exceptions=True,
    )
    # The GETs above last_stream_id come back on a new connection...
    await asyncio.wait_for(retried_seen.wait(), 3)
    # ...and so does a request sent after the GOAWAY, while /first is still in flight.
    late = await client.get(srv.url("/late"), http2=True, **extra)
    assert await late.content() == b"/late on 1"
    release_first.set()

    second, third, post = await asyncio.wait_for(others, 5)
    assert isinstance(second, aiosonic.HttpResponse), repr(second)
    assert isinstance(third, aiosonic.HttpResponse), repr(third)
    assert await second.content() == b"/second on 1"
    assert await third.content() == b"/third on 1"
    assert isinstance(post, StreamNotProcessed), repr(post)
    assert isinstance(post, ConnectionDisconnected)

    conn0, conn1 = srv.peers
    # No new stream on the GOAWAY connection; the POST was never sent again.
    assert len(conn0.requests) == goaway_sent_with["streams"] == 4
    assert sorted(request.path for request in conn1.requests.values()) == [
        "/late", "/second", "/third"
    ]

    # The stream at last_stream_id was processed: its response still arrives after GOAWAY.
    first_resp = await asyncio.wait_for(first, 3)
    assert await first_resp.content() == b"first done"


async def test_goaway_on_an_idle_connection_moves_to_a_new_one(scripted, new_client):
    one_read = asyncio.Event()  # the client has /one's body: the connection is idle
    drained = asyncio.Event()  # the client closed the idle connection after the GOAWAY

    async def scenario(peer):
        if peer.index == 0:
            await peer.wait_for(lambda: len(peer.complete()) == 1)
            (request,) = peer.complete()
            peer.respond(request.stream_id, b"one")
            await asyncio.wait_for(one_read.wait(), 5)
            peer.goaway(request.stream_id)
            await peer.wait_eof()
            if peer.eof:
                drained.set()
            return
        await peer.serve()

    srv = await scripted(scenario)
    client = new_client()
    resp = await client.get(srv.url("/one"), http2=True)
    assert await resp.content() == b"one"
    one_read.set()
    # The GOAWAY arrives on the idle connection, which the client then closes (drained).
    await asyncio.wait_for(drained.wait(), 12)
    resp = await client.get(srv.url("/two"), http2=True)
    assert await resp.content() == b"/two on 1"
    assert len(srv.peers[0].requests) == 1


async def test_goaway_with_last_stream_zero_retries_gets(scripted, new_client):
    """Graceful refusal of everything in flight: every GET is retried elsewhere."""

    async def scenario(peer):
        if peer.index == 0:
            await peer.wait_for(lambda: len(peer.complete()) == 3)
            peer.goaway(0)
            await peer.wait_eof()
            return
        await peer.serve()

    srv = await scripted(scenario)
    client = new_client()
    responses = await asyncio.wait_for(
        asyncio.gather(*(client.get(srv.url(f"/g{n}"), http2=True) for n in range(3))), 5
    )
    for n, resp in enumerate(responses):
        assert await resp.content() == f"/g{n} on 1".encode()
    assert len(srv.peers) == 2


# --------------------------------------------------------------------------- REFUSED_STREAM


async def test_refused_stream_get_is_retried(scripted, new_client):
    async def scenario(peer):
        refused: set[int] = set()

        def answer(peer, request):
            if not refused:
                refused.add(request.stream_id)
                peer.reset(request.stream_id, h2.errors.ErrorCodes.REFUSED_STREAM)
            else:
                peer.respond(request.stream_id, b"second try")

        await peer.serve(answer)

    srv = await scripted(scenario)
    client = new_client()
    resp = await client.get(srv.url("/again"), http2=True)
    assert resp.status_code == 200
    assert await resp.content() == b"second try"
    paths = [r.path for peer in srv.peers for r in peer.requests.values()]
    assert paths == ["/again", "/again"]


async def test_refused_stream_post_is_not_retried(scripted, new_client):
    async def scenario(peer):
        def answer(peer, request):
            peer.reset(request.stream_id, h2.errors.ErrorCodes.REFUSED_STREAM)

        await peer.serve(answer)

    srv = await scripted(scenario)
    client = new_client()
    with pytest.raises(StreamNotProcessed):
        await client.post(srv.url("/once"), data=b"payload", http2=True)
    paths = [r.path for peer in srv.peers for r in peer.requests.values()]
    assert paths == ["/once"]


async def test_refused_every_time_gives_up(scripted, new_client):
    async def scenario(peer):
        def answer(peer, request):
            peer.reset(request.stream_id, h2.errors.ErrorCodes.REFUSED_STREAM)

        await peer.serve(answer)

    srv = await scripted(scenario)
    client = new_client()
    with pytest.raises(ConnectionDisconnected):
        await asyncio.wait_for(client.get(srv.url("/never"), http2=True), 5)
    attempts = sum(len(peer.requests) for peer in srv.peers)
    assert 1 < attempts <= 5


# --------------------------------------------------------------------------- SETTINGS, PING


@pytest.mark.parametrize("transport", TRANSPORTS)
async def test_client_settings_refuse_server_push(
    scripted, new_client, trusting_context, transport
):
    async def scenario(peer):
        await peer.wait_for(
            lambda: h2.settings.SettingCodes.ENABLE_PUSH in peer.client_settings
            and len(peer.complete()) == 1
        )
        (request,) = peer.complete()
        # h2 on the server refuses to push to a client that disabled it.
        with pytest.raises(h2.exceptions.ProtocolError):
            peer.conn.push_stream(
                request.stream_id,
                peer.conn.get_next_available_stream_id(),
                [(b":method", b"GET"), (b":scheme", b"http"),
                 (b":authority", b"127.0.0.1"), (b":path", b"/pushed")],
            )
        peer.respond(request.stream_id, b"no push")
        await peer.serve()

    srv = await scripted(scenario, tls=transport == "tls")
    client = new_client()
    resp = await client.get(srv.url("/"), http2=True, **_ssl(transport, trusting_context))
    assert await resp.content() == b"no push"
    settings = srv.peers[0].client_settings
    assert settings[h2.settings.SettingCodes.ENABLE_PUSH] == 0
    assert srv.peers[0].conn.remote_settings.enable_push == 0


async def test_ping_from_the_server_is_acknowledged(scripted, new_client):
    opaque = b"pingpong"

    async def scenario(peer):
        await peer.wait_for(lambda: len(peer.complete()) == 1)
        (request,) = peer.complete()
        peer.ping(opaque)  # while a request is in flight
        await peer.wait_for(lambda: opaque in peer.ping_acks)
        peer.respond(request.stream_id, b"after ping")
        peer.ping(b"idle....")  # and on an idle connection
        await peer.wait_for(lambda: b"idle...." in peer.ping_acks)
        idle_acked.set()
        await peer.serve()

    idle_acked = asyncio.Event()
    srv = await scripted(scenario)
    client = new_client()
    resp = await client.get(srv.url("/p"), http2=True)
    assert await resp.content() == b"after ping"
    await asyncio.wait_for(idle_acked.wait(), 10)  # the idle PING was answered
    resp = await client.get(srv.url("/q"), http2=True)
    assert await resp.content() == b"/q on 0"
    assert srv.peers[0].ping_acks == [opaque, b"idle...."]


async def test_a_small_server_max_frame_and_window_are_honoured(scripted, new_client):
    """The client never sends a DATA frame beyond the server's SETTINGS_MAX_FRAME_SIZE
    (16 KiB) nor past a tiny initial stream window (h2 on the server raises if it did)."""
    body = bytes(range(256)) * 400  # 102,400 bytes

    async def scenario(peer):
        await peer.serve()

    # Announced after the preface, so it applies once the client acknowledges it.
    settings = {h2.settings.SettingCodes.INITIAL_WINDOW_SIZE: 1000}
    srv = await scripted(scenario, settings_update=settings)
    client = new_client()
    resp = await client.post(srv.url("/small-window"), data=body, http2=True)
    assert await resp.content() == b"/small-window on 0"
    (request,) = srv.peers[0].requests.values()
    assert bytes(request.body) == body
    sizes = [len(event.data) for event in srv.peers[0].events
             if isinstance(event, h2.events.DataReceived) and event.data]
    assert max(sizes) <= 16_384


# --------------------------------------------------------------------------- hostile peers


GARBAGE = {
    "http11-reply": b"HTTP/1.1 400 Bad Request\r\nContent-Length: 11\r\n\r\nbad request",
    "binary": b"\xff" * 64,
    "data-before-settings": b"\x00\x00\x05\x00\x01\x00\x00\x00\x01hello",
}


@pytest.mark.parametrize(
    ("garbage", "transport"),
    [(name, "h2c") for name in GARBAGE] + [("http11-reply", "tls")],
)
async def test_garbage_instead_of_settings(
    scripted, new_client, trusting_context, garbage, transport
):
    """The server's first bytes are not a SETTINGS frame (RFC 9113, 3.4) and it keeps the
    connection open: a clear error right away, not a wait for the timeout."""

    async def scenario(peer):
        await peer.reader.readexactly(24)  # the client's connection preface
        peer.writer.write(GARBAGE[garbage])
        # The server stays (reading until EOF): the client must not wait for it to go.
        while await peer.reader.read(65536):
            pass

    srv = await scripted(scenario, tls=transport == "tls", handshake=False)
    client = new_client()
    loop = asyncio.get_running_loop()
    started = loop.time()
    with pytest.raises((HttpParsingError, ConnectionDisconnected)):
        resp = await client.get(srv.url("/"), http2=True, **_ssl(transport, trusting_context),
                                timeouts=aiosonic.Timeouts(request_timeout=2))
        await resp.content()
    assert await _elapsed_since(started) < 1.5


async def test_server_closing_before_its_preface(scripted, new_client):
    async def scenario(peer):
        await peer.reader.readexactly(24)

    srv = await scripted(scenario, handshake=False)
    client = new_client()
    with pytest.raises(ConnectionDisconnected):
        await asyncio.wait_for(client.get(srv.url("/"), http2=True), 5)
