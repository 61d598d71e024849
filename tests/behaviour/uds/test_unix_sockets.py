"""HTTP over a Unix domain socket: ``TCPConnector(uds=path)`` against an aiohttp
``web.UnixSite``: requests, keep-alive reuse, and a socket path with nobody listening."""

from __future__ import annotations

import base64
import os
import shutil
import socket
import tempfile
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
import pytest_asyncio
from aiohttp import web

import aiosonic
from aiosonic import HTTPClient, TCPConnector
from aiosonic.exceptions import ConnectError

pytestmark = pytest.mark.skipif(not hasattr(socket, "AF_UNIX"), reason="needs Unix sockets")


@dataclass
class UnixServer:
    path: str
    # The protocol object of each request's connection (kept alive, so ids stay unique).
    connections: list[Any] = field(default_factory=list)

    @property
    def distinct_connections(self) -> int:
        return len({id(c) for c in self.connections})


@pytest.fixture
def short_dir() -> Iterator[str]:
    # A Unix socket path must stay short (about 100 bytes): not under pytest's tmp_path.
    folder = tempfile.mkdtemp(prefix="aios-", dir="/tmp" if os.path.isdir("/tmp") else None)
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


@pytest_asyncio.fixture
async def unix_server(short_dir: str) -> AsyncIterator[UnixServer]:
    state = UnixServer(os.path.join(short_dir, "http.sock"))

    async def echo(request: web.Request) -> web.Response:
        state.connections.append(request.protocol)
        body = await request.read()
        return web.json_response({
            "method": request.method,
            "path": request.path_qs,
            "host": request.headers.get("Host"),
            "body_b64": base64.b64encode(body).decode(),
        })

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", echo)
    runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.5)
    await runner.setup()
    site = web.UnixSite(runner, state.path)
    await site.start()
    try:
        yield state
    finally:
        await runner.cleanup()


async def test_get_and_post_over_a_unix_socket(
    unix_server: UnixServer, new_client: Callable[..., HTTPClient]
) -> None:
    client = new_client(TCPConnector(uds=unix_server.path))
    response = await client.get("http://api.local/items?id=3")
    assert response.status_code == 200
    doc = await response.json()
    assert doc["method"] == "GET"
    assert doc["path"] == "/items?id=3"
    assert doc["host"] == "api.local"  # the URL's host names the server, not the socket
    response = await client.post("http://api.local/upload", data=b"over unix")
    doc = await response.json()
    assert doc["method"] == "POST"
    assert base64.b64decode(doc["body_b64"]) == b"over unix"


async def test_keep_alive_connection_is_reused(
    unix_server: UnixServer, new_client: Callable[..., HTTPClient]
) -> None:
    client = new_client(TCPConnector(uds=unix_server.path))
    for i in range(4):
        response = await client.get(f"http://localhost/n/{i}")
        assert (await response.json())["path"] == f"/n/{i}"
    assert len(unix_server.connections) == 4
    assert unix_server.distinct_connections == 1


async def test_layers_work_over_a_unix_socket(
    unix_server: UnixServer, new_client: Callable[..., HTTPClient]
) -> None:
    names: list[str] = []
    client = new_client(TCPConnector(uds=unix_server.path),
                        retry=aiosonic.RetryPolicy(attempts=2),
                        event_hooks={"trace": [lambda e: names.append(e.name)]})
    response = await client.get("http://localhost/traced")
    assert (await response.json())["path"] == "/traced"
    # No DNS over a Unix socket.
    assert names == ["connection_created", "headers_sent", "first_byte"]


async def test_missing_socket_path_raises_connect_error(
    short_dir: str, new_client: Callable[..., HTTPClient]
) -> None:
    path = os.path.join(short_dir, "nobody-here.sock")
    client = new_client(TCPConnector(uds=path))
    with pytest.raises(ConnectError) as caught:
        await client.get("http://localhost/")
    assert path in str(caught.value)


async def test_socket_file_without_listener_raises_connect_error(
    short_dir: str, new_client: Callable[..., HTTPClient]
) -> None:
    path = os.path.join(short_dir, "stale.sock")
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.bind(path)  # the file exists, but nobody listens: connection refused
    try:
        client = new_client(TCPConnector(uds=path))
        with pytest.raises(ConnectError):
            await client.get("http://localhost/")
    finally:
        sock.close()
