"""Shared fixtures: real loopback servers and aiosonic clients that are always closed."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest
import pytest_asyncio
from servers import HOST, AppServer, Handler, RawServer, Responder


def pytest_asyncio_loop_factories(
    config: pytest.Config, item: pytest.Item
) -> dict[str, Callable[[], asyncio.AbstractEventLoop]]:
    """Every async test runs on the default loop and, when installed, on uvloop."""
    factories: dict[str, Callable[[], asyncio.AbstractEventLoop]] = {
        "asyncio": asyncio.new_event_loop
    }
    try:
        import uvloop
    except ImportError:
        return factories
    factories["uvloop"] = uvloop.new_event_loop
    return factories


@pytest_asyncio.fixture
async def server() -> AsyncIterator[AppServer]:
    """The aiohttp application (see ``servers.build_app``) on an ephemeral loopback port."""
    app_server = await AppServer().start()
    try:
        yield app_server
    finally:
        await app_server.close()


@pytest_asyncio.fixture
async def raw_server() -> AsyncIterator[Callable[..., Awaitable[RawServer]]]:
    """Factory: ``await raw_server(handler=...)`` or ``await raw_server(respond=...)``."""
    started: list[RawServer] = []

    async def start(
        handler: Handler | None = None, respond: Responder | None = None, host: str = HOST
    ) -> RawServer:
        srv = await RawServer(handler=handler, respond=respond, host=host).start()
        started.append(srv)
        return srv

    try:
        yield start
    finally:
        for srv in reversed(started):
            await srv.close()


@pytest_asyncio.fixture
async def make_client() -> AsyncIterator[Callable[..., Any]]:
    """Factory: ``make_client(**connector_kwargs)`` -> ``(client, connector)``.

    Every client made is closed at teardown (closing twice must be harmless).
    """
    import aiosonic

    made: list[Any] = []

    def make(**connector_kwargs: Any) -> tuple[Any, Any]:
        connector = aiosonic.TCPConnector(**connector_kwargs)
        client = aiosonic.HTTPClient(connector=connector)
        made.append(client)
        return client, connector

    try:
        yield make
    finally:
        for client in reversed(made):
            await client.close()


@pytest_asyncio.fixture
async def client() -> AsyncIterator[Any]:
    """A default ``aiosonic.HTTPClient``."""
    import aiosonic

    async with aiosonic.HTTPClient() as http_client:
        yield http_client
