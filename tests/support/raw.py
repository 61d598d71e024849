"""The raw scripted-socket server and helpers for exact-bytes HTTP/1.1 exchanges.

* ``RawServer``: an ``asyncio.start_server`` server on loopback driven by a scripted handler
  that writes exact bytes, for edge cases (truncated bodies, no framing, interim responses,
  garbage).
* ``read_request`` / ``simple_response``: read one request, build one response
  (``read_head`` and ``read_body``: the two halves of ``read_request``).
* ``FullBacklogListener`` and ``refused_port``: addresses that stall or refuse a connect.

Every server listens on an ephemeral port of the loopback interface only, and ``close()``
releases every socket and task it created so no resource warning escapes.
"""

from __future__ import annotations

import asyncio
import contextlib
import select
import socket
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

HOST = "127.0.0.1"


# --------------------------------------------------------------------------------------------
# Raw scripted servers
# --------------------------------------------------------------------------------------------


@dataclass
class RawRequest:
    method: str
    target: str
    version: str
    headers: list[tuple[str, str]]
    body: bytes
    head: bytes

    def header(self, name: str) -> str | None:
        for key, value in self.headers:
            if key.lower() == name.lower():
                return value
        return None


async def read_request(reader: asyncio.StreamReader) -> RawRequest | None:
    """Read one HTTP/1.1 request (head and body). ``None`` on a clean EOF before a request."""
    request = await read_head(reader)
    if request is not None:
        request.body = await read_body(reader, request)
    return request


async def read_head(reader: asyncio.StreamReader) -> RawRequest | None:
    """Read one request head (its ``body`` left empty: ``read_body`` reads it). ``None`` on a
    clean EOF before a request."""
    try:
        head = await reader.readuntil(b"\r\n\r\n")
    except asyncio.IncompleteReadError as exc:
        if not exc.partial:
            return None
        raise
    lines = head[:-4].decode("latin-1").split("\r\n")
    method, target, version = lines[0].split(" ", 2)
    headers: list[tuple[str, str]] = []
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers.append((name.strip(), value.strip()))
    return RawRequest(method, target, version, headers, b"", head)


async def read_body(reader: asyncio.StreamReader, request: RawRequest) -> bytes:
    """The body of the request whose head was read (chunked, or by Content-Length)."""
    length = request.header("Content-Length")
    if "chunked" in (request.header("Transfer-Encoding") or "").lower():
        body = bytearray()
        while True:
            size_line = await reader.readuntil(b"\r\n")
            size = int(size_line.split(b";", 1)[0].strip(), 16)
            if size == 0:
                # trailers until the empty line
                while (await reader.readuntil(b"\r\n")) != b"\r\n":
                    pass
                break
            body += await reader.readexactly(size)
            await reader.readexactly(2)
        return bytes(body)
    if length is not None:
        return await reader.readexactly(int(length))
    return b""


def simple_response(
    body: bytes = b"",
    status: str = "200 OK",
    headers: list[tuple[str, str]] | None = None,
    content_length: bool = True,
) -> bytes:
    lines = [f"HTTP/1.1 {status}"]
    for name, value in headers or []:
        lines.append(f"{name}: {value}")
    if content_length:
        lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]
Responder = Callable[[RawRequest], Awaitable[bytes | None]]


class RawServer:
    """``asyncio.start_server`` on an ephemeral port with a scripted per-connection handler.

    Give either ``handler(reader, writer)`` (full control), or ``respond(request)``: a
    keep-alive loop reads each request (recorded in ``requests``) and writes the bytes
    ``respond`` returns; ``None`` closes the connection. ``connections`` counts accepted
    connections. ``close()`` cancels handlers still running and closes every socket.
    """

    def __init__(
        self,
        handler: Handler | None = None,
        respond: Responder | None = None,
        host: str = HOST,
    ) -> None:
        if (handler is None) == (respond is None):
            raise ValueError("give exactly one of handler and respond")
        self.host = host
        self._handler = handler
        self._respond = respond
        self._tasks: set[asyncio.Task[None]] = set()
        self._server: asyncio.Server | None = None
        self.connections = 0
        self.requests: list[RawRequest] = []
        self.port = 0

    async def start(self) -> RawServer:
        self._server = await asyncio.start_server(self._on_client, self.host, 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    @property
    def netloc(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{host}:{self.port}"

    def url(self, path: str = "/") -> str:
        return f"http://{self.netloc}{path}"

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        assert self._respond is not None
        while True:
            request = await read_request(reader)
            if request is None:
                return
            self.requests.append(request)
            reply = await self._respond(request)
            if reply is None:
                return
            writer.write(reply)
            await writer.drain()

    async def _on_client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        try:
            if self._handler is not None:
                await self._handler(reader, writer)
            else:
                await self._serve(reader, writer)
        except (ConnectionError, asyncio.IncompleteReadError, asyncio.LimitOverrunError):
            pass
        finally:
            self._tasks.discard(task)
            writer.close()
            with contextlib.suppress(Exception, asyncio.CancelledError):
                await writer.wait_closed()

    async def close(self) -> None:
        if self._server is None:
            return
        self._server.close()
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await self._server.wait_closed()
        self._server = None


# --------------------------------------------------------------------------------------------
# A listener whose accept backlog is full (for connect timeouts)
# --------------------------------------------------------------------------------------------


class FullBacklogListener:
    """A listening socket that is never accepted from, with its backlog filled.

    New connection attempts to it stall in SYN-SENT (Linux drops the SYN while the accept
    queue is full), which is how a connect timeout is provoked without leaving loopback.
    """

    def __init__(self) -> None:
        self.listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.listener.bind((HOST, 0))
        self.listener.listen(0)
        self.port = self.listener.getsockname()[1]
        self._fillers: list[socket.socket] = []

    def fill(self, attempts: int = 32) -> bool:
        """Connect until an attempt stalls. True when the backlog is full."""
        address = (HOST, self.port)
        for _ in range(attempts):
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            sock.setblocking(False)
            self._fillers.append(sock)
            sock.connect_ex(address)
            _, writable, _ = select.select([], [sock], [], 0.25)
            if not writable:
                return True
        return False

    def url(self, path: str = "/") -> str:
        return f"http://{HOST}:{self.port}{path}"

    def close(self) -> None:
        for sock in self._fillers:
            sock.close()
        self._fillers.clear()
        self.listener.close()


def refused_port() -> socket.socket:
    """A socket bound to a loopback port but not listening: connecting to it is refused.

    The caller keeps it open (so no one else takes the port) and closes it afterwards.
    """
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind((HOST, 0))
    return sock
