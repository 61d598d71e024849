"""WebSocket client edge cases (``aiosonic.web_socket_client`` and ``aiosonic._ws``): arguments it
refuses, ``Message`` as a value, deflate parameters in the server's answer, frames that
arrive after a close frame, and a keep-alive pong stuck behind messages nobody read."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import zlib
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from support.app import AppServer
from support.ws_servers import Scripted, ServerWS
from wsproto.events import CloseConnection, Ping, TextMessage

import aiosonic
from aiosonic.web_socket_client import (
    Message,
    MessageType,
    NoProtocolHandler,
    WebSocketClient,
    WebSocketClosed,
    WebSocketError,
    WebSocketHandshakeError,
)

StartScripted = Callable[[Callable[[ServerWS], Awaitable[None]]], Awaitable[Scripted]]


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"max_msg_size": 0}, "max_msg_size must be positive or None: 0"),
        ({"close_timeout": 0}, "close_timeout must be positive: 0"),
    ],
)
async def test_connect_refuses_limits_that_make_no_sense(
    options: dict[str, Any], message: str
) -> None:
    async with WebSocketClient() as client:
        with pytest.raises(ValueError, match=message):
            await client.connect("ws://127.0.0.1:9/", **options)


def test_messages_compare_by_type_and_bytes_and_show_a_short_repr() -> None:
    text = Message.create_text("héllo")
    assert text == Message(MessageType.TEXT, "héllo")
    assert text.raw_data == "héllo".encode()
    assert text != Message.create_binary("héllo".encode())
    assert text != "héllo"  # not a Message: never equal
    long = Message.create_binary(bytes(100))
    assert repr(long) == f"Message(BINARY, {bytes(60)!r}..., 100 bytes)"
    assert repr(text) == "Message(TEXT, 'héllo', 6 bytes)"


def _accept_token(key: str) -> str:
    digest = hashlib.sha1((key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11").encode()).digest()
    return base64.b64encode(digest).decode()


async def _switch(server: ServerWS, extension: str) -> None:
    """Answer the handshake by hand, accepting deflate with ``extension``'s parameters."""
    head = (await server.reader.readuntil(b"\r\n\r\n")).decode("latin-1")
    key = next(line.split(":", 1)[1].strip() for line in head.split("\r\n")
               if line.lower().startswith("sec-websocket-key:"))
    await server.write(
        (
            "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            f"Sec-WebSocket-Accept: {_accept_token(key)}\r\n"
            f"Sec-WebSocket-Extensions: {extension}\r\n\r\n"
        ).encode("latin-1")
    )


async def test_a_deflate_parameter_given_twice_fails_the_handshake(
    scripted: StartScripted,
) -> None:
    async def script(server: ServerWS) -> None:
        await _switch(server, "permessage-deflate; client_no_context_takeover; "
                              "client_no_context_takeover")
        await server.reader.read()

    srv = await scripted(script)
    async with WebSocketClient() as client:
        with pytest.raises(WebSocketHandshakeError, match="given twice") as raised:
            await client.connect(srv.url())
    assert raised.value.status_code == 101


async def test_a_server_window_of_8_bits_is_read_with_a_9_bit_window(
    scripted: StartScripted,
) -> None:
    text = "compressed with the smallest window " * 20

    async def script(server: ServerWS) -> None:
        await _switch(server, "permessage-deflate; server_max_window_bits=8")
        squeeze = zlib.compressobj(wbits=-9)  # zlib's smallest raw window (8 means 9)
        data = squeeze.compress(text.encode()) + squeeze.flush(zlib.Z_SYNC_FLUSH)
        data = data[:-4]  # without the 00 00 ff ff tail (RFC 7692 section 7.2.1)
        assert len(data) < 126
        await server.write(bytes([0xC1, len(data)]) + data)  # FIN, RSV1, text
        await server.write(b"\x88\x02\x03\xe8")  # close, 1000
        await server.reader.read(65536)  # the client's answer; then TCP is closed

    srv = await scripted(script)
    async with WebSocketClient() as client:
        ws = await client.connect(srv.url(), start_keepalive=False)
        assert await ws.receive_text(timeout=5) == text
        await srv.done
    assert ws.close_code == 1000


async def test_frames_after_the_servers_close_frame_are_ignored(
    scripted: StartScripted,
) -> None:
    async def script(server: ServerWS) -> None:
        await server.accept()
        await server.send(CloseConnection(code=4002, reason="bye"))
        await asyncio.sleep(0.05)  # a separate read for what comes after the close frame
        await server.write(b"\x81\x05after")
        await server.expect(CloseConnection)

    srv = await scripted(script)
    async with WebSocketClient() as client:
        no_limits = aiosonic.Timeouts(sock_connect=None, sock_read=None, request_timeout=None)
        ws = await client.connect(srv.url(), start_keepalive=False, timeouts=no_limits)
        with pytest.raises(WebSocketClosed) as closed:
            await ws.receive_text(timeout=5)
        await srv.done
    assert (closed.value.code, closed.value.reason) == (4002, "bye")
    assert ws.close_code == 4002
    assert repr(ws) == "<WebSocketConnection closed 4002>"


async def test_after_our_close_frame_pings_go_unanswered_and_messages_are_dropped(
    scripted: StartScripted,
) -> None:
    after_close: list[bytes] = []

    async def script(server: ServerWS) -> None:
        await server.accept()
        await server.expect(CloseConnection)
        await server.write(b"\x89\x04ping" + b"\x81\x04late")  # unmasked ping, then text
        try:
            after_close.append(await asyncio.wait_for(server.reader.read(65536), 0.2))
        except asyncio.TimeoutError:
            after_close.append(b"")
        await server.send(CloseConnection(code=1000))

    srv = await scripted(script)
    async with WebSocketClient() as client:
        ws = await client.connect(srv.url(), start_keepalive=False)
        await ws.close(4003, "leaving")
        await srv.done
        with pytest.raises(WebSocketClosed) as closed:
            await ws.receive()  # "late" arrived after our close frame: not delivered
    assert closed.value.code == 4003
    assert after_close == [b""]  # no pong for the ping that came after our close frame


async def test_protocol_helpers_need_a_handler_and_keep_alive_needs_positive_times(
    scripted: StartScripted,
) -> None:
    async def script(server: ServerWS) -> None:
        await server.accept()
        await server.expect(CloseConnection)

    srv = await scripted(script)
    async with WebSocketClient() as client:
        ws = await client.connect(srv.url(), start_keepalive=False)
        # Upstream raises RuntimeError there: ours is that and a WebSocketError.
        with pytest.raises(RuntimeError, match="no protocol_handler configured") as sent:
            await ws.send_protocol({"a": 1})
        with pytest.raises(RuntimeError, match="no protocol_handler configured") as received:
            await ws.receive_protocol(timeout=1)
        for caught in (sent, received):
            assert isinstance(caught.value, WebSocketError)
            assert type(caught.value) is NoProtocolHandler
        with pytest.raises(ValueError, match="must be positive"):
            ws.start_keep_alive(0)
        assert repr(ws) == "<WebSocketConnection open>"
        await ws.close()


async def test_a_keepalive_pong_behind_unread_messages_does_not_close_the_connection(
    scripted: StartScripted,
) -> None:
    # The reader is behind (the queue of one message is full, so the socket is paused):
    # the pong for the keep-alive ping sits behind messages not read yet, which is no
    # reason to give up on the server.
    async def script(server: ServerWS) -> None:
        await server.accept()
        await server.send(*(TextMessage(data=f"m{i}") for i in range(50)))
        while True:
            event = await server.next_event()
            if event is None or isinstance(event, CloseConnection):
                return
            if isinstance(event, Ping):
                await server.send(event.response())

    srv = await scripted(script)
    async with WebSocketClient() as client:
        ws = await client.connect(srv.url(), start_keepalive=False, max_queue=1)
        ws.start_keep_alive(0.05, 0.05)
        await asyncio.sleep(0.3)  # several keep-alive deadlines pass while nobody reads
        got = [await ws.receive_text(timeout=5) for _ in range(50)]
        assert got == [f"m{i}" for i in range(50)]
        assert ws.connected
        await ws.close()
    assert ws.close_code == 1000


async def test_a_websocket_waits_for_a_pool_slot_held_by_a_request(
    scripted: StartScripted,
    server: AppServer,
) -> None:
    async def script(ws_server: ServerWS) -> None:
        await ws_server.accept()
        await ws_server.expect(CloseConnection)

    srv = await scripted(script)
    connector = aiosonic.TCPConnector(pool_size=1)
    http = aiosonic.HTTPClient(connector=connector)
    try:
        slow = asyncio.create_task(http.get(server.url("/slow"), params={"delay": "0.2"}))
        await server.state.wait_slow_started()
        ws = await WebSocketClient(connector).connect(srv.url(), start_keepalive=False)
        assert slow.done()  # the handshake had to wait for the only slot
        assert ws.connected
        await ws.close()
        assert (await slow).status_code == 200
    finally:
        await http.close()
