"""Which protocol a request uses: h2 through ALPN on https (per request, client default,
connector default, a caller's own context), the fallback to HTTP/1.1 when the server only
offers it, and cleartext h2c with prior knowledge on http:// only when asked per request."""

from __future__ import annotations

import asyncio
import base64
import json
import ssl

import pytest

import aiosonic
from aiosonic.exceptions import ConnectionDisconnected, HttpParsingError

ECHO = "/echo"


async def _alpn_selected(port: int, context: ssl.SSLContext) -> str | None:
    """What a raw TLS handshake with ``context`` negotiates with the server."""
    _, writer = await asyncio.open_connection("127.0.0.1", port, ssl=context)
    try:
        return writer.get_extra_info("ssl_object").selected_alpn_protocol()  # type: ignore[no-any-return]
    finally:
        writer.close()
        await writer.wait_closed()


async def test_per_request_http2_negotiates_h2_over_tls(hyper, new_client, trusting_context):
    srv = await hyper()
    client = new_client()
    resp = await client.get(srv.url(ECHO), http2=True, ssl=trusting_context)
    assert resp.status_code == 200
    assert resp.http_version == "2"
    doc = json.loads(await resp.content())
    assert doc["http_version"] == "2"
    assert doc["path"] == ECHO
    assert [seen.http_version for seen in srv.state.seen] == ["2"]


@pytest.mark.parametrize("method", ["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"])
async def test_every_method_over_h2(hyper, new_client, trusting_context, method):
    srv = await hyper()
    client = new_client()
    resp = await client.request(srv.url(ECHO + "?q=1"), method, http2=True, ssl=trusting_context)
    assert resp.http_version == "2"
    doc = json.loads(await resp.content())
    assert doc["method"] == method
    assert doc["query"] == "q=1"
    assert doc["http_version"] == "2"


async def test_head_over_h2_has_no_body(hyper, new_client, trusting_context):
    srv = await hyper()
    client = new_client()
    resp = await client.request(srv.url("/bytes/5000"), "HEAD", http2=True, ssl=trusting_context)
    assert resp.http_version == "2"
    assert resp.status_code == 200
    assert await resp.content() == b""
    # The connection is still good for a request with a body afterwards.
    again = await client.get(srv.url("/bytes/5000"), http2=True, ssl=trusting_context)
    assert len(await again.content()) == 5000
    assert len(srv.state.ports) == 1


async def test_client_default_http2_uses_h2_on_https(hyper, new_client, trusting_context):
    srv = await hyper()
    client = new_client(http2=True)
    resp = await client.get(srv.url(ECHO), ssl=trusting_context)
    assert resp.http_version == "2"
    await resp.content()
    resp = await client.post(srv.url(ECHO), data=b"body", ssl=trusting_context)
    assert resp.http_version == "2"
    assert json.loads(await resp.content())["http_version"] == "2"


async def test_connector_default_http2_uses_h2_on_https(hyper, new_client, trusting_context):
    srv = await hyper()
    client = new_client(connector={"http2": True})
    resp = await client.get(srv.url(ECHO), ssl=trusting_context)
    assert resp.http_version == "2"
    assert json.loads(await resp.content())["http_version"] == "2"


async def test_verify_false_with_http2(hyper, new_client):
    srv = await hyper()
    client = new_client()
    resp = await client.get(srv.url(ECHO), http2=True, verify=False)
    assert resp.http_version == "2"
    await resp.content()


async def test_without_http2_https_stays_http11(hyper, new_client, trusting_context):
    srv = await hyper()
    client = new_client()
    resp = await client.get(srv.url(ECHO), ssl=trusting_context)
    assert resp.http_version == "1.1"
    assert json.loads(await resp.content())["http_version"] == "1.1"


async def test_fallback_when_the_server_only_offers_http11(hyper, new_client, trusting_context):
    srv = await hyper(alpn=["http/1.1"])
    client = new_client()
    resp = await client.get(srv.url(ECHO), http2=True, ssl=trusting_context)
    assert resp.status_code == 200
    assert resp.http_version == "1.1"
    assert json.loads(await resp.content())["http_version"] == "1.1"
    # Again, with bodies, and concurrently: every request falls back and succeeds.
    responses = await asyncio.gather(
        *(client.post(srv.url(ECHO), data=b"x" * n, http2=True, ssl=trusting_context)
          for n in range(1, 6))
    )
    for n, resp in enumerate(responses, start=1):
        assert resp.http_version == "1.1"
        doc = json.loads(await resp.content())
        assert doc["http_version"] == "1.1"
        assert doc["method"] == "POST"
        assert base64.b64decode(doc["body_b64"]) == b"x" * n
    assert {seen.http_version for seen in srv.state.seen} == {"1.1"}


async def test_fallback_with_the_client_default(hyper, new_client, trusting_context):
    srv = await hyper(alpn=["http/1.1"])
    client = new_client(http2=True)
    for _ in range(3):
        resp = await client.get(srv.url(ECHO), ssl=trusting_context)
        assert resp.http_version == "1.1"
        await resp.content()
    assert len(srv.state.ports) == 1  # the HTTP/1.1 connection is kept alive and reused


async def test_callers_context_gets_alpn_h2_in_place(hyper, new_client, trusting_context):
    srv = await hyper()
    # A fresh context offers no ALPN: the server picks nothing, and aiosonic speaks 1.1.
    assert await _alpn_selected(srv.port, trusting_context) is None
    client = new_client()
    resp = await client.get(srv.url(ECHO), ssl=trusting_context)
    assert resp.http_version == "1.1"
    await resp.content()

    resp = await client.get(srv.url(ECHO), http2=True, ssl=trusting_context)
    assert resp.http_version == "2"
    await resp.content()
    # The very context object now offers h2 (set in place, it cannot be copied).
    assert await _alpn_selected(srv.port, trusting_context) == "h2"

    # So a request with it (in another client, not asking for http2) may come up as h2.
    other = new_client()
    resp = await other.get(srv.url(ECHO), ssl=trusting_context)
    assert resp.http_version == "2"
    assert json.loads(await resp.content())["http_version"] == "2"


async def test_h2c_prior_knowledge_on_http_per_request(hyper, new_client):
    srv = await hyper(tls=False)
    client = new_client()
    resp = await client.get(srv.url(ECHO), http2=True)
    assert resp.http_version == "2"
    doc = json.loads(await resp.content())
    assert doc["http_version"] == "2"
    resp = await client.post(srv.url(ECHO), data=b"cleartext", http2=True)
    assert resp.http_version == "2"
    await resp.content()
    assert [seen.http_version for seen in srv.state.seen] == ["2", "2"]
    assert len(srv.state.ports) == 1


async def test_h2c_and_http11_to_the_same_origin(hyper, new_client):
    srv = await hyper(tls=False)
    client = new_client()
    plain = await client.get(srv.url(ECHO))
    assert plain.http_version == "1.1"
    await plain.content()
    h2c = await client.get(srv.url(ECHO), http2=True)
    assert h2c.http_version == "2"
    await h2c.content()
    plain = await client.get(srv.url(ECHO))
    assert plain.http_version == "1.1"
    await plain.content()
    assert [seen.http_version for seen in srv.state.seen] == ["1.1", "2", "1.1"]


async def test_client_default_http2_does_not_use_h2c(hyper, new_client):
    srv = await hyper(tls=False)
    client = new_client(http2=True)
    resp = await client.get(srv.url(ECHO))
    assert resp.http_version == "1.1"
    await resp.content()
    resp = await client.post(srv.url(ECHO), data=b"x")
    assert resp.http_version == "1.1"
    await resp.content()
    assert {seen.http_version for seen in srv.state.seen} == {"1.1"}


async def test_connector_default_http2_does_not_use_h2c(hyper, new_client):
    srv = await hyper(tls=False)
    client = new_client(connector={"http2": True})
    resp = await client.get(srv.url(ECHO))
    assert resp.http_version == "1.1"
    await resp.content()
    assert [seen.http_version for seen in srv.state.seen] == ["1.1"]


async def test_h2c_to_an_http11_only_server_fails_clearly(server, new_client):
    """aiohttp speaks HTTP/1.1 only: it answers the h2 preface with an HTTP/1.1 error."""
    client = new_client()
    loop = asyncio.get_running_loop()
    started = loop.time()
    with pytest.raises((HttpParsingError, ConnectionDisconnected)):
        resp = await client.get(server.url("/echo"), http2=True,
                                timeouts=aiosonic.Timeouts(request_timeout=10))
        await resp.content()
    assert loop.time() - started < 3
