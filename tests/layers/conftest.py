"""Fixtures for the layer tests: scripted servers that log their connections, a second
aiohttp application, a recording forward proxy, an h2c hypercorn server, and clients
closed at teardown.

Request server fixtures before ``new_client`` in a test's arguments: fixtures are torn
down in reverse order, so clients close before their servers stop.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import pytest_asyncio
from servers import AppServer, RawServer

import aiosonic

from ._support import ConnLog, H2cServer, RecordingProxy, Script


@dataclass
class Logged:
    """A scripted server and the log of its connections."""

    raw: RawServer
    log: ConnLog

    @property
    def port(self) -> int:
        return self.raw.port

    def url(self, path: str = "/", host: str = "127.0.0.1") -> str:
        return f"http://{host}:{self.raw.port}{path}"


@pytest_asyncio.fixture
async def logged(
    raw_server: Callable[..., Awaitable[RawServer]],
) -> Callable[[Script], Awaitable[Logged]]:
    """Factory: ``await logged(script)`` -> a keep-alive scripted server (see ``ConnLog``)."""

    async def start(script: Script) -> Logged:
        log = ConnLog()
        srv = await raw_server(handler=log.handler(script))
        return Logged(srv, log)

    return start


@pytest_asyncio.fixture
async def server2() -> AsyncIterator[AppServer]:
    """A second instance of the aiohttp application, on another port (another origin)."""
    app_server = await AppServer().start()
    try:
        yield app_server
    finally:
        await app_server.close()


@pytest_asyncio.fixture
async def forward_proxy(
    raw_server: Callable[..., Awaitable[RawServer]],
) -> tuple[RecordingProxy, str]:
    """A recording forward proxy and its ``http://127.0.0.1:port`` address."""
    proxy = RecordingProxy()
    srv = await raw_server(handler=proxy.handle)
    return proxy, f"http://127.0.0.1:{srv.port}"


@pytest_asyncio.fixture
async def new_client() -> AsyncIterator[Callable[..., aiosonic.HTTPClient]]:
    """Factory: ``new_client(connector=None, **client_kwargs)``; all closed at teardown."""
    made: list[aiosonic.HTTPClient] = []

    def make(connector: aiosonic.TCPConnector | None = None, **kwargs: Any) -> aiosonic.HTTPClient:
        client = aiosonic.HTTPClient(connector=connector, **kwargs)
        made.append(client)
        return client

    try:
        yield make
    finally:
        for client in reversed(made):
            await client.close()


@pytest_asyncio.fixture
async def h2c() -> AsyncIterator[H2cServer]:
    """hypercorn on loopback speaking h2c with prior knowledge (see ``H2cServer``)."""
    srv = await H2cServer().start()
    try:
        yield srv
    finally:
        await srv.close()
