"""Fixtures for the WebSocket tests: the aiohttp WebSocket application (plain and TLS),
scripted wsproto servers, and a WebSocket client closed at teardown."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest_asyncio
from support.tls import server_context
from support.ws_servers import HOST, Script, Scripted, ServerWS, WSApp

from aiosonic.web_socket_client import WebSocketClient


@pytest_asyncio.fixture
async def app() -> AsyncIterator[WSApp]:
    server = await WSApp().start()
    try:
        yield server
    finally:
        await server.close()


@pytest_asyncio.fixture
async def tls_app(ca: Any) -> AsyncIterator[WSApp]:
    server = await WSApp(server_context(ca, "127.0.0.1", "localhost")).start()
    try:
        yield server
    finally:
        await server.close()


@pytest_asyncio.fixture
async def client() -> AsyncIterator[WebSocketClient]:
    async with WebSocketClient() as ws_client:
        yield ws_client


@pytest_asyncio.fixture
async def scripted() -> AsyncIterator[Callable[[Script], Awaitable[Scripted]]]:
    """Factory: ``await scripted(script)`` serves ``script(ServerWS)`` to each connection;
    ``done`` resolves when the first run ends (or fails, with its error)."""
    servers: list[asyncio.Server] = []
    tasks: set[asyncio.Task[None]] = set()

    async def start(script: Script) -> Scripted:
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()

        async def on_client(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            task = asyncio.current_task()
            assert task is not None
            tasks.add(task)
            try:
                await script(ServerWS(reader, writer))
            except BaseException as exc:
                if not done.done():
                    done.set_exception(exc)
                if isinstance(exc, asyncio.CancelledError):
                    raise
            else:
                if not done.done():
                    done.set_result(None)
            finally:
                tasks.discard(task)
                writer.close()
                with contextlib.suppress(Exception, asyncio.CancelledError):
                    await writer.wait_closed()

        server = await asyncio.start_server(on_client, HOST, 0)
        servers.append(server)
        return Scripted(server.sockets[0].getsockname()[1], done)

    try:
        yield start
    finally:
        for task in list(tasks):
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        for server in servers:
            server.close()
            await server.wait_closed()
