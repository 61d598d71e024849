"""Floor runner: the raw ceiling plus the least an awaitable client API costs.

The same connections, request and response checks as ``raw_runner``, but every request is
awaited: one coroutine per connection writes the request and awaits a future that
``data_received`` completes when the response is in, then sends the next. That is one future
and one task wake-up per request and nothing else, which no library behind an
``await client.get(url)`` API can avoid: the bound for any of them on this event loop (the
``raw`` ceiling is not one, since it answers from inside ``data_received``).
"""

from __future__ import annotations

import asyncio
from typing import Any

import _harness
import raw_runner


class _AwaitedConn(raw_runner._Conn):
    """A raw connection whose next request is sent by a coroutine awaiting the last one."""

    __slots__ = ("task", "waiter")

    def __init__(self, request: bytes, expect_len: int) -> None:
        super().__init__(request, expect_len)
        self.waiter: asyncio.Future[None] | None = None
        self.task: asyncio.Task[None] | None = None

    def start(self, phase: raw_runner._Phase) -> None:
        if self.closed or self.transport is None:
            super().start(phase)  # counts the error and goes idle
            return
        self.phase = phase
        self.task = asyncio.get_running_loop().create_task(self._requests(phase))

    async def _requests(self, phase: raw_runner._Phase) -> None:
        loop = asyncio.get_running_loop()
        while self.phase is phase and self.transport is not None:
            waiter = self.waiter = loop.create_future()
            self.transport.write(self.request)
            try:
                await waiter
            except ConnectionError:
                return  # connection_lost counted it and went idle
            if not phase.running:
                self.phase = None
                phase.went_idle()
                return

    def _next(self, phase: raw_runner._Phase) -> None:
        waiter = self.waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    def connection_lost(self, exc: Exception | None) -> None:
        waiter = self.waiter
        if waiter is not None and not waiter.done():
            waiter.set_exception(ConnectionError(f"connection lost: {exc!r}"))
        super().connection_lost(exc)


async def measure(opts: _harness.Options) -> _harness.Outcome:
    return await raw_runner.measure(opts, _AwaitedConn)


def library() -> dict[str, Any]:
    return {"name": "raw asyncio.Protocol, awaited", "version": "-", "module": __file__}


if __name__ == "__main__":
    _harness.main(measure, library)
