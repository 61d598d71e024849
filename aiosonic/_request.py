"""Turning the arguments of ``HTTPClient.request`` into wire-ready parts. Pure: no I/O.

``encode_body`` maps ``data``/``json``/``multipart`` to either bytes (sent with
Content-Length) or a stream (sent chunked), plus the headers the body implies.
``build_head`` merges the default headers, the caller's headers (which win, compared without
case) and the body's headers, and serialises the request head. ``HeadCache`` keeps the
result per method, route, target, header set, body headers and cookie, so a request sent
again and again is merged and encoded once.
"""

from __future__ import annotations

import io
import json as _json
from base64 import b64encode
from collections.abc import AsyncIterable, Callable, Hashable, Iterable, Mapping
from typing import TYPE_CHECKING, Any, Final, cast
from urllib.parse import unquote, urlencode

from ._decode import ACCEPT_ENCODING
from ._headers import HttpHeaders
from ._http11 import encode_request_head
from ._url import URL
from ._version import __version__
from .exceptions import InvalidRequest

if TYPE_CHECKING:
    from ._routes import Route

__all__ = [
    "NO_BODY",
    "USER_AGENT",
    "Body",
    "HeadCache",
    "build_connect_head",
    "build_head",
    "close_stream",
    "encode_body",
    "merge_headers",
]

USER_AGENT: Final = f"aiosonic/{__version__}"
_READ_BLOCK: Final = 64 * 1024
# Methods whose requests carry a body by definition: announce an empty one explicitly.
_BODY_METHODS: Final = frozenset({"POST", "PUT", "PATCH"})

Stream = Iterable[bytes] | AsyncIterable[bytes]


class Body:
    """An encoded request body: ``data`` bytes or a ``stream``, and its implied headers.
    Never changed once made (``NO_BODY`` is shared by every request without a body)."""

    __slots__ = ("data", "headers", "length", "restart", "stream")

    def __init__(
        self,
        data: bytes | None = None,
        stream: Stream | None = None,
        headers: list[tuple[str, str]] | None = None,
        length: int | None = None,
        restart: Callable[[], Stream] | None = None,
    ) -> None:
        self.data = data
        self.stream = stream
        self.headers = headers or []
        self.length = length  # of a stream, when known in advance
        self.restart = restart  # makes the stream anew, if it can be sent twice

    def replay(self) -> Body:
        """This body, ready to be sent again (for a 307/308 redirect)."""
        if self.stream is None:
            return self
        if self.restart is None:
            raise InvalidRequest(
                "cannot follow the redirect: the request body is a one-shot stream that "
                "was already sent and cannot be sent again"
            )
        return Body(stream=self.restart(), headers=self.headers, length=self.length,
                    restart=self.restart)


NO_BODY: Final = Body()


def _read_file(fileobj: io.IOBase) -> Iterable[bytes]:
    while True:
        block = fileobj.read(_READ_BLOCK)
        if not block:
            return
        yield block.encode("utf-8") if isinstance(block, str) else block


def _make_stdlib_dumps() -> Callable[[Any], str]:
    """``json.dumps`` with its defaults, minus its three Python frames per call.

    ``json.dumps(obj)`` ends in the C encoder built from ``JSONEncoder``'s defaults; this
    builds exactly that encoder itself (a fresh ``markers`` dict per call, so circular
    references are still refused), so the bytes are the same. Without the C encoder (an
    interpreter that lacks ``_json``) it is ``json.dumps``."""
    try:
        from _json import encode_basestring_ascii
        from _json import make_encoder as c_make_encoder
    except ImportError:
        return _json.dumps
    default = _json.JSONEncoder().default

    def dumps(obj: Any) -> str:
        if isinstance(obj, str):
            return encode_basestring_ascii(obj)
        encode = c_make_encoder({}, default, encode_basestring_ascii, None, ": ", ", ",
                                False, False, True)
        return "".join(encode(obj, 0))

    return dumps


_stdlib_dumps: Final = _make_stdlib_dumps()


def encode_body(
    data: Any,
    json: Any,
    json_serializer: Callable[[Any], str | bytes],
) -> Body:
    """Encode ``json=`` or ``data=`` (multipart forms are handled by the caller)."""
    if json is not None:
        if data is not None:
            raise InvalidRequest("pass either data= or json=, not both")
        serialised = (
            _stdlib_dumps(json) if json_serializer is _json.dumps else json_serializer(json)
        )
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


def _pairs(headers: Any) -> Iterable[tuple[Any, Any]]:
    """The caller's headers as pairs, unchecked (``merge_headers`` checks them)."""
    if type(headers) is dict:
        return headers.items()
    if isinstance(headers, HttpHeaders):
        return headers.multi_items()
    if isinstance(headers, Mapping):
        return headers.items()
    return cast(Iterable[tuple[Any, Any]], headers)


def merge_headers(
    method: str,
    url: URL,
    headers: Any,
    body: Body,
    *,
    proxy_authorization: str | None = None,
    cookie: str | None = None,
) -> tuple[list[tuple[str, str]], bool]:
    """The request's header pairs, and whether a streamed body must be sent chunked.

    Defaults first, then the caller's headers (which replace defaults of the same name,
    compared without case), then what the body implies. A caller's own Content-Length or
    Transfer-Encoding header is kept and the body is framed to match it.
    ``proxy_authorization`` serves a request sent through an HTTP proxy; ``cookie`` comes
    from the jar and gives way to a Cookie header the caller set.
    """
    merged: dict[str, list[tuple[str, str]]] = {
        name.lower(): [(name, value)] for name, value in _default_headers(url)
    }
    if cookie is not None:
        merged["cookie"] = [("Cookie", cookie)]
    if proxy_authorization is not None:
        merged["proxy-authorization"] = [("Proxy-Authorization", proxy_authorization)]
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
    return [pair for pairs in merged.values() for pair in pairs], chunked


def build_head(
    method: str,
    url: URL,
    headers: Any,
    body: Body,
    *,
    absolute_form: bool = False,
    proxy_authorization: str | None = None,
    cookie: str | None = None,
) -> tuple[bytes, bool]:
    """The serialised HTTP/1.1 request head and whether a streamed body goes chunked
    (see ``merge_headers``); ``absolute_form`` for a request sent to an HTTP proxy."""
    pairs, chunked = merge_headers(
        method, url, headers, body, proxy_authorization=proxy_authorization, cookie=cookie
    )
    target = url.unparse() if absolute_form else url.target
    return encode_request_head(method, target, pairs), chunked


_HEAD_CACHE_MAX: Final = 1024


def _headers_key(headers: Any) -> Hashable:
    if not headers:
        return None
    if type(headers) is dict:  # the common case, before the (slower) ABC checks
        return tuple(headers.items())
    if isinstance(headers, HttpHeaders):
        return tuple(headers.multi_items())
    if isinstance(headers, Mapping):
        return tuple(headers.items())
    return tuple(headers)


class HeadCache:
    """Routes and request heads by everything they are made of, bounded.

    ``get`` returns the route, the HTTP/1.1 head, the header pairs it was made of (shared
    between the requests that hit the entry: never change them) and whether a stream goes
    chunked. Besides the URL, the route depends on the request's TLS choice and HTTP/2 mode
    (``call``) and the client's ``proxy``; ``make_route`` makes it on a miss.
    """

    __slots__ = ("_heads",)

    def __init__(self) -> None:
        self._heads: dict[Hashable, tuple[Route, bytes, list[tuple[str, str]], bool]] = {}

    def get(
        self,
        method: str,
        url: URL,
        headers: Any,
        body: Body,
        cookie: str | None,
        call: Any,
        proxy: Any,
        make_route: Callable[[URL, bool, Any, str | None], Route],
    ) -> tuple[Route, bytes, list[tuple[str, str]], bool]:
        verify, ssl, h2 = call.verify, call.ssl, call.h2
        # The URL by identity: parsed URLs come from caches (an equal one misses, once).
        if body is NO_BODY:
            key: Hashable = (method, url, verify, ssl, h2, proxy,
                             None if headers is None else _headers_key(headers), cookie)
        else:
            data = body.data
            key = (
                method,
                url,
                verify,
                ssl,
                h2,
                proxy,
                None if headers is None else _headers_key(headers),
                cookie,
                tuple(body.headers) if body.headers else None,
                None if data is None else len(data),
                body.stream is not None,
                body.length,
            )
        try:
            found = self._heads.get(key)
        except TypeError:  # a header value that cannot be hashed: build it every time
            found, key = None, None
        if found is not None:
            return found
        route = make_route(url, verify, ssl, h2)
        pairs, chunked = merge_headers(
            method, url, headers, body,
            proxy_authorization=route.head_proxy_authorization, cookie=cookie,
        )
        target = url.unparse() if route.absolute_form else url.target
        found = (route, encode_request_head(method, target, pairs), pairs, chunked)
        if key is not None:
            if len(self._heads) >= _HEAD_CACHE_MAX:
                self._heads.clear()
            self._heads[key] = found
        return found


def build_connect_head(authority: str, proxy_authorization: str | None) -> bytes:
    """The head of a CONNECT request asking a proxy for a tunnel to ``authority``."""
    headers = [("Host", authority), ("User-Agent", USER_AGENT)]
    if proxy_authorization is not None:
        headers.append(("Proxy-Authorization", proxy_authorization))
    return encode_request_head("CONNECT", authority, headers)


async def close_stream(stream: Stream) -> None:
    """Finalise a body iterator once sent or abandoned, so that what it holds open (a file
    being uploaded, say) is released now rather than whenever it is garbage collected."""
    aclose = getattr(stream, "aclose", None)
    if aclose is not None:
        await aclose()
        return
    close = getattr(stream, "close", None)
    if close is not None:
        close()
