"""ResponseParser: bytes in (in every split), events out. No sockets, no event loop."""

from __future__ import annotations

import pytest

from aiosonic._http11 import Framing, ResponseHead, ResponseParser
from aiosonic.exceptions import ConnectionDisconnected, HttpParsingError


class Recorder:
    def __init__(self) -> None:
        self.heads: list[ResponseHead] = []
        self.body = b""
        self.pieces: list[bytes] = []
        self.completed: list[bool] = []

    def on_head(self, head: ResponseHead) -> None:
        self.heads.append(head)

    def on_body(self, data: bytes) -> None:
        self.body += data
        self.pieces.append(data)

    def on_complete(self, keep_alive: bool) -> None:
        self.completed.append(keep_alive)


def splits(data: bytes) -> list[list[bytes]]:
    """Everything at once, one byte at a time, and a few uneven cuts."""
    cuts = [[data[i : i + 1] for i in range(len(data))], [data]]
    for size in (2, 3, 7, 50):
        cuts.append([data[i : i + size] for i in range(0, len(data), size)])
    return cuts


def run(data: bytes, *, head_request: bool = False, eof: bool = False) -> Recorder:
    recorder = Recorder()
    parser = ResponseParser(recorder)
    parser.start(head_request)
    parser.feed(data)
    if eof:
        parser.feed_eof()
    return recorder


CONTENT_LENGTH = (
    b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 11\r\n"
    b"X-Dup: a\r\nX-Dup: b\r\n\r\nhello world"
)
CHUNKED = (
    b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
    b"5\r\nhello\r\n6;ext=1\r\n world\r\n0\r\nX-Trailer: t\r\n\r\n"
)


@pytest.mark.parametrize("pieces", splits(CONTENT_LENGTH))
def test_content_length_in_any_split(pieces: list[bytes]) -> None:
    recorder = Recorder()
    parser = ResponseParser(recorder)
    parser.start()
    for piece in pieces:
        parser.feed(piece)
    (head,) = recorder.heads
    assert head.status == 200
    assert head.reason == "OK"
    assert head.version == "1.1"
    assert head.framing is Framing.LENGTH
    assert head.content_length == 11
    assert head.raw_headers == [
        (b"Content-Type", b"text/plain"),
        (b"Content-Length", b"11"),
        (b"X-Dup", b"a"),
        (b"X-Dup", b"b"),
    ]
    assert recorder.body == b"hello world"
    assert recorder.completed == [True]
    assert parser.idle


@pytest.mark.parametrize("pieces", splits(CHUNKED))
def test_chunked_in_any_split(pieces: list[bytes]) -> None:
    recorder = Recorder()
    parser = ResponseParser(recorder)
    parser.start()
    for piece in pieces:
        parser.feed(piece)
    assert recorder.heads[0].framing is Framing.CHUNKED
    assert recorder.body == b"hello world"
    assert recorder.completed == [True]


def test_body_is_not_copied_when_it_fills_the_read() -> None:
    recorder = Recorder()
    parser = ResponseParser(recorder)
    parser.start()
    parser.feed(b"HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\n")
    data = b"abcd"
    parser.feed(data)
    assert recorder.pieces == [data]
    assert recorder.pieces[0] is data  # handed on as it came, not copied


def test_keep_alive_over_several_responses() -> None:
    recorder = Recorder()
    parser = ResponseParser(recorder)
    for i in range(3):
        parser.start()
        parser.feed(b"HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\n" + str(i).encode())
    assert recorder.body == b"012"
    assert recorder.completed == [True, True, True]


def test_until_close_body_completes_on_eof() -> None:
    recorder = run(b"HTTP/1.1 200 OK\r\nContent-Type: x\r\n\r\nsome body", eof=True)
    assert recorder.heads[0].framing is Framing.UNTIL_CLOSE
    assert recorder.body == b"some body"
    assert recorder.completed == [False]


@pytest.mark.parametrize(
    ("status", "head_request"), [(204, False), (304, False), (200, True)]
)
def test_responses_without_body(status: int, head_request: bool) -> None:
    recorder = Recorder()
    parser = ResponseParser(recorder)
    parser.start(head_request)
    parser.feed(b"HTTP/1.1 %d X\r\nContent-Length: 10\r\n\r\n" % status)
    assert recorder.heads[0].framing is Framing.NONE
    assert recorder.body == b""
    assert recorder.completed == [True]
    assert parser.idle


def test_interim_responses_are_skipped() -> None:
    data = (
        b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\n"
        b"HTTP/1.1 201 Created\r\nContent-Length: 2\r\n\r\nok"
    )
    for pieces in splits(data):
        recorder = Recorder()
        parser = ResponseParser(recorder)
        parser.start()
        for piece in pieces:
            parser.feed(piece)
        assert [h.status for h in recorder.heads] == [201]
        assert recorder.body == b"ok"


@pytest.mark.parametrize(
    ("head", "keep_alive"),
    [
        (b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", True),
        (b"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 0\r\n\r\n", False),
        (b"HTTP/1.1 200 OK\r\nConnection: Keep-Alive, CLOSE\r\nContent-Length: 0\r\n\r\n", False),
        (b"HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n", False),
        (b"HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 0\r\n\r\n", True),
    ],
)
def test_keep_alive_decision(head: bytes, keep_alive: bool) -> None:
    recorder = run(head)
    assert recorder.completed == [keep_alive]


def test_bytes_after_a_content_length_body_forbid_reuse() -> None:
    recorder = run(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nokEXTRA")
    assert recorder.body == b"ok"
    assert recorder.completed == [False]


def test_bytes_after_a_chunked_body_forbid_reuse() -> None:
    recorder = run(
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\nHTTP/1.1"
    )
    assert recorder.body == b"ok"
    assert recorder.completed == [False]


def test_transfer_encoding_not_ending_in_chunked_reads_until_close() -> None:
    recorder = run(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\nabc", eof=True)
    assert recorder.heads[0].framing is Framing.UNTIL_CLOSE
    assert recorder.body == b"abc"


def test_trailers_are_not_part_of_the_head() -> None:
    recorder = run(CHUNKED)
    assert recorder.heads[0].raw_headers == [(b"Transfer-Encoding", b"chunked")]


def test_header_values_lose_surrounding_whitespace() -> None:
    recorder = run(b"HTTP/1.1 200 OK\r\nX-A:  a b \t\r\nX-B:\r\nContent-Length: 0 \r\n\r\n")
    assert recorder.heads[0].raw_headers == [
        (b"X-A", b"a b"), (b"X-B", b""), (b"Content-Length", b"0"),
    ]
    assert recorder.heads[0].content_length == 0


@pytest.mark.parametrize("name", [b"CONTENT-LENGTH", b"content-length", b"Content-length"])
def test_framing_headers_in_any_case(name: bytes) -> None:
    recorder = run(b"HTTP/1.1 200 OK\r\n" + name + b": 2\r\nCONTENT-ENCODING: br\r\n\r\nok")
    (head,) = recorder.heads
    assert (head.framing, head.content_length, head.content_encoding) == (
        Framing.LENGTH, 2, b"br",
    )
    assert recorder.body == b"ok"


def test_a_second_content_length_is_refused_even_when_equal() -> None:
    with pytest.raises(HttpParsingError, match="Duplicate Content-Length"):
        run(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\ncontent-length: 2\r\n\r\nok")


def test_content_encoding_is_reported() -> None:
    recorder = run(b"HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: 0\r\n\r\n")
    assert recorder.heads[0].content_encoding == b"gzip"


@pytest.mark.parametrize(
    "data",
    [
        b"HTTP/1.1 abc OK\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nNo colon here\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nBad Name: x\r\n\r\n",
        b"NOT HTTP AT ALL\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
        b"HTTP/1.1 200 OK\r\nX: a\x00b\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nX: a\r\n  obs-fold\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nX : space before colon\r\n\r\n",
        b"HTTP/1.1 200 OK\nContent-Length: 0\n\n",
        b"HTTP/1.1 999 Out Of Range\r\n\r\n",
        b"HTTP/1.1 099 Too Low\r\n\r\n",
        b"HTTP/2.0 200 OK\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nContent-Length: 0x10\r\n\r\n",
    ],
)
def test_malformed_responses_raise(data: bytes) -> None:
    with pytest.raises(HttpParsingError):
        run(data)


def test_garbage_is_refused_before_the_head_ends() -> None:
    recorder = Recorder()
    parser = ResponseParser(recorder)
    parser.start()
    with pytest.raises(HttpParsingError):
        parser.feed(b"garbage without a terminator")


def test_head_size_limit() -> None:
    parser = ResponseParser(Recorder(), max_head_size=100)
    parser.start()
    with pytest.raises(HttpParsingError, match="larger than 100"):
        parser.feed(b"HTTP/1.1 200 OK\r\n" + b"X: " + b"a" * 200 + b"\r\n\r\n")


def test_header_count_limit() -> None:
    parser = ResponseParser(Recorder(), max_headers=3)
    parser.start()
    with pytest.raises(HttpParsingError, match="more than 3 headers"):
        parser.feed(b"HTTP/1.1 200 OK\r\n" + b"X: 1\r\n" * 4 + b"\r\n")


def test_unsolicited_bytes_raise() -> None:
    parser = ResponseParser(Recorder())
    with pytest.raises(HttpParsingError, match="no response was expected"):
        parser.feed(b"HTTP/1.1 200 OK\r\n\r\n")


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "without a response"),
        (b"HTTP/1.1 200 OK\r\n", "mid response head"),
        (b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc", "after 3 of 10 bytes"),
        (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n", "last chunk"),
    ],
)
def test_eof_mid_response_raises(data: bytes, message: str) -> None:
    parser = ResponseParser(Recorder())
    parser.start()
    parser.feed(data)
    with pytest.raises(ConnectionDisconnected, match=message):
        parser.feed_eof()


def test_start_twice_is_a_bug() -> None:
    parser = ResponseParser(Recorder())
    parser.start()
    with pytest.raises(RuntimeError):
        parser.start()


def test_unrequested_101_is_refused_and_requested_one_accepted() -> None:
    with pytest.raises(HttpParsingError, match="asked no upgrade"):
        run(b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n")
    recorder = Recorder()
    parser = ResponseParser(recorder)
    parser.start(upgrade=True)
    parser.feed(b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n\x81\x02")
    parser.feed(b"hi")
    assert recorder.heads[0].status == 101
    # The HTTP exchange does not complete: the connection now speaks another protocol, and
    # what followed the head is kept for it.
    assert recorder.completed == []
    assert parser.upgrade_tail == b"\x81\x02hi"


@pytest.mark.parametrize(
    "flood",
    [
        b"5;" + b"e" * 70000 + b"\r\nhello\r\n",  # one endless chunk extension
        b"5\r\nhello\r\n0\r\n" + b"X-T: v\r\n" * 10000,  # trailers that never end
    ],
)
def test_chunked_framing_floods_are_refused(flood: bytes) -> None:
    parser = ResponseParser(Recorder(), max_head_size=65536)
    parser.start()
    parser.feed(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n")
    # (an extension meets the bound on framing against data, trailers their own bound by
    # count, before the bound on framing without any data)
    with pytest.raises(
        HttpParsingError,
        match=r"without data|more than 128 trailer fields|far larger than the data",
    ):
        for i in range(0, len(flood), 4096):
            parser.feed(flood[i : i + 4096])


def test_many_small_chunks_are_not_a_flood() -> None:
    recorder = Recorder()
    parser = ResponseParser(recorder, max_head_size=1024)
    parser.start()
    parser.feed(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n")
    for _ in range(5000):
        parser.feed(b"1;ext=1\r\nx\r\n")
    parser.feed(b"0\r\n\r\n")
    assert recorder.body == b"x" * 5000 and recorder.completed == [True]
