"""A scripted aiohttp server streaming text/event-stream on loopback.

``await sse_server(handler)`` starts an application whose every request is recorded
(``server.requests``: method, path, headers, body) and answered by ``handler(request,
attempt)``, ``attempt`` counting requests from 0, so a test can script each (re)connection.
Helpers write a stream in odd pieces with pauses, drop the connection mid-stream, or keep
it open until the client leaves (``server.disconnected`` is then set).
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field

from aiohttp import web
from multidict import CIMultiDict

HOST = "127.0.0.1"

Handler = Callable[[web.Request, int], Awaitable[web.StreamResponse]]


@dataclass
class Seen:
    method: str
    path_qs: str
    headers: CIMultiDict[str]
    body: bytes


@dataclass
class SSEServer:
    handler: Handler
    requests: list[Seen] = field(default_factory=list)
    disconnected: asyncio.Event = field(default_factory=asyncio.Event)
    port: int = 0
    _runner: web.AppRunner | None = None

    async def start(self, port: int = 0) -> SSEServer:
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._handle)
        self._runner = web.AppRunner(
            app, access_log=None, handler_cancellation=True, shutdown_timeout=0.5
        )
        await self._runner.setup()
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((HOST, port))
        self.port = sock.getsockname()[1]
        await web.SockSite(self._runner, sock).start()
        return self

    def url(self, path: str = "/events") -> str:
        return f"http://{HOST}:{self.port}{path}"

    async def close(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        body = await request.read()
        self.requests.append(
            Seen(request.method, request.path_qs, CIMultiDict(request.headers), body)
        )
        return await self.handler(request, len(self.requests) - 1)

    def header(self, name: str) -> list[str | None]:
        """The value of header ``name`` in every request so far (None where absent)."""
        return [seen.headers.get(name) for seen in self.requests]

    # -- answers ------------------------------------------------------------------------

    async def stream(
        self,
        request: web.Request,
        pieces: Iterable[bytes],
        *,
        pause: float = 0.0,
        content_type: str = "text/event-stream",
    ) -> web.StreamResponse:
        """Write ``pieces`` one by one (``pause`` seconds apart) and end the body."""
        response = await self.open(request, content_type=content_type)
        for piece in pieces:
            await response.write(piece)
            if pause:
                await asyncio.sleep(pause)
        await response.write_eof()
        return response

    async def open(
        self, request: web.Request, content_type: str = "text/event-stream"
    ) -> web.StreamResponse:
        response = web.StreamResponse(headers={"Content-Type": content_type})
        await response.prepare(request)
        return response

    async def hold(self, response: web.StreamResponse, heartbeat: bytes = b": ping\n") -> None:
        """Keep the stream open, writing ``heartbeat`` (if any) now and then, until the client
        leaves."""
        try:
            while True:
                if heartbeat:
                    await response.write(heartbeat)
                await asyncio.sleep(0.01)
        except (ConnectionError, asyncio.CancelledError):
            self.disconnected.set()
            raise

    async def drop(self, request: web.Request, response: web.StreamResponse) -> None:
        """Cut the connection in the middle of the body."""
        assert request.transport is not None
        request.transport.abort()
        await asyncio.sleep(10)  # cancelled by the lost connection


def odd_pieces(data: bytes, sizes: Iterable[int] = (1, 3, 2, 7, 5, 11, 4)) -> list[bytes]:
    """``data`` cut into pieces of cycling odd sizes (one byte, three, two, seven...)."""
    pieces: list[bytes] = []
    size_list = list(sizes)
    pos = index = 0
    while pos < len(data):
        size = size_list[index % len(size_list)]
        pieces.append(data[pos : pos + size])
        pos += size
        index += 1
    return pieces


def no_content() -> web.Response:
    return web.Response(status=204)
