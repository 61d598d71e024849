"""``HttpResponse``: a response head plus the body as it arrives, and ways to read it.

The connection creates it when a head arrives and feeds it body pieces; the caller reads
with ``content()``, ``text()``, ``json()`` or ``read_chunks()``. It owns buffering, flow
control towards the connection (pause above a high-water mark when streaming), decoding
and charset detection. It never reads the socket itself and never decides about reuse.
"""

from __future__ import annotations

import asyncio
import codecs
import json as _json
import re
from collections import deque
from collections.abc import AsyncIterator, Callable
from typing import TYPE_CHECKING, Any, Protocol

from ._decode import BodyDecoder, make_decoder
from ._headers import HttpHeaders
from .exceptions import (
    ConnectionDisconnected,
    HTTPStatusError,
    ResponseConsumed,
)
from .limits import DEFAULT_LIMITS

if TYPE_CHECKING:
    from datetime import timedelta
    from http.cookies import SimpleCookie

    from ._url import URL

__all__ = ["BodySource", "HttpResponse", "ResponseConsumed"]

# While the caller streams, stop reading the socket above this many buffered bytes.
HIGH_WATER = 4 * 1024 * 1024
LOW_WATER = HIGH_WATER // 4


class BodySource(Protocol):
    """Where a response's body comes from: an HTTP/1.1 connection or an HTTP/2 stream."""

    def pause_body(self) -> None: ...

    def resume_body(self) -> None: ...

    def abort(self, exc: BaseException) -> None: ...


_LINE_END = re.compile(r"\r\n|\r|\n")


def _split_lines(text: str, final: bool) -> tuple[list[str], str]:
    """Complete lines of ``text`` and the unfinished rest. A CR at the very end stays in
    the rest (unless ``final``): the LF of its CRLF may be in the next piece."""
    lines: list[str] = []
    start = 0
    size = len(text)
    for match in _LINE_END.finditer(text):
        if not final and match.end() == size and match.group() == "\r":
            break
        lines.append(text[start : match.start()])
        start = match.end()
    return lines, text[start:]


def _decode_header(value: bytes) -> str:
    try:
        return value.decode("utf-8")
    except UnicodeDecodeError:
        return value.decode("latin-1")


class HttpResponse:
    """An HTTP response: status and headers now, the body when you ask for it.

    Properties: ``status_code``, ``ok``, ``reason``, ``http_version`` ("1.1" or "2"),
    ``headers`` (``HttpHeaders``), ``raw_headers`` (``[(name, value)]`` bytes in wire
    order), ``trailers`` (``HttpHeaders``, once the body is read), ``cookies``
    (``SimpleCookie`` or None), ``chunked``, ``url`` (the URL it answers), ``elapsed``
    (from sending the request to its head arriving), ``history`` (the redirect responses
    that led here, oldest first).
    """

    __slots__ = (
        "__weakref__",
        "_body",
        "_bounded",
        "_buffered",
        "_chunks",
        "_complete",
        "_consumed",
        "_content_encoding",
        "_cookies",
        "_error",
        "_head_at",
        "_headers",
        "_history",
        "_limits",
        "_progress",
        "_protocol",
        "_raw_headers",
        "_received",
        "_sent_at",
        "_trailers",
        "_url",
        "_waiter",
        "chunked",
        "http_version",
        "reason",
        "status_code",
    )

    def __init__(
        self,
        status_code: int,
        reason: str = "",
        http_version: str = "1.1",
        raw_headers: list[tuple[bytes, bytes]] | None = None,
        content_encoding: bytes | None = None,
        chunked: bool = False,
    ) -> None:
        self.status_code = status_code
        self.reason = reason
        self.http_version = http_version
        self._raw_headers = raw_headers or []
        self.chunked = chunked
        self._content_encoding = content_encoding
        self._headers: HttpHeaders | None = None
        self._cookies: SimpleCookie | None = None
        self._chunks: deque[bytes] = deque()
        self._buffered = 0
        self._complete = False
        self._consumed = False
        # Until the caller asks for the whole body, buffer at most HIGH_WATER bytes of it.
        self._bounded = True
        self._error: BaseException | None = None
        self._waiter: asyncio.Future[None] | None = None
        self._protocol: BodySource | None = None
        self._body: bytes | None = None
        self._limits = DEFAULT_LIMITS
        self._url: URL | None = None
        self._history: list[HttpResponse] | None = None
        self._sent_at = self._head_at = 0.0
        self._progress: Callable[[int, int | None], object] | None = None
        self._received = 0
        self._trailers: list[tuple[bytes, bytes]] | None = None

    # -- head -----------------------------------------------------------------------------

    @property
    def ok(self) -> bool:
        """True if ``status_code`` is in the 2xx range."""
        return 200 <= self.status_code < 300

    @property
    def raw_headers(self) -> list[tuple[bytes, bytes]]:
        """The headers as ``[(name, value)]`` bytes, in wire order and original case."""
        return self._raw_headers

    @raw_headers.setter
    def raw_headers(self, value: list[tuple[bytes, bytes]]) -> None:
        self._raw_headers = value
        self._headers = None
        self._cookies = None

    @property
    def headers(self) -> HttpHeaders:
        headers = self._headers
        if headers is None:
            headers = self._headers = HttpHeaders()
            for name, value in self.raw_headers:
                headers.add(name.decode("latin-1"), _decode_header(value))
        return headers

    @property
    def trailers(self) -> HttpHeaders:
        """The trailer fields that followed the body (a chunked HTTP/1.1 body, or HTTP/2),
        once the body has been read to its end; empty before that, or if there were none.
        Bounded like the head (``Limits.max_headers``, ``max_head_size``)."""
        headers = HttpHeaders()
        for name, value in self._trailers or ():
            headers.add(name.decode("latin-1"), _decode_header(value))
        return headers

    @property
    def cookies(self) -> SimpleCookie | None:
        """The cookies this response sets, or None if it sets none."""
        if self._cookies is None:
            from http.cookies import CookieError, SimpleCookie  # kept off import time

            jar = SimpleCookie()
            for name, value in self.raw_headers:
                if len(name) == 10 and name.lower() == b"set-cookie":
                    try:
                        jar.load(_decode_header(value))
                    except CookieError:
                        continue  # one malformed cookie must not hide the others
            if not jar:
                return None
            self._cookies = jar
        return self._cookies

    @property
    def url(self) -> str | None:
        """The URL this response answers (after any redirects); None if unknown."""
        return None if self._url is None else self._url.unparse()

    @property
    def elapsed(self) -> timedelta:
        """Time from sending the request until its response head arrived."""
        from datetime import timedelta  # kept off import time

        return timedelta(seconds=max(self._head_at - self._sent_at, 0.0))

    @property
    def history(self) -> list[HttpResponse]:
        """The redirect responses that led to this one, oldest first (bodies discarded)."""
        if self._history is None:
            self._history = []
        return self._history

    @history.setter
    def history(self, value: list[HttpResponse]) -> None:
        self._history = value

    def raise_for_status(self) -> HttpResponse:
        """Raise ``HTTPStatusError`` for a 4xx or 5xx status; return the response otherwise
        (so that calls chain)."""
        status = self.status_code
        if 400 <= status < 600:
            kind = "client error" if status < 500 else "server error"
            where = f" for {self.url}" if self._url is not None else ""
            raise HTTPStatusError(f"{status} {self.reason} ({kind}){where}", self)
        return self

    def __repr__(self) -> str:
        return f"<HttpResponse {self.status_code} {self.reason!r}>"

    # -- fed by the connection ------------------------------------------------------------

    def _feed(self, data: bytes) -> None:
        self._chunks.append(data)
        self._buffered += len(data)
        if self._progress is not None:
            self._received += len(data)
            self._progress(self._received, self._expected_size())
        waiter = self._waiter
        if waiter is not None:
            self._waiter = None
            if not waiter.done():
                waiter.set_result(None)
        if self._bounded and self._buffered > HIGH_WATER and self._protocol is not None:
            self._protocol.pause_body()

    def _watch_download(self, callback: Callable[[int, int | None], object]) -> None:
        """Report ``callback(bytes_received, total_or_None)`` as body bytes arrive, starting
        with those that came with the head."""
        self._progress = callback
        self._received = self._buffered
        if self._received or self._complete:
            callback(self._received, self._expected_size())

    def _expected_size(self) -> int | None:
        value = self.headers.get("content-length")
        return int(value) if value is not None and value.isdigit() else None

    def _finish(self) -> None:
        self._complete = True
        self._protocol = None
        self._wake()

    def _fail(self, exc: BaseException) -> None:
        if self._complete:
            return
        self._error = exc
        self._protocol = None
        self._wake()

    def _wake(self) -> None:
        waiter = self._waiter
        if waiter is not None:
            self._waiter = None
            if not waiter.done():
                waiter.set_result(None)

    async def _wait(self) -> None:
        waiter = self._waiter = asyncio.get_running_loop().create_future()
        await waiter

    def _take(self) -> bytes:
        chunk = self._chunks.popleft()
        self._buffered -= len(chunk)
        protocol = self._protocol
        if protocol is not None and self._buffered < LOW_WATER:
            protocol.resume_body()
        return chunk

    # -- reading --------------------------------------------------------------------------

    def _decoder(self) -> BodyDecoder | None:
        limits = self._limits
        return make_decoder(
            self._content_encoding, limits.max_decompressed_size, limits.max_encodings
        )

    async def _raw_body(self) -> bytes:
        """The whole undecoded body, waiting for it without a high-water limit."""
        if self._consumed:
            raise ResponseConsumed("the body was already read with read_chunks()")
        self._bounded = False
        protocol = self._protocol
        if protocol is not None:
            protocol.resume_body()
        try:
            while not self._complete:
                if self._error is not None:
                    raise self._error
                await self._wait()
        except asyncio.CancelledError:
            self._abandon("cancelled while reading the response body")
            raise
        chunks = self._chunks
        if len(chunks) == 1:
            return chunks[0]
        body = b"".join(chunks)
        chunks.clear()
        if body:
            chunks.append(body)
        return body

    async def content(self) -> bytes:
        """The whole body, decoded from gzip or deflate if the server encoded it."""
        body = self._body
        if body is not None:
            return body
        if self._consumed:
            raise ResponseConsumed("the body was already read with read_chunks()")
        if self._complete and self._content_encoding is None:
            # Fast path: everything arrived with the head; no event-loop round trip.
            chunks = self._chunks
            body = chunks[0] if len(chunks) == 1 else b"".join(chunks)
        else:
            body = await self._raw_body()
            decoder = self._decoder()
            if decoder is not None:
                body = decoder.feed(body) + decoder.flush()
        self._body = body
        return body

    async def text(self, encoding: str | None = None) -> str:
        """The body as text: ``encoding``, else the Content-Type charset, else detected."""
        body = await self.content()
        if encoding is None:
            encoding = self._charset()
        if encoding is not None:
            return body.decode(encoding, errors="replace")
        try:
            return body.decode("utf-8")
        except UnicodeDecodeError:
            pass
        from charset_normalizer import from_bytes  # costly import: only when needed

        best = from_bytes(body).best()
        return body.decode(best.encoding if best else "latin-1", errors="replace")

    def _charset(self) -> str | None:
        content_type = self.headers.get("content-type")
        if not content_type:
            return None
        for param in content_type.split(";")[1:]:
            key, _, value = param.partition("=")
            if key.strip().lower() == "charset":
                charset = value.strip().strip("\"'")
                try:
                    return codecs.lookup(charset).name
                except LookupError:
                    return None
        return None

    async def json(self, json_decoder: Callable[[str], Any] = _json.loads) -> Any:
        """The body parsed as JSON (with ``json_decoder``, default ``json.loads``)."""
        return json_decoder(await self.text())

    async def discard(self) -> None:
        """Drop the body unread. An incomplete body closes its connection (never reused)."""
        self._chunks.clear()
        self._buffered = 0
        self._abandon("response discarded before its end")

    def _abandon(self, why: str) -> None:
        """Nobody will read the rest of the body: close the connection instead of reusing it."""
        protocol = self._protocol
        if protocol is not None and not self._complete:
            self._protocol = None
            protocol.abort(ConnectionDisconnected(why))

    def iter_bytes(self) -> AsyncIterator[bytes]:
        """The body piece by piece, decoded (the same as ``read_chunks()``)."""
        return self.read_chunks()

    async def iter_lines(self, encoding: str | None = None) -> AsyncIterator[str]:
        """The body as text lines (without their line ending), decoded incrementally;
        ``\\n``, ``\\r\\n`` and ``\\r`` end a line. ``encoding``: else the Content-Type
        charset, else UTF-8."""
        decoder = codecs.getincrementaldecoder(encoding or self._charset() or "utf-8")(
            errors="replace"
        )
        pending = ""
        async for chunk in self.read_chunks():
            lines, pending = _split_lines(pending + decoder.decode(chunk), final=False)
            for line in lines:
                yield line
        lines, pending = _split_lines(pending + decoder.decode(b"", final=True), final=True)
        for line in lines:
            yield line
        if pending:
            yield pending

    async def aclose(self) -> None:
        """Done with this response: an unread or half-read body closes its connection
        (never reused); a complete one leaves the connection in the pool."""
        if not self._complete:
            await self.discard()

    async def read_chunks(self) -> AsyncIterator[bytes]:
        """Stream the body piece by piece as it arrives, decoded, without buffering it all.

        Raises ``ConnectionDisconnected`` at the end if the server cut the body short.
        """
        if self._consumed or self._body is not None:
            if self._body is not None:
                if self._body:
                    yield self._body
                return
            raise ResponseConsumed("the body was already read with read_chunks()")
        self._consumed = True
        decoder = self._decoder()
        chunks = self._chunks
        try:
            while True:
                if chunks:
                    chunk = self._take()
                    if decoder is not None:
                        chunk = decoder.feed(chunk)
                    if chunk:
                        yield chunk
                elif self._complete:
                    if decoder is not None:
                        tail = decoder.flush()
                        if tail:
                            yield tail
                    return
                elif self._error is not None:
                    raise self._error
                else:
                    await self._wait()
        except BaseException:
            # Cancelled, closed early by the caller (GeneratorExit) or failed: the rest of
            # the body will never be read, so its connection must not be reused.
            self._abandon("stopped reading the response body before its end")
            raise
