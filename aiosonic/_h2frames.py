"""HTTP/2 frames (RFC 9113 sections 4 and 6): read them from a receive buffer, write the ones
a client sends.

``FrameReader`` keeps the bytes received so far and yields one frame at a time: its header
fields become attributes of the reader (no object per frame), its payload stays in the
buffer until a ``parse_*`` function for that frame type takes out what it carries. Every
size, padding and stream-identifier rule of section 6 is enforced here, so the connection
core above sees only well-formed frames. A broken rule raises ``FrameError``: with
``stream_id`` 0 it is a connection error, otherwise a stream error on that stream.

The serialisers build the frames a client sends (SETTINGS, HEADERS + CONTINUATION, DATA,
WINDOW_UPDATE, PING, RST_STREAM, GOAWAY) as ``bytes``.

This module knows nothing of streams, states, flow-control windows or HPACK (that is
``_h2core``), and does no I/O. It is compiled by mypyc: plain ints, no Enum in the hot path.
"""

from __future__ import annotations

import struct
from typing import Final

__all__ = [
    "FrameError",
    "FrameReader",
]

# Frame types (RFC 9113 section 6).
DATA: Final = 0x0
HEADERS: Final = 0x1
PRIORITY: Final = 0x2
RST_STREAM: Final = 0x3
SETTINGS: Final = 0x4
PUSH_PROMISE: Final = 0x5
PING: Final = 0x6
GOAWAY: Final = 0x7
WINDOW_UPDATE: Final = 0x8
CONTINUATION: Final = 0x9

# Flags (the same bit means END_STREAM on DATA/HEADERS and ACK on SETTINGS/PING).
FLAG_END_STREAM: Final = 0x1
FLAG_ACK: Final = 0x1
FLAG_END_HEADERS: Final = 0x4
FLAG_PADDED: Final = 0x8
FLAG_PRIORITY: Final = 0x20

# Error codes (RFC 9113 section 7).
NO_ERROR: Final = 0x0
PROTOCOL_ERROR: Final = 0x1
INTERNAL_ERROR: Final = 0x2
FLOW_CONTROL_ERROR: Final = 0x3
SETTINGS_TIMEOUT: Final = 0x4
STREAM_CLOSED: Final = 0x5
FRAME_SIZE_ERROR: Final = 0x6
REFUSED_STREAM: Final = 0x7
CANCEL: Final = 0x8
COMPRESSION_ERROR: Final = 0x9
CONNECT_ERROR: Final = 0xA
ENHANCE_YOUR_CALM: Final = 0xB
INADEQUATE_SECURITY: Final = 0xC
HTTP_1_1_REQUIRED: Final = 0xD

_ERROR_NAMES: Final = (
    "NO_ERROR", "PROTOCOL_ERROR", "INTERNAL_ERROR", "FLOW_CONTROL_ERROR", "SETTINGS_TIMEOUT",
    "STREAM_CLOSED", "FRAME_SIZE_ERROR", "REFUSED_STREAM", "CANCEL", "COMPRESSION_ERROR",
    "CONNECT_ERROR", "ENHANCE_YOUR_CALM", "INADEQUATE_SECURITY", "HTTP_1_1_REQUIRED",
)

# SETTINGS parameters (RFC 9113 section 6.5.2; 8 from RFC 8441).
SETTINGS_HEADER_TABLE_SIZE: Final = 0x1
SETTINGS_ENABLE_PUSH: Final = 0x2
SETTINGS_MAX_CONCURRENT_STREAMS: Final = 0x3
SETTINGS_INITIAL_WINDOW_SIZE: Final = 0x4
SETTINGS_MAX_FRAME_SIZE: Final = 0x5
SETTINGS_MAX_HEADER_LIST_SIZE: Final = 0x6
SETTINGS_ENABLE_CONNECT_PROTOCOL: Final = 0x8

DEFAULT_WINDOW_SIZE: Final = 65535
DEFAULT_MAX_FRAME_SIZE: Final = 16384
MAX_MAX_FRAME_SIZE: Final = (1 << 24) - 1
MAX_WINDOW_SIZE: Final = (1 << 31) - 1
MAX_STREAM_ID: Final = (1 << 31) - 1

PREFACE: Final = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"

# length (24 bits as 8 + 16), type, flags, reserved bit + stream id
_HEAD: Final = struct.Struct(">BHBBL")
_U32: Final = struct.Struct(">L")
_U32X2: Final = struct.Struct(">LL")
_SETTING: Final = struct.Struct(">HL")


def error_name(code: int) -> str:
    """``PROTOCOL_ERROR`` for 1; unknown codes (which must be accepted) as their number."""
    if 0 <= code < len(_ERROR_NAMES):
        return _ERROR_NAMES[code]
    return f"0x{code:x}"


class FrameError(Exception):
    """A frame breaks a rule of RFC 9113. ``stream_id`` 0: a connection error; otherwise a
    stream error on that stream (RST_STREAM with ``code``, the connection goes on)."""

    def __init__(self, code: int, message: str, stream_id: int = 0) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.stream_id = stream_id


class FrameReader:
    """The receive buffer. ``next_frame()`` moves to the next complete frame and sets
    ``type``, ``flags``, ``stream_id``, ``start`` and ``length`` (its payload is
    ``buf[start:start + length]``); False when no complete frame is buffered."""

    __slots__ = (
        "buf", "flags", "have", "length", "max_frame_size", "parts", "pos", "start",
        "stream_id", "type", "waiting",
    )

    def __init__(self, max_frame_size: int = DEFAULT_MAX_FRAME_SIZE) -> None:
        self.buf = b""
        self.pos = 0
        self.max_frame_size = max_frame_size  # ours: SETTINGS_MAX_FRAME_SIZE we announced
        self.type = 0
        self.flags = 0
        self.stream_id = 0
        self.start = 0
        self.length = 0
        # A frame that arrives in many pieces is collected here and joined once complete
        # (joining at every piece would copy it over and over).
        self.parts: list[bytes] = []
        self.have = 0
        self.waiting = 0  # bytes the parked frame needs in all; 0: nothing parked

    def feed(self, data: bytes | bytearray | memoryview) -> None:
        # An immutable buffer: payloads are sliced out as bytes with one copy.
        raw = data if type(data) is bytes else bytes(data)
        if self.waiting:
            self.parts.append(raw)
            self.have += len(raw)
            if self.have >= self.waiting:
                self.buf = b"".join(self.parts)
                self.pos = 0
                self.parts = []
                self.waiting = 0
            return
        pos = self.pos
        buf = self.buf
        if pos >= len(buf):
            self.buf = raw
        else:
            self.buf = buf[pos:] + raw  # at most a frame header's few bytes left over
        self.pos = 0

    @property
    def pending(self) -> int:
        """Bytes buffered but not yet returned as a frame."""
        if self.waiting:
            return self.have
        return len(self.buf) - self.pos

    def next_frame(self) -> bool:
        if self.waiting:
            return False
        buf = self.buf
        pos = self.pos
        size = len(buf)
        if size - pos < 9:
            return False
        high, low, kind, flags, stream_id = _HEAD.unpack_from(buf, pos)
        length: int = high << 16 | low
        if length > self.max_frame_size:
            raise FrameError(
                FRAME_SIZE_ERROR,
                f"frame of {length} bytes is larger than our SETTINGS_MAX_FRAME_SIZE "
                f"({self.max_frame_size})",
            )
        end = pos + 9 + length
        if end > size:
            self.parts = [buf[pos:]]
            self.have = size - pos
            self.waiting = end - pos
            self.buf = b""
            self.pos = 0
            return False
        self.type = kind
        self.flags = flags
        self.stream_id = stream_id & MAX_STREAM_ID  # the reserved bit is ignored (4.1)
        self.start = pos + 9
        self.length = length
        self.pos = end
        return True


# -- payloads -------------------------------------------------------------------------------


def _unpad(buf: bytes, start: int, length: int, what: str) -> tuple[int, int]:
    """The payload without its Pad Length octet and padding (6.1, 6.2, 6.6)."""
    if length < 1:
        raise FrameError(FRAME_SIZE_ERROR, f"padded {what} frame without a Pad Length")
    pad = buf[start]
    if pad >= length:
        raise FrameError(
            PROTOCOL_ERROR, f"{what} padding ({pad}) is not shorter than the payload ({length})"
        )
    return start + 1, start + length - pad


def parse_data(buf: bytes, start: int, length: int, flags: int, stream_id: int) -> bytes:
    """The data of a DATA frame (6.1); its flow-controlled length is ``length``."""
    if stream_id == 0:
        raise FrameError(PROTOCOL_ERROR, "DATA frame on stream 0")
    if flags & FLAG_PADDED:
        begin, end = _unpad(buf, start, length, "DATA")
        return buf[begin:end]
    return buf[start : start + length]


def parse_headers(buf: bytes, start: int, length: int, flags: int, stream_id: int) -> bytes:
    """The field block fragment of a HEADERS frame (6.2), without padding and priority."""
    if stream_id == 0:
        raise FrameError(PROTOCOL_ERROR, "HEADERS frame on stream 0")
    begin, end = start, start + length
    if flags & FLAG_PADDED:
        begin, end = _unpad(buf, start, length, "HEADERS")
    if flags & FLAG_PRIORITY:
        if end - begin < 5:
            raise FrameError(FRAME_SIZE_ERROR, "HEADERS with PRIORITY shorter than 5 octets")
        depends_on = _U32.unpack_from(buf, begin)[0] & MAX_STREAM_ID
        if depends_on == stream_id:
            # A stream error by 5.3.1, but the field block must still be decoded to keep
            # HPACK in step, and it is about to be refused: end the connection instead.
            raise FrameError(PROTOCOL_ERROR, f"stream {stream_id} depends on itself")
        begin += 5
    return buf[begin:end]


def parse_priority(buf: bytes, start: int, length: int, stream_id: int) -> None:
    """Check a PRIORITY frame (6.3); its content is ignored (RFC 9113 deprecates it)."""
    if stream_id == 0:
        raise FrameError(PROTOCOL_ERROR, "PRIORITY frame on stream 0")
    if length != 5:
        raise FrameError(
            FRAME_SIZE_ERROR, f"PRIORITY frame of {length} octets, not 5", stream_id
        )
    if _U32.unpack_from(buf, start)[0] & MAX_STREAM_ID == stream_id:
        raise FrameError(PROTOCOL_ERROR, f"stream {stream_id} depends on itself", stream_id)


def parse_rst_stream(buf: bytes, start: int, length: int, stream_id: int) -> int:
    """The error code of a RST_STREAM frame (6.4)."""
    if stream_id == 0:
        raise FrameError(PROTOCOL_ERROR, "RST_STREAM frame on stream 0")
    if length != 4:
        raise FrameError(FRAME_SIZE_ERROR, f"RST_STREAM frame of {length} octets, not 4")
    code: int = _U32.unpack_from(buf, start)[0]
    return code


def parse_settings(
    buf: bytes, start: int, length: int, flags: int, stream_id: int
) -> list[tuple[int, int]]:
    """The (identifier, value) pairs of a SETTINGS frame in order (6.5), each value checked
    against 6.5.2; [] for an ACK. Unknown identifiers are kept (the caller ignores them)."""
    if stream_id != 0:
        raise FrameError(PROTOCOL_ERROR, f"SETTINGS frame on stream {stream_id}")
    if flags & FLAG_ACK:
        if length:
            raise FrameError(FRAME_SIZE_ERROR, "SETTINGS ACK with a payload")
        return []
    if length % 6:
        raise FrameError(FRAME_SIZE_ERROR, f"SETTINGS payload of {length} octets")
    pairs: list[tuple[int, int]] = []
    for offset in range(start, start + length, 6):
        ident, value = _SETTING.unpack_from(buf, offset)
        if ident in (SETTINGS_ENABLE_PUSH, SETTINGS_ENABLE_CONNECT_PROTOCOL) and value > 1:
            raise FrameError(PROTOCOL_ERROR, f"SETTINGS value {value} for setting {ident}")
        if ident == SETTINGS_INITIAL_WINDOW_SIZE and value > MAX_WINDOW_SIZE:
            raise FrameError(
                FLOW_CONTROL_ERROR, f"SETTINGS_INITIAL_WINDOW_SIZE {value} above 2^31-1"
            )
        if ident == SETTINGS_MAX_FRAME_SIZE and not (
            DEFAULT_MAX_FRAME_SIZE <= value <= MAX_MAX_FRAME_SIZE
        ):
            raise FrameError(
                PROTOCOL_ERROR, f"SETTINGS_MAX_FRAME_SIZE {value} outside 16384..16777215"
            )
        pairs.append((ident, value))
    return pairs


def parse_push_promise(
    buf: bytes, start: int, length: int, flags: int, stream_id: int
) -> tuple[int, bytes]:
    """The promised stream id and field block fragment of a PUSH_PROMISE frame (6.6)."""
    if stream_id == 0:
        raise FrameError(PROTOCOL_ERROR, "PUSH_PROMISE frame on stream 0")
    begin, end = start, start + length
    if flags & FLAG_PADDED:
        begin, end = _unpad(buf, start, length, "PUSH_PROMISE")
    if end - begin < 4:
        raise FrameError(FRAME_SIZE_ERROR, "PUSH_PROMISE shorter than its stream id")
    promised: int = _U32.unpack_from(buf, begin)[0] & MAX_STREAM_ID
    return promised, buf[begin + 4 : end]


def parse_ping(buf: bytes, start: int, length: int, stream_id: int) -> bytes:
    """The 8 opaque octets of a PING frame (6.7)."""
    if stream_id != 0:
        raise FrameError(PROTOCOL_ERROR, f"PING frame on stream {stream_id}")
    if length != 8:
        raise FrameError(FRAME_SIZE_ERROR, f"PING frame of {length} octets, not 8")
    return buf[start : start + 8]


def parse_goaway(buf: bytes, start: int, length: int, stream_id: int) -> tuple[int, int, bytes]:
    """Last stream id, error code and debug data of a GOAWAY frame (6.8)."""
    if stream_id != 0:
        raise FrameError(PROTOCOL_ERROR, f"GOAWAY frame on stream {stream_id}")
    if length < 8:
        raise FrameError(FRAME_SIZE_ERROR, f"GOAWAY frame of {length} octets")
    last, code = _U32X2.unpack_from(buf, start)
    return last & MAX_STREAM_ID, code, buf[start + 8 : start + length]


def parse_window_update(buf: bytes, start: int, length: int, stream_id: int) -> int:
    """The increment of a WINDOW_UPDATE frame (6.9); zero is an error on that stream (or
    the connection, on stream 0)."""
    if length != 4:
        raise FrameError(FRAME_SIZE_ERROR, f"WINDOW_UPDATE frame of {length} octets, not 4")
    increment: int = _U32.unpack_from(buf, start)[0] & MAX_WINDOW_SIZE
    if increment == 0:
        raise FrameError(PROTOCOL_ERROR, "WINDOW_UPDATE with an increment of 0", stream_id)
    return increment


def parse_continuation(buf: bytes, start: int, length: int, stream_id: int) -> bytes:
    """The field block fragment of a CONTINUATION frame (6.10)."""
    if stream_id == 0:
        raise FrameError(PROTOCOL_ERROR, "CONTINUATION frame on stream 0")
    return buf[start : start + length]


# -- serialisers ----------------------------------------------------------------------------


def frame_header(length: int, kind: int, flags: int, stream_id: int) -> bytes:
    return _HEAD.pack(length >> 16, length & 0xFFFF, kind, flags, stream_id)


SETTINGS_ACK_FRAME: Final = _HEAD.pack(0, 0, SETTINGS, FLAG_ACK, 0)


def settings_frame(pairs: list[tuple[int, int]]) -> bytes:
    payload = b"".join([_SETTING.pack(ident, value) for ident, value in pairs])
    return frame_header(len(payload), SETTINGS, 0, 0) + payload


def window_update_frame(stream_id: int, increment: int) -> bytes:
    return frame_header(4, WINDOW_UPDATE, 0, stream_id) + _U32.pack(increment)


def ping_frame(opaque: bytes, ack: bool = False) -> bytes:
    if len(opaque) != 8:
        raise ValueError("PING data must be 8 octets")
    return frame_header(8, PING, FLAG_ACK if ack else 0, 0) + opaque


def rst_stream_frame(stream_id: int, code: int) -> bytes:
    return frame_header(4, RST_STREAM, 0, stream_id) + _U32.pack(code)


def goaway_frame(last_stream_id: int, code: int, debug: bytes = b"") -> bytes:
    return (
        frame_header(8 + len(debug), GOAWAY, 0, 0) + _U32X2.pack(last_stream_id, code) + debug
    )


def data_frame_header(stream_id: int, length: int, end_stream: bool) -> bytes:
    """The 9 octets before ``length`` bytes of data (sent as a separate piece, uncopied)."""
    return _HEAD.pack(
        length >> 16, length & 0xFFFF, DATA, FLAG_END_STREAM if end_stream else 0, stream_id
    )


def headers_frames(stream_id: int, block: bytes, end_stream: bool, max_frame_size: int) -> bytes:
    """A field block as HEADERS and, when longer than one frame, CONTINUATION frames."""
    flags = FLAG_END_STREAM if end_stream else 0
    size = len(block)
    if size <= max_frame_size:
        return _HEAD.pack(size >> 16, size & 0xFFFF, HEADERS, flags | FLAG_END_HEADERS,
                          stream_id) + block
    parts = [frame_header(max_frame_size, HEADERS, flags, stream_id), block[:max_frame_size]]
    offset = max_frame_size
    while offset < size:
        piece = block[offset : offset + max_frame_size]
        offset += len(piece)
        last = FLAG_END_HEADERS if offset >= size else 0
        parts.append(frame_header(len(piece), CONTINUATION, last, stream_id))
        parts.append(piece)
    return b"".join(parts)
