"""Cookies end to end: an aiohttp server sets them with various attributes, the client keeps
them (``handle_cookies=True``) and sends them back where RFC 6265 says. ``127.0.0.1`` and
``localhost`` name the same loopback server as two different cookie hosts."""

from __future__ import annotations

from http.cookies import SimpleCookie
from urllib.parse import quote

import pytest
from support.app import AppServer, header_one, header_values, loads

import aiosonic


def set_url(server: AppServer, *cookies: str, path: str = "/set-cookie", host: str | None = None,
            redirect_to: str | None = None) -> str:
    query = "&".join(f"cookie={quote(c, safe='')}" for c in cookies)
    if redirect_to is not None:
        path = "/redirect"
        query += f"&to={quote(redirect_to, safe='')}"
    return server.url(f"{path}?{query}", host=host)


async def cookies_at(client, url: str) -> list[str]:
    """The cookie names the server received for a request to ``url`` (in header order)."""
    doc = loads(await (await client.get(url)).content())
    header = header_one(doc, "Cookie")
    if header is None:
        return []
    return [pair.split("=", 1)[0] for pair in header.split("; ")]


@pytest.fixture
def jar_client(new_client):
    return new_client(handle_cookies=True)


async def test_cookies_are_stored_and_sent_back(server, jar_client):
    resp = await jar_client.get(set_url(server, "a=1", "b=2; Path=/"))
    await resp.content()
    assert len(jar_client.cookie_jar) == 2
    doc = loads(await (await jar_client.get(server.url("/echo"))).content())
    assert header_values(doc, "Cookie") == ["a=1; b=2"]


async def test_host_only_cookie_follows_the_host_not_the_port(server, server2, jar_client):
    await (await jar_client.get(set_url(server, "hostonly=1; Path=/"))).content()
    assert await cookies_at(jar_client, server.url("/echo")) == ["hostonly"]
    # RFC 6265 section 8.5: the same host on another port gets it too
    assert await cookies_at(jar_client, server2.url("/echo")) == ["hostonly"]
    # another host name for the same server does not
    assert await cookies_at(jar_client, server.url("/echo", host="localhost")) == []


async def test_localhost_cookie_is_not_sent_to_127_0_0_1(server, jar_client):
    await (await jar_client.get(set_url(server, "lh=1; Path=/", host="localhost"))).content()
    assert await cookies_at(jar_client, server.url("/echo", host="localhost")) == ["lh"]
    assert await cookies_at(jar_client, server.url("/echo")) == []


async def test_cookie_for_a_foreign_domain_is_rejected(server, jar_client):
    await (
        await jar_client.get(
            set_url(server, "evil=1; Domain=example.com", "ipdom=1; Domain=0.0.1", "ok=1")
        )
    ).content()
    assert len(jar_client.cookie_jar) == 1
    assert await cookies_at(jar_client, server.url("/echo")) == ["ok"]


async def test_ip_host_accepts_its_own_address_as_domain(server, jar_client):
    await (await jar_client.get(set_url(server, "ipd=1; Domain=127.0.0.1; Path=/"))).content()
    assert await cookies_at(jar_client, server.url("/x")) == ["ipd"]
    assert await cookies_at(jar_client, server.url("/x", host="localhost")) == []


async def test_path_attribute_and_default_path(server, jar_client):
    await (
        await jar_client.get(
            set_url(server, "scoped=1; Path=/app", "dflt=1", path="/set-cookie/deeper/page")
        )
    ).content()
    assert await cookies_at(jar_client, server.url("/app")) == ["scoped"]
    assert await cookies_at(jar_client, server.url("/app/sub")) == ["scoped"]
    assert await cookies_at(jar_client, server.url("/apple")) == []
    assert await cookies_at(jar_client, server.url("/")) == []
    # no Path: the directory of the request path, /set-cookie/deeper
    assert await cookies_at(jar_client, server.url("/set-cookie/deeper")) == ["dflt"]
    assert await cookies_at(jar_client, server.url("/set-cookie/deeper/other")) == ["dflt"]
    assert await cookies_at(jar_client, server.url("/set-cookie/deeperx")) == []
    assert await cookies_at(jar_client, server.url("/set-cookie/page")) == []


async def test_longer_path_cookies_come_first(server, jar_client):
    await (
        await jar_client.get(
            set_url(server, "root=1; Path=/", "deep=1; Path=/a/b", "mid=1; Path=/a")
        )
    ).content()
    assert await cookies_at(jar_client, server.url("/a/b/c")) == ["deep", "mid", "root"]


async def test_max_age_zero_deletes_a_stored_cookie(server, jar_client):
    await (await jar_client.get(set_url(server, "gone=1; Path=/", "kept=1; Path=/"))).content()
    assert len(jar_client.cookie_jar) == 2
    await (await jar_client.get(set_url(server, "gone=; Path=/; Max-Age=0"))).content()
    assert len(jar_client.cookie_jar) == 1
    assert await cookies_at(jar_client, server.url("/echo")) == ["kept"]


async def test_past_expires_deletes_a_stored_cookie(server, jar_client):
    await (await jar_client.get(set_url(server, "gone=1; Path=/"))).content()
    await (
        await jar_client.get(
            set_url(server, "gone=x; Path=/; Expires=Thu, 01 Jan 1970 00:00:00 GMT")
        )
    ).content()
    assert len(jar_client.cookie_jar) == 0
    assert await cookies_at(jar_client, server.url("/echo")) == []


async def test_secure_cookie_is_sent_only_over_https(tls_web, server, jar_client, trusting_context):
    tls = await tls_web("127.0.0.1", "localhost")
    resp = await jar_client.get(set_url(tls, "sec=1; Secure; Path=/", "any=1; Path=/"),
                                ssl=trusting_context)
    await resp.content()
    doc = loads(await (await jar_client.get(tls.url("/echo"), ssl=trusting_context)).content())
    assert sorted(header_one(doc, "Cookie").split("; ")) == ["any=1", "sec=1"]
    # plain http to the same host (another port, no TLS) never carries the Secure cookie
    assert await cookies_at(jar_client, server.url("/echo")) == ["any"]


# --------------------------------------------------------------------------- redirects


async def test_cookie_set_by_a_redirect_is_sent_on_the_next_hop(server, jar_client):
    resp = await jar_client.get(
        set_url(server, "from_redirect=1; Path=/", redirect_to="/echo/landed"), follow=True
    )
    doc = loads(await resp.content())
    assert doc["path"] == "/echo/landed"
    assert header_values(doc, "Cookie") == ["from_redirect=1"]


async def test_cookies_are_chosen_afresh_for_each_hop(server, jar_client):
    # 127.0.0.1 sets "ip" and sends us to localhost; localhost sets "lh" and sends us back.
    final = server.url("/echo/final")
    via_localhost = set_url(server, "lh=1; Path=/", host="localhost", redirect_to=final)
    start = set_url(server, "ip=1; Path=/", redirect_to=via_localhost)
    resp = await jar_client.get(start, follow=True)
    doc = loads(await resp.content())
    assert doc["path"] == "/echo/final"
    assert header_values(doc, "Cookie") == ["ip=1"]
    # the localhost hop got neither: "ip" belongs to 127.0.0.1 and "lh" did not exist yet
    localhost_hop = server.seen[1]
    assert localhost_hop.host == f"localhost:{server.port}"
    assert localhost_hop.header("Cookie") == []
    assert len(jar_client.cookie_jar) == 2


async def test_caller_cookie_is_dropped_but_jar_cookies_apply_after_leaving_the_origin(
    server, jar_client
):
    await (await jar_client.get(set_url(server, "lh=jar; Path=/", host="localhost"))).content()
    resp = await jar_client.get(
        set_url(server, redirect_to=server.url("/echo/there", host="localhost")),
        headers={"Cookie": "mine=caller"},
        follow=True,
    )
    doc = loads(await resp.content())
    assert server.seen[-2].header("Cookie") == ["mine=caller"]
    assert header_values(doc, "Cookie") == ["lh=jar"]


# --------------------------------------------------------------------------- response.cookies


async def test_response_cookies_is_a_simplecookie_of_that_response(server, client):
    resp = await client.get(
        set_url(server, "a=1; Path=/p; HttpOnly", "b=two; Max-Age=60", "c=3; Domain=127.0.0.1")
    )
    await resp.content()
    cookies = resp.cookies
    assert isinstance(cookies, SimpleCookie)
    assert sorted(cookies) == ["a", "b", "c"]
    assert cookies["a"].value == "1"
    assert cookies["a"]["path"] == "/p"
    assert cookies["a"]["httponly"] is True
    assert cookies["b"].value == "two"
    assert cookies["b"]["max-age"] == "60"
    assert cookies["c"]["domain"] == "127.0.0.1"


async def test_response_without_set_cookie_has_no_cookies(server, client):
    resp = await client.get(server.url("/echo"))
    await resp.content()
    assert not resp.cookies


async def test_response_cookies_also_with_handle_cookies(server, jar_client):
    resp = await jar_client.get(set_url(server, "x=1"))
    await resp.content()
    assert resp.cookies["x"].value == "1"
    other = await jar_client.get(server.url("/echo"))
    await other.content()
    assert not other.cookies  # the jar's cookies are not this response's cookies


# --------------------------------------------------------------------------- off / overrides


async def test_handle_cookies_false_stores_and_sends_nothing(server, client):
    await (await client.get(set_url(server, "a=1; Path=/"))).content()
    assert client.cookie_jar is None or len(client.cookie_jar) == 0
    assert await cookies_at(client, server.url("/echo")) == []


async def test_caller_cookie_header_is_sent_as_given_without_a_jar(server, client):
    resp = await client.get(server.url("/echo"), headers={"Cookie": "raw=value; other=x"})
    doc = loads(await resp.content())
    assert header_values(doc, "Cookie") == ["raw=value; other=x"]


async def test_caller_cookie_header_replaces_the_jar_for_that_request(server, jar_client):
    await (await jar_client.get(set_url(server, "jar=1; Path=/"))).content()
    resp = await jar_client.get(server.url("/echo"), headers={"cookie": "mine=1"})
    doc = loads(await resp.content())
    assert header_values(doc, "Cookie") == ["mine=1"]
    # the jar is untouched and used again on the next plain request
    assert await cookies_at(jar_client, server.url("/echo")) == ["jar"]


async def test_cookies_not_sent_back_by_default(server, client):
    resp = await client.get(server.url("/set-sid"))
    assert resp.cookies["sid"].value == "xyz789"
    await resp.content()
    doc = loads(await (await client.get(server.url("/echo"))).content())
    assert header_values(doc, "Cookie") == []


async def test_handle_cookies_sends_them_back(server):
    async with aiosonic.HTTPClient(handle_cookies=True) as client:
        resp = await client.get(server.url("/set-sid"))
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
