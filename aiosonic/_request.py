"""Turning the arguments of ``HTTPClient.request`` into wire-ready parts. Pure: no I/O.

``encode_body`` maps ``data``/``json``/``multipart`` to either bytes (sent with
Content-Length) or a stream (sent chunked), plus the headers the body implies.
``build_head`` merges the default headers, the caller's headers (which win, compared without
case) and the body's headers, and serialises the request head.
"""

from __future__ import annotations

import io
from base64 import b64encode
from collections.abc import AsyncIterable, Callable, Iterable, Mapping
from typing import Any
from urllib.parse import unquote, urlencode

from ._decode import ACCEPT_ENCODING
from ._headers import HttpHeaders
from ._http11 import encode_request_head
from ._url import URL
from ._version import __version__
from .exceptions import InvalidRequest

__all__ = ["USER_AGENT", "Body", "build_head", "encode_body"]

USER_AGENT = f"aiosonic/{__version__}"
_READ_BLOCK = 64 * 1024
# Methods whose requests carry a body by definition: announce an empty one explicitly.
_BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})

Stream = Iterable[bytes] | AsyncIterable[bytes]


class Body:
    """An encoded request body: ``data`` bytes or a ``stream``, and its implied headers."""

    __slots__ = ("data", "headers", "length", "stream")

    def __init__(
        self,
        data: bytes | None = None,
        stream: Stream | None = None,
        headers: list[tuple[str, str]] | None = None,
        length: int | None = None,
    ) -> None:
        self.data = data
        self.stream = stream
        self.headers = headers or []
        self.length = length  # of a stream, when known in advance

    @property
    def replayable(self) -> bool:
        return self.stream is None


def _read_file(fileobj: io.IOBase) -> Iterable[bytes]:
    while True:
        block = fileobj.read(_READ_BLOCK)
        if not block:
            return
        yield block.encode("utf-8") if isinstance(block, str) else block


def encode_body(
    data: Any,
    json: Any,
    json_serializer: Callable[[Any], str | bytes],
) -> Body:
    """Encode ``json=`` or ``data=`` (multipart forms are handled by the caller)."""
    if json is not None:
        if data is not None:
            raise InvalidRequest("pass either data= or json=, not both")
        serialised = json_serializer(json)
        raw = serialised.encode("utf-8") if isinstance(serialised, str) else serialised
        return Body(raw, headers=[("Content-Type", "application/json")])
    if data is None:
        return Body()
    if isinstance(data, str):
        return Body(data.encode("utf-8"))
    if isinstance(data, (bytes, bytearray, memoryview)):
        return Body(bytes(data))
    if isinstance(data, (dict, tuple)) or (
        isinstance(data, list) and all(isinstance(item, tuple) for item in data)
    ):
        items = data.items() if isinstance(data, Mapping) else data
        form = urlencode([(str(k), str(v)) for k, v in items]).encode("ascii")
        return Body(form, headers=[("Content-Type", "application/x-www-form-urlencoded")])
    if isinstance(data, io.IOBase):
        return Body(stream=_read_file(data))
    if isinstance(data, (AsyncIterable, Iterable)):
        return Body(stream=data)
    raise InvalidRequest(f"cannot send a request body of type {type(data).__name__}")


def _default_headers(url: URL) -> list[tuple[str, str]]:
    defaults = [
        ("Host", url.host_header),
        ("User-Agent", USER_AGENT),
        ("Accept", "*/*"),
        ("Accept-Encoding", ACCEPT_ENCODING),
    ]
    if url.userinfo is not None:
        credentials = unquote(url.userinfo).encode("utf-8")
        defaults.append(("Authorization", "Basic " + b64encode(credentials).decode("ascii")))
    return defaults


def _pairs(headers: Any) -> Iterable[tuple[str, str]]:
    if isinstance(headers, HttpHeaders):
        return headers.multi_items()
    if isinstance(headers, Mapping):
        return headers.items()
    return headers  # type: ignore[no-any-return]


def build_head(method: str, url: URL, headers: Any, body: Body) -> tuple[bytes, bool]:
    """The serialised request head for ``method`` on ``url`` with the caller's headers,
    and whether a streamed body must be sent with chunked framing.

    A caller's own Content-Length or Transfer-Encoding header is kept; the body is then
    framed to match it (a bytes body under ``Transfer-Encoding: chunked`` becomes one chunk).
    """
    merged: dict[str, list[tuple[str, str]]] = {
        name.lower(): [(name, value)] for name, value in _default_headers(url)
    }
    if headers:
        given: dict[str, list[tuple[str, str]]] = {}
        for name, value in _pairs(headers):
            if not isinstance(name, str):
                raise InvalidRequest(f"header names must be str, not {type(name).__name__}")
            text = value if isinstance(value, str) else str(value)
            given.setdefault(name.lower(), []).append((name, text))
        merged.update(given)
    for name, value in body.headers:
        merged.setdefault(name.lower(), [(name, value)])
    chunked = "transfer-encoding" in merged
    if "content-length" not in merged and not chunked:
        if body.stream is not None and body.length is None:
            merged["transfer-encoding"] = [("Transfer-Encoding", "chunked")]
            chunked = True
        elif body.stream is not None or body.data is not None or method in _BODY_METHODS:
            size = body.length if body.stream is not None else len(body.data or b"")
            merged["content-length"] = [("Content-Length", str(size))]
    head = encode_request_head(
        method, url.target, (pair for pairs in merged.values() for pair in pairs)
    )
    return head, chunked
