"""HTTPS against servers whose certificates come from a local trustme CA: verification on by
default, the ways to relax it, the reasons a handshake fails, SNI, and context caching."""

from __future__ import annotations

import ssl

import pytest
from support.app import loads

import aiosonic
from aiosonic import _tls
from aiosonic.exceptions import ConnectError, TLSError

# --------------------------------------------------------------------------- verification


async def test_untrusted_certificate_fails_by_default(tls_web, client):
    srv = await tls_web("127.0.0.1", "localhost")
    with pytest.raises(TLSError) as excinfo:
        await client.get(srv.url("/echo"))
    assert isinstance(excinfo.value, ConnectError)
    message = str(excinfo.value).lower()
    assert "certificate" in message
    assert "issuer" in message or "self-signed" in message or "self signed" in message
    assert srv.seen == []


async def test_untrusted_certificate_fails_for_a_client_of_its_own(tls_web):
    srv = await tls_web("localhost")
    async with aiosonic.HTTPClient() as http:
        with pytest.raises(TLSError):
            await http.get(srv.url("/echo", host="localhost"))


async def test_verify_false_per_request(tls_web, client):
    srv = await tls_web("127.0.0.1")
    resp = await client.get(srv.url("/echo"), verify=False)
    assert resp.status_code == 200
    assert loads(await resp.content())["path"] == "/echo"


async def test_verify_ssl_false_on_the_client(tls_web, new_client):
    srv = await tls_web("127.0.0.1")
    http = new_client(verify_ssl=False)
    resp = await http.post(srv.url("/echo"), data=b"over tls")
    assert resp.status_code == 200
    await resp.content()


async def test_ssl_context_trusting_the_ca(tls_web, client, trusting_context):
    srv = await tls_web("127.0.0.1", "localhost")
    for host in ("127.0.0.1", "localhost"):
        resp = await client.get(srv.url("/echo", host=host), ssl=trusting_context)
        assert resp.status_code == 200
        assert loads(await resp.content())["path"] == "/echo"


async def test_an_unverified_connection_is_not_reused_for_a_verified_request(tls_web, client):
    srv = await tls_web("127.0.0.1")
    resp = await client.get(srv.url("/echo"), verify=False)
    await resp.content()
    # the pooled connection was never verified: a verifying request must not ride on it
    with pytest.raises(TLSError):
        await client.get(srv.url("/echo"))
    assert len(srv.seen) == 1


async def test_a_connection_verified_by_another_context_is_not_reused(
    tls_web, client, trusting_context
):
    srv = await tls_web("127.0.0.1")
    resp = await client.get(srv.url("/echo"), ssl=trusting_context)
    await resp.content()
    with pytest.raises(TLSError):
        await client.get(srv.url("/echo"))  # the default context does not trust the CA
    assert len(srv.seen) == 1


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost"])
async def test_certificate_for_another_name_is_a_mismatch(tls_web, client, trusting_context,
                                                          host):
    srv = await tls_web("other.example")
    with pytest.raises(TLSError) as excinfo:
        await client.get(srv.url("/echo", host=host), ssl=trusting_context)
    message = str(excinfo.value).lower()
    assert "mismatch" in message or "hostname" in message
    assert host in str(excinfo.value)
    assert srv.seen == []


async def test_name_mismatch_is_accepted_with_verify_false(tls_web, client):
    srv = await tls_web("other.example")
    resp = await client.get(srv.url("/echo", host="localhost"), verify=False)
    assert resp.status_code == 200
    await resp.content()


async def test_expired_certificate(tls_web, client, trusting_context):
    srv = await tls_web("127.0.0.1", "localhost", expired=True)
    with pytest.raises(TLSError) as excinfo:
        await client.get(srv.url("/echo", host="localhost"), ssl=trusting_context)
    assert "expired" in str(excinfo.value).lower()
    assert srv.seen == []


async def test_https_to_a_plain_http_server_is_a_tls_error(server, client):
    with pytest.raises(TLSError):
        await client.get(server.url("/echo").replace("http://", "https://"))
    assert server.seen == []


async def test_client_still_works_after_tls_failures(tls_web, client, trusting_context):
    srv = await tls_web("127.0.0.1")
    for _ in range(3):
        with pytest.raises(TLSError):
            await client.get(srv.url("/echo"))
    resp = await client.get(srv.url("/echo"), ssl=trusting_context)
    assert resp.status_code == 200
    await resp.content()


# --------------------------------------------------------------------------- SNI


@pytest.mark.parametrize("verify", [True, False])
async def test_sni_carries_the_host_name(tls_web, client, trusting_context, verify):
    srv = await tls_web("localhost")
    if verify:
        resp = await client.get(srv.url("/echo", host="localhost"), ssl=trusting_context)
    else:
        resp = await client.get(srv.url("/echo", host="localhost"), verify=False)
    assert loads(await resp.content())["path"] == "/echo"
    assert srv.sni == ["localhost"]


async def test_no_sni_for_an_ip_address(tls_web, client, trusting_context):
    # RFC 6066 section 3: literal IP addresses are not permitted in the server name
    srv = await tls_web("127.0.0.1")
    resp = await client.get(srv.url("/echo"), ssl=trusting_context)
    assert loads(await resp.content())["path"] == "/echo"
    assert srv.sni == [None]


async def test_one_handshake_for_keep_alive_requests(tls_web, client, trusting_context):
    srv = await tls_web("localhost")
    ports = set()
    for _ in range(4):
        resp = await client.get(srv.url("/echo", host="localhost"), ssl=trusting_context)
        ports.add(loads(await resp.content())["port"])
    assert len(ports) == 1
    assert srv.sni == ["localhost"]


# --------------------------------------------------------------------------- contexts


def test_client_contexts_are_cached():
    assert _tls.client_context(True) is _tls.client_context(True)
    assert _tls.client_context(False) is _tls.client_context(False)
    assert _tls.client_context(True) is not _tls.client_context(False)


def test_client_context_settings():
    strict = _tls.client_context(True)
    assert strict.verify_mode == ssl.CERT_REQUIRED
    assert strict.check_hostname is True
    relaxed = _tls.client_context(False)
    assert relaxed.verify_mode == ssl.CERT_NONE
    assert relaxed.check_hostname is False
    for context in (strict, relaxed):
        assert context.minimum_version >= ssl.TLSVersion.TLSv1_2


async def test_clients_and_requests_do_not_build_new_contexts(tls_web, monkeypatch):
    srv = await tls_web("127.0.0.1")
    _tls.client_context(True)
    _tls.client_context(False)
    calls = []
    original = ssl.create_default_context

    def counting(*args, **kwargs):
        calls.append(args)
        return original(*args, **kwargs)

    monkeypatch.setattr(ssl, "create_default_context", counting)
    for _ in range(5):
        async with aiosonic.HTTPClient() as http:
            for _ in range(4):
                resp = await http.get(srv.url("/echo"), verify=False)
                await resp.content()
            with pytest.raises(TLSError):
                await http.get(srv.url("/echo"))
        async with aiosonic.HTTPClient(verify_ssl=False) as http:
            resp = await http.get(srv.url("/echo"))
            await resp.content()
    assert calls == []
