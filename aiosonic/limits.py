"""``Limits``: how much a server may make us hold before we refuse its response.

A value object only; the codec, the connections and the responses enforce it. The defaults
are safe for the open internet; raise them for trusted servers that need more.
"""

from __future__ import annotations

from ._values import ValueObject

__all__ = ["DEFAULT_H2_WINDOW", "DEFAULT_LIMITS", "Limits"]

# The HTTP/2 receive window of each stream: how much of one response may be in flight
# before its reader consumes it.
DEFAULT_H2_WINDOW = 4 * 1024 * 1024


class Limits(ValueObject):
    """Limits on what a response may contain.

    - ``max_head_size``: bytes of a response head (status line and headers; for HTTP/2, the
      decoded header list); past it, ``HttpParsingError``.
    - ``max_headers``: header lines in a response head.
    - ``max_status_line``: bytes of the HTTP/1.1 status line.
    - ``max_decompressed_size``: bytes a compressed body may expand to; past it,
      ``DecompressionError`` (a gzip bomb fails fast, with bounded memory).
    - ``max_encodings``: stacked Content-Encodings (``gzip, deflate`` is two).
    """

    __slots__ = (
        "max_decompressed_size",
        "max_encodings",
        "max_head_size",
        "max_headers",
        "max_status_line",
    )
    _fields = (
        "max_head_size",
        "max_headers",
        "max_status_line",
        "max_decompressed_size",
        "max_encodings",
    )

    def __init__(
        self,
        max_head_size: int = 64 * 1024,
        max_headers: int = 128,
        max_status_line: int = 8 * 1024,
        max_decompressed_size: int = 100 * 1024 * 1024,
        max_encodings: int = 2,
    ) -> None:
        for name, value in (
            ("max_head_size", max_head_size),
            ("max_headers", max_headers),
            ("max_status_line", max_status_line),
            ("max_decompressed_size", max_decompressed_size),
            ("max_encodings", max_encodings),
        ):
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"Limits.{name} must be a positive int, not {value!r}")
        self.max_head_size = max_head_size
        self.max_headers = max_headers
        self.max_status_line = max_status_line
        self.max_decompressed_size = max_decompressed_size
        self.max_encodings = max_encodings


DEFAULT_LIMITS = Limits()
