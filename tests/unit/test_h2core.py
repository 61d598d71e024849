"""The sans-IO HTTP/2 client core, bytes in and events out: settings, flow control both ways,
stream states, header blocks, response validation, connection and stream errors.

The server side is written by hand (frames from our own serialisers or raw bytes, header
blocks by the independent ``hpack`` library); what the client sends is read back with
``hyperframe``.
"""

from __future__ import annotations

import struct
from collections.abc import Sequence

import hpack
import pytest
from hyperframe.frame import (
    ContinuationFrame,
    DataFrame,
    Frame,
    GoAwayFrame,
    HeadersFrame,
    PingFrame,
    RstStreamFrame,
    SettingsFrame,
    WindowUpdateFrame,
)
from support.h2_frames import parse_frames

from aiosonic import _h2frames as f
from aiosonic._h2core import (
    DataReceived,
    Event,
    GoAwayReceived,
    H2ConnectionError,
    H2Core,
    H2LocalError,
    InformationalReceived,
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
from aiosonic._hpack import Decoder, Encoder

REQUEST = [(b":method", b"GET"), (b":scheme", b"https"), (b":authority", b"example"),
           (b":path", b"/")]
HEAD_REQUEST = [(b":method", b"HEAD"), *REQUEST[1:]]
OK = [(b":status", b"200")]


def raw(kind: int, flags: int, stream_id: int, payload: bytes = b"") -> bytes:
    n = len(payload)
    return struct.pack(">BHBBL", n >> 16, n & 0xFFFF, kind, flags, stream_id) + payload


def settings(*pairs: tuple[int, int]) -> bytes:
    return f.settings_frame(list(pairs))


class SpyEncoder:
    """Records table size changes; encodes with hpack."""

    def __init__(self) -> None:
        self.sizes: list[int] = []
        self.inner = hpack.Encoder()

    def set_max_table_size(self, size: int) -> None:
        self.sizes.append(size)

    def encode(self, headers: Sequence[tuple[bytes, bytes]]) -> bytes:
        return bytes(self.inner.encode(list(headers)))


def make_hpack(max_header_list_size: int) -> tuple[Encoder, Decoder]:
    return Encoder(), Decoder(max_header_list_size)


class BrokenDecoder:
    def decode(self, block: bytes) -> list[tuple[bytes, bytes]]:
        raise ValueError("bad block")


def sent_frames(core: H2Core) -> list[Frame]:
    data = core.data_to_send()
    if data.startswith(f.PREFACE):
        data = data[len(f.PREFACE) :]
    return parse_frames(data)


class Server:
    """The server's half: an HPACK encoder for its header blocks and frame builders."""

    def __init__(self) -> None:
        self.hpack = hpack.Encoder()

    def block(self, headers: Sequence[tuple[bytes, bytes]]) -> bytes:
        return bytes(self.hpack.encode(list(headers)))

    def headers(self, stream_id: int, headers: Sequence[tuple[bytes, bytes]],
                end_stream: bool = False) -> bytes:
        return f.headers_frames(stream_id, self.block(headers), end_stream, 16384)

    @staticmethod
    def data(stream_id: int, data: bytes, end_stream: bool = False) -> bytes:
        return f.data_frame_header(stream_id, len(data), end_stream) + data


def open_core(**kwargs: int) -> tuple[H2Core, Server]:
    encoder, decoder = make_hpack(65536)
    core = H2Core(encoder, decoder, **kwargs)
    core.initiate()
    core.data_to_send()
    events = core.receive(settings())
    assert [type(e) for e in events] == [SettingsReceived]
    assert [type(frame) for frame in sent_frames(core)] == [SettingsFrame]  # the ACK
    return core, Server()


def kinds(events: list[Event]) -> list[type]:
    return [type(event) for event in events]


def connection_error(core: H2Core, data: bytes, code: int) -> H2ConnectionError:
    with pytest.raises(H2ConnectionError) as info:
        core.receive(data)
    assert info.value.code == code, info.value
    goaways = [frame for frame in sent_frames(core) if isinstance(frame, GoAwayFrame)]
    assert len(goaways) == 1 and goaways[0].error_code == code
    assert goaways[0].last_stream_id == 0
    assert core.receive(settings()) == []  # nothing is processed after GOAWAY
    return info.value


def stream_error(core: H2Core, data: bytes, stream_id: int, code: int) -> StreamError:
    events = core.receive(data)
    errors = [event for event in events if isinstance(event, StreamError)]
    assert len(errors) == 1, events
    assert (errors[0].stream_id, errors[0].code) == (stream_id, code)
    resets = [frame for frame in sent_frames(core) if isinstance(frame, RstStreamFrame)]
    assert [(frame.stream_id, frame.error_code) for frame in resets] == [(stream_id, code)]
    assert stream_id not in core.streams
    assert not core.closed
    return errors[0]


# -- the preface and settings -------------------------------------------------------------


def test_preface_settings_and_connection_window() -> None:
    encoder, decoder = make_hpack(65536)
    core = H2Core(encoder, decoder, initial_window=1 << 22, connection_window=1 << 30,
                  max_concurrent_streams=100, max_header_list_size=12345)
    core.initiate()
    data = core.data_to_send()
    assert data.startswith(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n")
    core.out.append(data[24:])
    first, update = sent_frames(core)
    assert isinstance(first, SettingsFrame)
    assert dict(first.settings) == {
        f.SETTINGS_HEADER_TABLE_SIZE: 4096,
        f.SETTINGS_MAX_FRAME_SIZE: 16384,
        f.SETTINGS_ENABLE_PUSH: 0,
        f.SETTINGS_INITIAL_WINDOW_SIZE: 1 << 22,
        f.SETTINGS_MAX_CONCURRENT_STREAMS: 100,
        f.SETTINGS_MAX_HEADER_LIST_SIZE: 12345,
    }
    assert isinstance(update, WindowUpdateFrame)
    assert (update.stream_id, update.window_increment) == (0, (1 << 30) - 65535)
    assert core.recv_window == 1 << 30


@pytest.mark.parametrize(
    "first",
    [
        raw(f.PING, 0, 0, b"12345678"),
        f.SETTINGS_ACK_FRAME,
        raw(f.WINDOW_UPDATE, 0, 0, struct.pack(">L", 1)),
    ],
)
def test_the_first_frame_must_be_settings(first: bytes) -> None:
    encoder, decoder = make_hpack(65536)
    core = H2Core(encoder, decoder)
    core.initiate()
    core.data_to_send()
    connection_error(core, first, f.PROTOCOL_ERROR)


def test_settings_are_applied_and_acknowledged() -> None:
    _encoder, decoder = make_hpack(65536)
    spy = SpyEncoder()
    core = H2Core(spy, decoder)
    core.initiate()
    core.data_to_send()
    events = core.receive(settings(
        (f.SETTINGS_HEADER_TABLE_SIZE, 100),
        (f.SETTINGS_MAX_CONCURRENT_STREAMS, 7),
        (f.SETTINGS_MAX_FRAME_SIZE, 20000),
        (f.SETTINGS_MAX_HEADER_LIST_SIZE, 999),
        (f.SETTINGS_ENABLE_PUSH, 0),
        (0x77, 5),  # unknown: ignored
    ))
    assert kinds(events) == [SettingsReceived]
    assert isinstance(events[0], SettingsReceived)
    assert events[0].changed[f.SETTINGS_MAX_CONCURRENT_STREAMS] == 7
    (ack,) = sent_frames(core)
    assert isinstance(ack, SettingsFrame) and "ACK" in ack.flags
    assert spy.sizes == [100]
    assert core.max_concurrent_streams == 7
    assert core.max_outbound_frame_size == 20000
    assert core.peer_max_header_list_size == 999
    # The server's frame size bounds our HEADERS frames.
    core.open_stream([*REQUEST, (b"x-big", b"v" * 30000)], True)
    frames = sent_frames(core)
    assert [type(frame) for frame in frames] == [HeadersFrame, ContinuationFrame]
    assert len(frames[0].data) == 20000


def test_no_concurrency_limit_before_the_server_says_one() -> None:
    encoder, decoder = make_hpack(65536)
    core = H2Core(encoder, decoder)
    assert core.max_concurrent_streams > 2**31


@pytest.mark.parametrize(
    ("pair", "code"),
    [
        ((f.SETTINGS_ENABLE_PUSH, 2), f.PROTOCOL_ERROR),
        ((f.SETTINGS_INITIAL_WINDOW_SIZE, 2**31), f.FLOW_CONTROL_ERROR),
        ((f.SETTINGS_MAX_FRAME_SIZE, 16383), f.PROTOCOL_ERROR),
        ((f.SETTINGS_MAX_FRAME_SIZE, 2**24), f.PROTOCOL_ERROR),
    ],
)
def test_bad_settings_values_are_connection_errors(pair: tuple[int, int], code: int) -> None:
    core, _ = open_core()
    connection_error(core, settings(pair), code)


def test_initial_window_size_changes_every_open_stream() -> None:
    core, _ = open_core()
    one = core.open_stream(REQUEST, False)
    two = core.open_stream(REQUEST, False)
    core.send_data(one, b"x" * 1000)
    core.data_to_send()
    core.receive(settings((f.SETTINGS_INITIAL_WINDOW_SIZE, 100_000)))
    assert core.streams[one].send_window == 100_000 - 1000
    assert core.streams[two].send_window == 100_000
    core.receive(settings((f.SETTINGS_INITIAL_WINDOW_SIZE, 500)))
    assert core.streams[one].send_window == -500  # negative: wait for WINDOW_UPDATE
    assert core.send_window_of(one) == -500
    three = core.open_stream(REQUEST, False)
    assert core.streams[three].send_window == 500


def test_initial_window_size_overflowing_a_stream_window_is_flow_control_error() -> None:
    core, _ = open_core()
    sid = core.open_stream(REQUEST, False)
    core.receive(raw(f.WINDOW_UPDATE, 0, sid, struct.pack(">L", 2**31 - 1 - 65535)))
    assert core.streams[sid].send_window == 2**31 - 1
    connection_error(core, settings((f.SETTINGS_INITIAL_WINDOW_SIZE, 65536)),
                     f.FLOW_CONTROL_ERROR)


def test_our_smaller_window_applies_once_acknowledged() -> None:
    encoder, decoder = make_hpack(65536)
    core = H2Core(encoder, decoder, initial_window=1000)
    core.initiate()
    core.receive(settings())
    sid = core.open_stream(REQUEST, True)
    assert core.streams[sid].recv_window == 65535  # the server may use the default still
    core.receive(f.SETTINGS_ACK_FRAME)
    assert core.streams[sid].recv_window == 1000
    later = core.open_stream(REQUEST, True)
    assert core.streams[later].recv_window == 1000


# -- PING, GOAWAY, RST_STREAM -------------------------------------------------------------


def test_ping_is_answered() -> None:
    core, _ = open_core()
    events = core.receive(raw(f.PING, 0, 0, b"abcdefgh"))
    assert kinds(events) == [PingReceived]
    (ack,) = sent_frames(core)
    assert isinstance(ack, PingFrame) and "ACK" in ack.flags and ack.opaque_data == b"abcdefgh"
    assert core.receive(raw(f.PING, f.FLAG_ACK, 0, b"abcdefgh")) == []  # an ACK is not answered
    assert sent_frames(core) == []


def test_goaway_keeps_streams_up_to_the_last_id() -> None:
    core, server = open_core()
    one, three, five = (core.open_stream(REQUEST, True) for _ in range(3))
    core.data_to_send()
    events = core.receive(f.goaway_frame(three, f.NO_ERROR, b"bye"))
    assert kinds(events) == [GoAwayReceived]
    assert isinstance(events[0], GoAwayReceived)
    assert (events[0].last_stream_id, events[0].code, events[0].debug) == (3, 0, b"bye")
    assert set(core.streams) == {one, three}
    assert not core.closed and core.goaway_received
    # The streams up to the last id finish normally.
    events = core.receive(server.headers(one, [*OK, (b"content-length", b"2")])
                          + server.data(one, b"ok", True)
                          + server.headers(three, OK, True))
    assert kinds(events) == [ResponseReceived, DataReceived, StreamEnded, ResponseReceived,
                             StreamEnded]
    assert core.streams == {}
    # A late frame for a stream above the last id is dropped, not an error.
    assert core.receive(server.data(five, b"late", True)) == []


def test_a_graceful_shutdown_lets_the_streams_in_flight_finish() -> None:
    core, server = open_core()
    one = core.open_stream(REQUEST, True)
    core.data_to_send()
    core.shutdown()
    core.shutdown()  # once is enough
    goaways = [frame for frame in sent_frames(core) if isinstance(frame, GoAwayFrame)]
    assert [(g.last_stream_id, g.error_code) for g in goaways] == [(0, f.NO_ERROR)]
    assert not core.closed  # unlike close(), frames are still processed
    events = core.receive(server.headers(one, [*OK, (b"content-length", b"2")])
                          + server.data(one, b"ok", True))
    assert kinds(events) == [ResponseReceived, DataReceived, StreamEnded]
    assert core.streams == {}


def test_rst_stream_from_the_server() -> None:
    core, server = open_core()
    sid = core.open_stream(REQUEST, True)
    core.data_to_send()
    events = core.receive(f.rst_stream_frame(sid, f.INTERNAL_ERROR))
    assert kinds(events) == [StreamReset]
    assert isinstance(events[0], StreamReset) and events[0].code == f.INTERNAL_ERROR
    assert sid not in core.streams
    assert core.receive(f.rst_stream_frame(sid, f.INTERNAL_ERROR)) == []  # closed: ignored
    # DATA after the server reset it: STREAM_CLOSED on the stream, no event.
    assert core.receive(server.data(sid, b"x")) == []
    (rst,) = sent_frames(core)
    assert isinstance(rst, RstStreamFrame) and rst.error_code == f.STREAM_CLOSED


@pytest.mark.parametrize("stream_id", [2, 99])
def test_rst_stream_on_an_idle_stream_is_protocol_error(stream_id: int) -> None:
    core, _ = open_core()
    core.open_stream(REQUEST, True)
    connection_error(core, f.rst_stream_frame(stream_id, 0), f.PROTOCOL_ERROR)


def test_push_promise_is_protocol_error() -> None:
    core, server = open_core()
    sid = core.open_stream(REQUEST, True)
    block = server.block(REQUEST)
    connection_error(core, raw(f.PUSH_PROMISE, f.FLAG_END_HEADERS, sid,
                               struct.pack(">L", 2) + block), f.PROTOCOL_ERROR)


def test_unknown_frame_types_are_ignored() -> None:
    core, _ = open_core()
    assert core.receive(raw(0x42, 0xFF, 0, b"whatever") + raw(0x43, 0, 7, b"")) == []
    assert sent_frames(core) == []


def test_priority_frames_are_checked_and_ignored() -> None:
    core, _ = open_core()
    sid = core.open_stream(REQUEST, True)
    assert core.receive(raw(f.PRIORITY, 0, sid, struct.pack(">LB", 0, 0))) == []
    assert core.receive(raw(f.PRIORITY, 0, 101, struct.pack(">LB", 0, 0))) == []  # idle: fine
    stream_error(core, raw(f.PRIORITY, 0, sid, b"abcd"), sid, f.FRAME_SIZE_ERROR)


def test_a_stream_error_on_an_idle_stream_ends_the_connection() -> None:
    core, _ = open_core()
    # No RST_STREAM may be sent on a stream never opened.
    connection_error(core, raw(f.PRIORITY, 0, 101, b"abcd"), f.FRAME_SIZE_ERROR)


def test_frames_larger_than_our_frame_size_are_frame_size_error() -> None:
    core, server = open_core()
    sid = core.open_stream(REQUEST, True)
    connection_error(core, server.data(sid, b"x" * 16385), f.FRAME_SIZE_ERROR)


# -- WINDOW_UPDATE and send windows -------------------------------------------------------


def test_window_updates_grow_the_send_windows() -> None:
    core, _ = open_core()
    sid = core.open_stream(REQUEST, False)
    assert core.send_window_of(sid) == 65535
    core.send_data(sid, b"x" * 16384)
    core.send_data(sid, b"x" * 16384)
    core.send_data(sid, b"x" * 16384)
    core.send_data(sid, b"x" * 16383)
    assert core.send_window_of(sid) == 0
    with pytest.raises(H2LocalError):
        core.send_data(sid, b"x")
    events = core.receive(f.window_update_frame(sid, 10_000))
    assert kinds(events) == [WindowUpdated]
    assert core.send_window_of(sid) == 0  # the connection window is still empty
    events = core.receive(f.window_update_frame(0, 5_000))
    assert isinstance(events[0], WindowUpdated) and events[0].stream_id == 0
    assert core.send_window_of(sid) == 5_000
    with pytest.raises(H2LocalError):
        core.send_data(sid, b"x" * 5001)
    data_frames = [frame for frame in sent_frames(core) if isinstance(frame, DataFrame)]
    assert sum(len(frame.data) for frame in data_frames) == 65535


def test_data_larger_than_the_server_frame_size_is_refused_locally() -> None:
    core, _ = open_core()
    sid = core.open_stream(REQUEST, False)
    with pytest.raises(H2LocalError):
        core.send_data(sid, b"x" * 16385)


def test_window_update_of_zero() -> None:
    core, _ = open_core()
    sid = core.open_stream(REQUEST, False)
    stream_error(core, f.window_update_frame(sid, 0), sid, f.PROTOCOL_ERROR)
    core, _ = open_core()
    connection_error(core, f.window_update_frame(0, 0), f.PROTOCOL_ERROR)


def test_window_overflow() -> None:
    core, _ = open_core()
    sid = core.open_stream(REQUEST, False)
    stream_error(core, f.window_update_frame(sid, 2**31 - 1 - 65535 + 1), sid,
                 f.FLOW_CONTROL_ERROR)
    core.receive(f.window_update_frame(0, 2**31 - 1 - 65535))  # exactly the maximum
    connection_error(core, f.window_update_frame(0, 1), f.FLOW_CONTROL_ERROR)


def test_window_update_on_idle_and_closed_streams() -> None:
    core, server = open_core()
    sid = core.open_stream(REQUEST, True)
    core.receive(server.headers(sid, OK, True))
    assert core.receive(f.window_update_frame(sid, 10)) == []  # closed: allowed, ignored
    connection_error(core, f.window_update_frame(sid + 2, 10), f.PROTOCOL_ERROR)


# -- receive windows and acknowledgement ---------------------------------------------------


def test_data_beyond_the_stream_window_is_flow_control_error() -> None:
    core, server = open_core(initial_window=65535)
    core.receive(f.SETTINGS_ACK_FRAME)
    sid = core.open_stream(REQUEST, True)
    core.receive(server.headers(sid, OK))
    for _ in range(3):
        core.receive(server.data(sid, b"x" * 16384))
    # Padding counts: 16383 flow-controlled bytes fill the window exactly.
    padded = raw(f.DATA, f.FLAG_PADDED, sid, b"\x09" + b"y" * 16373 + b"\x00" * 9)
    assert kinds(core.receive(padded)) == [DataReceived]
    connection_error(core, server.data(sid, b"z"), f.FLOW_CONTROL_ERROR)


def test_data_beyond_the_connection_window_is_flow_control_error() -> None:
    core, server = open_core(initial_window=1 << 20)
    ids = [core.open_stream(REQUEST, True) for _ in range(2)]
    for sid in ids:
        core.receive(server.headers(sid, OK))
    for _ in range(3):
        core.receive(server.data(ids[0], b"x" * 16384))
    core.receive(server.data(ids[1], b"x" * 16383))
    connection_error(core, server.data(ids[1], b"x"), f.FLOW_CONTROL_ERROR)


def test_acknowledging_consumed_data_is_batched() -> None:
    core, server = open_core(initial_window=40_000)
    core.receive(f.SETTINGS_ACK_FRAME)
    sid = core.open_stream(REQUEST, True)
    core.receive(server.headers(sid, OK))
    core.data_to_send()
    events = core.receive(server.data(sid, b"x" * 10_000))
    assert isinstance(events[0], DataReceived) and events[0].flow_length == 10_000
    core.acknowledge(sid, 10_000)
    assert sent_frames(core) == []  # below half the stream window: nothing yet
    core.receive(server.data(sid, b"x" * 10_000))
    core.acknowledge(sid, 10_000)
    (update,) = sent_frames(core)
    assert (update.stream_id, update.window_increment) == (sid, 20_000)
    assert core.streams[sid].recv_window == 40_000
    # The connection window: half of 65535 owed (no stream update for a finished stream).
    core.receive(server.data(sid, b"x" * 13_000, True))
    core.acknowledge(sid, 13_000)
    (update,) = sent_frames(core)
    assert (update.stream_id, update.window_increment) == (0, 33_000)


def test_data_for_a_stream_we_reset_is_credited_to_the_connection() -> None:
    core, server = open_core()
    sid = core.open_stream(REQUEST, True)
    core.receive(server.headers(sid, OK))
    core.data_to_send()
    assert core.reset_stream(sid, f.CANCEL)
    assert not core.reset_stream(sid, f.CANCEL)  # already closed: nothing sent
    (rst,) = sent_frames(core)
    assert isinstance(rst, RstStreamFrame) and rst.error_code == f.CANCEL
    # Late frames are dropped quietly; their window comes back without any acknowledge().
    assert core.receive(server.data(sid, b"x" * 16384) + server.data(sid, b"x" * 16384)) == []
    assert core.receive(server.headers(sid, [(b"x-trailer", b"1")], True)) == []
    (update,) = sent_frames(core)
    assert (update.stream_id, update.window_increment) == (0, 32768)


def test_late_headers_on_a_reset_stream_keep_hpack_in_step() -> None:
    core, server = open_core()
    gone = core.open_stream(REQUEST, True)
    kept = core.open_stream(REQUEST, True)
    core.reset_stream(gone, f.CANCEL)
    # The server indexes a header in its dynamic table on the stream we reset ...
    assert core.receive(server.headers(gone, [*OK, (b"x-indexed", b"value")], True)) == []
    # ... and refers to it on the next one: only right if the late block was decoded.
    events = core.receive(server.headers(kept, [*OK, (b"x-indexed", b"value")], True))
    assert isinstance(events[0], ResponseReceived)
    assert events[0].headers == [(b"x-indexed", b"value")]


def test_frames_on_a_stream_closed_normally_are_stream_closed() -> None:
    core, server = open_core()
    sid = core.open_stream(REQUEST, True)
    core.receive(server.headers(sid, OK, True))
    core.data_to_send()
    assert sid not in core.streams
    assert core.receive(server.data(sid, b"x")) == []
    (rst,) = sent_frames(core)
    assert (rst.stream_id, rst.error_code) == (sid, f.STREAM_CLOSED)
    # Having reset it, we expect stragglers: dropped quietly from now on.
    assert core.receive(server.data(sid, b"x")) == []
    assert sent_frames(core) == []
    sid = core.open_stream(REQUEST, True)
    core.receive(server.headers(sid, OK, True))
    core.data_to_send()
    assert core.receive(server.headers(sid, OK)) == []
    (rst,) = sent_frames(core)
    assert (rst.stream_id, rst.error_code) == (sid, f.STREAM_CLOSED)


def test_frames_after_end_stream_on_a_half_closed_stream() -> None:
    core, server = open_core()
    sid = core.open_stream(REQUEST, False)  # we are still sending
    core.receive(server.headers(sid, OK, True))
    assert sid in core.streams  # half-closed (remote)
    stream_error(core, server.data(sid, b"x"), sid, f.STREAM_CLOSED)
    sid = core.open_stream(REQUEST, False)
    core.receive(server.headers(sid, OK, True))
    stream_error(core, server.headers(sid, [(b"x-t", b"1")], True), sid, f.STREAM_CLOSED)


@pytest.mark.parametrize("stream_id", [2, 7])
def test_data_on_idle_streams_is_protocol_error(stream_id: int) -> None:
    core, server = open_core()
    core.open_stream(REQUEST, True)
    connection_error(core, server.data(stream_id, b"x"), f.PROTOCOL_ERROR)


# -- stream states and ids ----------------------------------------------------------------


def test_stream_ids_are_odd_and_increasing_and_states_follow_the_table() -> None:
    core, server = open_core()
    assert [core.open_stream(REQUEST, False) for _ in range(3)] == [1, 3, 5]
    assert core.streams[1].state == 1  # open
    core.end_stream(1)
    assert core.streams[1].state == 2  # half-closed (local)
    with pytest.raises(H2LocalError):
        core.send_data(1, b"x")
    core.receive(server.headers(1, OK, True))
    assert 1 not in core.streams  # closed
    core.receive(server.headers(3, OK, True))
    assert core.streams[3].state == 3  # half-closed (remote): we may still send
    core.send_data(3, b"tail", True)
    assert 3 not in core.streams
    frames = sent_frames(core)
    assert isinstance(frames[0], HeadersFrame) and frames[0].stream_id == 1


def test_stream_ids_run_out() -> None:
    core, _ = open_core()
    core.next_stream_id = 2**31 - 1
    assert core.open_stream(REQUEST, True) == 2**31 - 1
    with pytest.raises(StreamIdsExhausted):
        core.open_stream(REQUEST, True)


def test_close_sends_goaway_and_refuses_new_streams() -> None:
    core, _ = open_core()
    core.close()
    (goaway,) = sent_frames(core)
    assert isinstance(goaway, GoAwayFrame) and goaway.error_code == 0
    with pytest.raises(H2LocalError):
        core.open_stream(REQUEST, True)
    core.close()
    assert sent_frames(core) == []


# -- header blocks ------------------------------------------------------------------------


def test_a_block_split_over_continuations_is_one_block() -> None:
    core, server = open_core()
    sid = core.open_stream(REQUEST, True)
    block = server.block([*OK, (b"x-long", b"v" * 3000)])
    data = (raw(f.HEADERS, 0, sid, block[:1000]) + raw(f.CONTINUATION, 0, sid, block[1000:2000])
            + raw(f.CONTINUATION, 0, sid, b"")
            + raw(f.CONTINUATION, f.FLAG_END_HEADERS, sid, block[2000:]))
    events: list[Event] = []
    for start, end in ((0, 5), (5, 1009), (1009, 2020), (2020, len(data))):
        events += core.receive(data[start:end])  # the bytes may arrive in any pieces
    assert isinstance(events[0], ResponseReceived)
    assert events[0].headers == [(b"x-long", b"v" * 3000)]


def test_end_stream_on_headers_applies_after_its_continuations() -> None:
    core, server = open_core()
    sid = core.open_stream(REQUEST, True)
    block = server.block(OK)
    events = core.receive(raw(f.HEADERS, f.FLAG_END_STREAM, sid, block[:1])
                          + raw(f.CONTINUATION, f.FLAG_END_HEADERS, sid, block[1:]))
    assert kinds(events) == [ResponseReceived, StreamEnded]


@pytest.mark.parametrize(
    "between",
    [
        raw(f.PING, 0, 0, b"12345678"),
        raw(f.DATA, 0, 1, b"x"),
        raw(0x42, 0, 0, b""),  # even an unknown type
        raw(f.CONTINUATION, f.FLAG_END_HEADERS, 3, b""),  # another stream
    ],
)
def test_anything_but_continuation_inside_a_block_is_protocol_error(between: bytes) -> None:
    core, server = open_core()
    core.open_stream(REQUEST, True)
    core.open_stream(REQUEST, True)
    block = server.block(OK)
    connection_error(core, raw(f.HEADERS, 0, 1, block) + between, f.PROTOCOL_ERROR)


def test_continuation_without_a_block_is_protocol_error() -> None:
    core, _ = open_core()
    core.open_stream(REQUEST, True)
    connection_error(core, raw(f.CONTINUATION, f.FLAG_END_HEADERS, 1, b""), f.PROTOCOL_ERROR)


def test_a_continuation_flood_is_refused() -> None:
    core, _ = open_core()
    core.open_stream(REQUEST, True)
    flood = raw(f.HEADERS, 0, 1, b"") + raw(f.CONTINUATION, 0, 1, b"") * 5000
    connection_error(core, flood, f.ENHANCE_YOUR_CALM)


def test_a_header_block_cannot_grow_without_bound() -> None:
    encoder, decoder = make_hpack(4096)
    core = H2Core(encoder, decoder, max_header_list_size=4096)
    core.initiate()
    core.receive(settings())
    core.open_stream(REQUEST, True)
    data = raw(f.HEADERS, 0, 1, b"\x00" * 16384)
    data += raw(f.CONTINUATION, 0, 1, b"\x00" * 8000)
    connection_error(core, data, f.ENHANCE_YOUR_CALM)
    assert len(core._block_parts) <= 2


def test_decoder_errors_are_compression_errors() -> None:
    encoder, _ = make_hpack(65536)
    core = H2Core(encoder, BrokenDecoder())
    core.initiate()
    core.receive(settings())
    core.open_stream(REQUEST, True)
    connection_error(core, raw(f.HEADERS, f.FLAG_END_HEADERS, 1, b"\x82"),
                     f.COMPRESSION_ERROR)


def test_an_oversized_header_list_is_a_connection_error() -> None:
    core, server = open_core()
    core.open_stream(REQUEST, True)
    block = server.block(OK + [(b"x-%d" % i, b"v" * 1000) for i in range(70)])
    data = f.headers_frames(1, block, True, 16384)
    connection_error(core, data, f.COMPRESSION_ERROR)


@pytest.mark.parametrize(
    ("stream_id", "first"),
    [(0, True), (2, True), (5, True), (5, False)],
)
def test_headers_on_stream_zero_even_or_idle_is_protocol_error(
    stream_id: int, first: bool
) -> None:
    core, server = open_core()
    core.open_stream(REQUEST, True)
    core.open_stream(REQUEST, True)  # 1 and 3: 5 is idle
    flags = f.FLAG_END_HEADERS if first else 0
    connection_error(core, raw(f.HEADERS, flags, stream_id, server.block(OK)),
                     f.PROTOCOL_ERROR)


# -- response validation ------------------------------------------------------------------


def test_a_valid_response() -> None:
    core, server = open_core()
    sid = core.open_stream(REQUEST, True)
    head = [*OK, (b"content-type", b"text/plain"), (b"x-empty", b""), (b"te", b"Trailers"),
            (b"x-inner", b"a b\tc"), (b"x-tok!#$%&'*+-.^_`|~", b"\xff")]
    events = core.receive(server.headers(sid, head))
    assert isinstance(events[0], ResponseReceived)
    assert (events[0].stream_id, events[0].status) == (sid, 200)
    assert events[0].headers == head[1:]  # no pseudo-headers


BAD_HEADS = {
    "no status": [(b"x-a", b"1")],
    "two statuses": [(b":status", b"200"), (b":status", b"200")],
    "status of two digits": [(b":status", b"20")],
    "status of four digits": [(b":status", b"2000")],
    "status not digits": [(b":status", b"2x0")],
    "pseudo after regular": [(b"x-a", b"1"), (b":status", b"200")],
    "request pseudo": [(b":status", b"200"), (b":path", b"/")],
    "method pseudo": [(b":status", b"200"), (b":method", b"GET")],
    "unknown pseudo": [(b":status", b"200"), (b":foo", b"1")],
    "uppercase name": [(b":status", b"200"), (b"X-Upper", b"1")],
    "space in name": [(b":status", b"200"), (b"x a", b"1")],
    "separator in name": [(b":status", b"200"), (b"x(a)", b"1")],
    "colon in name": [(b":status", b"200"), (b"x:a", b"1")],
    "non-ascii name": [(b":status", b"200"), (b"x\xe9", b"1")],
    "empty name": [(b":status", b"200"), (b"", b"1")],
    "connection": [(b":status", b"200"), (b"connection", b"close")],
    "keep-alive": [(b":status", b"200"), (b"keep-alive", b"5")],
    "proxy-connection": [(b":status", b"200"), (b"proxy-connection", b"x")],
    "transfer-encoding": [(b":status", b"200"), (b"transfer-encoding", b"chunked")],
    "upgrade": [(b":status", b"200"), (b"upgrade", b"h2c")],
    "te not trailers": [(b":status", b"200"), (b"te", b"gzip")],
    "NUL in value": [(b":status", b"200"), (b"x-a", b"a\x00b")],
    "CR in value": [(b":status", b"200"), (b"x-a", b"a\rb")],
    "LF in value": [(b":status", b"200"), (b"x-a", b"a\nb")],
    "leading space": [(b":status", b"200"), (b"x-a", b" a")],
    "trailing space": [(b":status", b"200"), (b"x-a", b"a ")],
    "leading tab": [(b":status", b"200"), (b"x-a", b"\ta")],
    "trailing tab": [(b":status", b"200"), (b"x-a", b"a\t")],
    "bad content-length": [(b":status", b"200"), (b"content-length", b"1x")],
    "negative content-length": [(b":status", b"200"), (b"content-length", b"-1")],
    "conflicting content-length": [(b":status", b"200"), (b"content-length", b"1"),
                                   (b"content-length", b"2")],
}


@pytest.mark.parametrize("name", list(BAD_HEADS))
def test_malformed_response_heads_are_stream_errors(name: str) -> None:
    core, server = open_core()
    sid = core.open_stream(REQUEST, True)
    other = core.open_stream(REQUEST, True)
    stream_error(core, server.headers(sid, BAD_HEADS[name]), sid, f.PROTOCOL_ERROR)
    # The connection (and its HPACK state) goes on.
    events = core.receive(server.headers(other, OK, True))
    assert kinds(events) == [ResponseReceived, StreamEnded]


def test_repeated_equal_content_length_is_fine() -> None:
    core, server = open_core()
    sid = core.open_stream(REQUEST, True)
    events = core.receive(server.headers(sid, OK + [(b"content-length", b"2")] * 2)
                          + server.data(sid, b"ok", True))
    assert kinds(events) == [ResponseReceived, DataReceived, StreamEnded]


def test_informational_responses_then_the_final_one() -> None:
    core, server = open_core()
    sid = core.open_stream(REQUEST, True)
    events = core.receive(server.headers(sid, [(b":status", b"100")])
                          + server.headers(sid, [(b":status", b"103"), (b"link", b"</a>")])
                          + server.headers(sid, OK, True))
    assert kinds(events) == [InformationalReceived, InformationalReceived, ResponseReceived,
                             StreamEnded]
    assert isinstance(events[1], InformationalReceived)
    assert (events[1].status, events[1].headers) == (103, [(b"link", b"</a>")])


def test_informational_response_with_end_stream_is_malformed() -> None:
    core, server = open_core()
    sid = core.open_stream(REQUEST, True)
    stream_error(core, server.headers(sid, [(b":status", b"100")], True), sid,
                 f.PROTOCOL_ERROR)


def test_data_before_the_response_head_is_malformed() -> None:
    core, server = open_core()
    sid = core.open_stream(REQUEST, True)
    stream_error(core, server.data(sid, b"x"), sid, f.PROTOCOL_ERROR)
    sid = core.open_stream(REQUEST, True)
    core.receive(server.headers(sid, [(b":status", b"100")]))
    stream_error(core, server.data(sid, b"x"), sid, f.PROTOCOL_ERROR)


def test_trailers() -> None:
    core, server = open_core()
    sid = core.open_stream(REQUEST, True)
    events = core.receive(server.headers(sid, OK) + server.data(sid, b"body")
                          + server.headers(sid, [(b"x-checksum", b"abc")], True))
    assert kinds(events) == [ResponseReceived, DataReceived, TrailersReceived, StreamEnded]
    assert isinstance(events[2], TrailersReceived)
    assert events[2].headers == [(b"x-checksum", b"abc")]


def test_trailers_without_end_stream_are_malformed() -> None:
    core, server = open_core()
    sid = core.open_stream(REQUEST, True)
    core.receive(server.headers(sid, OK))
    stream_error(core, server.headers(sid, [(b"x-checksum", b"abc")]), sid, f.PROTOCOL_ERROR)


@pytest.mark.parametrize(
    "trailers",
    [[(b":status", b"200")], [(b"X-Upper", b"1")], [(b"connection", b"close")]],
)
def test_bad_trailers_are_malformed(trailers: list[tuple[bytes, bytes]]) -> None:
    core, server = open_core()
    sid = core.open_stream(REQUEST, True)
    core.receive(server.headers(sid, OK))
    stream_error(core, server.headers(sid, trailers, True), sid, f.PROTOCOL_ERROR)


def test_body_shorter_than_content_length_is_malformed() -> None:
    core, server = open_core()
    sid = core.open_stream(REQUEST, True)
    core.receive(server.headers(sid, [*OK, (b"content-length", b"10")]))
    stream_error(core, server.data(sid, b"short", True), sid, f.PROTOCOL_ERROR)
    sid = core.open_stream(REQUEST, True)
    stream_error(core, server.headers(sid, [*OK, (b"content-length", b"10")], True), sid,
                 f.PROTOCOL_ERROR)


def test_body_longer_than_content_length_is_malformed() -> None:
    core, server = open_core()
    sid = core.open_stream(REQUEST, True)
    core.receive(server.headers(sid, [*OK, (b"content-length", b"3")]))
    error = stream_error(core, server.data(sid, b"toolong"), sid, f.PROTOCOL_ERROR)
    assert "content-length" in error.reason
    # The data is nobody's now: its window goes back to the connection (owed, not lost).
    assert core._unacked == 7


def test_head_and_304_responses_carry_no_body_whatever_content_length_says() -> None:
    core, server = open_core()
    sid = core.open_stream(HEAD_REQUEST, True)
    events = core.receive(server.headers(sid, [*OK, (b"content-length", b"100")], True))
    assert kinds(events) == [ResponseReceived, StreamEnded]
    sid = core.open_stream(REQUEST, True)
    events = core.receive(server.headers(sid, [(b":status", b"304"),
                                               (b"content-length", b"100")], True))
    assert kinds(events) == [ResponseReceived, StreamEnded]
    sid = core.open_stream(HEAD_REQUEST, True)
    core.receive(server.headers(sid, [*OK, (b"content-length", b"100")]))
    stream_error(core, server.data(sid, b"x"), sid, f.PROTOCOL_ERROR)


def test_events_before_a_connection_error_are_not_half_applied() -> None:
    core, server = open_core()
    sid = core.open_stream(REQUEST, True)
    with pytest.raises(H2ConnectionError) as info:
        core.receive(server.headers(sid, OK) + raw(f.PING, 0, 1, b"12345678"))
    assert "PING" in str(info.value) and "PROTOCOL_ERROR" in str(info.value)
    assert core.closed
    with pytest.raises(H2LocalError):
        core.send_data(sid, b"x")
