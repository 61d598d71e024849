"""Messages against aiohttp's WebSocket server: echo of every kind, large messages and the
size limit, compression, ping/pong, timeouts, wrong types and iteration."""

from __future__ import annotations

import asyncio
import json
import random

import pytest
from support.ws_servers import WSApp

from aiosonic.exceptions import InvalidRequest, ReadTimeout
from aiosonic.web_socket_client import (
    Message,
    MessageTooBig,
    MessageType,
    ProtocolHandler,
    WebSocketClient,
    WebSocketClosed,
    WebSocketMessageTypeError,
)

MB = 1024 * 1024


async def test_echo_text_binary_json(app: WSApp, client: WebSocketClient) -> None:
    async with await client.connect(app.url()) as ws:
        await ws.send_text("héllo ✓")
        assert await ws.receive_text(timeout=5) == "héllo ✓"
        await ws.send_bytes(b"\x00\x01\xff")
        assert await ws.receive_bytes(timeout=5) == b"\x00\x01\xff"
        await ws.send_bytes(bytearray(b"ba"))
        assert await ws.receive_bytes(timeout=5) == b"ba"
        await ws.send_json({"a": [1, 2, None], "b": "ü"})
        assert await ws.receive_json(timeout=5) == {"a": [1, 2, None], "b": "ü"}
        await ws.send_json([1], dumps=lambda obj: json.dumps(obj, indent=2))
        assert await ws.receive_text(timeout=5) == "[\n  1\n]"
        await ws.send_text('{"x": 1}')
        assert await ws.receive_json(loads=lambda s: ("custom", json.loads(s))) == (
            "custom",
            {"x": 1},
        )
        await ws.send_text("")
        assert await ws.receive_text(timeout=5) == ""


@pytest.mark.parametrize("compress", [True, False])
async def test_one_megabyte_messages(app: WSApp, client: WebSocketClient, compress: bool) -> None:
    data = random.Random(7).randbytes(MB)
    text = random.Random(8).randbytes(MB // 4).hex() + "é✓" * (MB // 8)  # 1.25 MB of UTF-8
    async with await client.connect(app.url(), compress=compress) as ws:
        assert ws.extensions == (["permessage-deflate"] if compress else [])
        await ws.send_bytes(data)
        assert await ws.receive_bytes(timeout=10) == data
        await ws.send_text(text)
        assert await ws.receive_text(timeout=10) == text


async def test_message_over_max_msg_size_closes_with_1009(
    app: WSApp, client: WebSocketClient
) -> None:
    ws = await client.connect(app.url(), compress=False, max_msg_size=MB)
    await ws.send_text(f"big {MB}")  # exactly the limit: fine
    assert len(await ws.receive_bytes(timeout=10)) == MB
    await ws.send_text(f"big {MB + 1}")
    with pytest.raises(MessageTooBig, match="max_msg_size") as info:
        await ws.receive_bytes(timeout=10)
    assert info.value.code == 1009
    assert ws.close_code == 1009
    assert ws.closed
    await asyncio.wait_for(app.seen.closed.wait(), 10)
    assert app.seen.close_codes == [1009]
    with pytest.raises(MessageTooBig):  # every later call says the same
        await ws.receive_text()
    with pytest.raises(MessageTooBig):
        await ws.send_text("after")
    await ws.close()


async def test_compressed_bomb_stops_at_max_msg_size(app: WSApp, client: WebSocketClient) -> None:
    # 64 MB of zeros deflates to ~64 KB on the wire; the limit is checked while inflating.
    ws = await client.connect(app.url(), max_msg_size=MB)
    assert ws.extensions == ["permessage-deflate"]
    await ws.send_text(f"big {64 * MB}")
    with pytest.raises(MessageTooBig):
        await ws.receive_bytes(timeout=30)
    assert ws.close_code == 1009
    await ws.close()


async def test_compression_negotiated_on_both_sides(app: WSApp, client: WebSocketClient) -> None:
    async with await client.connect(app.url()) as ws:
        assert ws.extensions == ["permessage-deflate"]
        text = "compressible " * 10000
        await ws.send_text(text)
        assert await ws.receive_text(timeout=5) == text
    async with await client.connect(app.url(), compress=False) as ws:
        assert ws.extensions == []
    async with await client.connect(app.url("/echo?compress=0")) as ws:
        assert ws.extensions == []  # offered, declined
        await ws.send_text("plain")
        assert await ws.receive_text(timeout=5) == "plain"
    assert app.seen.compress[0] == 15
    assert not app.seen.compress[1]
    assert not app.seen.compress[2]
    assert "permessage-deflate" in app.seen.headers[0]["Sec-WebSocket-Extensions"]
    assert "Sec-WebSocket-Extensions" not in app.seen.headers[1]


async def test_wrong_type_raises_a_clear_error(app: WSApp, client: WebSocketClient) -> None:
    async with await client.connect(app.url()) as ws:
        await ws.send_bytes(b"binary")
        with pytest.raises(WebSocketMessageTypeError, match="expected a text message") as info:
            await ws.receive_text(timeout=5)
        assert info.value.payload == b"binary"
        assert isinstance(info.value, ValueError)
        await ws.send_text("text")
        with pytest.raises(WebSocketMessageTypeError, match="expected a binary message"):
            await ws.receive_bytes(timeout=5)
        await ws.send_text("still open")
        assert await ws.receive_text(timeout=5) == "still open"
        with pytest.raises(TypeError):
            await ws.send_text(b"bytes")  # type: ignore[arg-type]
        with pytest.raises(TypeError):
            await ws.send_bytes("text")  # type: ignore[arg-type]


async def test_receive_timeout_raises_read_timeout_and_keeps_the_connection(
    app: WSApp, client: WebSocketClient
) -> None:
    async with await client.connect(app.url()) as ws:
        with pytest.raises(ReadTimeout):
            await ws.receive_text(timeout=0.05)
        with pytest.raises(ReadTimeout):
            await ws.receive_pong(timeout=0.05)
        assert ws.connected
        await ws.send_text("after the timeout")
        assert await ws.receive_text(timeout=5) == "after the timeout"


async def test_cancelled_receive_leaves_no_waiter(app: WSApp, client: WebSocketClient) -> None:
    async with await client.connect(app.url()) as ws:
        task = asyncio.ensure_future(ws.receive_text())
        await asyncio.sleep(0.01)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        await ws.send_text("next")
        assert await ws.receive_text(timeout=5) == "next"


async def test_ping_pong(app: WSApp, client: WebSocketClient) -> None:
    async with await client.connect(app.url(), start_keepalive=False) as ws:
        await ws.ping(b"are you there")
        assert await ws.receive_pong(timeout=5) == b"are you there"
        await ws.ping()
        assert await ws.receive_pong(timeout=5) == b""
        with pytest.raises(InvalidRequest, match="125"):
            await ws.ping(b"x" * 126)


async def test_concurrent_receivers_each_get_one(app: WSApp, client: WebSocketClient) -> None:
    async with await client.connect(app.url()) as ws:
        first = asyncio.ensure_future(ws.receive_text(timeout=5))
        second = asyncio.ensure_future(ws.receive_text(timeout=5))
        await asyncio.sleep(0)
        await ws.send_text("one")
        await ws.send_text("two")
        assert sorted(await asyncio.gather(first, second)) == ["one", "two"]


async def test_iteration_yields_messages_until_the_server_closes(
    app: WSApp, client: WebSocketClient
) -> None:
    async with await client.connect(app.url()) as ws:
        await ws.send_text("a")
        await ws.send_bytes(b"b")
        await ws.send_text("bin c")
        await ws.send_text("close 4000 done")
        got = [message async for message in ws]
        assert got == [
            Message(MessageType.TEXT, "a"),
            Message.create_binary(b"b"),
            Message(MessageType.BINARY, b"c", b"c", 0x2),
        ]
        assert got[0].opcode == 0x1 and got[0].raw_data == b"a"
        assert got[1].type is MessageType.BINARY and got[1].data == b"b"
        assert ws.close_code == 4000
        assert ws.close_reason == "done"


async def test_messages_queued_before_the_close_are_still_read(
    app: WSApp, client: WebSocketClient
) -> None:
    async with await client.connect(app.url()) as ws:
        for i in range(5):
            await ws.send_text(str(i))
        await ws.send_text("close 1000 bye")
        await asyncio.wait_for(app.seen.closed.wait(), 10)
        assert [await ws.receive_text() for _ in range(5)] == ["0", "1", "2", "3", "4"]
        with pytest.raises(WebSocketClosed) as info:
            await ws.receive_text()
        assert (info.value.code, info.value.reason) == (1000, "bye")


class Reversed(ProtocolHandler):
    @property
    def name(self) -> str:
        return "chat"

    def encode(self, data: str) -> bytes:
        return data[::-1].encode()

    def decode(self, data: bytes) -> str:
        return data.decode()[::-1]


async def test_protocol_handler_round_trip(app: WSApp, client: WebSocketClient) -> None:
    ws = await client.connect(app.url(), conn_opts={"protocol_handler": Reversed()})
    async with ws:
        assert ws.subprotocol == "chat"  # offered from the handler's name
        await ws.send_protocol("hello")
        assert await ws.receive_protocol(timeout=5) == "hello"
