"""The HTTP/2 frame layer, bytes in and values out: every size, padding and stream-id rule of
RFC 9113 sections 4 and 6, and the serialisers checked against an independent parser
(hyperframe)."""

from __future__ import annotations

import contextlib
import struct
from collections.abc import Iterator

import pytest
from support.h2_frames import parse_frames

from aiosonic import _h2frames as f
from aiosonic._h2frames import FrameError, FrameReader


def raw(kind: int, flags: int, stream_id: int, payload: bytes = b"") -> bytes:
    n = len(payload)
    return struct.pack(">BHBBL", n >> 16, n & 0xFFFF, kind, flags, stream_id) + payload


def read_one(data: bytes) -> FrameReader:
    reader = FrameReader()
    reader.feed(data)
    assert reader.next_frame()
    return reader


def payload_of(reader: FrameReader) -> tuple[bytes, int, int, int, int]:
    return reader.buf, reader.start, reader.length, reader.flags, reader.stream_id


@contextlib.contextmanager
def expect(code: int, stream_id: int = 0) -> Iterator[None]:
    """A FrameError with that code, as a connection error (0) or on that stream."""
    with pytest.raises(FrameError) as info:
        yield
    assert (info.value.code, info.value.stream_id) == (code, stream_id), info.value


# -- the reader -------------------------------------------------------------------------------


def test_reader_returns_frames_split_anywhere() -> None:
    data = raw(f.DATA, 1, 3, b"hello") + raw(f.PING, 0, 0, b"12345678")
    for cut in range(len(data) + 1):
        reader = FrameReader()
        seen = []
        for piece in (data[:cut], data[cut:]):
            reader.feed(piece)
            while reader.next_frame():
                seen.append((reader.type, reader.flags, reader.stream_id,
                             reader.buf[reader.start : reader.start + reader.length]))
        assert seen == [(f.DATA, 1, 3, b"hello"), (f.PING, 0, 0, b"12345678")]
        assert reader.pending == 0


def test_reader_collects_a_frame_trickling_in_byte_by_byte() -> None:
    payload = bytes(range(256)) * 64  # 16384: the largest frame
    data = raw(f.DATA, 0, 1, payload) + raw(f.PING, 0, 0, b"12345678")
    reader = FrameReader()
    seen = []
    for index in range(len(data)):
        reader.feed(data[index : index + 1])
        while reader.next_frame():
            seen.append(reader.buf[reader.start : reader.start + reader.length])
    assert seen == [payload, b"12345678"]
    assert reader.pending == 0
    assert reader.parts == []


def test_reader_accepts_bytearray_and_memoryview() -> None:
    data = raw(f.DATA, 0, 1, b"x")
    for kind in (bytearray, memoryview):
        reader = FrameReader()
        reader.feed(kind(data))
        assert reader.next_frame() and reader.length == 1


def test_reader_ignores_the_reserved_bit() -> None:
    reader = read_one(raw(f.DATA, 0, (1 << 31) | 5, b"x"))
    assert reader.stream_id == 5


def test_frame_larger_than_our_max_frame_size_is_frame_size_error() -> None:
    reader = FrameReader()
    # The header alone is enough to refuse it: no waiting for 16 KiB + 1 of payload.
    reader.feed(raw(f.DATA, 0, 1, b"")[:0] + struct.pack(">BHBBL", 0, 16385, 0, 0, 1))
    with expect(f.FRAME_SIZE_ERROR):
        reader.next_frame()
    reader = FrameReader()
    reader.feed(raw(f.DATA, 0, 1, b"x" * 16384))
    assert reader.next_frame()  # exactly the limit is fine


# -- payloads ---------------------------------------------------------------------------------


def test_data_with_padding() -> None:
    reader = read_one(raw(f.DATA, f.FLAG_PADDED, 1, b"\x03abc\x00\x00\x00"))
    assert f.parse_data(*payload_of(reader)) == b"abc"
    assert reader.length == 7  # the flow-controlled length counts the padding


@pytest.mark.parametrize("kind", [f.DATA, f.HEADERS])
def test_padding_not_shorter_than_the_payload_is_protocol_error(kind: int) -> None:
    parse = f.parse_data if kind == f.DATA else f.parse_headers
    reader = read_one(raw(kind, f.FLAG_PADDED, 1, b"\x03ab"))
    with expect(f.PROTOCOL_ERROR):
        parse(*payload_of(reader))
    reader = read_one(raw(kind, f.FLAG_PADDED, 1, b"\x03abc"))  # pad 3 < payload 4: empty
    assert parse(*payload_of(reader)) == b""
    reader = read_one(raw(kind, f.FLAG_PADDED, 1, b""))
    with expect(f.FRAME_SIZE_ERROR):
        parse(*payload_of(reader))


def test_data_on_stream_zero_is_protocol_error() -> None:
    with expect(f.PROTOCOL_ERROR):
        f.parse_data(*payload_of(read_one(raw(f.DATA, 0, 0, b"x"))))


def test_headers_priority_fields_are_skipped() -> None:
    body = struct.pack(">LB", 0x80000000 | 7, 15) + b"block"
    reader = read_one(raw(f.HEADERS, f.FLAG_PRIORITY | f.FLAG_END_HEADERS, 1, body))
    assert f.parse_headers(*payload_of(reader)) == b"block"
    padded = b"\x02" + body + b"\x00\x00"
    reader = read_one(raw(f.HEADERS, f.FLAG_PRIORITY | f.FLAG_PADDED, 1, padded))
    assert f.parse_headers(*payload_of(reader)) == b"block"


def test_headers_rules() -> None:
    with expect(f.PROTOCOL_ERROR):
        f.parse_headers(*payload_of(read_one(raw(f.HEADERS, 4, 0, b"x"))))
    with expect(f.FRAME_SIZE_ERROR):
        f.parse_headers(*payload_of(read_one(raw(f.HEADERS, f.FLAG_PRIORITY, 1, b"abcd"))))
    with expect(f.PROTOCOL_ERROR):  # depends on itself
        f.parse_headers(
            *payload_of(read_one(raw(f.HEADERS, f.FLAG_PRIORITY, 3, struct.pack(">LB", 3, 0))))
        )


def test_priority_rules() -> None:
    def parse(stream_id: int, body: bytes) -> None:
        reader = read_one(raw(f.PRIORITY, 0, stream_id, body))
        f.parse_priority(reader.buf, reader.start, reader.length, reader.stream_id)

    parse(3, struct.pack(">LB", 1, 0))
    with expect(f.PROTOCOL_ERROR):
        parse(0, struct.pack(">LB", 1, 0))
    with expect(f.FRAME_SIZE_ERROR, stream_id=3):  # a stream error
        parse(3, b"1234")
    with expect(f.PROTOCOL_ERROR, stream_id=3):
        parse(3, struct.pack(">LB", 3, 0))


def test_rst_stream_rules() -> None:
    def parse(stream_id: int, body: bytes) -> int:
        reader = read_one(raw(f.RST_STREAM, 0, stream_id, body))
        return f.parse_rst_stream(reader.buf, reader.start, reader.length, reader.stream_id)

    assert parse(1, struct.pack(">L", 8)) == 8
    with expect(f.PROTOCOL_ERROR):
        parse(0, struct.pack(">L", 8))
    with expect(f.FRAME_SIZE_ERROR):
        parse(1, b"\x00\x00\x08")
    with expect(f.FRAME_SIZE_ERROR):
        parse(1, b"\x00\x00\x00\x08\x00")


def _settings(flags: int, stream_id: int, body: bytes) -> list[tuple[int, int]]:
    return f.parse_settings(*payload_of(read_one(raw(f.SETTINGS, flags, stream_id, body))))


def test_settings_pairs_in_order_unknown_kept() -> None:
    body = struct.pack(">HLHLHL", 3, 10, 0x99, 1, 3, 20)
    assert _settings(0, 0, body) == [(3, 10), (0x99, 1), (3, 20)]
    assert _settings(f.FLAG_ACK, 0, b"") == []


def test_settings_frame_rules() -> None:
    with expect(f.PROTOCOL_ERROR):
        _settings(0, 1, b"")
    with expect(f.FRAME_SIZE_ERROR):
        _settings(0, 0, b"\x00\x03\x00\x00\x00")
    with expect(f.FRAME_SIZE_ERROR):
        _settings(f.FLAG_ACK, 0, struct.pack(">HL", 3, 1))


@pytest.mark.parametrize(
    ("ident", "value", "code"),
    [
        (f.SETTINGS_ENABLE_PUSH, 2, f.PROTOCOL_ERROR),
        (f.SETTINGS_ENABLE_CONNECT_PROTOCOL, 2, f.PROTOCOL_ERROR),
        (f.SETTINGS_INITIAL_WINDOW_SIZE, 2**31, f.FLOW_CONTROL_ERROR),
        (f.SETTINGS_MAX_FRAME_SIZE, 16383, f.PROTOCOL_ERROR),
        (f.SETTINGS_MAX_FRAME_SIZE, 2**24, f.PROTOCOL_ERROR),
    ],
)
def test_settings_values_out_of_range(ident: int, value: int, code: int) -> None:
    with expect(code):
        _settings(0, 0, struct.pack(">HL", ident, value))


@pytest.mark.parametrize(
    ("ident", "value"),
    [
        (f.SETTINGS_ENABLE_PUSH, 0), (f.SETTINGS_ENABLE_PUSH, 1),
        (f.SETTINGS_INITIAL_WINDOW_SIZE, 2**31 - 1),
        (f.SETTINGS_MAX_FRAME_SIZE, 16384), (f.SETTINGS_MAX_FRAME_SIZE, 2**24 - 1),
    ],
)
def test_settings_values_at_the_limits(ident: int, value: int) -> None:
    assert _settings(0, 0, struct.pack(">HL", ident, value)) == [(ident, value)]


def test_ping_rules() -> None:
    def parse(stream_id: int, body: bytes) -> bytes:
        reader = read_one(raw(f.PING, 0, stream_id, body))
        return f.parse_ping(reader.buf, reader.start, reader.length, reader.stream_id)

    assert parse(0, b"12345678") == b"12345678"
    with expect(f.PROTOCOL_ERROR):
        parse(1, b"12345678")
    with expect(f.FRAME_SIZE_ERROR):
        parse(0, b"1234567")
    with expect(f.FRAME_SIZE_ERROR):
        parse(0, b"123456789")


def test_goaway_rules() -> None:
    def parse(stream_id: int, body: bytes) -> tuple[int, int, bytes]:
        reader = read_one(raw(f.GOAWAY, 0, stream_id, body))
        return f.parse_goaway(reader.buf, reader.start, reader.length, reader.stream_id)

    assert parse(0, struct.pack(">LL", (1 << 31) | 7, 2) + b"bye") == (7, 2, b"bye")
    with expect(f.PROTOCOL_ERROR):
        parse(1, struct.pack(">LL", 7, 2))
    with expect(f.FRAME_SIZE_ERROR):
        parse(0, b"\x00" * 7)


def test_window_update_rules() -> None:
    def parse(stream_id: int, body: bytes) -> int:
        reader = read_one(raw(f.WINDOW_UPDATE, 0, stream_id, body))
        return f.parse_window_update(reader.buf, reader.start, reader.length, reader.stream_id)

    assert parse(0, struct.pack(">L", (1 << 31) | 10)) == 10  # reserved bit ignored
    with expect(f.FRAME_SIZE_ERROR):
        parse(1, b"\x00\x00\x01")
    with expect(f.PROTOCOL_ERROR, stream_id=0):  # zero on the connection
        parse(0, struct.pack(">L", 0))
    with expect(f.PROTOCOL_ERROR, stream_id=5):  # zero on a stream: a stream error
        parse(5, struct.pack(">L", 0))


def test_push_promise_and_continuation_rules() -> None:
    reader = read_one(raw(f.PUSH_PROMISE, f.FLAG_PADDED, 1, b"\x01\x00\x00\x00\x02blk\x00"))
    assert f.parse_push_promise(*payload_of(reader)) == (2, b"blk")
    with expect(f.FRAME_SIZE_ERROR):
        f.parse_push_promise(*payload_of(read_one(raw(f.PUSH_PROMISE, 0, 1, b"\x00\x00"))))
    with expect(f.PROTOCOL_ERROR):
        f.parse_push_promise(*payload_of(read_one(raw(f.PUSH_PROMISE, 0, 0, b"\x00" * 4))))
    with expect(f.PROTOCOL_ERROR):
        reader = read_one(raw(f.CONTINUATION, 4, 0, b"x"))
        f.parse_continuation(reader.buf, reader.start, reader.length, reader.stream_id)


# -- serialisers, read back by hyperframe ------------------------------------------------------




def test_serialisers_read_back() -> None:
    (settings,) = parse_frames(f.settings_frame([(2, 0), (4, 1 << 22)]))
    assert dict(settings.settings) == {2: 0, 4: 1 << 22}
    (ack,) = parse_frames(f.SETTINGS_ACK_FRAME)
    assert "ACK" in ack.flags
    (update,) = parse_frames(f.window_update_frame(3, 12345))
    assert (update.stream_id, update.window_increment) == (3, 12345)
    (ping,) = parse_frames(f.ping_frame(b"abcdefgh", ack=True))
    assert ping.opaque_data == b"abcdefgh" and "ACK" in ping.flags
    (rst,) = parse_frames(f.rst_stream_frame(5, f.CANCEL))
    assert (rst.stream_id, rst.error_code) == (5, f.CANCEL)
    (goaway,) = parse_frames(f.goaway_frame(0, f.PROTOCOL_ERROR, b"why"))
    assert (goaway.last_stream_id, goaway.error_code, goaway.additional_data) == (0, 1, b"why")
    (data,) = parse_frames(f.data_frame_header(7, 3, True) + b"abc")
    assert (data.stream_id, data.data, "END_STREAM" in data.flags) == (7, b"abc", True)
    with pytest.raises(ValueError):
        f.ping_frame(b"short")


def test_headers_split_into_continuations() -> None:
    block = bytes(range(256)) * 200  # 51200 bytes
    frames = parse_frames(f.headers_frames(9, block, True, 16384))
    assert [type(frame).__name__ for frame in frames] == [
        "HeadersFrame", "ContinuationFrame", "ContinuationFrame", "ContinuationFrame"
    ]
    assert b"".join(frame.data for frame in frames) == block
    assert "END_STREAM" in frames[0].flags and "END_HEADERS" not in frames[0].flags
    assert "END_HEADERS" in frames[-1].flags
    assert all("END_HEADERS" not in frame.flags for frame in frames[:-1])
    (single,) = parse_frames(f.headers_frames(1, b"abc", False, 16384))
    assert single.data == b"abc" and "END_HEADERS" in single.flags
    assert "END_STREAM" not in single.flags


def test_error_names() -> None:
    assert f.error_name(f.PROTOCOL_ERROR) == "PROTOCOL_ERROR"
    assert f.error_name(f.HTTP_1_1_REQUIRED) == "HTTP_1_1_REQUIRED"
    assert f.error_name(0x42) == "0x42"
