"""The HPACK caches must be invisible: same bytes and same headers as plain hpack, always."""

from __future__ import annotations

import random

import hpack
import pytest

from aiosonic._hpack_cache import CachingDecoder, CachingEncoder

NAMES = [b":method", b":path", b"user-agent", b"accept", b"x-trace", b"cookie", b"date"]


def header_lists(seed: int, count: int = 400) -> list[list[tuple[bytes, bytes]]]:
    rng = random.Random(seed)
    lists = []
    for _ in range(count):
        size = rng.randint(1, 6)
        # Mostly repeated values (cache hits), sometimes new ones (table insertions).
        lists.append(
            [(rng.choice(NAMES), b"v%d" % rng.choice([0, 1, 2, rng.randint(3, 10**6)]))
             for _ in range(size)]
        )
    return lists


@pytest.mark.parametrize("seed", range(5))
def test_caching_encoder_emits_what_plain_hpack_emits(seed: int) -> None:
    plain, caching = hpack.Encoder(), CachingEncoder()
    decoder = hpack.Decoder()
    rng = random.Random(seed)
    for headers in header_lists(seed):
        if rng.random() < 0.02:  # a SETTINGS_HEADER_TABLE_SIZE change from the peer
            size = rng.choice([0, 256, 4096])
            plain.header_table_size = caching.header_table_size = size
        sensitive = rng.random() < 0.1
        if sensitive:
            headers = [hpack.NeverIndexedHeaderTuple(*h) for h in headers]
        expected = plain.encode(headers)
        assert caching.encode(iter(headers)) == expected
        assert [tuple(h) for h in decoder.decode(expected, raw=True)] == [
            tuple(h) for h in headers
        ]


@pytest.mark.parametrize("indexing", [True, False])
def test_caching_decoder_decodes_what_plain_hpack_decodes(indexing: bool) -> None:
    encoder = hpack.Encoder()
    plain, caching = hpack.Decoder(), CachingDecoder(65536)
    for headers in header_lists(7):
        if not indexing:
            # Like nginx: never touch the dynamic table.
            headers = [hpack.NeverIndexedHeaderTuple(*h) for h in headers]
        block = encoder.encode(headers)
        assert caching.decode(block, raw=True) == plain.decode(block, raw=True)


def test_cached_decode_results_are_independent_copies() -> None:
    encoder, decoder = hpack.Encoder(), CachingDecoder(65536)
    block = encoder.encode([hpack.NeverIndexedHeaderTuple(b"a", b"1")])
    first = decoder.decode(block)
    first.append(("mutated", "yes"))
    assert decoder.decode(block) == [("a", "1")]


def test_header_list_size_limit_still_applies() -> None:
    encoder = hpack.Encoder()
    block = encoder.encode([hpack.NeverIndexedHeaderTuple(b"big", b"x" * 2000)])
    with pytest.raises(hpack.OversizedHeaderListError):
        CachingDecoder(1000).decode(block)
