"""Frame-level behaviour against a scripted wsproto server: fragments, control frames between
them, frames that arrive with the 101, and servers that break the protocol."""

from __future__ import annotations

import pytest
from support.ws_servers import ServerWS
from wsproto.events import (
    AcceptConnection,
    BytesMessage,
    CloseConnection,
    Ping,
    Pong,
    Request,
    TextMessage,
)

from aiosonic.web_socket_client import (
    MessageTooBig,
    WebSocketClient,
    WebSocketClosed,
    WebSocketProtocolError,
)


async def test_fragments_are_reassembled(scripted, client: WebSocketClient) -> None:
    async def script(server: ServerWS) -> None:
        await server.accept()
        await server.send(
            TextMessage("Hel", message_finished=False),
            TextMessage("lo, ", message_finished=False),
            TextMessage("wörld", message_finished=True),
        )
        pieces = [BytesMessage(bytes([i]) * 1000, message_finished=False) for i in range(50)]
        await server.send(*pieces, BytesMessage(b"end", message_finished=True))
        # A multi-byte character split across two frames.
        await server.write(b"\x01\x01\xe2" + b"\x80\x02\x80\x93")
        await server.expect(CloseConnection)

    srv = await scripted(script)
    async with await client.connect(srv.url(), compress=False) as ws:
        assert await ws.receive_text(timeout=5) == "Hello, wörld"
        assert await ws.receive_bytes(timeout=5) == (
            b"".join(bytes([i]) * 1000 for i in range(50)) + b"end"
        )
        assert await ws.receive_text(timeout=5) == "\u2013"
    await srv.done


async def test_control_frames_between_fragments(scripted, client: WebSocketClient) -> None:
    async def script(server: ServerWS) -> None:
        await server.accept()
        await server.send(
            TextMessage("first ", message_finished=False),
            Ping(b"in the middle"),
            Pong(b"unsolicited"),
            TextMessage("second", message_finished=True),
        )
        pong = await server.expect(Pong)  # the client answered the ping at once
        assert pong.payload == b"in the middle"
        await server.expect(CloseConnection)

    srv = await scripted(script)
    async with await client.connect(srv.url(), compress=False, start_keepalive=False) as ws:
        assert await ws.receive_text(timeout=5) == "first second"
        assert await ws.receive_pong(timeout=5) == b"unsolicited"
    await srv.done


async def test_frames_sent_with_the_101_are_not_lost(scripted, client: WebSocketClient) -> None:
    async def script(server: ServerWS) -> None:
        await server.expect(Request)
        conn = server.conn
        head = conn.send(AcceptConnection())
        frames = conn.send(TextMessage("early")) + conn.send(BytesMessage(b"bird"))
        await server.write(head + frames)  # one write: the 101 and two frames behind it
        await server.expect(CloseConnection)

    srv = await scripted(script)
    async with await client.connect(srv.url(), compress=False) as ws:
        assert await ws.receive_text(timeout=5) == "early"
        assert await ws.receive_bytes(timeout=5) == b"bird"
    await srv.done


async def test_compressed_fragments_from_a_deflate_server(
    scripted, client: WebSocketClient
) -> None:
    async def script(server: ServerWS) -> None:
        await server.accept(deflate=True)
        await server.send(
            TextMessage("aaaa" * 1000, message_finished=False),
            Ping(b"p"),
            TextMessage("bbbb" * 1000, message_finished=True),
        )
        await server.expect(Pong)
        echoed = await server.expect(TextMessage)
        assert echoed.data == "client says hi" * 100
        await server.expect(CloseConnection)

    srv = await scripted(script)
    async with await client.connect(srv.url(), start_keepalive=False) as ws:
        assert ws.extensions == ["permessage-deflate"]
        assert await ws.receive_text(timeout=5) == "aaaa" * 1000 + "bbbb" * 1000
        await ws.send_text("client says hi" * 100)
    await srv.done


async def test_fragmented_message_over_the_limit(scripted, client: WebSocketClient) -> None:
    async def script(server: ServerWS) -> None:
        await server.accept()
        await server.send(*(BytesMessage(b"x" * 200, message_finished=False) for _ in range(10)))
        close = await server.expect(CloseConnection)
        assert close.code == 1009
        await server.send(close.response())

    srv = await scripted(script)
    ws = await client.connect(srv.url(), compress=False, max_msg_size=1000)
    with pytest.raises(MessageTooBig) as info:
        await ws.receive_bytes(timeout=5)
    assert info.value.code == 1009
    await ws.close()
    assert ws.close_code == 1009
    await srv.done


@pytest.mark.parametrize("compress", [False, True])
async def test_a_frame_announcing_too_much_is_refused_at_its_header(
    scripted, client: WebSocketClient, compress: bool
) -> None:
    async def script(server: ServerWS) -> None:
        await server.accept(deflate=compress)
        # A binary frame announcing 2**62 bytes, and the first few of them: the client
        # must not wait for the rest.
        await server.write(b"\x82\x7f" + (2**62).to_bytes(8, "big") + b"x" * 10)
        close = await server.expect(CloseConnection)
        assert close.code == 1009
        await server.send(close.response())

    srv = await scripted(script)
    ws = await client.connect(srv.url(), compress=compress, max_msg_size=1_000_000)
    with pytest.raises(MessageTooBig) as info:
        await ws.receive_bytes(timeout=5)
    assert info.value.code == 1009
    await ws.close()
    await srv.done


@pytest.mark.parametrize(
    "bad",
    [
        pytest.param(b"\xc1\x02hi", id="rsv1-without-extension"),  # Autobahn 3.2
        pytest.param(b"\x83\x00", id="reserved-opcode"),  # Autobahn 4.1.x
        pytest.param(b"\x80\x00", id="continuation-without-start"),  # Autobahn 5.15
    ],
)
async def test_a_valid_message_before_a_bad_frame_is_answered_first(
    scripted, client: WebSocketClient, bad: bytes
) -> None:
    # Both in one write: the message is delivered, the application answers it, and only
    # then does the client fail the connection with 1002 (what Autobahn calls strict).
    async def script(server: ServerWS) -> None:
        await server.accept()
        await server.write(b"\x81\x05hello" + bad)
        echoed = await server.expect(TextMessage)
        assert echoed.data == "hello"
        close = await server.expect(CloseConnection)
        assert close.code == 1002

    srv = await scripted(script)
    ws = await client.connect(srv.url(), compress=False, start_keepalive=False)
    await ws.send_text(await ws.receive_text(timeout=5))
    with pytest.raises(WebSocketProtocolError) as info:
        await ws.receive_text(timeout=5)
    assert info.value.code == 1002
    await ws.close()
    await srv.done


async def test_invalid_utf8_closes_with_1007(scripted, client: WebSocketClient) -> None:
    async def script(server: ServerWS) -> None:
        await server.accept()
        await server.write(b"\x81\x02\xff\xfe")  # a text frame that is not UTF-8
        close = await server.expect(CloseConnection)
        assert close.code == 1007

    srv = await scripted(script)
    ws = await client.connect(srv.url(), compress=False)
    with pytest.raises(WebSocketProtocolError) as info:
        await ws.receive_text(timeout=5)
    assert info.value.code == 1007
    assert ws.close_code == 1007
    await ws.close()
    await srv.done


@pytest.mark.parametrize(
    "frame",
    [
        pytest.param(b"\x81\x82abcd\x00\x00", id="masked-by-server"),
        pytest.param(b"\x80\x00", id="continuation-without-start"),
        pytest.param(b"\x89\x7e\x00\x7e" + b"p" * 126, id="control-frame-too-long"),
        pytest.param(b"\xc1\x01a", id="rsv1-without-deflate"),
        pytest.param(b"\x83\x00", id="reserved-opcode"),
        pytest.param(b"\x88\x02\x03\xed", id="close-code-1005-on-the-wire"),
    ],
)
async def test_protocol_violations_close_with_an_error(
    scripted, client: WebSocketClient, frame: bytes
) -> None:
    async def script(server: ServerWS) -> None:
        await server.accept()
        await server.write(frame)
        close = await server.expect(CloseConnection)
        assert close.code == 1002

    srv = await scripted(script)
    ws = await client.connect(srv.url(), compress=False)
    with pytest.raises(WebSocketProtocolError, match="broke the WebSocket protocol") as info:
        await ws.receive(timeout=5)
    assert info.value.code == 1002
    with pytest.raises(WebSocketProtocolError):
        await ws.send_text("no")
    with pytest.raises(WebSocketProtocolError):
        async for _ in ws:
            pass
    await ws.close()
    await srv.done


async def test_server_close_without_code(scripted, client: WebSocketClient) -> None:
    async def script(server: ServerWS) -> None:
        await server.accept()
        await server.write(b"\x88\x00")  # a close frame with no status
        await server.expect(CloseConnection)  # echoed

    srv = await scripted(script)
    ws = await client.connect(srv.url(), compress=False)
    with pytest.raises(WebSocketClosed) as info:
        await ws.receive_text(timeout=5)
    assert info.value.code == 1005
    assert [m async for m in ws] == []  # a clean close: iteration simply ends
    await ws.close()
    await srv.done
