"""Every response API over HTTP/2: headers (never a pseudo-header), cookies, gzip decoding,
text and JSON, redirects with follow=True, the cookie jar, and timeouts, after which the
same connection keeps serving other requests."""

from __future__ import annotations

import asyncio
import json

import pytest
from support.h2_servers import gzip_text

import aiosonic
from aiosonic.exceptions import BaseTimeout, ReadTimeout, RequestTimeout


async def test_headers_have_no_pseudo_headers(hyper, new_client, trusting_context):
    srv = await hyper()
    client = new_client()
    resp = await client.get(srv.url("/headers"), http2=True, ssl=trusting_context)
    assert resp.http_version == "2"
    assert resp.status_code == 200
    assert resp.ok
    for name, value in resp.raw_headers:
        assert isinstance(name, bytes)
        assert isinstance(value, bytes)
        assert not name.startswith(b":"), name
    assert not any(name.startswith(":") for name in resp.headers)
    assert ":status" not in resp.headers
    assert resp.headers.getall("x-multi") == ["one", "two"]
    assert resp.headers["X-Custom"] == "Some Value; with=params"
    assert resp.headers["x-utf8"] == "caf\u00e9 \u2713"
    assert resp.headers["content-length"] == "7"
    assert (b"x-multi", b"one") in resp.raw_headers
    assert await resp.text() == "headers"


@pytest.mark.parametrize("code", [201, 204, 404, 500])
async def test_status_codes(hyper, new_client, trusting_context, code):
    srv = await hyper()
    client = new_client()
    resp = await client.get(srv.url(f"/status/{code}"), http2=True, ssl=trusting_context)
    assert resp.status_code == code
    assert resp.ok is (code < 300)
    assert await resp.content() == b""
    assert all(not name.startswith(b":") for name, _ in resp.raw_headers)


async def test_request_headers_reach_the_server_without_hop_by_hop_ones(
    hyper, new_client, trusting_context
):
    srv = await hyper()
    client = new_client()
    resp = await client.get(
        srv.url("/echo"),
        headers={"X-Token": "secret", "Connection": "keep-alive", "Keep-Alive": "5",
                 "Upgrade": "websocket", "TE": "trailers", "Mixed-Case": "Value"},
        http2=True,
        ssl=trusting_context,
    )
    doc = json.loads(await resp.content())
    headers = dict((name, value) for name, value in doc["headers"])
    assert headers["x-token"] == "secret"
    assert headers["mixed-case"] == "Value"
    assert headers["te"] == "trailers"
    for hop in ("connection", "keep-alive", "upgrade", "transfer-encoding"):
        assert hop not in headers
    assert all(name == name.lower() for name in headers)
    assert headers["user-agent"].startswith("aiosonic/")


async def test_cookies_property(hyper, new_client, trusting_context):
    srv = await hyper()
    client = new_client()
    resp = await client.get(srv.url("/cookies"), http2=True, ssl=trusting_context)
    cookies = resp.cookies
    assert cookies is not None
    assert cookies["session"].value == "abc123"
    assert cookies["session"]["httponly"] is True
    assert cookies["theme"].value == "dark"
    assert resp.headers.getall("set-cookie") == [
        "session=abc123; Path=/; HttpOnly",
        "theme=dark; Path=/",
    ]
    await resp.content()


async def test_cookie_jar_over_h2(hyper, new_client, trusting_context):
    srv = await hyper()
    client = new_client(handle_cookies=True)
    resp = await client.get(srv.url("/cookies"), http2=True, ssl=trusting_context)
    await resp.content()
    resp = await client.get(srv.url("/echo"), http2=True, ssl=trusting_context)
    assert resp.http_version == "2"
    doc = json.loads(await resp.content())
    cookie_headers = [value for name, value in doc["headers"] if name == "cookie"]
    sent = "; ".join(cookie_headers)
    assert "session=abc123" in sent
    assert "theme=dark" in sent


@pytest.mark.parametrize("reader", ["content", "text", "read_chunks"])
async def test_gzip_is_decoded(hyper, new_client, trusting_context, reader):
    srv = await hyper()
    client = new_client()
    resp = await client.get(srv.url("/gzip"), http2=True, ssl=trusting_context)
    assert resp.headers["content-encoding"] == "gzip"
    if reader == "content":
        assert await resp.content() == gzip_text()
    elif reader == "text":
        assert await resp.text() == gzip_text().decode("utf-8")
    else:
        assert b"".join([chunk async for chunk in resp.read_chunks()]) == gzip_text()


async def test_json_reader(hyper, new_client, trusting_context):
    srv = await hyper()
    client = new_client()
    resp = await client.post(srv.url("/echo"), json={"a": 1}, http2=True, ssl=trusting_context)
    doc = await resp.json()
    assert doc["method"] == "POST"
    assert doc["http_version"] == "2"


async def test_redirects_are_followed_over_h2(hyper, new_client, trusting_context):
    srv = await hyper()
    client = new_client()
    resp = await client.get(srv.url("/redirect/3"), http2=True, ssl=trusting_context, follow=True)
    assert resp.status_code == 200
    assert resp.http_version == "2"
    doc = json.loads(await resp.content())
    assert doc["path"] == "/echo"
    assert doc["query"] == "from=redirect"
    paths = [seen.path for seen in srv.state.seen]
    assert paths == ["/redirect/3", "/redirect/2", "/redirect/1", "/redirect/0", "/echo"]
    assert {seen.http_version for seen in srv.state.seen} == {"2"}
    assert len(srv.state.ports) == 1


async def test_redirect_not_followed_by_default(hyper, new_client, trusting_context):
    srv = await hyper()
    client = new_client()
    resp = await client.get(srv.url("/redirect/1"), http2=True, ssl=trusting_context)
    assert resp.status_code == 302
    assert resp.headers["location"] == "/redirect/0"
    await resp.content()


async def test_h2c_redirect_stays_on_h2c(hyper, new_client):
    srv = await hyper(tls=False)
    client = new_client()
    resp = await client.get(srv.url("/redirect/2"), http2=True, follow=True)
    assert resp.http_version == "2"
    await resp.content()
    assert {seen.http_version for seen in srv.state.seen} == {"2"}


async def test_sock_read_timeout_then_the_connection_still_serves(
    hyper, new_client, trusting_context
):
    srv = await hyper()
    client = new_client()
    loop = asyncio.get_running_loop()
    started = loop.time()
    with pytest.raises(ReadTimeout):
        await client.get(srv.url("/stall"), http2=True, ssl=trusting_context,
                         timeouts=aiosonic.Timeouts(sock_read=0.3))
    elapsed = loop.time() - started
    assert 0.25 <= elapsed < 2
    resp = await client.get(srv.url("/echo"), http2=True, ssl=trusting_context)
    doc = json.loads(await resp.content())
    # Same connection: the timed-out stream was reset, not the connection.
    assert doc["port"] == srv.state.ports_for("/stall")[0]
    assert len(srv.state.ports) == 1
    await _wait(lambda: srv.state.disconnects == 1)


async def test_sock_read_timeout_while_reading_the_body(hyper, new_client, trusting_context):
    srv = await hyper()
    client = new_client()
    resp = await client.get(srv.url("/stall-body"), http2=True, ssl=trusting_context,
                            timeouts=aiosonic.Timeouts(sock_read=0.3))
    assert resp.status_code == 200
    with pytest.raises(ReadTimeout):
        await resp.content()
    again = await client.get(srv.url("/bytes/1000"), http2=True, ssl=trusting_context)
    assert len(await again.content()) == 1000
    assert len(srv.state.ports) == 1


async def test_request_timeout_then_the_connection_still_serves(
    hyper, new_client, trusting_context
):
    srv = await hyper()
    client = new_client()
    loop = asyncio.get_running_loop()
    started = loop.time()
    with pytest.raises(RequestTimeout) as excinfo:
        await client.get(srv.url("/stall"), http2=True, ssl=trusting_context,
                         timeouts=aiosonic.Timeouts(request_timeout=0.4))
    assert isinstance(excinfo.value, BaseTimeout)
    assert loop.time() - started < 2
    resp = await client.get(srv.url("/echo"), http2=True, ssl=trusting_context)
    assert json.loads(await resp.content())["http_version"] == "2"
    assert len(srv.state.ports) == 1


async def test_request_timeout_covers_the_body(hyper, new_client, trusting_context):
    srv = await hyper()
    client = new_client()
    resp = await client.get(srv.url("/stall-body"), http2=True, ssl=trusting_context,
                            timeouts=aiosonic.Timeouts(request_timeout=0.4))
    with pytest.raises(RequestTimeout):
        await resp.content()


async def test_a_timeout_does_not_disturb_other_streams(hyper, new_client, trusting_context):
    srv = await hyper()
    client = new_client()
    stalled = asyncio.ensure_future(
        client.get(
            srv.url("/stall"),
            http2=True,
            ssl=trusting_context,
            timeouts=aiosonic.Timeouts(sock_read=0.3),
        )
    )
    slow = [
        client.get(srv.url("/slow?delay=0.6"), http2=True, ssl=trusting_context) for _ in range(3)
    ]
    responses = await asyncio.gather(*slow)
    with pytest.raises(ReadTimeout):
        await stalled
    for resp in responses:
        assert resp.status_code == 200
        await resp.content()
    assert len(srv.state.ports) == 1


async def test_client_timeouts_default_applies_over_h2(hyper, new_client, trusting_context):
    srv = await hyper()
    client = new_client(connector={"timeouts": aiosonic.Timeouts(sock_read=0.3)})
    with pytest.raises(ReadTimeout):
        await client.get(srv.url("/stall"), http2=True, ssl=trusting_context)


async def _wait(check, timeout: float = 3.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not check():
        assert loop.time() < deadline, "condition not met in time"
        await asyncio.sleep(0.01)
