"""Proxy credentials against the real daemons: squid (``basic_ncsa_auth`` and an htpasswd
file), tinyproxy (``BasicAuth``), microsocks (``-u``/``-P``: RFC 1929) and dante (the
``username`` method, against a password database of its own mount namespace).

The right credentials work for plain http, https (HTTP/2 inside the tunnel) and ws://;
none or wrong ones end as the proxy says, and nothing reaches the origin:

* HTTP proxies: a plain http request is the proxy's own answer (``407``, or tinyproxy's
  ``401`` for a wrong password, see ``refusal_status``); a tunnel (https, ws) raises
  ``ProxyError`` with that status;
* SOCKS5 proxies: every request raises ``ProxyError`` (``status_code`` None: the refusal
  comes before any CONNECT reply code), saying that the proxy accepted none of our
  methods (no credentials: we offer "no authentication" only) or rejected the user name
  and password.
"""

from __future__ import annotations

import ssl
from collections.abc import Callable
from typing import Any

import pytest
from support.daemons import Credentials
from support.origins import RecordingOrigin, hello_body
from support.ws_servers import WSApp

import aiosonic
from aiosonic.exceptions import ProxyError
from aiosonic.web_socket_client import WebSocketClient

from .conftest import CREDENTIALS, TIMEOUTS, WRONG_PASSWORD, ProxyUnderTest

pytestmark = pytest.mark.timeout(30)

REFUSALS = {"none": None, "wrong-password": WRONG_PASSWORD}


def refusal_status(proxy: ProxyUnderTest, credentials: Credentials | None) -> int:
    """What an HTTP proxy answers to missing or wrong credentials. tinyproxy (1.11) answers
    a wrong password with ``401 Unauthorized`` and ``WWW-Authenticate``, as an origin
    would, and only a missing one with ``407``."""
    if proxy.name == "tinyproxy" and credentials is not None:
        return 401
    return 407


def client_with(proxy: ProxyUnderTest, credentials: Credentials | None) -> aiosonic.HTTPClient:
    return aiosonic.HTTPClient(aiosonic.TCPConnector(timeouts=TIMEOUTS),
                               proxy=proxy.proxy(credentials))


async def test_right_credentials(
    auth_proxy: ProxyUnderTest,
    plain_origin: RecordingOrigin,
    tls_origin_factory: Callable[[ssl.TLSVersion], Any],
    trusting_context: ssl.SSLContext,
    ws_origin: WSApp,
) -> None:
    """With the right user name and password: plain http, https over HTTP/2 and ws://."""
    tls_origin: RecordingOrigin = await tls_origin_factory(ssl.TLSVersion.TLSv1_3)
    async with client_with(auth_proxy, CREDENTIALS) as client:
        for index in range(3):
            response = await client.get(plain_origin.url(f"/hello/{index}"))
            assert response.status_code == 200
            assert await response.content() == hello_body(index)
            response = await client.get(tls_origin.url(f"/hello/{index}"), ssl=trusting_context,
                                        http2=True)
            assert (response.status_code, response.http_version) == (200, "2")
            assert await response.content() == hello_body(index)
    for origin in (plain_origin, tls_origin):
        assert len(origin.seen) == 3
        assert {seen.peer for seen in origin.seen} == {auth_proxy.outgoing}
    async with WebSocketClient() as ws_client:
        ws = await ws_client.connect(ws_origin.url(), proxy=auth_proxy.proxy(CREDENTIALS),
                                     timeouts=TIMEOUTS)
        async with ws:
            await ws.send_text("authenticated")
            assert await ws.receive_text(timeout=10) == "authenticated"
    assert ws.close_code == 1000


@pytest.mark.parametrize("credentials", list(REFUSALS.values()), ids=list(REFUSALS))
async def test_refused_plain_http(
    auth_proxy: ProxyUnderTest, credentials: Credentials | None, plain_origin: RecordingOrigin
) -> None:
    async with client_with(auth_proxy, credentials) as client:
        if auth_proxy.kind == "http":
            response = await client.get(plain_origin.url("/hello/1"))
            status = refusal_status(auth_proxy, credentials)
            assert response.status_code == status
            challenge = "Proxy-Authenticate" if status == 407 else "WWW-Authenticate"
            assert response.headers[challenge].startswith("Basic realm=")
            await response.content()
        else:
            with pytest.raises(ProxyError) as info:
                await client.get(plain_origin.url("/hello/1"))
            check_socks_refusal(info.value, credentials)
    assert plain_origin.seen == []


@pytest.mark.parametrize("credentials", list(REFUSALS.values()), ids=list(REFUSALS))
async def test_refused_tunnel(
    auth_proxy: ProxyUnderTest,
    credentials: Credentials | None,
    tls_origin_factory: Callable[[ssl.TLSVersion], Any],
    trusting_context: ssl.SSLContext,
) -> None:
    origin: RecordingOrigin = await tls_origin_factory(ssl.TLSVersion.TLSv1_3)
    async with client_with(auth_proxy, credentials) as client:
        with pytest.raises(ProxyError) as info:
            await client.get(origin.url("/hello/1"), ssl=trusting_context, http2=True)
    check_refusal(auth_proxy, info.value, credentials)
    assert origin.seen == []


@pytest.mark.parametrize("credentials", list(REFUSALS.values()), ids=list(REFUSALS))
async def test_refused_websocket(
    auth_proxy: ProxyUnderTest, credentials: Credentials | None, ws_origin: WSApp
) -> None:
    async with WebSocketClient() as ws_client:
        with pytest.raises(ProxyError) as info:
            await ws_client.connect(ws_origin.url(), proxy=auth_proxy.proxy(credentials),
                                    timeouts=TIMEOUTS)
    check_refusal(auth_proxy, info.value, credentials)
    assert ws_origin.seen.headers == []


def check_refusal(proxy: ProxyUnderTest, error: ProxyError,
                  credentials: Credentials | None) -> None:
    if proxy.kind == "http":
        status = refusal_status(proxy, credentials)
        assert error.status_code == status
        assert str(status) in str(error)
    else:
        check_socks_refusal(error, credentials)


def check_socks_refusal(error: ProxyError, credentials: Credentials | None) -> None:
    assert error.status_code is None
    if credentials is None:
        assert "accepts none of our authentication methods" in str(error)
    else:
        assert "rejected the user name and password" in str(error)
