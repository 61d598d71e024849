"""Interop with pproxy, a SOCKS server we did not write: our handshakes must be understood
by an independent implementation too (our own test server could share our misreadings).

pproxy answers "granted" before it connects to the target and has no SOCKS4a, so refusals
and SOCKS4a are tested against ``socks_server`` only.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from importlib.util import find_spec

import pytest
from support import pproxy_server
from support.app import HOST, AppServer, loads
from support.socks_server import Collect, http_get

from aiosonic._socks import create_socks_connection, open_socks, parse_socks_url
from aiosonic.exceptions import ProxyError

pytestmark = pytest.mark.skipif(find_spec("pproxy") is None, reason="pproxy is not installed")


@pytest.fixture(scope="module")
def pproxy_ports() -> Iterator[dict[str, int]]:
    uris = {
        "socks5": f"socks5://{HOST}:0",
        "socks5-auth": f"socks5://{HOST}:0#alice:s3cret",
        "socks4": f"socks4://{HOST}:0",
    }
    with pproxy_server.running(*uris.values()) as ports:
        yield dict(zip(uris, ports, strict=True))


async def get_json(url: str, host: str, server: AppServer) -> dict[str, object]:
    loop = asyncio.get_running_loop()
    transport, protocol = await asyncio.wait_for(
        create_socks_connection(loop, Collect, parse_socks_url(url), host, server.port), 10
    )
    try:
        transport.write(http_get("/echo/interop", f"{host}:{server.port}"))
        raw = await asyncio.wait_for(protocol.done, 10)
    finally:
        transport.close()
    assert raw.startswith(b"HTTP/1.1 200 OK\r\n")
    return loads(raw.partition(b"\r\n\r\n")[2])


@pytest.mark.parametrize(
    ("name", "url", "host"),
    [
        ("socks5", "socks5://{}:{}", HOST),
        ("socks5", "socks5h://{}:{}", "localhost"),
        ("socks5-auth", "socks5://alice:s3cret@{}:{}", HOST),
        ("socks5-auth", "socks5h://alice:s3cret@{}:{}", "localhost"),
        ("socks4", "socks4://{}:{}", HOST),
        ("socks4", "socks4://someone@{}:{}", "localhost"),  # resolved here
    ],
)
async def test_request_through_pproxy(
    pproxy_ports: dict[str, int], server: AppServer, name: str, url: str, host: str
) -> None:
    doc = await get_json(url.format(HOST, pproxy_ports[name]), host, server)
    assert doc["path"] == "/echo/interop"


async def test_wrong_password_with_pproxy(pproxy_ports: dict[str, int], server: AppServer) -> None:
    proxy = parse_socks_url(f"socks5://alice:wrong@{HOST}:{pproxy_ports['socks5-auth']}")
    # pproxy hangs up instead of answering STATUS != 0
    with pytest.raises(ProxyError, match="before sending the authentication result"):
        await asyncio.wait_for(open_socks(asyncio.get_running_loop(), proxy, HOST, server.port), 10)
