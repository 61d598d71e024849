"""br and zstd decoders without a network: every installed library, streamed in odd pieces,
bounded by the limit, strict about truncation and corruption, and absent libraries."""

from __future__ import annotations

import hashlib
import random
import subprocess
import sys
import tracemalloc
from types import SimpleNamespace
from typing import Any

import pytest
from support.encoding_samples import (
    BROTLI_LIBS,
    RAW,
    RLE,
    ZSTD_LIBS,
    br,
    br_bomb,
    encode,
    use_library,
    zstd,
    zstd_block,
    zstd_bomb,
    zstd_frame,
    zstd_skippable,
)

from aiosonic import _decode
from aiosonic._decode import BodyDecoder, make_decoder
from aiosonic.exceptions import DecompressionError

MIB = 1024 * 1024
TEXT = b"".join(b"%05d the quick brown fox jumps over the lazy dog\n" % i for i in range(4000))
BODY = TEXT + random.Random(7).randbytes(200_000) + bytes(300_000)


def _libs(names: list[str], what: str) -> list[Any]:
    return names or [pytest.param(None, marks=pytest.mark.skip(reason=f"no {what} library"))]


@pytest.fixture(params=_libs(BROTLI_LIBS, "brotli"))
def br_lib(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    use_library(monkeypatch, "br", request.param)
    return str(request.param)


@pytest.fixture(params=_libs(ZSTD_LIBS, "zstd"))
def zstd_lib(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    use_library(monkeypatch, "zstd", request.param)
    return str(request.param)


CODECS = [("br", name) for name in BROTLI_LIBS] + [("zstd", name) for name in ZSTD_LIBS]


@pytest.fixture(params=CODECS, ids=[f"{encoding}-{name}" for encoding, name in CODECS])
def codec(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """An encoding, decoded with one of the installed libraries for it."""
    encoding, name = request.param
    use_library(monkeypatch, encoding, name)
    return str(encoding)


def decoder(encoding: str, limit: int = 100 * MIB) -> BodyDecoder:
    made = make_decoder(encoding.encode(), limit)
    assert made is not None
    return made


def decode(encoding: str, data: bytes, piece: int, limit: int = 100 * MIB) -> bytes:
    """Feed ``data`` in ``piece``-byte slices, then flush, as a response streams."""
    dec = decoder(encoding, limit)
    out = [dec.feed(data[i : i + piece]) for i in range(0, len(data), piece)]
    return b"".join(out) + dec.flush()


# -- Accept-Encoding and absent libraries ---------------------------------------------------


def expected_accept_encoding() -> str:
    names = ["gzip", "deflate"]
    names += ["br"] if BROTLI_LIBS else []
    names += ["zstd"] if ZSTD_LIBS else []
    return ", ".join(names)


def test_accept_encoding_lists_installed_libraries() -> None:
    assert expected_accept_encoding() == _decode.ACCEPT_ENCODING
    assert _decode._accept_encoding() == _decode.ACCEPT_ENCODING


@pytest.mark.parametrize("missing", ["br", "zstd", "both"])
def test_accept_encoding_leaves_out_missing_libraries(
    monkeypatch: pytest.MonkeyPatch, missing: str
) -> None:
    for encoding in ("br", "zstd"):
        if missing in (encoding, "both"):
            use_library(monkeypatch, encoding, "aiosonic_test_not_installed")
    advertised = _decode._accept_encoding().split(", ")
    assert advertised[:2] == ["gzip", "deflate"]
    assert ("br" in advertised) == (missing == "zstd" and bool(BROTLI_LIBS))
    assert ("zstd" in advertised) == (missing == "br" and bool(ZSTD_LIBS))


@pytest.mark.parametrize(("encoding", "extra"), [("br", "brotli"), ("zstd", "zstd")])
def test_missing_library_is_a_clear_error(
    monkeypatch: pytest.MonkeyPatch, encoding: str, extra: str
) -> None:
    use_library(monkeypatch, encoding, "aiosonic_test_not_installed")
    with pytest.raises(DecompressionError, match=rf"needs .*aiosonic\[{extra}\]"):
        make_decoder(encoding.encode())
    with pytest.raises(DecompressionError, match=rf"needs .*aiosonic\[{extra}\]"):
        make_decoder(b"gzip, " + encoding.encode())


def test_unknown_encoding_is_still_unsupported() -> None:
    with pytest.raises(DecompressionError, match="unsupported content-encoding 'compress'"):
        make_decoder(b"compress")
    with pytest.raises(DecompressionError, match="unsupported content-encoding 'brotli'"):
        make_decoder(b"brotli")
    assert make_decoder(b"identity") is None


def test_import_aiosonic_does_not_import_the_libraries() -> None:
    script = (
        "import sys, aiosonic; from aiosonic._request import ACCEPT_ENCODING;"
        "print(ACCEPT_ENCODING);"
        "print(sorted(m for m in sys.modules if 'brotli' in m or 'zstd' in m))"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True, timeout=30
    )
    accept, modules = result.stdout.splitlines()
    assert accept == expected_accept_encoding()
    assert modules == "[]"


# -- round trips ----------------------------------------------------------------------------


@pytest.mark.parametrize("piece", [1, 1000, 65536, 10 * MIB])
def test_br_round_trip(br_lib: str, piece: int) -> None:
    data = BODY if piece > 1 else TEXT
    assert decode("br", br(data), piece) == data


@pytest.mark.parametrize("piece", [65536, 10 * MIB])
def test_output_of_many_steps_from_one_piece(codec: str, piece: int) -> None:
    # Each piece expands past the decoders' 1 MiB output step: nothing may be held back.
    data = TEXT * 40
    assert len(data) > 4 * MIB
    assert decode(codec, encode(codec, data), piece) == data


def zstd_samples() -> dict[str, tuple[bytes, bytes]]:
    """name: (encoded, decoded)."""
    half = len(BODY) // 2
    crafted = zstd_frame(
        [
            zstd_block(RAW, 5, b"hello", last=False),
            zstd_block(RLE, 100_000, b"!", last=False),
            zstd_block(RAW, 3, b"end", last=True),
        ]
    )
    return {
        "content size": (zstd(BODY), BODY),
        "no content size": (zstd(BODY, content_size=False), BODY),
        "hand-built, no content size": (crafted, b"hello" + b"!" * 100_000 + b"end"),
        "two frames": (zstd(BODY[:half]) + zstd(BODY[half:], content_size=False), BODY),
        "skippable frame first": (zstd_skippable(b"meta") + zstd(TEXT), TEXT),
        "empty frame between": (zstd(TEXT) + zstd(b"") + zstd(TEXT), TEXT + TEXT),
    }


@pytest.mark.parametrize("sample", list(zstd_samples()))
@pytest.mark.parametrize("piece", [7, 65536, 10 * MIB])
def test_zstd_round_trip(zstd_lib: str, sample: str, piece: int) -> None:
    encoded, decoded = zstd_samples()[sample]
    assert decode("zstd", encoded, piece) == decoded


def test_zstd_byte_by_byte(zstd_lib: str) -> None:
    encoded = zstd(TEXT[:20_000]) + zstd(TEXT[:5_000], content_size=False)
    assert decode("zstd", encoded, 1) == TEXT[:20_000] + TEXT[:5_000]


@pytest.mark.parametrize("content_encoding", ["gzip, br", "br, zstd", "zstd, gzip"])
def test_stacked(br_lib: str, zstd_lib: str, content_encoding: str) -> None:
    encoded = encode(content_encoding, BODY)
    assert decode(content_encoding, encoded, 4096) == BODY
    truncated = decoder(content_encoding)
    truncated.feed(encoded[:-10])
    with pytest.raises(DecompressionError):
        truncated.flush()


def test_empty_body_is_fine(codec: str) -> None:
    # HEAD, 204 and 304 replies keep the Content-Encoding of a body they do not carry.
    dec = decoder(codec)
    assert dec.feed(b"") == b""
    assert dec.flush() == b""


# -- truncated and corrupt ------------------------------------------------------------------


def test_br_every_truncation_is_an_error(br_lib: str) -> None:
    encoded = br(TEXT[:3000])
    for cut in range(1, len(encoded)):
        dec = decoder("br")
        with pytest.raises(DecompressionError, match="br body ended before its end marker"):
            dec.feed(encoded[:cut])
            dec.flush()


def test_zstd_every_truncation_is_an_error(zstd_lib: str) -> None:
    encoded = zstd(TEXT[:3000], content_size=False)
    for cut in range(1, len(encoded)):
        dec = decoder("zstd")
        with pytest.raises(DecompressionError, match="zstd body ended before its end marker"):
            dec.feed(encoded[:cut])
            dec.flush()


def test_zstd_second_frame_truncated(zstd_lib: str) -> None:
    first = zstd(TEXT)
    second = zstd(BODY, content_size=False)
    dec = decoder("zstd")
    assert dec.feed(first + second[:-1]).startswith(TEXT)
    with pytest.raises(DecompressionError, match="ended before its end marker"):
        dec.flush()


@pytest.mark.parametrize("damage", ["garbage", "flipped", "trailing"])
def test_corrupt(codec: str, damage: str) -> None:
    good = encode(codec, BODY)
    if damage == "garbage":
        body = b"this is not compressed at all" * 10
    elif damage == "flipped":
        body = good[:200] + bytes(b ^ 0x5A for b in good[200:400]) + good[400:]
    else:
        body = good + b"trailing junk"
    with pytest.raises(DecompressionError, match=f"invalid {codec} body"):
        decode(codec, body, 65536)


def test_zstd_window_over_8_mib_is_refused(zstd_lib: str) -> None:
    block = zstd_block(RAW, 2, b"ok", last=True)
    assert decode("zstd", zstd_frame([block], window_log=23), 100) == b"ok"
    with pytest.raises(DecompressionError, match="invalid zstd body"):
        decode("zstd", zstd_frame([block], window_log=24), 100)


# -- bombs ----------------------------------------------------------------------------------


def bomb(encoding: str) -> bytes:
    return br_bomb(256) if encoding == "br" else zstd_bomb(1024)


@pytest.mark.parametrize("limit", [MIB, 16 * MIB])
def test_bomb_stops_at_the_limit_with_bounded_memory(codec: str, limit: int) -> None:
    data = bomb(codec)
    assert len(data) < 64 * 1024
    dec = decoder(codec, limit)
    tracemalloc.start()
    try:
        with pytest.raises(DecompressionError, match=f"{codec} body decompresses to more "):
            for i in range(0, len(data), 16384):
                dec.feed(data[i : i + 16384])
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    # Everything decoded is held until the error: the limit, plus at most a few steps.
    assert peak < limit + 4 * MIB


def test_bomb_in_a_stack(br_lib: str, zstd_lib: str) -> None:
    with pytest.raises(DecompressionError, match="zstd body decompresses to more than 1048576"):
        decode("zstd, br", br(zstd_bomb(64)), 65536, limit=MIB)


def test_body_exactly_at_the_limit(codec: str) -> None:
    data = random.Random(3).randbytes(3 * MIB)
    encoded = encode(codec, data)
    assert decode(codec, encoded, 65536, limit=len(data)) == data
    with pytest.raises(DecompressionError, match=f"more than {len(data) - 1} bytes"):
        decode(codec, encoded, 65536, limit=len(data) - 1)


# -- brotli before 1.2 ----------------------------------------------------------------------


class _OldDecompressor:
    """The brotli API before 1.2: ``process`` without ``output_buffer_limit``."""

    def __init__(self, real: Any) -> None:
        self._real = real

    def process(self, data: bytes) -> bytes:
        return bytes(self._real.process(data))

    def is_finished(self) -> bool:
        return bool(self._real.is_finished())


def test_brotli_without_output_limit_still_checks(
    br_lib: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = __import__(br_lib)
    old = SimpleNamespace(
        error=real.error, Decompressor=lambda: _OldDecompressor(real.Decompressor())
    )
    monkeypatch.setitem(sys.modules, "aiosonic_test_old_brotli", old)
    use_library(monkeypatch, "br", "aiosonic_test_old_brotli")
    encoded = br(BODY)
    assert hashlib.sha256(decode("br", encoded, 4096)).digest() == hashlib.sha256(BODY).digest()
    with pytest.raises(DecompressionError, match="more than 1000 bytes"):
        decode("br", encoded, 4096, limit=1000)
    dec = decoder("br")
    dec.feed(encoded[:-1])
    with pytest.raises(DecompressionError, match="ended before its end marker"):
        dec.flush()
