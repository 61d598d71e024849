"""``Deadline``: run a block of a coroutine until an absolute loop time, then raise our error.

It exists because ``asyncio.timeout`` is 3.11+ and ``wait_for`` costs a task. It is used only
off the hot path (connecting); the request itself is timed by the connection's loop timer.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Callable
from types import TracebackType

__all__ = ["Deadline"]


class Deadline:
    """``with Deadline(loop, when, make_error):`` cancels the block at ``when`` (loop time)
    and raises ``make_error()`` in place of the cancellation. ``when=None``: no limit."""

    __slots__ = ("_fired", "_handle", "_loop", "_make_error", "_task", "_when")

    def __init__(
        self,
        loop: asyncio.AbstractEventLoop,
        when: float | None,
        make_error: Callable[[], BaseException],
    ) -> None:
        self._loop = loop
        self._when = when
        self._make_error = make_error
        self._fired = False
        self._handle: asyncio.TimerHandle | None = None
        self._task: asyncio.Task[object] | None = None

    def __enter__(self) -> Deadline:
        if self._when is not None:
            self._task = asyncio.current_task(self._loop)
            if self._task is None:
                raise RuntimeError("Deadline must be used inside a task")
            self._handle = self._loop.call_at(self._when, self._fire)
        return self

    def _fire(self) -> None:
        self._fired = True
        assert self._task is not None
        self._task.cancel()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._handle is not None:
            self._handle.cancel()
        if self._fired and exc_type is asyncio.CancelledError:
            assert self._task is not None
            if sys.version_info >= (3, 11) and self._task.uncancel() > 0:
                return  # cancelled from outside too: let that cancellation through
            raise self._make_error() from None
