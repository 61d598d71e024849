"""The event-stream parser (aiosonic._sse): bytes in, events out, with no network.

Every stream is parsed whole, one byte at a time, cut in two at every offset and, when
short, cut in three at every pair of offsets (empty pieces included): the events must be the
same whatever the chunking. The expected events are those of the WHATWG HTML standard's own
examples ("Server-sent events", sections 9.2.1, 9.2.5 and 9.2.6) and of each parsing rule.
"""

from __future__ import annotations

import dataclasses
import json
import re
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from aiosonic._sse import (
    DEFAULT_MAX_EVENT_SIZE,
    MAX_RETRY,
    EventStreamParser,
    SSEError,
    SSEEvent,
    SSEParsingError,
)
from aiosonic.exceptions import AiosonicError

THREE_WAY_MAX = 80  # streams up to this many bytes are also cut in three everywhere


def chunkings(data: bytes) -> Iterator[list[bytes]]:
    """Every way of feeding ``data`` that the tests try."""
    yield [data]
    yield [data[i : i + 1] for i in range(len(data))]
    for i in range(len(data) + 1):
        yield [data[:i], data[i:]]
    if len(data) <= THREE_WAY_MAX:
        for i in range(len(data) + 1):
            for j in range(i, len(data) + 1):
                yield [data[:i], data[i:j], data[j:]]


def feed_all(parser: EventStreamParser, chunks: list[bytes]) -> list[dict[str, Any]]:
    """The events as dicts: the mapping's four keys, and the ``last_event_id`` attribute."""
    events: list[dict[str, Any]] = []
    for chunk in chunks:
        events.extend(
            {**event, "last_event_id": event.last_event_id} for event in parser.feed(chunk)
        )
    return events


def ev(
    data: str,
    event: str = "message",
    id: str | None = None,
    retry: int | None = None,
    last: str | None = None,
) -> dict[str, Any]:
    """An expected event; ``last`` (its ``last_event_id``) is its own ``id`` by default."""
    if last is None:
        last = "" if id is None else id
    return {"data": data, "event": event, "id": id, "retry": retry, "last_event_id": last}


def check(
    stream: bytes | str,
    expected: list[dict[str, Any]],
    *,
    last_event_id: str = "",
    retry: int | None = None,
    **parser_kwargs: Any,
) -> None:
    """``stream`` gives ``expected`` and leaves ``last_event_id``/``retry``, however split."""
    data = stream.encode("utf-8") if isinstance(stream, str) else stream
    tried = 0
    for chunks in chunkings(data):
        parser = EventStreamParser(**parser_kwargs)
        assert feed_all(parser, chunks) == expected, chunks
        assert parser.last_event_id == last_event_id, chunks
        assert parser.retry == retry, chunks
        tried += 1
    assert tried >= len(data) + 3


# -- the standard's examples ------------------------------------------------------------------


def test_intro_three_messages() -> None:
    check(
        "data: This is the first message.\n"
        "\n"
        "data: This is the second message, it\n"
        "data: has two lines.\n"
        "\n"
        "data: This is the third message.\n"
        "\n",
        [
            ev("This is the first message."),
            ev("This is the second message, it\nhas two lines."),
            ev("This is the third message."),
        ],
    )


def test_intro_event_types() -> None:
    check(
        "event: add\ndata: 73857293\n\n"
        "event: remove\ndata: 2153\n\n"
        "event: add\ndata: 113411\n\n",
        [ev("73857293", "add"), ev("2153", "remove"), ev("113411", "add")],
    )


def test_stock_ticker_data_lines_joined() -> None:
    check("data: YHOO\ndata: +2\ndata: 10\n\n", [ev("YHOO\n+2\n10")])


def test_four_blocks_comment_ids_and_leading_space() -> None:
    # A comment block fires nothing; "id: 1" is the ID of the event in its block; a bare
    # "id" resets it to the empty string; a block without "id" has none of its own; only
    # one space after the colon is removed.
    check(
        ": test stream\n"
        "\n"
        "data: first event\n"
        "id: 1\n"
        "\n"
        "data:second event\n"
        "id\n"
        "\n"
        "data:  third event\n"
        "\n",
        [ev("first event", id="1"), ev("second event", id=""), ev(" third event")],
    )


def test_empty_data_and_a_block_that_never_ends() -> None:
    # Empty data, a single newline, and a last block dropped for want of a blank line.
    check("data\n\ndata\ndata\n\ndata:", [ev(""), ev("\n")])


def test_space_after_colon_is_optional() -> None:
    check("data:test\n\ndata: test\n\n", [ev("test"), ev("test")])


# -- decoding ---------------------------------------------------------------------------------


def test_multibyte_characters_split_anywhere() -> None:
    check("data: héllo € 😀 日本\n\n", [ev("héllo € 😀 日本")])


def test_invalid_utf8_becomes_replacement_characters() -> None:
    check(b"data: a\xffb\xe2\x82c\n\n", [ev("a\ufffdb\ufffdc")])


def test_bom_at_start_is_stripped() -> None:
    check(b"\xef\xbb\xbfdata: a\n\n", [ev("a")])


def test_only_one_bom_is_stripped() -> None:
    # The second BOM becomes part of the first field name: "\ufeffdata" is unknown.
    check(b"\xef\xbb\xbf\xef\xbb\xbfdata: a\n\ndata: b\n\n", [ev("b")])


def test_bom_later_in_the_stream_is_data() -> None:
    check(b"data: \xef\xbb\xbfx\n\n", [ev("\ufeffx")])


def test_truncated_bom_is_not_a_bom() -> None:
    check(b"\xef\xbbdata: a\n\ndata: b\n\n", [ev("b")])


# -- line ends --------------------------------------------------------------------------------


def test_lf_cr_and_crlf_line_ends() -> None:
    check("data: a\rdata: b\r\ndata: c\n\r\n", [ev("a\nb\nc")])


def test_crlf_is_one_line_end_even_when_split() -> None:
    # Were CR and LF two line ends, each event would be dispatched after its first line.
    check("data: a\r\ndata: b\r\n\r\ndata: c\r\ndata: d\r\n\r\n", [ev("a\nb"), ev("c\nd")])


def test_cr_cr_is_a_blank_line() -> None:
    check("data: a\r\rdata: b\r\r", [ev("a"), ev("b")])


def test_lf_cr_is_two_line_ends() -> None:
    check("data: a\n\rdata: b\n\n", [ev("a"), ev("b")])


def test_cr_cr_lf_is_two_line_ends() -> None:
    check("data: a\r\r\ndata: b\n\n", [ev("a"), ev("b")])


def test_other_unicode_line_breaks_are_data() -> None:
    check("data: a\u2028b\x0bc\x1cd\x85e\n\n", [ev("a\u2028b\x0bc\x1cd\x85e")])


# -- fields -----------------------------------------------------------------------------------


def test_comments_fire_nothing() -> None:
    check(":\n: comment\n:data: x\n\n:only\n\n", [])


def test_field_without_colon_has_empty_value() -> None:
    check("data\n\nevent\ndata: x\n\n", [ev(""), ev("x")])


def test_only_one_space_is_stripped() -> None:
    check("data:  two\n\ndata:\tx\n\ndata: \n\n", [ev(" two"), ev("\tx"), ev("")])


def test_value_keeps_later_colons() -> None:
    check("data: a:b: c\n\ndata::\n\n", [ev("a:b: c"), ev(":")])


def test_field_names_are_exact() -> None:
    check("Data: x\n\ndata : y\n\n DATA: z\n\n", [])


def test_unknown_fields_are_ignored() -> None:
    check("foo: bar\ndata: x\nbaz\n\n", [ev("x")])


def test_event_type_defaults_to_message_and_resets() -> None:
    check(
        "event: ping\ndata: 1\n\ndata: 2\n\nevent:\ndata: 3\n\nevent: a\nevent: b\ndata: 4\n\n",
        [ev("1", "ping"), ev("2"), ev("3"), ev("4", "b")],
    )


def test_event_type_of_an_empty_block_does_not_leak() -> None:
    check("event: lost\n\ndata: x\n\n", [ev("x")])


def test_data_lines_keep_inner_empty_lines() -> None:
    check("data: a\ndata:\ndata: b\ndata\n\n", [ev("a\n\nb\n")])


# -- ids --------------------------------------------------------------------------------------


def test_last_event_id_persists_across_events() -> None:
    check(
        "id: 7\ndata: a\n\ndata: b\n\nid: 8\ndata: c\n\ndata: d\n\n",
        [ev("a", id="7"), ev("b", last="7"), ev("c", id="8"), ev("d", last="8")],
        last_event_id="8",
    )


def test_an_event_without_an_id_field_has_id_none() -> None:
    # Upstream aiosonic's ``id``: the block's own, None without one; the standard's
    # lastEventId is ``last_event_id``, and what a reconnection resumes from.
    parser = EventStreamParser()
    first, second = parser.feed(b"id: 3\ndata: a\n\ndata: b\n\n")
    assert (first.id, first["id"], first.last_event_id) == ("3", "3", "3")
    assert (second.id, second["id"], second.last_event_id) == (None, None, "3")
    assert parser.last_event_id == "3"


def test_id_with_nul_is_ignored() -> None:
    check(
        "id: 1\ndata: a\n\nid: 2\x003\ndata: b\n\n",
        [ev("a", id="1"), ev("b", last="1")],
        last_event_id="1",
    )


def test_id_without_data_updates_the_last_event_id() -> None:
    check("id: 9\n\n", [], last_event_id="9")
    check("id: 9\n\ndata: x\n\n", [ev("x", last="9")], last_event_id="9")


def test_empty_id_resets_the_last_event_id() -> None:
    check("id: 5\ndata: a\n\nid:\ndata: b\n\n", [ev("a", id="5"), ev("b", id="")])


def test_id_of_an_unfinished_block_is_not_the_last_event_id() -> None:
    # The block never ended, so its event was never received: resuming must not skip it.
    check("id: 1\ndata: a\n\nid: 2\ndata: b\n", [ev("a", id="1")], last_event_id="1")


def test_last_id_field_of_a_block_wins() -> None:
    check("id: 1\nid: 2\ndata: a\n\n", [ev("a", id="2")], last_event_id="2")


# -- retry ------------------------------------------------------------------------------------


def test_retry_sets_the_reconnection_time() -> None:
    check("retry: 1500\n\n", [], retry=1500)
    check("retry: 10\ndata: x\n\ndata: y\n\n", [ev("x", retry=10), ev("y")], retry=10)
    check("retry: 0\n\n", [], retry=0)
    check("retry: 007\n\n", [], retry=7)
    check("retry: 1\nretry: 2\n\n", [], retry=2)


@pytest.mark.parametrize(
    "value",
    # Arabic-Indic, fullwidth and superscript digits are digits to str.isdigit(), not ASCII.
    ["", " 100", "15a", "-1", "+1", "1.5", "1e3", "10 ", "0x1", "\u0661\u0662", "\uff11", "\u00b2"],
)
def test_retry_that_is_not_ascii_digits_is_ignored(value: str) -> None:
    check(f"retry: 250\n\nretry: {value}\ndata: x\n\n", [ev("x")], retry=250)


def test_huge_retry_saturates() -> None:
    parser = EventStreamParser()
    parser.feed(b"retry: " + b"9" * 5000 + b"\n\n")
    assert parser.retry == MAX_RETRY
    parser.feed(b"retry: 000000000000000000000000000000042\n\n")
    assert parser.retry == 42


# -- streams end and begin --------------------------------------------------------------------


def test_new_stream_discards_what_is_pending() -> None:
    parser = EventStreamParser()
    assert parser.feed(b"id: 3\ndata: kept\n\nid: 4\nevent: lost\ndata: lost\ndata: half") == [
        SSEEvent("kept", id="3")
    ]
    parser.new_stream()
    assert feed_all(parser, [b"data: b\n\n"]) == [ev("b", last="3")]
    assert parser.last_event_id == "3"


def test_new_stream_keeps_retry_and_strips_a_bom_again() -> None:
    parser = EventStreamParser()
    parser.feed(b"\xef\xbb\xbfretry: 40\n\n")
    parser.new_stream()
    assert feed_all(parser, [b"\xef\xbb", b"\xbfdata: x\n\n"]) == [ev("x")]
    assert parser.retry == 40


def test_new_stream_forgets_a_pending_cr() -> None:
    parser = EventStreamParser()
    assert parser.feed(b"data: a\r") == []
    parser.new_stream()
    # The LF now starts a new stream: a blank line with nothing to dispatch.
    assert feed_all(parser, [b"\ndata: b\n\n"]) == [ev("b")]


def test_new_stream_forgets_a_partial_character() -> None:
    parser = EventStreamParser()
    parser.feed(b"data: \xe2\x82")
    parser.new_stream()
    assert feed_all(parser, [b"data: \xac\n\n"]) == [ev("\ufffd")]


def test_initial_last_event_id() -> None:
    parser = EventStreamParser(last_event_id="41")
    assert feed_all(parser, [b"data: a\n\nid: 42\ndata: b\n\n"]) == [
        ev("a", last="41"),
        ev("b", id="42"),
    ]


def test_empty_chunks_change_nothing() -> None:
    parser = EventStreamParser()
    assert feed_all(parser, [b"", b"data: a\r", b"", b"\n", b"", b"\n", b""]) == [ev("a")]


# -- limits -----------------------------------------------------------------------------------


def test_line_longer_than_the_limit_raises_before_it_ends() -> None:
    for chunks in chunkings(b"data: " + b"x" * 30):
        parser = EventStreamParser(max_event_size=16)
        with pytest.raises(SSEParsingError, match="max_event_size"):
            feed_all(parser, chunks)


def test_comment_longer_than_the_limit_raises() -> None:
    parser = EventStreamParser(max_event_size=16)
    with pytest.raises(SSEParsingError):
        parser.feed(b": " + b"x" * 20 + b"\n")


def test_data_longer_than_the_limit_raises() -> None:
    for chunks in chunkings(b"data: 12345678\ndata: 12345678\n"):
        parser = EventStreamParser(max_event_size=16)
        with pytest.raises(SSEParsingError, match="data"):
            feed_all(parser, chunks)


def test_data_exactly_at_the_limit_is_accepted() -> None:
    check("data: 12345678\ndata: 1234567\n\n", [ev("12345678\n1234567")], max_event_size=16)
    check("data: 1234567890\n\n", [ev("1234567890")], max_event_size=16)


def test_limit_counts_characters_not_bytes() -> None:
    check("data: €€€€€€€€€€\n\n", [ev("€" * 10)], max_event_size=16)


def test_many_small_events_never_hit_the_limit() -> None:
    parser = EventStreamParser(max_event_size=16)
    events = parser.feed(b"data: 1234567890\n\n" * 1000)
    assert len(events) == 1000


def test_default_limit_and_errors_family() -> None:
    assert DEFAULT_MAX_EVENT_SIZE == 1024 * 1024
    assert EventStreamParser().max_event_size == DEFAULT_MAX_EVENT_SIZE
    assert issubclass(SSEParsingError, SSEError)
    assert issubclass(SSEError, AiosonicError)


@pytest.mark.parametrize("bad", [0, -1])
def test_limit_must_be_positive(bad: int) -> None:
    with pytest.raises(ValueError):
        EventStreamParser(max_event_size=bad)


@pytest.mark.parametrize("bad", ["1", 1.5, True, None])
def test_limit_must_be_an_int(bad: Any) -> None:
    with pytest.raises(TypeError):
        EventStreamParser(max_event_size=bad)


# -- the event object -------------------------------------------------------------------------


def test_event_is_a_typed_mapping() -> None:
    event = SSEEvent('{"a": [1, 2]}', "update", "7", 100)
    assert event.data == event["data"] == '{"a": [1, 2]}'
    assert event.event == event["event"] == "update"
    assert event.id == event["id"] == "7"
    assert event.retry == event["retry"] == 100
    assert list(event) == ["data", "event", "id", "retry"]
    assert len(event) == 4
    assert event.last_event_id == "" and "last_event_id" not in event
    assert "data" in event and "nope" not in event
    assert event.get("nope") is None
    assert dict(event) == {"data": '{"a": [1, 2]}', "event": "update", "id": "7", "retry": 100}
    assert event == dict(event)
    assert event == SSEEvent('{"a": [1, 2]}', "update", "7", 100)
    assert event != SSEEvent("other", "update", "7", 100)
    with pytest.raises(KeyError):
        event["nope"]
    assert event.json() == {"a": [1, 2]}
    assert event.json(lambda text: text.upper()) == '{"A": [1, 2]}'
    assert "update" in repr(event)


def test_event_defaults_and_immutability() -> None:
    event = SSEEvent("x")
    assert dict(event) == {"data": "x", "event": "message", "id": None, "retry": None}
    assert event.last_event_id == ""
    with pytest.raises(dataclasses.FrozenInstanceError):
        event.data = "y"  # type: ignore[misc]
    with pytest.raises(json.JSONDecodeError):
        event.json()


# -- any stream, any chunking -----------------------------------------------------------------

_EOL = re.compile(r"\r\n|\r|\n")


def reference(data: bytes) -> tuple[list[dict[str, Any]], str, int | None]:
    """The standard's algorithm written the obvious way, for a whole stream at once."""
    text = data.decode("utf-8", "replace")
    if text.startswith("\ufeff"):
        text = text[1:]
    lines = _EOL.split(text)[:-1]  # the last piece has no line end: discarded
    events: list[dict[str, Any]] = []
    data_buf, type_buf, id_buf, last_id = "", "", "", ""
    block_id: str | None = None
    retry: int | None = None
    event_retry: int | None = None
    for line in lines:
        if line == "":
            last_id = id_buf
            if data_buf:
                events.append(
                    ev(data_buf[:-1], type_buf or "message", block_id, event_retry, last_id)
                )
            data_buf, type_buf, block_id, event_retry = "", "", None, None
            continue
        if line.startswith(":"):
            continue
        name, colon, value = line.partition(":")
        if colon and value.startswith(" "):
            value = value[1:]
        if name == "data":
            data_buf += value + "\n"
        elif name == "event":
            type_buf = value
        elif name == "id" and "\0" not in value:
            id_buf = block_id = value
        elif name == "retry" and value and all("0" <= c <= "9" for c in value):
            retry = event_retry = int(value)
    return events, last_id, retry


_PIECES = st.sampled_from(
    [
        "data", "data:", "data: ", "id", "id:", "id: ", "event:", "event: ", "retry:",
        "retry: ", "1", "42", "x", " ", ":", "é", "€", "😀", "\x00", "\ufeff", "\r", "\n",
        "\r\n", "\n\n", "\r\r",
    ]
)


@settings(max_examples=300, deadline=None)
@given(
    pieces=st.lists(_PIECES, max_size=40),
    bom=st.booleans(),
    cuts=st.lists(st.integers(min_value=0, max_value=400), max_size=12),
)
def test_any_chunking_matches_the_reference(pieces: list[str], bom: bool, cuts: list[int]) -> None:
    data = ("\ufeff" if bom else "").encode() + "".join(pieces).encode("utf-8")
    points = sorted({min(cut, len(data)) for cut in cuts})
    chunks = [data[a:b] for a, b in zip([0, *points], [*points, len(data)], strict=True)]
    expected, last_id, retry = reference(data)
    parser = EventStreamParser()
    assert feed_all(parser, chunks) == expected
    assert parser.last_event_id == last_id
    assert parser.retry == retry
    one_byte = EventStreamParser()
    assert feed_all(one_byte, [data[i : i + 1] for i in range(len(data))]) == expected
