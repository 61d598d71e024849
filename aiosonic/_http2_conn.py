"""HTTP/2 over one connection: our sans-IO core (``_h2core``) driven by an asyncio.Protocol.

One TLS connection (ALPN "h2") or cleartext connection (h2c, prior knowledge) carries many
concurrent streams. The loop calls ``data_received``; the core turns the bytes into events,
which complete the waiting request's response head, feed bodies, and end or reset streams.
Bytes the core wants to send are flushed after every event batch and every local action.

Flow control both ways: request bodies never go past the peer's window (a sender waits for
WINDOW_UPDATE), and response data is acknowledged as the reader consumes it, so a slow reader
of one stream stalls only that stream. Our stream window is generous (4 MiB by default) and
the connection window far larger (1 GiB), so held-back streams never stall the others.

GOAWAY: the connection takes no new streams; streams the server did not process (above its
last stream id) fail with ``StreamNotProcessed`` so the connector can retry idempotent
requests on another connection; the rest finish. A dying connection fails every stream.
Server push is refused (SETTINGS_ENABLE_PUSH=0; a PUSH_PROMISE is a connection error);
PING is answered by the core itself. A server breaking a rule on one stream (a malformed
response head, a body longer than its content-length) fails that stream only.

The connection's life::

    OPEN      --goaway-->  DRAINING   the server sent GOAWAY: no new streams, the rest finish
    OPEN/DRAINING --close/die--> CLOSED   we closed it, or it failed or was lost
    DRAINING/CLOSED --drained--> FINISHED  no stream left: the owner is told, once

It is made from a dialed connection (``Dialed``) that selected h2. It never dials, never
picks connections (the pool does) and never parses HTTP/1.1.
"""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import AsyncIterable, Callable, Iterable
from enum import Enum
from time import monotonic
from typing import TYPE_CHECKING, Any, Protocol, cast

from ._h2core import (
    DataReceived,
    GoAwayReceived,
    H2ConnectionError,
    H2Core,
    H2LocalError,
    PingReceived,
    ResponseReceived,
    SettingsReceived,
    StreamEnded,
    StreamError,
    StreamIdsExhausted,
    StreamReset,
    TrailersReceived,
    WindowUpdated,
)
from ._h2frames import CANCEL, MAX_STREAM_ID, NO_ERROR, REFUSED_STREAM, error_name
from ._hpack import Decoder as HpackDecoder
from ._hpack import Encoder as HpackEncoder
from ._http11_conn import early_answer
from ._lifecycle import LosableProtocol
from ._request import close_stream
from ._url import URL
from .exceptions import (
    AiosonicError,
    ConnectionDisconnected,
    HttpParsingError,
    InvalidRequest,
    ReadTimeout,
    RequestTimeout,
    StreamNotProcessed,
)
from .limits import DEFAULT_H2_WINDOW as DEFAULT_WINDOW
from .limits import DEFAULT_LIMITS, Limits
from .response import HttpResponse

if TYPE_CHECKING:
    from ._interfaces import Exchange

__all__ = [
    "DEFAULT_WINDOW",
    "HTTP2Protocol",
    "StreamNotProcessed",
    "h2_request_headers",
]

# The connection-level window is far larger than a stream's, so that data held back for a
# stream whose reader is paused (at most one stream window) never stalls the other streams.
CONNECTION_WINDOW = 1 << 30
# We track at most this many streams the server could open towards us (push is off anyway).
MAX_INBOUND_STREAMS = 100
_INF = float("inf")
# More PING/SETTINGS frames than this in one second is a flood (RFC 9113 10.5).
MAX_CONTROL_FRAMES_PER_SECOND = 1000
# Connection-specific headers have no meaning in HTTP/2 (RFC 9113 8.2.2).
_NOT_IN_H2 = frozenset(
    {"connection", "keep-alive", "proxy-connection", "transfer-encoding", "upgrade", "host"}
)


class H2Owner(Protocol):
    """Told when a stream ends (capacity freed) and when the connection is finished."""

    def stream_freed(self) -> None: ...

    def h2_finished(self) -> None: ...


# Header lists by request shape. The request builder shares one ``pairs`` list per method,
# URL and header set (``HeadCache``) and never changes it, so a list seen again (the entry
# keeps it alive: its id cannot be reused meanwhile) gives the same HTTP/2 headers.
_H2_HEADERS: dict[tuple[str, bool, str, str, int], tuple[object, list[tuple[bytes, bytes]]]] = {}
_H2_HEADERS_MAX = 256


def h2_request_headers(
    method: str, url: URL, pairs: Iterable[tuple[str, str]]
) -> list[tuple[bytes, bytes]]:
    """Pseudo-headers first, then the request's headers in lower case, minus the ones that
    are specific to an HTTP/1.1 connection. The list is shared: never change it."""
    key = (method, url.is_secure, url.host_header, url.target, id(pairs))
    known = _H2_HEADERS.get(key)
    if known is not None and known[0] is pairs:
        return known[1]
    headers = _build_h2_headers(method, url, pairs)
    if isinstance(pairs, (list, tuple)):
        if len(_H2_HEADERS) >= _H2_HEADERS_MAX:
            _H2_HEADERS.clear()
        _H2_HEADERS[key] = (pairs, headers)
    return headers


def _build_h2_headers(
    method: str, url: URL, pairs: Iterable[tuple[str, str]]
) -> list[tuple[bytes, bytes]]:
    headers = [
        (b":method", method.encode("ascii")),
        (b":scheme", b"https" if url.is_secure else b"http"),
        (b":authority", url.host_header.encode("ascii")),
        (b":path", url.target.encode("ascii")),
    ]
    for name, value in pairs:
        lowered = name.lower()
        if lowered in _NOT_IN_H2:
            continue
        if lowered == "te" and value.lower() != "trailers":
            continue
        try:
            raw = value.encode("latin-1")
        except UnicodeEncodeError:
            raw = value.encode("utf-8")
        headers.append((lowered.encode("ascii"), raw))
    return headers


class _Stream:
    """One request/response exchange on an HTTP/2 connection; the response's body source."""

    __slots__ = (
        "deadline",
        "ended",
        "error",
        "head_waiter",
        "last_read",
        "paused",
        "protocol",
        "response_ref",
        "sending",
        "sent_at",
        "sid",
        "sock_read",
        "timer",
        "unacked",
    )

    def __init__(
        self,
        protocol: HTTP2Protocol,
        sid: int,
        waiter: asyncio.Future[HttpResponse],
        deadline: float | None,
        sock_read: float | None,
        now: float,
    ) -> None:
        self.protocol = protocol
        self.sid = sid
        self.head_waiter: asyncio.Future[HttpResponse] | None = waiter
        self.response_ref: weakref.ref[HttpResponse] | None = None
        self.paused = False
        self.unacked = 0
        self.deadline = _INF if deadline is None else deadline
        self.sock_read = sock_read
        self.last_read = now
        self.sent_at = now
        self.ended = False
        self.sending = False  # the request body is still going out
        self.error: BaseException | None = None
        self.timer: asyncio.TimerHandle | None = None

    def response(self) -> HttpResponse | None:
        ref = self.response_ref
        return ref() if ref is not None else None

    # BodySource --------------------------------------------------------------------------

    def pause_body(self) -> None:
        self.paused = True

    def resume_body(self) -> None:
        if self.paused:
            self.paused = False
            self.last_read = monotonic()
            if self.unacked:
                self.protocol.acknowledge(self, self.unacked)
                self.unacked = 0

    def abort(self, exc: BaseException) -> None:
        self.protocol.fail_stream(self, exc, reset=True)


class Life(Enum):
    OPEN = "open"
    DRAINING = "draining"
    CLOSED = "closed"
    FINISHED = "finished"

    __hash__ = object.__hash__  # singletons: identity hashing, in C


_OPEN, _DRAINING, _CLOSED, _FINISHED = Life.OPEN, Life.DRAINING, Life.CLOSED, Life.FINISHED


class HTTP2Protocol(LosableProtocol):
    """One HTTP/2 connection carrying many concurrent request streams."""

    http2 = True
    http_version = "2"

    def __init__(
        self,
        loop: asyncio.AbstractEventLoop,
        owner: H2Owner,
        window: int = DEFAULT_WINDOW,
        limits: Limits = DEFAULT_LIMITS,
    ) -> None:
        self.loop = loop
        self.owner = owner
        self.window = window
        self.limits = limits
        self.transport: asyncio.Transport | None = None
        self.life = _OPEN
        self.streams: dict[int, _Stream] = {}
        self._send_waiters: list[asyncio.Future[None]] = []
        self._writing_paused = False
        self._flush_scheduled = False
        self.error: AiosonicError | None = None  # what killed the connection, if anything
        self._preface: bytes | None = b""  # the server's first bytes, until checked
        self._control_since = 0.0
        self._control_count = 0
        # Outbound headers were validated by the request builder already (the same token
        # and CR/LF/NUL rules as HTTP/1.1); inbound ones are checked by the core. GOAWAY
        # does not close the core: the streams up to the server's last stream id finish;
        # we stop opening streams ourselves (``goaway``) and close once drained.
        self.core = H2Core(
            HpackEncoder(),
            HpackDecoder(limits.max_head_size),
            initial_window=window,
            connection_window=max(CONNECTION_WINDOW, window),
            max_concurrent_streams=MAX_INBOUND_STREAMS,
            max_header_list_size=limits.max_head_size,
        )

    @property
    def closed(self) -> bool:
        return self.life is _CLOSED or self.life is _FINISHED

    @property
    def goaway(self) -> bool:
        """No new streams: GOAWAY received, or the connection is closed."""
        return self.life is not _OPEN

    # -- HTTPConnection -------------------------------------------------------------------

    @property
    def is_available(self) -> bool:
        return self.can_take_stream

    def reusable(self, now: float) -> bool:
        return self.can_take_stream

    @property
    def is_idle(self) -> bool:
        return not self.streams

    @property
    def is_closed(self) -> bool:
        return self.closed

    def has_expired(self) -> bool:
        return self.life is not _OPEN

    async def handle_request(self, exchange: Exchange) -> HttpResponse:
        """Open a stream for the exchange, send it (the body within flow control) and
        return its response once the head has arrived. ``StreamNotProcessed`` says the
        server did not process it (safe to send again elsewhere)."""
        data, stream = exchange.data, exchange.stream
        ends = data is None and stream is None
        h2_stream, waiter = self.start(
            exchange.h2_headers(), ends, deadline=exchange.deadline,
            sock_read=exchange.timeouts.sock_read, now=exchange.started,
        )
        trace = exchange.trace
        if trace is not None:
            trace("headers_sent")
        try:
            if not ends:
                await self.send_body(h2_stream, data if data is not None else stream or b"")
            response = await waiter
            if trace is not None:
                trace("first_byte")
            return response
        except ConnectionDisconnected:
            early = early_answer(waiter)
            if early is not None:
                return early
            raise
        except BaseException as exc:
            self.fail_stream(h2_stream, exc)
            if not waiter.done():
                waiter.cancel()
            raise

    # -- asyncio.Protocol -----------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)
        self.core.initiate()
        self._flush()

    def data_received(self, data: bytes) -> None:
        if self._preface is not None and not self._check_preface(data):
            return
        try:
            events = self.core.receive(data)
        except H2ConnectionError as exc:
            self._flush()  # the GOAWAY saying why
            self._die(HttpParsingError(f"HTTP/2 protocol error from the server: {exc}"))
            return
        now = monotonic()  # also when a head in this read arrived
        for event in events:
            kind = type(event)
            if kind in _CONTROL_EVENTS and self._control_flood(now):
                return
            handler = _HANDLERS.get(kind)
            if handler is not None:
                handler(self, event, now)
        self._flush()

    def _control_flood(self, now: float) -> bool:
        """Count frames that make us answer (PING, SETTINGS): a peer sending thousands per
        second is flooding us (our answers would pile up unread). True: the connection died."""
        if now - self._control_since >= 1.0:
            self._control_since = now
            self._control_count = 0
        self._control_count += 1
        if self._control_count > MAX_CONTROL_FRAMES_PER_SECOND:
            self._die(HttpParsingError("HTTP/2 control frame flood (PING or SETTINGS)"))
            return True
        return False

    def _check_preface(self, data: bytes) -> bool:
        """The server's first frame must be SETTINGS (RFC 9113 3.4). The core would wait
        for as many bytes as whatever garbage came first declares (up to its frame size
        limit); refuse it at once instead."""
        assert self._preface is not None
        head = self._preface + data[:9]
        if len(head) < 9:
            self._preface = head
            return True
        self._preface = None
        length = int.from_bytes(head[:3], "big")
        if head[3] != 0x4 or length % 6 or length > 16384:
            self._die(HttpParsingError(
                f"server did not start with an HTTP/2 SETTINGS frame: {head!r}"
            ))
            return False
        return True

    def connection_lost(self, exc: Exception | None) -> None:
        if self.life is not _FINISHED:
            self.life = _CLOSED
        self.mark_lost()
        reason = f"connection lost: {exc}" if exc else "server closed the HTTP/2 connection"
        self._die(ConnectionDisconnected(reason))

    def pause_writing(self) -> None:
        self._writing_paused = True

    def resume_writing(self) -> None:
        self._writing_paused = False
        self._wake_senders()

    # -- events ---------------------------------------------------------------------------

    def _on_response(self, event: ResponseReceived, now: float) -> None:
        stream = self.streams.get(event.stream_id)
        if stream is None:
            return
        stream.last_read = now
        raw_headers = event.headers  # validated, pseudo-headers left out
        encoding: bytes | None = None
        # As upstream reports it: a body of unknown length comes "chunked" (in pieces).
        chunked = True
        for name, value in raw_headers:
            if name == b"content-encoding":
                encoding = value if encoding is None else encoding + b"," + value
            elif name == b"content-length":
                chunked = False
        if len(raw_headers) > self.limits.max_headers:
            self.fail_stream(stream, HttpParsingError(
                f"response has more than {self.limits.max_headers} headers"
            ))
            return
        response = HttpResponse(event.status, "", "2", raw_headers, encoding, chunked)
        response._protocol = stream
        response._limits = self.limits
        response._sent_at = stream.sent_at
        response._head_at = now
        stream.response_ref = weakref.ref(response, self._response_dropped(stream))
        waiter = stream.head_waiter
        stream.head_waiter = None
        if waiter is not None and not waiter.done():
            waiter.set_result(response)

    def _on_data(self, event: DataReceived, now: float) -> None:
        stream = self.streams.get(event.stream_id)
        size = event.flow_length
        if stream is None:
            # Data for a stream we gave up on: keep the connection window open.
            self.core.acknowledge(event.stream_id, size)
            return
        stream.last_read = now
        response = stream.response()
        if response is not None and event.data:
            response._feed(event.data)
        if stream.paused:
            stream.unacked += size
        elif size:
            self.acknowledge(stream, size)

    def _on_trailers(self, event: TrailersReceived, now: float) -> None:
        stream = self.streams.get(event.stream_id)
        if stream is None:
            return
        stream.last_read = now
        if len(event.headers) > self.limits.max_headers:
            self.fail_stream(stream, HttpParsingError(
                f"response has more than {self.limits.max_headers} trailer fields"
            ))
            return
        response = stream.response()
        if response is not None:
            response._trailers = event.headers  # validated; ends the stream (StreamEnded)

    def _on_end(self, event: StreamEnded, now: float) -> None:
        stream = self.streams.get(event.stream_id)
        if stream is None:
            return
        response = stream.response()
        if response is not None:
            response._finish()
            if stream.sending:
                # A complete answer before the whole request body: stop sending it and
                # close our side (RFC 9113 section 8.1), so the stream stops counting
                # against the server's concurrency limit.
                stream.sending = False
                if self.core.reset_stream(stream.sid, NO_ERROR):
                    self._flush()
        elif stream.head_waiter is not None:
            self.fail_stream(stream, ConnectionDisconnected("stream ended without a response"))
            return
        self._end_stream(stream)

    def _on_reset(self, event: StreamReset, now: float) -> None:
        stream = self.streams.get(event.stream_id)
        if stream is None:
            return
        code = event.code
        if code == REFUSED_STREAM and stream.head_waiter is not None:
            error: AiosonicError = StreamNotProcessed("server refused the stream (REFUSED_STREAM)")
        else:
            error = ConnectionDisconnected(
                f"server reset the stream (error code {error_name(code)}, {code})"
            )
        self.fail_stream(stream, error, reset=False)

    def _on_stream_error(self, event: StreamError, now: float) -> None:
        # The core reset the stream already: the server broke a rule on this stream only.
        stream = self.streams.get(event.stream_id)
        if stream is not None:
            self.fail_stream(
                stream,
                HttpParsingError(
                    f"HTTP/2 protocol error from the server on stream {event.stream_id}: "
                    f"{event.reason} ({error_name(event.code)})"
                ),
                reset=False,
            )

    def _on_goaway(self, event: GoAwayReceived, now: float) -> None:
        if self.life is _OPEN:
            self.life = _DRAINING
        last = event.last_stream_id
        for stream in list(self.streams.values()):
            if stream.sid > last:
                self.fail_stream(
                    stream,
                    StreamNotProcessed(
                        f"server sent GOAWAY (error code {error_name(event.code)}) "
                        "before processing this request"
                    ),
                    reset=False,
                )
        self._maybe_finish()

    def _on_window(self, event: WindowUpdated, now: float) -> None:
        self._wake_senders()

    def _on_settings(self, event: SettingsReceived, now: float) -> None:
        self._wake_senders()
        self.owner.stream_freed()  # a higher concurrency limit frees capacity too

    # -- streams --------------------------------------------------------------------------

    @property
    def can_take_stream(self) -> bool:
        return (
            self.life is _OPEN
            and len(self.streams) < self.core.max_concurrent_streams
            and self.core.next_stream_id <= MAX_STREAM_ID
        )

    def start(
        self,
        headers: list[tuple[bytes, bytes]],
        end_stream: bool,
        *,
        deadline: float | None,
        sock_read: float | None,
        now: float | None = None,
    ) -> tuple[_Stream, asyncio.Future[HttpResponse]]:
        """Open a stream and send the request headers; the future resolves to the response.
        ``now``: the ``time.monotonic()`` reading the request went out at, if the caller has
        one (the clock its deadline counts on, as the HTTP/1.1 connection's)."""
        if not self.can_take_stream:
            raise StreamNotProcessed("the HTTP/2 connection takes no new streams")
        try:
            sid = self.core.open_stream(headers, end_stream)
        except H2LocalError as exc:
            if isinstance(exc, StreamIdsExhausted) and self.life is _OPEN:
                self.life = _DRAINING  # the streams in flight finish; then it closes
                self._maybe_finish()
            raise StreamNotProcessed(f"the HTTP/2 connection takes no new streams: {exc}") \
                from None
        waiter: asyncio.Future[HttpResponse] = self.loop.create_future()
        if now is None:
            now = monotonic()
        stream = _Stream(self, sid, waiter, deadline, sock_read, now)
        stream.sending = not end_stream
        self.streams[sid] = stream
        if self.core.next_stream_id > MAX_STREAM_ID and self.life is _OPEN:
            self.life = _DRAINING  # that was the last stream id: finish, then close
        self._arm(stream, now)
        self._flush_soon()  # requests started in the same loop turn share one write
        return stream, waiter

    async def send_body(
        self, stream: _Stream, body: bytes | Iterable[bytes] | AsyncIterable[bytes]
    ) -> None:
        """Send a request body within the peer's flow-control windows, then end the stream.
        An iterator is finalised however this ends."""
        if isinstance(body, (bytes, bytearray, memoryview)):
            await self._send_data(stream, bytes(body))
        else:
            try:
                if isinstance(body, AsyncIterable):
                    async for piece in body:
                        await self._send_data(stream, _as_bytes(piece))
                else:
                    for piece in body:
                        await self._send_data(stream, _as_bytes(piece))
            finally:
                await close_stream(body)
        self._check_sendable(stream)
        stream.sending = False
        try:
            self.core.end_stream(stream.sid)
        except H2LocalError:
            raise stream.error or ConnectionDisconnected(
                "the stream ended while sending the request body"
            ) from None
        self._flush()

    async def _send_data(self, stream: _Stream, data: bytes) -> None:
        view = memoryview(data)
        while view:
            self._check_sendable(stream)
            core = self.core
            window = min(core.send_window_of(stream.sid), core.max_outbound_frame_size)
            if window <= 0 or self._writing_paused:
                waiter = self.loop.create_future()
                self._send_waiters.append(waiter)
                await waiter
                continue
            core.send_data(stream.sid, view[:window].tobytes())
            view = view[window:]
            self._flush()

    def _check_sendable(self, stream: _Stream) -> None:
        if stream.ended or self.streams.get(stream.sid) is not stream:
            raise stream.error or ConnectionDisconnected(
                "the stream ended while sending the request body"
            )

    def acknowledge(self, stream: _Stream, size: int) -> None:
        if not self.closed and stream.sid in self.streams:
            self.core.acknowledge(stream.sid, size)
            self._flush_soon()

    def fail_stream(self, stream: _Stream, exc: BaseException, reset: bool = True) -> None:
        """End a stream with an error (and RST_STREAM it if the server may still send)."""
        if stream.ended:
            return
        stream.error = exc
        waiter = stream.head_waiter
        stream.head_waiter = None
        if waiter is not None and not waiter.done():
            waiter.set_exception(exc)
            waiter.exception()  # whoever awaits still gets it; nobody is worth no log
        response = stream.response()
        if response is not None:
            response._fail(exc)
        if reset and not self.closed and self.core.reset_stream(stream.sid, CANCEL):
            self._flush()
        self._end_stream(stream)

    def _end_stream(self, stream: _Stream) -> None:
        stream.ended = True
        if stream.timer is not None:
            stream.timer.cancel()
            stream.timer = None
        self.streams.pop(stream.sid, None)
        self._wake_senders()
        self.owner.stream_freed()
        self._maybe_finish()

    def _response_dropped(
        self, stream: _Stream
    ) -> Callable[[weakref.ref[HttpResponse]], None]:
        def dropped(ref: weakref.ref[HttpResponse]) -> None:
            if ref is stream.response_ref and not stream.ended:
                self.fail_stream(stream, ConnectionDisconnected("response dropped unread"))

        return dropped

    def close(self) -> None:
        """Close, gracefully: with streams in flight, a GOAWAY tells the server that no
        new one comes, and the connection closes once they end (under their own timers;
        a pool's cleanup waits a grace period, then aborts). A body that is arriving can
        so still be read after the client closed, as over HTTP/1.1."""
        if self.closed or self.transport is None:
            return
        if self.streams and self.life is not _FINISHED:
            self.core.shutdown()
            self._flush()
            self.life = _DRAINING
            return
        self.life = _CLOSED
        self.core.close()
        self._flush()
        self.transport.close()

    def _maybe_finish(self) -> None:
        if self.life is not _OPEN and self.life is not _FINISHED and not self.streams:
            if self.life is _DRAINING and self.transport is not None:
                self.transport.close()
            self.life = _FINISHED
            self.owner.h2_finished()

    def _die(self, exc: AiosonicError) -> None:
        if self.error is None:
            self.error = exc
        if not self.closed and self.transport is not None:
            self.transport.abort()
        if self.life is not _FINISHED:
            self.life = _CLOSED
        for stream in list(self.streams.values()):
            self.fail_stream(stream, exc, reset=False)
        self._wake_senders()
        self._maybe_finish()

    def _flush_soon(self) -> None:
        if not self._flush_scheduled:
            self._flush_scheduled = True
            self.loop.call_soon(self._flush)

    def _flush(self) -> None:
        self._flush_scheduled = False
        data = self.core.data_to_send()
        if data and self.transport is not None and not self.transport.is_closing():
            self.transport.write(data)

    def _wake_senders(self) -> None:
        waiters, self._send_waiters = self._send_waiters, []
        for waiter in waiters:
            if not waiter.done():
                waiter.set_result(None)

    # -- timeouts -------------------------------------------------------------------------

    def _arm(self, stream: _Stream, now: float) -> None:
        due = stream.deadline
        if stream.sock_read is not None:
            last = now if stream.paused else stream.last_read
            due = min(due, last + stream.sock_read)
        if due != _INF:
            stream.timer = self.loop.call_at(due, self._on_timer, stream)

    def _on_timer(self, stream: _Stream) -> None:
        stream.timer = None
        if stream.ended:
            return
        now = monotonic()
        if now >= stream.deadline:
            self.fail_stream(stream, RequestTimeout("request_timeout elapsed"))
        elif (
            stream.sock_read is not None
            and not stream.paused
            and now >= stream.last_read + stream.sock_read
        ):
            self.fail_stream(
                stream, ReadTimeout(f"no data on the stream for {stream.sock_read} seconds")
            )
        else:
            self._arm(stream, now)


def _as_bytes(piece: object) -> bytes:
    if isinstance(piece, str):
        return piece.encode("utf-8")
    if isinstance(piece, (bytes, bytearray, memoryview)):
        return bytes(piece)
    raise InvalidRequest(f"request body iterators must yield bytes, not {type(piece).__name__}")


_Handler = Callable[[HTTP2Protocol, Any, float], None]
# Informational heads have no handler: they are skipped.
_HANDLERS: dict[type, _Handler] = {
    ResponseReceived: HTTP2Protocol._on_response,
    DataReceived: HTTP2Protocol._on_data,
    TrailersReceived: HTTP2Protocol._on_trailers,
    StreamEnded: HTTP2Protocol._on_end,
    StreamReset: HTTP2Protocol._on_reset,
    StreamError: HTTP2Protocol._on_stream_error,
    GoAwayReceived: HTTP2Protocol._on_goaway,
    WindowUpdated: HTTP2Protocol._on_window,
    SettingsReceived: HTTP2Protocol._on_settings,
}

# Events the core answers by itself (PING ACK, SETTINGS ACK): counted against floods.
_CONTROL_EVENTS = frozenset({PingReceived, SettingsReceived})
