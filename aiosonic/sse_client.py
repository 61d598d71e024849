"""``SSEClient``: Server-Sent Events over ``HTTPClient``, with reconnection.

    async with aiosonic.SSEClient() as client:
        async with client.connect("http://127.0.0.1:8080/events") as conn:
            async for event in conn:
                print(event.event, event.data, event.id)

It owns the life of an event source: the request (``Accept: text/event-stream``,
``Cache-Control: no-cache``, ``Last-Event-ID`` once an id is known), the checks on the answer
(200 with a ``text/event-stream`` Content-Type; 204 means "no more events"), streaming the
body through the parser with ``HttpResponse.read_chunks()``, and reconnecting after the
reconnection time when the stream ends or breaks. Parsing is ``aiosonic._sse``'s job. It
never touches sockets, and uses ``HTTPClient`` only through its public API (``request()``,
``close()``, ``connector.timeouts``).
"""

from __future__ import annotations

import asyncio
import json as _json
import ssl as _ssl
from collections.abc import AsyncGenerator, AsyncIterator, Callable, Generator, Iterator
from contextlib import aclosing
from types import TracebackType
from typing import Any, cast

from ._headers import HttpHeaders
from ._sse import DEFAULT_MAX_EVENT_SIZE, EventStreamParser, SSEEvent
from .client import DataType, HeadersType, HTTPClient, JsonSerializer, ParamsType
from .exceptions import (
    AiosonicError,
    BaseTimeout,
    ConnectError,
    ConnectionDisconnected,
    InvalidRequest,
    ProxyError,
    SSEConnectionError,
    SSEError,
    SSEParsingError,
    TLSError,
)
from .response import HttpResponse
from .timeout import Timeouts

__all__ = [
    "SSEClient",
    "SSEConnection",
    "SSEConnectionError",
    "SSEError",
    "SSEEvent",
    "SSEParsingError",
]

DEFAULT_RETRY_DELAY = 3000  # milliseconds, as browsers do
# What an unexpected answer's body may show in the error: this much, waited for this long.
_ERROR_BODY_MAX = 64 * 1024
_ERROR_BODY_WAIT = 5.0


def _transient(exc: BaseException) -> bool:
    """True for failures worth a reconnection: the network, not the request or the TLS
    configuration."""
    if isinstance(exc, (TLSError, ProxyError)):
        return False
    return isinstance(exc, (ConnectError, ConnectionDisconnected, BaseTimeout))


def _media_type(content_type: str) -> str:
    return content_type.partition(";")[0].strip().lower()


def _wake(waiter: asyncio.Future[None]) -> None:
    if not waiter.done():
        waiter.set_result(None)


def _chunks(response: HttpResponse) -> AsyncGenerator[bytes, None]:
    # read_chunks() is an async generator; closing it early closes the connection at once
    # instead of whenever the garbage collector gets to it.
    return cast("AsyncGenerator[bytes, None]", response.read_chunks())


async def _error_body(response: HttpResponse) -> bytes:
    """The start of a refused answer's body, for the error message; never waits long."""
    parts: list[bytes] = []

    async def read() -> None:
        size = 0
        async with aclosing(_chunks(response)) as chunks:
            async for chunk in chunks:
                parts.append(chunk)
                size += len(chunk)
                if size >= _ERROR_BODY_MAX:
                    return

    try:
        await asyncio.wait_for(read(), _ERROR_BODY_WAIT)
    except (asyncio.TimeoutError, AiosonicError):
        pass  # the body only decorates the real error: what arrived is enough
    return b"".join(parts)[:_ERROR_BODY_MAX]


class _Request:
    """Everything needed to send the event-source request again."""

    __slots__ = ("data", "headers", "json", "kwargs", "method", "params", "url")

    def __init__(
        self,
        url: str,
        method: str,
        headers: HttpHeaders,
        params: ParamsType | None,
        data: DataType | None,
        json: dict[str, Any] | list[Any] | None,
        kwargs: dict[str, Any],
    ) -> None:
        self.url = url
        self.method = method
        self.headers = headers
        self.params = params
        self.data = data
        self.json = json
        self.kwargs = kwargs


class SSEConnection:
    """One event source: an async context manager, an awaitable and an async iterator.

    ``async with client.connect(...) as conn`` (or ``conn = await client.connect(...)``,
    then ``await conn.close()``) opens the stream; ``async for event in conn`` yields
    ``SSEEvent`` objects, reconnecting as configured, and ends when the server answers 204,
    when the stream ends without reconnection, or when the connection is closed. Leaving the
    ``async with`` block (or ``close()``) closes the HTTP connection at once.

    ``last_event_id`` is the ID that a reconnection sends as ``Last-Event-ID``;
    ``retry_delay`` the current reconnection time in milliseconds (the server's ``retry``
    field overrides the one given to ``connect``); ``response`` the ``HttpResponse`` being
    streamed, if any; ``closed`` whether no further event can come.
    """

    def __init__(
        self,
        http_client: HTTPClient,
        request: _Request,
        *,
        reconnect: bool,
        retry_delay: int,
        max_reconnect_attempts: int | None,
        max_event_size: int,
        on_close: Callable[[SSEConnection], None] | None = None,
    ) -> None:
        self._http = http_client
        self._request = request
        self._reconnect = reconnect
        self._retry_delay = retry_delay
        self._max_attempts = max_reconnect_attempts
        self._parser = EventStreamParser(
            max_event_size, request.headers.get("last-event-id", "")
        )
        self._on_close = on_close
        self._response: HttpResponse | None = None
        self._started = False
        self._closed = False
        self._iterator: AsyncGenerator[SSEEvent, None] | None = None
        self._waiter: asyncio.Future[None] | None = None

    # -- state ----------------------------------------------------------------------------

    @property
    def last_event_id(self) -> str:
        return self._parser.last_event_id

    @property
    def retry_delay(self) -> int:
        retry = self._parser.retry
        return self._retry_delay if retry is None else retry

    @property
    def response(self) -> HttpResponse | None:
        return self._response

    @property
    def closed(self) -> bool:
        return self._closed

    def __repr__(self) -> str:
        state = "closed" if self._closed else "open" if self._started else "new"
        # No URL: it may carry credentials or tokens, and reprs end up in logs.
        return f"<SSEConnection {self._request.method} {state}>"

    # -- opening and closing --------------------------------------------------------------

    async def _start(self) -> SSEConnection:
        if not self._started and not self._closed:
            self._started = True
            try:
                opened = await self._open()
            except BaseException as exc:
                await self.close()
                if _transient(exc):
                    raise SSEConnectionError(
                        f"could not open the event stream: {exc}"
                    ) from exc
                raise
            if not opened:
                await self.close()
        return self

    def __await__(self) -> Generator[Any, None, SSEConnection]:
        return self._start().__await__()

    async def __aenter__(self) -> SSEConnection:
        return await self._start()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    async def close(self) -> None:
        """Stop: close the HTTP connection of a stream in progress; no reconnection follows.

        Safe to call twice, and from another task than the one iterating."""
        self._closed = True
        waiter = self._waiter
        if waiter is not None:
            _wake(waiter)
        response = self._response
        self._response = None
        iterator = self._iterator
        # A generator suspended in another task's __anext__ cannot be closed from here;
        # discarding the response below ends that iteration instead.
        if iterator is not None and not getattr(iterator, "ag_running", False):
            await iterator.aclose()
        if response is not None:
            # An unfinished body cannot be reused: this closes its connection (and wakes a
            # reader in another task, which then sees ``closed``).
            await response.discard()
        self._finish()

    async def _open(self) -> bool:
        """Send the request; True if a stream is ready, False if the server said 204."""
        request = self._request
        headers = request.headers.copy()
        last_event_id = self._parser.last_event_id
        if last_event_id:
            headers["Last-Event-ID"] = last_event_id
        else:
            headers.pop("Last-Event-ID", None)
        response = await self._http.request(
            request.url,
            request.method,
            headers=headers,
            params=request.params,
            data=request.data,
            json=request.json,
            **request.kwargs,
        )
        status = response.status_code
        if status == 204:
            await response.discard()
            return False
        content_type = response.headers.get("content-type", "")
        if status != 200 or _media_type(content_type) != "text/event-stream":
            body = await _error_body(response)
            await response.discard()
            # Never the URL in a message: it may carry credentials or tokens.
            if status != 200:
                what = f"answered {status} {response.reason}".rstrip()
            else:
                what = f"answered 200 with Content-Type {content_type!r}"
            raise SSEConnectionError(
                f"the event source {what}, not a 200 text/event-stream",
                status_code=status,
                body=body,
            )
        if self._closed:  # closed by another task while the request was on its way
            await response.discard()
            return False
        self._response = response
        return True

    # -- iteration ------------------------------------------------------------------------

    def __aiter__(self) -> SSEConnection:
        return self

    async def __anext__(self) -> SSEEvent:
        iterator = self._iterator
        if iterator is None:
            if self._closed:
                raise StopAsyncIteration
            iterator = self._iterator = self._events()
        return await iterator.__anext__()

    async def _events(self) -> AsyncGenerator[SSEEvent, None]:
        parser = self._parser
        try:
            await self._start()
            attempts = 0  # reconnections since the last event
            while self._response is not None:
                failure: Exception | None = None
                try:
                    async with aclosing(_chunks(self._response)) as chunks:
                        async for chunk in chunks:
                            for event in parser.feed(chunk):
                                attempts = 0
                                yield event
                except Exception as exc:
                    if isinstance(exc, SSEParsingError) or not _transient(exc):
                        raise
                    failure = exc
                finally:
                    self._response = None
                    parser.new_stream()
                while not self._closed:
                    if not self._reconnect or (
                        self._max_attempts is not None and attempts >= self._max_attempts
                    ):
                        if failure is not None:
                            raise SSEConnectionError(
                                f"the event stream broke: {failure}"
                            ) from failure
                        return
                    attempts += 1
                    if not await self._pause(self.retry_delay / 1000):
                        return  # closed while waiting
                    try:
                        if not await self._open():
                            return  # 204: the server has no more events for us
                    except Exception as exc:
                        if not _transient(exc):
                            raise
                        failure = exc
                        continue
                    break
        finally:
            self._finish()

    def _finish(self) -> None:
        """No event can come any more: forget the client's reference to us."""
        self._closed = True
        on_close = self._on_close
        self._on_close = None
        if on_close is not None:
            on_close(self)

    async def _pause(self, seconds: float) -> bool:
        """Wait the reconnection time, or until ``close()``; False if closed."""
        loop = asyncio.get_running_loop()
        waiter = self._waiter = loop.create_future()
        timer = loop.call_later(seconds, _wake, waiter)
        try:
            await waiter
        finally:
            timer.cancel()
            self._waiter = None
        return not self._closed


def _is_one_shot(data: object) -> bool:
    return isinstance(data, (Iterator, AsyncIterator))


class SSEClient:
    """A Server-Sent Events client over an ``HTTPClient``.

    ``http_client``: the client to send requests with (its pool, cookies, proxy and TLS
    settings apply); when None, one is made and ``close()`` closes it. Use ``async with``
    or call ``close()``; closing also closes every connection still open.
    """

    def __init__(self, http_client: HTTPClient | None = None) -> None:
        self._owns_client = http_client is None
        self.http_client = http_client if http_client is not None else HTTPClient()
        self._connections: set[SSEConnection] = set()

    async def __aenter__(self) -> SSEClient:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    async def close(self) -> None:
        """Close every open event source, then the HTTP client if this object made it."""
        for conn in list(self._connections):
            await conn.close()
        if self._owns_client:
            await self.http_client.close()

    def connect(
        self,
        url: str,
        method: str = "GET",
        headers: HeadersType | None = None,
        params: ParamsType | None = None,
        data: DataType | None = None,
        json: dict[str, Any] | list[Any] | None = None,
        multipart: bool = False,
        verify: bool = True,
        ssl: _ssl.SSLContext | None = None,
        timeouts: Timeouts | None = None,
        follow: bool = False,
        http2: bool = False,
        reconnect: bool | None = None,
        retry_delay: int = DEFAULT_RETRY_DELAY,
        json_serializer: JsonSerializer = _json.dumps,
        keep_connection: bool = False,
        *,
        max_reconnect_attempts: int | None = None,
        max_event_size: int = DEFAULT_MAX_EVENT_SIZE,
    ) -> SSEConnection:
        """An event source for ``url``; open it with ``async with`` or ``await``.

        The request arguments are those of ``HTTPClient.request``. ``Accept:
        text/event-stream`` and ``Cache-Control: no-cache`` are sent unless ``headers`` set
        them; a ``Last-Event-ID`` in ``headers`` is where the stream resumes from.

        - ``timeouts``: by default the HTTP client's connect and pool-acquire limits with no
          ``sock_read`` and no ``request_timeout`` (a stream may be long and quiet). Pass a
          ``sock_read`` to reconnect when the server goes silent that long; a
          ``request_timeout`` given here cuts every stream when it elapses.
        - ``reconnect``: after the stream ends or breaks, wait the reconnection time and send
          the request again with ``Last-Event-ID``. None (the default) reconnects a GET only,
          so a POST (a prompt to a language model, say) is sent again only when asked. Without
          reconnection the iteration ends with the stream (raising ``SSEConnectionError`` if
          it broke). The server's 204 always stops; any other answer than a 200
          text/event-stream raises ``SSEConnectionError`` with its ``status_code``.
        - ``retry_delay``: the reconnection time in milliseconds until the server sends a
          ``retry`` field.
        - ``max_reconnect_attempts``: how many reconnections in a row, without an event in
          between, before giving up (None: no limit).
        - ``max_event_size``: the longest line or event data, in characters, before
          ``SSEParsingError``.
        - ``keep_connection``: accepted for compatibility and without effect: a connection
          whose stream ended goes back to the pool; one closed early never can.

        Opening the stream raises ``SSEConnectionError`` (the network failure chained) when
        the server cannot be reached; reconnections retry such failures.
        """
        del keep_connection
        if not isinstance(retry_delay, int) or isinstance(retry_delay, bool) or retry_delay < 0:
            raise ValueError(f"retry_delay must be a non-negative int (ms): {retry_delay!r}")
        if max_reconnect_attempts is not None and (
            not isinstance(max_reconnect_attempts, int)
            or isinstance(max_reconnect_attempts, bool)
            or max_reconnect_attempts < 0
        ):
            raise ValueError(
                f"max_reconnect_attempts must be None or a non-negative int: "
                f"{max_reconnect_attempts!r}"
            )
        if isinstance(method, str):  # anything else: HTTPClient.request says what is wrong
            method = method.upper()
        if reconnect is None:
            reconnect = method == "GET"
        if reconnect and _is_one_shot(data):
            raise InvalidRequest(
                "reconnect=True needs a body that can be sent again: pass bytes, str or a "
                "dict rather than an iterator, or reconnect=False"
            )
        merged = HttpHeaders(headers) if headers else HttpHeaders()
        if "accept" not in merged:
            merged["Accept"] = "text/event-stream"
        if "cache-control" not in merged:
            merged["Cache-Control"] = "no-cache"
        if timeouts is None:
            base = self.http_client.connector.timeouts
            timeouts = Timeouts(
                sock_connect=base.sock_connect,
                sock_read=None,
                pool_acquire=base.pool_acquire,
                request_timeout=None,
            )
        kwargs: dict[str, Any] = {
            "json_serializer": json_serializer,
            "multipart": multipart,
            "verify": verify,
            "ssl": ssl,
            "timeouts": timeouts,
            "follow": follow,
            "http2": http2,
        }
        request = _Request(url, method, merged, params, data, json, kwargs)
        conn = SSEConnection(
            self.http_client,
            request,
            reconnect=reconnect,
            retry_delay=retry_delay,
            max_reconnect_attempts=max_reconnect_attempts,
            max_event_size=max_event_size,
            on_close=self._connections.discard,
        )
        self._connections.add(conn)
        return conn
