"""Servers for the WebSocket client tests, all on loopback.

* ``WSApp``: an aiohttp application with ``web.WebSocketResponse`` endpoints (echo, close on
  command, floods, ping observation, refusals), plain or TLS; it records what it saw.
* ``ServerWS``: the server side of one connection on a raw asyncio server, spoken with
  wsproto, for frames aiohttp never sends (fragments, control frames in between, bad UTF-8,
  silence, bytes right behind the 101).

Their fixtures are in ``behaviour/websocket/conftest.py``; the local CA and the proxy.py
process come from the shared ``tests/conftest.py``.
"""

from __future__ import annotations

import asyncio
import socket
import ssl
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TypeVar

from aiohttp import WSMsgType, web
from wsproto import ConnectionType, WSConnection
from wsproto.events import AcceptConnection, Event, Request
from wsproto.extensions import PerMessageDeflate

from .sockets import wait_closed

HOST = "127.0.0.1"
E = TypeVar("E", bound=Event)

# --------------------------------------------------------------------------- aiohttp app


@dataclass
class Seen:
    """What the aiohttp application observed, per connection in arrival order."""

    headers: list[dict[str, str]] = field(default_factory=list)
    compress: list[int] = field(default_factory=list)
    close_codes: list[int | None] = field(default_factory=list)
    close_reasons: list[str] = field(default_factory=list)
    pings: list[bytes] = field(default_factory=list)
    sent: list[int] = field(default_factory=list)  # flood: messages sent so far
    # flood: set once the server's socket is full (writing paused): it cannot send more
    # until the client reads
    flood_blocked: asyncio.Event = field(default_factory=asyncio.Event)
    closed: asyncio.Event = field(default_factory=asyncio.Event)


def _build(seen: Seen) -> web.Application:
    async def serve(
        request: web.Request, ws: web.WebSocketResponse, on_text: Callable[[str], Awaitable[None]]
    ) -> web.WebSocketResponse:
        seen.headers.append(dict(request.headers))
        seen.compress.append(ws.compress)
        reason = ""
        while True:
            msg = await ws.receive()
            if msg.type is WSMsgType.TEXT:
                await on_text(msg.data)
            elif msg.type is WSMsgType.BINARY:
                await ws.send_bytes(msg.data)
            elif msg.type is WSMsgType.PING:
                seen.pings.append(msg.data)
                await ws.pong(msg.data)
            elif msg.type is WSMsgType.CLOSE:
                reason = msg.extra or ""
                break
            else:  # CLOSING, CLOSED, ERROR
                break
        seen.close_codes.append(ws.close_code)
        seen.close_reasons.append(reason)
        seen.closed.set()
        return ws

    async def echo(request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(
            protocols=("chat", "superchat"),
            compress=request.query.get("compress", "1") == "1",
            autoping=request.query.get("autoping", "1") == "1",
            max_msg_size=0,
        )
        await ws.prepare(request)

        async def on_text(text: str) -> None:
            # Commands: "close <code> <reason>", "big <n>" (n zero bytes), "abort",
            # "json-bin"; anything else is echoed.
            command, _, arg = text.partition(" ")
            if command == "close":
                code, _, why = arg.partition(" ")
                await ws.close(code=int(code), message=why.encode())
            elif command == "big":
                await ws.send_bytes(bytes(int(arg)))
            elif command == "abort":
                assert request.transport is not None
                request.transport.abort()
            elif command == "bin":
                await ws.send_bytes(arg.encode())
            else:
                await ws.send_str(text)

        return await serve(request, ws, on_text)

    async def flood(request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(compress=False, max_msg_size=0)
        await ws.prepare(request)
        count, size = int(request.query["n"]), int(request.query["size"])
        seen.sent.append(0)
        for i in range(count):
            await ws.send_bytes(i.to_bytes(4, "big") + bytes(size - 4))
            seen.sent[-1] = i + 1
            if request.protocol.writing_paused:
                seen.flood_blocked.set()

        async def on_text(text: str) -> None:
            await ws.send_str(text)

        return await serve(request, ws, on_text)

    async def forbidden(request: web.Request) -> web.Response:
        return web.Response(status=403, text="no websockets for you")

    async def plain(request: web.Request) -> web.Response:
        return web.Response(text="just http")

    app = web.Application()
    app.router.add_get("/echo", echo)
    app.router.add_get("/flood", flood)
    app.router.add_get("/forbidden", forbidden)
    app.router.add_get("/plain", plain)
    return app


class WSApp:
    """The aiohttp WebSocket application on an ephemeral loopback port."""

    def __init__(self, ssl_context: ssl.SSLContext | None = None) -> None:
        self.ssl_context = ssl_context
        self.seen = Seen()
        self._runner: web.AppRunner | None = None
        self.port = 0

    def url(self, path: str = "/echo", scheme: str | None = None) -> str:
        scheme = scheme or ("wss" if self.ssl_context else "ws")
        return f"{scheme}://{HOST}:{self.port}{path}"

    async def start(self) -> WSApp:
        self._runner = web.AppRunner(
            _build(self.seen), access_log=None, handler_cancellation=True, shutdown_timeout=0.5
        )
        await self._runner.setup()
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((HOST, 0))
        self.port = sock.getsockname()[1]
        await web.SockSite(self._runner, sock, ssl_context=self.ssl_context).start()
        return self

    async def close(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
            await wait_closed(local_port=self.port)


# --------------------------------------------------------------------------- scripted server


class ServerWS:
    """The server end of one raw connection, spoken with wsproto."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer
        self.conn = WSConnection(ConnectionType.SERVER)
        self._events: deque[Event] = deque()

    async def next_event(self) -> Event | None:
        """The next event from the client; None at EOF."""
        while not self._events:
            data = await self.reader.read(65536)
            if not data:
                return None
            self.conn.receive_data(data)
            self._events.extend(self.conn.events())
        return self._events.popleft()

    async def expect(self, kind: type[E]) -> E:
        event = await self.next_event()
        assert isinstance(event, kind), f"expected {kind.__name__}, got {event!r}"
        return event

    async def accept(
        self,
        subprotocol: str | None = None,
        deflate: bool = False,
        then: bytes = b"",
    ) -> Request:
        """Complete the handshake; ``then`` is written in the same write as the 101."""
        request = await self.expect(Request)
        extensions = [PerMessageDeflate()] if deflate else []
        accept = AcceptConnection(subprotocol=subprotocol, extensions=extensions)
        self.writer.write(self.conn.send(accept) + then)
        await self.writer.drain()
        return request

    async def send(self, *events: Event) -> None:
        self.writer.write(b"".join(self.conn.send(event) for event in events))
        await self.writer.drain()

    async def write(self, data: bytes) -> None:
        self.writer.write(data)
        await self.writer.drain()


Script = Callable[[ServerWS], Awaitable[None]]


@dataclass
class Scripted:
    port: int
    done: asyncio.Future[None]

    def url(self, path: str = "/") -> str:
        return f"ws://{HOST}:{self.port}{path}"


async def eventually(check: Callable[[], bool], timeout: float = 10.0) -> None:
    """Wait until ``check()`` holds (polling); fail the test if it never does."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not check():
        assert loop.time() < deadline, "condition never became true"
        await asyncio.sleep(0.01)
