"""HTTP/2 rules a server can break, over real sockets: a scripted h2-library server (an
independent implementation on the other end) writes the offending frames, and we check
what the client does: a connection error ends the connection with a GOAWAY carrying the
right code, a stream error resets only that stream and the connection keeps serving."""

from __future__ import annotations

import asyncio
import struct
from collections.abc import Callable

import h2.events
import pytest
from support.waits import eventually, pooled_protocols

from aiosonic import _h2frames as f
from aiosonic.exceptions import HttpParsingError

Writer = Callable[..., None]


def raw(kind: int, flags: int, stream_id: int, payload: bytes = b"") -> bytes:
    n = len(payload)
    return struct.pack(">BHBBL", n >> 16, n & 0xFFFF, kind, flags, stream_id) + payload


def _goaway(peer) -> h2.events.ConnectionTerminated | None:
    for event in peer.events:
        if isinstance(event, h2.events.ConnectionTerminated):
            return event
    return None


async def _expect_connection_error(scripted, new_client, write: Writer, code: int,
                                   **connector) -> None:
    """The server answers ``/`` with ``write(peer, stream_id)``: the request fails at once
    and the server receives a GOAWAY with ``code``."""
    loop = asyncio.get_running_loop()
    seen: asyncio.Future[h2.events.ConnectionTerminated] = loop.create_future()

    async def scenario(peer):
        await peer.wait_for(lambda: peer.by_path("/") is not None)
        write(peer, peer.by_path("/").stream_id)
        await peer.wait_for(lambda: _goaway(peer) is not None)
        seen.set_result(_goaway(peer))
        await peer.wait_eof()

    srv = await scripted(scenario)
    client = new_client(connector or None)
    with pytest.raises(HttpParsingError, match="HTTP/2 protocol error"):
        resp = await asyncio.wait_for(client.get(srv.url("/"), http2=True), 5)
        await resp.content()
    goaway = await asyncio.wait_for(seen, 5)
    assert goaway.error_code == code
    assert goaway.last_stream_id == 0


@pytest.mark.parametrize(
    ("pair", "code"),
    [
        ((f.SETTINGS_ENABLE_PUSH, 2), f.PROTOCOL_ERROR),
        ((f.SETTINGS_INITIAL_WINDOW_SIZE, 2**31), f.FLOW_CONTROL_ERROR),
        ((f.SETTINGS_MAX_FRAME_SIZE, 1000), f.PROTOCOL_ERROR),
        ((f.SETTINGS_MAX_FRAME_SIZE, 2**24), f.PROTOCOL_ERROR),
    ],
)
async def test_bad_settings_end_the_connection(scripted, new_client, pair, code):
    def write(peer, stream_id):
        peer.write_raw(f.settings_frame([pair]))

    await _expect_connection_error(scripted, new_client, write, code)


async def test_settings_ack_with_a_payload_is_frame_size_error(scripted, new_client):
    def write(peer, stream_id):
        peer.write_raw(raw(f.SETTINGS, f.FLAG_ACK, 0, b"\x00\x03\x00\x00\x00\x01"))

    await _expect_connection_error(scripted, new_client, write, f.FRAME_SIZE_ERROR)


async def test_connection_window_overflow_is_flow_control_error(scripted, new_client):
    def write(peer, stream_id):
        peer.write_raw(f.window_update_frame(0, 2**31 - 1))

    await _expect_connection_error(scripted, new_client, write, f.FLOW_CONTROL_ERROR)


async def test_data_beyond_our_window_is_flow_control_error(scripted, new_client):
    def write(peer, stream_id):
        peer.conn.send_headers(stream_id, [(b":status", b"200")])
        peer.flush()
        piece = b"x" * 16384
        peer.write_raw(b"".join(f.data_frame_header(stream_id, len(piece), False) + piece
                                for _ in range(5)))  # 81920 bytes into a 65535 window

    await _expect_connection_error(scripted, new_client, write, f.FLOW_CONTROL_ERROR,
                                   http2_window=65535)


async def test_a_continuation_flood_is_enhance_your_calm(scripted, new_client):
    def write(peer, stream_id):
        flood = raw(f.HEADERS, 0, stream_id, b"")
        flood += raw(f.CONTINUATION, 0, stream_id, b"") * 5000
        peer.write_raw(flood)

    await _expect_connection_error(scripted, new_client, write, f.ENHANCE_YOUR_CALM)


async def test_push_promise_is_refused(scripted, new_client):
    def write(peer, stream_id):
        block = peer.conn.encoder.encode([(b":method", b"GET"), (b":scheme", b"http"),
                                          (b":authority", b"x"), (b":path", b"/pushed")])
        peer.write_raw(raw(f.PUSH_PROMISE, f.FLAG_END_HEADERS, stream_id,
                           struct.pack(">L", 2) + block))

    await _expect_connection_error(scripted, new_client, write, f.PROTOCOL_ERROR)


async def test_headers_on_a_server_initiated_stream_is_refused(scripted, new_client):
    def write(peer, stream_id):
        block = peer.conn.encoder.encode([(b":status", b"200")])
        peer.write_raw(raw(f.HEADERS, f.FLAG_END_HEADERS | f.FLAG_END_STREAM, 2, block))

    await _expect_connection_error(scripted, new_client, write, f.PROTOCOL_ERROR)


# -- stream errors: one stream fails, the connection goes on -----------------------------------


async def _expect_stream_error(scripted, new_client, write: Writer, code: int | None,
                               in_body: bool = False) -> None:
    """``/bad`` is answered by ``write``, ``/good`` normally: the first fails alone (the
    server gets RST_STREAM with ``code``; None when the server closed the stream itself, as
    h2 then drops the RST_STREAM without an event), the second succeeds on the same
    connection."""

    async def scenario(peer):
        def answer(peer, request):
            if request.path == "/bad":
                write(peer, request.stream_id)
                request.answered = True
            else:
                peer.respond(request.stream_id, b"good")

        await peer.serve(answer)

    srv = await scripted(scenario)
    client = new_client()
    with pytest.raises(HttpParsingError, match="protocol error from the server on stream"):
        resp = await asyncio.wait_for(client.get(srv.url("/bad"), http2=True), 5)
        assert in_body, "the head should have been refused"
        await asyncio.wait_for(resp.content(), 5)
    resp = await client.get(srv.url("/good"), http2=True)
    assert await resp.content() == b"good"
    assert len(srv.peers) == 1
    peer = srv.peers[0]
    bad = peer.by_path("/bad")
    assert bad is not None
    if code is None:
        return
    await eventually(lambda: bad.stream_id in peer.client_resets)
    assert peer.client_resets[bad.stream_id] == code


@pytest.mark.parametrize(
    "head",
    [
        [(b":status", b"200"), (b"X-Upper", b"1")],
        [(b":status", b"200"), (b"connection", b"close")],
        [(b":status", b"200"), (b"x-a", b"bad\x00value")],
        [(b":status", b"200"), (b"x-a", b" padded ")],
        [(b"x-a", b"1"), (b":status", b"200")],
        [(b":status", b"200"), (b":path", b"/")],
        [(b":status", b"2000")],
        [(b"x-a", b"no status")],
    ],
    ids=["uppercase", "connection", "nul", "whitespace", "order", "request-pseudo",
         "status", "no-status"],
)
async def test_a_malformed_response_head_fails_only_its_stream(scripted, new_client, head):
    def write(peer, stream_id):
        # The server's own encoder: its HPACK table and ours stay in step.
        block = peer.conn.encoder.encode(head)
        peer.write_raw(raw(f.HEADERS, f.FLAG_END_HEADERS | f.FLAG_END_STREAM, stream_id,
                           block))

    await _expect_stream_error(scripted, new_client, write, f.PROTOCOL_ERROR)


@pytest.mark.parametrize(
    ("declared", "body"), [(b"3", b"much too long"), (b"100", b"short")], ids=["longer", "shorter"]
)
async def test_a_body_other_than_its_content_length_fails_only_its_stream(
    scripted, new_client, declared, body
):
    def write(peer, stream_id):
        peer.conn.send_headers(stream_id, [(b":status", b"200"), (b"content-length", declared)])
        peer.conn.send_data(stream_id, body, end_stream=True)
        peer.flush()

    await _expect_stream_error(scripted, new_client, write, None, in_body=True)


async def test_trailers_without_end_stream_fail_only_their_stream(scripted, new_client):
    def write(peer, stream_id):
        peer.conn.send_headers(stream_id, [(b":status", b"200")])
        peer.conn.send_data(stream_id, b"body")
        peer.flush()
        block = peer.conn.encoder.encode([(b"x-checksum", b"1")])
        peer.write_raw(raw(f.HEADERS, f.FLAG_END_HEADERS, stream_id, block))

    await _expect_stream_error(scripted, new_client, write, f.PROTOCOL_ERROR, in_body=True)


async def test_stream_window_overflow_fails_only_its_stream(scripted, new_client):
    def write(peer, stream_id):
        peer.write_raw(f.window_update_frame(stream_id, 2**31 - 1))

    await _expect_stream_error(scripted, new_client, write, f.FLOW_CONTROL_ERROR)


# -- what a server may do -------------------------------------------------------------------


async def test_informational_heads_then_the_final_response(scripted, new_client):
    async def scenario(peer):
        def answer(peer, request):
            peer.conn.send_headers(request.stream_id, [(b":status", b"100")])
            peer.conn.send_headers(request.stream_id,
                                   [(b":status", b"103"), (b"link", b"</style.css>")])
            peer.respond(request.stream_id, b"final", status=201,
                         headers=[(b"x-final", b"yes")])

        await peer.serve(answer)

    srv = await scripted(scenario)
    client = new_client()
    resp = await client.get(srv.url("/"), http2=True)
    assert resp.status_code == 201
    assert resp.headers["x-final"] == "yes"
    assert "link" not in resp.headers
    assert await resp.content() == b"final"


async def test_trailers_end_the_response(scripted, new_client):
    async def scenario(peer):
        def answer(peer, request):
            peer.conn.send_headers(request.stream_id, [(b":status", b"200")])
            peer.conn.send_data(request.stream_id, b"body with trailers")
            peer.conn.send_headers(request.stream_id, [(b"x-checksum", b"abc")],
                                   end_stream=True)
            request.answered = True
            peer.flush()

        await peer.serve(answer)

    srv = await scripted(scenario)
    client = new_client()
    for _ in range(2):  # and the connection goes on
        resp = await client.get(srv.url("/"), http2=True)
        assert await resp.content() == b"body with trailers"
    assert len(srv.peers) == 1


async def test_padded_frames_and_a_split_header_block(scripted, new_client):
    async def scenario(peer):
        def answer(peer, request):
            sid = request.stream_id
            block = peer.conn.encoder.encode([(b":status", b"200"),
                                              (b"x-long", b"v" * 3000)])
            frames = raw(f.HEADERS, f.FLAG_PADDED, sid, b"\x04" + block[:100] + b"\x00" * 4)
            frames += raw(f.CONTINUATION, 0, sid, block[100:2000])
            frames += raw(f.CONTINUATION, f.FLAG_END_HEADERS, sid, block[2000:])
            frames += raw(f.DATA, f.FLAG_PADDED | f.FLAG_END_STREAM, sid,
                          b"\x0a" + b"padded body" + b"\x00" * 10)
            peer.write_raw(frames)
            request.answered = True

        await peer.serve(answer)

    srv = await scripted(scenario)
    client = new_client()
    for _ in range(2):
        resp = await client.get(srv.url("/"), http2=True)
        assert resp.headers["x-long"] == "v" * 3000
        assert await resp.content() == b"padded body"


async def test_data_after_end_stream_does_not_disturb_the_connection(scripted, new_client):
    """The client answers it with RST_STREAM(STREAM_CLOSED) (see the core's unit tests; the
    h2 server drops a reset of a stream it closed without telling)."""

    async def scenario(peer):
        def answer(peer, request):
            peer.respond(request.stream_id, b"done")
            peer.write_raw(f.data_frame_header(request.stream_id, 4, False) + b"more")

        await peer.serve(answer)

    srv = await scripted(scenario)
    client = new_client()
    resp = await client.get(srv.url("/"), http2=True)
    assert await resp.content() == b"done"
    resp = await client.get(srv.url("/again"), http2=True)
    assert await resp.content() == b"done"
    assert len(srv.peers) == 1
    assert [r.path for r in srv.peers[0].requests.values()] == ["/", "/again"]


async def test_goaway_then_the_streams_up_to_its_last_id_finish(scripted, new_client):
    async def scenario(peer):
        if peer.index:
            await peer.serve()
            return
        await peer.wait_for(lambda: len(peer.complete()) == 2)
        first, second = sorted(peer.complete(), key=lambda r: r.stream_id)
        peer.goaway(first.stream_id)
        # After its GOAWAY the server still answers the stream it promised, in pieces.
        peer.conn.send_headers(first.stream_id, [(b":status", b"200")])
        peer.conn.send_data(first.stream_id, b"finished ")
        peer.flush()
        peer.conn.send_data(first.stream_id, b"after goaway", end_stream=True)
        peer.flush()
        first.answered = second.answered = True
        await peer.wait_eof()

    srv = await scripted(scenario)
    client = new_client()
    responses = await asyncio.wait_for(
        asyncio.gather(*(client.get(srv.url(path), http2=True) for path in ("/a", "/b"))), 5
    )
    bodies = sorted([await resp.content() for resp in responses])
    # The stream above the last id was not processed: sent again, on a new connection.
    assert bodies[0].endswith(b" on 1")
    assert bodies[1] == b"finished after goaway"
    assert len(srv.peers) == 2


async def test_running_out_of_stream_ids_moves_to_a_new_connection(scripted, new_client):
    async def scenario(peer):
        await peer.serve()

    srv = await scripted(scenario)
    client = new_client({"pool_size": 1})  # the one slot must be given up, not waited on
    resp = await client.get(srv.url("/a"), http2=True)
    assert await resp.content() == b"/a on 0"
    (protocol,) = [p for p in pooled_protocols(client) if getattr(p, "http2", False)]
    protocol.core.next_stream_id = f.MAX_STREAM_ID  # the last id a client may use
    resp = await client.get(srv.url("/b"), http2=True)
    assert await resp.content() == b"/b on 0"
    assert srv.peers[0].by_path("/b").stream_id == f.MAX_STREAM_ID
    resp = await asyncio.wait_for(client.get(srv.url("/c"), http2=True), 5)
    assert await resp.content() == b"/c on 1"
