"""HTTP/2 (``aiosonic._http2_conn`` and the connector's h2 paths) against scripted h2 servers on
loopback: headers as sent, a preface in pieces, write flow control, frames for streams the
client gave up on, limits, dropped responses, early answers, stream and slot waits, and
servers whose ALPN answer changes."""

from __future__ import annotations

import asyncio
import gc
import hashlib
import ssl
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import h2.errors
import h2.settings
import pytest
import pytest_asyncio
import trustme
from hyperframe.frame import GoAwayFrame
from support.app import AppServer, loads, payload
from support.h2_servers import H2Peer, ScriptedH2Server, ScriptedRequest
from support.raw import read_request, refused_port, simple_response

import aiosonic
from aiosonic.exceptions import ConnectError, HttpParsingError, InvalidRequest, RequestTimeout

Scenario = Callable[[H2Peer], Awaitable[None]]
StartScripted = Callable[..., Awaitable[ScriptedH2Server]]
MakeClient = Callable[..., tuple[aiosonic.HTTPClient, aiosonic.TCPConnector]]
NO_LIMITS = aiosonic.Timeouts(sock_connect=None, sock_read=None, request_timeout=None)


@pytest_asyncio.fixture
async def scripted() -> AsyncIterator[StartScripted]:
    """Factory: ``await scripted(scenario, **ScriptedH2Server options)``; a scenario that
    raised fails the test at teardown."""
    started: list[ScriptedH2Server] = []

    async def start(scenario: Scenario, **options: Any) -> ScriptedH2Server:
        srv = ScriptedH2Server(scenario, **options)
        started.append(srv)
        return await srv.start()

    try:
        yield start
    finally:
        errors: list[BaseException] = []
        for srv in reversed(started):
            await srv.close()
            errors.extend(srv.errors)
        if errors:
            raise errors[0]


def _server_context(ca: trustme.CA, alpn: list[str] | None) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1").configure_cert(context)
    if alpn is not None:
        context.set_alpn_protocols(alpn)
    return context


def _client_context(ca: trustme.CA) -> ssl.SSLContext:
    context = ssl.create_default_context()
    ca.configure_trust(context)
    return context


def _headers(request: ScriptedRequest) -> dict[bytes, bytes]:
    return dict(request.headers)


# ------------------------------------------------------------------------------ what is sent


async def test_request_headers_on_the_h2_wire(scripted: StartScripted,
                                              make_client: MakeClient) -> None:
    srv = await scripted(lambda peer: peer.serve())
    client, _ = make_client()
    headers = {"X-Name": "José ✓", "TE": "gzip"}
    response = await client.get(srv.url("/a"), headers=headers, http2=True)
    assert await response.content() == b"/a on 0"
    trailers = await client.get(srv.url("/b"), headers={"TE": "trailers"}, http2=True)
    assert await trailers.content() == b"/b on 0"
    first, second = srv.peers[0].requests.values()
    assert _headers(first)[b"x-name"] == "José ✓".encode()  # not latin-1: sent as UTF-8
    assert b"te" not in _headers(first)  # only "TE: trailers" is allowed in HTTP/2
    assert _headers(second)[b"te"] == b"trailers"


async def test_str_body_pieces_go_out_as_utf8_and_others_are_refused(
    scripted: StartScripted, make_client: MakeClient
) -> None:
    def echo(peer: H2Peer, request: ScriptedRequest) -> None:
        peer.respond(request.stream_id, bytes(request.body) or request.path.encode())

    async def scenario(peer: H2Peer) -> None:
        await peer.serve(echo)

    srv = await scripted(scenario)
    client, _ = make_client()
    text: list[Any] = ["grüße ", b"and bytes"]
    response = await client.post(srv.url("/up"), data=iter(text), http2=True)
    assert await response.content() == "grüße and bytes".encode()
    bad: list[Any] = [b"fine", 3.5]
    with pytest.raises(InvalidRequest, match="must yield bytes, not float"):
        await client.post(srv.url("/up"), data=iter(bad), http2=True)
    again = await client.get(srv.url("/after"), http2=True)
    assert await again.content() == b"/after"  # one bad stream, same connection
    assert len(srv.peers) == 1
    assert srv.peers[0].client_resets  # the bad stream was reset, not left open


async def test_a_server_preface_arriving_in_pieces_is_waited_for(
    scripted: StartScripted, make_client: MakeClient
) -> None:
    async def scenario(peer: H2Peer) -> None:
        peer.conn.initiate_connection()
        preface = peer.conn.data_to_send()
        for start in range(0, len(preface), 4):
            peer.writer.write(preface[start : start + 4])
            await peer.writer.drain()
            await asyncio.sleep(0.01)
        await peer.serve()

    srv = await scripted(scenario, handshake=False)
    client, _ = make_client()
    response = await client.get(srv.url("/slowly"), http2=True)
    assert await response.content() == b"/slowly on 0"


async def test_a_long_upload_waits_while_the_socket_is_full(
    scripted: StartScripted, make_client: MakeClient
) -> None:
    upload = payload(8_000_000, seed=11)

    def digest(peer: H2Peer, request: ScriptedRequest) -> None:
        peer.respond(request.stream_id, hashlib.sha256(request.body).hexdigest().encode())

    async def scenario(peer: H2Peer) -> None:
        peer.conn.increment_flow_control_window(2**24)  # flow control is not the limit here
        peer.flush()
        await peer.wait_for(lambda: bool(peer.requests))
        await asyncio.sleep(0.3)  # not reading: the client's writes back up
        await peer.serve(digest)

    srv = await scripted(scenario, settings={h2.settings.SettingCodes.INITIAL_WINDOW_SIZE: 2**24})
    client, _ = make_client()
    response = await client.post(srv.url("/big"), data=upload, http2=True)
    assert await response.content() == hashlib.sha256(upload).hexdigest().encode()


# ------------------------------------------------------------------- what comes back, and when


def _goaway(last_stream_id: int) -> bytes:
    frame = GoAwayFrame(0)
    frame.last_stream_id = last_stream_id
    return bytes(frame.serialize())


@pytest.mark.parametrize("stale", ["answer", "reset"])
async def test_frames_for_a_stream_given_up_after_goaway_are_ignored(
    scripted: StartScripted, make_client: MakeClient, stale: str
) -> None:
    # The first connection says GOAWAY before processing the request, then (wrongly) still
    # answers or resets it: the client has already moved the request to a new connection.
    async def scenario(peer: H2Peer) -> None:
        if peer.index > 0:
            await peer.serve()
            return
        await peer.wait_for(lambda: bool(peer.complete()))
        (request,) = peer.complete()
        if stale == "answer":
            peer.conn.send_headers(request.stream_id, [(b":status", b"200")])
            peer.conn.send_data(request.stream_id, b"stale answer", end_stream=True)
        else:
            peer.conn.reset_stream(request.stream_id, h2.errors.ErrorCodes.INTERNAL_ERROR)
        peer.writer.write(_goaway(0) + peer.conn.data_to_send())
        await peer.wait_eof()

    srv = await scripted(scenario)
    client, _ = make_client()
    response = await client.get(srv.url("/retried"), http2=True)
    assert await response.content() == b"/retried on 1"


async def test_a_response_with_too_many_headers_fails_only_its_stream(
    scripted: StartScripted, make_client: MakeClient
) -> None:
    def many(peer: H2Peer, request: ScriptedRequest) -> None:
        count = 8 if request.path == "/many" else 1
        extra = [(b"x-h%d" % i, b"v") for i in range(count)]
        peer.respond(request.stream_id, b"body", headers=extra)

    srv = await scripted(lambda peer: peer.serve(many))
    client, _ = make_client(limits=aiosonic.Limits(max_headers=5))
    with pytest.raises(HttpParsingError, match="more than 5 headers"):
        await client.get(srv.url("/many"), http2=True)
    ok = await client.get(srv.url("/few"), http2=True)
    assert await ok.content() == b"body"
    assert len(srv.peers) == 1


async def test_a_response_dropped_unread_resets_its_stream(
    scripted: StartScripted, make_client: MakeClient
) -> None:
    async def scenario(peer: H2Peer) -> None:
        await peer.wait_for(lambda: bool(peer.complete()))
        (request,) = peer.complete()
        peer.respond(request.stream_id, b"the first part of a long body", end=False)
        await peer.wait_for(lambda: request.stream_id in peer.client_resets)
        await peer.serve()

    srv = await scripted(scenario)
    client, _ = make_client(timeouts=NO_LIMITS)
    response: aiosonic.HttpResponse | None = await client.get(srv.url("/drop"), http2=True)
    assert response is not None and response.status_code == 200
    response = None
    gc.collect()
    next_one = await client.get(srv.url("/next"), http2=True)
    assert await next_one.content() == b"/next on 0"
    peer = srv.peers[0]
    assert peer.client_resets == {1: h2.errors.ErrorCodes.CANCEL}


async def _slow_upload() -> AsyncIterator[bytes]:
    for _ in range(40):
        yield b"u" * 1000
        await asyncio.sleep(0.01)


async def test_an_early_answer_to_an_upload_is_returned(
    scripted: StartScripted, make_client: MakeClient
) -> None:
    async def scenario(peer: H2Peer) -> None:
        await peer.wait_for(lambda: bool(peer.requests))
        (request,) = peer.requests.values()
        peer.respond(request.stream_id, b"too large", status=413)
        await peer.wait_eof()

    srv = await scripted(scenario)
    client, _ = make_client()
    response = await client.post(srv.url("/up"), data=_slow_upload(), http2=True)
    assert response.status_code == 413
    assert await response.content() == b"too large"


async def test_an_early_answer_to_an_upload_closes_the_request_stream(
    scripted: StartScripted, make_client: MakeClient
) -> None:
    closed: list[bool] = []
    decided = asyncio.Event()

    async def scenario(peer: H2Peer) -> None:
        await peer.wait_for(lambda: bool(peer.requests))
        (request,) = peer.requests.values()
        peer.respond(request.stream_id, b"too large", status=413)
        try:
            await peer.wait_for(
                lambda: request.complete or request.stream_id in peer.client_resets,
                timeout=0.5,
            )
        except TimeoutError:
            closed.append(False)
        else:
            closed.append(True)
        decided.set()
        await peer.wait_eof()

    srv = await scripted(scenario)
    client, _ = make_client()
    response = await client.post(srv.url("/up"), data=_slow_upload(), http2=True)
    assert response.status_code == 413
    await asyncio.wait_for(decided.wait(), 5)
    assert closed == [True]


# ----------------------------------------------------------------------- streams and slots


async def test_the_request_deadline_bounds_the_wait_for_a_free_stream(
    scripted: StartScripted, make_client: MakeClient
) -> None:
    release = asyncio.Event()
    hold_arrived = asyncio.Event()  # /hold has the only stream

    async def scenario(peer: H2Peer) -> None:
        def answer(peer: H2Peer, request: ScriptedRequest) -> None:
            if request.path == "/hold":
                hold_arrived.set()
            if request.path != "/hold" or release.is_set():
                peer.respond(request.stream_id, request.path.encode())

        while not peer.eof:
            await peer.serve(answer, timeout=0.05)

    one_stream = {h2.settings.SettingCodes.MAX_CONCURRENT_STREAMS: 1}
    srv = await scripted(scenario, settings=one_stream)
    client, _ = make_client(pool_size=1)
    warm = await client.get(srv.url("/warm"), http2=True)  # the server's limit is now known
    assert await warm.content() == b"/warm"
    held = asyncio.create_task(client.get(srv.url("/hold"), http2=True))
    await asyncio.wait_for(hold_arrived.wait(), 5)
    patient = asyncio.create_task(client.get(srv.url("/patient"), http2=True,
                                             timeouts=NO_LIMITS))
    with pytest.raises(RequestTimeout, match="waiting for a free HTTP/2 stream"):
        await client.get(srv.url("/queued"), http2=True,
                         timeouts=aiosonic.Timeouts(request_timeout=0.2))
    assert not patient.done()  # no deadline: it keeps waiting for the stream
    release.set()
    assert await (await held).content() == b"/hold"
    assert await (await patient).content() == b"/patient"
    assert len(srv.peers) == 1


async def test_an_h2_request_waits_for_a_slot_held_by_an_http11_request(
    scripted: StartScripted, server: AppServer, make_client: MakeClient
) -> None:
    srv = await scripted(lambda peer: peer.serve())
    client, _ = make_client(pool_size=1)
    slow = asyncio.create_task(client.get(server.url("/slow"), params={"delay": "0.2"}))
    await server.state.wait_slow_started()
    response = await client.get(srv.url("/after-slot"), http2=True)
    assert response.http_version == "2"
    assert await response.content() == b"/after-slot on 0"
    assert slow.done()  # the one slot was freed by the HTTP/1.1 request first
    assert (await slow).status_code == 200


async def test_a_failed_h2_connect_frees_its_slot(
    server: AppServer, make_client: MakeClient
) -> None:
    client, _ = make_client(pool_size=1)
    sock = refused_port()
    try:
        with pytest.raises(ConnectError):
            await client.get(f"http://127.0.0.1:{sock.getsockname()[1]}/", http2=True)
    finally:
        sock.close()
    response = await client.get(server.url("/echo"))
    assert loads(await response.content())["method"] == "GET"


async def test_concurrent_h2_offers_to_an_http11_only_server_all_fall_back(
    ca: trustme.CA, make_client: MakeClient
) -> None:
    srv = await AppServer(ssl_context=_server_context(ca, None)).start()
    try:
        client, _ = make_client(http2=True)
        context = _client_context(ca)
        responses = await asyncio.gather(
            *(client.get(srv.url(f"/echo?i={i}"), ssl=context) for i in range(3))
        )
        assert [r.http_version for r in responses] == ["1.1"] * 3
        docs = [loads(await r.content()) for r in responses]
        assert sorted(doc["query"] for doc in docs) == ["i=0", "i=1", "i=2"]
        await client.close()
    finally:
        await srv.close()


async def test_a_server_that_changes_its_alpn_answer(
    ca: trustme.CA, make_client: MakeClient
) -> None:
    # http/1.1 first; then h2 on a new connection (the origin is no longer treated as
    # HTTP/1.1 only); when that h2 connection goes away, the idle HTTP/1.1 one serves again.
    context = _server_context(ca, ["http/1.1"])

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        port = writer.get_extra_info("peername")[1]
        if writer.get_extra_info("ssl_object").selected_alpn_protocol() == "h2":
            peer = H2Peer(0, reader, writer, None)
            peer.start()
            await peer.wait_for(lambda: bool(peer.complete()))
            (request,) = peer.complete()
            peer.conn.send_headers(request.stream_id, [(b":status", b"200")])
            peer.conn.send_data(request.stream_id, b"h2 %d" % port, end_stream=True)
            peer.writer.write(peer.conn.data_to_send() + _goaway(request.stream_id))
            await peer.wait_eof()
            return
        try:
            while (request := await read_request(reader)) is not None:
                body = b"h1 %d" % port
                if request.target == "/slow":
                    await asyncio.sleep(0.2)
                writer.write(simple_response(body))
        finally:
            writer.close()

    origin = await asyncio.start_server(serve, "127.0.0.1", 0, ssl=context)
    url = f"https://127.0.0.1:{origin.sockets[0].getsockname()[1]}"
    client, _ = make_client(http2=True)
    trusting_context = _client_context(ca)
    try:
        first = await client.get(url + "/", ssl=trusting_context)
        assert first.http_version == "1.1"
        h1_answer = await first.content()
        context.set_alpn_protocols(["h2", "http/1.1"])
        busy, fresh = await asyncio.gather(
            client.get(url + "/slow", ssl=trusting_context),
            client.get(url + "/", ssl=trusting_context),
        )
        assert (busy.http_version, fresh.http_version) == ("1.1", "2")
        assert await busy.content() == h1_answer  # the idle HTTP/1.1 connection was reused
        assert (await fresh.content()).startswith(b"h2 ")
        last = await client.get(url + "/", ssl=trusting_context)
        assert last.http_version == "1.1"
        assert await last.content() == h1_answer
    finally:
        await client.close()
        origin.close()
        await origin.wait_closed()


async def test_wait_requests_watches_open_h2_streams(
    scripted: StartScripted, make_client: MakeClient
) -> None:
    release = asyncio.Event()
    arrived = asyncio.Event()  # the server has the request: its stream is open

    async def scenario(peer: H2Peer) -> None:
        def answer(peer: H2Peer, request: ScriptedRequest) -> None:
            arrived.set()
            if release.is_set():
                peer.respond(request.stream_id, request.path.encode())

        while not peer.eof:
            await peer.serve(answer, timeout=0.05)

    srv = await scripted(scenario)
    client, _ = make_client()
    pending = asyncio.create_task(client.get(srv.url("/slow"), http2=True))
    await asyncio.wait_for(arrived.wait(), 5)
    assert await client.wait_requests(timeout=0.1) is False  # a stream is still open
    release.set()
    assert await (await pending).content() == b"/slow"
    # the h2 connection stays open, holding its slot, but carries no stream: idle
    assert await client.wait_requests(timeout=2) is True
    assert len(srv.peers) == 1 and not srv.peers[0].eof
