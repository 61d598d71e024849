"""HPACK (RFC 7541): header blocks to header lists and back, for the HTTP/2 connection core.

Owns: the integer and string representations, the static table, both dynamic tables (ours
in `Encoder`, the peer's in `Decoder`) with their size accounting and eviction, the choice of
representation for each field we send, and caches of work that cannot differ:

- `Encoder`: the bytes of a header list, for as long as our dynamic table does not change.
  Any insertion, eviction or size change clears the whole cache. The first time a list is
  sent it inserts entries (not cacheable); the second time it is all indexed references,
  which change nothing, and from then on it is a dictionary lookup.
- `Decoder`: the headers of a block that touched no dynamic table (no insertion, no
  reference into it, no size update), keyed by the block's bytes. Such a block decodes the
  same whatever the table holds, which is how many servers (nginx among them) answer.
  And, in a second cache consulted only while the table is empty, blocks that found it empty
  and left it empty without a size update: what a peer's entries do to a table of size 0
  (nginx keeps indexing after it was asked for a table size of 0) or to one they overflow.
- the decoded form of short Huffman strings, shared by all decoders: when a date or a length
  makes a response block new, its other values usually are not.

Never does: I/O, frames, CONTINUATION reassembly, or HTTP semantics (pseudo-header order,
lowercase names, forbidden fields are the connection core's to check). Never raises anything
but `HPACKError` (and its subclass `HeaderListTooLarge`) on a malformed block; after one, the
decoder's table is undefined and the connection must end with COMPRESSION_ERROR.

This module is compiled by mypyc in the compiled build: plain classes, full annotations that
say what really flows, module-level Final ints in the loops.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

from aiosonic import _huffman

__all__ = ["Decoder", "Encoder", "HPACKError", "HeaderListTooLarge"]


class HPACKError(Exception):
    """A header block that does not follow RFC 7541 (a COMPRESSION_ERROR in HTTP/2)."""


class HeaderListTooLarge(HPACKError):
    """A decoded header list larger than the decoder's max_header_list_size."""


Header = tuple[bytes, bytes]

# RFC 7541 Appendix A; index 0 is never valid, so the list starts with a placeholder.
_STATIC: Final[list[Header]] = [
    (b"", b""),
    (b":authority", b""),
    (b":method", b"GET"),
    (b":method", b"POST"),
    (b":path", b"/"),
    (b":path", b"/index.html"),
    (b":scheme", b"http"),
    (b":scheme", b"https"),
    (b":status", b"200"),
    (b":status", b"204"),
    (b":status", b"206"),
    (b":status", b"304"),
    (b":status", b"400"),
    (b":status", b"404"),
    (b":status", b"500"),
    (b"accept-charset", b""),
    (b"accept-encoding", b"gzip, deflate"),
    (b"accept-language", b""),
    (b"accept-ranges", b""),
    (b"accept", b""),
    (b"access-control-allow-origin", b""),
    (b"age", b""),
    (b"allow", b""),
    (b"authorization", b""),
    (b"cache-control", b""),
    (b"content-disposition", b""),
    (b"content-encoding", b""),
    (b"content-language", b""),
    (b"content-length", b""),
    (b"content-location", b""),
    (b"content-range", b""),
    (b"content-type", b""),
    (b"cookie", b""),
    (b"date", b""),
    (b"etag", b""),
    (b"expect", b""),
    (b"expires", b""),
    (b"from", b""),
    (b"host", b""),
    (b"if-match", b""),
    (b"if-modified-since", b""),
    (b"if-none-match", b""),
    (b"if-range", b""),
    (b"if-unmodified-since", b""),
    (b"last-modified", b""),
    (b"link", b""),
    (b"location", b""),
    (b"max-forwards", b""),
    (b"proxy-authenticate", b""),
    (b"proxy-authorization", b""),
    (b"range", b""),
    (b"referer", b""),
    (b"refresh", b""),
    (b"retry-after", b""),
    (b"server", b""),
    (b"set-cookie", b""),
    (b"strict-transport-security", b""),
    (b"transfer-encoding", b""),
    (b"user-agent", b""),
    (b"vary", b""),
    (b"via", b""),
    (b"www-authenticate", b""),
]
_STATIC_COUNT: Final = 61
_FIRST_DYNAMIC: Final = 62

_STATIC_FIELD: Final[dict[Header, int]] = {}
_STATIC_NAME: Final[dict[bytes, int]] = {}
for _index in range(_STATIC_COUNT, 0, -1):  # downwards, so a name keeps its first index
    _STATIC_FIELD[_STATIC[_index]] = _index
    _STATIC_NAME[_STATIC[_index][0]] = _index

_ENTRY_OVERHEAD: Final = 32  # RFC 7541 4.1: an entry's size is name + value + 32
_DEFAULT_TABLE_SIZE: Final = 4096
# No integer we accept is above 2**32 - 1 (sizes and lengths bigger than that are attacks).
# Its continuation bytes carry 7 bits each, so five of them always suffice; more is overlong.
_MAX_INT: Final = (1 << 32) - 1
_MAX_CONTINUATION: Final = 5
# The most of the peer's table we use, however much it offers (nghttp2's default too): a
# client's header lists fit, and every connection's table costs memory and lookups.
_OWN_TABLE_LIMIT: Final = 4096
_CACHE_ENTRIES: Final = 256
# Blocks longer than this are rare and mostly unique; caching them would only hold memory.
_CACHE_BLOCK_LIMIT: Final = 2048

# Representations (RFC 7541 6): first-byte pattern and prefix mask.
_INDEXED: Final = 0x80
_INCREMENTAL: Final = 0x40
_SIZE_UPDATE: Final = 0x20
_NEVER_INDEXED: Final = 0x10
_WITHOUT_INDEXING: Final = 0x00
_HUFFMAN: Final = 0x80

# Fields never put in the table, so a compression oracle cannot confirm guesses of their
# values (RFC 7541 7.1.3). Short cookies are guessable the same way; long ones are not
# worth refusing the table.
_SENSITIVE: Final[frozenset[bytes]] = frozenset(
    (b"authorization", b"proxy-authorization", b"set-cookie")
)
_SHORT_COOKIE: Final = 20


def _encode_integer(out: bytearray, first: int, value: int, prefix_max: int) -> None:
    # `first` holds the representation's pattern bits; `prefix_max` is 2**N - 1.
    if value < prefix_max:
        out.append(first | value)
        return
    out.append(first | prefix_max)
    value -= prefix_max
    while value >= 0x80:
        out.append((value & 0x7F) | 0x80)
        value >>= 7
    out.append(value)


def _encode_string(out: bytearray, data: bytes) -> None:
    huffman = _huffman.encode(data)
    if huffman is not None:
        _encode_integer(out, _HUFFMAN, len(huffman), 0x7F)
        out += huffman
    else:
        _encode_integer(out, 0, len(data), 0x7F)
        out += data


class Encoder:
    """Our dynamic table and the encoding of the header lists we send."""

    def __init__(self) -> None:
        # The table, oldest first, as (name, value, sequence number). An entry's HPACK index
        # is 62 + (newest sequence - its sequence), so lookups store sequence numbers and
        # never need renumbering when entries come and go.
        self._entries: list[tuple[bytes, bytes, int]] = []
        self._oldest = 0  # position in _entries of the oldest live entry
        self._next_seq = 0
        self._size = 0
        self._max_size = _DEFAULT_TABLE_SIZE
        self._fields: dict[Header, int] = {}  # (name, value) -> newest sequence number
        self._names: dict[bytes, int] = {}  # name -> newest sequence number
        # The sizes the peer's decoder must be told about before the next block: the
        # smallest since the last block, and the last one (RFC 7541 4.2).
        self._update_pending = False
        self._update_smallest = 0
        self._announced = _DEFAULT_TABLE_SIZE  # the limit the peer's decoder has in force
        self._cache: dict[tuple[Header, ...], bytes] = {}

    def set_max_table_size(self, size: int) -> None:
        """The peer's SETTINGS_HEADER_TABLE_SIZE is now `size`: use up to it (at most 4096)
        from the next block, which starts by telling the peer (RFC 7541 4.2, 6.3)."""
        if size < 0 or size > _MAX_INT:
            raise ValueError(f"header table size out of range: {size}")
        size = min(size, _OWN_TABLE_LIMIT)
        if self._update_pending:
            self._update_smallest = min(self._update_smallest, size)
        else:
            self._update_pending = True
            self._update_smallest = size
        self._max_size = size
        self._evict(size)
        self._cache.clear()

    def encode(self, headers: Sequence[Header]) -> bytes:
        """The header block for `headers` (lowercase names, pseudo-headers first)."""
        key = headers if type(headers) is tuple else tuple(headers)
        if not self._update_pending:
            cached = self._cache.get(key)
            if cached is not None:
                return cached
        out = bytearray()
        if self._update_pending:
            self._update_pending = False
            if self._update_smallest < self._max_size:
                _encode_integer(out, _SIZE_UPDATE, self._update_smallest, 0x1F)
                _encode_integer(out, _SIZE_UPDATE, self._max_size, 0x1F)
            elif self._max_size != self._announced:
                _encode_integer(out, _SIZE_UPDATE, self._max_size, 0x1F)
            self._announced = self._max_size
        changed = bool(out)
        static_field = _STATIC_FIELD
        fields = self._fields
        for field in key:
            index = static_field.get(field)
            if index is not None:
                out.append(_INDEXED | index)  # every static index fits the 7-bit prefix
                continue
            seq = fields.get(field)
            if seq is not None:
                _encode_integer(out, _INDEXED, _FIRST_DYNAMIC + self._next_seq - 1 - seq, 0x7F)
                continue
            if self._encode_literal(out, field):
                changed = True
        data = bytes(out)
        if changed:
            self._cache.clear()  # earlier blocks' indexes have moved
        else:
            if len(self._cache) >= _CACHE_ENTRIES:
                self._cache.clear()
            self._cache[key] = data
        return data

    def _encode_literal(self, out: bytearray, field: Header) -> bool:
        # Returns whether the table changed (the field was inserted).
        name, value = field
        index = _STATIC_NAME.get(name)
        if index is None:
            seq = self._names.get(name)
            index = 0 if seq is None else _FIRST_DYNAMIC + self._next_seq - 1 - seq
        size = len(name) + len(value) + _ENTRY_OVERHEAD
        if name in _SENSITIVE or (name == b"cookie" and len(value) < _SHORT_COOKIE):
            _encode_integer(out, _NEVER_INDEXED, index, 0x0F)
            inserted = False
        elif size > self._max_size >> 1:
            # Would flush half the table or more for one field, likely never seen again.
            _encode_integer(out, _WITHOUT_INDEXING, index, 0x0F)
            inserted = False
        else:
            _encode_integer(out, _INCREMENTAL, index, 0x3F)
            inserted = True
        if index == 0:
            _encode_string(out, name)
        _encode_string(out, value)
        if inserted:
            self._insert(name, value, size)
        return inserted

    def _insert(self, name: bytes, value: bytes, size: int) -> None:
        # Only called with size <= max_size / 2, so the entry always fits after eviction.
        self._evict(self._max_size - size)
        seq = self._next_seq
        self._next_seq = seq + 1
        self._entries.append((name, value, seq))
        self._size += size
        self._fields[(name, value)] = seq
        self._names[name] = seq

    def _evict(self, limit: int) -> None:
        # Drop the oldest entries until the table holds at most `limit` bytes.
        entries = self._entries
        oldest = self._oldest
        while self._size > limit:
            name, value, seq = entries[oldest]
            oldest += 1
            self._size -= len(name) + len(value) + _ENTRY_OVERHEAD
            field = (name, value)
            if self._fields.get(field) == seq:
                del self._fields[field]
            if self._names.get(name) == seq:
                del self._names[name]
        if oldest > 64 and oldest * 2 > len(entries):
            del entries[:oldest]  # compact now and then rather than shifting on every pop
            oldest = 0
        self._oldest = oldest


def _decode_integer(data: bytes, pos: int, end: int, value: int) -> tuple[int, int]:
    # The continuation bytes of an integer whose prefix was all ones (`value` = 2**N - 1),
    # starting at data[pos]. Returns the value and the position after it.
    shift = 0
    for _ in range(_MAX_CONTINUATION):
        if pos >= end:
            raise HPACKError("header block ends inside an integer")
        byte = data[pos]
        pos += 1
        value += (byte & 0x7F) << shift
        if not byte & 0x80:
            if value > _MAX_INT:
                raise HPACKError("integer too large")
            return value, pos
        shift += 7
    raise HPACKError("integer with too many continuation bytes")


# Huffman strings decoded lately, shared by every decoder (decoding is a pure function).
# Responses repeat most of their values (server, content-type, etag, ...) even when a date
# or a length makes the block differ, and a lookup costs a twentieth of a decode. Bounded,
# and only short strings: the long ones are the unique ones (tokens, cookies).
_HUFFMAN_SEEN: Final[dict[bytes, bytes]] = {}
_HUFFMAN_SEEN_ENTRIES: Final = 1024
_HUFFMAN_SEEN_LENGTH: Final = 64


def _decode_string(data: bytes, pos: int, end: int) -> tuple[bytes, int]:
    if pos >= end:
        raise HPACKError("header block ends before a string")
    first = data[pos]
    length = first & 0x7F
    pos += 1
    if length == 0x7F:
        length, pos = _decode_integer(data, pos, end, length)
    stop = pos + length
    if stop > end:
        raise HPACKError("string runs past the end of the header block")
    raw = data[pos:stop]
    if not first & _HUFFMAN:
        return raw, stop
    decoded = _HUFFMAN_SEEN.get(raw)
    if decoded is not None:
        return decoded, stop
    decoded = _huffman.decode(raw)
    if decoded is None:
        raise HPACKError("invalid Huffman code, EOS or padding")
    if length <= _HUFFMAN_SEEN_LENGTH:
        if len(_HUFFMAN_SEEN) >= _HUFFMAN_SEEN_ENTRIES:
            _HUFFMAN_SEEN.clear()
        _HUFFMAN_SEEN[raw] = decoded
    return decoded, stop


class Decoder:
    """The peer's dynamic table and the decoding of the header blocks it sends."""

    def __init__(
        self, max_header_list_size: int, max_table_size: int = _DEFAULT_TABLE_SIZE
    ) -> None:
        self.max_header_list_size = max_header_list_size
        # What we advertised as SETTINGS_HEADER_TABLE_SIZE: no size update may exceed it.
        self.max_table_size = max_table_size
        # The size in force, set by the peer's updates. The peer's encoder starts at the
        # protocol's 4096 and must announce anything larger. Below 4096 it owes us an update
        # (RFC 7541 4.2), which we do not insist on: a peer that never indexes (nginx) may
        # never send it, and evicting at our limit catches a peer that relies on more.
        self._limit = min(max_table_size, _DEFAULT_TABLE_SIZE)
        self._entries: list[Header] = []  # newest last
        self._size = 0
        self._update_required = False
        self._cache: dict[bytes, tuple[list[Header], int]] = {}
        # Blocks that are a pure function of their bytes while the table is empty (and the
        # size in force does not change: a size update clears this).
        self._empty_cache: dict[bytes, tuple[list[Header], int]] = {}

    def set_max_table_size(self, size: int) -> None:
        """We now advertise `size` (our SETTINGS was acknowledged).

        When that is below the size in force, the peer's next block must start with a size
        update to at most `size` (RFC 7541 4.2).
        """
        self.max_table_size = size
        if size < self._limit:
            self._update_required = True

    def decode(self, block: bytes | bytearray | memoryview) -> list[Header]:
        """The header list in `block`, a complete header block."""
        data = block if type(block) is bytes else bytes(block)
        if not self._update_required:
            cached = self._cache.get(data)
            if cached is None and not self._entries:
                cached = self._empty_cache.get(data)
            if cached is not None:
                headers, size = cached
                if size > self.max_header_list_size:
                    raise HeaderListTooLarge(f"header list of {size} bytes")
                return list(headers)
        return self._decode(data)

    def _decode(self, data: bytes) -> list[Header]:
        headers: list[Header] = []
        total = 0
        limit = self.max_header_list_size
        static = _STATIC
        touched = False  # whether the block used the dynamic table (then it is not cached)
        resized = False
        was_empty = not self._entries
        pos = 0
        end = len(data)
        if self._update_required and (not end or data[0] & 0xE0 != _SIZE_UPDATE):
            raise HPACKError("header block does not start with the required size update")
        while pos < end:
            first = data[pos]
            pos += 1
            if first & _INDEXED:
                index = first & 0x7F
                if index == 0x7F:
                    index, pos = _decode_integer(data, pos, end, index)
                if index <= _STATIC_COUNT:
                    if index == 0:
                        raise HPACKError("index 0")
                    field = static[index]
                else:
                    touched = True
                    field = self._dynamic(index)
                name, value = field
            elif first & _INCREMENTAL:
                touched = True
                index = first & 0x3F
                if index == 0x3F:
                    index, pos = _decode_integer(data, pos, end, index)
                if index:
                    name = static[index][0] if index <= _STATIC_COUNT else self._dynamic(index)[0]
                else:
                    name, pos = _decode_string(data, pos, end)
                value, pos = _decode_string(data, pos, end)
                field = (name, value)
                self._insert(name, value)
            elif first & _SIZE_UPDATE:
                if headers:
                    raise HPACKError("dynamic table size update after a header field")
                touched = resized = True
                size = first & 0x1F
                if size == 0x1F:
                    size, pos = _decode_integer(data, pos, end, size)
                if size > self.max_table_size:
                    raise HPACKError("dynamic table size update above our limit")
                self._update_required = False
                self._limit = size
                self._evict(size)
                self._empty_cache.clear()
                continue
            else:
                # Without indexing (0000) or never indexed (0001): the same for a decoder
                # that forwards nothing.
                index = first & 0x0F
                if index == 0x0F:
                    index, pos = _decode_integer(data, pos, end, index)
                if index == 0:
                    name, pos = _decode_string(data, pos, end)
                elif index <= _STATIC_COUNT:
                    name = static[index][0]
                else:
                    touched = True
                    name = self._dynamic(index)[0]
                value, pos = _decode_string(data, pos, end)
                field = (name, value)
            total += len(name) + len(value) + _ENTRY_OVERHEAD
            if total > limit:
                raise HeaderListTooLarge(f"header list above {limit} bytes")
            headers.append(field)
        if end <= _CACHE_BLOCK_LIMIT:
            if not touched:
                cache = self._cache
            elif was_empty and not resized and not self._entries:
                cache = self._empty_cache
            else:
                return headers
            if len(cache) >= _CACHE_ENTRIES:
                cache.clear()
            cache[data] = (headers, total)
            return list(headers)
        return headers

    def _dynamic(self, index: int) -> Header:
        entries = self._entries
        offset = index - _FIRST_DYNAMIC
        if offset >= len(entries):
            raise HPACKError(f"index {index} beyond the dynamic table")
        return entries[len(entries) - 1 - offset]

    def _insert(self, name: bytes, value: bytes) -> None:
        size = len(name) + len(value) + _ENTRY_OVERHEAD
        if size > self._limit:
            # RFC 7541 4.4: an entry larger than the table empties it and is not added.
            self._entries.clear()
            self._size = 0
            return
        self._evict(self._limit - size)
        self._entries.append((name, value))
        self._size += size

    def _evict(self, limit: int) -> None:
        entries = self._entries
        drop = 0
        size = self._size
        while size > limit:
            name, value = entries[drop]
            size -= len(name) + len(value) + _ENTRY_OVERHEAD
            drop += 1
        if drop:
            del entries[:drop]
        self._size = size
