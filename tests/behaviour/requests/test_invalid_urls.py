"""A URL that cannot be parsed raises ``InvalidURL`` before anything is sent, through every
entry point (requests, WebSocket, SSE, ``BaseClient``, proxies, pool configs): our
``InvalidRequest`` (so a ``ValueError``) and also the ``HttpParsingError`` that upstream
aiosonic raises for a URL without a host, so that programs written for either catch it.

Each URL names the port of a live scripted server: were it parsed into something
sendable (an empty host taken for localhost, say), the server would see a connection."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from support.scripted import replies, status

import aiosonic
from aiosonic import BaseClient, TCPConnector
from aiosonic.exceptions import AiosonicError, HttpParsingError, InvalidRequest, InvalidURL
from aiosonic.sse_client import SSEClient
from aiosonic.web_socket_client import WebSocketClient

Start = Callable[..., Awaitable[Any]]

# Upstream raised HttpParsingError("missing hostname") for the first three (no host, or no
# scheme so that the host is read as a path); the others are a ValueError there too.
BAD = [
    "http://:{port}/x",
    "{host}:{port}/x",
    "localhost:{port}/x",
    "//{host}:{port}/x",
    "ftp://{host}:{port}/x",
    "http://{host}:{port}x/",
    "http://[::1:{port}/x",
]


def assert_invalid_url(exc: BaseException) -> None:
    assert isinstance(exc, InvalidURL)
    for family in (HttpParsingError, InvalidRequest, ValueError, AiosonicError):
        assert isinstance(exc, family), family


@pytest.mark.parametrize("template", BAD)
async def test_every_request_verb_refuses_it(
    logged: Start, client: aiosonic.HTTPClient, template: str
) -> None:
    srv = await logged(replies(status(200, b"x")))
    url = template.format(host="127.0.0.1", port=srv.port)
    for call in (
        client.get(url),
        client.post(url, data=b"body"),
        client.request(url, "DELETE"),
    ):
        with pytest.raises(HttpParsingError) as caught:
            await call
        assert_invalid_url(caught.value)
    assert srv.log.opened == 0


async def test_the_message_says_what_is_missing(logged: Start, client: aiosonic.HTTPClient) -> None:
    srv = await logged(replies(status(200, b"x")))
    with pytest.raises(HttpParsingError, match="URL has no host"):
        await client.get(f"http://:{srv.port}")
    with pytest.raises(HttpParsingError, match="URL has no scheme"):
        await client.get(f"127.0.0.1:{srv.port}/")
    assert srv.log.opened == 0


async def test_websocket_and_sse_refuse_it(logged: Start) -> None:
    srv = await logged(replies(status(200, b"x")))
    async with WebSocketClient() as ws:
        with pytest.raises(HttpParsingError) as caught:
            await ws.connect(f"ws://:{srv.port}/chat")
        assert_invalid_url(caught.value)
    async with SSEClient() as sse:
        with pytest.raises(HttpParsingError) as caught:
            await sse.connect(f"http://:{srv.port}/events")
        assert_invalid_url(caught.value)
    assert srv.log.opened == 0


async def test_base_client_refuses_a_bad_base_url(logged: Start) -> None:
    srv = await logged(replies(status(200, b"x")))

    class NoHost(BaseClient):
        base_url = f"http://:{srv.port}/api"

    async with NoHost() as api:
        with pytest.raises(HttpParsingError) as caught:
            await api.get("/items")
    assert_invalid_url(caught.value)
    assert srv.log.opened == 0


def test_proxy_and_pool_configs_refuse_it() -> None:
    with pytest.raises(HttpParsingError, match="invalid proxy address") as caught:
        aiosonic.Proxy("http://:3128")
    assert_invalid_url(caught.value)
    with pytest.raises(HttpParsingError) as caught:
        TCPConnector(pool_configs={"http://:8080": aiosonic.PoolConfig(size=1)})
    assert_invalid_url(caught.value)


def test_invalid_url_is_both_and_the_server_errors_are_not() -> None:
    assert issubclass(InvalidURL, InvalidRequest) and issubclass(InvalidURL, HttpParsingError)
    # A reply that is not HTTP stays an HttpParsingError only: not a bad request of ours.
    assert not issubclass(HttpParsingError, InvalidRequest)
    assert not issubclass(InvalidRequest, HttpParsingError)
