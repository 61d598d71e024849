"""HPACK with memory: skip re-encoding and re-decoding header blocks that cannot differ.

Pure-Python HPACK is most of the cost of a small HTTP/2 request. But a client sends the same
header list again and again, and many servers (nginx among them) answer with header blocks
that never touch the dynamic table. Such work is a pure function of its input:

- encoding a header list that inserts nothing into our dynamic table gives the same bytes
  for as long as that table does not change (any change invalidates every cached block);
- decoding a block while the peer's dynamic table is empty, and leaving it empty, gives the
  same headers whatever came before.

Only those cases are cached; everything else goes through hpack unchanged, with all its
checks (header list size limits included, since a cached block was checked when first seen).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import hpack

__all__ = ["CachingDecoder", "CachingEncoder"]

_MAX_ENTRIES = 256


def _table_state(table: Any) -> tuple[int, int, int]:
    entries = table.dynamic_entries
    return len(entries), id(entries[0]) if entries else 0, table.maxsize


class CachingEncoder(hpack.Encoder):
    """An hpack Encoder that reuses the encoding of a header list while it cannot change."""

    def __init__(self) -> None:
        super().__init__()
        self._cache: dict[tuple[Any, ...], bytes] = {}

    def encode(self, headers: Iterable[Any], huffman: bool = True) -> bytes:
        items = tuple(headers)
        if self.table_size_changes:
            # A table size update must lead the next block, and it changes the table.
            self._cache.clear()
            return super().encode(items, huffman)
        # The classes matter: a NeverIndexedHeaderTuple encodes differently from a tuple.
        key = (huffman, *((type(item), *item) for item in items))
        cached = self._cache.get(key)
        if cached is not None:
            return cached
        before = _table_state(self.header_table)
        data: bytes = super().encode(items, huffman)
        if _table_state(self.header_table) != before:
            self._cache.clear()  # indexes into the dynamic table have moved
        else:
            if len(self._cache) >= _MAX_ENTRIES:
                self._cache.clear()
            self._cache[key] = data
        return data


class CachingDecoder(hpack.Decoder):
    """An hpack Decoder that remembers blocks decoded without any dynamic table."""

    def __init__(self, max_header_list_size: int) -> None:
        super().__init__(max_header_list_size=max_header_list_size)
        self._cache: dict[tuple[bytes, bool, int], list[Any]] = {}

    def decode(self, data: bytes, raw: bool = False) -> list[Any]:
        table = self.header_table
        if table.dynamic_entries:
            return list(super().decode(data, raw))  # depends on the table: never cached
        key = (bytes(data), raw, table.maxsize)
        cached = self._cache.get(key)
        if cached is not None:
            return list(cached)
        headers = list(super().decode(data, raw))
        if not table.dynamic_entries and table.maxsize == key[2]:
            if len(self._cache) >= _MAX_ENTRIES:
                self._cache.clear()
            self._cache[key] = headers
            return list(headers)
        return headers
