"""The WebSocket client: ``WebSocketClient`` opens connections, ``WebSocketConnection`` is one.

    async with WebSocketClient() as client:
        async with await client.connect("wss://example.com/ws") as ws:
            await ws.send_text("hello")
            print(await ws.receive_text(timeout=5))
            async for message in ws:         # until the server closes
                print(message.type, message.data)

The opening handshake goes through the connector's transport (``upgrade``): the same route
cache, pool, DNS cache, TLS, proxy CONNECT tunnel and connect timeouts as requests, and no
second HTTP implementation. Frames, fragmentation, masking, ``permessage-deflate`` and the
close handshake are wsproto's, driven by ``aiosonic._ws.WebSocketProtocol``.

This module owns the caller's view only: typed sends and receives, ``Message`` objects,
keep-alive switches and the client's bookkeeping of open connections. It never touches
bytes or the transport.
"""

from __future__ import annotations

import asyncio
import json
from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from enum import Enum
from ssl import SSLContext
from types import TracebackType
from typing import Any

from ._headers import HeadersLike
from ._interfaces import Exchange
from ._tls import client_context
from ._url import parse_url
from ._ws import (
    MessageTooBig,
    NoProtocolHandler,
    WebSocketClosed,
    WebSocketError,
    WebSocketHandshakeError,
    WebSocketMessageTypeError,
    WebSocketProtocol,
    WebSocketProtocolError,
    build_handshake,
    check_handshake,
    new_key,
)
from .connectors import TCPConnector
from .exceptions import InvalidRequest
from .proxy import Proxy
from .response import HttpResponse
from .timeout import Timeouts

__all__ = [
    "Message",
    "MessageTooBig",
    "MessageType",
    "NoProtocolHandler",
    "ProtocolHandler",
    "WebSocketClient",
    "WebSocketClosed",
    "WebSocketConnection",
    "WebSocketError",
    "WebSocketHandshakeError",
    "WebSocketMessageTypeError",
    "WebSocketProtocolError",
]

DEFAULT_MAX_MSG_SIZE = 4 * 1024 * 1024
DEFAULT_MAX_QUEUE = 100
DEFAULT_CLOSE_TIMEOUT = 5.0
_SCHEMES = ("ws", "wss", "http", "https")
# Codes a client may send (RFC 6455 section 7.4): the defined ones that are not reserved
# for local use, and the ranges for libraries (3000-3999) and applications (4000-4999).
_SENDABLE_CODES = frozenset({1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011})


class MessageType(Enum):
    """What a ``Message`` carries."""

    TEXT = "text"
    BINARY = "binary"
    PING = "ping"
    PONG = "pong"
    CLOSE = "close"


_OPCODES = {
    MessageType.TEXT: 0x1,
    MessageType.BINARY: 0x2,
    MessageType.CLOSE: 0x8,
    MessageType.PING: 0x9,
    MessageType.PONG: 0xA,
}


class Message:
    """One WebSocket message: ``type``, ``data`` (str for text, bytes otherwise),
    ``raw_data`` (the payload bytes) and the frame ``opcode``."""

    __slots__ = ("_raw", "data", "opcode", "type")

    def __init__(
        self,
        type: MessageType,  # shadows the builtin: it is the public field name
        data: str | bytes,
        raw_data: bytes | None = None,
        opcode: int | None = None,
    ) -> None:
        self.type = type
        self.data = data
        self._raw = raw_data
        self.opcode = _OPCODES[type] if opcode is None else opcode

    @property
    def raw_data(self) -> bytes:
        # Encoded only when asked for: most readers of text never need the bytes.
        if self._raw is None:
            data = self.data
            self._raw = data.encode("utf-8") if isinstance(data, str) else data
        return self._raw

    @classmethod
    def create_text(cls, data: str) -> Message:
        return cls(MessageType.TEXT, data)

    @classmethod
    def create_binary(cls, data: bytes) -> Message:
        return cls(MessageType.BINARY, data, data)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Message):
            return NotImplemented
        return (self.type, self.raw_data, self.opcode) == (other.type, other.raw_data,
                                                           other.opcode)

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        shown = self.data if len(self.data) <= 60 else self.data[:60]
        more = "..." if len(self.data) > 60 else ""
        return f"Message({self.type.name}, {shown!r}{more}, {len(self.raw_data)} bytes)"


def _as_message(payload: str | bytes) -> Message:
    if isinstance(payload, str):
        return Message(MessageType.TEXT, payload, None, 0x1)
    return Message(MessageType.BINARY, payload, payload, 0x2)


class ProtocolHandler(ABC):
    """Encodes and decodes the messages of a subprotocol (MessagePack, CBOR...) for
    ``send_protocol`` / ``receive_protocol``; messages travel as binary frames."""

    @property
    @abstractmethod
    def name(self) -> str:
        """The subprotocol's name."""

    @abstractmethod
    def encode(self, data: Any) -> bytes:
        """``data`` as the bytes of one message."""

    @abstractmethod
    def decode(self, data: bytes) -> Any:
        """One message's bytes back into data."""


class WebSocketConnection:
    """One open WebSocket; made by ``WebSocketClient.connect``.

    Receives return queued messages first; once none is left and the connection is closed
    they raise ``WebSocketClosed`` (``code``/``reason``: the server's close frame, 1006 when
    the connection was lost without one). Sends on a closed connection raise it too.
    Iterating (``async for message in ws``) yields text and binary ``Message``s and ends
    when the connection is closed with a close frame; a lost connection or a protocol error
    raises instead.
    """

    OPCODE_TEXT = 0x1
    OPCODE_BINARY = 0x2
    OPCODE_CLOSE = 0x8
    OPCODE_PING = 0x9
    OPCODE_PONG = 0xA

    def __init__(
        self,
        protocol: WebSocketProtocol,
        response: HttpResponse,
        subprotocol: str | None = None,
        protocol_handler: ProtocolHandler | None = None,
        on_close: Callable[[WebSocketConnection], None] | None = None,
    ) -> None:
        self._protocol = protocol
        self.response = response  # the 101 answer: headers, cookies
        self.subprotocol = subprotocol
        self.protocol_handler = protocol_handler
        self._on_close = on_close

    # -- state ----------------------------------------------------------------------------

    @property
    def extensions(self) -> list[str]:
        """The extensions the server accepted (``["permessage-deflate"]`` or ``[]``)."""
        return list(self._protocol.extensions)

    @property
    def close_code(self) -> int | None:
        """Why the connection closed: the close frame's code, 1006 if it was lost without
        one; None while open."""
        return self._protocol.close_code

    @property
    def close_reason(self) -> str:
        return self._protocol.close_reason

    @property
    def closed(self) -> bool:
        """No more messages can be sent (closing or closed)."""
        return not self._protocol.sendable

    @property
    def connected(self) -> bool:
        return self._protocol.sendable

    # -- sending --------------------------------------------------------------------------

    async def send_text(self, message: str) -> None:
        if not isinstance(message, str):
            raise TypeError(f"send_text() takes a str, not {type(message).__name__}")
        self._protocol.send_message(message)
        await self._protocol.drain()

    async def send_bytes(self, data: bytes | bytearray | memoryview) -> None:
        if not isinstance(data, (bytes, bytearray, memoryview)):
            raise TypeError(f"send_bytes() takes bytes, not {type(data).__name__}")
        self._protocol.send_message(bytes(data))
        await self._protocol.drain()

    async def send_json(self, data: Any, dumps: Callable[[Any], str] = json.dumps) -> None:
        await self.send_text(dumps(data))

    async def send_protocol(self, data: Any) -> None:
        """Send ``data`` encoded by the ``protocol_handler``, as a binary message."""
        if self.protocol_handler is None:
            raise NoProtocolHandler("no protocol_handler configured (connect(conn_opts=...))")
        await self.send_bytes(self.protocol_handler.encode(data))

    async def ping(self, data: bytes = b"") -> None:
        if len(data) > 125:
            raise InvalidRequest("a ping payload is at most 125 bytes")
        self._protocol.send_ping(bytes(data))
        await self._protocol.drain()

    # -- receiving ------------------------------------------------------------------------

    async def receive(self, timeout: float | None = None) -> Message:
        """The next text or binary message; ``ReadTimeout`` after ``timeout`` seconds."""
        return _as_message(await self._protocol.get_message(timeout))

    async def receive_text(self, timeout: float | None = None) -> str:
        payload = await self._protocol.get_message(timeout)
        if not isinstance(payload, str):
            raise WebSocketMessageTypeError(
                f"expected a text message, received a binary one ({len(payload)} bytes)", payload
            )
        return payload

    async def receive_bytes(self, timeout: float | None = None) -> bytes:
        payload = await self._protocol.get_message(timeout)
        if not isinstance(payload, bytes):
            raise WebSocketMessageTypeError(
                f"expected a binary message, received a text one ({len(payload)} chars)", payload
            )
        return payload

    async def receive_json(
        self, timeout: float | None = None, loads: Callable[[str], Any] = json.loads
    ) -> Any:
        return loads(await self.receive_text(timeout))

    async def receive_protocol(self, timeout: float | None = None) -> Any:
        """The next message decoded by the ``protocol_handler`` (text is passed as UTF-8)."""
        if self.protocol_handler is None:
            raise NoProtocolHandler("no protocol_handler configured (connect(conn_opts=...))")
        message = await self.receive(timeout)
        return self.protocol_handler.decode(message.raw_data)

    async def receive_pong(self, timeout: float | None = None) -> bytes:
        """The payload of the next pong (keep-alive pongs are not shown here)."""
        return await self._protocol.get_pong(timeout)

    def __aiter__(self) -> WebSocketConnection:
        return self

    async def __anext__(self) -> Message:
        try:
            return await self.receive()
        except WebSocketClosed:
            if self._protocol.closed_cleanly:
                raise StopAsyncIteration from None
            raise

    # -- keep-alive and closing -----------------------------------------------------------

    def start_keep_alive(self, interval: float = 30.0, timeout: float | None = None) -> None:
        """Ping every ``interval`` seconds; if no pong comes within ``timeout`` (default:
        ``interval``) the connection is closed with 1011 and receives raise
        ``WebSocketClosed``. The pong deadline waits while the reader is behind."""
        self._protocol.start_keepalive(interval, interval if timeout is None else timeout)

    def stop_keep_alive(self) -> None:
        self._protocol.stop_keepalive()

    async def close(self, code: int = 1000, reason: str = "") -> None:
        """Close with ``code`` and ``reason``: send a close frame, wait (``close_timeout``)
        for the server's, then close the transport. Closing twice is harmless."""
        if code not in _SENDABLE_CODES and not 3000 <= code <= 4999:
            raise InvalidRequest(f"{code} is not a close code a client may send")
        if len(reason.encode("utf-8")) > 123:
            raise InvalidRequest("a close reason is at most 123 bytes of UTF-8")
        try:
            await self._protocol.close(code, reason)
        finally:
            if self._on_close is not None:
                self._on_close(self)
                self._on_close = None

    async def __aenter__(self) -> WebSocketConnection:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    def __repr__(self) -> str:
        state = "open" if self.connected else f"closed {self.close_code}"
        return f"<WebSocketConnection {state}>"


class WebSocketClient:
    """Opens WebSocket connections through a ``TCPConnector`` (its DNS cache, TLS and
    proxies). ``async with`` closes every connection still open on exit, and the connector
    if the client made it."""

    def __init__(self, connector: TCPConnector | None = None) -> None:
        self._owns_connector = connector is None
        self.connector = connector if connector is not None else TCPConnector()
        self.timeouts = self.connector.timeouts
        self._connections: set[WebSocketConnection] = set()

    async def connect(
        self,
        url: str,
        verify: bool = True,
        ssl: SSLContext | None = None,
        headers: HeadersLike | None = None,
        subprotocols: Sequence[str] | None = None,
        start_keepalive: bool = True,
        keepalive_interval: float = 30.0,
        conn_opts: dict[str, Any] | None = None,
        *,
        proxy: Proxy | None = None,
        timeouts: Timeouts | None = None,
        max_msg_size: int | None = DEFAULT_MAX_MSG_SIZE,
        max_queue: int = DEFAULT_MAX_QUEUE,
        compress: bool = True,
        keepalive_timeout: float | None = None,
        close_timeout: float = DEFAULT_CLOSE_TIMEOUT,
    ) -> WebSocketConnection:
        """Open a WebSocket to ``url`` (ws://, wss://, or http(s):// for the same).

        - ``verify`` / ``ssl``: certificate checking, or a caller's ``SSLContext`` (wss).
        - ``headers``: extra request headers (Origin, Authorization, cookies...); ``Host``
          may be replaced, the handshake's own headers may not.
        - ``subprotocols``: offered in order; the server's choice is ``ws.subprotocol``.
        - ``start_keepalive`` / ``keepalive_interval`` / ``keepalive_timeout``: ping
          periodically; no pong in time closes the connection.
        - ``conn_opts``: ``queue_maxsize`` (same as ``max_queue``), ``drop_frames`` (drop
          messages when the queue is full instead of pausing the socket),
          ``protocol_handler`` (a ``ProtocolHandler``).
        - ``proxy``: an HTTP proxy, reached with CONNECT for ws:// too.
        - ``timeouts``: for the handshake (the connector's by default).
        - ``max_msg_size``: the largest message accepted (bytes; None: no limit).
        - ``max_queue``: messages held for the reader before reading the socket pauses.
        - ``compress``: offer ``permessage-deflate``.
        - ``close_timeout``: how long ``close()`` waits for the server's close frame.

        Raises ``WebSocketHandshakeError`` (``status_code``) when the server refuses or
        answers the handshake wrongly, and the connector's errors (``ConnectError``,
        ``ConnectTimeout``, ``ProxyError``, ``TLSError``...) when it cannot be reached.
        """
        options = dict(conn_opts or {})
        max_queue = options.pop("queue_maxsize", max_queue)
        drop_frames = bool(options.pop("drop_frames", False))
        protocol_handler = options.pop("protocol_handler", None)
        if options:
            raise TypeError(f"unknown conn_opts: {', '.join(sorted(options))}")
        if not isinstance(max_queue, int) or max_queue < 1:
            raise ValueError(f"max_queue must be a positive int: {max_queue!r}")
        if max_msg_size is not None and max_msg_size < 1:
            raise ValueError(f"max_msg_size must be positive or None: {max_msg_size!r}")
        if close_timeout <= 0:
            raise ValueError(f"close_timeout must be positive: {close_timeout!r}")
        if protocol_handler is not None and not subprotocols:
            subprotocols = [protocol_handler.name]
        offered = list(subprotocols or ())

        parsed = parse_url(url, _SCHEMES)
        ssl_context = None
        if parsed.is_secure:
            ssl_context = ssl if ssl is not None else client_context(verify, False)
        # The same route cache and pool as HTTP requests; through a proxy, always a tunnel.
        route = self.connector.route(parsed, ssl_context, proxy, None, tunnel=True)
        key = new_key()
        head = build_handshake(parsed, key, offered, compress, headers)
        exchange = Exchange("GET", parsed, route, head, [], timeouts or self.timeouts,
                            upgrade=True)
        response, transport, tail = await self.connector.transport.upgrade(exchange)
        if transport is None:
            await response.discard()
            raise WebSocketHandshakeError(
                f"the server refused the WebSocket upgrade: "
                f"{response.status_code} {response.reason}".rstrip(),
                response.status_code,
                response.headers,
            )
        loop = asyncio.get_running_loop()
        try:
            subprotocol, extensions = check_handshake(
                response.status_code, response.headers, key, offered, compress
            )
        except WebSocketHandshakeError:
            # The transport is ours now: drop it and wait until it is gone.
            doomed = WebSocketProtocol(
                loop, [], max_msg_size=None, max_queue=1, close_timeout=close_timeout
            )
            transport.set_protocol(doomed)
            doomed.connection_made(transport)
            doomed.abort()
            await doomed.wait_closed()
            raise
        protocol = WebSocketProtocol(
            loop,
            extensions,
            max_msg_size=max_msg_size,
            max_queue=max_queue,
            close_timeout=close_timeout,
            drop_when_full=drop_frames,
        )
        transport.set_protocol(protocol)
        protocol.connection_made(transport)
        if tail:
            protocol.data_received(tail)  # frames that arrived with the 101
        connection = WebSocketConnection(
            protocol, response, subprotocol, protocol_handler, self._connections.discard
        )
        self._connections.add(connection)
        if start_keepalive:
            connection.start_keep_alive(keepalive_interval, keepalive_timeout)
        return connection

    async def close(self) -> None:
        """Close every connection still open (1001, going away), then the connector if the
        client made it."""
        open_connections = list(self._connections)
        if open_connections:
            await asyncio.gather(
                *(conn.close(1001, "client closing") for conn in open_connections),
                return_exceptions=True,
            )
        if self._owns_connector:
            await self.connector.cleanup()

    async def __aenter__(self) -> WebSocketClient:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()
