"""Content-Encoding decoders for response bodies: gzip and deflate, stacked at most twice.

It owns turning encoded body bytes into plain bytes under a size limit. It knows nothing
about connections or responses; callers feed it pieces and flush at the end.
"""

from __future__ import annotations

import zlib
from typing import Protocol

from .exceptions import DecompressionError

__all__ = ["ACCEPT_ENCODING", "DEFAULT_MAX_DECOMPRESSED_SIZE", "BodyDecoder", "make_decoder"]

ACCEPT_ENCODING = "gzip, deflate"
DEFAULT_MAX_DECOMPRESSED_SIZE = 100 * 1024 * 1024
MAX_STACKED_ENCODINGS = 2
# Inflate in bounded steps so a bomb is caught before it is fully in memory.
_STEP = 1024 * 1024


class BodyDecoder(Protocol):
    def feed(self, data: bytes) -> bytes: ...

    def flush(self) -> bytes: ...


class _ZlibDecoder:
    """gzip (wbits 31) or deflate; deflate accepts both zlib-wrapped and raw streams."""

    __slots__ = ("_limit", "_name", "_obj", "_out", "_raw_fallback", "_started")

    def __init__(self, name: str, limit: int) -> None:
        self._name = name
        self._limit = limit
        self._out = 0
        self._started = False
        self._raw_fallback = name == "deflate"
        self._obj = zlib.decompressobj(31 if name == "gzip" else 15)

    def feed(self, data: bytes) -> bytes:
        if not data:
            return b""
        try:
            return self._inflate(data)
        except zlib.error as exc:
            if self._raw_fallback and not self._started:
                # Some servers send raw deflate (RFC 1951) without the zlib wrapper.
                self._raw_fallback = False
                self._obj = zlib.decompressobj(-15)
                return self.feed(data)
            raise DecompressionError(f"invalid {self._name} body: {exc}") from None

    def _inflate(self, data: bytes) -> bytes:
        pieces = []
        obj = self._obj
        while data:
            piece = obj.decompress(data, _STEP)
            self._started = True
            self._out += len(piece)
            if self._out > self._limit:
                raise DecompressionError(
                    f"{self._name} body decompresses to more than {self._limit} bytes"
                )
            pieces.append(piece)
            data = obj.unconsumed_tail
            if obj.eof and obj.unused_data and self._name == "gzip":
                # Concatenated gzip members are one body (RFC 1952 2.2).
                rest = obj.unused_data
                obj = self._obj = zlib.decompressobj(31)
                data = rest
        return b"".join(pieces)

    def flush(self) -> bytes:
        try:
            tail = self._obj.flush()
        except zlib.error as exc:
            raise DecompressionError(f"invalid {self._name} body: {exc}") from None
        if self._started and not self._obj.eof:
            raise DecompressionError(f"{self._name} body ended before its end marker")
        self._out += len(tail)
        if self._out > self._limit:
            raise DecompressionError(
                f"{self._name} body decompresses to more than {self._limit} bytes"
            )
        return tail


class _Stack:
    """Encodings applied in order (``gzip, deflate``) are undone in reverse."""

    __slots__ = ("_decoders",)

    def __init__(self, decoders: list[BodyDecoder]) -> None:
        self._decoders = decoders

    def feed(self, data: bytes) -> bytes:
        for decoder in self._decoders:
            data = decoder.feed(data)
        return data

    def flush(self) -> bytes:
        data = b""
        for decoder in self._decoders:
            data = decoder.feed(data) + decoder.flush()
        return data


def make_decoder(
    content_encoding: bytes | None,
    limit: int = DEFAULT_MAX_DECOMPRESSED_SIZE,
    max_encodings: int = MAX_STACKED_ENCODINGS,
) -> BodyDecoder | None:
    """A decoder for a Content-Encoding header value, or None when the body is plain."""
    if not content_encoding:
        return None
    names = [
        token.strip().lower()
        for token in content_encoding.decode("latin-1").split(",")
        if token.strip() and token.strip().lower() != "identity"
    ]
    if not names:
        return None
    if len(names) > max_encodings:
        raise DecompressionError(
            f"response stacks {len(names)} content-encodings; at most "
            f"{max_encodings} are accepted"
        )
    decoders: list[BodyDecoder] = []
    for name in reversed(names):
        if name in ("gzip", "x-gzip"):
            decoders.append(_ZlibDecoder("gzip", limit))
        elif name == "deflate":
            decoders.append(_ZlibDecoder("deflate", limit))
        else:
            raise DecompressionError(f"unsupported content-encoding {name!r}")
    return decoders[0] if len(decoders) == 1 else _Stack(decoders)
