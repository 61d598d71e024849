"""Content-Encoding decoders for response bodies: gzip, deflate, br and zstd, stacked at most twice.

It owns turning encoded body bytes into plain bytes under a size limit, and knowing which
encodings this installation can decode (``ACCEPT_ENCODING``). It knows nothing about
connections or responses; callers feed it pieces and flush at the end.

``br`` and ``zstd`` come from optional libraries (brotli or brotlicffi; compression.zstd,
backports.zstd or zstandard). ``import aiosonic`` only looks for them on ``sys.path``; it
never imports them: that happens when the first response needing one arrives.

Every decoder counts what it produces against the limit and asks its library for at most
about ``_STEP`` bytes at a time, so a bomb fails at the limit without being expanded in
memory; and every decoder checks at ``flush`` that its stream reached its end marker, so a
truncated body is never passed off as complete.
"""

from __future__ import annotations

import importlib
import sys
import zlib
from importlib.machinery import PathFinder
from types import ModuleType
from typing import Any, Protocol

from .exceptions import DecompressionError

__all__ = ["ACCEPT_ENCODING", "DEFAULT_MAX_DECOMPRESSED_SIZE", "BodyDecoder", "make_decoder"]

DEFAULT_MAX_DECOMPRESSED_SIZE = 100 * 1024 * 1024
MAX_STACKED_ENCODINGS = 2
# Decode in bounded steps so a bomb is caught before it is fully in memory.
_STEP = 1024 * 1024
# RFC 9659: a "zstd" content coding uses a window of at most 8 MiB; refusing larger ones
# keeps a hostile frame header from making the decoder reserve up to 128 MiB.
_ZSTD_WINDOW_LOG_MAX = 23
# The most a zstd stream can expand per input byte: an RLE block is a 3-byte header plus
# one byte and yields at most 128 KiB (the largest block the format allows).
_ZSTD_RATIO_SHIFT = 15


class BodyDecoder(Protocol):
    def feed(self, data: bytes) -> bytes: ...

    def flush(self) -> bytes: ...


# -- optional libraries ---------------------------------------------------------------------


def _importable(name: str) -> bool:
    """Whether ``name`` could be imported, found on ``sys.path`` without importing it.

    ``importlib.util.find_spec`` would import the parent package, and importlib.util itself
    costs 0.3 ms at startup; the path finder is already loaded and caches directory listings.
    """
    if name in sys.modules or name in sys.builtin_module_names:
        return True
    head, _, tail = name.partition(".")
    spec = PathFinder.find_spec(head)
    if spec is None or not tail:
        return spec is not None
    locations = spec.submodule_search_locations
    return locations is not None and PathFinder.find_spec(name, list(locations)) is not None


class _Library:
    """An optional decompression library: the modules that provide it, best first.

    Each candidate is ``(module to import, module whose presence shows it is installed)``.
    """

    __slots__ = ("_candidates", "_loaded", "encoding", "extra")

    def __init__(self, encoding: str, extra: str, candidates: tuple[tuple[str, str], ...]) -> None:
        self.encoding = encoding
        self.extra = extra
        self._candidates = candidates
        self._loaded: tuple[str, ModuleType] | None = None

    def installed(self) -> bool:
        # Top-level names first: a dotted one costs two path scans.
        probes = sorted((probe for _, probe in self._candidates), key=lambda p: p.count("."))
        return any(_importable(probe) for probe in probes)

    def load(self) -> tuple[str, ModuleType]:
        """The first candidate that imports, as ``(name, module)``; cached once found."""
        if self._loaded is None:
            for name, _ in self._candidates:
                try:
                    self._loaded = (name, importlib.import_module(name))
                    break
                except ImportError:
                    continue
            else:
                names = " or ".join(name for name, _ in self._candidates)
                raise DecompressionError(
                    f"content-encoding {self.encoding!r} needs {names} "
                    f"(pip install 'aiosonic[{self.extra}]')"
                )
        return self._loaded


_BROTLI = _Library("br", "brotli", (("brotli", "brotli"), ("brotlicffi", "brotlicffi")))
_ZSTD = _Library(
    "zstd",
    "zstd",
    # compression.zstd needs the _zstd extension, which a Python built without libzstd lacks.
    ((("compression.zstd", "_zstd"),) if sys.version_info >= (3, 14) else ())
    + (("backports.zstd", "backports.zstd"), ("zstandard", "zstandard")),
)


def _accept_encoding() -> str:
    """gzip and deflate always, then br and zstd when their libraries are installed."""
    names = ["gzip", "deflate"]
    names.extend(library.encoding for library in (_BROTLI, _ZSTD) if library.installed())
    return ", ".join(names)


ACCEPT_ENCODING = _accept_encoding()


# -- decoders -------------------------------------------------------------------------------


class _Decoder:
    """What every decoder shares: the output count against the limit, and error wording."""

    __slots__ = ("_limit", "_name", "_out", "_started")

    def __init__(self, name: str, limit: int) -> None:
        self._name = name
        self._limit = limit
        self._out = 0
        self._started = False

    def _count(self, piece: bytes) -> bytes:
        self._out += len(piece)
        if self._out > self._limit:
            raise DecompressionError(
                f"{self._name} body decompresses to more than {self._limit} bytes"
            )
        return piece

    def _room(self) -> int:
        """How much output to ask for next: a step, or one byte past the limit if nearer."""
        return min(_STEP, self._limit - self._out + 1)

    def _corrupt(self, exc: BaseException) -> DecompressionError:
        detail = exc.args[0] if len(exc.args) == 1 else exc
        if isinstance(detail, bytes):  # brotlicffi words some errors in bytes
            detail = detail.decode("latin-1")
        return DecompressionError(f"invalid {self._name} body: {detail}")

    def _truncated(self) -> DecompressionError:
        return DecompressionError(f"{self._name} body ended before its end marker")


class _ZlibDecoder(_Decoder):
    """gzip (wbits 31) or deflate; deflate accepts both zlib-wrapped and raw streams."""

    __slots__ = ("_obj", "_raw_fallback")

    def __init__(self, name: str, limit: int) -> None:
        super().__init__(name, limit)
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
            raise self._corrupt(exc) from None

    def _inflate(self, data: bytes) -> bytes:
        pieces = []
        obj = self._obj
        while data:
            piece = obj.decompress(data, _STEP)
            self._started = True
            pieces.append(self._count(piece))
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
            raise self._corrupt(exc) from None
        if self._started and not self._obj.eof:
            raise self._truncated()
        return self._count(tail)


class _BrotliDecoder(_Decoder):
    """br through brotli or brotlicffi, which share ``Decompressor.process``/``is_finished``.

    From 1.2 both take ``output_buffer_limit`` and keep the input they did not get to, to be
    drained with empty calls until ``can_accept_more_data()``. Older versions cannot cap one
    call's output: the limit is then checked after each piece fed, which bounds the total
    but not what one network read may expand to (the ``brotli`` extra requires 1.2).
    """

    __slots__ = ("_bounded", "_error", "_obj")

    def __init__(self, limit: int) -> None:
        super().__init__("br", limit)
        _, module = _BROTLI.load()
        self._error: type[Exception] = module.error
        self._obj: Any = module.Decompressor()
        self._bounded = hasattr(self._obj, "can_accept_more_data")

    def feed(self, data: bytes) -> bytes:
        if not data:
            return b""
        self._started = True
        obj = self._obj
        try:
            if not self._bounded:
                piece: bytes = obj.process(data)
                return self._count(piece)
            pieces = []
            piece = obj.process(data, output_buffer_limit=self._room())
            # brotli (the C binding) reports it can take more input while output it decoded
            # is still held back, so drain until a call yields nothing.
            while piece:
                pieces.append(self._count(piece))
                piece = obj.process(b"", output_buffer_limit=self._room())
            if not obj.can_accept_more_data():
                raise DecompressionError("br decoder stopped making progress")
        except self._error as exc:
            raise self._corrupt(exc) from None
        return b"".join(pieces)

    def flush(self) -> bytes:
        if self._started and not self._obj.is_finished():
            raise self._truncated()
        return b""


class _ZstdFrames(_Decoder):
    """zstd, whatever the library: one decompressor per frame, as frames may follow one
    another (RFC 8878 3.1); the body is complete only between frames."""

    __slots__ = ("_error", "_in_frame", "_module", "_obj")

    def __init__(self, module: ModuleType, limit: int) -> None:
        super().__init__("zstd", limit)
        self._module = module
        self._error: type[Exception] = module.ZstdError
        self._obj = self._new()
        self._in_frame = False

    def _new(self) -> Any:
        raise NotImplementedError

    def flush(self) -> bytes:
        if self._in_frame:
            raise self._truncated()
        return b""


class _ZstdDecoder(_ZstdFrames):
    """zstd through compression.zstd (Python 3.14+) or backports.zstd: the bz2/lzma API.

    ``decompress(data, max_length)`` caps each call's output and keeps the rest of the input.
    """

    __slots__ = ()

    def _new(self) -> Any:
        window = {self._module.DecompressionParameter.window_log_max: _ZSTD_WINDOW_LOG_MAX}
        return self._module.ZstdDecompressor(options=window)

    def feed(self, data: bytes) -> bytes:
        if not data:
            return b""
        pieces = []
        obj = self._obj
        try:
            while True:
                if data:
                    self._in_frame = True
                piece = obj.decompress(data, self._room())
                pieces.append(self._count(piece))
                if obj.eof:
                    data = obj.unused_data
                    obj = self._obj = self._new()
                    self._in_frame = False
                    if not data:
                        break
                elif obj.needs_input:
                    break
                elif not piece and not data:
                    raise DecompressionError("zstd decoder stopped making progress")
                else:
                    data = b""
        except self._error as exc:
            raise self._corrupt(exc) from None
        return b"".join(pieces)


class _ZstandardDecoder(_ZstdFrames):
    """zstd through the zstandard package, whose ``decompressobj`` cannot cap its output.

    Input is therefore fed in slices whose worst-case expansion (``_ZSTD_RATIO_SHIFT``) fits
    in what is left of the limit, never below 32 bytes: an ordinary body goes through in a
    few large slices, and a bomb stops within about one step past the limit.
    """

    __slots__ = ()

    _MIN_SLICE = _STEP >> _ZSTD_RATIO_SHIFT

    def _new(self) -> Any:
        decompressor = self._module.ZstdDecompressor(max_window_size=1 << _ZSTD_WINDOW_LOG_MAX)
        return decompressor.decompressobj(read_across_frames=False)

    def feed(self, data: bytes) -> bytes:
        if not data:
            return b""
        pieces = []
        view = memoryview(data)
        position, end = 0, len(data)
        obj = self._obj
        try:
            while position < end:
                size = max(self._MIN_SLICE, (self._limit - self._out) >> _ZSTD_RATIO_SHIFT)
                piece = view[position : position + size]
                self._in_frame = True
                pieces.append(self._count(obj.decompress(piece)))
                position += len(piece)
                if obj.eof:
                    # The next frame starts where this one's unused input does.
                    position -= len(obj.unused_data)
                    obj = self._obj = self._new()
                    self._in_frame = False
        except self._error as exc:
            raise self._corrupt(exc) from None
        return b"".join(pieces)


def _zstd_decoder(limit: int) -> BodyDecoder:
    name, module = _ZSTD.load()
    if name == "zstandard":
        return _ZstandardDecoder(module, limit)
    return _ZstdDecoder(module, limit)


class _Stack:
    """Encodings applied in order (``gzip, br``) are undone in reverse."""

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
    """A decoder for a Content-Encoding header value, or None when the body is plain.

    Raises ``DecompressionError`` for an unknown encoding, for br or zstd when no library for
    it is installed, and for more than ``max_encodings`` stacked encodings.
    """
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
        elif name == "br":
            decoders.append(_BrotliDecoder(limit))
        elif name == "zstd":
            decoders.append(_zstd_decoder(limit))
        else:
            raise DecompressionError(f"unsupported content-encoding {name!r}")
    return decoders[0] if len(decoders) == 1 else _Stack(decoders)
