"""aiosonic through real proxies: squid and tinyproxy (HTTP, CONNECT), microsocks and dante
(SOCKS5), to origins in this process (``support.origins``, ``support.ws_servers``) and,
for uploads, to nginx (``support.web_daemons``).

Every request is checked on both ends: the response (status, protocol, the exact body or
its SHA-256) and what the origin saw (each request, from the proxy's outgoing address,
never straight from the client).
"""

from __future__ import annotations

import asyncio
import hashlib
import random
import ssl
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from support.origins import RecordingOrigin, hello_body
from support.waits import eventually
from support.web_daemons import ChecksumBackend, WebServer
from support.ws_servers import WSApp

import aiosonic
from aiosonic.web_socket_client import WebSocketClient

from .conftest import TIMEOUTS, ProxyUnderTest

HOST = "127.0.0.1"
UPLOAD_SIZE = 10 * 1024 * 1024


_UPLOAD = random.Random(UPLOAD_SIZE).randbytes(UPLOAD_SIZE)
_UPLOAD_SHA256 = hashlib.sha256(_UPLOAD).hexdigest()


def client_for(proxy: ProxyUnderTest, pool_size: int = 25) -> aiosonic.HTTPClient:
    return aiosonic.HTTPClient(aiosonic.TCPConnector(pool_size=pool_size, timeouts=TIMEOUTS),
                               proxy=proxy.proxy())


def assert_through(origin: RecordingOrigin, proxy: ProxyUnderTest, requests: int) -> None:
    """The origin saw ``requests`` requests, every one from the proxy."""
    assert len(origin.seen) == requests, f"{len(origin.seen)} requests reached the origin"
    assert {seen.peer for seen in origin.seen} == {proxy.outgoing}


async def get_hello(client: aiosonic.HTTPClient, url: str, index: int, version: str,
                    **kwargs: Any) -> str:
    """GET ``/hello/<index>``: "ok" when the answer is a 200 over HTTP ``version`` with
    exactly ``hello_body(index)``, else what it was."""
    try:
        response = await client.get(f"{url}/hello/{index}", **kwargs)
        body = await response.content()
    except aiosonic.AiosonicError as exc:
        return f"#{index}: {type(exc).__name__}: {exc}"
    if (response.status_code, response.http_version, body) == (200, version, hello_body(index)):
        return "ok"
    what = "its body" if body == hello_body(index) else f"{len(body)} other bytes"
    return f"#{index}: {response.status_code} over HTTP/{response.http_version}, {what}"


def failed(outcomes: list[str]) -> str:
    failures = [outcome for outcome in outcomes if outcome != "ok"]
    return f"{len(failures)} of {len(outcomes)} failed: {failures[:5]}"


# --------------------------------------------------------------------------------------------
# Plain http
# --------------------------------------------------------------------------------------------


@pytest.mark.timeout(30)
async def test_plain_http_gets(proxy: ProxyUnderTest, plain_origin: RecordingOrigin) -> None:
    """Sequential GETs on one client: absolute-form through the HTTP proxies, a tunnel
    through the SOCKS ones; every body exact."""
    base = plain_origin.url("")
    async with client_for(proxy) as client:
        outcomes = [await get_hello(client, base, index, "1.1") for index in range(20)]
    assert outcomes == ["ok"] * 20, failed(outcomes)
    assert_through(plain_origin, proxy, 20)
    assert [seen.path for seen in plain_origin.seen] == [f"/hello/{i}" for i in range(20)]


@pytest.mark.timeout(60)
async def test_keep_alive_under_concurrency(
    proxy: ProxyUnderTest, plain_origin: RecordingOrigin
) -> None:
    """300 GETs at once on a pool of 16: every one succeeds with its own body. tinyproxy
    closes each client connection after one response without saying so (no
    ``Connection: close``), so there every reuse of a pooled connection races its close."""
    base = plain_origin.url("")
    count = 300
    async with client_for(proxy, pool_size=16) as client:
        outcomes = await asyncio.gather(
            *(get_hello(client, base, index, "1.1") for index in range(count))
        )
    assert outcomes == ["ok"] * count, failed(outcomes)
    # Each of them reached the origin, through the proxy (once: a retried request is one
    # whose first attempt the proxy never forwarded).
    assert sorted(seen.path for seen in plain_origin.seen) == sorted(
        f"/hello/{i}" for i in range(count)
    )
    assert {seen.peer for seen in plain_origin.seen} == {proxy.outgoing}


# --------------------------------------------------------------------------------------------
# https: TLS 1.2 and 1.3, HTTP/1.1 and HTTP/2, inside CONNECT or SOCKS tunnels
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Variant:
    name: str
    tls: ssl.TLSVersion
    http2: bool

    @property
    def http_version(self) -> str:
        return "2" if self.http2 else "1.1"


VARIANTS = [
    Variant("tls1.2-http1.1", ssl.TLSVersion.TLSv1_2, False),
    Variant("tls1.2-h2", ssl.TLSVersion.TLSv1_2, True),
    Variant("tls1.3-http1.1", ssl.TLSVersion.TLSv1_3, False),
    Variant("tls1.3-h2", ssl.TLSVersion.TLSv1_3, True),
]
TLS_NAMES = {ssl.TLSVersion.TLSv1_2: "TLSv1.2", ssl.TLSVersion.TLSv1_3: "TLSv1.3"}
FRESH_TUNNELS = 8
CONCURRENT = 24


@pytest.mark.timeout(60)
@pytest.mark.parametrize("variant", VARIANTS, ids=[v.name for v in VARIANTS])
async def test_https_through_tunnels(
    proxy: ProxyUnderTest,
    variant: Variant,
    tls_origin_factory: Callable[[ssl.TLSVersion], Any],
    trusting_context: ssl.SSLContext,
) -> None:
    """The same https GET on ``FRESH_TUNNELS`` new clients (each a new tunnel and TLS
    handshake: where a race between the handshake and the first bytes would show), then
    ``CONCURRENT`` at once on one client (one multiplexed connection for h2)."""
    origin: RecordingOrigin = await tls_origin_factory(variant.tls)
    base = origin.url("")
    expected = variant.http_version
    tls = {"ssl": trusting_context, "http2": variant.http2}
    outcomes = []
    for index in range(FRESH_TUNNELS):
        async with client_for(proxy) as client:
            outcomes.append(await get_hello(client, base, index, expected, **tls))
    assert outcomes == ["ok"] * FRESH_TUNNELS, failed(outcomes)

    async with client_for(proxy) as client:
        outcomes = await asyncio.gather(
            *(get_hello(client, base, index, expected, **tls) for index in range(CONCURRENT))
        )
    assert outcomes == ["ok"] * CONCURRENT, failed(outcomes)
    assert_through(origin, proxy, FRESH_TUNNELS + CONCURRENT)
    assert {seen.http_version for seen in origin.seen} == {expected}
    assert origin.tls_versions == {TLS_NAMES[variant.tls]}
    if variant.http2:  # multiplexed: the concurrent ones shared one connection
        assert len({seen.port for seen in origin.seen[FRESH_TUNNELS:]}) == 1


# --------------------------------------------------------------------------------------------
# 10 MiB uploads
# --------------------------------------------------------------------------------------------

UPLOADS = [("http", False, False), ("https-http1.1", True, False), ("https-h2", True, True)]


@pytest.mark.timeout(60)
@pytest.mark.parametrize(("mode", "tls", "http2"), UPLOADS, ids=[mode for mode, *_ in UPLOADS])
async def test_10_mib_uploads(
    proxy: ProxyUnderTest,
    mode: str,
    tls: bool,
    http2: bool,
    upload_origin: WebServer,
    backend: ChecksumBackend,
    trusting_context: ssl.SSLContext,
) -> None:
    """Two 10 MiB POSTs, each on a new client, to nginx (which passes them on to the
    checksum backend): the backend receives exactly the bytes, the SHA-256 of what
    arrived is the one of what was sent, and nginx saw the proxy as the client.

    The origin is nginx rather than the in-process hypercorn: hypercorn's 64 KiB HTTP/2
    stream window, acknowledged frame by frame, meets the Nagle algorithm that microsocks
    and tinyproxy leave on, and each window then waits out a delayed ACK (40 ms): 7 s per
    upload, with curl as with aiosonic."""
    tag = f"/backend/upload/{uuid.uuid4().hex}"
    kwargs: dict[str, Any] = {"ssl": trusting_context, "http2": http2} if tls else {}
    version = "2" if http2 else "1.1"
    for attempt in range(2):
        async with client_for(proxy) as client:
            response = await client.post(upload_origin.url(f"{tag}/{attempt}", tls),
                                         data=_UPLOAD, **kwargs)
            answer = await response.json()
        assert (response.status_code, response.http_version) == (200, version), attempt
        assert (answer["length"], answer["sha256"]) == (UPLOAD_SIZE, _UPLOAD_SHA256)
    received = backend.received(tag)
    assert [(r.method, r.length, r.sha256, r.forwarded_for) for r in received] == [
        ("POST", UPLOAD_SIZE, _UPLOAD_SHA256, proxy.outgoing)
    ] * 2
    await eventually(lambda: len(upload_origin.hits(tag)) == 2)
    assert {hit.protocol for hit in upload_origin.hits(tag)} == {
        "HTTP/2.0" if http2 else "HTTP/1.1"
    }


# --------------------------------------------------------------------------------------------
# WebSockets
# --------------------------------------------------------------------------------------------


@pytest.mark.timeout(30)
@pytest.mark.parametrize("secure", [False, True], ids=["ws", "wss"])
async def test_websocket_through_the_proxy(
    proxy: ProxyUnderTest,
    secure: bool,
    ws_origin: WSApp,
    wss_origin: WSApp,
    trusting_context: ssl.SSLContext,
) -> None:
    """ws:// and wss:// (a tunnel for both): text and a 1 MiB binary message echoed, a
    clean close seen by the server."""
    app = wss_origin if secure else ws_origin
    big = random.Random(7).randbytes(1024 * 1024)
    async with WebSocketClient() as ws_client:
        kwargs: dict[str, Any] = {"ssl": trusting_context} if secure else {}
        async with await ws_client.connect(app.url(), proxy=proxy.proxy(),
                                           timeouts=TIMEOUTS, **kwargs) as ws:
            await ws.send_text(f"through {proxy.name}")
            assert await ws.receive_text(timeout=10) == f"through {proxy.name}"
            await ws.send_bytes(big)
            assert await ws.receive_bytes(timeout=10) == big
    assert ws.close_code == 1000
    await asyncio.wait_for(app.seen.closed.wait(), 10)
    assert app.seen.close_codes == [1000]
    assert app.seen.headers[0]["Host"] == f"{HOST}:{app.port}"
