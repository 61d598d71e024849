"""Rendering for the terminal: request and response heads, bodies, the binary notice.

Pure functions from values to text or bytes; deciding where they go and reading the body
is ``exchange``'s job. ``choose_style`` is the one place that combines ``--pretty``,
whether stdout is a terminal, and ``NO_COLOR``.
"""

from __future__ import annotations

import codecs
from collections.abc import Iterable
from dataclasses import dataclass
from http import HTTPStatus

from aiosonic import HttpResponse

from .ansi import Palette
from .args import Pretty
from .highlight import format_json

__all__ = [
    "Style",
    "binary_notice",
    "choose_style",
    "is_binary",
    "render_body",
    "render_request_head",
    "render_response_head",
]


@dataclass(frozen=True)
class Style:
    """How output is dressed: ``colors`` (ANSI) and ``format`` (indent JSON)."""

    colors: bool = False
    format: bool = False

    @property
    def pretty(self) -> bool:
        return self.colors or self.format

    @property
    def palette(self) -> Palette:
        return Palette() if self.colors else Palette.plain()


def choose_style(pretty: Pretty | None, out_is_tty: bool, no_color: bool) -> Style:
    """``--pretty`` wins; otherwise a terminal gets both unless NO_COLOR removes colours."""
    if pretty is not None:
        return Style(colors=pretty in ("all", "colors"), format=pretty in ("all", "format"))
    if not out_is_tty:
        return Style()
    return Style(colors=not no_color, format=True)


def _header_lines(headers: Iterable[tuple[str, str]], palette: Palette) -> list[str]:
    return [
        f"{palette.paint(name, palette.header_name)}: {palette.paint(value, palette.header_value)}"
        for name, value in headers
    ]


def render_request_head(
    method: str, target: str, version: str, headers: Iterable[tuple[str, str]], palette: Palette
) -> str:
    """``METHOD target HTTP/x`` and the header lines, ending with an empty line."""
    first = " ".join(
        (
            palette.paint(method, palette.method),
            palette.paint(target, palette.target),
            palette.paint(f"HTTP/{version}", palette.version),
        )
    )
    return "\n".join([first, *_header_lines(headers, palette)]) + "\n\n"


def _reason(response: HttpResponse) -> str:
    if response.reason:
        return response.reason
    try:
        return HTTPStatus(response.status_code).phrase  # HTTP/2 sends no reason phrase
    except ValueError:
        return ""


def render_response_head(response: HttpResponse, palette: Palette) -> str:
    """The status line and the header lines as received, ending with an empty line."""
    status = response.status_code
    parts = [
        palette.paint(f"HTTP/{response.http_version}", palette.version),
        palette.paint(str(status), palette.status(status)),
    ]
    reason = _reason(response)
    if reason:
        parts.append(palette.paint(reason, palette.reason))
    headers = [
        (name.decode("latin-1"), value.decode("utf-8", "replace"))
        for name, value in response.raw_headers
    ]
    return "\n".join([" ".join(parts), *_header_lines(headers, palette)]) + "\n\n"


def is_binary(chunk: bytes) -> bool:
    """A body chunk a terminal should not be shown (it holds a NUL byte)."""
    return b"\0" in chunk


def binary_notice(palette: Palette) -> str:
    text = "+-----------------------------------------+\n"
    text += "| NOTE: binary data not shown in terminal |\n"
    text += "+-----------------------------------------+"
    return palette.paint(text, palette.notice) + "\n"


def _charset(content_type: str) -> str:
    for param in content_type.split(";")[1:]:
        key, _, value = param.partition("=")
        if key.strip().lower() == "charset":
            name = value.strip().strip("\"'")
            try:
                return codecs.lookup(name).name
            except LookupError:
                break
    return "utf-8"


def _is_json_type(content_type: str) -> bool:
    mime = content_type.split(";", 1)[0].strip().lower()
    return mime.endswith(("/json", "+json"))


def _may_be_json(content_type: str, body: bytes) -> bool:
    if _is_json_type(content_type):
        return True
    mime = content_type.split(";", 1)[0].strip().lower()
    # Servers often mislabel JSON as text or JavaScript; try when it starts like JSON.
    loose = mime in ("", "text/plain", "text/javascript", "application/javascript")
    return loose and body.lstrip()[:1] in (b"{", b"[")


def render_body(body: bytes, content_type: str, style: Style) -> bytes:
    """The whole body as it should appear: JSON indented and/or highlighted, anything else
    as received."""
    if not style.pretty or not _may_be_json(content_type, body):
        return body
    try:
        text = body.decode(_charset(content_type))
    except UnicodeDecodeError:
        return body
    formatted = format_json(text, style.palette, 4 if style.format else None)
    if formatted is None:
        return body
    return formatted.encode("utf-8")
