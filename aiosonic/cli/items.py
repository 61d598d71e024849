"""httpie-style request items and URL shorthands. Pure: strings in, values out.

An item is ``key SEP value``; the separator found first (leftmost, longest at that place)
decides its meaning, and a backslash in the key escapes the next character::

    Header:Value      a request header              key==value   a query parameter
    key=value         a data field (a string)       key:=json    a data field (raw JSON)
    key=@path         a data field read from a file key:=@path   raw JSON read from a file
    field@path        a file to upload (multipart)

It never touches the network; ``=@`` and ``:=@`` items read local files when collected.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = [
    "ItemError",
    "RequestItems",
    "collect_items",
    "expand_url",
    "looks_like_method",
    "parse_item",
]

# At one position the longest separator wins (":=@" before ":=" before ":").
SEPARATORS = (":=@", "=@", ":=", "==", "=", "@", ":")
HEADER, PARAM, DATA, JSON, DATA_FILE, JSON_FILE, FILE = ":", "==", "=", ":=", "=@", ":=@", "@"

_TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
_METHOD = re.compile(r"[A-Z]+")
_KNOWN_METHODS = frozenset(
    {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE", "CONNECT"}
)


class ItemError(ValueError):
    """A request item or URL the command line cannot use (a usage error)."""


@dataclass(frozen=True)
class Item:
    key: str
    sep: str
    value: str


@dataclass
class RequestItems:
    """What the items of one command line ask for, in the order given."""

    headers: list[tuple[str, str]] = field(default_factory=list)
    params: list[tuple[str, str]] = field(default_factory=list)
    # Data fields: a str for ``=`` / ``=@`` items, any JSON value for ``:=`` / ``:=@``.
    data: list[tuple[str, Any]] = field(default_factory=list)
    files: list[tuple[str, str]] = field(default_factory=list)

    @property
    def has_raw_json(self) -> bool:
        return any(not isinstance(value, str) for _, value in self.data)


def parse_item(arg: str) -> Item:
    """Split one item at its separator; ``ItemError`` if it has none or an empty key."""
    key: list[str] = []
    i = 0
    while i < len(arg):
        char = arg[i]
        if char == "\\" and i + 1 < len(arg):
            key.append(arg[i + 1])
            i += 2
            continue
        for sep in SEPARATORS:
            if arg.startswith(sep, i):
                if not key:
                    raise ItemError(f"request item {arg!r} has an empty name")
                return Item("".join(key), sep, arg[i + len(sep) :])
        key.append(char)
        i += 1
    raise ItemError(
        f"{arg!r} is not a request item (Header:Value, key=value, key:=json, key==param, "
        "field@file)"
    )


def _read_text(path: str) -> str:
    try:
        return Path(path).expanduser().read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ItemError(f"cannot read {path!r}: {exc}") from None


def _json_value(text: str, origin: str) -> Any:
    try:
        return json.loads(text)
    except ValueError as exc:
        raise ItemError(f"{origin}: not valid JSON ({exc})") from None


def collect_items(args: list[str]) -> RequestItems:
    """Parse every item and gather them by kind (reading ``=@`` / ``:=@`` files)."""
    items = RequestItems()
    for arg in args:
        item = parse_item(arg)
        if item.sep == HEADER:
            if not _TOKEN.fullmatch(item.key):
                raise ItemError(f"invalid header name {item.key!r} in {arg!r}")
            value = item.value.strip()
            if any(c in value for c in "\r\n\0"):
                raise ItemError(f"header {item.key!r} contains a line break or NUL")
            items.headers.append((item.key, value))
        elif item.sep == PARAM:
            items.params.append((item.key, item.value))
        elif item.sep == DATA:
            items.data.append((item.key, item.value))
        elif item.sep == DATA_FILE:
            items.data.append((item.key, _read_text(item.value)))
        elif item.sep == JSON:
            items.data.append((item.key, _json_value(item.value, arg)))
        elif item.sep == JSON_FILE:
            items.data.append((item.key, _json_value(_read_text(item.value), arg)))
        else:
            path = Path(item.value).expanduser()
            if not path.is_file():
                raise ItemError(f"file to upload not found: {item.value!r}")
            items.files.append((item.key, str(path)))
    return items


def looks_like_method(arg: str) -> bool:
    """A first argument that is an HTTP method rather than a URL (``GET``, ``post``, ...)."""
    return bool(_METHOD.fullmatch(arg)) or arg.upper() in _KNOWN_METHODS


def expand_url(url: str) -> str:
    """httpie shorthands: ``:8080/x`` -> ``http://localhost:8080/x``, ``:/x`` ->
    ``http://localhost/x``, ``example.com`` -> ``http://example.com``."""
    if url.startswith(":"):
        rest = url[1:]
        port, slash, path = rest.partition("/")
        if port and not port.isdigit():
            raise ItemError(f"invalid port in URL shorthand {url!r}")
        host = f"localhost:{port}" if port else "localhost"
        return f"http://{host}{slash}{path}"
    scheme, sep, _ = url.partition("://")
    if not sep:
        return "http://" + url
    if scheme.lower() not in ("http", "https"):
        raise ItemError(f"unsupported URL scheme {scheme!r} (http or https)")
    return url
