"""``Connection``: one slot of a pool, holding at most one open connection (of any protocol).

Its life is a state machine (the table below), not a set of booleans::

    NEW    --acquire-->  ACTIVE       a slot with no open transport is lent out
    IDLE   --acquire-->  ACTIVE       an open, free connection is lent out
    ACTIVE --free_open-> IDLE         the exchange ended and the connection may be reused
    ACTIVE --free_shut-> NEW          it ended otherwise: the transport was closed
    any    --close---->  CLOSED       the pool was cleaned up; the slot is dead

An HTTP/2 connection keeps its slot ACTIVE for its whole life, shared by its streams.

It owns the open connection's lifetime (``attach`` makes the connection class that the
dialed protocol calls for) and its request count (``conn_max_requests``). It is given a
frozen ``ConnectionConfig``, never the connector; it tells its owner (the pool) when it is
free again. It never parses HTTP, never dials and never picks which slot serves a request.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Hashable
from enum import Enum
from typing import TYPE_CHECKING, Any, Final, Protocol

from ._http11_conn import HTTP11Protocol
from .limits import DEFAULT_H2_WINDOW, DEFAULT_LIMITS, Limits

if TYPE_CHECKING:
    from ._dial import Dialed
    from ._http2_conn import HTTP2Protocol

__all__ = ["Connection", "ConnectionConfig", "ConnectionState"]


class ConnectionConfig:
    """What every connection of a connector is made with; read-only once made."""

    __slots__ = ("conn_max_requests", "http2_window", "limits")
    limits: Limits
    http2_window: int
    conn_max_requests: int

    def __init__(
        self,
        limits: Limits = DEFAULT_LIMITS,
        http2_window: int = DEFAULT_H2_WINDOW,
        conn_max_requests: int = 100,
    ) -> None:
        object.__setattr__(self, "limits", limits)
        object.__setattr__(self, "http2_window", http2_window)
        object.__setattr__(self, "conn_max_requests", conn_max_requests)

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError("ConnectionConfig is read-only")

    def __repr__(self) -> str:
        return (f"ConnectionConfig(limits={self.limits!r}, http2_window={self.http2_window}, "
                f"conn_max_requests={self.conn_max_requests})")

    @classmethod
    def of(cls, source: Any) -> ConnectionConfig:
        """``source`` itself, or the config of a connector (or anything with its fields)."""
        if isinstance(source, ConnectionConfig):
            return source
        config = getattr(source, "connection_config", None)
        if isinstance(config, ConnectionConfig):
            return config
        return cls(
            getattr(source, "limits", DEFAULT_LIMITS),
            getattr(source, "http2_window", DEFAULT_H2_WINDOW),
            getattr(source, "conn_max_requests", 100),
        )


class SlotOwner(Protocol):
    """The pool a slot belongs to, told when the slot is free or its HTTP/2 capacity
    changed."""

    conn_max_requests: int

    def release(self, conn: Connection) -> None: ...

    def capacity_freed(self, conn: Connection) -> None: ...

    def multiplexed_finished(self, conn: Connection) -> None: ...


class ConnectionState(Enum):
    NEW = "new"
    IDLE = "idle"
    ACTIVE = "active"
    CLOSED = "closed"

    # Members are singletons: identity hashing (in C) keeps the transition table cheap.
    __hash__ = object.__hash__


# The members as module globals for the hot path (on CPython 3.10 and 3.11 reading a member
# off its Enum class costs a descriptor call).
NEW: Final = ConnectionState.NEW
IDLE: Final = ConnectionState.IDLE
ACTIVE: Final = ConnectionState.ACTIVE
CLOSED: Final = ConnectionState.CLOSED

_TRANSITIONS: Final[dict[tuple[ConnectionState, str], ConnectionState]] = {
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
    """A pool slot: state, the open connection if any, and the key of its route."""

    def __init__(self, config: Any = None) -> None:
        # Any: a ConnectionConfig, or (as pools of 0.22 passed it) the connector.
        self.config = ConnectionConfig.of(config)
        self.pool: SlotOwner | None = None
        self.state = NEW
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
        return self.state is IDLE

    def is_open(self) -> bool:
        """True if it holds a connection that can carry a new request right now."""
        protocol = self.protocol
        return protocol is not None and protocol.is_available

    @property
    def is_h2(self) -> bool:
        protocol = self.protocol
        return protocol is not None and protocol.http2

    def attach(self, dialed: Dialed, key: Hashable) -> HTTP11Protocol | HTTP2Protocol:
        """Make the connection class for what ``dialed`` speaks, give it the transport
        (with every byte that already arrived) and hold it, replacing any previous one."""
        self._drop_transport()
        loop = asyncio.get_running_loop()
        config = self.config
        protocol: HTTP11Protocol | HTTP2Protocol
        if dialed.alpn == "h2":
            from ._http2_conn import HTTP2Protocol  # imported only once HTTP/2 is spoken

            protocol = HTTP2Protocol(loop, self, config.http2_window, config.limits)
        else:
            protocol = HTTP11Protocol(loop, self, config.limits)
        self.protocol = protocol
        self.key = key
        self.requests_count = 0
        dialed.hand_over(protocol)
        return protocol

    # -- what the connection tells its slot ------------------------------------------------

    def exchange_done(self, keep_alive: bool) -> None:
        """An HTTP/1.1 exchange ended; frees the slot."""
        self.requests_count += 1
        pool = self.pool
        limit = self.config.conn_max_requests if pool is None else pool.conn_max_requests
        if not keep_alive or self.requests_count >= limit:
            self._drop_transport()
        if pool is not None:
            pool.release(self)

    def stream_freed(self) -> None:
        """An HTTP/2 stream ended (or the server raised its limit)."""
        if self.pool is not None:
            self.pool.capacity_freed(self)

    def h2_finished(self) -> None:
        """The HTTP/2 connection takes no more streams and has none left."""
        if self.pool is not None:
            self.pool.multiplexed_finished(self)

    # -- the pool's side ------------------------------------------------------------------

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
