"""HTTPS against the application with a local CA: keep-alive, large bodies, uploads,
``verify_ssl=False`` on the client, and a client that recovers after a failed handshake."""

from __future__ import annotations

import pytest
from support.app import loads, payload

import aiosonic
from aiosonic.exceptions import ConnectError

trustme = pytest.importorskip("trustme")


# ------------------------------------------------------------------------------- TLS


async def test_https_with_a_custom_ssl_context(tls_server, client, trusting_context):
    resp = await client.get(tls_server.url("/echo"), ssl=trusting_context)
    assert resp.status_code == 200
    doc = loads(await resp.content())
    assert doc["method"] == "GET"
    # Host header for a non-default https port carries the port
    assert [v for k, v in doc["headers"] if k.lower() == "host"] == [f"127.0.0.1:{tls_server.port}"]


async def test_https_keep_alive_and_large_body(tls_server, client, trusting_context):
    body = await (
        await client.get(tls_server.url(f"/bytes/{2 * 1024 * 1024}"), ssl=trusting_context)
    ).content()
    assert body == payload(2 * 1024 * 1024)
    ports = []
    for _ in range(3):
        resp = await client.get(tls_server.url("/echo"), ssl=trusting_context)
        ports.append(loads(await resp.content())["port"])
    assert len(set(ports)) == 1, ports


async def test_https_upload(tls_server, client, trusting_context):
    data = payload(1024 * 1024, seed=9)
    resp = await client.post(tls_server.url("/upload"), data=data, ssl=trusting_context)
    doc = loads(await resp.content())
    assert doc["length"] == len(data)


async def test_https_verify_ssl_false_on_the_client(tls_server):
    async with aiosonic.HTTPClient(verify_ssl=False) as client:
        resp = await client.get(tls_server.url("/json"))
        assert resp.status_code == 200
        assert loads(await resp.content())["name"] == "aiosonic"


async def test_https_failure_then_success_on_same_client(tls_server, client, trusting_context):
    with pytest.raises(ConnectError):
        await client.get(tls_server.url("/echo"))
    resp = await client.get(tls_server.url("/echo"), ssl=trusting_context)
    assert resp.status_code == 200
    await resp.content()


# ------------------------------------------------------------------------------- proxy


# ------------------------------------------------------------------------------- multipart


