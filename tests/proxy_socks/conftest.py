"""Fixtures for the SOCKS tests: our SOCKS server and a TLS origin."""

from __future__ import annotations

import ssl
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest
import pytest_asyncio
from servers import AppServer

from .socks_server import SocksServer


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


@pytest.fixture(scope="module")
def certificate_authority() -> Any:
    trustme = pytest.importorskip("trustme")
    return trustme.CA()


@pytest_asyncio.fixture
async def tls_server(certificate_authority: Any) -> AsyncIterator[AppServer]:
    """The aiohttp application over TLS, with a certificate for ``localhost``."""
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    certificate_authority.issue_cert("localhost").configure_cert(context)
    srv = await AppServer(ssl_context=context).start()
    try:
        yield srv
    finally:
        await srv.close()


@pytest.fixture
def trusting_context(certificate_authority: Any) -> ssl.SSLContext:
    context = ssl.create_default_context()
    certificate_authority.configure_trust(context)
    return context
