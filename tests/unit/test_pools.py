"""Pool bookkeeping without sockets: which slot is handed out, and who waits."""

from __future__ import annotations

import asyncio

import pytest

from aiosonic import TCPConnector
from aiosonic.connection import Connection, ConnectionState
from aiosonic.exceptions import ConnectionPoolAcquireTimeout
from aiosonic.pools import CyclicQueuePool, SmartPool


def make(pool_cls: type, size: int = 2) -> TCPConnector:
    return TCPConnector(pool_size=size, pool_cls=pool_cls)


@pytest.mark.parametrize("pool_cls", [SmartPool, CyclicQueuePool])
async def test_acquire_release_counts(pool_cls: type) -> None:
    pool = make(pool_cls).pool
    assert pool.free_conns() == 2 and pool.is_all_free()
    first = await pool.acquire()
    second = pool.acquire_nowait()
    assert first is not second and first.state is ConnectionState.ACTIVE
    assert pool.free_conns() == 0 and not pool.is_all_free()
    assert pool.acquire_nowait() is None
    pool.release(first)
    pool.release(second)
    assert pool.is_all_free()
    assert first.state is ConnectionState.NEW  # no transport: free to reconnect


@pytest.mark.parametrize("pool_cls", [SmartPool, CyclicQueuePool])
async def test_waiters_are_served_in_order_and_time_out(pool_cls: type) -> None:
    pool = make(pool_cls, 1).pool
    held = await pool.acquire()
    first = asyncio.ensure_future(pool.acquire())
    second = asyncio.ensure_future(pool.acquire())
    await asyncio.sleep(0)
    pool.release(held)
    assert await first is held
    assert not second.done()
    with pytest.raises(ConnectionPoolAcquireTimeout):
        await pool.acquire(timeout=0.01)
    pool.release(held)
    assert await second is held
    pool.release(held)
    assert pool.is_all_free()


async def test_cancelled_waiter_does_not_leak_the_slot() -> None:
    pool = make(SmartPool, 1).pool
    held = await pool.acquire()
    waiter = asyncio.ensure_future(pool.acquire())
    await asyncio.sleep(0)
    pool.release(held)  # handed to the waiter...
    waiter.cancel()  # ...which is cancelled before it runs
    with pytest.raises(asyncio.CancelledError):
        await waiter
    assert pool.is_all_free()


async def test_wait_all_free() -> None:
    pool = make(SmartPool, 1).pool
    held = await pool.acquire()
    assert await pool.wait_all_free(0.01) is False
    asyncio.get_running_loop().call_later(0.01, pool.release, held)
    assert await pool.wait_all_free(1) is True


async def test_cleanup_makes_the_pool_unusable() -> None:
    pool = make(CyclicQueuePool, 1).pool
    await pool.cleanup()
    assert all(conn.state is ConnectionState.CLOSED for conn in pool.conns)
    with pytest.raises(RuntimeError):
        await pool.acquire()


def test_state_machine_refuses_invalid_transitions() -> None:
    conn = Connection(TCPConnector())
    with pytest.raises(RuntimeError, match="cannot free_open while new"):
        conn.transition("free_open")
    conn.transition("acquire")
    with pytest.raises(RuntimeError, match="cannot acquire while active"):
        conn.transition("acquire")
