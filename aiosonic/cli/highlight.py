"""JSON re-indentation and syntax highlighting over the document's own tokens.

The body is validated with ``json.loads`` and then re-emitted token by token, so numbers,
escapes and key order stay exactly as the server wrote them (``1.0e5`` stays ``1.0e5``).
It never guesses: text that is not valid JSON makes ``format_json`` return ``None``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator

from .ansi import Palette

__all__ = ["format_json", "tokens"]

_TOKEN = re.compile(
    r"""
    (?P<space>\s+)
  | (?P<string>"(?:[^"\\]|\\.)*")
  | (?P<number>-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?)
  | (?P<literal>true|false|null)
  | (?P<punct>[{}\[\],:])
    """,
    re.VERBOSE | re.DOTALL,
)


def tokens(text: str) -> Iterator[tuple[str, str]]:
    """``(kind, text)`` for every token of a valid JSON document, whitespace included
    (kinds: space, string, number, literal, punct)."""
    position = 0
    while position < len(text):
        match = _TOKEN.match(text, position)
        if match is None:  # cannot happen for text json.loads accepted
            raise ValueError(f"unexpected JSON at offset {position}")
        position = match.end()
        yield match.lastgroup or "", match.group()


def _role(kind: str, is_key: bool, palette: Palette) -> str:
    if kind == "string":
        return palette.key if is_key else palette.string
    if kind == "number":
        return palette.number
    if kind == "literal":
        return palette.literal
    if kind == "punct":
        return palette.punctuation
    return ""


def format_json(text: str, palette: Palette, indent: int | None = 4) -> str | None:
    """``text`` re-indented with ``indent`` spaces (``None``: its own layout kept) and
    painted with ``palette``; ``None`` if ``text`` is not a JSON document."""
    try:
        json.loads(text)
    except ValueError:
        return None
    stream = [tok for tok in tokens(text) if indent is None or tok[0] != "space"]
    # The next significant token after each one: a string followed by ":" is a key.
    following = [""] * len(stream)
    upcoming = ""
    for index in range(len(stream) - 1, -1, -1):
        following[index] = upcoming
        if stream[index][0] != "space":
            upcoming = stream[index][1]
    out: list[str] = []
    depth = 0
    previous = ""
    for index, (kind, token) in enumerate(stream):
        painted = palette.paint(token, _role(kind, following[index] == ":", palette))
        if indent is None or kind != "punct":
            out.append(painted)
        elif token in "{[":
            out.append(painted)
            if following[index] not in ("}", "]"):  # "{}" and "[]" stay on one line
                depth += 1
                out.append(_newline(depth, indent))
        elif token in "}]":
            if previous not in ("{", "["):
                depth -= 1
                out.append(_newline(depth, indent))
            out.append(painted)
        elif token == ",":
            out.append(painted + _newline(depth, indent))
        else:
            out.append(painted + " ")
        previous = token
    return "".join(out)


def _newline(depth: int, indent: int) -> str:
    return "\n" + " " * (indent * depth)
