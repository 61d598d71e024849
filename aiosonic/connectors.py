"""``TCPConnector``: gets a request onto a connection and brings its response head back.

It owns the per-request transport pipeline: pick a pooled slot (without awaiting when one is
free), connect it if needed (DNS cache, TLS, proxy tunnel, ``sock_connect``), start the
exchange on the protocol, stream a body, and retry once on a fresh connection when a reused
keep-alive connection turns out to have been closed by the server before it answered.

A ``Route`` says where a request's connection goes and is also its pool key:

    direct          TCP (+ TLS) to the origin            key: scheme, host, port, TLS context
    http via proxy  TCP to the proxy, absolute-form      key: the proxy and the origin
    https via proxy TCP to the proxy, CONNECT, then TLS  key: the origin, TLS context and proxy
                    to the origin (SNI and verification against the origin)

It never builds requests or follows redirects (the client does) and never parses bytes (the
protocol does).
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
import ssl
from collections.abc import AsyncIterable, Callable, Hashable, Iterable, Mapping
from typing import TYPE_CHECKING, Any, cast

from ._connection import HTTP11Protocol
from ._deadline import Deadline
from ._request import build_connect_head
from ._url import URL, parse_url
from .connection import Connection
from .exceptions import (
    AiosonicError,
    ConnectError,
    ConnectionDisconnected,
    ConnectionPoolAcquireTimeout,
    ConnectTimeout,
    ProxyError,
    RequestTimeout,
    StreamNotProcessed,
    map_oserror,
)
from .limits import DEFAULT_H2_WINDOW, DEFAULT_LIMITS, Limits
from .pools import BasePool, PoolConfig, SmartPool
from .proxy import Proxy
from .resolver import DefaultResolver
from .response import HttpResponse
from .timeout import Timeouts

if TYPE_CHECKING:
    from ._http2 import HTTP2Protocol
    from .hooks import Trace

__all__ = ["TCPConnector"]

Stream = Iterable[bytes] | AsyncIterable[bytes]
_ROUTE_CACHE_MAX = 1024
# Bodies larger than this are written in slices of this size.
_SLICE_ABOVE = 1024 * 1024


def _slices(body: bytes) -> Stream:
    view = memoryview(body)
    # memoryview slices are bytes-like: the transport writes them without a copy.
    return cast(Stream, (view[i : i + _SLICE_ABOVE] for i in range(0, len(view), _SLICE_ABOVE)))


class Route:
    """Where a request's connection goes, how it is set up, and its pool key."""

    __slots__ = (
        "absolute_form",
        "host",
        "http2",
        "key",
        "pool",
        "port",
        "proxy_authorization",
        "server_hostname",
        "socks",
        "ssl_context",
        "tunnel",
    )

    def __init__(
        self,
        url: URL,
        ssl_context: ssl.SSLContext | None,
        proxy: Proxy | None,
        http2: str | None = None,
        *,
        tunnel: bool = False,
    ) -> None:
        # http2: None (HTTP/1.1), "alpn" (whatever TLS negotiates) or "prior" (h2c).
        # tunnel: reach a plain-http origin through a proxy with CONNECT too (a WebSocket
        # cannot be relayed by a proxy that sees it as an ordinary request).
        self.http2 = http2
        self.pool: BasePool | None = None  # the pool serving it (None: the default pool)
        self.ssl_context = ssl_context
        self.server_hostname = url.host if ssl_context is not None else None
        self.tunnel: str | None = None
        self.absolute_form = False
        self.proxy_authorization: str | None = None
        self.socks = proxy.socks if proxy is not None else None
        if proxy is None or self.socks is not None:
            # Direct, or through a SOCKS tunnel that is then spoken to as the origin.
            self.host, self.port = url.host, url.port
            self.key: Hashable = (url.scheme, url.host, url.port, ssl_context, http2,
                                  self.socks)
            return
        self.host, self.port = proxy.url.host, proxy.url.port
        self.proxy_authorization = proxy.authorization
        if ssl_context is None and not tunnel:
            self.absolute_form = True
            # One proxy connection per origin, not one for all: some proxies bind a client
            # connection to the first origin it asked for and would send later requests
            # (with our Proxy-Authorization) there.
            self.key = ("proxy", self.host, self.port, proxy.auth, url.origin)
        else:
            bracketed = f"[{url.host}]" if ":" in url.host else url.host
            self.tunnel = f"{bracketed}:{url.port}"
            self.key = ("tunnel", url.host, url.port, ssl_context, self.host, self.port,
                        proxy.auth, http2)

    @property
    def head_proxy_authorization(self) -> str | None:
        """Proxy credentials for the request head (only when the proxy sees the request)."""
        return self.proxy_authorization if self.absolute_form else None


class TCPConnector:
    """Holds the pool of connections and the logic for making them.

    - ``pool_size``: how many connections may be open at once (and so requests in flight).
    - ``timeouts``: the default ``Timeouts`` for requests through this connector.
    - ``connection_cls`` / ``pool_cls``: the slot and pool classes (``Connection``,
      ``SmartPool``).
    - ``resolver``: host name resolution (default ``ThreadedResolver``).
    - ``ttl_dns_cache``: how long resolved addresses are reused, in milliseconds;
      ``use_dns_cache=False`` resolves on every new connection.
    - ``conn_max_requests``: a connection serves at most this many requests, then is closed.
    - ``http2``: offer HTTP/2 (ALPN) to https origins for every request through it.
    - ``http2_window``: the HTTP/2 receive window of each stream (4 MiB): how much of one
      response may be in flight before its reader consumes it.
    - ``limits``: what a response may contain (``aiosonic.Limits``: head size, header count,
      decompressed size...); safe defaults.

    HTTP/2: one connection per origin carries up to the server's
    SETTINGS_MAX_CONCURRENT_STREAMS requests at once; beyond that a new connection is
    opened while the pool has a free slot, and requests wait for a free stream otherwise.
    Each HTTP/2 connection holds one pool slot for its whole life, so ``pool_size`` still
    bounds the number of connections.
    """

    def __init__(
        self,
        pool_size: int = 25,
        timeouts: Timeouts | None = None,
        connection_cls: type[Connection] | None = None,
        pool_cls: type[BasePool] | None = None,
        resolver: Any = None,
        ttl_dns_cache: int = 10000,
        use_dns_cache: bool = True,
        conn_max_requests: int = 100,
        *,
        http2: bool = False,
        http2_window: int = DEFAULT_H2_WINDOW,
        limits: Limits | None = None,
        uds: str | None = None,
        pool_configs: Mapping[str, PoolConfig] | None = None,
    ) -> None:
        if not isinstance(conn_max_requests, int) or conn_max_requests < 1:
            raise ValueError(f"conn_max_requests must be a positive int: {conn_max_requests!r}")
        self.pool_size = pool_size
        self.timeouts = timeouts or Timeouts()
        self.connection_cls = connection_cls or Connection
        self.pool_cls = pool_cls or SmartPool
        self.resolver = resolver or DefaultResolver()
        self.ttl_dns_cache = ttl_dns_cache
        self.use_dns_cache = use_dns_cache
        self.conn_max_requests = conn_max_requests
        self.http2 = http2
        if not 65535 <= http2_window < 2**31:
            raise ValueError(f"http2_window must be in [65535, 2**31): {http2_window!r}")
        self.http2_window = http2_window
        self.limits = limits or DEFAULT_LIMITS
        self.uds = uds
        configs = dict(pool_configs or {})
        default = configs.pop(":default", None)
        if default is not None:
            self.pool_size = default.size
        self.pool = self._make_pool(self.pool_size, default)
        # origin (scheme, host, port) -> its own pool, for origins given a PoolConfig.
        self._origin_pools: dict[tuple[str, str, int], BasePool] = {}
        for origin, config in configs.items():
            self._origin_pools[parse_url(origin).origin] = self._make_pool(0, config)
        self._dns_cache: dict[tuple[str, int], tuple[float, list[dict[str, Any]]]] = {}
        self._routes: dict[tuple[Any, ...], Route] = {}
        # HTTP/2: live connections per route key (each holds a pool slot for its whole life),
        # requests waiting for a free stream, connections being opened, and the routes whose
        # server chose HTTP/1.1 in ALPN.
        self._h2_conns: dict[Hashable, list[Connection]] = {}
        self._h2_waiters: dict[Hashable, list[asyncio.Future[None]]] = {}
        self._h2_opening: dict[Hashable, asyncio.Future[None]] = {}
        self._h1_only: set[Hashable] = set()

    def _make_pool(self, size: int, config: PoolConfig | None) -> BasePool:
        if config is None:
            return self.pool_cls(self, size, self.connection_cls)
        if not isinstance(config, PoolConfig):
            raise TypeError(f"pool_configs values must be PoolConfig, not {config!r}")
        pool = self.pool_cls(self, config.size, self.connection_cls)
        if config.max_conn_requests is not None:
            pool.conn_max_requests = config.max_conn_requests
        if config.max_conn_idle_ms is not None:
            pool.max_idle = config.max_conn_idle_ms / 1000
        return pool

    @property
    def pools(self) -> list[BasePool]:
        """Every pool: the default one first, then those of origins with a PoolConfig."""
        return [self.pool, *self._origin_pools.values()]

    def route(
        self,
        url: URL,
        ssl_context: ssl.SSLContext | None,
        proxy: Proxy | None,
        http2: str | None = None,
    ) -> Route:
        """The (cached) route for requests to ``url``'s origin."""
        cache_key = (url.origin, ssl_context, proxy, http2)
        route = self._routes.get(cache_key)
        if route is None:
            if len(self._routes) >= _ROUTE_CACHE_MAX:
                self._routes.clear()
            route = self._routes[cache_key] = Route(url, ssl_context, proxy, http2)
            if self._origin_pools:
                route.pool = self._origin_pools.get(url.origin)
        return route

    def is_idle(self) -> bool:
        """True when no request is in flight: every slot is free, or held by an HTTP/2
        connection with no open stream."""
        busy = sum(pool.pool_size - pool.free_conns() for pool in self.pools)
        if not busy:
            return True
        quiet_h2 = sum(
            1
            for conns in self._h2_conns.values()
            for conn in conns
            if conn.is_h2 and not cast("HTTP2Protocol", conn.protocol).streams
        )
        return busy == quiet_h2

    async def wait_idle(self, timeout: float | None) -> bool:
        """Wait until no request is in flight; False if ``timeout`` seconds pass first."""
        if not self._h2_conns and not self._origin_pools:
            return await self.pool.wait_all_free(timeout)
        # HTTP/2 connections keep their slots while idle: watch the streams instead.
        loop = asyncio.get_running_loop()
        end = None if timeout is None else loop.time() + timeout
        while not self.is_idle():
            if end is not None and loop.time() >= end:
                return False
            await asyncio.sleep(0.01)
        return True

    async def cleanup(self) -> None:
        """Close every connection and release the resolver."""
        for pool in self.pools:
            await pool.cleanup()
        await self.resolver.close()

    # -- the request path -----------------------------------------------------------------

    async def send(
        self,
        route: Route,
        head: bytes,
        body: bytes | None,
        stream: Stream | None,
        *,
        chunked: bool = True,
        head_request: bool,
        timeouts: Timeouts,
        h2_headers: list[tuple[bytes, bytes]] | None = None,
        idempotent: bool = False,
        trace: Trace | None = None,
        restart: Callable[[], Stream] | None = None,
    ) -> HttpResponse:
        """Send one request and return its response as soon as the head has arrived.

        With ``h2_headers`` (and a route that allows it) the request goes over HTTP/2 when
        the server speaks it, and over HTTP/1.1 with ``head`` otherwise. ``restart`` makes
        a streamed body anew, if it can be sent twice.
        """
        if h2_headers is not None and route.http2 is not None and route.key not in self._h1_only:
            response = await self._send_h2(
                route, body, stream, timeouts, h2_headers, idempotent and stream is None, trace
            )
            if response is not None:
                return response
        if body is not None and len(body) > _SLICE_ABOVE:
            # One huge write makes the transport copy whatever the socket did not take at
            # once (most of it); sent in slices under write flow control, nothing is copied.
            whole = body
            restart = lambda: _slices(whole)  # noqa: E731
            stream, body, chunked = restart(), None, False
        replayable = stream is None or restart is not None
        loop = asyncio.get_running_loop()
        total = timeouts.request_timeout
        deadline = None if total is None else loop.time() + total
        key = route.key
        pool = route.pool or self.pool
        retried = False
        while True:
            conn = pool.acquire_nowait(key)
            if conn is None:
                conn = await self._wait_for_slot(loop, pool, key, timeouts, deadline)
            protocol = conn.protocol
            reused = protocol is not None and conn.key == key and protocol.is_usable
            if reused:
                if trace is not None:
                    trace("connection_reused", http_version="1.1")
            else:
                try:
                    await self._open(loop, conn, route, timeouts, deadline, trace)
                except BaseException:
                    conn.exchange_done(False)  # frees the slot, closing anything half-open
                    raise
                protocol = conn.protocol
                if protocol is not None and protocol.http2:
                    protocol = cast("HTTP2Protocol", protocol)
                    # The server picked h2 in ALPN after having picked http/1.1 before.
                    self._h1_only.discard(key)
                    self._h2_conns.setdefault(key, []).append(conn)
                    assert h2_headers is not None  # only routes offering h2 can get here
                    return await self._exchange_h2(
                        protocol, h2_headers, body, stream, timeouts, deadline, trace
                    )
            # HTTP/2 connections never sit free in the pool, so this is HTTP/1.1.
            protocol = cast(HTTP11Protocol, protocol)
            waiter = protocol.start(
                head,
                body,
                head_request=head_request,
                deadline=deadline,
                sock_read=timeouts.sock_read,
                trace=trace,
            )
            if trace is not None:
                trace("headers_sent")
            try:
                if stream is not None:
                    await protocol.send_stream(stream, chunked)
                return await waiter
            except ConnectionDisconnected:
                early = _early_answer(waiter)
                if early is not None:
                    return early
                if (
                    reused
                    and idempotent
                    and not retried
                    and replayable
                    and not protocol.received_any
                ):
                    # A keep-alive connection the server had already closed: try once more.
                    # Only idempotent requests: a POST is never silently sent twice.
                    retried = True
                    if stream is not None:
                        assert restart is not None
                        stream = restart()
                    continue
                raise
            except BaseException as exc:
                protocol.abort(exc)
                if not waiter.done():
                    waiter.cancel()
                elif not waiter.cancelled():
                    waiter.exception()  # retrieved: no "exception never retrieved" noise
                raise

    async def upgrade(
        self, route: Route, head: bytes, timeouts: Timeouts
    ) -> tuple[HttpResponse, asyncio.Transport | None, bytes]:
        """Send a request asking to switch protocols (a WebSocket handshake, say) on a new
        HTTP/1.1 connection.

        On a 101 answer the connection leaves the pool: returns the response, the transport
        (now the caller's to drive and close, with ``transport.set_protocol``) and the bytes
        that already arrived after the head. Any other answer is an ordinary response
        (returned with None and b""); reading or discarding it frees the connection.
        """
        loop = asyncio.get_running_loop()
        total = timeouts.request_timeout
        deadline = None if total is None else loop.time() + total
        pool = route.pool or self.pool
        conn = pool.acquire_nowait(route.key)
        if conn is None:
            conn = await self._wait_for_slot(loop, pool, route.key, timeouts, deadline)
        try:
            await self._open(loop, conn, route, timeouts, deadline)
        except BaseException:
            conn.exchange_done(False)  # frees the slot, closing anything half-open
            raise
        protocol = cast(HTTP11Protocol, conn.protocol)  # upgrade routes never offer h2
        waiter = protocol.start(
            head,
            None,
            head_request=False,
            deadline=deadline,
            sock_read=timeouts.sock_read,
            upgrade=True,
        )
        try:
            response = await waiter
        except BaseException as exc:
            protocol.abort(exc)
            if not waiter.done():
                waiter.cancel()
            raise
        if response.status_code != 101:
            return response, None, b""
        transport, tail = protocol.detach()
        conn.detach()
        return response, transport, tail

    async def _wait_for_slot(
        self,
        loop: asyncio.AbstractEventLoop,
        pool: BasePool,
        key: Hashable,
        timeouts: Timeouts,
        deadline: float | None,
    ) -> Connection:
        limit = timeouts.pool_acquire
        by_request = False
        if deadline is not None:
            remaining = max(deadline - loop.time(), 0.0)
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

    async def _open(
        self,
        loop: asyncio.AbstractEventLoop,
        conn: Connection,
        route: Route,
        timeouts: Timeouts,
        deadline: float | None,
        trace: Trace | None = None,
    ) -> None:
        when = None if timeouts.sock_connect is None else loop.time() + timeouts.sock_connect
        by_request = deadline is not None and (when is None or deadline < when)
        if by_request:
            when = deadline

        def expired() -> Exception:
            if by_request:
                return RequestTimeout("request_timeout elapsed while connecting")
            return ConnectTimeout(
                f"could not connect to {route.host}:{route.port} within "
                f"{timeouts.sock_connect} seconds"
            )

        direct_tls = route.ssl_context if route.tunnel is None else None
        with Deadline(loop, when, expired):
            if self.uds is not None or route.socks is not None:
                await self._open_indirect(conn, route, direct_tls, trace)
                return
            addresses = await self._resolve(route.host, route.port)
            if trace is not None:
                trace("dns_resolved", host=route.host,
                      addresses=[address["host"] for address in addresses])
            error: OSError | None = None
            for address in addresses:
                try:
                    await conn.connect(
                        route.key,
                        address["host"],
                        address["port"],
                        ssl_context=direct_tls,
                        server_hostname=route.server_hostname if direct_tls else None,
                        family=address["family"],
                        http2=route.http2 if route.tunnel is None else None,
                    )
                    break
                except OSError as exc:
                    if isinstance(exc, ssl.SSLError):
                        what = f"cannot connect to {route.host}:{route.port}"
                        raise map_oserror(exc, what) from exc
                    error = exc
            else:
                assert error is not None
                raise map_oserror(error, f"cannot connect to {route.host}:{route.port}")
            if route.tunnel is not None:
                await self._tunnel(loop, conn, route)
            if trace is not None:
                _trace_created(trace, conn, route)

    async def _open_indirect(
        self,
        conn: Connection,
        route: Route,
        tls: ssl.SSLContext | None,
        trace: Trace | None,
    ) -> None:
        """One attempt at a connection that does not go to a resolved address of the
        origin: to the connector's Unix domain socket, or through a SOCKS proxy (which is
        given the origin's name or address). The URL's host still names the server to the
        HTTP layer (Host header) and to TLS."""
        where = (
            f"the Unix socket {self.uds}" if self.uds is not None
            else f"{route.host}:{route.port} through the SOCKS proxy"
        )
        try:
            await conn.connect(
                route.key,
                route.host,
                route.port,
                ssl_context=tls,
                server_hostname=route.server_hostname if tls else None,
                http2=route.http2,
                uds=self.uds,
                socks=route.socks if self.uds is None else None,
                resolve=self._resolve,
            )
        except AiosonicError:
            raise  # the SOCKS handshake's own errors (ProxyError, ConnectError) say it all
        except OSError as exc:
            raise map_oserror(exc, f"cannot connect to {where}") from exc
        if trace is not None:
            _trace_created(trace, conn, route)

    async def _tunnel(
        self, loop: asyncio.AbstractEventLoop, conn: Connection, route: Route
    ) -> None:
        """Ask the proxy for a tunnel to the origin, then start TLS with the origin in it."""
        protocol = cast(HTTP11Protocol, conn.protocol)  # tunnels start as HTTP/1.1
        assert route.tunnel is not None
        waiter = protocol.start(
            build_connect_head(route.tunnel, route.proxy_authorization),
            None,
            head_request=True,  # a 2xx answer to CONNECT has no body
            deadline=None,
            sock_read=None,
            report=False,
        )
        response = await waiter
        if not 200 <= response.status_code < 300:
            raise ProxyError(
                f"proxy refused the tunnel to {route.tunnel}: "
                f"{response.status_code} {response.reason}",
                response.status_code,
            )
        if not protocol.is_usable:
            raise ProxyError(f"proxy closed the tunnel to {route.tunnel}")
        if route.ssl_context is None:
            return  # a cleartext tunnel: the origin is spoken to as it is
        assert protocol.transport is not None
        try:
            transport = await loop.start_tls(
                protocol.transport,
                protocol,
                route.ssl_context,
                server_hostname=route.server_hostname,
            )
        except OSError as exc:
            raise map_oserror(exc, f"cannot connect to {route.tunnel} through the proxy") from exc
        assert transport is not None
        protocol.transport = transport
        if route.http2 is not None:
            conn.upgrade_to_h2_if_selected(transport)

    # -- HTTP/2 ---------------------------------------------------------------------------

    async def _send_h2(
        self,
        route: Route,
        body: bytes | None,
        stream: Stream | None,
        timeouts: Timeouts,
        h2_headers: list[tuple[bytes, bytes]],
        retryable: bool,
        trace: Trace | None,
    ) -> HttpResponse | None:
        """Send over HTTP/2; None if the server turned out to speak HTTP/1.1 only.

        Streams the server did not process (GOAWAY, REFUSED_STREAM) are sent again on
        another connection when the request is idempotent and its body can be replayed.
        """
        loop = asyncio.get_running_loop()
        total = timeouts.request_timeout
        deadline = None if total is None else loop.time() + total
        attempts = 0
        while True:
            conn = await self._h2_connection(loop, route, timeouts, deadline, trace)
            if conn is None:
                return None
            protocol = conn.protocol
            assert protocol is not None and protocol.http2
            protocol = cast("HTTP2Protocol", protocol)
            try:
                return await self._exchange_h2(protocol, h2_headers, body, stream, timeouts,
                                               deadline, trace)
            except StreamNotProcessed:
                attempts += 1
                if retryable and attempts < 3:
                    continue
                raise

    async def _exchange_h2(
        self,
        protocol: HTTP2Protocol,
        h2_headers: list[tuple[bytes, bytes]],
        body: bytes | None,
        stream: Stream | None,
        timeouts: Timeouts,
        deadline: float | None,
        trace: Trace | None = None,
    ) -> HttpResponse:
        ends = body is None and stream is None
        h2_stream, waiter = protocol.start(
            h2_headers, ends, deadline=deadline, sock_read=timeouts.sock_read
        )
        if trace is not None:
            trace("headers_sent")
        try:
            if not ends:
                await protocol.send_body(h2_stream, body if body is not None else stream or b"")
            response = await waiter
            if trace is not None:
                trace("first_byte")
            return response
        except ConnectionDisconnected:
            early = _early_answer(waiter)
            if early is not None:
                return early
            raise
        except BaseException as exc:
            protocol.fail_stream(h2_stream, exc)
            if not waiter.done():
                waiter.cancel()
            raise

    async def _h2_connection(
        self,
        loop: asyncio.AbstractEventLoop,
        route: Route,
        timeouts: Timeouts,
        deadline: float | None,
        trace: Trace | None = None,
    ) -> Connection | None:
        """A live h2 connection with a free stream for ``route``, opening one if need be
        (at most one opening per route at a time); None if the server chose HTTP/1.1."""
        key = route.key
        while True:
            conns = self._h2_conns.get(key)
            if conns:
                for conn in conns:
                    protocol = conn.protocol
                    if (
                        protocol is not None
                        and protocol.http2
                        and cast("HTTP2Protocol", protocol).can_take_stream
                    ):
                        if trace is not None:
                            trace("connection_reused", http_version="2")
                        return conn
            if key in self._h1_only:
                return None
            opening = self._h2_opening.get(key)
            if opening is not None:
                await asyncio.shield(opening)
                continue
            pool = route.pool or self.pool
            slot = pool.acquire_nowait(key)
            if slot is None:
                if conns:
                    # Every stream of every connection is busy and no slot is free: wait
                    # for a stream to end (or a connection to go) rather than queue for a slot.
                    await self._wait_h2_capacity(loop, key, deadline)
                    continue
                slot = await self._wait_for_slot(loop, pool, key, timeouts, deadline)
            if slot.is_open():
                # An idle HTTP/1.1 connection for this very route: the server chose http/1.1.
                self._h1_only.add(key)
                pool.release(slot)
                return None
            opened = self._h2_opening[key] = loop.create_future()
            try:
                await self._open(loop, slot, route, timeouts, deadline, trace)
            except BaseException:
                slot.exchange_done(False)
                raise
            finally:
                del self._h2_opening[key]
                opened.set_result(None)
            protocol = slot.protocol
            if protocol is not None and protocol.http2:
                protocol = cast("HTTP2Protocol", protocol)
                if protocol.closed:  # the server broke it during the handshake
                    slot.exchange_done(False)
                    raise protocol.error or ConnectionDisconnected(
                        "server closed the HTTP/2 connection at once"
                    )
                self._h2_conns.setdefault(key, []).append(slot)
                return slot
            if protocol is None or not protocol.is_usable:
                slot.exchange_done(False)
                raise ConnectionDisconnected("server closed the connection at once")
            self._h1_only.add(key)
            if len(self._h1_only) > _ROUTE_CACHE_MAX:
                self._h1_only.clear()
            pool.release(slot)
            return None

    async def _wait_h2_capacity(
        self, loop: asyncio.AbstractEventLoop, key: Hashable, deadline: float | None
    ) -> None:
        waiter: asyncio.Future[None] = loop.create_future()
        self._h2_waiters.setdefault(key, []).append(waiter)
        timer = None
        if deadline is not None:
            timer = loop.call_at(deadline, _expire_waiter, waiter)
        try:
            await waiter
        finally:
            if timer is not None:
                timer.cancel()

    def h2_capacity_freed(self, conn: Connection) -> None:
        """A stream ended (or the limit rose) on ``conn``: wake requests waiting for one."""
        waiters = self._h2_waiters.pop(conn.key, None)
        if waiters:
            for waiter in waiters:
                if not waiter.done():
                    waiter.set_result(None)

    def h2_forget(self, conn: Connection) -> bool:
        """``conn`` takes no more streams (closed or GOAWAY drained); False if it was not
        registered yet (it died while being opened)."""
        conns = self._h2_conns.get(conn.key)
        registered = conns is not None and conn in conns
        if registered:
            assert conns is not None
            conns.remove(conn)
            if not conns:
                del self._h2_conns[conn.key]
        self.h2_capacity_freed(conn)
        return registered

    async def _resolve(self, host: str, port: int) -> list[dict[str, Any]]:
        try:
            family = socket.AF_INET6 if ipaddress.ip_address(host).version == 6 else socket.AF_INET
            return [{"hostname": host, "host": host, "port": port, "family": family}]
        except ValueError:
            pass
        loop = asyncio.get_running_loop()
        now = loop.time()
        if self.use_dns_cache:
            cached = self._dns_cache.get((host, port))
            if cached is not None and cached[0] > now:
                return cached[1]
        try:
            addresses = await self.resolver.resolve(host, port, family=socket.AF_UNSPEC)
        except OSError as exc:
            raise ConnectError(f"cannot resolve host {host!r}: {exc}") from exc
        if not addresses:
            raise ConnectError(f"cannot resolve host {host!r}: no addresses")
        if self.use_dns_cache:
            self._dns_cache[(host, port)] = (now + self.ttl_dns_cache / 1000, addresses)
        return addresses


def _trace_created(trace: Trace, conn: Connection, route: Route) -> None:
    trace(
        "connection_created",
        host=route.host,
        port=route.port,
        tls=route.ssl_context is not None,
        http_version="2" if conn.is_h2 else "1.1",
    )


def _expire_waiter(waiter: asyncio.Future[None]) -> None:
    if not waiter.done():
        waiter.set_exception(
            RequestTimeout("request_timeout elapsed while waiting for a free HTTP/2 stream")
        )


def _early_answer(waiter: asyncio.Future[HttpResponse]) -> HttpResponse | None:
    """The response, if the server answered although sending the body failed (it may
    reply, e.g. 413, and close before taking the whole body)."""
    if waiter.done() and not waiter.cancelled() and waiter.exception() is None:
        return waiter.result()
    return None
