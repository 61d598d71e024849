"""The ASGI transport: answer ``HTTPClient`` requests with an ASGI 3 application in-process.

Each request is one call of ``app(scope, receive, send)`` in a task, as an ASGI server
makes it; ``ASGITransport``'s docstring says what the app sees and what the caller gets.
Public through ``aiosonic.testing``.

This module owns the HTTP scope, the receive/send channel of one request and turning the
app's messages into an ``HttpResponse``. It never opens a socket, never runs lifespan
events and applies no timeouts.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import (
    AsyncIterable,
    AsyncIterator,
    Awaitable,
    Callable,
    Iterator,
    Mapping,
    MutableMapping,
)
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote

from ._request import close_stream
from ._transport import RequestTransport
from .exceptions import ConnectionDisconnected, HttpParsingError, InvalidRequest
from .request import Request
from .response import HIGH_WATER, LOW_WATER, HttpResponse

if TYPE_CHECKING:
    from ._url import URL

__all__ = ["ASGIApp", "ASGIProtocolError", "ASGITransport"]

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

_DEFAULT_PORTS = {"http": 80, "https": 443}
_BYTES_LIKE = (bytes, bytearray, memoryview)


class ASGIProtocolError(HttpParsingError):
    """The ASGI app broke the protocol: it returned without starting the response or without
    finishing its body, or sent a message that is unknown, malformed or out of order."""


def _encode_value(value: str) -> bytes:
    try:
        return value.encode("latin-1")
    except UnicodeEncodeError:
        return value.encode("utf-8")  # what the network path sends for such a value


def _server(host_header: str | None, url: URL) -> tuple[str, int]:
    """``(host, port)`` the request is addressed to, from its Host header (else its URL)."""
    if not host_header:
        return url.host, url.port
    if host_header.startswith("["):
        host, _, rest = host_header[1:].partition("]")
        port = rest[1:]
    elif host_header.count(":") == 1:
        host, _, port = host_header.partition(":")
    else:
        host, port = host_header, ""
    return host, int(port) if port.isdigit() else _DEFAULT_PORTS.get(url.scheme, url.port)


class _Exchange:
    """One request/response between the client and a running app: what ``receive`` and
    ``send`` see on the app's side, and the state the client's side reads."""

    __slots__ = (
        "buffered",
        "changed",
        "chunks",
        "content",
        "disconnected",
        "done",
        "error",
        "final_sent",
        "finished",
        "head_at",
        "is_head",
        "raise_errors",
        "request_done",
        "response",
        "source",
        "space",
        "stream",
        "task",
    )

    def __init__(self, request: Request, raise_errors: bool) -> None:
        self.is_head = request.method == "HEAD"
        self.raise_errors = raise_errors
        stream = request.stream
        self.stream = stream
        self.source: AsyncIterator[bytes] | Iterator[bytes] | None = None
        self.content = b""
        if stream is None:
            self.content = request.content
        else:
            self.source = aiter(stream) if isinstance(stream, AsyncIterable) else iter(stream)
        self.request_done = False
        self.task: asyncio.Task[None] | None = None
        self.response: HttpResponse | None = None
        self.head_at = 0.0
        self.final_sent = False  # the app sent its last body message
        self.done = False  # the app returned or failed
        self.error: BaseException | None = None
        self.disconnected = False  # the client abandoned the response
        self.chunks: deque[bytes] = deque()
        self.buffered = 0
        # Set on the head, each body piece and the end: wakes whoever waits on the client side.
        self.changed = asyncio.Event()
        # Cleared while too much body is unread: send() waits on it.
        self.space = asyncio.Event()
        self.space.set()
        # The response was sent or abandoned: receive() may answer http.disconnect.
        self.finished = asyncio.Event()

    # -- the app's side -------------------------------------------------------------------

    async def receive(self) -> Message:
        if not self.request_done:
            return await self._request_message()
        await self.finished.wait()
        return {"type": "http.disconnect"}

    async def _request_message(self) -> Message:
        source = self.source
        if source is None:
            self.request_done = True
            return {"type": "http.request", "body": self.content, "more_body": False}
        try:
            if isinstance(source, AsyncIterator):
                piece = await anext(source)
            else:
                piece = next(source)
        except (StopAsyncIteration, StopIteration):
            self.request_done = True
            await self.close_request_body()
            return {"type": "http.request", "body": b"", "more_body": False}
        return {"type": "http.request", "body": bytes(piece), "more_body": True}

    async def close_request_body(self) -> None:
        stream = self.stream
        if stream is not None:
            self.stream = None
            await close_stream(stream)

    async def send(self, message: Message) -> None:
        if self.disconnected:
            raise OSError("the client closed the response")
        if not isinstance(message, Mapping):
            raise ASGIProtocolError(f"an ASGI message must be a dict, not {type(message)}")
        kind = message.get("type")
        if kind == "http.response.start":
            self._start(message)
        elif kind == "http.response.body":
            await self._body(message)
        else:
            raise ASGIProtocolError(f"unexpected ASGI message type {kind!r} for an http scope")

    def _start(self, message: Message) -> None:
        if self.response is not None:
            raise ASGIProtocolError("http.response.start sent twice")
        from .testing import Response  # imports this module: resolved at call time

        try:
            self.response = Response(
                message.get("status"),  # type: ignore[arg-type]  # checked by Response
                headers=message.get("headers") or [],
                stream=_AppBody(self),
            )
        except (TypeError, ValueError) as exc:
            raise ASGIProtocolError(f"invalid http.response.start: {exc}") from exc
        self.head_at = asyncio.get_running_loop().time()
        self.changed.set()

    async def _body(self, message: Message) -> None:
        if self.response is None:
            raise ASGIProtocolError("http.response.body sent before http.response.start")
        if self.final_sent:
            raise ASGIProtocolError("http.response.body sent after the last one (more_body)")
        body = message.get("body", b"")
        if not isinstance(body, _BYTES_LIKE):
            raise ASGIProtocolError(f"http.response.body body must be bytes, not {type(body)}")
        if body and not self.is_head:  # a server sends no body for HEAD
            self.chunks.append(bytes(body))
            self.buffered += len(body)
        if not message.get("more_body", False):
            self.final_sent = True
            self.finished.set()
        self.changed.set()
        if self.buffered > HIGH_WATER and not self.final_sent:
            self.space.clear()
            await self.space.wait()
            if self.disconnected:
                raise OSError("the client closed the response")

    def app_ended(self, error: BaseException | None, cancelled: bool = False) -> None:
        self.done = True
        if error is None:
            if cancelled and not self.final_sent:
                error = ConnectionDisconnected("the ASGI app was cancelled before it answered")
            elif self.response is None:
                error = ASGIProtocolError(
                    "the ASGI app returned without sending http.response.start"
                )
            elif not self.final_sent:
                error = ASGIProtocolError(
                    "the ASGI app returned without finishing the response body "
                    "(its last http.response.body had more_body=True)"
                )
        self.error = error
        self.finished.set()
        self.space.set()
        self.changed.set()

    # -- the client's side ----------------------------------------------------------------

    def abandon(self) -> None:
        """Nobody will read the response: tell the app, and stop it as a closed connection
        would."""
        if self.disconnected:
            return
        self.disconnected = True
        self.finished.set()
        self.space.set()
        task = self.task
        if task is not None and not task.done():
            task.cancel()


class _AppBody:
    """The response body as the app sends it: the ``stream`` of the response (pulled by
    its reader), ending when the app returns."""

    __slots__ = ("_exchange",)

    def __init__(self, exchange: _Exchange) -> None:
        self._exchange = exchange

    def __aiter__(self) -> _AppBody:
        return self

    async def __anext__(self) -> bytes:
        exchange = self._exchange
        while True:
            if exchange.chunks:
                chunk = exchange.chunks.popleft()
                exchange.buffered -= len(chunk)
                if exchange.buffered < LOW_WATER:
                    exchange.space.set()
                return chunk
            if exchange.done:
                error = exchange.error
                if error is None or (exchange.final_sent and not exchange.raise_errors):
                    raise StopAsyncIteration
                if exchange.raise_errors:
                    raise error
                raise ConnectionDisconnected(
                    f"the ASGI app failed before finishing the response: {error!r}"
                ) from error
            exchange.changed.clear()
            await exchange.changed.wait()

    def close(self) -> None:
        if not self._exchange.done:
            self._exchange.abandon()


class ASGITransport(RequestTransport):
    """Send ``HTTPClient`` requests to the ASGI 3 application ``app``, in-process.

        async with aiosonic.HTTPClient(transport=ASGITransport(app)) as client:
            response = await client.get("http://testserver/items?q=caf%C3%A9")

    - ``root_path``: the scope's ``root_path`` (where the app is mounted).
    - ``client``: the scope's ``client`` (the peer address the app sees), or None.
    - ``raise_app_exceptions``: raise what the app raises (True), or answer as an ASGI
      server would (False): a 500 response when the app fails before the response head,
      else a body cut short (``ConnectionDisconnected`` when it is read).

    The app sees:

    - the scope: ``type`` "http", ``asgi`` 3.0 (spec 2.4), ``http_version`` "1.1",
      ``method``, ``scheme``, ``path`` (percent-decoded; the full path: ``root_path`` is
      neither added nor stripped), ``raw_path`` and ``query_string`` (bytes as on the wire),
      ``root_path``, ``headers`` (every request header, names lower-cased, bytes pairs),
      ``server`` (from the Host header) and ``client``;
    - ``receive()``: one ``http.request`` message for a body in memory, one per piece with
      ``more_body=True`` for a streamed body; then, once the response is sent (or the caller
      abandoned it), ``http.disconnect``;
    - ``send()`` raising ``OSError`` once the caller has abandoned the response.

    The caller gets the response as soon as ``http.response.start`` arrives and reads the
    body as the app sends it, so streaming responses (server-sent events) work; ``send``
    waits while more than 4 MiB are unread. The body ends when the app returns, so work done
    after the last body message (background tasks) has finished once the body is read. A
    response abandoned unread (``discard()``, ``aclose()``, a cancelled read) cancels the
    app, as a closed connection would.

    With ``raise_app_exceptions=True`` an app's exception reaches the caller unchanged:
    from the request when it came before the request returned, else from reading the body
    (an exception after the body was read in full is lost, as it would be by a server). An
    app that breaks the protocol (returns without starting the response or without finishing
    its body, sends an unknown, malformed or out-of-order message) raises
    ``ASGIProtocolError``.

    Not done: lifespan events (run the app's lifespan yourself if it needs one), WebSockets,
    and timeouts (the client's ``Timeouts`` do not apply: an app that never answers hangs
    the request).
    """

    __slots__ = ("_tasks", "app", "client", "raise_app_exceptions", "root_path")

    def __init__(
        self,
        app: ASGIApp,
        root_path: str = "",
        client: tuple[str, int] | None = ("127.0.0.1", 123),
        raise_app_exceptions: bool = True,
    ) -> None:
        if not callable(app):
            raise TypeError(f"app must be an ASGI 3 callable, not {type(app).__name__}")
        self.app = app
        self.root_path = root_path
        self.client = client
        self.raise_app_exceptions = raise_app_exceptions
        # The running apps: the loop keeps only weak references to tasks.
        self._tasks: set[asyncio.Task[None]] = set()

    def __repr__(self) -> str:
        return f"ASGITransport({self.app!r})"

    def _scope(self, request: Request) -> Scope:
        """The ASGI HTTP scope for ``request``."""
        url = request.parsed_url()
        path, _, query = url.target.partition("?")
        headers = []
        for name, value in request.headers.multi_items():
            try:
                raw_name = name.lower().encode("ascii")
            except UnicodeEncodeError as exc:
                raise InvalidRequest(f"header name {name!r} is not a valid token") from exc
            headers.append((raw_name, _encode_value(value)))
        return {
            "type": "http",
            "asgi": {"version": "3.0", "spec_version": "2.4"},
            "http_version": "1.1",
            "method": request.method,
            "scheme": url.scheme,
            "path": unquote(path),
            "raw_path": path.encode("ascii"),
            "query_string": query.encode("ascii"),
            "root_path": self.root_path,
            "headers": headers,
            "server": _server(request.headers.get("host"), url),
            "client": self.client,
        }

    async def handle_request(self, request: Request) -> HttpResponse:
        scope = self._scope(request)
        loop = asyncio.get_running_loop()
        sent_at = loop.time()
        exchange = _Exchange(request, self.raise_app_exceptions)
        task = exchange.task = loop.create_task(self._run(scope, exchange))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        try:
            while exchange.response is None and not exchange.done:
                exchange.changed.clear()
                await exchange.changed.wait()
        except BaseException:
            exchange.abandon()
            raise
        response = exchange.response
        error = exchange.error
        if response is None:
            assert error is not None  # app_ended gives an app without a head an error
            if self.raise_app_exceptions:
                raise error
            from .testing import Response

            return Response(500, text="Internal Server Error")
        if error is not None and self.raise_app_exceptions:
            # The app failed (or broke the protocol) before the request returned.
            await response.discard()
            raise error
        response._sent_at = sent_at
        response._head_at = exchange.head_at
        return response

    async def _run(self, scope: Scope, exchange: _Exchange) -> None:
        try:
            await self.app(scope, exchange.receive, exchange.send)
        except asyncio.CancelledError:
            exchange.app_ended(None, cancelled=True)
            raise
        except Exception as exc:
            exchange.app_ended(exc)
        else:
            exchange.app_ended(None)
        finally:
            await exchange.close_request_body()
