"""The WebSocket wire layer: the opening handshake as pure functions, and ``WebSocketProtocol``,
the ``asyncio.Protocol`` that drives a wsproto frame-level ``Connection`` on an upgraded
transport.

It owns:

- the upgrade request head and the check of the 101 answer (RFC 6455 section 4: the
  ``Sec-WebSocket-Accept`` token, ``Upgrade``/``Connection``, and only a subprotocol or an
  extension we offered; RFC 7692 ``permessage-deflate`` parameters);
- after the handshake: bytes in -> wsproto events -> whole messages in a bounded queue
  (fragments reassembled, ``max_msg_size`` enforced while reassembling), pings answered,
  pongs recorded, the close handshake in both directions, keep-alive pings with a pong
  deadline, read back-pressure (``pause_reading`` while the queue is full), write flow control
  (``drain``), and the error every later call raises once the connection is closed.

State lives in wsproto's ``ConnectionState`` plus two facts wsproto does not keep: whether the
transport is gone (``_lost``) and why the connection ended (``_failure`` or the close frames
exchanged). wsproto reports a protocol violation as a ``CloseConnection`` event *without*
changing its state; a real close frame moves it to REMOTE_CLOSING (the server started) or
CLOSED (the server answered ours). That difference is how the two are told apart.

It never opens connections (the connector does), never parses HTTP (the 101 head comes from
our HTTP/1.1 codec), never frames, masks or inflates by hand (wsproto does), and never decides
what a message means to the caller (the public ``aiosonic.web_socket_client`` does).
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import os
import re
from collections import deque
from collections.abc import Sequence
from typing import cast

from wsproto.connection import Connection, ConnectionState, ConnectionType
from wsproto.events import BytesMessage, CloseConnection, Ping, Pong, TextMessage
from wsproto.extensions import Extension, PerMessageDeflate
from wsproto.frame_protocol import CloseReason, FrameDecoder, FrameProtocol, Opcode, RsvBits

from ._headers import HeadersLike, HttpHeaders
from ._http11 import encode_request_head
from ._url import URL
from .exceptions import AiosonicError, ConnectionDisconnected, InvalidRequest, ReadTimeout

__all__ = [
    "MessageTooBig",
    "NoProtocolHandler",
    "WebSocketClosed",
    "WebSocketError",
    "WebSocketHandshakeError",
    "WebSocketMessageTypeError",
    "WebSocketProtocol",
    "WebSocketProtocolError",
    "accept_token",
    "build_handshake",
    "check_handshake",
    "new_key",
]

# --------------------------------------------------------------------------- errors


class WebSocketError(AiosonicError):
    """Root of the WebSocket errors."""


class WebSocketHandshakeError(WebSocketError):
    """The server did not accept the WebSocket upgrade, or accepted it wrongly.

    ``status_code`` is the server's answer (101 when it switched protocols but the handshake
    headers were wrong); ``headers`` its response headers.
    """

    def __init__(
        self, message: str, status_code: int | None = None, headers: HttpHeaders | None = None
    ) -> None:
        super().__init__(message)
        self.status_code = status_code
        self.headers = headers if headers is not None else HttpHeaders()


class WebSocketClosed(WebSocketError, ConnectionDisconnected):
    """The connection is closed: ``code`` and ``reason`` say why (1006: it was lost without a
    close frame). Raised by every receive once the queued messages are read, and by sends."""

    def __init__(self, code: int, reason: str = "", message: str | None = None) -> None:
        super().__init__(message or f"WebSocket closed: {code} {reason}".rstrip())
        self.code = code
        self.reason = reason

    def again(self) -> WebSocketClosed:
        """A fresh copy to raise (re-raising one instance would chain its tracebacks)."""
        return type(self)(self.code, self.reason, str(self))


class WebSocketProtocolError(WebSocketClosed):
    """The server broke RFC 6455 (1002) or sent text that is not UTF-8 (1007); we closed."""


class MessageTooBig(WebSocketClosed):
    """A message went past ``max_msg_size`` while being reassembled; we closed with 1009."""


class NoProtocolHandler(WebSocketError, RuntimeError):
    """``send_protocol()`` or ``receive_protocol()`` on a connection opened without a
    ``protocol_handler``: a mistake in the program, so also a ``RuntimeError`` (what
    upstream aiosonic raises there)."""


class WebSocketMessageTypeError(WebSocketError, ValueError):
    """A message of the other kind arrived (binary when text was expected, or the reverse).

    The message is consumed; it is kept in ``payload`` so nothing is lost.
    """

    def __init__(self, message: str, payload: str | bytes) -> None:
        super().__init__(message)
        self.payload = payload


# --------------------------------------------------------------------------- handshake

_GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
_TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
# Headers the handshake owns: a caller setting them would break it (use the parameters).
_OWNED = frozenset(
    {
        "upgrade",
        "connection",
        "sec-websocket-key",
        "sec-websocket-version",
        "sec-websocket-protocol",
        "sec-websocket-extensions",
    }
)
_DEFLATE = PerMessageDeflate.name
# We accept whatever window the server picks for our side, so say so without a value.
_DEFLATE_OFFER = f"{_DEFLATE}; client_max_window_bits"
_DEFLATE_FLAGS = ("server_no_context_takeover", "client_no_context_takeover")
_DEFLATE_WINDOWS = ("server_max_window_bits", "client_max_window_bits")


def new_key() -> str:
    """A fresh ``Sec-WebSocket-Key``: 16 random bytes, base64."""
    return base64.b64encode(os.urandom(16)).decode("ascii")


def accept_token(key: str) -> str:
    """The ``Sec-WebSocket-Accept`` a server must answer ``key`` with."""
    return base64.b64encode(hashlib.sha1(key.encode("ascii") + _GUID).digest()).decode("ascii")


def build_handshake(
    url: URL,
    key: str,
    subprotocols: Sequence[str],
    compress: bool,
    headers: HeadersLike | None,
) -> bytes:
    """The GET head asking ``url``'s server to switch to WebSocket."""
    extra = HttpHeaders(headers) if headers is not None else HttpHeaders()
    for name in extra:
        if name.lower() in _OWNED:
            raise InvalidRequest(
                f"header {name!r} belongs to the WebSocket handshake: use connect()'s "
                "subprotocols= or compress= instead"
            )
    for subprotocol in subprotocols:
        if not isinstance(subprotocol, str) or not _TOKEN.fullmatch(subprotocol):
            raise InvalidRequest(f"subprotocol {subprotocol!r} is not a valid token")
    pairs = [("Host", extra.pop("Host", url.host_header))]
    pairs += [
        ("Upgrade", "websocket"),
        ("Connection", "Upgrade"),
        ("Sec-WebSocket-Key", key),
        ("Sec-WebSocket-Version", "13"),
    ]
    if subprotocols:
        pairs.append(("Sec-WebSocket-Protocol", ", ".join(subprotocols)))
    if compress:
        pairs.append(("Sec-WebSocket-Extensions", _DEFLATE_OFFER))
    pairs += extra.multi_items()
    return encode_request_head("GET", url.target, pairs)


def _tokens(headers: HttpHeaders, name: str) -> list[str]:
    return [t.strip() for value in headers.getlist(name) for t in value.split(",") if t.strip()]


def check_handshake(
    status_code: int,
    headers: HttpHeaders,
    key: str,
    subprotocols: Sequence[str],
    compress: bool,
) -> tuple[str | None, list[Extension]]:
    """Check a 101 answer; return the chosen subprotocol and the enabled extensions.

    Raises ``WebSocketHandshakeError`` (with the status and headers) on anything wrong.
    """

    def refuse(why: str) -> WebSocketHandshakeError:
        return WebSocketHandshakeError(f"bad WebSocket handshake: {why}", status_code, headers)

    if "websocket" not in (t.lower() for t in _tokens(headers, "Upgrade")):
        raise refuse("the answer has no 'Upgrade: websocket'")
    if "upgrade" not in (t.lower() for t in _tokens(headers, "Connection")):
        raise refuse("the answer has no 'Connection: upgrade'")
    accepts = headers.getlist("Sec-WebSocket-Accept")
    if len(accepts) != 1 or accepts[0].strip() != accept_token(key):
        raise refuse("Sec-WebSocket-Accept does not match our Sec-WebSocket-Key")
    chosen = _tokens(headers, "Sec-WebSocket-Protocol")
    subprotocol = None
    if chosen:
        if len(chosen) > 1 or chosen[0] not in subprotocols:
            raise refuse(f"the server chose subprotocol {', '.join(chosen)!r}, not one we offered")
        subprotocol = chosen[0]
    extensions: list[Extension] = []
    for value in _tokens(headers, "Sec-WebSocket-Extensions"):
        name, _, params = value.partition(";")
        if name.strip().lower() != _DEFLATE or not compress or extensions:
            raise refuse(f"the server chose extension {name.strip()!r}, which we did not offer")
        try:
            extensions.append(_deflate(params))
        except ValueError as exc:
            raise refuse(str(exc)) from None
    return subprotocol, extensions


class _Deflate(PerMessageDeflate):
    """``PerMessageDeflate`` that lets control frames pass between a message's fragments.

    wsproto's (1.3 and earlier, python-hyper/wsproto#205) forgets that a fragmented message
    is compressed when a ping or pong arrives between its fragments, and then reads the next
    continuation as uncompressed. Control frames are never compressed (RFC 7692 section 6.1)
    and may come between fragments (RFC 6455 section 5.4), so here they bypass the
    extension's inbound hooks entirely.
    """

    _control = False

    def frame_inbound_header(
        self,
        proto: FrameDecoder | FrameProtocol,
        opcode: Opcode,
        rsv: RsvBits,
        payload_length: int,
    ) -> CloseReason | RsvBits:
        self._control = opcode.iscontrol()
        if self._control:
            return CloseReason.PROTOCOL_ERROR if rsv.rsv1 else RsvBits(False, False, False)
        return super().frame_inbound_header(proto, opcode, rsv, payload_length)

    def frame_inbound_payload_data(
        self, proto: FrameDecoder | FrameProtocol, data: bytes
    ) -> bytes | CloseReason:
        return data if self._control else super().frame_inbound_payload_data(proto, data)

    def frame_inbound_complete(
        self, proto: FrameDecoder | FrameProtocol, fin: bool
    ) -> bytes | CloseReason | None:
        return None if self._control else super().frame_inbound_complete(proto, fin)


def _deflate(params: str) -> PerMessageDeflate:
    """The deflate extension configured from the server's accepted parameters (RFC 7692);
    ValueError names a parameter an answer may not carry."""
    seen: set[str] = set()
    normalised: list[str] = []
    for param in params.split(";"):
        name, eq, value = (part.strip() for part in param.partition("="))
        if not name:
            continue
        name = name.lower()
        value = value.strip('"')
        if name in seen:
            raise ValueError(f"deflate parameter {name!r} given twice")
        seen.add(name)
        if name in _DEFLATE_FLAGS and not eq:
            normalised.append(name)
        elif name in _DEFLATE_WINDOWS and value.isascii() and value.isdigit():
            bits = int(value)
            if name == "server_max_window_bits" and bits == 8:
                bits = 9  # a larger inflate window reads a stream made with a smaller one
            if not 9 <= bits <= 15:
                raise ValueError(f"deflate {name}={value} is not supported")
            normalised.append(f"{name}={bits}")
        else:
            raise ValueError(f"deflate parameter {param.strip()!r} is not valid in an answer")
    extension = _Deflate()
    extension.finalize("; ".join([_DEFLATE, *normalised]))
    return extension


# --------------------------------------------------------------------------- the protocol

_KEEPALIVE_PREFIX = b"aiosonic-keepalive-"
_MAX_PONGS = 16  # unread pongs kept for receive_pong(); older ones are dropped
_OPEN = ConnectionState.OPEN
_LOCAL_CLOSING = ConnectionState.LOCAL_CLOSING
_REMOTE_CLOSING = ConnectionState.REMOTE_CLOSING
_CLOSED = ConnectionState.CLOSED


def _utf8_len(text: str) -> int:
    # isascii() is O(1) for CPython's compact strings; only non-ASCII text is encoded.
    return len(text) if text.isascii() else len(text.encode("utf-8"))


def _expire(waiter: asyncio.Future[None], what: str, timeout: float) -> None:
    if not waiter.done():
        waiter.set_exception(ReadTimeout(f"no {what} received within {timeout} seconds"))


def _wake(waiters: list[asyncio.Future[None]]) -> None:
    for waiter in waiters:
        if not waiter.done():
            waiter.set_result(None)
    waiters.clear()


class WebSocketProtocol(asyncio.Protocol):
    """Drives one upgraded connection: wsproto for the frames, a bounded queue for messages.

    - ``max_msg_size``: the largest message (bytes, after inflating) reassembled; beyond it
      the connection is closed with 1009 and receives raise ``MessageTooBig``. None: no limit.
    - ``max_queue``: whole messages held for the reader; when full, reading the socket pauses
      (so at most one socket read beyond it is buffered) until the reader takes half of them.
      With ``drop_when_full`` new messages are dropped instead (never pauses).
    - ``close_timeout``: how long each closing step may take: waiting for the server's close
      frame and TCP close, then for our own close of the transport before it is aborted.
    """

    def __init__(
        self,
        loop: asyncio.AbstractEventLoop,
        extensions: list[Extension],
        *,
        max_msg_size: int | None,
        max_queue: int,
        close_timeout: float,
        drop_when_full: bool = False,
    ) -> None:
        self.loop = loop
        self.ws = Connection(ConnectionType.CLIENT, extensions)
        self.extensions = [ext.name for ext in extensions]
        self.transport: asyncio.Transport | None = None
        self.max_msg_size = max_msg_size
        self.max_queue = max_queue
        self.close_timeout = close_timeout
        self.drop_when_full = drop_when_full
        # A compressed chunk can inflate about 1000-fold: feed such connections in slices
        # so that one socket read can never inflate to much more than max_msg_size.
        self._slice = 0
        if extensions:
            self._slice = min(64 * 1024, max(1024, (max_msg_size or 64 * 1024**2) // 1024))
        self.messages: deque[str | bytes] = deque()
        self._waiters: list[asyncio.Future[None]] = []
        self._text_parts: list[str] = []
        self._byte_parts: list[bytes | bytearray] = []
        self._part_size = 0
        self._pongs: deque[bytes] = deque(maxlen=_MAX_PONGS)
        self._pong_waiters: list[asyncio.Future[None]] = []
        self.reading_paused = False
        self._writing_paused = False
        self._drain_waiters: list[asyncio.Future[None]] = []
        self._lost: asyncio.Future[None] = loop.create_future()
        self._linger_timer: asyncio.TimerHandle | None = None
        self._abort_timer: asyncio.TimerHandle | None = None
        # Why it ended: a failure of ours or the server's, or the close frames exchanged.
        self._failure: WebSocketClosed | None = None
        self._parsing = True  # False once the server broke the framing: nothing more is fed
        self.received_close: tuple[int, str] | None = None
        self.sent_close: tuple[int, str] | None = None
        self.close_code: int | None = None
        self.close_reason = ""
        # Keep-alive: ping every interval; no pong within timeout fails the connection.
        self._ka_interval = 0.0
        self._ka_timeout = 0.0
        self._ka_timer: asyncio.TimerHandle | None = None
        self._ka_waiting = False
        self._ka_count = 0
        self.keepalive_pings = 0

    # -- asyncio callbacks ----------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)

    def data_received(self, data: bytes) -> None:
        if not self._parsing or self.ws.state not in (_OPEN, _LOCAL_CLOSING):
            return  # after a close frame or a protocol error, nothing more is read
        size = self._slice
        if size and len(data) > size:
            view = memoryview(data)
            for start in range(0, len(data), size):
                if not self._feed(bytes(view[start : start + size])):
                    return
        else:
            self._feed(data)

    def eof_received(self) -> bool | None:
        return None  # the transport closes itself; connection_lost tells the rest

    def connection_lost(self, exc: Exception | None) -> None:
        if self._failure is None and self.received_close is None and self.sent_close is None:
            detail = f": {exc}" if exc else ""
            self._failure = WebSocketClosed(
                1006, "", f"WebSocket connection lost without a close frame{detail}"
            )
            self.close_code, self.close_reason = 1006, ""
        self._cancel_timers()
        if not self._lost.done():
            self._lost.set_result(None)
        self._wake_all()

    def pause_writing(self) -> None:
        self._writing_paused = True

    def resume_writing(self) -> None:
        self._writing_paused = False
        _wake(self._drain_waiters)

    # -- reading --------------------------------------------------------------------------

    def _feed(self, data: bytes) -> bool:
        """Feed wsproto and act on its events; False once reading must stop."""
        ws = self.ws
        ws.receive_data(data)
        for event in ws.events():
            if isinstance(event, TextMessage):
                self._on_text(event.data, event.message_finished)
            elif isinstance(event, BytesMessage):
                self._on_bytes(event.data, event.message_finished)
            elif isinstance(event, Ping):
                if ws.state is _OPEN:
                    self._write(ws.send(event.response()))
            elif isinstance(event, Pong):
                self._on_pong(bytes(event.payload))
            elif isinstance(event, CloseConnection):
                self._on_close(event)
                return False
        limit = self.max_msg_size
        return limit is None or ws.state is not _OPEN or not self._announced_too_big(limit)

    def _announced_too_big(self, limit: int) -> bool:
        """A data frame whose header announces more than the message may still take is
        refused as its header arrives (closed with 1009), not read to its end first. A
        compressed frame counts by the least it can inflate to (deflate's stored blocks
        add at most a few bytes per 64 KiB). True: we closed."""
        decoder = getattr(getattr(self.ws, "_proto", None), "_frame_decoder", None)
        header = getattr(decoder, "header", None)  # the frame being received, if any
        if decoder is None or header is None or header.opcode.iscontrol():
            return False
        remaining = header.payload_len - decoder.payload_consumed
        if self.extensions:  # permessage-deflate: frames may be compressed
            remaining -= (remaining >> 10) + 1024
        return self._part_size + remaining > limit and not self._grow(remaining)

    def _grow(self, size: int) -> bool:
        """Count a piece of the message being reassembled; False if it is too big."""
        self._part_size += size
        limit = self.max_msg_size
        if limit is None or self._part_size <= limit:
            return True
        self._text_parts.clear()
        self._byte_parts.clear()
        # The framing is intact: close with a handshake, discarding the rest of the message
        # (an abrupt close with unread data would reset the connection and lose our 1009).
        self._fail(
            MessageTooBig(
                1009,
                "message too big",
                f"a WebSocket message went past max_msg_size ({limit} bytes)",
            ),
            handshake=True,
        )
        return False

    def _on_text(self, data: str, finished: bool) -> None:
        if self.ws.state is not _OPEN or not self._grow(_utf8_len(data)):
            return  # we sent our close: data still arriving is discarded
        if not finished:
            self._text_parts.append(data)
            return
        if self._text_parts:
            self._text_parts.append(data)
            data = "".join(self._text_parts)
            self._text_parts.clear()
        self._part_size = 0
        self._enqueue(data)

    def _on_bytes(self, data: bytes | bytearray, finished: bool) -> None:
        if self.ws.state is not _OPEN or not self._grow(len(data)):
            return
        if not finished:
            self._byte_parts.append(data)
            return
        if self._byte_parts:
            self._byte_parts.append(data)
            data = b"".join(self._byte_parts)
            self._byte_parts.clear()
        self._part_size = 0
        self._enqueue(bytes(data))

    def _enqueue(self, message: str | bytes) -> None:
        messages = self.messages
        if len(messages) >= self.max_queue and self.drop_when_full:
            return
        messages.append(message)
        if len(messages) >= self.max_queue and not self.drop_when_full:
            self._pause_reading()
        _wake(self._waiters)

    def _pause_reading(self) -> None:
        transport = self.transport
        if not self.reading_paused and transport is not None and not transport.is_closing():
            self.reading_paused = True
            transport.pause_reading()

    def _resume_reading(self) -> None:
        if self.reading_paused:
            self.reading_paused = False
            transport = self.transport
            if transport is not None and not transport.is_closing():
                transport.resume_reading()

    def _on_pong(self, payload: bytes) -> None:
        if self._ka_waiting:  # any pong proves the peer alive
            self._ka_waiting = False
            self._schedule_keepalive(self._ka_interval)
        if payload.startswith(_KEEPALIVE_PREFIX):
            return  # the answer to our own keep-alive ping, not the caller's business
        self._pongs.append(payload)
        _wake(self._pong_waiters)

    def _on_close(self, event: CloseConnection) -> None:
        ws = self.ws
        code, reason = int(event.code), event.reason or ""
        if ws.state is _REMOTE_CLOSING:  # the server started the close handshake: answer it
            self.received_close = (code, reason)
            self.close_code, self.close_reason = code, reason
            self._write(ws.send(event.response()))
            self._linger()
        elif ws.state is _CLOSED:  # the answer to our close frame
            # close_code stays the one we sent: the connection closed for our reason, whatever
            # code the server echoes (aiohttp, for one, always answers 1000).
            self.received_close = (code, reason)
            self._linger()
        else:  # wsproto's way of reporting a protocol violation: the state did not move
            self._parsing = False
            cls = MessageTooBig if code == 1009 else WebSocketProtocolError
            failure = cls(code, reason, f"the server broke the WebSocket protocol: {reason}")
            if self.messages:
                # Valid messages came before the bad frame, in the same read: their readers
                # (woken already) run first and may still answer them, as a strict peer
                # lets them (Autobahn 3.2, 4.1.3, 5.15...); the connection fails right after.
                self.loop.call_soon(self._fail, failure)
            else:
                self._fail(failure)
        self._wake_all()

    # -- waiting for messages and pongs ---------------------------------------------------

    async def _wait(
        self, waiters: list[asyncio.Future[None]], timeout: float | None, what: str
    ) -> None:
        waiter: asyncio.Future[None] = self.loop.create_future()
        waiters.append(waiter)
        timer = None
        if timeout is not None:
            timer = self.loop.call_later(timeout, _expire, waiter, what, timeout)
        try:
            await waiter
        finally:
            if timer is not None:
                timer.cancel()
            if waiter in waiters:
                waiters.remove(waiter)

    @property
    def readable(self) -> bool:
        """More messages may still arrive."""
        return not self._lost.done() and self._failure is None and self.ws.state is _OPEN

    async def get_message(self, timeout: float | None) -> str | bytes:
        """The next whole message; the closed error once none is queued and none can come."""
        messages = self.messages
        while not messages:
            if not self.readable:
                raise self.closed_error()
            await self._wait(self._waiters, timeout, "WebSocket message")
        message = messages.popleft()
        if self.reading_paused and len(messages) <= self.max_queue // 2:
            self._resume_reading()
        return message

    async def get_pong(self, timeout: float | None) -> bytes:
        while not self._pongs:
            if not self.readable:
                raise self.closed_error()
            await self._wait(self._pong_waiters, timeout, "WebSocket pong")
        return self._pongs.popleft()

    def closed_error(self) -> WebSocketClosed:
        """What a call on the closed connection raises (a new instance each time)."""
        if self._failure is not None:
            return self._failure.again()
        if self.sent_close is not None:  # we started the close handshake
            code, reason = self.sent_close
            message = f"the WebSocket was closed: {code} {reason}"
            return WebSocketClosed(code, reason, message.rstrip())
        if self.received_close is not None:
            code, reason = self.received_close
            message = f"the server closed the WebSocket: {code} {reason}"
            return WebSocketClosed(code, reason, message.rstrip())
        return WebSocketClosed(1006, "", "the WebSocket is closed")

    @property
    def closed_cleanly(self) -> bool:
        """The connection ended with a close frame and no failure."""
        return self._failure is None and (
            self.received_close is not None or self.sent_close is not None
        )

    @property
    def sendable(self) -> bool:
        transport = self.transport
        return (
            self.ws.state is _OPEN
            and self._failure is None
            and not self._lost.done()
            and transport is not None
            and not transport.is_closing()
        )

    # -- writing --------------------------------------------------------------------------

    def _write(self, data: bytes) -> None:
        transport = self.transport
        if transport is not None and not transport.is_closing():
            transport.write(data)

    def send_message(self, data: str | bytes) -> None:
        """Write one whole message (a single frame; wsproto masks and deflates it)."""
        if not self.sendable:
            raise self.closed_error()
        if isinstance(data, str):
            self._write(self.ws.send(TextMessage(data=data)))
        else:
            self._write(self.ws.send(BytesMessage(data=data)))

    def send_ping(self, payload: bytes) -> None:
        if not self.sendable:
            raise self.closed_error()
        self._write(self.ws.send(Ping(payload=payload)))

    async def drain(self) -> None:
        """Wait while the transport's write buffer is above its high-water mark."""
        while self._writing_paused:
            if self._lost.done():
                raise self.closed_error()
            waiter: asyncio.Future[None] = self.loop.create_future()
            self._drain_waiters.append(waiter)
            await waiter

    # -- closing --------------------------------------------------------------------------
    #
    # Every way out reaches connection_lost in bounded time:
    #   our close frame sent       -> linger: wait for the server's close frame and its TCP
    #   close handshake complete   -> linger: the server should close TCP first (RFC 6455
    #                                 section 7.1.1), so that it, not we, keeps TIME_WAIT
    #   lingered close_timeout     -> shut down: transport.close() (flushes, then FIN)
    #   protocol error, no pong    -> shut down at once
    #   shut down for close_timeout -> transport.abort()

    async def close(self, code: int, reason: str) -> None:
        """Run the close handshake (bounded by ``close_timeout``) and close the transport."""
        if self._lost.done():
            return
        if self.sendable:
            self.sent_close = (code, reason)
            self.close_code, self.close_reason = code, reason
            self._write(self.ws.send(CloseConnection(code=code, reason=reason)))
            self._wake_all()
            self._linger()
        elif self._linger_timer is None and self._abort_timer is None:
            self._shutdown()
        await asyncio.shield(self._lost)

    def abort(self) -> None:
        """Drop the connection at once (no close handshake)."""
        if self.transport is not None and not self._lost.done():
            self.transport.abort()

    async def wait_closed(self) -> None:
        await asyncio.shield(self._lost)

    def _fail(self, error: WebSocketClosed, *, handshake: bool = False) -> None:
        """End the connection because of ``error``: tell the server (when a close frame can
        still be sent), then shut down at once or (``handshake``) linger for its answer."""
        can_send = self.sendable
        if self._failure is None:
            self._failure = error
            self.close_code, self.close_reason = error.code, error.reason
        if can_send:
            self._write(self.ws.send(CloseConnection(code=error.code, reason=error.reason)))
        if handshake and can_send:
            self._linger()
        else:
            self._shutdown()
        self._wake_all()

    def _linger(self) -> None:
        """Let the server finish the close handshake and close TCP; shut down ourselves if
        it has not within ``close_timeout``."""
        self._cancel_keepalive()
        self._resume_reading()  # its close frame may be behind messages nobody reads
        if self._linger_timer is None and self._abort_timer is None and not self._lost.done():
            self._linger_timer = self.loop.call_later(self.close_timeout, self._shutdown)

    def _shutdown(self) -> None:
        """Close the transport now (what is buffered is flushed first); abort it if it is
        still open ``close_timeout`` later."""
        transport = self.transport
        if transport is None or self._lost.done():
            return
        self._cancel_keepalive()
        if not transport.is_closing():
            transport.close()
        if self._abort_timer is None:
            self._abort_timer = self.loop.call_later(self.close_timeout, self.abort)

    def _wake_all(self) -> None:
        _wake(self._waiters)
        _wake(self._pong_waiters)
        _wake(self._drain_waiters)

    def _cancel_timers(self) -> None:
        for timer in (self._linger_timer, self._abort_timer):
            if timer is not None:
                timer.cancel()
        self._linger_timer = self._abort_timer = None
        self._cancel_keepalive()

    # -- keep-alive -----------------------------------------------------------------------

    def start_keepalive(self, interval: float, timeout: float) -> None:
        """Ping every ``interval`` seconds; no pong within ``timeout`` closes with 1011."""
        if interval <= 0 or timeout <= 0:
            raise ValueError("keep-alive interval and timeout must be positive")
        self._cancel_keepalive()
        self._ka_interval, self._ka_timeout = interval, timeout
        if self.sendable:
            self._schedule_keepalive(interval)

    def stop_keepalive(self) -> None:
        self._cancel_keepalive()

    def _cancel_keepalive(self) -> None:
        self._ka_waiting = False
        if self._ka_timer is not None:
            self._ka_timer.cancel()
            self._ka_timer = None

    def _schedule_keepalive(self, delay: float) -> None:
        if self._ka_timer is not None:
            self._ka_timer.cancel()
        self._ka_timer = self.loop.call_later(delay, self._keepalive_ping)

    def _keepalive_ping(self) -> None:
        self._ka_timer = None
        if not self.sendable:
            return
        self._ka_count += 1
        self._write(self.ws.send(Ping(payload=_KEEPALIVE_PREFIX + b"%d" % self._ka_count)))
        self.keepalive_pings += 1
        self._ka_waiting = True
        self._ka_timer = self.loop.call_later(self._ka_timeout, self._keepalive_expired)

    def _keepalive_expired(self) -> None:
        self._ka_timer = None
        if not self._ka_waiting:
            return
        if self.reading_paused:
            # The pong may be waiting behind messages the reader has not taken yet.
            self._ka_timer = self.loop.call_later(self._ka_timeout, self._keepalive_expired)
            return
        self._ka_waiting = False
        self._fail(
            WebSocketClosed(
                1011,
                "keepalive ping timeout",
                f"no pong within {self._ka_timeout} seconds of a keep-alive ping",
            )
        )
