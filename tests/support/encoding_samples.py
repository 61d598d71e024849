"""Bodies for the br/zstd tests: compressors, hand-built zstd frames, bombs, and a way to pin
the library aiosonic decodes with.

Compression uses whichever library is installed (brotli or brotlicffi; zstandard, else the
compression.zstd API); a test needing one that is absent is skipped, never passed.
"""

from __future__ import annotations

import functools
import importlib
import zlib
from types import ModuleType
from typing import Any

import pytest

from aiosonic import _decode

BROTLI_NAMES = ("brotli", "brotlicffi")
ZSTD_NAMES = ("compression.zstd", "backports.zstd", "zstandard")


def _module(name: str) -> ModuleType | None:
    try:
        return importlib.import_module(name)
    except ImportError:
        return None


def installed(names: tuple[str, ...]) -> list[str]:
    return [name for name in names if _module(name) is not None]


BROTLI_LIBS = installed(BROTLI_NAMES)
ZSTD_LIBS = installed(ZSTD_NAMES)


def use_library(monkeypatch: pytest.MonkeyPatch, encoding: str, name: str) -> None:
    """Make aiosonic decode ``encoding`` with module ``name`` only (or a missing module)."""
    attr, extra = ("_BROTLI", "brotli") if encoding == "br" else ("_ZSTD", "zstd")
    monkeypatch.setattr(_decode, attr, _decode._Library(encoding, extra, ((name, name),)))


# -- brotli ---------------------------------------------------------------------------------


def _brotli() -> Any:
    for name in BROTLI_LIBS:
        return importlib.import_module(name)
    pytest.skip("needs brotli or brotlicffi to build br bodies")


def br(data: bytes, quality: int = 5) -> bytes:
    return bytes(_brotli().compress(data, quality=quality))


def br_stream(pieces: int, piece: bytes, quality: int = 5) -> bytes:
    """``piece`` repeated ``pieces`` times, br-compressed without holding the whole input."""
    compressor = _brotli().Compressor(quality=quality)
    push = getattr(compressor, "process", None) or compressor.compress
    return b"".join([push(piece) for _ in range(pieces)] + [compressor.finish()])


@functools.cache
def br_bomb(mib: int) -> bytes:
    """``mib`` MiB of zeros in a few kilobytes of br."""
    return br_stream(mib, bytes(1024 * 1024), quality=1)


# -- zstd -----------------------------------------------------------------------------------


def _zstd_compressor() -> tuple[str, Any]:
    for name in ("zstandard", "compression.zstd", "backports.zstd"):
        module = _module(name)
        if module is not None:
            return name, module
    pytest.skip("needs zstandard or compression.zstd to build zstd bodies")


def zstd(data: bytes, level: int = 3, content_size: bool = True) -> bytes:
    """One zstd frame; without ``content_size`` its header does not state the size."""
    name, module = _zstd_compressor()
    if name == "zstandard":
        compressor = module.ZstdCompressor(level=level, write_content_size=content_size)
        if content_size:
            return bytes(compressor.compress(data))
        stream = compressor.compressobj()
        return bytes(stream.compress(data) + stream.flush())
    if content_size:
        return bytes(module.compress(data, level))
    compressor = module.ZstdCompressor(level)
    return bytes(compressor.compress(data) + compressor.flush())


ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"
RAW, RLE = 0, 1


def zstd_block(kind: int, size: int, content: bytes, last: bool) -> bytes:
    """A block header (RFC 8878 3.1.1.2): Last_Block, Block_Type, Block_Size; then content."""
    return (int(last) | kind << 1 | size << 3).to_bytes(3, "little") + content


def zstd_frame(blocks: list[bytes], window_log: int = 17) -> bytes:
    """A frame with no content size, dictionary or checksum, and a window of 2**window_log."""
    return ZSTD_MAGIC + bytes([0, (window_log - 10) << 3]) + b"".join(blocks)


def zstd_skippable(data: bytes) -> bytes:
    return (0x184D2A50).to_bytes(4, "little") + len(data).to_bytes(4, "little") + data


@functools.cache
def zstd_bomb(mib: int) -> bytes:
    """``mib`` MiB of zeros as 128 KiB RLE blocks: four bytes each, the format's worst ratio."""
    count = mib * 8
    rle = zstd_block(RLE, 128 * 1024, b"\0", last=False)
    return zstd_frame([rle] * (count - 1) + [zstd_block(RLE, 128 * 1024, b"\0", last=True)])


# -- others ---------------------------------------------------------------------------------


def gzip(data: bytes) -> bytes:
    compressor = zlib.compressobj(6, zlib.DEFLATED, 31)
    return compressor.compress(data) + compressor.flush()


def encode(content_encoding: str, data: bytes) -> bytes:
    """``data`` with each coding of a Content-Encoding value applied in order."""
    coders = {"gzip": gzip, "br": br, "zstd": zstd}
    for name in content_encoding.split(","):
        data = coders[name.strip()](data)
    return data
