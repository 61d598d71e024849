"""``Route``: where a request's connection goes, how it is set up, and its pool key.

    direct          TCP (+ TLS) to the origin            key: scheme, host, port, TLS context
    http via proxy  TCP to the proxy, absolute-form      key: the proxy and the origin
    https via proxy TCP to the proxy, CONNECT, then TLS  key: the origin, TLS context and proxy
                    to the origin (SNI and verification against the origin)
    via SOCKS       the proxy opens a tunnel that is then spoken to as the origin

A route is made once per (origin, TLS context, proxy, HTTP/2 mode) and cached by the
``RouteCache``; it also remembers what the origin's server chose in ALPN the last time, so
that the pool knows whether new connections may be multiplexed (HTTP/2) or run side by
side (HTTP/1.1). This module is plain data: it never opens a socket.
"""

from __future__ import annotations

import ssl
from collections.abc import Hashable
from typing import TYPE_CHECKING, Final

from ._url import URL

if TYPE_CHECKING:
    from ._socks import SocksProxy
    from .pools import BasePool
    from .proxy import Proxy

__all__ = ["Route", "RouteCache"]

_ROUTE_CACHE_MAX: Final = 1024


class Route:
    """Where a request's connection goes, how it is set up, and its pool key.

    ``http2``: None (HTTP/1.1 only), "alpn" (whatever TLS negotiates) or "prior" (h2c).
    ``tunnel``: reach a plain-http origin through a proxy with CONNECT too (a WebSocket
    cannot be relayed by a proxy that sees it as an ordinary request).
    """

    __slots__ = (
        "absolute_form",
        "host",
        "http2",
        "key",
        "negotiated",
        "origin",
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
        self.http2 = http2
        self.origin = url.origin
        # What the server chose the last time a connection of this route was opened
        # ("h2" or "http/1.1"), None before the first one.
        self.negotiated: str | None = None
        self.pool: BasePool | None = None  # the pool serving it (None: the default pool)
        self.ssl_context = ssl_context
        self.server_hostname = url.host if ssl_context is not None else None
        self.tunnel: str | None = None
        self.absolute_form = False
        self.proxy_authorization: str | None = None
        self.socks: SocksProxy | None = proxy.socks if proxy is not None else None
        if proxy is None or self.socks is not None:
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

    def __repr__(self) -> str:
        return f"<Route {self.key!r}>"


class RouteCache:
    """Routes by (origin, TLS context, proxy, HTTP/2 mode, tunnel), bounded."""

    __slots__ = ("_origin_pools", "_routes")

    def __init__(self, origin_pools: dict[tuple[str, str, int], BasePool]) -> None:
        self._routes: dict[Hashable, Route] = {}
        self._origin_pools = origin_pools

    def get(
        self,
        url: URL,
        ssl_context: ssl.SSLContext | None,
        proxy: Proxy | None,
        http2: str | None = None,
        *,
        tunnel: bool = False,
    ) -> Route:
        cache_key = (url.origin, ssl_context, proxy, http2, tunnel)
        route = self._routes.get(cache_key)
        if route is None:
            if len(self._routes) >= _ROUTE_CACHE_MAX:
                self._routes.clear()
            route = self._routes[cache_key] = Route(url, ssl_context, proxy, http2,
                                                    tunnel=tunnel)
            if self._origin_pools:
                route.pool = self._origin_pools.get(url.origin)
        return route
