"""The HTTP/2 client connection, sans-IO (RFC 9113): bytes in, events out, bytes to send.

``H2Core`` owns the protocol state of one connection: the streams we opened and their
states, both directions of flow control, the settings of both sides, the header block being
assembled, and the validation of what the server sends. ``receive(data)`` returns the
events the bytes carried; every local action (open a stream, send data, acknowledge
consumed data, reset, close) queues frames that ``data_to_send()`` hands over.

Errors: a connection error queues GOAWAY with its code and raises ``H2ConnectionError``;
nothing is accepted afterwards. A stream error queues RST_STREAM and becomes a
``StreamError`` event for that stream; the connection goes on. Local misuse (sending on a
stream that is not open, past the window) raises ``H2LocalError``.

Streams are client-initiated (odd ids, increasing; push is disabled, so a server-initiated
stream is a connection error). A stream lives in ``streams`` while it is not closed::

    (idle) --send HEADERS--------------------> OPEN
    (idle) --send HEADERS + END_STREAM-------> HALF_CLOSED_LOCAL
    OPEN               --send END_STREAM-----> HALF_CLOSED_LOCAL
    OPEN               --recv END_STREAM-----> HALF_CLOSED_REMOTE
    HALF_CLOSED_LOCAL  --recv END_STREAM-----> (closed)
    HALF_CLOSED_REMOTE --send END_STREAM-----> (closed)
    any                --send/recv RST_STREAM, stream error, above GOAWAY's last id--> (closed)

A closed stream is a stream id below ``next_stream_id`` that is not in ``streams``. Frames
still arriving on a stream we reset (recently: the last ``_RESET_MEMORY`` ones) are dropped,
their DATA credited back to the connection window; DATA or HEADERS on another closed stream
is a STREAM_CLOSED stream error. HPACK blocks are decoded whatever the stream's state, so the
dynamic table stays in step with the server's.

HPACK is injected (``HeaderEncoder``/``HeaderDecoder``). This module does no I/O, holds no
timers and knows nothing of responses or asyncio (``_http2_conn`` drives it). It is
compiled by mypyc.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final, Protocol

from ._h2frames import (
    COMPRESSION_ERROR,
    CONTINUATION,
    DATA,
    DEFAULT_MAX_FRAME_SIZE,
    DEFAULT_WINDOW_SIZE,
    ENHANCE_YOUR_CALM,
    FLAG_ACK,
    FLAG_END_HEADERS,
    FLAG_END_STREAM,
    FLOW_CONTROL_ERROR,
    GOAWAY,
    HEADERS,
    MAX_STREAM_ID,
    MAX_WINDOW_SIZE,
    NO_ERROR,
    PING,
    PREFACE,
    PRIORITY,
    PROTOCOL_ERROR,
    PUSH_PROMISE,
    RST_STREAM,
    SETTINGS,
    SETTINGS_ACK_FRAME,
    SETTINGS_ENABLE_PUSH,
    SETTINGS_HEADER_TABLE_SIZE,
    SETTINGS_INITIAL_WINDOW_SIZE,
    SETTINGS_MAX_CONCURRENT_STREAMS,
    SETTINGS_MAX_FRAME_SIZE,
    SETTINGS_MAX_HEADER_LIST_SIZE,
    STREAM_CLOSED,
    WINDOW_UPDATE,
    FrameError,
    FrameReader,
    data_frame_header,
    error_name,
    goaway_frame,
    headers_frames,
    parse_continuation,
    parse_data,
    parse_goaway,
    parse_headers,
    parse_ping,
    parse_priority,
    parse_rst_stream,
    parse_settings,
    parse_window_update,
    ping_frame,
    rst_stream_frame,
    settings_frame,
    window_update_frame,
)

__all__ = [
    "DataReceived",
    "Event",
    "GoAwayReceived",
    "H2ConnectionError",
    "H2Core",
    "H2LocalError",
    "InformationalReceived",
    "PingReceived",
    "ResponseReceived",
    "SettingsReceived",
    "StreamEnded",
    "StreamError",
    "StreamIdsExhausted",
    "StreamReset",
    "TrailersReceived",
    "WindowUpdated",
]

Headers = list[tuple[bytes, bytes]]


class HeaderEncoder(Protocol):
    def set_max_table_size(self, size: int) -> None: ...

    def encode(self, headers: Sequence[tuple[bytes, bytes]]) -> bytes: ...


class HeaderDecoder(Protocol):
    def decode(self, block: bytes) -> list[tuple[bytes, bytes]]: ...


# -- errors ---------------------------------------------------------------------------------


class H2ConnectionError(Exception):
    """The connection broke a rule (ours or the server's): GOAWAY with ``code`` is queued
    and the connection is finished."""

    def __init__(self, code: int, message: str) -> None:
        super().__init__(f"{message} ({error_name(code)})")
        self.code = code
        self.message = message


class H2LocalError(Exception):
    """Our own side asked for something the protocol does not allow now."""


class StreamIdsExhausted(H2LocalError):
    """Every client stream id (odd, up to 2^31-1) has been used: a new connection is needed."""


# -- events ---------------------------------------------------------------------------------


class Event:
    __slots__ = ("stream_id",)

    def __init__(self, stream_id: int) -> None:
        self.stream_id = stream_id


class _HeadReceived(Event):
    """A response head: ``status`` and ``headers`` without the pseudo-headers, in order."""

    __slots__ = ("headers", "status")

    def __init__(self, stream_id: int, status: int, headers: Headers) -> None:
        self.stream_id = stream_id
        self.status = status
        self.headers = headers


class ResponseReceived(_HeadReceived):
    """The final response head."""

    __slots__ = ()


class InformationalReceived(_HeadReceived):
    """A 1xx head before the final one (there may be several)."""

    __slots__ = ()


class DataReceived(Event):
    """Body data; ``flow_length`` (padding included) is what ``acknowledge`` must be given
    once the data is consumed."""

    __slots__ = ("data", "flow_length")

    def __init__(self, stream_id: int, data: bytes, flow_length: int) -> None:
        self.stream_id = stream_id
        self.data = data
        self.flow_length = flow_length


class TrailersReceived(Event):
    __slots__ = ("headers",)

    def __init__(self, stream_id: int, headers: Headers) -> None:
        self.stream_id = stream_id
        self.headers = headers


class StreamEnded(Event):
    """The server ended its side of the stream (after the head, data or trailers)."""

    __slots__ = ()


class StreamReset(Event):
    """The server reset the stream (RST_STREAM)."""

    __slots__ = ("code",)

    def __init__(self, stream_id: int, code: int) -> None:
        self.stream_id = stream_id
        self.code = code


class StreamError(Event):
    """We reset the stream because the server broke a rule on it (RST_STREAM queued)."""

    __slots__ = ("code", "reason")

    def __init__(self, stream_id: int, code: int, reason: str) -> None:
        self.stream_id = stream_id
        self.code = code
        self.reason = reason


class GoAwayReceived(Event):
    """GOAWAY: streams above ``last_stream_id`` were not processed (and are closed here);
    the others may finish. ``stream_id`` is 0."""

    __slots__ = ("code", "debug", "last_stream_id")

    def __init__(self, last_stream_id: int, code: int, debug: bytes) -> None:
        self.stream_id = 0
        self.last_stream_id = last_stream_id
        self.code = code
        self.debug = debug


class WindowUpdated(Event):
    """The send window of a stream (or of the connection, stream 0) grew by ``delta``."""

    __slots__ = ("delta",)

    def __init__(self, stream_id: int, delta: int) -> None:
        self.stream_id = stream_id
        self.delta = delta


class SettingsReceived(Event):
    """A SETTINGS frame of the server, applied and acknowledged: ``changed`` maps each
    identifier it carried to its value (possibly empty)."""

    __slots__ = ("changed",)

    def __init__(self, changed: dict[int, int]) -> None:
        self.stream_id = 0
        self.changed = changed


class PingReceived(Event):
    """A PING of the server (the ACK is queued already)."""

    __slots__ = ("data",)

    def __init__(self, data: bytes) -> None:
        self.stream_id = 0
        self.data = data


# -- streams --------------------------------------------------------------------------------

OPEN: Final = 1
HALF_CLOSED_LOCAL: Final = 2
HALF_CLOSED_REMOTE: Final = 3
CLOSED: Final = 4  # never stored: a closed stream leaves ``streams``

# The transitions of the table in the module docstring, as data.
_AFTER_SEND_END: Final = {OPEN: HALF_CLOSED_LOCAL, HALF_CLOSED_REMOTE: CLOSED}
_AFTER_RECV_END: Final = {OPEN: HALF_CLOSED_REMOTE, HALF_CLOSED_LOCAL: CLOSED}

# Frames arriving after we reset a stream are dropped quietly for this many streams.
_RESET_MEMORY: Final = 1024
# A header block in CONTINUATIONs: at most this many frames (a flood of empty ones costs
# nothing in size but everything in time) ...
_MAX_CONTINUATIONS: Final = 128
# ... and at most this much beyond our SETTINGS_MAX_HEADER_LIST_SIZE (HPACK rarely makes a
# block larger than the list it encodes; the decoder checks the list itself).
_BLOCK_SLACK: Final = 16384

_NO_LIMIT: Final = 2**32 + 1
DEFAULT_HEADER_TABLE_SIZE: Final = 4096  # no MAX_CONCURRENT_STREAMS until the server says one

# Response header validation (RFC 9113 8.2, 8.3; RFC 9110 5.1 for the name grammar).
_TOKEN_LOWER: Final = b"!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyz"
_CONNECTION_SPECIFIC: Final = frozenset(
    {b"connection", b"keep-alive", b"proxy-connection", b"transfer-encoding", b"upgrade"}
)
_REQUEST_PSEUDO: Final = frozenset({b":method", b":scheme", b":authority", b":path", b":protocol"})
# Three digits (RFC 9110 15: 100-999 parse; what a code means is the response's business).
_STATUS_CODES: Final = {b"%d" % code: code for code in range(100, 1000)}
# Field names already found valid that need no further check (see _check_name).
_PLAIN_NAMES: Final[dict[bytes, None]] = {}
_PLAIN_NAMES_MAX: Final = 4096


class H2Stream:
    """What the core knows of one stream we opened."""

    __slots__ = (
        "expected_length",
        "final",
        "head_request",
        "received_length",
        "recv_window",
        "send_window",
        "state",
        "stream_id",
        "unacked",
    )

    def __init__(self, stream_id: int, state: int, send_window: int, recv_window: int) -> None:
        self.stream_id = stream_id
        self.state = state
        self.send_window = send_window
        self.recv_window = recv_window  # what the server may still send on it
        self.unacked = 0  # consumed, not yet given back with WINDOW_UPDATE
        self.final = False  # the final (non-1xx) response head arrived
        self.head_request = False
        self.expected_length = -1  # content-length of the response, -1 when none
        self.received_length = 0


class H2Core:
    """The client side of one HTTP/2 connection, without I/O."""

    def __init__(
        self,
        encoder: HeaderEncoder,
        decoder: HeaderDecoder,
        *,
        initial_window: int = DEFAULT_WINDOW_SIZE,
        connection_window: int = DEFAULT_WINDOW_SIZE,
        max_concurrent_streams: int = 100,
        max_header_list_size: int = 65536,
    ) -> None:
        if not 0 <= initial_window <= MAX_WINDOW_SIZE:
            raise ValueError("initial_window must be within 0..2^31-1")
        if not DEFAULT_WINDOW_SIZE <= connection_window <= MAX_WINDOW_SIZE:
            raise ValueError("connection_window must be within 65535..2^31-1")
        self.encoder = encoder
        self.decoder = decoder
        self.reader = FrameReader()
        self.out: list[bytes] = []
        self.streams: dict[int, H2Stream] = {}
        self.next_stream_id = 1
        self.closed = False  # GOAWAY sent (by close() or a connection error)
        self.shutting_down = False  # a graceful GOAWAY sent (shutdown())
        self.goaway_received = False
        # Our settings.
        self.local_window = initial_window
        self.local_max_streams = max_concurrent_streams
        self.local_max_header_list = max_header_list_size
        self._settings_acked = False
        self._stream_threshold = max(1, initial_window // 2)
        self._connection_window = connection_window
        self._connection_threshold = connection_window // 2
        # The server's settings (RFC 9113 6.5.2 defaults until its SETTINGS arrive).
        self.max_concurrent_streams = _NO_LIMIT
        self.max_outbound_frame_size = DEFAULT_MAX_FRAME_SIZE
        self.peer_initial_window = DEFAULT_WINDOW_SIZE
        self.peer_max_header_list_size = -1
        self._got_settings = False
        # Connection flow control.
        self.send_window = DEFAULT_WINDOW_SIZE
        self.recv_window = DEFAULT_WINDOW_SIZE
        self._unacked = 0
        self._reset_ids: dict[int, None] = {}
        # The header block being assembled (HEADERS without END_HEADERS, then CONTINUATION).
        self._block_stream = 0
        self._block_parts: list[bytes] = []
        self._block_size = 0
        self._block_frames = 0
        self._block_end_stream = False

    # -- local actions --------------------------------------------------------------------

    def initiate(self) -> None:
        """The client connection preface: the magic, our SETTINGS and the connection window
        (3.4, 6.5, 6.9)."""
        self.out.append(PREFACE)
        self.out.append(settings_frame([
            # The defaults, said out loud as h2 did: nginx answers an announced table size
            # by setting its own to 0 (its blocks then never touch our decoder's dynamic
            # table, so our HPACK decoder can reuse its work on every response).
            (SETTINGS_HEADER_TABLE_SIZE, DEFAULT_HEADER_TABLE_SIZE),
            (SETTINGS_ENABLE_PUSH, 0),
            (SETTINGS_INITIAL_WINDOW_SIZE, self.local_window),
            (SETTINGS_MAX_CONCURRENT_STREAMS, self.local_max_streams),
            (SETTINGS_MAX_HEADER_LIST_SIZE, self.local_max_header_list),
            (SETTINGS_MAX_FRAME_SIZE, self.reader.max_frame_size),
        ]))
        grow = self._connection_window - DEFAULT_WINDOW_SIZE
        if grow:
            self.out.append(window_update_frame(0, grow))
            self.recv_window += grow

    def data_to_send(self) -> bytes:
        out = self.out
        if not out:
            return b""
        data = out[0] if len(out) == 1 else b"".join(out)
        out.clear()
        return data

    @property
    def open_streams(self) -> int:
        return len(self.streams)

    def open_stream(self, headers: Sequence[tuple[bytes, bytes]], end_stream: bool) -> int:
        """Send a request's HEADERS on a new stream; its id. The headers are encoded as
        given (the request builder validated and ordered them)."""
        if self.closed:
            raise H2LocalError("the HTTP/2 connection is closed")
        stream_id = self.next_stream_id
        if stream_id > MAX_STREAM_ID:
            raise StreamIdsExhausted("no HTTP/2 stream ids left on this connection")
        block = self.encoder.encode(headers)
        self.next_stream_id = stream_id + 2
        recv = self.local_window
        if not self._settings_acked and recv < DEFAULT_WINDOW_SIZE:
            recv = DEFAULT_WINDOW_SIZE  # the server may not have applied ours yet
        stream = H2Stream(
            stream_id, HALF_CLOSED_LOCAL if end_stream else OPEN, self.peer_initial_window, recv
        )
        for name, value in headers:
            if name == b":method":
                stream.head_request = value == b"HEAD"
                break
        self.streams[stream_id] = stream
        self.out.append(
            headers_frames(stream_id, block, end_stream, self.max_outbound_frame_size)
        )
        return stream_id

    def send_window_of(self, stream_id: int) -> int:
        """How many bytes of data the stream may send now (stream and connection windows)."""
        stream = self.streams.get(stream_id)
        if stream is None:
            return 0
        window = stream.send_window
        return window if window < self.send_window else self.send_window

    def send_data(self, stream_id: int, data: bytes, end_stream: bool = False) -> None:
        """One DATA frame: ``data`` must fit the windows and the server's frame size."""
        stream = self.streams.get(stream_id)
        if stream is None or stream.state == HALF_CLOSED_LOCAL or self.closed:
            raise H2LocalError(f"stream {stream_id} is not open for sending")
        size = len(data)
        if size > stream.send_window or size > self.send_window:
            raise H2LocalError("DATA beyond the flow-control window")
        if size > self.max_outbound_frame_size:
            raise H2LocalError("DATA larger than the server's SETTINGS_MAX_FRAME_SIZE")
        stream.send_window -= size
        self.send_window -= size
        self.out.append(data_frame_header(stream_id, size, end_stream))
        if size:
            self.out.append(data)
        if end_stream:
            self._end_local(stream)

    def end_stream(self, stream_id: int) -> None:
        """End our side of the stream (an empty DATA frame with END_STREAM)."""
        self.send_data(stream_id, b"", True)

    def _end_local(self, stream: H2Stream) -> None:
        state = _AFTER_SEND_END[stream.state]
        if state == CLOSED:
            del self.streams[stream.stream_id]
        else:
            stream.state = state

    def reset_stream(self, stream_id: int, code: int) -> bool:
        """RST_STREAM a stream that is not closed yet; False (nothing sent) if it is."""
        stream = self.streams.pop(stream_id, None)
        if stream is None or self.closed:
            return False
        self._remember_reset(stream_id)
        self.out.append(rst_stream_frame(stream_id, code))
        return True

    def acknowledge(self, stream_id: int, size: int) -> None:
        """``size`` flow-controlled bytes of the stream were consumed: give the windows back,
        in batches (WINDOW_UPDATE once half a window is owed)."""
        if size <= 0 or self.closed:
            return
        self._credit(size)
        stream = self.streams.get(stream_id)
        if stream is not None and stream.state != HALF_CLOSED_REMOTE:
            owed = stream.unacked + size
            if owed >= self._stream_threshold:
                stream.unacked = 0
                stream.recv_window += owed
                self.out.append(window_update_frame(stream_id, owed))
            else:
                stream.unacked = owed

    def _credit(self, size: int) -> None:
        owed = self._unacked + size
        if owed >= self._connection_threshold:
            self._unacked = 0
            self.recv_window += owed
            self.out.append(window_update_frame(0, owed))
        else:
            self._unacked = owed

    def ping(self, opaque: bytes) -> None:
        self.out.append(ping_frame(opaque))

    def close(self, code: int = NO_ERROR, debug: bytes = b"") -> None:
        """GOAWAY (we processed no stream of the server's: last stream id 0)."""
        if not self.closed:
            self.closed = True
            self.out.append(goaway_frame(0, code, debug))

    def shutdown(self) -> None:
        """A graceful GOAWAY (NO_ERROR): the streams in flight go on, frames for them are
        still processed; the caller opens no new one and closes when they are done."""
        if not self.closed and not self.shutting_down:
            self.shutting_down = True
            self.out.append(goaway_frame(0, NO_ERROR, b""))

    def _remember_reset(self, stream_id: int) -> None:
        reset = self._reset_ids
        reset[stream_id] = None
        if len(reset) > _RESET_MEMORY:
            del reset[next(iter(reset))]

    # -- receiving ------------------------------------------------------------------------

    def receive(self, data: bytes | bytearray | memoryview) -> list[Event]:
        """Process bytes from the server; the events they carried, in order. Raises
        ``H2ConnectionError`` on a connection error (GOAWAY queued)."""
        events: list[Event] = []
        if self.closed:
            return events  # after GOAWAY nothing more is processed
        reader = self.reader
        reader.feed(data)
        try:
            while reader.next_frame():
                try:
                    self._frame(reader, events)
                except FrameError as exc:
                    if exc.stream_id == 0:
                        raise
                    self._stream_error(exc.stream_id, exc.code, exc.message, events)
        except FrameError as exc:
            raise self._connection_error(exc.code, exc.message) from None
        return events

    def _connection_error(self, code: int, message: str) -> H2ConnectionError:
        if not self.closed:
            self.closed = True
            self.out.append(goaway_frame(0, code, message.encode("utf-8", "replace")[:256]))
        return H2ConnectionError(code, message)

    def _stream_error(self, stream_id: int, code: int, message: str, events: list[Event]) -> None:
        if stream_id & 1 == 0 or stream_id >= self.next_stream_id:
            # No RST_STREAM may go on a stream that was never opened: end the connection.
            raise FrameError(code if code != STREAM_CLOSED else PROTOCOL_ERROR, message)
        stream = self.streams.pop(stream_id, None)
        self._remember_reset(stream_id)
        self.out.append(rst_stream_frame(stream_id, code))
        if stream is not None:
            events.append(StreamError(stream_id, code, message))

    def _frame(self, reader: FrameReader, events: list[Event]) -> None:
        kind = reader.type
        if self._block_stream:
            if kind != CONTINUATION:
                raise FrameError(
                    PROTOCOL_ERROR, f"frame of type {kind} inside a header block"
                )
            self._on_continuation(reader, events)
            return
        if not self._got_settings:
            if kind != SETTINGS or reader.flags & FLAG_ACK:
                raise FrameError(PROTOCOL_ERROR, "the server's first frame is not SETTINGS")
            self._got_settings = True
        if kind == DATA:
            self._on_data(reader, events)
        elif kind == HEADERS:
            self._on_headers(reader, events)
        elif kind == WINDOW_UPDATE:
            self._on_window_update(reader, events)
        elif kind == SETTINGS:
            self._on_settings(reader, events)
        elif kind == PING:
            opaque = parse_ping(reader.buf, reader.start, reader.length, reader.stream_id)
            if not reader.flags & FLAG_ACK:
                self.out.append(ping_frame(opaque, True))
                events.append(PingReceived(opaque))
        elif kind == RST_STREAM:
            self._on_rst_stream(reader, events)
        elif kind == GOAWAY:
            self._on_goaway(reader, events)
        elif kind == PRIORITY:
            parse_priority(reader.buf, reader.start, reader.length, reader.stream_id)
        elif kind == PUSH_PROMISE:
            raise FrameError(PROTOCOL_ERROR, "PUSH_PROMISE although push is disabled")
        elif kind == CONTINUATION:
            raise FrameError(PROTOCOL_ERROR, "CONTINUATION without a header block to continue")
        # Frames of unknown types are ignored (RFC 9113 4.1, 5.5).

    def _is_idle(self, stream_id: int) -> bool:
        """Never opened by us: even (the server cannot open streams) or not yet used."""
        return stream_id & 1 == 0 or stream_id >= self.next_stream_id

    def _on_data(self, reader: FrameReader, events: list[Event]) -> None:
        stream_id = reader.stream_id
        length = reader.length
        flags = reader.flags
        data = parse_data(reader.buf, reader.start, length, flags, stream_id)
        if length > self.recv_window:
            raise FrameError(
                FLOW_CONTROL_ERROR, "DATA beyond the connection's flow-control window"
            )
        self.recv_window -= length
        stream = self.streams.get(stream_id)
        if stream is None or stream.state == HALF_CLOSED_REMOTE:
            if stream is None and self._is_idle(stream_id):
                raise FrameError(PROTOCOL_ERROR, f"DATA on idle stream {stream_id}")
            self._credit(length)  # nobody will consume it
            if stream is None and stream_id in self._reset_ids:
                return
            raise FrameError(STREAM_CLOSED, f"DATA on closed stream {stream_id}", stream_id)
        if length > stream.recv_window:
            raise FrameError(FLOW_CONTROL_ERROR, "DATA beyond the stream's flow-control window")
        stream.recv_window -= length
        if not stream.final:
            self._credit(length)
            raise FrameError(PROTOCOL_ERROR, "DATA before the response head", stream_id)
        received = stream.received_length + len(data)
        stream.received_length = received
        if 0 <= stream.expected_length < received:
            self._credit(length)
            raise FrameError(
                PROTOCOL_ERROR,
                f"more DATA than the content-length ({stream.expected_length})",
                stream_id,
            )
        if length:
            events.append(DataReceived(stream_id, data, length))
        if flags & FLAG_END_STREAM:
            self._end_remote(stream, events)

    def _end_remote(self, stream: H2Stream, events: list[Event]) -> None:
        expected = stream.expected_length
        if expected >= 0 and stream.received_length != expected:
            raise FrameError(
                PROTOCOL_ERROR,
                f"response body of {stream.received_length} bytes, content-length {expected}",
                stream.stream_id,
            )
        events.append(StreamEnded(stream.stream_id))
        state = _AFTER_RECV_END[stream.state]
        if state == CLOSED:
            del self.streams[stream.stream_id]
        else:
            stream.state = state

    def _on_headers(self, reader: FrameReader, events: list[Event]) -> None:
        stream_id = reader.stream_id
        flags = reader.flags
        fragment = parse_headers(reader.buf, reader.start, reader.length, flags, stream_id)
        if stream_id & 1 == 0:
            raise FrameError(PROTOCOL_ERROR, f"HEADERS on server-initiated stream {stream_id}")
        if stream_id >= self.next_stream_id:
            raise FrameError(PROTOCOL_ERROR, f"HEADERS on idle stream {stream_id}")
        end_stream = flags & FLAG_END_STREAM != 0
        if flags & FLAG_END_HEADERS:
            self._header_block(stream_id, fragment, end_stream, events)
            return
        self._block_stream = stream_id
        self._block_parts = [fragment]
        self._block_size = len(fragment)
        self._block_frames = 0
        self._block_end_stream = end_stream
        self._check_block_size()

    def _check_block_size(self) -> None:
        if self._block_size > self.local_max_header_list + _BLOCK_SLACK:
            raise FrameError(ENHANCE_YOUR_CALM, "header block larger than our header list limit")

    def _on_continuation(self, reader: FrameReader, events: list[Event]) -> None:
        stream_id = reader.stream_id
        if stream_id != self._block_stream:
            raise FrameError(
                PROTOCOL_ERROR,
                f"CONTINUATION on stream {stream_id} inside the header block of stream "
                f"{self._block_stream}",
            )
        fragment = parse_continuation(reader.buf, reader.start, reader.length, stream_id)
        self._block_frames += 1
        if self._block_frames > _MAX_CONTINUATIONS:
            raise FrameError(ENHANCE_YOUR_CALM, "header block in too many CONTINUATION frames")
        if fragment:
            self._block_parts.append(fragment)
            self._block_size += len(fragment)
            self._check_block_size()
        if reader.flags & FLAG_END_HEADERS:
            block = b"".join(self._block_parts)
            self._block_stream = 0
            self._block_parts = []
            self._header_block(stream_id, block, self._block_end_stream, events)

    def _header_block(
        self, stream_id: int, block: bytes, end_stream: bool, events: list[Event]
    ) -> None:
        try:
            headers = self.decoder.decode(block)
        except Exception as exc:  # any decoder failure leaves its table unknown
            raise FrameError(COMPRESSION_ERROR, f"HPACK: {exc}") from None
        stream = self.streams.get(stream_id)
        if stream is None:
            if stream_id in self._reset_ids:
                return  # a late answer to a stream we gave up: decoded, dropped
            raise FrameError(STREAM_CLOSED, f"HEADERS on closed stream {stream_id}", stream_id)
        if stream.state == HALF_CLOSED_REMOTE:
            raise FrameError(STREAM_CLOSED, f"HEADERS after END_STREAM on {stream_id}", stream_id)
        if stream.final:
            if not end_stream:
                raise FrameError(PROTOCOL_ERROR, "trailers without END_STREAM", stream_id)
            for name, value in headers:
                if name[:1] == b":":
                    raise FrameError(PROTOCOL_ERROR, f"pseudo-header {name!r} in trailers",
                                     stream_id)
                _check_field(name, value, stream_id)
            events.append(TrailersReceived(stream_id, headers))
            self._end_remote(stream, events)
            return
        status, first, length = _check_response(headers, stream_id)
        regular = headers[first:] if first else headers
        if status < 200:
            if end_stream:
                raise FrameError(PROTOCOL_ERROR, "informational response with END_STREAM",
                                 stream_id)
            events.append(InformationalReceived(stream_id, status, regular))
            return
        stream.final = True
        if stream.head_request or status == 304:
            stream.expected_length = 0  # no content, whatever content-length says
        else:
            stream.expected_length = length
        events.append(ResponseReceived(stream_id, status, regular))
        if end_stream:
            self._end_remote(stream, events)

    def _on_window_update(self, reader: FrameReader, events: list[Event]) -> None:
        stream_id = reader.stream_id
        increment = parse_window_update(reader.buf, reader.start, reader.length, stream_id)
        if stream_id == 0:
            window = self.send_window + increment
            if window > MAX_WINDOW_SIZE:
                raise FrameError(FLOW_CONTROL_ERROR, "connection window above 2^31-1")
            self.send_window = window
            events.append(WindowUpdated(0, increment))
            return
        stream = self.streams.get(stream_id)
        if stream is None:
            if self._is_idle(stream_id):
                raise FrameError(PROTOCOL_ERROR, f"WINDOW_UPDATE on idle stream {stream_id}")
            return  # closed: may arrive for a while (5.1)
        window = stream.send_window + increment
        if window > MAX_WINDOW_SIZE:
            raise FrameError(FLOW_CONTROL_ERROR, "stream window above 2^31-1", stream_id)
        stream.send_window = window
        events.append(WindowUpdated(stream_id, increment))

    def _on_settings(self, reader: FrameReader, events: list[Event]) -> None:
        pairs = parse_settings(reader.buf, reader.start, reader.length, reader.flags,
                               reader.stream_id)
        if reader.flags & FLAG_ACK:
            if not self._settings_acked:
                self._settings_acked = True
                if self.local_window < DEFAULT_WINDOW_SIZE:
                    # Streams opened before were allowed the default window: shrink them.
                    delta = self.local_window - DEFAULT_WINDOW_SIZE
                    for stream in self.streams.values():
                        stream.recv_window += delta
            return
        changed: dict[int, int] = {}
        for ident, value in pairs:
            if ident == SETTINGS_INITIAL_WINDOW_SIZE:
                delta = value - self.peer_initial_window
                self.peer_initial_window = value
                if delta:
                    for stream in self.streams.values():
                        window = stream.send_window + delta
                        if window > MAX_WINDOW_SIZE:
                            raise FrameError(
                                FLOW_CONTROL_ERROR,
                                "SETTINGS_INITIAL_WINDOW_SIZE makes a stream window exceed "
                                "2^31-1",
                            )
                        stream.send_window = window
            elif ident == SETTINGS_MAX_CONCURRENT_STREAMS:
                self.max_concurrent_streams = value
            elif ident == SETTINGS_MAX_FRAME_SIZE:
                self.max_outbound_frame_size = value
            elif ident == SETTINGS_HEADER_TABLE_SIZE:
                self.encoder.set_max_table_size(value)
            elif ident == SETTINGS_MAX_HEADER_LIST_SIZE:
                self.peer_max_header_list_size = value
            changed[ident] = value
        self.out.append(SETTINGS_ACK_FRAME)
        events.append(SettingsReceived(changed))

    def _on_rst_stream(self, reader: FrameReader, events: list[Event]) -> None:
        stream_id = reader.stream_id
        code = parse_rst_stream(reader.buf, reader.start, reader.length, stream_id)
        stream = self.streams.pop(stream_id, None)
        if stream is not None:
            events.append(StreamReset(stream_id, code))
        elif self._is_idle(stream_id):
            raise FrameError(PROTOCOL_ERROR, f"RST_STREAM on idle stream {stream_id}")

    def _on_goaway(self, reader: FrameReader, events: list[Event]) -> None:
        last, code, debug = parse_goaway(reader.buf, reader.start, reader.length,
                                         reader.stream_id)
        self.goaway_received = True
        # Streams above the last id were not processed and never will be: closed here; the
        # others stay open until they finish (the state machine is not closed by GOAWAY).
        for stream_id in [sid for sid in self.streams if sid > last]:
            del self.streams[stream_id]
            self._remember_reset(stream_id)
        events.append(GoAwayReceived(last, code, debug))


def _check_name(name: bytes, stream_id: int) -> None:
    """A regular field name: a lowercase token, not connection-specific (8.2.1, 8.2.2).
    Names that need nothing more are remembered: responses repeat the same few names."""
    if not name or name.translate(None, _TOKEN_LOWER):
        raise FrameError(PROTOCOL_ERROR, f"invalid header name {name!r}", stream_id)
    if name in _CONNECTION_SPECIFIC:
        raise FrameError(PROTOCOL_ERROR, f"connection-specific header {name!r}", stream_id)
    if name != b"te" and name != b"content-length":
        if len(_PLAIN_NAMES) >= _PLAIN_NAMES_MAX:
            _PLAIN_NAMES.clear()
        _PLAIN_NAMES[name] = None


def _check_value(name: bytes, value: bytes, stream_id: int) -> None:
    # Ints, not one-byte strings: ``b"\r" in value`` first tries (and fails) to read its
    # argument as an int, raising and clearing a TypeError every time.
    if 13 in value or 10 in value or 0 in value:
        raise FrameError(PROTOCOL_ERROR, f"invalid character in {name!r} value", stream_id)
    edge = value[0]
    if edge == 32 or edge == 9:
        raise FrameError(PROTOCOL_ERROR, f"whitespace around the {name!r} value", stream_id)
    edge = value[-1]
    if edge == 32 or edge == 9:
        raise FrameError(PROTOCOL_ERROR, f"whitespace around the {name!r} value", stream_id)


def _check_field(name: bytes, value: bytes, stream_id: int) -> None:
    """A regular field of trailers (RFC 9113 8.2.1, 8.2.2)."""
    if name not in _PLAIN_NAMES:
        _check_name(name, stream_id)
        if name == b"te" and value.lower() != b"trailers":
            raise FrameError(PROTOCOL_ERROR, f"te header of {value!r}", stream_id)
    if value:
        _check_value(name, value, stream_id)


def _check_response(headers: Headers, stream_id: int) -> tuple[int, int, int]:
    """Validate a response head: (status, index of the first regular field, content-length
    or -1). Every rule broken is a malformed response, a stream error (8.1.1)."""
    status = -1
    first = -1
    length = -1
    index = 0
    for name, value in headers:
        if name[:1] == b":":
            if first >= 0:
                raise FrameError(PROTOCOL_ERROR, f"pseudo-header {name!r} after regular ones",
                                 stream_id)
            if name == b":status":
                if status >= 0:
                    raise FrameError(PROTOCOL_ERROR, "more than one :status", stream_id)
                status = _STATUS_CODES.get(value, -1)
                if status < 0:
                    raise FrameError(PROTOCOL_ERROR, f":status {value!r}", stream_id)
            elif name in _REQUEST_PSEUDO:
                raise FrameError(PROTOCOL_ERROR, f"request pseudo-header {name!r} in a response",
                                 stream_id)
            else:
                raise FrameError(PROTOCOL_ERROR, f"unknown pseudo-header {name!r}", stream_id)
            index += 1
            continue
        if first < 0:
            first = index
        index += 1
        if name not in _PLAIN_NAMES:
            _check_name(name, stream_id)
            if name == b"te":
                if value.lower() != b"trailers":
                    raise FrameError(PROTOCOL_ERROR, f"te header of {value!r}", stream_id)
            elif name == b"content-length":
                if not value.isdigit():
                    raise FrameError(PROTOCOL_ERROR, f"content-length {value!r}", stream_id)
                declared = int(value)
                if length >= 0 and declared != length:
                    raise FrameError(PROTOCOL_ERROR, "conflicting content-length values",
                                     stream_id)
                length = declared
        if value:
            # _check_value, inlined: this runs for every field of every response.
            if 13 in value or 10 in value or 0 in value:
                raise FrameError(PROTOCOL_ERROR, f"invalid character in {name!r} value",
                                 stream_id)
            edge = value[0]
            if edge == 32 or edge == 9:
                raise FrameError(PROTOCOL_ERROR, f"whitespace around the {name!r} value",
                                 stream_id)
            edge = value[-1]
            if edge == 32 or edge == 9:
                raise FrameError(PROTOCOL_ERROR, f"whitespace around the {name!r} value",
                                 stream_id)
    if status < 0:
        raise FrameError(PROTOCOL_ERROR, "response without :status", stream_id)
    return status, first if first >= 0 else index, length
