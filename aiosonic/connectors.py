"""``TCPConnector``: the public face of the network path, as the reference names it.

It is a facade over the parts that do the work, each in its own module:

    RouteCache (_routes)   where a request's connection goes, and its pool key
    pools (pools)          the slots, every open connection (HTTP/2 too) and who waits
    Dialer (_dial)         DNS cache and resolver, TCP, TLS, CONNECT, SOCKS, Unix sockets
    NetworkTransport       one exchange through a pool slot (dial, send, retry stale)
      (_transport)

It keeps the reference's arguments and attributes (``pool_size``, ``timeouts``,
``connection_cls``, ``pool_cls``, ``resolver``, the DNS cache settings,
``conn_max_requests``) and adds the per-origin pools, HTTP/2 defaults and limits. It never
builds requests, never parses bytes and keeps no per-protocol structures of its own.
"""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from ._dial import Dialer, check_happy_eyeballs
from ._routes import Route, RouteCache
from ._transport import NetworkTransport
from ._url import URL, parse_url
from .connection import Connection, ConnectionConfig
from .limits import DEFAULT_H2_WINDOW, DEFAULT_LIMITS, Limits
from .pools import BasePool, PoolConfig, SmartPool
from .resolver import DefaultResolver, Resolver
from .timeout import Timeouts

if TYPE_CHECKING:
    from .proxy import Proxy

__all__ = ["PoolConfigs", "Route", "TCPConnector"]


#: ``pool_configs``: origin (or ``":default"``) -> its pool's settings, a ``PoolConfig`` or
#: a mapping of its fields (``{"size": 4}``, as upstream aiosonic 1.x takes too).
PoolConfigs = Mapping[str, PoolConfig | Mapping[str, Any]]


class TCPConnector:
    """Holds the pool of connections and the logic for making them.

    Both upstream signatures are accepted: the reference's (0.22), whose first argument
    is ``pool_size``, and 1.x's, whose first argument is ``pool_configs``. The first
    argument decides, and nothing else does: a ``Mapping`` there is ``pool_configs``
    (``TCPConnector({":default": PoolConfig(size=1)})``), anything else is ``pool_size``.
    Giving pool configs both ways raises ``TypeError``.

    - ``pool_size``: how many connections may be open at once (and so requests in flight).
    - ``timeouts``: the default ``Timeouts`` for requests through this connector.
    - ``connection_cls`` / ``pool_cls``: the slot and pool classes (``Connection``,
      ``SmartPool``).
    - ``resolver``: host name resolution (default ``ThreadedResolver``): any object with
      ``resolve()`` (``aiosonic.resolver.Resolver``); its ``close()``, if it has one, is
      called when the client closes.
    - ``ttl_dns_cache``: how long resolved addresses are reused, in milliseconds;
      ``use_dns_cache=False`` resolves on every new connection.
    - ``conn_max_requests``: a connection serves at most this many requests, then is closed.
    - ``http2``: offer HTTP/2 (ALPN) to https origins for every request through it.
    - ``http2_window``: the HTTP/2 receive window of each stream (4 MiB): how much of one
      response may be in flight before its reader consumes it.
    - ``limits``: what a response may contain (``aiosonic.Limits``: head size, header count,
      decompressed size...); safe defaults.
    - ``happy_eyeballs_delay``: Happy Eyeballs (RFC 8305). When a name has several
      addresses, the next one is tried beside the first when that one has not connected
      after this many seconds (0.25), or at once when it fails; the first to connect wins
      and the others are closed. ``None``: one address after another, each waiting for the
      one before to fail. ``sock_connect`` covers the whole race.
    - ``interleave``: how the addresses are ordered, as asyncio's ``create_connection``
      does: a positive count is how many of the first answer's family come first, then
      the families alternate; 0 keeps the resolver's order. ``None``: 1 with
      ``happy_eyeballs_delay``, 0 without.
    - ``pool_configs``: pools of their own for some origins (keys ``scheme://host[:port]``),
      and ``":default"`` for the shared pool of every other origin (its ``size`` replaces
      ``pool_size``); values are ``PoolConfig`` or a mapping of its fields.

    HTTP/2: one connection per origin carries up to the server's
    SETTINGS_MAX_CONCURRENT_STREAMS requests at once; beyond that a new connection is
    opened while the pool has a free slot, and requests wait for a free stream otherwise.
    Each HTTP/2 connection holds one pool slot for its whole life, so ``pool_size`` still
    bounds the number of connections.
    """

    def __init__(
        self,
        pool_size: int | PoolConfigs = 25,
        timeouts: Timeouts | None = None,
        connection_cls: type[Connection] | None = None,
        pool_cls: type[BasePool] | None = None,
        resolver: Resolver | None = None,
        ttl_dns_cache: int = 10000,
        use_dns_cache: bool = True,
        conn_max_requests: int = 100,
        *,
        http2: bool = False,
        http2_window: int = DEFAULT_H2_WINDOW,
        limits: Limits | None = None,
        uds: str | None = None,
        pool_configs: PoolConfigs | None = None,
        happy_eyeballs_delay: float | None = 0.25,
        interleave: int | None = None,
    ) -> None:
        if isinstance(pool_size, Mapping):  # 1.x: TCPConnector(pool_configs, timeouts, ...)
            if pool_configs is not None:
                raise TypeError("pool_configs given twice: as the first argument and by name")
            pool_configs, pool_size = pool_size, 25
        elif not isinstance(pool_size, int) or pool_size < 1:
            # Here, not in the pool: a compiled pool would refuse a non-int with mypyc's
            # TypeError before its own check could name the argument.
            raise ValueError(
                f"pool_size must be a positive int (or, first, a pool_configs mapping), "
                f"not {pool_size!r}"
            )
        check_happy_eyeballs(happy_eyeballs_delay, interleave)
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
        self.happy_eyeballs_delay = happy_eyeballs_delay
        self.interleave = interleave
        self.connection_config = ConnectionConfig(self.limits, http2_window, conn_max_requests)
        configs = {origin: _pool_config(value) for origin, value in (pool_configs or {}).items()}
        default = configs.pop(":default", None)
        if default is not None:
            self.pool_size = default.size
        self.pool = self._make_pool(self.pool_size, default)
        # origin (scheme, host, port) -> its own pool, for origins given a PoolConfig.
        self._origin_pools: dict[tuple[str, str, int], BasePool] = {}
        for origin, config in configs.items():
            self._origin_pools[parse_url(origin).origin] = self._make_pool(0, config)
        self._routes = RouteCache(self._origin_pools)
        self.dialer = Dialer(self.resolver, ttl_dns_cache=ttl_dns_cache,
                             use_dns_cache=use_dns_cache, uds=uds,
                             happy_eyeballs_delay=happy_eyeballs_delay, interleave=interleave)
        # What HTTPClient sends every request through when it has no transport of its own.
        self.transport = NetworkTransport(self.pool, self.dialer)

    def _make_pool(self, size: int, config: PoolConfig | None) -> BasePool:
        if config is None:
            return self.pool_cls(self.connection_config, size, self.connection_cls)
        pool = self.pool_cls(self.connection_config, config.size, self.connection_cls)
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
        *,
        tunnel: bool = False,
    ) -> Route:
        """The (cached) route for requests to ``url``'s origin."""
        return self._routes.get(url, ssl_context, proxy, http2, tunnel=tunnel)

    def is_idle(self) -> bool:
        """True when no request is in flight: every slot is free, or held by an HTTP/2
        connection with no open stream."""
        return not any(pool.in_flight() for pool in self.pools)

    async def wait_idle(self, timeout: float | None) -> bool:
        """Wait until no request is in flight; False if ``timeout`` seconds pass first."""
        if not self._origin_pools and not self.pool.multiplexing:
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
        await self.dialer.close()


def _pool_config(value: object) -> PoolConfig:
    """A ``pool_configs`` value as a ``PoolConfig``: one already, or a mapping of its
    fields (unknown fields raise ``TypeError``, bad values ``ValueError``)."""
    if isinstance(value, PoolConfig):
        return value
    if isinstance(value, Mapping):
        return PoolConfig(**value)
    raise TypeError(f"pool_configs values must be PoolConfig or a mapping, not {value!r}")
