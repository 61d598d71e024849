"""Waiting on conditions instead of sleeping: for the few states only the client's own
objects expose (a connection that saw the server's FIN, reading paused on a full buffer)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import aiosonic


async def eventually(check: Callable[[], bool], timeout: float = 10.0) -> None:
    """Wait until ``check()`` holds (polled every loop turn, then every 10 ms); fail the
    test if it does not within ``timeout`` seconds."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    for _ in range(100):  # most conditions hold after a few loop turns
        if check():
            return
        await asyncio.sleep(0)
    while not check():
        assert loop.time() < deadline, "condition never became true"
        await asyncio.sleep(0.01)


def pooled_protocols(client: aiosonic.HTTPClient) -> list[Any]:
    """The connection protocols the client's pool holds right now."""
    connector: Any = client.connector
    return [conn.protocol for conn in connector.pool.conns if conn.protocol is not None]
