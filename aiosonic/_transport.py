"""``NetworkTransport``: the ``Transport`` that sends exchanges over real connections.

    send(exchange) -> a slot from the route's pool (a shared HTTP/2 one, an idle HTTP/1.1
                      one, or a free one) -> dial it if it holds nothing open -> the slot's
                      connection handles the exchange -> the response head

Its own decisions are the ones that span connections: wait for the connection being opened
to a route that may come up as HTTP/2 instead of opening another; send an exchange again,
on a fresh connection, when a reused HTTP/1.1 connection turns out to have been closed
by the server before answering (idempotent requests with a replayable body only), when
an HTTP/2 server did not process the stream (GOAWAY, REFUSED_STREAM), or without its
``Expect: 100-continue`` when that was refused with a 417 before the body went out.
``upgrade`` is the same path for a request that switches protocols (a WebSocket handshake).

It never builds requests (the client does), never opens sockets itself (the ``Dialer``
does), never parses bytes (the connections do) and keeps no connection of its own: the
pools own them all.
"""

from __future__ import annotations

import asyncio
from collections.abc import Hashable
from time import monotonic as _monotonic
from typing import TYPE_CHECKING, Final, Protocol, cast

from ._dial import Dialer
from ._http11_conn import ExpectationRefused, HTTP11Protocol
from ._interfaces import Exchange, Stream, Transport
from ._mypyc import mypyc_attr
from ._request import Body
from .connection import Connection
from .exceptions import (
    AiosonicError,
    ConnectionDisconnected,
    ConnectionPoolAcquireTimeout,
    RequestTimeout,
    StreamNotProcessed,
)
from .pools import BasePool
from .request import Request
from .response import HttpResponse

if TYPE_CHECKING:
    from ._routes import Route
    from .hooks import Trace

__all__ = ["NetworkTransport", "RequestTransport", "as_transport"]

# Bodies larger than this are written in slices of this size.
# A C static in the compiled build (a plain import is a dict lookup on every call).
monotonic: Final = _monotonic
_SLICE_ABOVE: Final = 1024 * 1024
# How many times a stream the server did not process is sent again.
_UNPROCESSED_TRIES: Final = 3


def _slices(body: bytes) -> Stream:
    view = memoryview(body)
    # memoryview slices are bytes-like: the transport writes them without a copy.
    return cast(Stream, (view[i : i + _SLICE_ABOVE] for i in range(0, len(view), _SLICE_ABOVE)))


class NetworkTransport:
    """Sends exchanges through the pools' connections, dialing with ``dialer``."""

    def __init__(self, default_pool: BasePool, dialer: Dialer) -> None:
        self.default_pool = default_pool
        self.dialer = dialer

    async def send(self, exchange: Exchange) -> HttpResponse:
        """Send one exchange; its response once the head has arrived."""
        data = exchange.data
        if data is not None and len(data) > _SLICE_ABOVE and exchange.route.http2 is None:
            # One huge write makes the transport copy whatever the socket did not take at
            # once (most of it); sent in slices under write flow control, nothing is copied.
            exchange.restart = lambda: _slices(data)
            exchange.stream, exchange.data, exchange.chunked = exchange.restart(), None, False
        _start_clock(exchange)
        route = exchange.route
        pool = route.pool or self.default_pool
        retried = unprocessed = 0
        key = route.key
        while True:
            conn = None
            if retried:
                # Sent again after a kept-alive connection proved closed: on a new one, since
                # the other idle connections of the route may have been closed as well.
                conn, reused = await self._fresh_slot(pool, route, exchange), False
                exchange.started = monotonic()
            elif route.negotiated == "http/1.1":
                # The common case, without a call: an idle HTTP/1.1 connection of the route.
                conn = pool.acquire_nowait(key)
                reused = False
                if conn is not None and conn.key == key:
                    protocol = conn.protocol
                    reused = protocol is not None and protocol.reusable(exchange.started)
                if reused and exchange.trace is not None:
                    exchange.trace("connection_reused", http_version="1.1")
            else:
                conn, reused = self._ready(pool, route, exchange.trace, exchange.started)
            if not reused and not retried:
                conn, reused = await self._slot(pool, route, exchange, conn)
                exchange.started = monotonic()  # after waiting for a slot or dialing
            assert conn is not None
            protocol = conn.protocol
            assert protocol is not None
            try:
                response = await protocol.handle_request(exchange)
            except StreamNotProcessed:
                unprocessed += 1
                if exchange.idempotent and exchange.stream is None and (
                    unprocessed < _UNPROCESSED_TRIES
                ):
                    exchange.started = monotonic()
                    continue
                raise
            except ExpectationRefused:
                # Something on the way does not do 100-continue (RFC 9110 10.1.1): the body
                # never went out, so even a POST is sent again, without the expectation.
                exchange.expect100 = None
                exchange.started = monotonic()
                continue
            except ConnectionDisconnected:
                if (
                    reused
                    and not protocol.http2
                    and exchange.idempotent
                    and not retried
                    and exchange.replayable
                    and not cast(HTTP11Protocol, protocol).received_any
                ):
                    # A keep-alive connection the server had already closed: try once more.
                    # Only idempotent requests: a POST is never silently sent twice.
                    retried += 1
                    if exchange.stream is not None:
                        assert exchange.restart is not None
                        exchange.stream = exchange.restart()
                    continue
                raise
            response._url = exchange.url
            return response

    async def upgrade(
        self, exchange: Exchange
    ) -> tuple[HttpResponse, asyncio.Transport | None, bytes]:
        """Send a request asking to switch protocols on a new HTTP/1.1 connection.

        On a 101 answer the connection leaves the pool: returns the response, the transport
        (now the caller's to drive and close, with ``transport.set_protocol``) and the bytes
        that already arrived after the head. Any other answer is an ordinary response
        (returned with None and b""); reading or discarding it frees the connection.
        """
        _start_clock(exchange)
        route = exchange.route
        pool = route.pool or self.default_pool
        conn = pool.acquire_nowait(route.key)
        if conn is None:
            conn = await _wait_for_slot(pool, route.key, exchange)
        await self._dial(conn, route, exchange, pool)  # a connection of its own, always
        exchange.started = monotonic()
        protocol = cast(HTTP11Protocol, conn.protocol)  # upgrade routes never offer h2
        response = await protocol.handle_request(exchange)
        if response.status_code != 101:
            return response, None, b""
        transport, tail = protocol.detach()
        conn.detach()
        return response, transport, tail

    # -- slots ----------------------------------------------------------------------------

    def _ready(
        self, pool: BasePool, route: Route, trace: Trace | None, now: float
    ) -> tuple[Connection | None, bool]:
        """Take a slot without waiting: (slot, True) if its connection takes the exchange
        at once (a free stream on a shared HTTP/2 connection, an idle HTTP/1.1 one of this
        route), (slot, False) for a free slot that must be dialed first, (None, False) if
        none is to be had now (``_slot`` then waits, or opens one)."""
        key = route.key
        if _multiplexed(route):
            conn = pool.acquire_shared(key)
            if conn is not None and trace is not None:
                trace("connection_reused", http_version="2")
            return conn, conn is not None
        conn = pool.acquire_nowait(key)
        if conn is None:
            return None, False
        return conn, _reusable(conn, route, trace, now)

    async def _slot(
        self, pool: BasePool, route: Route, exchange: Exchange, held: Connection | None
    ) -> tuple[Connection, bool]:
        """A slot for the exchange (starting from ``held``, a free slot taken already),
        waiting for one (or for the connection being opened to its route) and opening one
        as needed; and whether its connection was reused."""
        key = route.key
        trace = exchange.trace
        while True:
            conn, held = held, None
            if conn is None:
                conn, ready = self._ready(pool, route, trace, monotonic())
                if ready:
                    assert conn is not None
                    return conn, True
            multiplexed = _multiplexed(route)
            if conn is None and multiplexed:
                opening = pool.opening(key)
                if opening is not None:
                    await asyncio.shield(opening)
                    continue
                conn = pool.acquire_nowait(key)
                if conn is not None and _reusable(conn, route, trace, monotonic()):
                    return conn, True  # the server chose HTTP/1.1 before: its connection
            if conn is None:
                if multiplexed and pool.has_multiplexed(key):
                    # Every stream of every connection is busy and no slot is free: wait
                    # for a stream to end (or a connection to go).
                    await pool.wait_for_stream(key, exchange.deadline)
                    continue
                conn = await _wait_for_slot(pool, key, exchange)
                if multiplexed and (pool.opening(key) is not None
                                    or pool.acquire_shared(key) is not None):
                    pool.release(conn)  # a connection to share came up meanwhile
                    continue
                if _reusable(conn, route, trace, monotonic()):
                    return conn, True
            if multiplexed:
                pool.begin_opening(key)
            try:
                await self._dial(conn, route, exchange, pool)
            finally:
                if multiplexed:
                    pool.end_opening(key)
            return conn, False

    async def _fresh_slot(self, pool: BasePool, route: Route, exchange: Exchange) -> Connection:
        """A slot with a connection dialed for the exchange, never an idle one kept alive
        (whatever the slot held is closed when the new connection is attached)."""
        conn = pool.acquire_nowait(route.key)
        if conn is None:
            conn = await _wait_for_slot(pool, route.key, exchange)
        await self._dial(conn, route, exchange, pool)
        return conn

    async def _dial(
        self, conn: Connection, route: Route, exchange: Exchange, pool: BasePool
    ) -> None:
        """Open ``conn`` for ``route``; on any failure the slot is freed, nothing left open."""
        try:
            dialed = await self.dialer.dial(route, exchange.timeouts, exchange.deadline,
                                            exchange.trace)
        except BaseException:
            conn.exchange_done(False)  # frees the slot, closing anything half-open
            raise
        route.negotiated = dialed.alpn
        protocol = conn.attach(dialed, route.key)
        if protocol.http2:
            if protocol.closed:  # the server broke it during the handshake
                error = getattr(protocol, "error", None)
                conn.exchange_done(False)
                raise error or ConnectionDisconnected(
                    "server closed the HTTP/2 connection at once"
                )
            pool.add_multiplexed(conn)
        elif route.http2 is not None and not protocol.is_available:
            conn.exchange_done(False)
            raise ConnectionDisconnected("server closed the connection at once")
        trace = exchange.trace
        if trace is not None:
            _trace_created(trace, route, protocol.http_version)


def _reusable(conn: Connection, route: Route, trace: Trace | None, now: float) -> bool:
    """True if ``conn`` holds an idle HTTP/1.1 connection of ``route`` that can take a
    request going out at ``now`` (traced as reused)."""
    protocol = conn.protocol
    if protocol is None or conn.key != route.key or not protocol.reusable(now):
        return False
    if trace is not None:
        trace("connection_reused", http_version=protocol.http_version)
    if route.negotiated is None:
        route.negotiated = "http/1.1"
    return True


def _multiplexed(route: Route) -> bool:
    """True while new connections of ``route`` may come up as HTTP/2 (so requests wait for
    the one being opened rather than open their own): the server chose h2 last time, or
    HTTP/2 is offered and the server has not answered with HTTP/1.1."""
    negotiated = route.negotiated
    return negotiated == "h2" or (route.http2 is not None and negotiated != "http/1.1")


def _start_clock(exchange: Exchange) -> None:
    """The request's one clock reading: its deadline, and when it goes out if an idle
    connection takes it at once (the connection times its read timeout and ``elapsed``
    from it; whoever waits or dials first takes a new reading)."""
    now = exchange.started = monotonic()
    total = exchange.timeouts.request_timeout
    if total is not None:
        exchange.deadline = now + total


async def _wait_for_slot(pool: BasePool, key: Hashable, exchange: Exchange) -> Connection:
    limit = exchange.timeouts.pool_acquire
    deadline = exchange.deadline
    by_request = False
    if deadline is not None:
        remaining = max(deadline - monotonic(), 0.0)
        # Which limit is the shorter decides the error, up front: timers may fire a
        # little early, so the clock is not asked again afterwards.
        by_request = limit is None or remaining <= limit
        limit = remaining if by_request else limit
    try:
        return await pool.acquire(key=key, timeout=limit)
    except ConnectionPoolAcquireTimeout:
        if by_request:
            raise RequestTimeout(
                "request_timeout elapsed while waiting for a free connection"
            ) from None
        raise


def _trace_created(trace: Trace, route: Route, http_version: str) -> None:
    trace(
        "connection_created",
        host=route.host,
        port=route.port,
        tls=route.ssl_context is not None,
        http_version=http_version,
    )



@mypyc_attr(allow_interpreted_subclasses=True)
class RequestTransport:
    """The ``Transport`` of transports that take a public ``Request`` (``handle_request``):
    ``MockTransport``, ``ASGITransport``, or any object given as ``HTTPClient(transport=)``.

    The request carries every header it would carry on the wire (its head was encoded
    already, so what the network path refuses is refused here too); ``request_timeout``
    still applies.
    """

    _handler: RequestHandler | None = None

    def __init__(self, handler: RequestHandler | None = None) -> None:
        self._handler = handler

    async def handle_request(self, request: Request) -> HttpResponse:
        if self._handler is None:
            raise NotImplementedError("a RequestTransport needs handle_request()")
        return await self._handler.handle_request(request)

    async def send(self, exchange: Exchange) -> HttpResponse:
        body = exchange.body
        if body is None:
            body = Body(exchange.data, exchange.stream, restart=exchange.restart)
        request = Request(exchange.method, exchange.url.unparse(), exchange.pairs, body=body)
        if exchange.extensions:
            request.extensions = exchange.extensions
        try:
            response = await asyncio.wait_for(
                self.handle_request(request), exchange.timeouts.request_timeout
            )
        except asyncio.TimeoutError as exc:
            if isinstance(exc, AiosonicError):
                raise  # the transport's own timeout error (ours are TimeoutErrors too)
            raise RequestTimeout("request_timeout elapsed waiting for the transport") from None
        response._url = exchange.url
        return response


def as_transport(transport: object) -> Transport:
    """A ``Transport`` for what ``HTTPClient(transport=...)`` was given."""
    if isinstance(transport, RequestTransport):
        return transport
    return RequestTransport(cast(RequestHandler, transport))


class RequestHandler(Protocol):
    async def handle_request(self, request: Request) -> HttpResponse: ...
