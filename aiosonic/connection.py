"""``Connection``: one slot of a pool, holding at most one open HTTP/1.1 connection.

Its life is a state machine (the table below), not a set of booleans::

    NEW    --acquire-->  ACTIVE       a slot with no open transport is lent out
    IDLE   --acquire-->  ACTIVE       an open, free connection is lent out
    ACTIVE --free_open-> IDLE         the exchange ended and the connection may be reused
    ACTIVE --free_shut-> NEW          it ended otherwise: the transport was closed
    any    --close---->  CLOSED       the pool was cleaned up; the slot is dead

It owns the transport's lifetime and the per-connection request count
(``conn_max_requests``). It never parses HTTP (the protocol does) and never picks which
slot serves a request (the pool does).
"""

from __future__ import annotations

import asyncio
import ssl
import time
from collections.abc import Callable, Hashable
from enum import Enum
from typing import TYPE_CHECKING, cast

from ._connection import HTTP11Protocol

if TYPE_CHECKING:
    from ._http2 import HTTP2Protocol
    from ._socks import Resolve, SocksProxy
    from .connectors import TCPConnector
    from .pools import BasePool

__all__ = ["Connection", "ConnectionState"]


class ConnectionState(Enum):
    NEW = "new"
    IDLE = "idle"
    ACTIVE = "active"
    CLOSED = "closed"


_TRANSITIONS: dict[tuple[ConnectionState, str], ConnectionState] = {
    (ConnectionState.NEW, "acquire"): ConnectionState.ACTIVE,
    (ConnectionState.IDLE, "acquire"): ConnectionState.ACTIVE,
    (ConnectionState.ACTIVE, "free_open"): ConnectionState.IDLE,
    (ConnectionState.ACTIVE, "free_shut"): ConnectionState.NEW,
    (ConnectionState.NEW, "close"): ConnectionState.CLOSED,
    (ConnectionState.IDLE, "close"): ConnectionState.CLOSED,
    (ConnectionState.ACTIVE, "close"): ConnectionState.CLOSED,
    (ConnectionState.CLOSED, "close"): ConnectionState.CLOSED,
}


class Connection:
    """A pool slot: state, the open protocol if any, and the key of its origin."""

    def __init__(self, connector: TCPConnector) -> None:
        self.connector = connector
        self.pool: BasePool | None = None
        self.state = ConnectionState.NEW
        self.key: Hashable | None = None
        self.protocol: HTTP11Protocol | HTTP2Protocol | None = None
        self.requests_count = 0
        self.idle_since = 0.0  # time.monotonic() when last released open (if pools age)

    def __repr__(self) -> str:
        return f"<Connection {self.state.value} {self.key!r} requests={self.requests_count}>"

    def transition(self, event: str) -> ConnectionState:
        try:
            state = self.state = _TRANSITIONS[self.state, event]
        except KeyError:
            raise RuntimeError(f"connection cannot {event} while {self.state.value}") from None
        return state

    @property
    def is_idle(self) -> bool:
        return self.state is ConnectionState.IDLE

    def is_open(self) -> bool:
        """True if it holds a transport that can carry a new request right now."""
        protocol = self.protocol
        return protocol is not None and protocol.is_usable

    async def connect(
        self,
        key: Hashable,
        host: str,
        port: int,
        *,
        ssl_context: ssl.SSLContext | None,
        server_hostname: str | None,
        family: int = 0,
        http2: str | None = None,
        uds: str | None = None,
        socks: SocksProxy | None = None,
        resolve: Resolve | None = None,
    ) -> None:
        """Open a new transport to ``host:port`` (an address), or to the Unix domain socket
        ``uds``, or through the SOCKS proxy ``socks`` (``host`` is then the origin's name,
        resolved with ``resolve`` unless the proxy resolves it), replacing any previous one.

        ``http2``: None for HTTP/1.1 only, "alpn" to speak whichever of h2 and http/1.1 the
        TLS handshake selects, "prior" for cleartext h2 with prior knowledge.
        """
        self._drop_transport()
        loop = asyncio.get_running_loop()
        factory: Callable[[], asyncio.Protocol]
        if http2 is None:
            factory = lambda: HTTP11Protocol(loop, self, self.connector.limits)  # noqa: E731
        else:
            factory = lambda: _Select(loop, self, prior_knowledge=http2 == "prior")  # noqa: E731
        if socks is not None:
            from ._socks import create_socks_connection  # only SOCKS users load it

            _, protocol = await create_socks_connection(
                loop, factory, socks, host, port, ssl=ssl_context,
                server_hostname=server_hostname, resolve=resolve,
            )
        elif uds is not None:
            _, protocol = await loop.create_unix_connection(
                factory, uds, ssl=ssl_context, server_hostname=server_hostname
            )
        else:
            _, protocol = await loop.create_connection(
                factory,
                host,
                port,
                ssl=ssl_context,
                server_hostname=server_hostname,
                family=family,
            )
        if isinstance(protocol, _Select):
            self.protocol = protocol.selected
        else:
            self.protocol = cast(HTTP11Protocol, protocol)
        self.key = key
        self.requests_count = 0

    def upgrade_to_h2_if_selected(self, transport: asyncio.BaseTransport) -> None:
        """After TLS was started inside a proxy tunnel: switch to HTTP/2 if ALPN chose it."""
        ssl_object = transport.get_extra_info("ssl_object")
        if ssl_object is not None and ssl_object.selected_alpn_protocol() == "h2":
            from ._http2 import HTTP2Protocol  # h2 is imported only once it is spoken

            connector = self.connector
            protocol = HTTP2Protocol(
                asyncio.get_running_loop(), self, connector.http2_window, connector.limits
            )
            transport.set_protocol(protocol)
            protocol.connection_made(transport)
            self.protocol = protocol

    @property
    def is_h2(self) -> bool:
        protocol = self.protocol
        return protocol is not None and protocol.http2

    # -- HTTP/2 owner: the slot stays lent out for the whole life of an h2 connection ------

    def stream_freed(self) -> None:
        self.connector.h2_capacity_freed(self)

    def h2_finished(self) -> None:
        # A connection that dies while being opened is released by whoever opens it.
        if self.connector.h2_forget(self):
            self._drop_transport()
            if self.pool is not None and self.state is ConnectionState.ACTIVE:
                self.pool.release(self)

    def exchange_done(self, keep_alive: bool) -> None:
        """Called by the protocol once per request; frees the slot."""
        self.requests_count += 1
        pool = self.pool
        limit = self.connector.conn_max_requests if pool is None else pool.conn_max_requests
        if not keep_alive or self.requests_count >= limit:
            self._drop_transport()
        if self.pool is not None:
            self.pool.release(self)

    def detach(self) -> None:
        """The transport was handed over (a protocol upgrade): forget it, free the slot."""
        self.protocol = None
        self.key = None
        if self.pool is not None:
            self.pool.release(self)

    def idle_too_long(self, max_idle: float) -> bool:
        return self.protocol is not None and time.monotonic() - self.idle_since >= max_idle

    def reset(self) -> None:
        """Close the open connection (if any) and keep the slot."""
        self._drop_transport()

    def free_event(self) -> str:
        """Which transition releasing this slot makes: still open, or shut."""
        return "free_open" if self.is_open() else "free_shut"

    def _drop_transport(self) -> None:
        protocol = self.protocol
        self.protocol = None
        self.key = None
        if protocol is not None:
            protocol.close()

    def close(self) -> None:
        """Close the transport for good; the slot is never used again."""
        self._drop_transport()
        self.transition("close")


class _Select(asyncio.Protocol):
    """Chooses the protocol once the connection is up: h2 if ALPN selected it (or with
    prior knowledge), HTTP/1.1 otherwise; then hands the transport over to it."""

    def __init__(
        self, loop: asyncio.AbstractEventLoop, owner: Connection, *, prior_knowledge: bool
    ) -> None:
        self.loop = loop
        self.owner = owner
        self.prior_knowledge = prior_knowledge
        self.selected: HTTP11Protocol | HTTP2Protocol | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        chosen = "h2" if self.prior_knowledge else None
        ssl_object = transport.get_extra_info("ssl_object")
        if ssl_object is not None:
            chosen = ssl_object.selected_alpn_protocol()
        protocol: HTTP11Protocol | HTTP2Protocol
        connector = self.owner.connector
        if chosen == "h2":
            from ._http2 import HTTP2Protocol  # h2 is imported only once it is spoken

            protocol = HTTP2Protocol(
                self.loop, self.owner, connector.http2_window, connector.limits
            )
        else:
            protocol = HTTP11Protocol(self.loop, self.owner, connector.limits)
        transport.set_protocol(protocol)
        protocol.connection_made(transport)
        self.selected = protocol
