"""wss:// with a local CA (trustme), and ws:// and wss:// through a real proxy (proxy.py) with
CONNECT tunnels."""

from __future__ import annotations

import ssl

import pytest
from support.proxy_process import ProxyProcess
from support.sockets import wait_closed
from support.ws_servers import WSApp

import aiosonic
from aiosonic.exceptions import ProxyError, TLSError
from aiosonic.web_socket_client import WebSocketClient


async def test_wss_with_a_trusted_certificate(
    tls_app: WSApp, client: WebSocketClient, trusting_context: ssl.SSLContext
) -> None:
    async with await client.connect(tls_app.url(), ssl=trusting_context) as ws:
        await ws.send_text("secret")
        assert await ws.receive_text(timeout=5) == "secret"
        await ws.send_bytes(b"\x00" * 100_000)
        assert await ws.receive_bytes(timeout=5) == b"\x00" * 100_000
    assert ws.close_code == 1000
    assert tls_app.seen.close_codes == [1000]


async def test_wss_verify_false_and_untrusted(tls_app: WSApp, client: WebSocketClient) -> None:
    with pytest.raises(TLSError) as caught:
        await client.connect(tls_app.url())  # the system store does not know the local CA
    assert isinstance(caught.value, ssl.SSLCertVerificationError)  # what upstream raised
    async with await client.connect(tls_app.url(), verify=False) as ws:
        await ws.send_text("unverified")
        assert await ws.receive_text(timeout=5) == "unverified"


async def test_ws_through_a_proxy_tunnel(
    app: WSApp, client: WebSocketClient, proxy_open: ProxyProcess
) -> None:
    proxy = aiosonic.Proxy(proxy_open.address)
    async with await client.connect(app.url(), proxy=proxy) as ws:
        await ws.send_text("via proxy")
        assert await ws.receive_text(timeout=5) == "via proxy"
        big = bytes(range(256)) * 4096
        await ws.send_bytes(big)
        assert await ws.receive_bytes(timeout=10) == big
    assert app.seen.close_codes == [1000]
    # The server saw the origin in Host, not the proxy.
    assert app.seen.headers[0]["Host"] == f"127.0.0.1:{app.port}"
    await wait_closed(remote_port=proxy_open.port)


async def test_wss_through_a_proxy_tunnel(
    tls_app: WSApp,
    client: WebSocketClient,
    proxy_open: ProxyProcess,
    trusting_context: ssl.SSLContext,
) -> None:
    proxy = aiosonic.Proxy(proxy_open.address)
    async with await client.connect(tls_app.url(), ssl=trusting_context, proxy=proxy) as ws:
        assert ws.extensions == ["permessage-deflate"]
        await ws.send_json({"tunnelled": True})
        assert await ws.receive_json(timeout=5) == {"tunnelled": True}
    await wait_closed(remote_port=proxy_open.port)


async def test_proxy_refusing_the_tunnel(
    app: WSApp, client: WebSocketClient, proxy_open: ProxyProcess
) -> None:
    # proxy.py answers a CONNECT to a closed port with 502.
    app_port = app.port
    await app.close()
    with pytest.raises(ProxyError) as info:
        await client.connect(
            f"ws://127.0.0.1:{app_port}/echo", proxy=aiosonic.Proxy(proxy_open.address)
        )
    assert info.value.status_code == 502
    await wait_closed(remote_port=proxy_open.port)
