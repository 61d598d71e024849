"""``HTTPClient.close()`` closes every connection the client opened before it returns, for
plain, TLS and proxied connections: a caller may stop its event loop right after
``await client.close()`` without leaving sockets (and "unclosed transport" warnings) behind.

Sockets are observed from outside the client, through ``/proc`` (Linux only)."""

from __future__ import annotations

import sys

import pytest
from support.sockets import tcp_fds, wait_closed

import aiosonic

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="needs /proc")


async def _exercise(http: aiosonic.HTTPClient, url: str, **kwargs) -> None:
    for _ in range(2):
        resp = await http.get(url, **kwargs)
        assert resp.status_code == 200
        await resp.content()


async def test_close_closes_plain_connections(server):
    http = aiosonic.HTTPClient()
    try:
        await _exercise(http, server.url("/echo"))
        assert len(tcp_fds(remote_port=server.port)) == 1  # one pooled keep-alive connection
    finally:
        await http.close()
    left = tcp_fds(remote_port=server.port)
    await wait_closed(remote_port=server.port)
    assert left == []


async def test_close_closes_tls_connections(tls_web, trusting_context):
    srv = await tls_web("localhost")
    http = aiosonic.HTTPClient()
    try:
        await _exercise(http, srv.url("/echo", host="localhost"), ssl=trusting_context)
        assert len(tcp_fds(remote_port=srv.port)) == 1
    finally:
        await http.close()
    left = tcp_fds(remote_port=srv.port)
    await wait_closed(remote_port=srv.port)
    assert left == [], "TLS sockets still open after close() returned"


async def test_close_closes_tunnelled_tls_connections(tls_web, proxy_open, trusting_context):
    srv = await tls_web("localhost")
    http = aiosonic.HTTPClient(proxy=aiosonic.Proxy(proxy_open.address))
    try:
        await _exercise(http, srv.url("/echo", host="localhost"), ssl=trusting_context)
        assert len(tcp_fds(remote_port=proxy_open.port)) == 1
    finally:
        await http.close()
    left = tcp_fds(remote_port=proxy_open.port)
    await wait_closed(remote_port=proxy_open.port)
    assert left == [], "tunnelled TLS sockets still open after close() returned"


async def test_close_closes_proxied_plain_connections(server, proxy_open):
    http = aiosonic.HTTPClient(proxy=aiosonic.Proxy(proxy_open.address))
    try:
        resp = await http.get(server.url("/echo"))
        assert resp.status_code == 200
        await resp.content()
    finally:
        await http.close()
    left = tcp_fds(remote_port=proxy_open.port)
    await wait_closed(remote_port=proxy_open.port)
    assert left == []
