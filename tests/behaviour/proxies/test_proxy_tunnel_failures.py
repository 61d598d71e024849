"""CONNECT tunnels: a proxy that grants the tunnel but closes it, and TLS relayed through the
tunnel that negotiates HTTP/2 inside it."""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import Callable
from typing import Any

import pytest
import trustme
from support.h2_servers import H2Peer
from support.raw import RawServer, read_request, simple_response

import aiosonic
from aiosonic._url import parse_url
from aiosonic.exceptions import ProxyError

MakeClient = Callable[..., tuple[aiosonic.HTTPClient, aiosonic.TCPConnector]]


async def test_a_proxy_that_grants_the_tunnel_but_closes_it_is_a_proxy_error(
    raw_server: Callable[..., Any], make_client: MakeClient
) -> None:
    # The answer grants the tunnel (its Connection: close speaks of the proxy connection,
    # which the tunnel now is); then the proxy really closes it before TLS can start.
    targets: list[str] = []

    async def grant_and_close(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        request = await read_request(reader)
        assert request is not None and request.method == "CONNECT"
        targets.append(request.target)
        writer.write(simple_response(status="200 Connection established",
                                     headers=[("Connection", "close")], content_length=False))
        await writer.drain()
        writer.close()

    proxy: RawServer = await raw_server(handler=grant_and_close)
    client = aiosonic.HTTPClient(proxy=aiosonic.Proxy(proxy.url()))
    try:
        with pytest.raises(ProxyError, match=r"proxy closed the tunnel to origin\.test:443"):
            await client.get("https://origin.test/")
    finally:
        await client.close()
    assert targets == ["origin.test:443"]


@pytest.mark.parametrize("answer", [
    b"HTTP/1.0 200 Connection established\r\n\r\n",  # tinyproxy
    b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n",  # pproxy
])
async def test_any_2xx_opens_the_tunnel_whatever_its_connection_header(
    raw_server: Callable[..., Any], answer: bytes
) -> None:
    async def tunnel(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        request = await read_request(reader)
        assert request is not None and request.method == "CONNECT"
        writer.write(answer)
        inner = await read_request(reader)  # the origin's request, through the tunnel
        assert inner is not None
        writer.write(simple_response(b"through " + inner.target.encode()))
        await writer.drain()
        await reader.read()

    proxy: RawServer = await raw_server(handler=tunnel)
    client = aiosonic.HTTPClient(proxy=aiosonic.Proxy(proxy.url()))
    try:
        # A plain-http origin is reached through a tunnel as a WebSocket is: on a route
        # asking for one (an ordinary http:// request goes in absolute-form instead).
        route = client.connector.route(parse_url("http://origin.test/"), None,
                                       aiosonic.Proxy(proxy.url()), tunnel=True)
        dialed = await client.connector.dialer.dial(route, aiosonic.Timeouts(), None)
        assert dialed.alpn == "http/1.1"
        dialed.transport.write(b"GET /x HTTP/1.1\r\nHost: origin.test\r\n\r\n")
        dialed.close()
    finally:
        await client.close()


# ------------------------------------------------------------------------ TLS + h2 via CONNECT


async def _relay(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """A CONNECT proxy: open the asked-for TCP connection and copy bytes both ways."""
    head = await reader.readuntil(b"\r\n\r\n")
    method, authority, _ = head.split(b"\r\n", 1)[0].split(b" ", 2)
    assert method == b"CONNECT"
    host, _, port = authority.decode("ascii").rpartition(":")
    up_reader, up_writer = await asyncio.open_connection(host, int(port))
    writer.write(b"HTTP/1.1 200 Connection established\r\n\r\n")

    async def copy(source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
        try:
            while data := await source.read(65536):
                sink.write(data)
                await sink.drain()
        finally:
            sink.close()

    try:
        await asyncio.gather(copy(reader, up_writer), copy(up_reader, writer))
    finally:
        up_writer.close()


async def test_http2_is_spoken_inside_a_proxy_tunnel_when_alpn_selects_it(
    raw_server: Callable[..., Any], ca: trustme.CA
) -> None:
    server_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("localhost").configure_cert(server_context)
    server_context.set_alpn_protocols(["h2"])
    h2_answers: list[str] = []

    async def h2_origin(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        peer = H2Peer(0, reader, writer, None)
        peer.start()
        await peer.wait_for(lambda: bool(peer.complete()))
        (request,) = peer.complete()
        h2_answers.append(request.path)
        peer.respond(request.stream_id, b"over h2 in a tunnel")
        await peer.wait_eof()

    origin = await asyncio.start_server(h2_origin, "127.0.0.1", 0, ssl=server_context)
    port = origin.sockets[0].getsockname()[1]
    proxy: RawServer = await raw_server(handler=_relay)
    client_context = ssl.create_default_context()
    ca.configure_trust(client_context)
    client = aiosonic.HTTPClient(proxy=aiosonic.Proxy(proxy.url()), http2=True)
    try:
        response = await client.get(f"https://localhost:{port}/tunnelled", ssl=client_context)
        assert response.http_version == "2"
        assert await response.content() == b"over h2 in a tunnel"
    finally:
        await client.close()
        origin.close()
        await origin.wait_closed()
    assert h2_answers == ["/tunnelled"]
