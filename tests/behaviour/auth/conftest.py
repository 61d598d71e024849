"""Fixtures for the auth tests: ``digest_server(**options)`` starts a ``DigestServer``
(closed at teardown, however many a test starts)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest_asyncio
from support.digest_server import DigestServer

StartServer = Callable[..., Awaitable[DigestServer]]


@pytest_asyncio.fixture
async def digest_server() -> AsyncIterator[StartServer]:
    started: list[DigestServer] = []

    async def start(**options: Any) -> DigestServer:
        server = await DigestServer(**options).start()
        started.append(server)
        return server

    try:
        yield start
    finally:
        for server in reversed(started):
            await server.close()
