"""HTTPClient through a SOCKS proxy: Proxy("socks5://..."), TLS inside the tunnel, ALL_PROXY."""

from __future__ import annotations

import ssl
from collections.abc import Awaitable, Callable

import pytest
from support.app import AppServer
from support.socks_server import SocksServer

import aiosonic
from aiosonic.exceptions import InvalidRequest, ProxyError

StartSocks = Callable[..., Awaitable[SocksServer]]


async def test_get_through_socks5_reuses_the_tunnel(server: AppServer, socks: StartSocks) -> None:
    proxy = await socks()
    async with aiosonic.HTTPClient(proxy=aiosonic.Proxy(proxy.url("socks5"))) as client:
        for _ in range(3):
            response = await client.get(server.url("/echo"))
            assert response.status_code == 200
            echoed = await response.json()
            # Spoken to as the origin: origin-form target, no proxy credentials.
            assert echoed["raw_path"] == "/echo"
            assert not any(name.lower() == "proxy-authorization" for name, _ in echoed["headers"])
    assert len(proxy.requests) == 1  # one tunnel carried the three keep-alive requests
    assert proxy.requests[0].kind == "ipv4" and proxy.requests[0].port == server.port


async def test_socks5h_sends_the_name_and_authenticates(
    server: AppServer, socks: StartSocks
) -> None:
    proxy = await socks(users={"alice": "s3cret"})
    url = server.url("/json").replace("127.0.0.1", "localhost")
    async with aiosonic.HTTPClient(
        proxy=aiosonic.Proxy(proxy.url("socks5h", "alice:s3cret"))
    ) as client:
        response = await client.get(url)
        assert response.status_code == 200
    assert proxy.requests[0].kind == "domain" and proxy.requests[0].host == "localhost"
    assert proxy.requests[0].user == "alice"


async def test_wrong_socks_password_is_a_proxy_error(server: AppServer, socks: StartSocks) -> None:
    proxy = await socks(users={"alice": "s3cret"})
    async with aiosonic.HTTPClient(
        proxy=aiosonic.Proxy(proxy.url("socks5", "alice:wrong"))
    ) as client:
        with pytest.raises(ProxyError, match="authentication"):
            await client.get(server.url("/json"))
        # The failed slot was freed: the pool is whole again.
        assert client.connector.pool.is_all_free()


async def test_socks4a_and_tls_inside_the_tunnel(
    localhost_tls_server: AppServer, socks: StartSocks, trusting_context: ssl.SSLContext
) -> None:
    proxy = await socks()
    url = localhost_tls_server.url("/echo").replace("127.0.0.1", "localhost")
    async with aiosonic.HTTPClient(proxy=aiosonic.Proxy(proxy.url("socks4a"))) as client:
        response = await client.get(url, ssl=trusting_context)
        assert response.status_code == 200
        assert (await response.json())["raw_path"] == "/echo"
    assert proxy.requests[0].version == 4 and proxy.requests[0].host == "localhost"


async def test_all_proxy_from_the_environment(
    server: AppServer, socks: StartSocks, monkeypatch: pytest.MonkeyPatch
) -> None:
    proxy = await socks()
    for name in ("http_proxy", "HTTP_PROXY", "no_proxy", "NO_PROXY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("ALL_PROXY", proxy.url("socks5"))
    async with aiosonic.HTTPClient(trust_env=True) as client:
        assert (await client.get(server.url("/json"))).status_code == 200
    assert len(proxy.requests) == 1
    async with aiosonic.HTTPClient() as client:  # without trust_env the env is ignored
        assert (await client.get(server.url("/json"))).status_code == 200
    assert len(proxy.requests) == 1


def test_socks_proxy_values() -> None:
    proxy = aiosonic.Proxy("socks5h://bob:pw@127.0.0.1:9050")
    assert proxy.socks is not None and proxy.socks.remote_dns
    assert "pw" not in repr(proxy)
    assert proxy == aiosonic.Proxy("socks5h://bob:pw@127.0.0.1:9050")
    assert proxy != aiosonic.Proxy("socks5://bob:pw@127.0.0.1:9050")
    with pytest.raises(InvalidRequest):
        aiosonic.Proxy("socks5://127.0.0.1:1080", auth="a:b")
    with pytest.raises(InvalidRequest):
        aiosonic.Proxy("ftp://127.0.0.1:21")
