"""What every connection protocol shares about its end: knowing when the transport is gone.

``close()`` on a TLS transport starts a shutdown handshake; the socket is really closed only
when ``connection_lost`` runs. ``HTTPClient.close()`` waits for that (briefly, then aborts),
so that closing a client really releases every socket.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable

__all__ = ["LosableProtocol", "close_all"]


class LosableProtocol(asyncio.Protocol):
    """A protocol that can be awaited until its transport is gone."""

    transport: asyncio.Transport | None
    lost = False
    _lost_waiters: list[asyncio.Future[None]] | None = None

    def mark_lost(self) -> None:
        """Call from ``connection_lost``."""
        self.lost = True
        transport = self.transport
        if transport is not None and not transport.is_closing():
            # Python 3.10's TLS transport stays "open" after the connection is gone unless
            # its protocol closes it, and warns (ResourceWarning) when collected. Closing a
            # lost transport sends nothing.
            transport.close()
        waiters = self._lost_waiters
        if waiters:
            self._lost_waiters = None
            for waiter in waiters:
                if not waiter.done():
                    waiter.set_result(None)

    async def wait_lost(self) -> None:
        if self.lost or self.transport is None:
            return
        if self._lost_waiters is None:
            self._lost_waiters = []
        waiter = asyncio.get_running_loop().create_future()
        self._lost_waiters.append(waiter)
        await waiter


async def close_all(protocols: Iterable[LosableProtocol], grace: float = 1.0) -> None:
    """Wait until every protocol's transport is gone; abort those still open after
    ``grace`` seconds (a TLS peer that never answers our close_notify)."""
    pending = [protocol for protocol in protocols if not protocol.lost]
    if not pending:
        await asyncio.sleep(0)
        return
    waiters = [asyncio.ensure_future(protocol.wait_lost()) for protocol in pending]
    _, late = await asyncio.wait(waiters, timeout=grace)
    for protocol in pending:
        if not protocol.lost and protocol.transport is not None:
            protocol.transport.abort()
    if late:
        await asyncio.wait(late, timeout=grace)
        for waiter in late:
            waiter.cancel()
