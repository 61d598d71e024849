"""Fixtures: the scripted event-stream server (see ``sse_server.py``) and clients that are
always closed."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable

import pytest_asyncio
from support.sse_server import Handler, SSEServer

import aiosonic
from aiosonic.sse_client import SSEClient


@pytest_asyncio.fixture
async def sse_server() -> AsyncIterator[Callable[[Handler], Awaitable[SSEServer]]]:
    started: list[SSEServer] = []

    async def start(handler: Handler) -> SSEServer:
        server = await SSEServer(handler).start()
        started.append(server)
        return server

    try:
        yield start
    finally:
        for server in reversed(started):
            await server.close()


@pytest_asyncio.fixture
async def http_client() -> AsyncIterator[aiosonic.HTTPClient]:
    async with aiosonic.HTTPClient() as client:
        yield client


@pytest_asyncio.fixture
async def sse(http_client: aiosonic.HTTPClient) -> AsyncIterator[SSEClient]:
    async with SSEClient(http_client) as client:
        yield client
