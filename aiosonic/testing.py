"""Test doubles: answer ``HTTPClient`` requests in memory instead of over the network.

    import aiosonic
    from aiosonic.testing import MockTransport, Response

    def handler(request: aiosonic.Request) -> aiosonic.HttpResponse:
        if request.url.endswith("/users/1"):
            return Response(200, json={"id": 1, "name": "Ada"})
        return Response(404, text="no such user")

    async with aiosonic.HTTPClient(transport=MockTransport(handler)) as client:
        response = await client.get("https://api.example/users/1")
        assert (await response.json())["name"] == "Ada"

    # An ASGI application (Starlette, FastAPI, ...) called in-process, no server:
    client = aiosonic.HTTPClient(transport=ASGITransport(app))

Everything above the transport runs as it does with the network: redirects
(``follow=True``), the cookie jar (``handle_cookies=True``), retries (``RetryPolicy``), auth
flows (``DigestAuth`` answers a 401 challenge the handler sends), event hooks,
``raise_for_status()`` and progress callbacks. The transport is handed the request with every
header it would carry on the wire (Host, User-Agent, Accept-Encoding, Content-Length or
Transfer-Encoding, Cookie from the jar, Authorization from an auth flow).

- ``Response(status_code, *, headers=, content= | text= | json= | stream=, reason=,
  http_version=)``: an ``HttpResponse`` built in memory, read with ``content()``,
  ``text()``, ``json()``, ``read_chunks()`` and ``iter_lines()`` like one from the network;
  ``content`` is the body as sent, so a ``Content-Encoding: gzip`` body is decoded on reading.
- ``MockTransport(handler)``: ``handler(request)`` (a function or a coroutine function)
  returns the response; an exception it raises reaches the caller (raise ``ConnectError`` to
  test retries). A streamed request body is read with ``await request.read()``.
- ``ASGITransport(app, root_path="", client=("127.0.0.1", 123), raise_app_exceptions=True)``:
  calls an ASGI 3 application (Starlette, FastAPI, ...) in-process; the response streams
  as the app sends it. See its docstring for the scope, errors and what it does not do.

This module owns building responses in memory and the mock transport. It never opens a
socket and never changes how the client pipeline behaves: it only stands in for the network.
"""

from __future__ import annotations

import inspect
import json as _json
import weakref
from collections.abc import (
    AsyncIterable,
    AsyncIterator,
    Awaitable,
    Callable,
    Iterable,
    Iterator,
    Mapping,
)
from http import HTTPStatus
from typing import Any, cast

from ._asgi import ASGIProtocolError, ASGITransport
from ._headers import HttpHeaders
from ._request import close_stream
from ._transport import RequestTransport
from .exceptions import ConnectionDisconnected
from .request import Request
from .response import HttpResponse

__all__ = ["ASGIProtocolError", "ASGITransport", "MockTransport", "Response"]

HeaderPairs = Iterable[tuple[str | bytes, str | bytes]]
HeadersArg = Mapping[str, str] | HttpHeaders | HeaderPairs
BodyStream = Iterable[bytes] | AsyncIterable[bytes]
Handler = Callable[[Request], HttpResponse | Awaitable[HttpResponse]]

_NO_JSON: Any = object()
_FORBIDDEN = (b"\r", b"\n", b"\0")
_BYTES_LIKE = (bytes, bytearray, memoryview)


def _as_bytes(value: str | bytes, encoding: str, what: str) -> bytes:
    if isinstance(value, _BYTES_LIKE):
        data = bytes(value)
    elif isinstance(value, str):
        try:
            data = value.encode(encoding)
        except UnicodeEncodeError as exc:
            raise ValueError(f"header {what} {value!r} cannot be encoded as {encoding}") from exc
    else:
        raise TypeError(f"header {what} must be str or bytes, not {type(value).__name__}")
    if any(bad in data for bad in _FORBIDDEN):
        raise ValueError(f"header {what} {value!r} contains CR, LF or NUL")
    return data


def _header_pairs(headers: HeadersArg | None) -> list[tuple[bytes, bytes]]:
    """``headers`` as wire pairs: names in latin-1, str values in UTF-8 (which the
    response decodes back first, as it does for bytes from the network)."""
    if headers is None:
        return []
    items: Iterable[tuple[str | bytes, str | bytes]]
    if isinstance(headers, HttpHeaders):
        items = headers.multi_items()
    elif isinstance(headers, Mapping):
        items = cast(Mapping[str, str], headers).items()
    else:
        items = headers
    pairs = []
    for name, value in items:
        raw_name = _as_bytes(name, "latin-1", "name")
        if not raw_name or b":" in raw_name or b" " in raw_name:
            raise ValueError(f"header name {name!r} is not a valid token")
        pairs.append((raw_name, _as_bytes(value, "utf-8", "value")))
    return pairs


def _content_encoding(pairs: list[tuple[bytes, bytes]]) -> bytes | None:
    """Every Content-Encoding value joined in order, as the HTTP/1.1 parser reports it."""
    values = [value for name, value in pairs if name.lower() == b"content-encoding"]
    return b",".join(values) if values else None


class Response(HttpResponse):
    """An ``HttpResponse`` made in memory, for a handler or a test to return.

    - ``status_code``: 100 to 999; ``reason`` defaults to the standard phrase ("" for
      HTTP/2, as on the wire).
    - ``headers``: a mapping, an ``HttpHeaders`` or ``(name, value)`` pairs (str or bytes;
      repeated names such as Set-Cookie as pairs).
    - one body at most: ``content`` (bytes, as sent: encoded if ``Content-Encoding`` says
      so), ``text`` (sent as UTF-8, Content-Type ``text/plain; charset=utf-8`` unless given),
      ``json`` (serialised with ``json.dumps``, Content-Type ``application/json`` unless
      given) or ``stream`` (an iterator or async iterator of bytes, read as the caller reads
      the body; an exception it raises is raised to the reader).
    - Content-Length is added for ``content``/``text``/``json`` and Transfer-Encoding:
      chunked for an HTTP/1.1 ``stream``, unless ``headers`` has either, as a server would.

    Like one from the network, a response is read once: build a new one for each request.
    """

    __slots__ = ("_source", "_unclosed")

    def __init__(
        self,
        status_code: int = 200,
        *,
        headers: HeadersArg | None = None,
        content: bytes | None = None,
        text: str | None = None,
        json: Any = _NO_JSON,
        stream: BodyStream | None = None,
        reason: str | None = None,
        http_version: str = "1.1",
    ) -> None:
        if isinstance(status_code, bool) or not isinstance(status_code, int):
            raise TypeError(f"status_code must be an int, not {type(status_code).__name__}")
        if not 100 <= status_code <= 999:
            raise ValueError(f"status_code must be between 100 and 999, not {status_code}")
        present = {
            "content": content is not None,
            "text": text is not None,
            "json": json is not _NO_JSON,  # json=None is the JSON null
            "stream": stream is not None,
        }
        given = [name for name, there in present.items() if there]
        if len(given) > 1:
            raise ValueError(f"pass one body at most, not {' and '.join(given)}")
        pairs = _header_pairs(headers)
        names = {name.lower() for name, _ in pairs}
        data: bytes | None = None
        implied_type: str | None = None
        if content is not None:
            if not isinstance(content, _BYTES_LIKE):
                raise TypeError(f"content must be bytes, not {type(content).__name__}")
            data = bytes(content)
        elif text is not None:
            if not isinstance(text, str):
                raise TypeError(f"text must be a str, not {type(text).__name__}")
            data = text.encode("utf-8")
            implied_type = "text/plain; charset=utf-8"
        elif json is not _NO_JSON:
            data = _json.dumps(json).encode("utf-8")
            implied_type = "application/json"
        if implied_type is not None and b"content-type" not in names:
            pairs.append((b"Content-Type", implied_type.encode("ascii")))
        framed = b"content-length" in names or b"transfer-encoding" in names
        source: AsyncIterator[bytes] | Iterator[bytes] | None = None
        if stream is not None:
            if isinstance(stream, (str, *_BYTES_LIKE)):
                raise TypeError("stream must iterate over bytes pieces: pass bytes as content=")
            if isinstance(stream, AsyncIterable):
                source = aiter(stream)
            elif isinstance(stream, Iterable):
                source = iter(stream)
            else:
                raise TypeError(f"stream must be an iterable of bytes, not {type(stream)}")
            if not framed and http_version != "2":
                pairs.append((b"Transfer-Encoding", b"chunked"))
        elif data is not None and not framed:
            pairs.append((b"Content-Length", str(len(data)).encode("ascii")))
        if reason is None:
            try:
                reason = HTTPStatus(status_code).phrase if http_version != "2" else ""
            except ValueError:
                reason = ""
        chunked = any(
            name.lower() == b"transfer-encoding" and b"chunked" in value.lower()
            for name, value in pairs
        )
        super().__init__(
            status_code, reason, http_version, pairs, _content_encoding(pairs), chunked
        )
        self._source = source
        self._unclosed: AsyncIterator[bytes] | None = None
        if source is None:
            if data:
                self._feed(data)
            self._finish()

    # The body of a ``stream`` response is pulled from the iterator whenever a reader would
    # otherwise wait for the network: no task, and nothing read that nobody asked for.

    async def _wait(self) -> None:
        source = self._source
        if source is None:
            self._fail(ConnectionDisconnected("the response body has no source left"))
            return
        try:
            if isinstance(source, AsyncIterator):
                chunk: object = await anext(source)
            else:
                chunk = next(source)
        except (StopIteration, StopAsyncIteration):
            self._source = None
            self._finish()
            return
        except Exception as exc:
            # The stream failed: so does the body, for this reader and any later one.
            self._source = None
            self._fail(exc)
            return
        if not isinstance(chunk, _BYTES_LIKE):
            self._source = None
            await close_stream(source)
            self._fail(TypeError(f"a response stream gave {type(chunk).__name__}, not bytes"))
            return
        self._feed(bytes(chunk))

    def _release(self) -> None:
        """Detach the body's source and close it now if that needs no await (a sync
        iterator, the ASGI body); an async iterator is closed by ``discard``/``aclose``."""
        source = self._source
        self._source = None
        close = getattr(source, "close", None)
        if close is not None and not inspect.iscoroutinefunction(close):
            close()
        elif isinstance(source, AsyncIterator) and hasattr(source, "aclose"):
            self._unclosed = source

    def _abandon(self, why: str) -> None:
        if self._source is None or self._complete:
            return
        self._release()
        self._fail(ConnectionDisconnected(why))

    async def discard(self) -> None:
        await super().discard()
        source = self._unclosed
        if source is not None:
            self._unclosed = None
            await close_stream(source)


class MockTransport(RequestTransport):
    """Send ``HTTPClient`` requests to ``handler(request)`` instead of the network.

    ``handler`` gets the ``aiosonic.Request`` as it would go on the wire and returns an
    ``HttpResponse`` (usually a ``Response``); it may be a coroutine function. Whatever it
    raises reaches the caller through the client's layers, so ``raise
    aiosonic.exceptions.ConnectError("refused")`` is retried by a ``RetryPolicy`` exactly as a
    refused connection would be. A sync handler reads ``request.content``; a streamed body
    needs an async handler and ``await request.read()`` (a body nobody read is closed after
    the handler returns, as sending it would have).
    """

    __slots__ = ("_handed_out", "handler")

    def __init__(self, handler: Handler) -> None:
        if not callable(handler):
            raise TypeError(f"handler must be callable, not {type(handler).__name__}")
        self.handler = handler
        # Responses already returned: a handler that returns one twice gets a clear error
        # instead of a body that the first request's redirect or retry layer discarded.
        self._handed_out: weakref.WeakSet[HttpResponse] = weakref.WeakSet()

    def __repr__(self) -> str:
        return f"MockTransport({self.handler!r})"

    async def handle_request(self, request: Request) -> HttpResponse:
        try:
            result = self.handler(request)
            if inspect.isawaitable(result):
                result = await result
        finally:
            stream = request.stream
            if stream is not None:
                await close_stream(stream)
        if not isinstance(result, HttpResponse):
            raise TypeError(
                f"MockTransport handler must return an HttpResponse (aiosonic.testing."
                f"Response), not {type(result).__name__}"
            )
        if result in self._handed_out:
            raise ValueError(
                "MockTransport handler returned a response it had already returned: a "
                "response is read once, build a new one for each request"
            )
        self._handed_out.add(result)
        return result
