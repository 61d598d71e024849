"""Following redirects and keeping cookies between requests."""

from __future__ import annotations

import pytest
from servers import echo_body, header_values, loads, simple_response

import aiosonic
from aiosonic.exceptions import MaxRedirects

# ------------------------------------------------------------------------------- redirects


async def test_redirect_not_followed_by_default(server, client):
    resp = await client.get(server.url("/redirect/2"))
    assert resp.status_code == 302
    assert resp.headers["Location"] == "/redirect/1"
    await resp.content()


async def test_redirect_chain_followed(server, client):
    resp = await client.get(server.url("/redirect/3"), follow=True)
    assert resp.status_code == 200
    doc = loads(await resp.content())
    assert doc["path"] == "/echo"
    assert doc["query"] == "from=redirect"
    # /redirect/3, 2, 1, 0 and /echo all reached the server
    assert server.state.requests == 5


async def test_redirect_to_absolute_url_on_another_server(server, raw_server, client):
    async def respond(request):
        return simple_response(b"landed on " + request.target.encode())

    other = await raw_server(respond=respond)
    resp = await client.get(
        server.url("/absolute-redirect"), params={"to": other.url("/target?x=1")}, follow=True
    )
    assert resp.status_code == 200
    assert await resp.content() == b"landed on /target?x=1"


async def test_redirect_loop_raises_max_redirects(server, client):
    with pytest.raises(MaxRedirects):
        await client.get(server.url("/loop"), follow=True)
    # the client is still usable afterwards
    resp = await client.get(server.url("/echo"))
    assert resp.status_code == 200
    await resp.content()


async def test_303_after_post_becomes_get_without_body(server, client):
    resp = await client.post(server.url("/see-other"), data=b"form-data", follow=True)
    doc = loads(await resp.content())
    assert doc["method"] == "GET"
    assert doc["query"] == "from=303"
    assert doc["body_len"] == 0


async def test_307_keeps_method_and_body(server, client):
    resp = await client.post(server.url("/temporary"), data=b"keep me", follow=True)
    doc = loads(await resp.content())
    assert doc["method"] == "POST"
    assert doc["query"] == "from=307"
    assert echo_body(doc) == b"keep me"


# ------------------------------------------------------------------------------- cookies


async def test_cookies_not_sent_back_by_default(server, client):
    resp = await client.get(server.url("/set-cookie"))
    assert resp.cookies["sid"].value == "xyz789"
    await resp.content()
    doc = loads(await (await client.get(server.url("/echo"))).content())
    assert header_values(doc, "Cookie") == []


async def test_handle_cookies_sends_them_back(server):
    async with aiosonic.HTTPClient(handle_cookies=True) as client:
        resp = await client.get(server.url("/set-cookie"))
        await resp.content()
        doc = loads(await (await client.get(server.url("/echo"))).content())
        cookie_headers = header_values(doc, "Cookie")
        assert len(cookie_headers) == 1
        assert "sid=xyz789" in [part.strip() for part in cookie_headers[0].split(";")]


async def test_handle_cookies_keeps_several_cookies(server):
    async with aiosonic.HTTPClient(handle_cookies=True) as client:
        await (await client.get(server.url("/cookies"))).content()
        doc = loads(await (await client.get(server.url("/echo"))).content())
        cookie_headers = header_values(doc, "Cookie")
        assert len(cookie_headers) == 1
        parts = sorted(part.strip() for part in cookie_headers[0].split(";"))
        assert parts == ["session=abc123", "theme=dark"]
