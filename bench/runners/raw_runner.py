"""Ceiling runner: bare ``asyncio.Protocol`` connections, no HTTP client library at all.

Each of the ``concurrency`` connections writes one fixed, pre-built GET request, reads the
response head up to ``\\r\\n\\r\\n``, takes the status and ``Content-Length`` from it, counts body
bytes until the body is complete and then immediately writes the next request from inside
``data_received``. There are no futures or tasks per request; one future per phase tells the
measuring coroutine that every connection has gone idle after the time was up.

Anything an HTTP client does on top of this (URL handling, header parsing, pooling, response
objects, awaiting) is what the other runners pay for, so this is the loop's upper bound.
Only the standard library is imported here.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any, cast
from urllib.parse import urlsplit

import _harness
import _transfer

_HEAD_END = b"\r\n\r\n"
_CONTENT_LENGTH = b"\r\ncontent-length:"
_STATUS_OK = b"HTTP/1.1 200 "
_MAX_HEAD = 65536


class _Phase:
    """State shared by all connections during one warm-up or timed phase."""

    __slots__ = ("done", "errors", "first_error", "idle", "ok", "running", "total")

    def __init__(self, total: int, done: asyncio.Future[None]) -> None:
        self.total = total
        self.done = done
        self.running = True
        self.ok = 0
        self.errors = 0
        self.idle = 0
        self.first_error: str | None = None

    def went_idle(self) -> None:
        self.idle += 1
        if self.idle == self.total and not self.done.done():
            self.done.set_result(None)


class _Conn(asyncio.Protocol):
    """One keep-alive connection that re-sends the same request after each full response."""

    __slots__ = ("closed", "expect_len", "good", "head", "need", "phase", "request", "transport")

    def __init__(self, request: bytes, expect_len: int) -> None:
        self.request = request
        self.expect_len = expect_len
        self.transport: asyncio.Transport | None = None
        self.phase: _Phase | None = None
        self.head = b""
        self.need = 0  # body bytes still owed; 0 while reading a response head
        self.good = False  # the current response is a 200 with the expected length
        self.closed = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's transports are not asyncio.Transport subclasses, only duck-typed alike.
        self.transport = cast(asyncio.Transport, transport)

    def start(self, phase: _Phase) -> None:
        if self.closed or self.transport is None:
            phase.errors += 1
            if phase.first_error is None:
                phase.first_error = "connection closed by the server between phases"
            phase.went_idle()
            return
        self.phase = phase
        self.transport.write(self.request)

    def data_received(self, data: bytes) -> None:
        need = self.need
        if need:
            size = len(data)
            if size < need:
                self.need = need - size
                return
            self.need = 0
            self._finished(size == need, "unexpected bytes after the response body")
            return
        head = self.head + data if self.head else data
        end = head.find(_HEAD_END)
        if end < 0:
            if len(head) > _MAX_HEAD:
                self._fail("response head too large")
                return
            self.head = head
            return
        self.head = b""
        lowered = head[:end].lower()
        at = lowered.find(_CONTENT_LENGTH)
        if at < 0:
            self._fail("response without Content-Length")
            return
        value_at = at + len(_CONTENT_LENGTH)
        value_end = lowered.find(b"\r\n", value_at)
        length = int(lowered[value_at : value_end if value_end >= 0 else end])
        self.good = head.startswith(_STATUS_OK) and length == self.expect_len
        have = len(head) - end - 4
        if have < length:
            self.need = length - have
            return
        self._finished(have == length, "unexpected bytes after the response body")

    def _finished(self, framing_ok: bool, framing_error: str) -> None:
        phase = self.phase
        assert phase is not None and self.transport is not None
        if not framing_ok:
            self._fail(framing_error)
            return
        if self.good:
            phase.ok += 1
        else:
            phase.errors += 1
            if phase.first_error is None:
                phase.first_error = "bad response: not 200 or wrong Content-Length"
        self._next(phase)

    def _next(self, phase: _Phase) -> None:
        """A response is done: send the next request at once, or go idle."""
        assert self.transport is not None
        if phase.running:
            self.transport.write(self.request)
        else:
            self.phase = None
            phase.went_idle()

    def _fail(self, message: str) -> None:
        """Give up on this connection; connection_lost counts the error."""
        phase = self.phase
        if phase is not None and phase.first_error is None:
            phase.first_error = message
        if self.transport is not None:
            self.transport.close()

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        phase = self.phase
        if phase is None:  # between phases, or already counted as idle
            return
        self.phase = None
        phase.errors += 1
        if phase.first_error is None:
            phase.first_error = f"connection lost: {exc!r}"
        phase.went_idle()


def _build_request(url: str) -> tuple[str, int, bytes]:
    parts = urlsplit(url)
    if parts.scheme != "http" or parts.hostname is None:
        raise ValueError(f"raw runner supports plain http:// URLs only, got {url!r}")
    port = parts.port or 80
    target = parts.path or "/"
    if parts.query:
        target += "?" + parts.query
    host = parts.hostname if port == 80 else f"{parts.hostname}:{port}"
    request = (
        f"GET {target} HTTP/1.1\r\nHost: {host}\r\nUser-Agent: bench-raw\r\nAccept: */*\r\n\r\n"
    )
    return parts.hostname, port, request.encode("ascii")


async def _phase(conns: list[_Conn], seconds: float) -> _harness.Outcome:
    loop = asyncio.get_running_loop()
    phase = _Phase(len(conns), loop.create_future())

    def stop() -> None:
        phase.running = False

    started = time.perf_counter()
    timer = loop.call_later(seconds, stop)
    for conn in conns:
        conn.start(phase)
    try:
        await asyncio.wait_for(asyncio.shield(phase.done), seconds + _harness.HANG_GRACE)
    finally:
        timer.cancel()
    outcome = _harness.Outcome(ok=phase.ok, errors=phase.errors, first_error=phase.first_error)
    outcome.protocol = "1.1" if phase.ok else None  # only "HTTP/1.1 200" responses count
    outcome.elapsed = time.perf_counter() - started
    return outcome


async def measure(
    opts: _harness.Options, conn_class: type[_Conn] = _Conn
) -> _harness.Outcome:
    if opts.http2 or opts.expect_version not in (None, "1.1"):
        raise ValueError("the raw runner speaks plain HTTP/1.1 only")
    if opts.expect_len is None:
        raise ValueError("the raw runner sends plain GETs only (no --workload)")
    expect_len = opts.expect_len
    host, port, request = _build_request(opts.url)
    loop = asyncio.get_running_loop()
    conns: list[_Conn] = []
    try:
        for _ in range(opts.concurrency):
            _, proto = await loop.create_connection(
                lambda: conn_class(request, expect_len), host, port
            )
            conns.append(proto)
        warm_ok = (await _phase(conns, opts.warmup)).ok if opts.warmup > 0 else 0
        outcome = await _phase(conns, opts.duration)
        outcome.warmup_ok = warm_ok
        return outcome
    finally:
        for conn in conns:
            if conn.transport is not None:
                conn.transport.close()


class _Sink(asyncio.BufferedProtocol):
    """Download ceiling: reads into one reused 256 KiB bytearray, parses only the head's
    status and ``Content-Length`` and counts body bytes. One response at a time."""

    def __init__(self) -> None:
        self.buffer = bytearray(256 * 1024)
        self.view = memoryview(self.buffer)
        self.transport: asyncio.Transport | None = None
        self.head = bytearray()
        self.need = -1  # body bytes still owed; -1 while reading a head
        self.status = 0
        self.got = 0
        self.done: asyncio.Future[tuple[int, int]] | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)

    def get(self, request: bytes) -> asyncio.Future[tuple[int, int]]:
        assert self.transport is not None
        self.done = asyncio.get_running_loop().create_future()
        self.head.clear()
        self.need, self.status, self.got = -1, 0, 0
        self.transport.write(request)
        return self.done

    def get_buffer(self, sizehint: int) -> memoryview:
        return self.view

    def buffer_updated(self, nbytes: int) -> None:
        if self.need < 0:
            self.head += self.view[:nbytes]
            end = self.head.find(_HEAD_END)
            if end < 0:
                if len(self.head) > _MAX_HEAD:
                    self._finish(ValueError("response head too large"))
                return
            lowered = bytes(self.head[:end]).lower()
            at = lowered.find(_CONTENT_LENGTH)
            if at < 0:
                self._finish(ValueError("response without Content-Length"))
                return
            value_at = at + len(_CONTENT_LENGTH)
            value_end = lowered.find(b"\r\n", value_at)
            self.need = int(lowered[value_at : value_end if value_end >= 0 else end])
            self.status = int(lowered[9:12])
            nbytes = len(self.head) - end - 4
        take = min(nbytes, self.need)
        self.got += take
        self.need -= take
        if self.need == 0:
            self._finish(None)

    def _finish(self, exc: Exception | None) -> None:
        done = self.done
        if done is not None and not done.done():
            if exc is None:
                done.set_result((self.status, self.got))
            else:
                done.set_exception(exc)

    def connection_lost(self, exc: Exception | None) -> None:
        self._finish(ConnectionError(f"connection lost: {exc!r}"))


async def open_transfer(opts: _transfer.TransferOptions) -> _transfer.TransferClient:
    """One keep-alive connection of ``_Sink``; download only."""
    host, port, _ = _build_request(opts.url)
    loop = asyncio.get_running_loop()
    _, sink = await loop.create_connection(_Sink, host, port)

    async def download(url: str) -> tuple[int, int]:
        return await sink.get(_build_request(url)[2])

    async def close() -> None:
        if sink.transport is not None:
            sink.transport.close()

    return _transfer.TransferClient(download, None, close)


def library() -> dict[str, Any]:
    return {"name": "raw asyncio.Protocol", "version": "-", "module": __file__}


if __name__ == "__main__":
    _transfer.run(measure, open_transfer, library)
