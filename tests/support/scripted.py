"""Scripted loopback servers that log what they see.

* ``ConnLog``: a keep-alive raw server handler that records every request and when each
  connection opens and closes, so a test can see reuse, a client closing an idle
  connection, or a half-read response closing its connection, from the server's side.
* ``RecordingProxy``: a tiny forward HTTP proxy (absolute-form requests only) that records
  what it was asked for and relays the origin's answer.

Both run on ``support.raw.RawServer`` (which owns the listening socket and the
tasks).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from urllib.parse import urlsplit

from .raw import Handler, RawRequest, read_request, simple_response

# Given a request and the connection's writer, answer it; False closes the connection.
Script = Callable[[RawRequest, asyncio.StreamWriter, asyncio.StreamReader], Awaitable[bool]]


class ConnLog:
    """Connections opened and closed, and requests received, by a scripted server."""

    def __init__(self) -> None:
        self.opened = 0
        self.closed = 0
        self.requests: list[RawRequest] = []
        self._changed = asyncio.Event()

    def _note(self) -> None:
        self._changed.set()

    async def wait_for(self, predicate: Callable[[], bool], timeout: float = 2.0) -> None:
        """Wait until ``predicate()`` holds (checked whenever something is logged)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while not predicate():
            self._changed.clear()
            left = deadline - loop.time()
            if left <= 0:
                raise AssertionError(
                    f"timed out: opened={self.opened} closed={self.closed} "
                    f"requests={len(self.requests)}"
                )
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._changed.wait(), left)

    def handler(self, script: Script) -> Handler:
        """A ``RawServer`` handler: read requests in a keep-alive loop, answer each with
        ``script``; log the connection's life."""

        async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            self.opened += 1
            self._note()
            try:
                while True:
                    request = await read_request(reader)
                    if request is None:
                        return
                    self.requests.append(request)
                    self._note()
                    if not await script(request, writer, reader):
                        return
            finally:
                self.closed += 1
                self._note()

        return handle


def replies(*answers: bytes, then: bytes | None = None) -> Script:
    """A script answering the n-th request with ``answers[n]``, then always ``then`` (or
    the last answer)."""
    queue = list(answers)
    final = then if then is not None else answers[-1]

    async def script(
        request: RawRequest, writer: asyncio.StreamWriter, reader: asyncio.StreamReader
    ) -> bool:
        writer.write(queue.pop(0) if queue else final)
        await writer.drain()
        return True

    return script


def status(code: int, body: bytes = b"", headers: list[tuple[str, str]] | None = None) -> bytes:
    """A complete keep-alive response with status ``code``."""
    reasons = {200: "OK", 302: "Found", 404: "Not Found", 429: "Too Many Requests",
               500: "Internal Server Error", 503: "Service Unavailable"}
    return simple_response(body, f"{code} {reasons.get(code, 'Status')}", headers)


def chunk(data: bytes) -> bytes:
    return b"%x\r\n%s\r\n" % (len(data), data)


async def wait_client_gone(reader: asyncio.StreamReader) -> None:
    """Block until the client closes (or resets) the connection."""
    with contextlib.suppress(ConnectionError):
        while await reader.read(65536):
            pass


class RecordingProxy:
    """A forward proxy for ``http://`` URLs: records each request (absolute-form target and
    headers), sends it to the origin with ``Connection: close`` and relays the answer."""

    def __init__(self) -> None:
        self.requests: list[RawRequest] = []

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while True:
            request = await read_request(reader)
            if request is None:
                return
            self.requests.append(request)
            writer.write(await self._forward(request))
            await writer.drain()

    async def _forward(self, request: RawRequest) -> bytes:
        target = urlsplit(request.target)
        if target.scheme != "http" or target.hostname is None:
            return simple_response(b"absolute-form http only", "400 Bad Request")
        path = target.path or "/"
        if target.query:
            path += "?" + target.query
        skip = {"proxy-authorization", "proxy-connection", "connection", "content-length",
                "transfer-encoding"}
        lines = [f"{request.method} {path} HTTP/1.1"]
        lines += [f"{k}: {v}" for k, v in request.headers if k.lower() not in skip]
        lines += ["Connection: close", f"Content-Length: {len(request.body)}"]
        head = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
        origin_reader, origin_writer = await asyncio.open_connection(
            target.hostname, target.port or 80
        )
        try:
            origin_writer.write(head + request.body)
            await origin_writer.drain()
            return await origin_reader.read()  # the origin closes after its answer
        finally:
            origin_writer.close()
            with contextlib.suppress(ConnectionError):
                await origin_writer.wait_closed()
