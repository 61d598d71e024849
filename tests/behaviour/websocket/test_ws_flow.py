"""Flow: keep-alive pings and their deadline, read back-pressure for a slow consumer, and
write flow control for a server that stops reading."""

from __future__ import annotations

import asyncio
import os

import pytest
from support.ws_servers import ServerWS, WSApp, eventually
from wsproto.events import BytesMessage, CloseConnection, Ping

from aiosonic.exceptions import ReadTimeout
from aiosonic.web_socket_client import WebSocketClient, WebSocketClosed

MESSAGES = 400
SIZE = 64 * 1024  # 400 x 64 KiB = 25 MiB: more than loopback socket buffers hold


async def test_keepalive_pings_reach_the_server(app: WSApp, client: WebSocketClient) -> None:
    ws = await client.connect(app.url("/echo?autoping=0"), keepalive_interval=0.02)
    async with ws:
        await eventually(lambda: len(app.seen.pings) >= 3)
        assert all(ping.startswith(b"aiosonic-keepalive-") for ping in app.seen.pings)
        assert ws.connected  # every ping was answered in time
        with pytest.raises(ReadTimeout):
            await ws.receive_pong(timeout=0.05)  # keep-alive pongs are not the caller's
        ws.stop_keep_alive()
        await ws.send_text("sync")  # a round trip: any ping still in flight has arrived
        assert await ws.receive_text(timeout=5) == "sync"
        seen = len(app.seen.pings)
        await asyncio.sleep(0.1)
        assert len(app.seen.pings) == seen


async def test_no_keepalive_unless_asked(app: WSApp, client: WebSocketClient) -> None:
    ws = await client.connect(
        app.url("/echo?autoping=0"), start_keepalive=False, keepalive_interval=0.01
    )
    async with ws:
        await asyncio.sleep(0.1)
        await ws.send_text("sync")
        assert await ws.receive_text(timeout=5) == "sync"
        assert app.seen.pings == []
        ws.start_keep_alive(0.01)
        await eventually(lambda: len(app.seen.pings) >= 1)


async def test_missing_pong_closes_with_1011(scripted, client: WebSocketClient) -> None:
    async def script(server: ServerWS) -> None:
        await server.accept()
        await server.expect(Ping)  # never answered
        close = await server.expect(CloseConnection)
        assert close.code == 1011

    srv = await scripted(script)
    ws = await client.connect(srv.url(), keepalive_interval=0.05, keepalive_timeout=0.1)
    with pytest.raises(WebSocketClosed, match="no pong") as info:
        await ws.receive_text(timeout=10)
    assert info.value.code == 1011
    assert ws.close_code == 1011
    await ws.close()
    await srv.done


async def test_slow_consumer_pauses_the_socket(app: WSApp, client: WebSocketClient) -> None:
    url = app.url(f"/flood?n={MESSAGES}&size={SIZE}")
    ws = await client.connect(url, compress=False, max_queue=8, start_keepalive=False)
    protocol = ws._protocol
    await eventually(lambda: protocol.reading_paused)
    # The reader is asleep; the server keeps trying to send until its socket is full.
    await asyncio.wait_for(app.seen.flood_blocked.wait(), 10)
    assert protocol.reading_paused
    # At most max_queue messages plus what one socket read (256 KiB) can hold.
    assert 8 <= len(protocol.messages) <= 8 + 256 * 1024 // SIZE + 1
    assert app.seen.sent[0] < MESSAGES  # the server is blocked, not buffered by us
    for i in range(MESSAGES):
        message = await ws.receive_bytes(timeout=10)
        assert int.from_bytes(message[:4], "big") == i
        assert len(protocol.messages) <= 8 + 256 * 1024 // SIZE + 1
    assert not protocol.reading_paused
    assert app.seen.sent[0] == MESSAGES
    await ws.close()


async def test_drop_frames_drops_instead_of_pausing(app: WSApp, client: WebSocketClient) -> None:
    ws = await client.connect(
        app.url("/flood?n=50&size=1024"),
        compress=False,
        conn_opts={"queue_maxsize": 4, "drop_frames": True},
    )
    protocol = ws._protocol
    await eventually(lambda: bool(app.seen.sent) and app.seen.sent[0] == 50)
    await eventually(lambda: len(protocol.messages) == 4)
    # The server answers a ping after its 50 messages: once the pong is in, all 50 were read.
    await ws.ping(b"after the flood")
    assert await ws.receive_pong(timeout=5) == b"after the flood"
    assert len(protocol.messages) == 4  # the other 46 were dropped, not buffered
    assert not protocol.reading_paused
    firsts = [int.from_bytes((await ws.receive_bytes())[:4], "big") for _ in range(4)]
    assert firsts == [0, 1, 2, 3]
    await ws.send_text("still here")
    assert await ws.receive_text(timeout=5) == "still here"
    await ws.close()


async def test_sends_wait_while_the_server_does_not_read(
    scripted, client: WebSocketClient
) -> None:
    reading = asyncio.Event()
    received: list[int] = []

    async def script(server: ServerWS) -> None:
        await server.accept()
        await reading.wait()
        while len(received) < 64:
            event = await server.next_event()
            assert isinstance(event, BytesMessage)
            if event.message_finished:
                received.append(1)
        await server.expect(CloseConnection)

    srv = await scripted(script)
    ws = await client.connect(srv.url(), compress=False, start_keepalive=False)
    chunk = os.urandom(1024 * 1024)

    async def send_all() -> None:
        for _ in range(64):
            await ws.send_bytes(chunk)

    sender = asyncio.ensure_future(send_all())
    protocol = ws._protocol
    await eventually(lambda: protocol._writing_paused)
    # The sender is parked on the full transport (waiting for it to drain).
    await eventually(lambda: bool(protocol._drain_waiters))
    assert not sender.done()  # waiting for the transport to drain, not buffering 64 MiB
    transport = protocol.transport
    assert transport is not None
    assert transport.get_write_buffer_size() <= 2 * len(chunk) + 64 * 1024
    reading.set()
    await asyncio.wait_for(sender, 30)
    await ws.close()
    await srv.done
    assert len(received) == 64
