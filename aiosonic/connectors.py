"""``TCPConnector``: gets a request onto a connection and brings its response head back.

It owns the per-request transport pipeline: pick a pooled slot (without awaiting when one is
free), connect it if needed (DNS cache, TLS, proxy tunnel, ``sock_connect``), start the
exchange on the protocol, stream a body, and retry once on a fresh connection when a reused
keep-alive connection turns out to have been closed by the server before it answered.

A ``Route`` says where a request's connection goes and is also its pool key:

    direct          TCP (+ TLS) to the origin            key: scheme, host, port, TLS context
    http via proxy  TCP to the proxy, absolute-form      key: the proxy (shared by all origins)
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
from collections.abc import AsyncIterable, Hashable, Iterable
from typing import Any

from ._deadline import Deadline
from ._request import build_connect_head
from ._url import URL
from .connection import Connection
from .exceptions import (
    ConnectError,
    ConnectionDisconnected,
    ConnectionPoolAcquireTimeout,
    ConnectTimeout,
    ProxyError,
    RequestTimeout,
    map_oserror,
)
from .pools import BasePool, SmartPool
from .proxy import Proxy
from .resolver import DefaultResolver
from .response import HttpResponse
from .timeout import Timeouts

__all__ = ["TCPConnector"]

Stream = Iterable[bytes] | AsyncIterable[bytes]
_ROUTE_CACHE_MAX = 1024


class Route:
    """Where a request's connection goes, how it is set up, and its pool key."""

    __slots__ = (
        "absolute_form",
        "host",
        "key",
        "port",
        "proxy_authorization",
        "server_hostname",
        "ssl_context",
        "tunnel",
    )

    def __init__(self, url: URL, ssl_context: ssl.SSLContext | None, proxy: Proxy | None) -> None:
        self.ssl_context = ssl_context
        self.server_hostname = url.host if ssl_context is not None else None
        self.tunnel: str | None = None
        self.absolute_form = False
        self.proxy_authorization: str | None = None
        if proxy is None:
            self.host, self.port = url.host, url.port
            self.key: Hashable = (url.scheme, url.host, url.port, ssl_context)
            return
        self.host, self.port = proxy.url.host, proxy.url.port
        self.proxy_authorization = proxy.authorization
        if ssl_context is None:
            self.absolute_form = True
            self.key = ("proxy", self.host, self.port, proxy.auth)
        else:
            bracketed = f"[{url.host}]" if ":" in url.host else url.host
            self.tunnel = f"{bracketed}:{url.port}"
            self.key = ("tunnel", url.host, url.port, ssl_context, self.host, self.port,
                        proxy.auth)

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
        self.pool = self.pool_cls(self, pool_size, self.connection_cls)
        self._dns_cache: dict[tuple[str, int], tuple[float, list[dict[str, Any]]]] = {}
        self._routes: dict[tuple[Any, ...], Route] = {}

    def route(self, url: URL, ssl_context: ssl.SSLContext | None, proxy: Proxy | None) -> Route:
        """The (cached) route for requests to ``url``'s origin."""
        cache_key = (url.origin, ssl_context, proxy)
        route = self._routes.get(cache_key)
        if route is None:
            if len(self._routes) >= _ROUTE_CACHE_MAX:
                self._routes.clear()
            route = self._routes[cache_key] = Route(url, ssl_context, proxy)
        return route

    async def cleanup(self) -> None:
        """Close every connection and release the resolver."""
        await self.pool.cleanup()
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
    ) -> HttpResponse:
        """Send one request and return its response as soon as the head has arrived."""
        loop = asyncio.get_running_loop()
        total = timeouts.request_timeout
        deadline = None if total is None else loop.time() + total
        key = route.key
        pool = self.pool
        retried = False
        while True:
            conn = pool.acquire_nowait(key)
            if conn is None:
                conn = await self._wait_for_slot(loop, key, timeouts, deadline)
            protocol = conn.protocol
            reused = protocol is not None and conn.key == key and protocol.is_usable
            if not reused:
                try:
                    await self._open(loop, conn, route, timeouts, deadline)
                except BaseException:
                    conn.exchange_done(False)  # frees the slot, closing anything half-open
                    raise
                protocol = conn.protocol
            assert protocol is not None
            waiter = protocol.start(
                head,
                body,
                head_request=head_request,
                deadline=deadline,
                sock_read=timeouts.sock_read,
            )
            try:
                if stream is not None:
                    await protocol.send_stream(stream, chunked)
                return await waiter
            except ConnectionDisconnected:
                if waiter.done() and not waiter.cancelled() and waiter.exception() is None:
                    return waiter.result()  # the server answered before taking the whole body
                if reused and not retried and stream is None and not protocol.received_any:
                    # A keep-alive connection the server had already closed: try once more.
                    retried = True
                    continue
                raise
            except BaseException as exc:
                protocol.abort(exc)
                if not waiter.done():
                    waiter.cancel()
                elif not waiter.cancelled():
                    waiter.exception()  # retrieved: no "exception never retrieved" noise
                raise

    async def _wait_for_slot(
        self,
        loop: asyncio.AbstractEventLoop,
        key: Hashable,
        timeouts: Timeouts,
        deadline: float | None,
    ) -> Connection:
        limit = timeouts.pool_acquire
        if deadline is not None:
            remaining = max(deadline - loop.time(), 0.0)
            limit = remaining if limit is None else min(limit, remaining)
        try:
            return await self.pool.acquire(key=key, timeout=limit)
        except ConnectionPoolAcquireTimeout:
            if deadline is not None and loop.time() >= deadline:
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
            addresses = await self._resolve(route.host, route.port)
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

    async def _tunnel(
        self, loop: asyncio.AbstractEventLoop, conn: Connection, route: Route
    ) -> None:
        """Ask the proxy for a tunnel to the origin, then start TLS with the origin in it."""
        protocol = conn.protocol
        assert protocol is not None and route.tunnel is not None
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
        assert protocol.transport is not None and route.ssl_context is not None
        try:
            protocol.transport = await loop.start_tls(
                protocol.transport,
                protocol,
                route.ssl_context,
                server_hostname=route.server_hostname,
            )
        except OSError as exc:
            raise map_oserror(exc, f"cannot connect to {route.tunnel} through the proxy") from exc

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
