"""``Deadline`` (the connect-time limit): requests without any limit, a deadline outside a
task, and an outside cancellation racing a deadline."""

from __future__ import annotations

import asyncio
import sys

import pytest
from support.app import AppServer, loads

import aiosonic
from aiosonic._deadline import Deadline

NO_LIMITS = aiosonic.Timeouts(sock_connect=None, sock_read=None, request_timeout=None)


async def test_requests_without_any_time_limit_connect_and_complete(server: AppServer) -> None:
    async with aiosonic.HTTPClient() as client:
        response = await client.get(server.url("/echo"), timeouts=NO_LIMITS)
        assert loads(await response.content())["method"] == "GET"


async def test_a_deadline_outside_a_task_is_refused() -> None:
    loop = asyncio.get_running_loop()
    outcome: asyncio.Future[BaseException] = loop.create_future()

    def in_a_callback() -> None:
        try:
            with Deadline(loop, loop.time() + 1, lambda: TimeoutError("late")):
                pass
        except RuntimeError as exc:
            outcome.set_result(exc)

    loop.call_soon(in_a_callback)
    assert str(await outcome) == "Deadline must be used inside a task"


async def test_a_cancellation_from_outside_wins_over_a_deadline_firing_with_it() -> None:
    loop = asyncio.get_running_loop()
    blocker: asyncio.Future[None] = loop.create_future()

    async def connect_like() -> None:
        with Deadline(loop, loop.time(), lambda: TimeoutError("deadline")):
            await blocker

    task = asyncio.create_task(connect_like())
    # The deadline's cancel cancels ``blocker``; this callback was added before the task's own
    # wake-up, so the caller's cancel lands in the same loop turn, before the task runs again
    # (timers due at one instant need not share a turn on uvloop; done callbacks run in order).
    blocker.add_done_callback(lambda _: task.cancel())
    with pytest.raises((asyncio.CancelledError, TimeoutError)) as raised:
        await task
    # Before 3.11 a task cannot tell the two apart; since then the caller's cancel wins.
    expected = asyncio.CancelledError if sys.version_info >= (3, 11) else TimeoutError
    assert type(raised.value) is expected
