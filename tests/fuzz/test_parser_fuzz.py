"""Hypothesis fuzzing of the HTTP/1.1 codec and the body decoders.

The properties, for hostile input of bounded size:

* ``ResponseParser`` fed any bytes, in any split, then EOF, either reports well-ordered events
  or raises an ``AiosonicError`` subclass, never anything else;
* a valid response (random head, Content-Length, chunked or close-delimited body, interim 1xx
  responses, chunk extensions and trailers) yields exactly its body, whatever the split; the
  same response mutated byte by byte still only raises ``AiosonicError``;
* malformed chunk framing raises ``HttpParsingError`` while feeding, not at EOF;
* ``make_decoder`` only lets ``DecompressionError`` escape, and round-trips valid streams;
* ``encode_request_head`` either refuses (``InvalidRequest``) or produces a head in which no
  line can have been injected.

Examples are derandomized (the same ones on every run) and few enough that the whole module
stays within a few seconds; ``fuzz/fuzz_parser.py`` runs the same ideas for as long as wanted.
"""

from __future__ import annotations

import gzip
import itertools
import os
import string
import zlib
from dataclasses import dataclass, field

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from aiosonic._decode import make_decoder
from aiosonic._http11 import Framing, ResponseHead, ResponseParser, encode_request_head
from aiosonic.exceptions import (
    AiosonicError,
    DecompressionError,
    HttpParsingError,
    InvalidRequest,
)

# ``fuzz/fuzz_parser.py --hypothesis`` sets AIOSONIC_FUZZ_EXAMPLES to rerun these properties
# with many fresh random examples; under pytest they are fixed and small.
_LONG_RUN = int(os.environ.get("AIOSONIC_FUZZ_EXAMPLES", "0"))
FUZZ = settings(
    max_examples=_LONG_RUN or 300,
    deadline=None,
    derandomize=not _LONG_RUN,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
FEW = settings(FUZZ, max_examples=_LONG_RUN or 100)

TOKEN_CHARS = "!#$%&'*+-.^_`|~" + string.ascii_letters + string.digits
# Header names the framing logic looks at; generated headers avoid them unless on purpose.
RESERVED = {"content-length", "transfer-encoding", "connection", "content-encoding", "upgrade"}


# -- driving the parser ----------------------------------------------------------------------


@dataclass
class Recorder:
    """A ``ResponseReceiver`` that records events and checks their order as they arrive."""

    heads: list[ResponseHead] = field(default_factory=list)
    body: bytearray = field(default_factory=bytearray)
    completed: list[bool] = field(default_factory=list)
    error: AiosonicError | None = None
    in_response: bool = False

    def on_head(self, head: ResponseHead) -> None:
        assert not self.in_response, "on_head while a response is still open"
        assert isinstance(head.status, int)
        assert isinstance(head.reason, str)
        assert head.framing in Framing
        if head.framing is Framing.LENGTH:
            assert head.content_length is not None
            assert head.content_length >= 0
        self.heads.append(head)
        self.in_response = True

    def on_body(self, data: bytes) -> None:
        assert self.in_response, "on_body outside a response"
        assert isinstance(data, (bytes, memoryview))
        self.body += data

    def on_complete(self, keep_alive: bool) -> None:
        assert self.in_response, "on_complete without on_head"
        assert isinstance(keep_alive, bool)
        self.completed.append(keep_alive)
        self.in_response = False


def cut(data: bytes, points: list[int]) -> list[bytes]:
    """``data`` cut at ``points`` (clamped, sorted); empty pieces are kept on purpose."""
    edges = sorted({min(max(p, 0), len(data)) for p in points} | {0, len(data)})
    pieces = [data[a:b] for a, b in itertools.pairwise(edges)]
    return pieces or [data]


def drive(
    data: bytes,
    points: list[int],
    *,
    head_request: bool = False,
    restart: bool = False,
    eof: bool = True,
    max_head_size: int = 65536,
    max_headers: int = 128,
) -> Recorder:
    """Feed ``data`` in pieces, then EOF. Only ``AiosonicError`` is caught (and recorded)."""
    recorder = Recorder()
    parser = ResponseParser(recorder, max_head_size=max_head_size, max_headers=max_headers)
    parser.start(head_request)
    try:
        for piece in cut(data, points):
            parser.feed(piece)
            if restart and parser.idle:
                parser.start(head_request)
        if eof:
            parser.feed_eof()
    except AiosonicError as exc:
        recorder.error = exc
    assert len(recorder.completed) <= len(recorder.heads)
    for head, keep_alive in zip(recorder.heads, recorder.completed, strict=False):
        if keep_alive:
            assert head.framing is not Framing.UNTIL_CLOSE
    return recorder


cuts = st.lists(st.integers(min_value=0, max_value=4096), max_size=12)


# -- 1. arbitrary bytes ---------------------------------------------------------------------

# Bytes biased towards what the parser branches on, so that random input gets past the
# status line now and then.
FRAGMENTS = [
    b"HTTP/1.1 ",
    b"HTTP/1.0 ",
    b"200 OK",
    b"100 Continue",
    b"101 Switching",
    b"204 No Content",
    b"304 ",
    b"\r\n",
    b"\r\n\r\n",
    b"\n",
    b"\r",
    b"Content-Length: ",
    b"Transfer-Encoding: chunked",
    b"Transfer-Encoding: gzip",
    b"Connection: close",
    b"Connection: keep-alive",
    b"Upgrade: h2c",
    b": ",
    b"0",
    b"5",
    b"a",
    b"ffffffffffffffffff",
    b";ext=1",
    b"hello",
    b" ",
    b"\t",
    b"\x00",
    b"\xff",
]
wire_bytes = st.one_of(
    st.binary(max_size=600),
    st.lists(st.one_of(st.sampled_from(FRAGMENTS), st.binary(max_size=8)), max_size=60).map(
        b"".join
    ),
)


@FUZZ
@given(data=wire_bytes, points=cuts, head_request=st.booleans(), restart=st.booleans())
def test_arbitrary_bytes_only_raise_aiosonic_errors(
    data: bytes, points: list[int], head_request: bool, restart: bool
) -> None:
    drive(data, points, head_request=head_request, restart=restart)


@FEW
@given(
    data=wire_bytes,
    points=cuts,
    max_head_size=st.integers(min_value=1, max_value=200),
    max_headers=st.integers(min_value=0, max_value=4),
)
def test_arbitrary_bytes_with_tight_limits(
    data: bytes, points: list[int], max_head_size: int, max_headers: int
) -> None:
    drive(data, points, max_head_size=max_head_size, max_headers=max_headers)


# -- 2. structured responses ----------------------------------------------------------------

header_names = st.text(TOKEN_CHARS, min_size=1, max_size=12).filter(
    lambda name: name.lower() not in RESERVED
)
header_values = st.text(
    st.sampled_from(string.ascii_letters + string.digits + string.punctuation + " \t"),
    max_size=24,
).map(lambda value: value.strip(" \t"))
headers = st.lists(st.tuples(header_names, header_values), max_size=6)
reasons = st.text(st.sampled_from(string.ascii_letters + string.digits + " -."), max_size=16)


@dataclass
class Response:
    wire: bytes
    body: bytes
    status: int
    framing: str  # "length", "chunked" or "close"
    keep_alive: bool
    head_request: bool


@st.composite
def chunked_body(draw: st.DrawFn, body: bytes, last: bool = True) -> bytes:
    """``body`` in chunks of random sizes, with random hex spelling, extensions, trailers."""
    out = bytearray()
    pos = 0
    while pos < len(body):
        size = draw(st.integers(min_value=1, max_value=max(1, len(body) - pos)))
        out += chunk_size_line(draw, size)
        out += body[pos : pos + size] + b"\r\n"
        pos += size
    if not last:
        return bytes(out)
    out += chunk_size_line(draw, 0)
    for name, value in draw(headers):
        out += f"{name}: {value}\r\n".encode()
    out += b"\r\n"
    return bytes(out)


def chunk_size_line(draw: st.DrawFn, size: int) -> bytes:
    digits = format(size, draw(st.sampled_from(["x", "X"])))
    zeros = "0" * draw(st.integers(min_value=0, max_value=3))
    extensions = ""
    for name, value in draw(
        st.lists(
            st.tuples(
                st.text(TOKEN_CHARS, min_size=1, max_size=6),
                st.one_of(
                    st.none(),
                    st.text(TOKEN_CHARS, min_size=1, max_size=6),
                    st.text(string.ascii_letters + " ", max_size=6).map(lambda v: f'"{v}"'),
                ),
            ),
            max_size=2,
        )
    ):
        extensions += f";{name}" if value is None else f";{name}={value}"
    return f"{zeros}{digits}{extensions}\r\n".encode()


@st.composite
def responses(draw: st.DrawFn) -> Response:
    head_request = draw(st.booleans())
    version = draw(st.sampled_from(["1.1", "1.0"]))
    status = draw(st.integers(min_value=200, max_value=599).filter(lambda s: s not in (204, 304)))
    framing = draw(st.sampled_from(["length", "chunked", "close"]))
    connection = draw(st.sampled_from([None, "close", "keep-alive", "Keep-Alive"]))
    body = draw(st.binary(max_size=1500))
    wire = bytearray()
    for interim in draw(st.lists(st.sampled_from([100, 102, 103]), max_size=2)):
        wire += f"HTTP/1.1 {interim} Interim\r\n".encode()
        for name, value in draw(headers):
            wire += f"{name}: {value}\r\n".encode()
        wire += b"\r\n"
    lines = [(name, value) for name, value in draw(headers)]
    if framing == "length":
        lines.insert(draw(st.integers(0, len(lines))), ("Content-Length", str(len(body))))
    elif framing == "chunked":
        lines.insert(draw(st.integers(0, len(lines))), ("Transfer-Encoding", "chunked"))
    if connection is not None:
        lines.insert(draw(st.integers(0, len(lines))), ("Connection", connection))
    wire += f"HTTP/{version} {status} {draw(reasons)}\r\n".encode()
    for name, value in lines:
        spacing = draw(st.sampled_from([" ", "", "  ", "\t"]))
        wire += f"{name}:{spacing}{value}\r\n".encode()
    wire += b"\r\n"
    if not head_request:
        if framing == "chunked":
            wire += draw(chunked_body(body))
        else:
            wire += body
    keep_alive = (version == "1.1" or connection in ("keep-alive", "Keep-Alive")) and (
        connection != "close"
    )
    if framing == "close" and not head_request:
        keep_alive = False
    return Response(
        wire=bytes(wire),
        body=b"" if head_request else body,
        status=status,
        framing=framing,
        keep_alive=keep_alive,
        head_request=head_request,
    )


@FUZZ
@given(response=responses(), points=cuts, bytewise=st.booleans())
def test_valid_responses_give_their_exact_body(
    response: Response, points: list[int], bytewise: bool
) -> None:
    if bytewise:
        points = list(range(len(response.wire)))
    recorder = Recorder()
    parser = ResponseParser(recorder)
    parser.start(response.head_request)
    for piece in cut(response.wire, points):
        parser.feed(piece)
    delimited = response.framing != "close" or response.head_request
    if delimited:
        assert recorder.completed == [response.keep_alive]
        assert parser.idle is response.keep_alive
    else:
        assert recorder.completed == []
    parser.feed_eof()
    (head,) = recorder.heads
    assert head.status == response.status
    assert bytes(recorder.body) == response.body
    assert recorder.completed == [response.keep_alive]


MUTATION_INSERTS = [b"\r\n", b"\r", b"\n", b"\x00", b" ", b"0\r\n\r\n", b"ffffffffffffffffff"]
MUTATION_INSERTS += [b"Content-Length: 3\r\n", b"Transfer-Encoding: chunked\r\n", b"\xff", b":"]


@st.composite
def mutated(draw: st.DrawFn) -> tuple[bytes, bool]:
    response = draw(responses())
    wire = bytearray(response.wire)
    for _ in range(draw(st.integers(min_value=1, max_value=6))):
        kind = draw(st.sampled_from(["flip", "insert", "delete", "replace"]))
        pos = draw(st.integers(min_value=0, max_value=len(wire)))
        if kind == "flip" and pos < len(wire):
            wire[pos] ^= 1 << draw(st.integers(min_value=0, max_value=7))
        elif kind == "insert":
            wire[pos:pos] = draw(
                st.one_of(st.sampled_from(MUTATION_INSERTS), st.binary(min_size=1, max_size=4))
            )
        elif kind == "delete":
            del wire[pos : pos + draw(st.integers(min_value=1, max_value=4))]
        elif kind == "replace" and pos < len(wire):
            wire[pos] = draw(st.integers(min_value=0, max_value=255))
    return bytes(wire), response.head_request


@FUZZ
@given(case=mutated(), points=cuts, restart=st.booleans())
def test_mutated_responses_only_raise_aiosonic_errors(
    case: tuple[bytes, bool], points: list[int], restart: bool
) -> None:
    wire, head_request = case
    drive(wire, points, head_request=head_request, restart=restart)


# -- 3. chunked framing ---------------------------------------------------------------------

CHUNKED_HEAD = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"


@st.composite
def chunked_cases(draw: st.DrawFn) -> tuple[bytes, bytes]:
    body = draw(st.binary(max_size=3000))
    return body, draw(chunked_body(body))


@FUZZ
@given(case=chunked_cases(), points=cuts)
def test_chunked_body_is_exact(case: tuple[bytes, bytes], points: list[int]) -> None:
    body, encoded = case
    recorder = drive(CHUNKED_HEAD + encoded, points, eof=False)
    assert recorder.error is None
    assert bytes(recorder.body) == body
    assert recorder.completed == [True]


BAD_CHUNKS = [
    b"ffffffffffffffffff\r\n",  # 72 bits: overflows any chunk-size counter
    b"10000000000000000\r\nxx",  # 2**64: one bit too many
    b"fffffffffffffffff0\r\n",
    b"zz\r\nhello\r\n",
    b"5g\r\nhello\r\n",
    b"-5\r\nhello\r\n",
    b"0x5\r\nhello\r\n",
    b"\r\nhello\r\n",
    b" 5\r\nhello\r\n",
    b"5\r\nhelloXX0\r\n\r\n",  # no CRLF after the chunk data
    b"5\r\nhello\n0\r\n\r\n",
    b"5\r\nhello0\r\n\r\n",
    b"5\rhello\r\n0\r\n\r\n",
]


@FUZZ
@given(
    valid_chunks=st.binary(max_size=300).flatmap(lambda body: chunked_body(body, last=False)),
    bad=st.sampled_from(BAD_CHUNKS),
    points=cuts,
)
def test_malformed_chunks_raise_http_parsing_error(
    valid_chunks: bytes, bad: bytes, points: list[int]
) -> None:
    data = CHUNKED_HEAD + valid_chunks + bad + b"1\r\nx\r\n0\r\n\r\n"
    recorder = drive(data, points, eof=False)
    assert isinstance(recorder.error, HttpParsingError), (data, recorder.error)
    assert recorder.completed == []


@pytest.mark.parametrize("bad", BAD_CHUNKS)
def test_each_malformed_chunk_whole(bad: bytes) -> None:
    recorder = drive(CHUNKED_HEAD + bad + b"0\r\n\r\n", [], eof=False)
    assert isinstance(recorder.error, HttpParsingError), recorder.error


# -- 4. decoders ----------------------------------------------------------------------------

ENCODINGS = [b"gzip", b"deflate", b"gzip, deflate", b"x-gzip", b"deflate, gzip", b"GZIP"]


def decode(encoding: bytes, data: bytes, points: list[int], limit: int) -> bytes:
    decoder = make_decoder(encoding, limit)
    assert decoder is not None
    out = bytearray()
    for piece in cut(data, points):
        out += decoder.feed(piece)
    out += decoder.flush()
    return bytes(out)


def compress(encoding: bytes, body: bytes) -> bytes:
    """Apply the codings in header order (the first listed was applied first)."""
    for name in encoding.decode().lower().split(","):
        name = name.strip()
        if not name:
            continue
        body = gzip.compress(body) if name in ("gzip", "x-gzip") else zlib.compress(body)
    return body


def layer_sizes(encoding: bytes, body: bytes) -> list[int]:
    """The output size of each decoding step, outermost coding first."""
    names = [name.strip() for name in encoding.decode().split(",")]
    sizes = []
    for depth in range(len(names), 0, -1):
        sizes.append(len(compress(b",".join(n.encode() for n in names[: depth - 1]), body)))
    return sizes


@st.composite
def compressed(draw: st.DrawFn) -> tuple[bytes, bytes, bytes]:
    encoding = draw(st.sampled_from(ENCODINGS))
    body = draw(st.one_of(st.binary(max_size=2000), st.binary(max_size=4).map(lambda b: b * 500)))
    return encoding, body, compress(encoding, body)


@FUZZ
@given(encoding=st.sampled_from(ENCODINGS), data=st.binary(max_size=800), points=cuts)
def test_decoder_on_random_bytes(encoding: bytes, data: bytes, points: list[int]) -> None:
    try:
        decode(encoding, data, points, 1 << 20)
    except DecompressionError:
        pass


@FUZZ
@given(case=compressed(), points=cuts, limit=st.sampled_from([1 << 20, 100, 0]))
def test_decoder_round_trip_and_limit(
    case: tuple[bytes, bytes, bytes], points: list[int], limit: int
) -> None:
    encoding, body, data = case
    try:
        out = decode(encoding, data, points, limit)
    except DecompressionError:
        # The limit bounds each layer's output, so a stacked coding may trip it on the
        # intermediate stream (for example the gzip bytes inside a deflate) even when the
        # final body would fit.
        assert max(layer_sizes(encoding, body)) > limit
    else:
        assert out == body


@FUZZ
@given(
    case=compressed(),
    points=cuts,
    edits=st.lists(st.tuples(st.integers(0), st.integers(0, 255)), min_size=1, max_size=4),
)
def test_decoder_on_mutated_streams(
    case: tuple[bytes, bytes, bytes], points: list[int], edits: list[tuple[int, int]]
) -> None:
    encoding, _, data = case
    wire = bytearray(data)
    for pos, value in edits:
        wire[pos % len(wire)] = value
    try:
        decode(encoding, bytes(wire), points, 1 << 20)
    except DecompressionError:
        pass


@FEW
@given(encoding=st.binary(max_size=40))
def test_make_decoder_on_random_header(encoding: bytes) -> None:
    try:
        decoder = make_decoder(encoding)
    except DecompressionError:
        return
    if decoder is not None:
        try:
            decoder.feed(b"\x1f\x8b\x08\x00garbage")
            decoder.flush()
        except DecompressionError:
            pass


def test_decoder_large_expansion_round_trips() -> None:
    # Several steps of output from very little input: nothing may be held back or lost.
    body = bytes(5 * 1024 * 1024)
    for encoding in (b"gzip", b"deflate", b"gzip, deflate"):
        data = compress(encoding, body)
        assert decode(encoding, data, list(range(0, len(data), 97)), 64 << 20) == body
        with pytest.raises(DecompressionError):
            decode(encoding, data, [], 4 << 20)


# -- 5. request heads -----------------------------------------------------------------------

# Mostly harmless characters, with the dangerous ones and some non-ASCII mixed in.
risky_text = st.text(
    st.one_of(
        st.sampled_from(TOKEN_CHARS + ' "/:;=?@[]'),
        st.sampled_from("\r\n\0\t \x7f\x0b\x0c\x85\xa0\xff"),
        st.characters(codec="utf-8", exclude_categories=["Cs"]),
    ),
    max_size=20,
)


@FUZZ
@given(
    method=risky_text,
    target=risky_text,
    header_list=st.lists(st.tuples(risky_text, risky_text), max_size=6),
)
def test_encode_request_head_cannot_be_split(
    method: str, target: str, header_list: list[tuple[str, str]]
) -> None:
    try:
        head = encode_request_head(method, target, header_list)
    except InvalidRequest:
        return
    assert isinstance(head, bytes)
    assert head.count(b"\r\n") == len(header_list) + 2
    assert head.endswith(b"\r\n\r\n")
    lines = head[:-4].split(b"\r\n")
    assert len(lines) == len(header_list) + 1
    for line in lines:
        assert b"\r" not in line and b"\n" not in line and b"\0" not in line
    request_line = lines[0]
    assert request_line.count(b" ") == 2
    assert request_line.endswith(b" HTTP/1.1")
    sent_method, _, _ = request_line.partition(b" ")
    assert sent_method == method.encode("ascii")
    for line, (name, _) in zip(lines[1:], header_list, strict=True):
        sent_name, colon, _ = line.partition(b":")
        assert colon
        assert sent_name == name.encode("ascii")
