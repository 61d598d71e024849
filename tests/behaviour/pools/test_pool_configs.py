"""Per-origin pool settings: ``TCPConnector(pool_configs={...})`` with ``PoolConfig``:
concurrency bounded per origin (seen as the server's peak of requests in flight), a
connection retired after ``max_conn_requests``, and idle connections closed after
``max_conn_idle_ms`` without any new request (seen as the server's connection closing)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from support.app import AppServer
from support.raw import RawRequest
from support.scripted import Script, replies, status

import aiosonic
from aiosonic import HTTPClient, TCPConnector
from aiosonic.pools import PoolConfig
from aiosonic.timeout import Timeouts

Start = Callable[..., Awaitable[Any]]


def origin(port: int) -> str:
    return f"http://127.0.0.1:{port}"


async def fetch_all(client: HTTPClient, urls: list[str]) -> list[bytes]:
    async def one(url: str) -> bytes:
        response = await client.get(url)
        assert response.status_code == 200
        return await response.content()

    return await asyncio.gather(*(one(url) for url in urls))


async def test_concurrency_is_bounded_per_origin(
    server: AppServer, server2: AppServer, new_client: Callable[..., HTTPClient]
) -> None:
    connector = TCPConnector(pool_configs={
        ":default": PoolConfig(size=2),
        origin(server.port): PoolConfig(size=1),
    })
    client = new_client(connector)
    slow = "/slow?delay=0.05"
    await fetch_all(client, [server.url(slow)] * 3 + [server2.url(slow)] * 4)
    assert server.state.slow_finished == 3 and server2.state.slow_finished == 4
    assert server.state.max_in_flight == 1  # its own pool of one
    assert server2.state.max_in_flight == 2  # the default pool, resized
    assert connector.pool.pool_size == 2
    assert len(set(server.state.ports)) == 1


async def test_origin_pool_does_not_take_default_slots(
    server: AppServer, server2: AppServer, new_client: Callable[..., HTTPClient]
) -> None:
    connector = TCPConnector(pool_configs={
        ":default": PoolConfig(size=1),
        origin(server.port): PoolConfig(size=2),
    })
    client = new_client(connector)
    slow = "/slow?delay=0.1"
    await fetch_all(client, [server.url(slow)] * 2 + [server2.url(slow)] * 2)
    assert server.state.max_in_flight == 2
    assert server2.state.max_in_flight == 1


async def test_max_conn_requests_retires_connections(
    server: AppServer, server2: AppServer, new_client: Callable[..., HTTPClient]
) -> None:
    connector = TCPConnector(pool_configs={
        origin(server.port): PoolConfig(size=1, max_conn_requests=2),
    })
    client = new_client(connector)
    for _ in range(5):
        await fetch_all(client, [server.url("/echo"), server2.url("/echo")])
    ports = server.state.ports
    assert len(ports) == 5
    # Two requests per connection: 1-2, 3-4, 5.
    assert ports[0] == ports[1] != ports[2] == ports[3] != ports[4]
    assert len(set(ports)) == 3
    # Other origins keep the connector's default (100 per connection).
    assert len(set(server2.state.ports)) == 1


async def test_default_pool_config_applies_to_every_other_origin(
    server: AppServer, new_client: Callable[..., HTTPClient]
) -> None:
    client = new_client(TCPConnector(pool_configs={":default": PoolConfig(max_conn_requests=1)}))
    for _ in range(3):
        await fetch_all(client, [server.url("/echo")])
    assert len(set(server.state.ports)) == 3


async def test_idle_connection_closed_after_max_conn_idle_ms(
    logged: Start, new_client: Callable[..., HTTPClient]
) -> None:
    aged = await logged(replies(status(200, b"aged")))
    kept = await logged(replies(status(200, b"kept")))
    client = new_client(TCPConnector(pool_configs={
        origin(aged.port): PoolConfig(size=1, max_conn_idle_ms=100),
    }))
    assert await fetch_all(client, [aged.url(), kept.url()]) == [b"aged", b"kept"]
    await asyncio.sleep(0.02)
    assert aged.log.closed == 0  # not before its time
    # Closed by the pool's sweep: no request was made to trigger it.
    await aged.log.wait_for(lambda: aged.log.closed == 1, timeout=1.5)
    assert len(aged.log.requests) == 1
    assert kept.log.closed == 0  # no idle limit for the other origin
    # The next request opens a fresh connection.
    assert await fetch_all(client, [aged.url()]) == [b"aged"]
    assert aged.log.opened == 2
    assert kept.log.opened == 1


async def test_connection_reused_while_younger_than_max_idle(
    logged: Start, new_client: Callable[..., HTTPClient]
) -> None:
    srv = await logged(replies(status(200, b"ok")))
    client = new_client(TCPConnector(pool_configs={
        origin(srv.port): PoolConfig(max_conn_idle_ms=250),
    }))
    for _ in range(3):
        await fetch_all(client, [srv.url()])
    assert srv.log.opened == 1
    await srv.log.wait_for(lambda: srv.log.closed == 1, timeout=1.5)
    assert len(srv.log.requests) == 3


def _slow_replies(delay: float) -> Script:
    async def script(
        request: RawRequest, writer: asyncio.StreamWriter, reader: asyncio.StreamReader
    ) -> bool:
        await asyncio.sleep(delay)
        writer.write(status(200, b"ok"))
        await writer.drain()
        return True

    return script


async def test_idle_sweep_comes_back_for_connections_idle_since_later(
    logged: Start, new_client: Callable[..., HTTPClient]
) -> None:
    srv = await logged(_slow_replies(0.02))
    client = new_client(TCPConnector(pool_configs={
        origin(srv.port): PoolConfig(size=2, max_conn_idle_ms=100),
    }))
    await fetch_all(client, [srv.url(), srv.url()])  # two connections at once
    assert srv.log.opened == 2
    await asyncio.sleep(0.04)
    await fetch_all(client, [srv.url()])  # one of them becomes idle again later
    # The sweep first closes the older one, then comes back for the other.
    await srv.log.wait_for(lambda: srv.log.closed == 2, timeout=1.5)
    assert len(srv.log.requests) == 3
    assert srv.log.opened == 2


@pytest.mark.parametrize(
    "kwargs",
    [
        {"size": 0},
        {"size": -1},
        {"size": True},
        {"size": "2"},
        {"size": 1.5},
        {"max_conn_requests": 0},
        {"max_conn_requests": -3},
        {"max_conn_requests": "2"},
        {"max_conn_requests": 2.5},
        {"max_conn_idle_ms": 0},
        {"max_conn_idle_ms": -100},
        {"max_conn_idle_ms": "100"},
    ],
)
def test_pool_config_validation(kwargs: dict[str, Any]) -> None:
    with pytest.raises(ValueError):
        PoolConfig(**kwargs)


@pytest.mark.parametrize("field", ["max_conn_requests", "max_conn_idle_ms"])
def test_pool_config_refuses_bools(field: str) -> None:
    with pytest.raises(ValueError):
        PoolConfig(**{field: True})


def test_pool_config_value_and_exports() -> None:
    assert aiosonic.PoolConfig is PoolConfig
    config = PoolConfig(size=3, max_conn_requests=5, max_conn_idle_ms=250.5)
    assert config == PoolConfig(3, 5, 250.5)
    assert hash(config) == hash(PoolConfig(3, 5, 250.5))
    assert config != PoolConfig(3, 5, 251)
    assert repr(config) == "PoolConfig(size=3, max_conn_requests=5, max_conn_idle_ms=250.5)"
    defaults = PoolConfig()
    assert (defaults.size, defaults.max_conn_requests, defaults.max_conn_idle_ms) == (
        25, None, None
    )


async def test_pool_configs_as_the_first_argument_as_upstream_1x(
    server: AppServer, server2: AppServer, new_client: Callable[..., HTTPClient]
) -> None:
    timeouts = Timeouts(sock_connect=3, sock_read=7)
    # 1.x: TCPConnector(pool_configs, timeouts, ...); the reference's: (pool_size, timeouts).
    connector = TCPConnector(
        {":default": PoolConfig(size=1), origin(server2.port): PoolConfig(size=3)}, timeouts
    )
    assert connector.pool_size == 1 and connector.timeouts is timeouts
    client = new_client(connector)
    slow = "/slow?delay=0.03"
    await fetch_all(client, [server.url(slow)] * 3 + [server2.url(slow)] * 3)
    assert server.state.max_in_flight == 1  # the default pool of one
    assert server2.state.max_in_flight == 3  # its own pool


async def test_pool_configs_values_may_be_mappings_of_their_fields(
    server: AppServer, new_client: Callable[..., HTTPClient]
) -> None:
    client = new_client(TCPConnector({origin(server.port): {"size": 1, "max_conn_requests": 2}}))
    await fetch_all(client, [server.url("/slow?delay=0.02")] * 3)
    assert server.state.max_in_flight == 1
    ports = server.state.ports
    assert ports[0] == ports[1] != ports[2]  # retired after two requests


def test_the_first_argument_decides_between_the_two_signatures() -> None:
    assert TCPConnector(3).pool_size == 3  # the reference's pool_size
    assert TCPConnector(3, pool_configs={":default": PoolConfig(size=2)}).pool_size == 2
    assert TCPConnector(pool_size={":default": {"size": 4}}).pool_size == 4
    assert TCPConnector({}).pool_size == 25  # an empty mapping: no configs, the default size
    with pytest.raises(TypeError, match="twice"):
        TCPConnector({":default": PoolConfig(size=1)}, pool_configs={})
    # Anything but a mapping is pool_size, and checked as one (on both builds).
    for bad in ([(":default", PoolConfig(size=1))], "3", 0):
        with pytest.raises(ValueError, match="pool_size"):
            TCPConnector(bad)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("value", "error"),
    [
        ({"size": 1, "max_idle": 5}, TypeError),  # not a PoolConfig field
        ({"size": 0}, ValueError),
        (3, TypeError),
        ("size=1", TypeError),
    ],
)
def test_pool_configs_values_refused(value: Any, error: type[Exception]) -> None:
    with pytest.raises(error):
        TCPConnector(pool_configs={"http://127.0.0.1:1": value})


async def test_pool_config_origin_is_normalised(
    server: AppServer, new_client: Callable[..., HTTPClient]
) -> None:
    # Host case and a path in the key do not matter: the key is an origin.
    connector = TCPConnector(pool_configs={
        f"HTTP://LocalHost:{server.port}/api/v1": PoolConfig(size=1),
    })
    client = new_client(connector)
    await fetch_all(client, [f"http://localhost:{server.port}/slow?delay=0.03"] * 3)
    assert server.state.max_in_flight == 1
