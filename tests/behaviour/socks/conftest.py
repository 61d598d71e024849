"""Fixtures for the SOCKS tests: our SOCKS server and a TLS origin named ``localhost`` only."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest_asyncio
from support.app import AppServer
from support.socks_server import SocksServer
from support.tls import server_context


@pytest_asyncio.fixture
async def socks() -> AsyncIterator[Callable[..., Awaitable[SocksServer]]]:
    """Factory: ``await socks(users={...}, user_ids={...}, host=...)``; closed at teardown."""
    started: list[SocksServer] = []

    async def start(**kwargs: Any) -> SocksServer:
        srv = await SocksServer(**kwargs).start()
        started.append(srv)
        return srv

    try:
        yield start
    finally:
        for srv in reversed(started):
            await srv.close()


@pytest_asyncio.fixture
async def localhost_tls_server(ca: Any) -> AsyncIterator[AppServer]:
    """The aiohttp application over TLS, with a certificate for ``localhost`` only (so
    reaching it as 127.0.0.1 is a name mismatch)."""
    srv = await AppServer(ssl_context=server_context(ca, "localhost")).start()
    try:
        yield srv
    finally:
        await srv.close()
