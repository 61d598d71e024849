"""What aiosonic makes of a response: status, headers, cookies, decoding, text and json."""

from __future__ import annotations

import decimal
import functools
import json
from http.cookies import SimpleCookie

import pytest
from support.app import JSON_DOC, TEXTS, payload, text_payload
from support.raw import simple_response

import aiosonic
from aiosonic import HttpHeaders
from aiosonic.exceptions import DecompressionError

# ------------------------------------------------------------------------------- status


async def test_status_reason_version_and_ok(server, client):
    resp = await client.get(server.url("/json"))
    assert resp.status_code == 200
    assert isinstance(resp.status_code, int)
    assert resp.ok is True
    assert resp.reason == "OK"
    assert resp.http_version == "1.1"
    await resp.content()


@pytest.mark.parametrize("code", [201, 202, 299])
async def test_2xx_is_ok(server, client, code):
    resp = await client.get(server.url(f"/status/{code}"))
    assert resp.status_code == code
    assert resp.ok is True
    await resp.content()


@pytest.mark.parametrize("code", [301, 400, 404, 418, 500, 503])
async def test_non_2xx_is_not_ok_and_not_an_exception(server, client, code):
    resp = await client.get(server.url(f"/status/{code}"))
    assert resp.status_code == code
    assert resp.ok is False
    await resp.content()


async def test_unknown_route_gives_404_with_body(server, client):
    resp = await client.get(server.url("/missing/no/such/route"))
    assert resp.status_code == 404
    assert resp.reason == "Not Found"
    assert b"404" in await resp.content()


async def test_custom_reason_phrase(raw_server, client):
    async def respond(request):
        return simple_response(b"odd", status="299 Totally Custom Reason")

    srv = await raw_server(respond=respond)
    resp = await client.get(srv.url("/"))
    assert resp.status_code == 299
    assert resp.reason == "Totally Custom Reason"
    assert resp.ok is True
    assert await resp.content() == b"odd"


# ------------------------------------------------------------------------------- headers


async def test_response_headers_are_case_insensitive(server, client):
    resp = await client.get(server.url("/json"))
    headers = resp.headers
    assert isinstance(headers, HttpHeaders)
    assert headers["content-type"] == headers["CONTENT-TYPE"] == headers["Content-Type"]
    assert headers["content-type"].startswith("application/json")
    assert "content-length" in headers
    assert "CONTENT-LENGTH" in headers
    assert "x-not-there" not in headers
    assert headers.get("x-not-there") is None
    assert int(headers.get("Content-Length")) == len(await resp.content())


async def test_raw_headers_keep_wire_order_and_case(raw_server, client):
    sent = [
        ("X-Zeta", "1"),
        ("x-alpha", "2"),
        ("X-MiXeD-CaSe", "three"),
        ("X-Zeta", "4"),
        ("Content-Length", "2"),
        ("x-last", "v; with=params"),
    ]

    async def respond(request):
        return simple_response(b"ok", headers=sent, content_length=False)

    srv = await raw_server(respond=respond)
    resp = await client.get(srv.url("/"))
    assert resp.raw_headers == [(k.encode(), v.encode()) for k, v in sent]
    assert resp.headers.getall("x-zeta") == ["1", "4"]
    assert resp.headers["X-ZETA"] == "1"
    assert resp.headers["x-mixed-case"] == "three"
    assert await resp.content() == b"ok"


async def test_header_values_whitespace_is_trimmed(raw_server, client):
    async def respond(request):
        return b"HTTP/1.1 200 OK\r\nX-Padded:    spaced value   \r\nContent-Length: 0\r\n\r\n"

    srv = await raw_server(respond=respond)
    resp = await client.get(srv.url("/"))
    assert resp.headers["x-padded"] == "spaced value"
    assert await resp.content() == b""


async def test_repeated_set_cookie_headers(server, client):
    resp = await client.get(server.url("/cookies"))
    assert await resp.content() == b"cookies"
    set_cookies = resp.headers.getall("set-cookie")
    assert len(set_cookies) == 2
    assert set_cookies == resp.headers.getlist("Set-Cookie")
    assert set_cookies[0].startswith("session=abc123")
    assert set_cookies[1].startswith("theme=dark")
    cookies = resp.cookies
    assert isinstance(cookies, SimpleCookie)
    assert cookies["session"].value == "abc123"
    assert cookies["session"]["path"] == "/"
    assert cookies["session"]["httponly"]
    assert cookies["theme"].value == "dark"
    assert sorted(cookies.keys()) == ["session", "theme"]


async def test_no_cookies_means_none(server, client):
    resp = await client.get(server.url("/json"))
    assert resp.cookies is None
    await resp.content()


# ------------------------------------------------------------------------------- decoding


@pytest.mark.parametrize("kind", ["gzip", "deflate"])
async def test_compressed_body_is_decoded(server, client, kind):
    resp = await client.get(server.url(f"/compressed/{kind}?n=50000"))
    assert resp.status_code == 200
    assert resp.headers["Content-Encoding"] == kind
    # the wire body is much smaller than the decoded one
    assert int(resp.headers["Content-Length"]) < 50000 // 4
    assert await resp.content() == text_payload(50000)


@pytest.mark.parametrize("kind", ["gzip", "deflate"])
async def test_compressed_chunked_body_is_decoded(server, client, kind):
    resp = await client.get(server.url(f"/compressed/{kind}?n=300000&chunked=1"))
    assert resp.headers["Content-Encoding"] == kind
    assert "Content-Length" not in resp.headers
    assert await resp.content() == text_payload(300000)


async def test_compressed_body_through_read_chunks_is_decoded(server, client):
    resp = await client.get(server.url("/compressed/gzip?n=400000&chunked=1"))
    got = bytearray()
    async for chunk in resp.read_chunks():
        got += chunk
    assert bytes(got) == text_payload(400000)


async def test_compressed_text_and_json(raw_server, client):
    import gzip

    doc = {"compressed": True, "text": "ünïcödé"}
    body = gzip.compress(json.dumps(doc).encode("utf-8"))

    async def respond(request):
        return simple_response(
            body,
            headers=[
                ("Content-Type", "application/json; charset=utf-8"),
                ("Content-Encoding", "gzip"),
            ],
        )

    srv = await raw_server(respond=respond)
    assert await (await client.get(srv.url("/a"))).json() == doc
    assert await (await client.get(srv.url("/b"))).text() == json.dumps(doc)


async def test_identity_body_is_not_touched(server, client):
    resp = await client.get(server.url("/bytes/4096"))
    assert "Content-Encoding" not in resp.headers
    assert await resp.content() == payload(4096)


async def test_corrupt_gzip_raises_decompression_error(server, client):
    resp = await client.get(server.url("/compressed/bad-gzip?n=50000"))
    assert resp.status_code == 200
    with pytest.raises(DecompressionError):
        await resp.content()
    # the client remains usable
    resp2 = await client.get(server.url("/compressed/gzip?n=1000"))
    assert await resp2.content() == text_payload(1000)


async def test_unknown_content_encoding_is_raw_or_a_decompression_error(raw_server, client):
    # The spec leaves this open: either hand back the bytes untouched, or say clearly that
    # the encoding is not supported. Anything else (another error, a hang) is wrong, and
    # the client must stay usable.
    async def respond(request):
        if request.target == "/custom":
            return simple_response(b"\x01\x02opaque", headers=[("Content-Encoding", "x-custom")])
        return simple_response(b"plain")

    srv = await raw_server(respond=respond)
    resp = await client.get(srv.url("/custom"))
    try:
        body = await resp.content()
    except DecompressionError:
        pass
    else:
        assert body == b"\x01\x02opaque"
    assert await (await client.get(srv.url("/plain"))).content() == b"plain"


# ------------------------------------------------------------------------------- text / json


@pytest.mark.parametrize("name", list(TEXTS))
async def test_text_uses_charset_or_detects_it(server, client, name):
    expected, _encoding, content_type = TEXTS[name]
    resp = await client.get(server.url(f"/text/{name}"))
    assert resp.headers["Content-Type"] == content_type
    assert await resp.text() == expected


async def test_text_after_content_returns_same_data(server, client):
    resp = await client.get(server.url("/text/utf8-charset"))
    raw = await resp.content()
    assert await resp.text() == raw.decode("utf-8") == TEXTS["utf8-charset"][0]
    # content() can be called again and returns the same bytes
    assert await resp.content() == raw


async def test_json(server, client):
    resp = await client.get(server.url("/json"))
    assert await resp.json() == JSON_DOC


async def test_json_with_custom_decoder(server, client):
    resp = await client.get(server.url("/json"))
    doc = await resp.json(json_decoder=functools.partial(json.loads, parse_float=decimal.Decimal))
    assert doc["price"] == decimal.Decimal("10.25")
    assert isinstance(doc["numbers"][2], decimal.Decimal)


async def test_json_of_a_bytes_body_without_content_type(raw_server, client):
    async def respond(request):
        return simple_response(b'[1, {"a": "b"}]')

    srv = await raw_server(respond=respond)
    resp = await client.get(srv.url("/"))
    assert await resp.json() == [1, {"a": "b"}]


async def test_invalid_json_raises_a_value_error(raw_server, client):
    async def respond(request):
        return simple_response(b"{not json", headers=[("Content-Type", "application/json")])

    srv = await raw_server(respond=respond)
    resp = await client.get(srv.url("/"))
    with pytest.raises(ValueError):
        await resp.json()


async def test_httpheaders_standalone_behaviour():
    headers = HttpHeaders({"Content-Type": "text/plain"}, X_Extra="1")
    headers.add("Set-Cookie", "a=1")
    headers.add("set-cookie", "b=2")
    assert headers["content-type"] == "text/plain"
    assert headers["SET-COOKIE"] == "a=1"
    assert headers.getall("Set-Cookie") == ["a=1", "b=2"]
    assert headers.getlist("set-cookie") == ["a=1", "b=2"]
    assert len(headers) == 3
    assert sorted((k.lower(), v) for k, v in headers.multi_items()) == [
        ("content-type", "text/plain"),
        ("set-cookie", "a=1"),
        ("set-cookie", "b=2"),
        ("x_extra", "1"),
    ]
    headers["set-cookie"] = "c=3"
    assert headers.getall("Set-Cookie") == ["c=3"]
    assert len(headers) == 3


async def test_response_type(server, client):
    resp = await client.get(server.url("/json"))
    assert isinstance(resp, aiosonic.HttpResponse)
    await resp.content()
