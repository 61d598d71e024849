"""Closing: both directions of the close handshake, abrupt disconnects that must never hang,
sends after close, and the client closing what is left open (and its own connector)."""

from __future__ import annotations

import asyncio

import pytest
from support.sockets import tcp_fds, wait_closed
from support.ws_servers import ServerWS, WSApp, eventually
from wsproto.events import CloseConnection, TextMessage

import aiosonic
from aiosonic.exceptions import ConnectionDisconnected, InvalidRequest
from aiosonic.web_socket_client import WebSocketClient, WebSocketClosed


async def test_server_initiated_close_with_code_and_reason(
    app: WSApp, client: WebSocketClient
) -> None:
    ws = await client.connect(app.url())
    await ws.send_text("close 4000 see you")
    with pytest.raises(WebSocketClosed) as info:
        await ws.receive_text(timeout=5)
    assert (info.value.code, info.value.reason) == (4000, "see you")
    assert isinstance(info.value, ConnectionDisconnected)
    assert (ws.close_code, ws.close_reason) == (4000, "see you")
    assert ws.closed and not ws.connected
    with pytest.raises(WebSocketClosed, match="4000"):
        await ws.send_text("too late")
    await ws.close()  # harmless after the server's close
    await ws.close()
    assert ws.close_code == 4000
    await wait_closed(remote_port=app.port)
    assert tcp_fds(remote_port=app.port) == []


async def test_client_close_handshake(app: WSApp, client: WebSocketClient) -> None:
    ws = await client.connect(app.url())
    await ws.send_text("hi")
    assert await ws.receive_text(timeout=5) == "hi"
    await ws.close(4001, "done here")
    assert (ws.close_code, ws.close_reason) == (4001, "done here")
    await asyncio.wait_for(app.seen.closed.wait(), 10)
    assert app.seen.close_codes == [4001]
    assert app.seen.close_reasons == ["done here"]
    with pytest.raises(WebSocketClosed) as info:
        await ws.receive_text()
    assert info.value.code == 4001
    with pytest.raises(WebSocketClosed):
        await ws.ping()
    assert [m async for m in ws] == []  # closed by us, cleanly: iteration just ends
    assert tcp_fds(remote_port=app.port) == []


async def test_async_with_closes_with_1000(app: WSApp, client: WebSocketClient) -> None:
    async with await client.connect(app.url()) as ws:
        assert ws.connected
    assert ws.close_code == 1000
    await asyncio.wait_for(app.seen.closed.wait(), 10)
    assert app.seen.close_codes == [1000]


@pytest.mark.parametrize(
    ("code", "reason"), [(1005, ""), (1006, ""), (999, ""), (5000, ""), (1000, "x" * 124)]
)
async def test_close_arguments_are_checked(
    app: WSApp, client: WebSocketClient, code: int, reason: str
) -> None:
    async with await client.connect(app.url()) as ws:
        with pytest.raises(InvalidRequest):
            await ws.close(code, reason)
        assert ws.connected


async def test_abrupt_disconnect_fails_pending_and_later_calls(
    app: WSApp, client: WebSocketClient
) -> None:
    ws = await client.connect(app.url())
    pending = asyncio.ensure_future(ws.receive_text())
    pong = asyncio.ensure_future(ws.receive_pong())
    await asyncio.sleep(0)
    await ws.send_text("abort")  # the server drops the TCP connection without a close frame
    with pytest.raises(WebSocketClosed, match="lost without a close frame") as info:
        await asyncio.wait_for(pending, 10)
    assert info.value.code == 1006
    with pytest.raises(WebSocketClosed):
        await pong
    assert ws.close_code == 1006
    with pytest.raises(WebSocketClosed):
        await ws.receive_bytes()
    with pytest.raises(WebSocketClosed):
        await ws.send_bytes(b"nobody listens")
    with pytest.raises(WebSocketClosed):  # not a clean close: iteration raises
        async for _ in ws:
            pass
    await ws.close()  # nothing left to close: returns at once
    assert ws.close_code == 1006


async def test_abort_mid_fragment_is_a_1006(scripted, client: WebSocketClient) -> None:
    async def script(server: ServerWS) -> None:
        await server.accept()
        await server.send(TextMessage("half of a mess", message_finished=False))
        server.writer.transport.abort()

    srv = await scripted(script)
    ws = await client.connect(srv.url(), compress=False)
    with pytest.raises(WebSocketClosed) as info:
        await ws.receive_text(timeout=10)
    assert info.value.code == 1006
    await srv.done


async def test_close_does_not_wait_forever_for_a_silent_server(
    scripted, client: WebSocketClient
) -> None:
    release = asyncio.Event()

    async def script(server: ServerWS) -> None:
        await server.accept()
        await server.expect(CloseConnection)  # ... and never answers it
        await release.wait()

    srv = await scripted(script)
    ws = await client.connect(srv.url(), close_timeout=0.2)
    await asyncio.wait_for(ws.close(1000, "bye"), 10)  # aborted after close_timeout
    assert ws.close_code == 1000
    release.set()
    await srv.done


async def test_server_closing_tcp_after_our_close_frame(scripted, client: WebSocketClient) -> None:
    async def script(server: ServerWS) -> None:
        await server.accept()
        close = await server.expect(CloseConnection)
        assert (close.code, close.reason) == (4002, "gone")
        # no close frame back: just hang up

    srv = await scripted(script)
    ws = await client.connect(srv.url())
    await asyncio.wait_for(ws.close(4002, "gone"), 10)
    assert ws.close_code == 4002
    await srv.done


async def test_client_exit_closes_open_connections(app: WSApp) -> None:
    async with WebSocketClient() as client:
        first = await client.connect(app.url())
        second = await client.connect(app.url())
        third = await client.connect(app.url())
        await third.close()
    assert first.closed and second.closed
    assert first.close_code == second.close_code == 1001
    await eventually(lambda: len(app.seen.close_codes) == 3)
    assert sorted(app.seen.close_codes) == [1000, 1001, 1001]
    assert tcp_fds(remote_port=app.port) == []


async def test_client_leaves_a_given_connector_open(app: WSApp) -> None:
    connector = aiosonic.TCPConnector()
    try:
        async with WebSocketClient(connector) as client:
            assert client.connector is connector
            await client.connect(app.url())
        # Still usable by another client (and by HTTP requests).
        async with WebSocketClient(connector) as client, await client.connect(app.url()) as ws:
            await ws.send_text("again")
            assert await ws.receive_text(timeout=5) == "again"
        async with aiosonic.HTTPClient(connector=connector) as http:
            response = await http.get(app.url("/plain", scheme="http"))
            assert await response.text() == "just http"
    finally:
        await connector.cleanup()
