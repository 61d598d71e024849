"""The connector (``aiosonic.connectors``) with HTTP/1.1: settings it refuses, and the
request deadline while waiting for a pool slot or while connecting."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import pytest
from support.app import AppServer
from support.raw import FullBacklogListener

import aiosonic
from aiosonic.exceptions import ConnectionPoolAcquireTimeout, RequestTimeout

MakeClient = Callable[..., tuple[aiosonic.HTTPClient, aiosonic.TCPConnector]]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"conn_max_requests": 0}, "conn_max_requests must be a positive int: 0"),
        ({"conn_max_requests": 2.5}, "conn_max_requests must be a positive int: 2.5"),
        ({"http2_window": 1024}, r"http2_window must be in \[65535, 2\*\*31\): 1024"),
        ({"http2_window": 2**31}, r"http2_window must be in \[65535, 2\*\*31\)"),
    ],
)
def test_connector_refuses_settings_it_cannot_honour(kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        aiosonic.TCPConnector(**kwargs)


async def test_pool_acquire_alone_bounds_the_wait_when_there_is_no_request_deadline(
    server: AppServer, make_client: MakeClient
) -> None:
    client, _ = make_client(pool_size=1)
    busy = asyncio.create_task(client.get(server.url("/slow"), params={"delay": "0.3"}))
    try:
        await server.state.wait_slow_started()
        only_pool = aiosonic.Timeouts(pool_acquire=0.1, request_timeout=None)
        with pytest.raises(ConnectionPoolAcquireTimeout, match=r"no free connection within 0\.1"):
            await client.get(server.url("/echo"), timeouts=only_pool)
    finally:
        first = await busy
    assert first.status_code == 200
    await first.content()


async def test_the_request_deadline_bounds_the_wait_for_a_free_connection(
    server: AppServer, make_client: MakeClient
) -> None:
    client, _ = make_client(pool_size=1)
    busy = asyncio.create_task(client.get(server.url("/slow"), params={"delay": "0.4"}))
    try:
        await server.state.wait_slow_started()
        # only request_timeout is set: running out of it is a RequestTimeout, whatever
        # the sub-millisecond rounding of the timer that ends the wait
        with pytest.raises(RequestTimeout, match="while waiting for a free connection"):
            await client.get(server.url("/echo"),
                             timeouts=aiosonic.Timeouts(request_timeout=0.2004))
    finally:
        first = await busy
    assert first.status_code == 200
    await first.content()


async def test_the_request_deadline_cuts_a_slow_connect_short(make_client: MakeClient) -> None:
    listener = FullBacklogListener()
    try:
        if not listener.fill():
            pytest.skip("the kernel kept accepting connections; cannot stall a connect")
        client, _ = make_client()
        timeouts = aiosonic.Timeouts(sock_connect=10, request_timeout=0.3)
        with pytest.raises(RequestTimeout, match="request_timeout elapsed while connecting"):
            await client.get(listener.url("/"), timeouts=timeouts)
    finally:
        listener.close()
