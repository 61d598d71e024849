"""Connection pools: which slot serves a request, and who waits when none is free.

A pool holds ``pool_size`` ``Connection`` slots, so it bounds how many connections are open
and how many requests run at once. Bookkeeping is synchronous (``acquire_nowait`` and
``release`` never await) so a free connection is handed out without an event-loop round trip;
only a request that finds every slot busy waits, first come first served.

- ``SmartPool`` (default) prefers a free connection already open to the request's origin,
  then a slot with no connection, then the least recently used idle connection elsewhere.
- ``CyclicQueuePool`` hands slots out in rotation, whatever their origin.

The pool owns every connection, HTTP/2 included: a slot holding an HTTP/2 connection stays
lent out for that connection's whole life and is shared by its streams (``acquire_nowait``
with ``multiplexed=True`` hands it out while it has a free stream); the pool keeps which
route is being opened (so concurrent requests wait for that one connection rather than
open their own) and wakes requests waiting for a free stream.

Pools never open sockets (the transport dials the slot it gets if it has to) and never see
the connector: they are given a frozen ``ConnectionConfig`` (or the connector, read once).
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Hashable
from typing import Any

from ._lifecycle import close_all
from ._mypyc import mypyc_attr
from ._pool_config import PoolConfig
from .connection import ACTIVE, CLOSED, IDLE, Connection, ConnectionConfig
from .exceptions import ConnectionPoolAcquireTimeout, RequestTimeout

__all__ = ["BasePool", "CyclicQueuePool", "PoolConfig", "SmartPool"]


def _key_of(urlparsed: Any) -> Hashable | None:
    """A key for a URL given by a caller (our URL, urllib's ParseResult, or None)."""
    if urlparsed is None:
        return None
    origin = getattr(urlparsed, "origin", None)
    if isinstance(origin, tuple):
        return origin
    return (getattr(urlparsed, "scheme", None), getattr(urlparsed, "hostname", None),
            getattr(urlparsed, "port", None))


@mypyc_attr(allow_interpreted_subclasses=True)
class BasePool:
    """Slots, waiters and the free count; subclasses choose which free slot to take."""

    def __init__(
        self,
        connector: Any,
        pool_size: int,
        connection_cls: type[Connection] | None = None,
    ) -> None:
        # connector: a ConnectionConfig, or a TCPConnector (the 0.22 signature) read once.
        if not isinstance(pool_size, int) or pool_size < 1:
            raise ValueError(f"pool_size must be a positive int, not {pool_size!r}")
        config = ConnectionConfig.of(connector)
        self.config = config
        self.pool_size = pool_size
        cls = connection_cls or Connection
        self.conns = [cls(config) for _ in range(pool_size)]
        for conn in self.conns:
            conn.pool = self
        self._free = pool_size
        self._waiters: deque[asyncio.Future[Connection]] = deque()
        self._all_free_waiters: list[asyncio.Future[None]] = []
        self._closed = False
        # Per-pool settings (see PoolConfig); the connector may change them after creation.
        self.conn_max_requests: int = config.conn_max_requests
        self.max_idle: float | None = None  # seconds an open connection may sit unused
        self._sweep: asyncio.TimerHandle | None = None
        # HTTP/2: slots holding a live connection per route key (lent out for its whole
        # life), the routes being opened, and requests waiting for a free stream.
        self._multiplexed: dict[Hashable, list[Connection]] = {}
        self._opening: dict[Hashable, asyncio.Future[None]] = {}
        self._stream_waiters: dict[Hashable, list[asyncio.Future[None]]] = {}
        self._setup()

    # -- subclass hooks -------------------------------------------------------------------

    def _setup(self) -> None:
        """Build the structures that hold free slots (every slot is free at first)."""
        raise NotImplementedError

    def _take(self, key: Hashable | None) -> Connection | None:
        raise NotImplementedError

    def _put(self, conn: Connection) -> None:
        raise NotImplementedError

    # -- the API --------------------------------------------------------------------------

    def acquire_shared(self, key: Hashable) -> Connection | None:
        """A slot whose HTTP/2 connection for ``key`` has a free stream (it stays lent
        out, shared by the streams), or None."""
        shared = self._multiplexed.get(key) if self._multiplexed else None
        if shared:
            for conn in shared:
                protocol = conn.protocol
                if protocol is not None and protocol.is_available:
                    return conn
        return None

    def acquire_nowait(self, key: Hashable | None = None) -> Connection | None:
        """A free slot (preferring ``key``'s origin) marked active, or None if all are busy."""
        if not self._free or self._closed:
            return None
        conn = self._take(key)
        if conn is None:
            return None
        self._free -= 1
        conn.transition("acquire")
        if self.max_idle is not None and conn.idle_too_long(self.max_idle):
            conn.reset()  # idle past max_conn_idle_ms: connect anew rather than reuse it
        return conn

    async def acquire(
        self, urlparsed: Any = None, *, key: Hashable | None = None, timeout: float | None = None
    ) -> Connection:
        """A free slot, waiting (at most ``timeout`` seconds) while every slot is busy."""
        if self._closed:
            raise RuntimeError("the pool was cleaned up")
        if key is None:
            key = _key_of(urlparsed)
        conn = self.acquire_nowait(key)
        if conn is not None:
            return conn
        loop = asyncio.get_running_loop()
        waiter: asyncio.Future[Connection] = loop.create_future()
        self._waiters.append(waiter)
        timer = None
        if timeout is not None:
            timer = loop.call_later(timeout, self._expire, waiter, timeout)
        try:
            return await waiter
        except asyncio.CancelledError:
            if waiter.done() and not waiter.cancelled() and waiter.exception() is None:
                # We were handed a slot in the same tick as we were cancelled: give it back.
                self.release(waiter.result())
            raise
        finally:
            if timer is not None:
                timer.cancel()
            if not waiter.done():
                waiter.cancel()
            try:
                self._waiters.remove(waiter)
            except ValueError:
                pass

    def _expire(self, waiter: asyncio.Future[Connection], timeout: float) -> None:
        if not waiter.done():
            waiter.set_exception(
                ConnectionPoolAcquireTimeout(f"no free connection within {timeout} seconds")
            )

    def release(self, conn: Connection) -> None:
        """Give a slot back; an open connection becomes idle, a shut one free to reconnect."""
        if conn.state is CLOSED:
            return
        if conn.state is not ACTIVE:
            raise RuntimeError(f"releasing a connection that is {conn.state.value}")
        if conn.transition(conn.free_event()) is IDLE and self.max_idle:
            conn.idle_since = time.monotonic()
            if self._sweep is None:
                loop = asyncio.get_running_loop()
                self._sweep = loop.call_later(self.max_idle, self._close_idle)
        self._free += 1
        self._hand_over(conn)
        if self._all_free_waiters and self._free == self.pool_size:
            for waiter in self._all_free_waiters:
                if not waiter.done():
                    waiter.set_result(None)
            self._all_free_waiters.clear()

    def _hand_over(self, conn: Connection) -> None:
        waiters = self._waiters
        while waiters:
            waiter = waiters.popleft()
            if not waiter.done():
                self._free -= 1
                conn.transition("acquire")
                waiter.set_result(conn)
                return
        self._put(conn)

    def _close_idle(self) -> None:
        """Close the connections idle for longer than ``max_idle``; come back while any
        other stays idle."""
        self._sweep = None
        max_idle = self.max_idle
        if max_idle is None or self._closed:
            return
        soonest: float | None = None
        for conn in self.conns:
            if not conn.is_idle or conn.protocol is None:
                continue
            if conn.idle_too_long(max_idle):
                conn.reset()
            else:
                left = max_idle - (time.monotonic() - conn.idle_since)
                soonest = left if soonest is None else min(soonest, left)
        if soonest is not None:
            self._sweep = asyncio.get_running_loop().call_later(soonest, self._close_idle)

    # -- HTTP/2 bookkeeping ---------------------------------------------------------------

    @property
    def multiplexing(self) -> bool:
        """True while any slot holds a live HTTP/2 connection."""
        return bool(self._multiplexed)

    def has_multiplexed(self, key: Hashable) -> bool:
        """True while a live HTTP/2 connection for ``key`` holds a slot."""
        return bool(self._multiplexed.get(key))

    def add_multiplexed(self, conn: Connection) -> None:
        """``conn`` (lent out) now carries an HTTP/2 connection: share it."""
        self._multiplexed.setdefault(conn.key, []).append(conn)
        self.capacity_freed(conn)

    def capacity_freed(self, conn: Connection) -> None:
        """A stream ended (or the server's limit rose) on ``conn``: wake who waits."""
        waiters = self._stream_waiters.pop(conn.key, None)
        if waiters:
            for waiter in waiters:
                if not waiter.done():
                    waiter.set_result(None)

    def multiplexed_finished(self, conn: Connection) -> None:
        """``conn``'s HTTP/2 connection takes no more streams and has none left: free the
        slot. One that dies while being opened is freed by whoever opens it."""
        key = conn.key
        shared = self._multiplexed.get(key)
        if shared is None or conn not in shared:
            return
        shared.remove(conn)
        if not shared:
            del self._multiplexed[key]
        self.capacity_freed(conn)
        conn.reset()
        if conn.state is ACTIVE:
            self.release(conn)

    def opening(self, key: Hashable) -> asyncio.Future[None] | None:
        """The future of the connection being opened for ``key``, if one is."""
        return self._opening.get(key)

    def begin_opening(self, key: Hashable) -> None:
        self._opening[key] = asyncio.get_running_loop().create_future()

    def end_opening(self, key: Hashable) -> None:
        opened = self._opening.pop(key, None)
        if opened is not None and not opened.done():
            opened.set_result(None)

    async def wait_for_stream(self, key: Hashable, deadline: float | None) -> None:
        """Wait until a stream frees up on ``key``'s HTTP/2 connections (or one goes)."""
        loop = asyncio.get_running_loop()
        waiter: asyncio.Future[None] = loop.create_future()
        self._stream_waiters.setdefault(key, []).append(waiter)
        timer = None
        if deadline is not None:
            timer = loop.call_at(deadline, _expire_stream_waiter, waiter)
        try:
            await waiter
        finally:
            if timer is not None:
                timer.cancel()

    def in_flight(self) -> int:
        """How many slots carry a request now (an HTTP/2 one only while it has streams)."""
        quiet = sum(
            1
            for shared in self._multiplexed.values()
            for conn in shared
            if conn.protocol is not None and conn.protocol.is_idle
        )
        return self.pool_size - self._free - quiet

    def free_conns(self) -> int:
        """How many slots are not lent out."""
        return self._free

    def is_all_free(self) -> bool:
        """True when no slot is lent out."""
        return self._free == self.pool_size

    async def wait_all_free(self, timeout: float | None = None) -> bool:
        """Wait until every slot is free; False if ``timeout`` seconds pass first."""
        if self.is_all_free():
            return True
        waiter = asyncio.get_running_loop().create_future()
        self._all_free_waiters.append(waiter)
        try:
            await asyncio.wait_for(asyncio.shield(waiter), timeout)
        except asyncio.TimeoutError:
            return False
        return True

    async def cleanup(self) -> None:
        """Close every connection; the pool cannot be used afterwards."""
        self._closed = True
        self._multiplexed.clear()
        if self._sweep is not None:
            self._sweep.cancel()
            self._sweep = None
        open_protocols = [conn.protocol for conn in self.conns if conn.protocol is not None]
        for conn in self.conns:
            conn.close()
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_exception(RuntimeError("the pool was cleaned up"))
        await close_all(open_protocols)


def _expire_stream_waiter(waiter: asyncio.Future[None]) -> None:
    if not waiter.done():
        waiter.set_exception(
            RequestTimeout("request_timeout elapsed while waiting for a free HTTP/2 stream")
        )


@mypyc_attr(allow_interpreted_subclasses=True)
class SmartPool(BasePool):
    """Pool which prioritises reusing connections already open to the request's origin."""

    def _setup(self) -> None:
        self._idle: dict[Hashable, list[Connection]] = {}
        # Every idle open connection, least recently released first.
        self._lru: dict[Connection, None] = {}
        self._unbound: list[Connection] = list(self.conns)

    def _take(self, key: Hashable | None) -> Connection | None:
        if key is not None:
            idle = self._idle.get(key)
            while idle:
                conn = idle.pop()
                del self._lru[conn]
                if conn.is_open():
                    return conn
                self._unbound.append(conn)  # closed while idle: a slot to reconnect
        if self._unbound:
            return self._unbound.pop()
        if self._lru:
            conn = next(iter(self._lru))
            del self._lru[conn]
            self._idle[conn.key].remove(conn)
            return conn
        return None

    def _put(self, conn: Connection) -> None:
        if conn.state is IDLE and conn.key is not None:
            self._idle.setdefault(conn.key, []).append(conn)
            self._lru[conn] = None
        else:
            self._unbound.append(conn)


@mypyc_attr(allow_interpreted_subclasses=True)
class CyclicQueuePool(BasePool):
    """Pool which hands out its slots in rotation, whatever origin they were last used for."""

    def _setup(self) -> None:
        self._queue: deque[Connection] = deque(self.conns)

    def _take(self, key: Hashable | None) -> Connection | None:
        return self._queue.popleft() if self._queue else None

    def _put(self, conn: Connection) -> None:
        self._queue.append(conn)
