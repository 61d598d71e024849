"""Our HPACK codec against RFC 7541: its examples, every rejection, both caches, and the
hpack library as a cross-check in both directions."""

from __future__ import annotations

import hpack
import pytest
from hpack.huffman_constants import REQUEST_CODES, REQUEST_CODES_LENGTH
from hpack.table import HeaderTable
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from aiosonic import _hpack, _huffman
from aiosonic._hpack import (
    _STATIC,
    Decoder,
    Encoder,
    HeaderListTooLarge,
    HPACKError,
    _decode_integer,
    _encode_integer,
)

Headers = list[tuple[bytes, bytes]]

PROPERTIES = settings(
    max_examples=200,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


def table(decoder: Decoder) -> tuple[list[tuple[bytes, bytes]], int]:
    """The decoder's dynamic table, newest first (RFC index order), and its size."""
    return list(reversed(decoder._entries)), decoder._size


def encoder_table(encoder: Encoder) -> tuple[list[tuple[bytes, bytes]], int]:
    live = encoder._entries[encoder._oldest :]
    return [(name, value) for name, value, _ in reversed(live)], encoder._size


# -- the Huffman code --------------------------------------------------------------------------


def test_huffman_codes_are_those_of_appendix_b() -> None:
    assert len(_huffman.CODES) == 257
    # A few rows of RFC 7541 Appendix B, as written there.
    assert (_huffman.CODES[0], _huffman.CODE_LENGTHS[0]) == (0x1FF8, 13)
    assert (_huffman.CODES[ord(" ")], _huffman.CODE_LENGTHS[ord(" ")]) == (0x14, 6)
    assert (_huffman.CODES[ord("0")], _huffman.CODE_LENGTHS[ord("0")]) == (0x0, 5)
    assert (_huffman.CODES[ord("a")], _huffman.CODE_LENGTHS[ord("a")]) == (0x3, 5)
    assert (_huffman.CODES[ord("{")], _huffman.CODE_LENGTHS[ord("{")]) == (0x7FFE, 15)
    assert (_huffman.CODES[255], _huffman.CODE_LENGTHS[255]) == (0x3FFFFEE, 26)
    assert (_huffman.CODES[256], _huffman.CODE_LENGTHS[256]) == (0x3FFFFFFF, 30)
    # And all of them, against the hpack library's copy of the table.
    assert list(_huffman.CODES) == list(REQUEST_CODES)
    assert list(_huffman.CODE_LENGTHS) == list(REQUEST_CODES_LENGTH)


def huffman_bits(data: bytes) -> str:
    return "".join(format(_huffman.CODES[b], f"0{_huffman.CODE_LENGTHS[b]}b") for b in data)


def pack(bits: str) -> bytes:
    assert len(bits) % 8 == 0
    return int(bits, 2).to_bytes(len(bits) // 8, "big") if bits else b""


@PROPERTIES
@given(st.binary(max_size=300))
def test_huffman_round_trip(data: bytes) -> None:
    encoded = _huffman.encode(data)
    bits = huffman_bits(data)
    expected = pack(bits + "1" * (-len(bits) % 8))
    if len(expected) < len(data):
        assert encoded == expected
    else:
        assert encoded is None  # not shorter: the caller sends the raw string
    assert _huffman.decode(expected) == data


@PROPERTIES
@given(st.binary(max_size=40), st.integers(0, 40))
def test_huffman_accepts_padding_of_at_most_seven_ones(data: bytes, ones: int) -> None:
    bits = huffman_bits(data) + "1" * ones
    if len(bits) % 8:
        return  # only whole octets are strings
    valid = ones <= 7
    assert _huffman.decode(pack(bits)) == (data if valid else None)


@pytest.mark.parametrize(
    "bits",
    [
        "00011" + "000",  # 'a' padded with zeros
        "00011" + "101",  # 'a' padded with a zero among the ones
        "1" * 8,  # padding alone, eight bits long
        "00011" + "1" * 11,  # 'a' then eleven ones
        "1" * 30 + "11",  # EOS, then padding
        "00011" + "1" * 30 + "1" * 5,  # 'a', EOS, padding
        "1" * 30 + "00011" + "1" * 5,  # EOS, then 'a'
    ],
)
def test_huffman_rejects_bad_padding_and_eos(bits: str) -> None:
    assert _huffman.decode(pack(bits)) is None


def test_huffman_empty_string() -> None:
    assert _huffman.decode(b"") == b""
    assert _huffman.encode(b"") is None


# -- integers (RFC 7541 5.1, C.1) --------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "prefix", "encoded"),
    [(10, 5, b"\x0a"), (1337, 5, b"\x1f\x9a\x0a"), (42, 8, b"\x2a"), (31, 5, b"\x1f\x00")],
)
def test_integer_examples(value: int, prefix: int, encoded: bytes) -> None:
    out = bytearray()
    _encode_integer(out, 0, value, (1 << prefix) - 1)
    assert bytes(out) == encoded
    prefix_max = (1 << prefix) - 1
    if encoded[0] & prefix_max == prefix_max:
        assert _decode_integer(encoded, 1, len(encoded), prefix_max) == (value, len(encoded))


@given(st.integers(0, 2**32 - 1), st.integers(1, 8))
@PROPERTIES
def test_integer_round_trip(value: int, prefix: int) -> None:
    prefix_max = (1 << prefix) - 1
    out = bytearray()
    _encode_integer(out, 0, value, prefix_max)
    data = bytes(out)
    if value < prefix_max:
        assert data == bytes((value,))
    else:
        assert _decode_integer(data, 1, len(data), prefix_max) == (value, len(data))


@pytest.mark.parametrize(
    "continuation",
    [
        b"",  # the block ends right after an all-ones prefix
        b"\x80",  # ends after a continuation byte
        b"\x80\x80\x80\x80\x80\x00",  # six continuation bytes for a small number: overlong
        b"\xff\xff\xff\xff\x0f",  # 2**32 - 1 + 31: above the cap
        b"\xff\xff\xff\xff\xff\x7f",  # far beyond it
    ],
)
def test_integer_rejections(continuation: bytes) -> None:
    data = b"\x1f" + continuation
    with pytest.raises(HPACKError):
        _decode_integer(data, 1, len(data), 0x1F)
    # And through a block, as an index of an indexed field.
    with pytest.raises(HPACKError):
        Decoder(65536).decode(b"\xff" + continuation)


def test_integer_at_the_cap() -> None:
    data = b"\x1f\xe0\xff\xff\xff\x0f"  # 31 + (2**32 - 32) = 2**32 - 1
    assert _decode_integer(data, 1, len(data), 0x1F) == (2**32 - 1, len(data))


# -- RFC 7541 Appendix C -----------------------------------------------------------------------

C2 = [
    # C.2.1 literal with indexing, C.2.2 without indexing, C.2.3 never indexed, C.2.4 indexed
    (
        "400a637573746f6d2d6b65790d637573746f6d2d686561646572",
        [(b"custom-key", b"custom-header")],
        [(b"custom-key", b"custom-header")],
        55,
    ),
    ("040c2f73616d706c652f70617468", [(b":path", b"/sample/path")], [], 0),
    ("100870617373776f726406736563726574", [(b"password", b"secret")], [], 0),
    ("82", [(b":method", b"GET")], [], 0),
]


@pytest.mark.parametrize(("block", "headers", "entries", "size"), C2)
def test_c2_field_representations(
    block: str, headers: Headers, entries: Headers, size: int
) -> None:
    decoder = Decoder(65536)
    assert decoder.decode(bytes.fromhex(block)) == headers
    assert table(decoder) == (entries, size)


AUTHORITY = (b":authority", b"www.example.com")
NO_CACHE = (b"cache-control", b"no-cache")
CUSTOM = (b"custom-key", b"custom-value")
GET_HTTP = [(b":method", b"GET"), (b":scheme", b"http"), (b":path", b"/"), AUTHORITY]
REQUESTS: list[tuple[Headers, Headers, int]] = [
    (GET_HTTP, [AUTHORITY], 57),
    ([*GET_HTTP, NO_CACHE], [NO_CACHE, AUTHORITY], 110),
    (
        [(b":method", b"GET"), (b":scheme", b"https"), (b":path", b"/index.html"), AUTHORITY,
         CUSTOM],
        [CUSTOM, NO_CACHE, AUTHORITY],
        164,
    ),
]  # fmt: skip
C3 = [
    "828684410f7777772e6578616d706c652e636f6d",
    "828684be58086e6f2d6361636865",
    "828785bf400a637573746f6d2d6b65790c637573746f6d2d76616c7565",
]
C4 = [
    "828684418cf1e3c2e5f23a6ba0ab90f4ff",
    "828684be5886a8eb10649cbf",
    "828785bf408825a849e95ba97d7f8925a849e95bb8e8b4bf",
]


@pytest.mark.parametrize("blocks", [C3, C4], ids=["C.3", "C.4"])
def test_request_sequences(blocks: list[str]) -> None:
    decoder = Decoder(65536)
    for block, (headers, entries, size) in zip(blocks, REQUESTS, strict=True):
        assert decoder.decode(bytes.fromhex(block)) == headers
        assert table(decoder) == (entries, size)


def test_encoder_reproduces_c4() -> None:
    # Our policy (Huffman when shorter, incremental indexing) is the one C.4 shows.
    encoder = Encoder()
    for block, (headers, entries, size) in zip(C4, REQUESTS, strict=True):
        assert encoder.encode(headers).hex() == block
        assert encoder_table(encoder) == (entries, size)


PRIVATE = (b"cache-control", b"private")
DATE_21 = (b"date", b"Mon, 21 Oct 2013 20:13:21 GMT")
DATE_22 = (b"date", b"Mon, 21 Oct 2013 20:13:22 GMT")
LOCATION = (b"location", b"https://www.example.com")
GZIP = (b"content-encoding", b"gzip")
COOKIE = (b"set-cookie", b"foo=ASDJKHQKBZXOQWEOPIUAXQWEOIU; max-age=3600; version=1")
RESPONSES: list[tuple[Headers, Headers, int]] = [
    (
        [(b":status", b"302"), PRIVATE, DATE_21, LOCATION],
        [LOCATION, DATE_21, PRIVATE, (b":status", b"302")],
        222,
    ),
    (
        [(b":status", b"307"), PRIVATE, DATE_21, LOCATION],
        [(b":status", b"307"), LOCATION, DATE_21, PRIVATE],
        222,
    ),
    (
        [(b":status", b"200"), PRIVATE, DATE_22, LOCATION, GZIP, COOKIE],
        [COOKIE, GZIP, DATE_22],
        215,
    ),
]
C5 = [
    "4803333032580770726976617465611d4d6f6e2c203231204f637420323031332032303a31333a323120474d54"
    "6e1768747470733a2f2f7777772e6578616d706c652e636f6d",
    "4803333037c1c0bf",
    "88c1611d4d6f6e2c203231204f637420323031332032303a31333a323220474d54c05a04677a69707738666f6f"
    "3d4153444a4b48514b425a584f5157454f50495541585157454f49553b206d61782d6167653d333630303b2076"
    "657273696f6e3d31",
]
C6 = [
    "488264025885aec3771a4b6196d07abe941054d444a8200595040b8166e082a62d1bff6e919d29ad171863c78f"
    "0b97c8e9ae82ae43d3",
    "4883640effc1c0bf",
    "88c16196d07abe941054d444a8200595040b8166e084a62d1bffc05a839bd9ab77ad94e7821dd7f2e6c7b335df"
    "dfcd5b3960d5af27087f3672c1ab270fb5291f9587316065c003ed4ee5b1063d5007",
]


@pytest.mark.parametrize("blocks", [C5, C6], ids=["C.5", "C.6"])
def test_response_sequences_with_evictions(blocks: list[str]) -> None:
    # These examples run with a 256-byte table, so entries are evicted along the way.
    decoder = Decoder(65536, max_table_size=256)
    for block, (headers, entries, size) in zip(blocks, RESPONSES, strict=True):
        assert decoder.decode(bytes.fromhex(block)) == headers
        assert table(decoder) == (entries, size)


def test_response_sequence_through_our_encoder() -> None:
    # Our encoder with a 256-byte table gives blocks that hpack decodes to the same lists.
    encoder = Encoder()
    encoder.set_max_table_size(256)
    reference = hpack.Decoder()
    for headers, _, _ in RESPONSES:
        block = encoder.encode(headers)
        assert [(bytes(n), bytes(v)) for n, v in reference.decode(block, raw=True)] == headers
    # set-cookie is never indexed, so the table lacks it (RFC 7541 7.1.3).
    assert all(name != b"set-cookie" for name, _ in encoder_table(encoder)[0])


def test_static_table_is_appendix_a() -> None:
    assert _STATIC[1:] == [(bytes(n), bytes(v)) for n, v in HeaderTable.STATIC_TABLE]


# -- rejections -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "block",
    [
        b"\x80",  # index 0
        b"\xbe",  # index 62, the table being empty
        b"\xff\x80\x01",  # index 255
        b"\x7e\x01a",  # incremental indexing, name index 62
        b"\x0f\x2f\x01a",  # without indexing, name index 62
        b"\x1f\x2f\x01a",  # never indexed, name index 62
        b"\x40",  # a literal name missing
        b"\x40\x01a",  # the value missing
        b"\x04",  # a static name, the value missing
        b"\x40\x05ab",  # a name shorter than declared
        b"\x04\x7f\xff\xff\xff\x0f",  # a value of 4 GB in a six-byte block
        b"\x04\x85\x8c\xf1\xe3",  # a Huffman value shorter than declared
        b"\x04\x81\xff",  # Huffman padding eight bits long
        b"\x04\x81\x18",  # Huffman padding of zeros
        b"\x04\x84\xff\xff\xff\xff",  # Huffman EOS
        b"\x3f\xe2\x1f",  # a size update to 4097, above our 4096
        b"\x82\x20",  # a size update after a field
        b"\x20\x82\x3f\x00",  # a size update after a field, though one came first
    ],
)
def test_malformed_blocks_are_rejected(block: bytes) -> None:
    with pytest.raises(HPACKError):
        Decoder(65536).decode(block)


def test_size_updates_at_the_start() -> None:
    decoder = Decoder(65536)
    decoder.decode(b"\x40\x01a\x01b")  # insert a: b
    assert table(decoder) == ([(b"a", b"b")], 34)
    # Two updates (the smallest, then the final one) empty the table and set the limit.
    assert decoder.decode(b"\x20\x3f\xe1\x1f\x82") == [(b":method", b"GET")]
    assert table(decoder) == ([], 0)
    assert decoder._limit == 4096
    # An update to exactly the limit we advertised is accepted.
    assert decoder.decode(b"\x3f\xe1\x1f") == []


def test_lowered_limit_requires_an_update() -> None:
    decoder = Decoder(65536)
    decoder.set_max_table_size(100)
    with pytest.raises(HPACKError):
        decoder.decode(b"\x82")
    decoder = Decoder(65536)
    decoder.set_max_table_size(100)
    with pytest.raises(HPACKError):
        decoder.decode(b"\x3f\x46")  # 101
    decoder = Decoder(65536)
    decoder.set_max_table_size(100)
    assert decoder.decode(b"\x3f\x45\x82") == [(b":method", b"GET")]  # 100
    assert decoder.decode(b"\x82") == [(b":method", b"GET")]


def test_entry_larger_than_the_table_empties_it() -> None:
    decoder = Decoder(65536, max_table_size=100)
    decoder.decode(b"\x40\x01a\x01b")
    assert table(decoder)[1] == 34
    block = b"\x40\x01c\x7f\x21" + b"x" * 160  # 1 + 160 + 32 > 100
    assert decoder.decode(block) == [(b"c", b"x" * 160)]
    assert table(decoder) == ([], 0)


def test_eviction_order() -> None:
    decoder = Decoder(65536, max_table_size=100)
    decoder.decode(b"\x40\x01a\x01b\x40\x01c\x01d")  # 34 + 34
    decoder.decode(b"\x40\x01e\x01f")  # a: b goes
    assert table(decoder) == ([(b"e", b"f"), (b"c", b"d")], 68)
    assert decoder.decode(b"\xbe\xbf") == [(b"e", b"f"), (b"c", b"d")]
    with pytest.raises(HPACKError):
        decoder.decode(b"\xc0")


def test_header_list_too_large() -> None:
    field = b"\x04\x05abcde"  # :path: abcde, 5 + 5 + 32 = 42 bytes
    assert len(Decoder(84).decode(field * 2)) == 2
    with pytest.raises(HeaderListTooLarge):
        Decoder(83).decode(field * 2)


def test_header_list_too_large_is_raised_early() -> None:
    # A bomb: one 4000-byte entry, then references to it. The limit trips at the fourth
    # reference, before the decoder reaches the malformed index 0 at the end.
    decoder = Decoder(16 * 1024)
    insert = bytearray(b"\x40\x01a")
    _encode_integer(insert, 0, 3968, 0x7F)
    decoder.decode(bytes(insert) + b"v" * 3968)
    assert table(decoder)[1] == 4001
    with pytest.raises(HeaderListTooLarge):
        decoder.decode(b"\xbe" * 10 + b"\x80")


@PROPERTIES
@given(st.binary(max_size=200), st.booleans())
def test_garbage_raises_only_hpack_errors(block: bytes, with_table: bool) -> None:
    decoder = Decoder(4096, max_table_size=256)
    if with_table:
        decoder.decode(b"\x40\x01a\x01b\x41\x03abc")
    try:
        headers = decoder.decode(block)
    except HPACKError:
        return
    assert all(type(name) is bytes and type(value) is bytes for name, value in headers)


def test_memoryview_and_bytearray_blocks() -> None:
    block = bytes.fromhex(C4[0])
    data = b"xx" + block + b"yy"
    assert Decoder(65536).decode(memoryview(data)[2:-2]) == REQUESTS[0][0]
    assert Decoder(65536).decode(bytearray(block)) == REQUESTS[0][0]


# -- the encoder's policy --------------------------------------------------------------------


def test_static_matches_are_one_byte() -> None:
    assert Encoder().encode([(b":method", b"GET"), (b":path", b"/"), (b":status", b"200")]) == (
        b"\x82\x84\x88"
    )


@pytest.mark.parametrize(
    ("field", "first"),
    [
        ((b"authorization", b"Bearer abcdefghijklmnopqrstuvwxyz0123456789"), 0x10),
        ((b"proxy-authorization", b"Basic dXNlcjpwYXNz"), 0x10),
        ((b"set-cookie", b"id=a3fWa; Max-Age=2592000"), 0x10),
        ((b"cookie", b"id=a3fWa"), 0x10),  # short: guessable
        ((b"cookie", b"session=0123456789abcdef0123456789abcdef"), 0x40),
        ((b"x-big", b"v" * 2100), 0x00),  # more than half the table
        ((b"x-small", b"v"), 0x40),
    ],
)
def test_representation_policy(field: tuple[bytes, bytes], first: int) -> None:
    encoder = Encoder()
    block = encoder.encode([field])
    assert block[0] & (0xC0 if first == 0x40 else 0xF0) == first
    indexed = first == 0x40
    assert encoder_table(encoder)[0] == ([field] if indexed else [])
    assert Decoder(65536).decode(block) == [field]


def test_huffman_only_when_shorter() -> None:
    binary = bytes(range(128, 148))  # long codes: Huffman would be longer
    block = Encoder().encode([(b"x-bin", binary)])
    assert block.endswith(bytes((len(binary),)) + binary)  # the value raw
    text = Encoder().encode([(b"x-text", b"aaaaaaaa")])
    assert text[1] & 0x80  # the name, Huffman
    assert Decoder(65536).decode(text) == [(b"x-text", b"aaaaaaaa")]


def test_size_changes_between_blocks() -> None:
    encoder = Encoder()
    reference = hpack.Decoder()
    headers = [(b"x-a", b"1"), (b"x-b", b"2")]
    encoder.encode(headers)
    encoder.set_max_table_size(4096)  # no change: nothing to announce
    assert encoder.encode(headers) == b"\xbf\xbe"
    # Down to 0 and back to 2000 before the next block: announce the smallest, then the
    # final size (RFC 7541 4.2); the entries are gone.
    encoder.set_max_table_size(0)
    encoder.set_max_table_size(2000)
    block = encoder.encode(headers)
    final = bytearray()
    _encode_integer(final, 0x20, 2000, 0x1F)
    assert block.startswith(b"\x20" + bytes(final))
    assert encoder_table(encoder) == (headers[::-1], 72)
    reference.decode(b"\x40\x03x-a\x011\x40\x03x-b\x012")  # what the first block inserted
    assert [(bytes(n), bytes(v)) for n, v in reference.decode(block, raw=True)] == headers
    # One change down: only the final size.
    encoder.set_max_table_size(100)
    block = encoder.encode(headers)
    assert block.startswith(b"\x3f\x45")
    assert encoder_table(encoder)[1] <= 100
    # Twice up and down, ending where it was: the smallest, then the final.
    encoder.set_max_table_size(50)
    encoder.set_max_table_size(100)
    assert encoder.encode(headers).startswith(b"\x3f\x13\x3f\x45")


def test_we_use_at_most_4096_bytes_of_a_larger_table() -> None:
    encoder = Encoder()
    encoder.set_max_table_size(65536)
    assert encoder.encode([(b":method", b"GET")]) == b"\x82"  # nothing to announce
    encoder.set_max_table_size(1000)
    encoder.set_max_table_size(65536)
    assert encoder.encode([(b":method", b"GET")]) == b"\x3f\xc9\x07\x3f\xe1\x1f\x82"
    big = [(b"x-%d" % n, b"v" * 100) for n in range(60)]
    encoder.encode(big)
    assert encoder_table(encoder)[1] <= 4096


def test_zero_table_indexes_nothing() -> None:
    encoder = Encoder()
    encoder.set_max_table_size(0)
    block = encoder.encode([(b"x-a", b"1")])
    assert block[0] == 0x20  # the size update to 0
    assert block[1] & 0xF0 == 0x00
    assert encoder_table(encoder) == ([], 0)
    assert encoder.encode([(b"x-a", b"1")]) == block[1:]


def test_bad_table_sizes() -> None:
    with pytest.raises(ValueError):
        Encoder().set_max_table_size(-1)
    with pytest.raises(ValueError):
        Encoder().set_max_table_size(2**32)


# -- caches -----------------------------------------------------------------------------------


def test_encoder_cache_never_returns_stale_blocks() -> None:
    # A 110-byte table holds about three of these fields, so each list evicts the other's.
    encoder = Encoder()
    encoder.set_max_table_size(110)
    reference = hpack.Decoder()
    first = [(b"x-a", b"1"), (b"x-b", b"2")]
    second = [(b"x-c", b"3"), (b"x-d", b"4")]
    sequence = [first, first, first, second, second, first, first, second, first, first]
    seen: dict[tuple[tuple[bytes, bytes], ...], set[bytes]] = {}
    for headers in sequence:
        block = encoder.encode(headers)
        assert encoder.encode(tuple(headers)) == encoder.encode(headers)  # tuples hit too
        decoded = reference.decode(block, raw=True)
        assert [(bytes(n), bytes(v)) for n, v in decoded] == headers
        seen.setdefault(tuple(headers), set()).add(block)
        for _ in range(2):  # the same list again, cached now: the reference agrees
            again = encoder.encode(headers)
            assert [(bytes(n), bytes(v)) for n, v in reference.decode(again, raw=True)] == headers
    # The blocks for `first` did change along the way (literal, indexed at two positions).
    assert len(seen[tuple(first)]) > 1


def test_encoder_cache_hit_is_all_indexed() -> None:
    encoder = Encoder()
    headers = [(b":method", b"GET"), (b"x-a", b"1")]
    assert encoder.encode(headers) == b"\x82\x40\x03x-a\x011"
    assert encoder.encode(headers) == b"\x82\xbe"
    assert encoder._cache == {tuple(headers): b"\x82\xbe"}
    assert encoder.encode(headers) == b"\x82\xbe"
    encoder.encode([(b"x-b", b"2")])  # an insertion: the cache goes
    assert encoder._cache == {}
    assert encoder.encode(headers) == b"\x82\xbf"


def test_decoder_cache_hits_are_equal_and_independent() -> None:
    block = bytes.fromhex("040c2f73616d706c652f70617468") + b"\x82"
    decoder = Decoder(65536)
    first = decoder.decode(block)
    assert list(decoder._cache) == [block]
    first.append((b"mutated", b""))
    second = decoder.decode(memoryview(block))
    assert second == [(b":path", b"/sample/path"), (b":method", b"GET")]
    assert decoder.decode(block) == second


def test_decoder_cache_still_enforces_the_size_limit() -> None:
    block = b"\x04\x05abcde" * 2
    decoder = Decoder(84)
    decoder.decode(block)
    assert block in decoder._cache
    decoder.max_header_list_size = 83
    with pytest.raises(HeaderListTooLarge):
        decoder.decode(block)


def test_decoder_never_caches_table_work() -> None:
    decoder = Decoder(65536)
    inserting = b"\x40\x01a\x01b"
    decoder.decode(inserting)
    decoder.decode(inserting)
    assert table(decoder) == ([(b"a", b"b"), (b"a", b"b")], 68)
    assert decoder.decode(b"\xbe") == [(b"a", b"b")]
    assert decoder.decode(b"\x20") == []
    assert decoder._cache == {}
    with pytest.raises(HPACKError):
        decoder.decode(b"\xbe")  # the update emptied the table


def test_blocks_that_leave_an_empty_table_empty_are_cached_only_for_an_empty_table() -> None:
    decoder = Decoder(65536)
    assert decoder.decode(b"\x20") == []  # the peer's table is now of size 0 (as nginx does)
    inserting = b"\x40\x03x-a\x011"  # incremental indexing into a table of size 0
    assert decoder.decode(inserting) == [(b"x-a", b"1")]
    assert list(decoder._empty_cache) == [inserting] and decoder._cache == {}
    assert decoder.decode(inserting) == [(b"x-a", b"1")]
    assert table(decoder) == ([], 0)
    # A size update makes room again: the same bytes now insert, so no cached answer.
    assert decoder.decode(b"\x3f\xe1\x1f") == []  # size 4096
    assert decoder._empty_cache == {}
    assert decoder.decode(inserting) == [(b"x-a", b"1")]
    assert table(decoder) == ([(b"x-a", b"1")], 36)
    assert decoder.decode(b"\xbe") == [(b"x-a", b"1")]  # index 62: the entry is there


def test_the_empty_table_cache_is_not_used_while_the_table_holds_entries() -> None:
    decoder = Decoder(65536)
    assert decoder.decode(b"\x3f\x09") == []  # size 40
    oversized = b"\x40\x03x-b\x0a" + b"v" * 10  # 45 bytes: inserting it empties the table
    assert decoder.decode(oversized) == [(b"x-b", b"v" * 10)]
    assert list(decoder._empty_cache) == [oversized]
    assert decoder.decode(b"\x40\x03x-c\x011") == [(b"x-c", b"1")]  # 36 bytes: it stays
    assert table(decoder) == ([(b"x-c", b"1")], 36)
    assert decoder.decode(oversized) == [(b"x-b", b"v" * 10)]
    assert table(decoder) == ([], 0)  # decoded, not answered from the cache


def test_decoder_cache_respects_a_required_update() -> None:
    decoder = Decoder(65536)
    decoder.decode(b"\x82")
    decoder.set_max_table_size(0)
    with pytest.raises(HPACKError):
        decoder.decode(b"\x82")  # cached, but the peer owes us a size update first


def test_decoder_cache_is_bounded() -> None:
    decoder = Decoder(65536)
    for n in range(1000):
        decoder.decode(b"\x04" + bytes((len(b"%d" % n),)) + b"%d" % n)
        assert len(decoder._cache) <= 256
    decoder._cache.clear()
    long_block = b"\x04\x7f\x81\x10" + b"v" * 2176  # 2180 bytes: not worth keeping
    assert decoder.decode(long_block) == [(b":path", b"v" * 2176)]
    assert decoder._cache == {}


# -- cross-checks with the hpack library --------------------------------------------------------

NAMES = st.one_of(
    st.sampled_from(
        [b":method", b":path", b":authority", b"accept", b"cookie", b"set-cookie", b"date",
         b"authorization", b"content-type", b"x-trace", b"user-agent"]
    ),
    st.binary(min_size=1, max_size=20).map(lambda name: name.lower()),
)  # fmt: skip
VALUES = st.one_of(
    st.sampled_from([b"", b"GET", b"/", b"200", b"gzip, deflate", b"text/html", b"v1", b"v2"]),
    st.binary(max_size=60),
    st.binary(min_size=1000, max_size=3000),
)
HEADER_LISTS = st.lists(st.lists(st.tuples(NAMES, VALUES), max_size=8), min_size=1, max_size=12)
SIZES = st.lists(st.sampled_from([None, None, None, 0, 64, 256, 4096, 10000]), min_size=12)


@PROPERTIES
@given(HEADER_LISTS, SIZES)
def test_our_blocks_decode_with_hpack(lists: list[Headers], sizes: list[int | None]) -> None:
    encoder = Encoder()
    reference = hpack.Decoder(max_header_list_size=1 << 30)
    ours = Decoder(1 << 30, max_table_size=10000)
    for headers, size in zip(lists, sizes, strict=False):
        if size is not None:
            encoder.set_max_table_size(size)
            reference.max_allowed_table_size = max(size, 4096)
        for _ in range(2):  # the second time through the cache (or all indexed)
            block = encoder.encode(headers)
            decoded = reference.decode(block, raw=True)
            assert [(bytes(n), bytes(v)) for n, v in decoded] == headers
            assert ours.decode(block) == headers


@PROPERTIES
@given(HEADER_LISTS, SIZES, st.booleans())
def test_hpack_blocks_decode_with_ours(
    lists: list[Headers], sizes: list[int | None], huffman: bool
) -> None:
    reference = hpack.Encoder()
    decoder = Decoder(1 << 30, max_table_size=10000)
    for headers, size in zip(lists, sizes, strict=False):
        if size is not None:
            reference.header_table_size = size
            decoder.set_max_table_size(max(size, 4096))
        block = reference.encode(headers, huffman=huffman)
        assert decoder.decode(block) == headers
        assert decoder.decode(reference.encode(headers, huffman=huffman)) == headers


def test_huffman_strings_memo() -> None:
    seen = _hpack._HUFFMAN_SEEN
    seen.clear()
    block = bytes.fromhex(C4[0])
    assert Decoder(65536).decode(block) == REQUESTS[0][0]
    huffman = bytes.fromhex("f1e3c2e5f23a6ba0ab90f4ff")  # www.example.com
    assert seen == {huffman: b"www.example.com"}
    assert Decoder(65536).decode(block) == REQUESTS[0][0]  # from the memo, in a new decoder
    with pytest.raises(HPACKError):
        Decoder(65536).decode(b"\x04\x81\xff")  # invalid strings are never remembered
    assert len(seen) == 1
    decoder = Decoder(1 << 30)
    for n in range(3000):
        value = b"%d" % (n * 7919) * 3  # digits: five bits each, so Huffman is shorter
        encoded = _huffman.encode(value)
        assert encoded is not None
        field = b"\x04" + bytes((0x80 | len(encoded),)) + encoded
        assert decoder.decode(field) == [(b":path", value)]
        assert len(seen) <= 1024
