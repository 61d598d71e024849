"""What aiosonic puts on the wire: methods, bodies, query parameters and headers.

Everything is observed by the aiohttp echo endpoint, which reports the request exactly as
it arrived (method, path, raw query, raw headers in order, body bytes, framing).
"""

from __future__ import annotations

import json
import socket
from collections.abc import AsyncIterator, Iterator
from urllib.parse import parse_qsl

import pytest
from support.app import echo_body, header_names, header_values, loads
from support.raw import simple_response

import aiosonic
from aiosonic import HttpHeaders
from aiosonic._decode import ACCEPT_ENCODING

METHODS_WITH_BODY = ["POST", "PUT", "PATCH", "DELETE"]


async def echo(resp: aiosonic.HttpResponse) -> dict:
    assert resp.status_code == 200, resp.status_code
    return loads(await resp.content())


# ------------------------------------------------------------------------------- methods


@pytest.mark.parametrize("method", ["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"])
async def test_each_method_reaches_the_server(server, client, method):
    resp = await client.request(server.url("/echo"), method=method)
    doc = await echo(resp)
    assert doc["method"] == method
    assert doc["path"] == "/echo"


@pytest.mark.parametrize("method", ["get", "post", "put", "patch", "delete", "options", "Post"])
async def test_method_names_are_case_insensitive(server, client, method):
    resp = await client.request(server.url("/echo"), method=method)
    doc = await echo(resp)
    assert doc["method"] == method.upper()


async def test_head_request_has_headers_and_no_body(server, client):
    resp = await client.request(server.url("/echo"), method="HEAD")
    assert resp.status_code == 200
    # aiohttp announces the length of the body a GET would have had, and sends none
    assert int(resp.headers["Content-Length"]) > 0
    assert await resp.content() == b""


async def test_helper_methods_send_their_verb_and_body(server, client):
    url = server.url("/echo")
    doc = await echo(await client.get(url))
    assert doc["method"] == "GET"
    assert doc["body_len"] == 0
    for name in ("post", "put", "patch", "delete"):
        resp = await getattr(client, name)(url, data=b"payload-" + name.encode())
        doc = await echo(resp)
        assert doc["method"] == name.upper()
        assert echo_body(doc) == b"payload-" + name.encode()


async def test_get_without_body_sends_no_framing_headers(server, client):
    doc = await echo(await client.get(server.url("/echo")))
    names = header_names(doc)
    assert "content-length" not in names
    assert "transfer-encoding" not in names
    assert doc["chunked"] is None


async def test_path_and_query_in_url_are_sent_verbatim(server, client):
    doc = await echo(await client.get(server.url("/echo/a/b%20c/d?x=1&y=%2F&z")))
    assert doc["raw_path"] == "/echo/a/b%20c/d?x=1&y=%2F&z"
    assert doc["query"] == "x=1&y=%2F&z"


# ------------------------------------------------------------------------------- bodies


@pytest.mark.parametrize("method", METHODS_WITH_BODY)
async def test_bytes_body_with_content_length(server, client, method):
    body = bytes(range(256)) * 10
    doc = await echo(await client.request(server.url("/echo"), method=method, data=body))
    assert echo_body(doc) == body
    assert header_values(doc, "Content-Length") == [str(len(body))]
    assert doc["chunked"] is None


async def test_str_body_is_utf8_and_length_counts_bytes(server, client):
    text = "héllo wörld ✓ 日本"
    doc = await echo(await client.post(server.url("/echo"), data=text))
    assert echo_body(doc) == text.encode("utf-8")
    assert header_values(doc, "Content-Length") == [str(len(text.encode("utf-8")))]


async def test_empty_bytes_body_on_post(server, client):
    doc = await echo(await client.post(server.url("/echo"), data=b""))
    assert doc["body_len"] == 0
    assert doc["method"] == "POST"


async def test_dict_body_is_form_urlencoded(server, client):
    form = {"name": "Zoë", "q": "a b&c=d", "empty": ""}
    doc = await echo(await client.post(server.url("/echo"), data=form))
    ctype = header_values(doc, "Content-Type")
    assert len(ctype) == 1
    assert ctype[0].startswith("application/x-www-form-urlencoded")
    body = echo_body(doc)
    assert header_values(doc, "Content-Length") == [str(len(body))]
    assert parse_qsl(body.decode("ascii"), keep_blank_values=True) == list(form.items())


async def test_tuple_of_pairs_body_keeps_order_and_repeats(server, client):
    pairs = (("a", "1"), ("b", "two words"), ("a", "3"))
    doc = await echo(await client.post(server.url("/echo"), data=pairs))
    assert header_values(doc, "Content-Type")[0].startswith("application/x-www-form-urlencoded")
    assert parse_qsl(echo_body(doc).decode("ascii")) == list(pairs)


async def test_sync_generator_body_is_sent_chunked(server, client):
    def gen() -> Iterator[bytes]:
        yield b"first,"
        yield b"second,"
        yield b"third"

    doc = await echo(await client.post(server.url("/echo"), data=gen()))
    assert doc["chunked"] is not None
    assert "chunked" in doc["chunked"].lower()
    assert "content-length" not in header_names(doc)
    assert echo_body(doc) == b"first,second,third"


async def test_sync_iterator_body_is_sent_chunked(server, client):
    pieces = [b"x" * 1000, b"y" * 2000, b"z"]
    doc = await echo(await client.put(server.url("/echo"), data=iter(pieces)))
    assert doc["chunked"] is not None
    assert echo_body(doc) == b"".join(pieces)


async def test_async_generator_body_is_sent_chunked(server, client):
    async def agen() -> AsyncIterator[bytes]:
        for i in range(5):
            yield f"piece-{i};".encode()

    doc = await echo(await client.post(server.url("/echo"), data=agen()))
    assert doc["chunked"] is not None
    assert "chunked" in doc["chunked"].lower()
    assert "content-length" not in header_names(doc)
    assert echo_body(doc) == b"piece-0;piece-1;piece-2;piece-3;piece-4;"


async def test_empty_pieces_in_a_stream_do_not_end_the_body_early(server, client):
    # An empty chunk encoded naively ("0\r\n\r\n") would terminate the chunked body.
    def gen() -> Iterator[bytes]:
        yield b"abc"
        yield b""
        yield b"def"
        yield b""

    doc = await echo(await client.post(server.url("/echo"), data=gen()))
    assert echo_body(doc) == b"abcdef"
    # and the connection is still usable for a second request
    doc2 = await echo(await client.post(server.url("/echo"), data=b"after"))
    assert echo_body(doc2) == b"after"


async def test_empty_async_stream_sends_an_empty_chunked_body(server, client):
    async def agen() -> AsyncIterator[bytes]:
        if False:  # pragma: no cover - makes this an async generator that yields nothing
            yield b""

    doc = await echo(await client.post(server.url("/echo"), data=agen()))
    assert doc["body_len"] == 0


async def test_json_body_default_serializer(server, client):
    payload = {"a": [1, 2, 3], "b": {"c": None, "d": True}, "ü": "✓"}
    doc = await echo(await client.post(server.url("/echo"), json=payload))
    ctype = header_values(doc, "Content-Type")
    assert len(ctype) == 1
    assert ctype[0].startswith("application/json")
    body = echo_body(doc)
    assert json.loads(body) == payload
    assert header_values(doc, "Content-Length") == [str(len(body))]


async def test_json_list_body(server, client):
    doc = await echo(await client.put(server.url("/echo"), json=[1, "two", {"three": 3}]))
    assert json.loads(echo_body(doc)) == [1, "two", {"three": 3}]


async def test_json_body_custom_serializer_is_used(server, client):
    calls = []

    def compact(obj: object) -> str:
        calls.append(obj)
        return json.dumps(obj, separators=(",", ":"), sort_keys=True)

    doc = await echo(
        await client.post(server.url("/echo"), json={"b": 2, "a": 1}, json_serializer=compact)
    )
    assert calls == [{"b": 2, "a": 1}]
    assert echo_body(doc) == b'{"a":1,"b":2}'


async def test_json_body_serializer_returning_bytes(server, client):
    orjson = pytest.importorskip("orjson")
    doc = await echo(
        await client.post(server.url("/echo"), json={"k": [1, 2]}, json_serializer=orjson.dumps)
    )
    assert echo_body(doc) == b'{"k":[1,2]}'
    assert header_values(doc, "Content-Type")[0].startswith("application/json")


async def test_user_content_type_is_kept_for_bytes_body(server, client):
    doc = await echo(
        await client.post(
            server.url("/echo"), data=b"<x/>", headers={"content-type": "application/xml"}
        )
    )
    assert header_values(doc, "Content-Type") == ["application/xml"]
    assert echo_body(doc) == b"<x/>"


# ------------------------------------------------------------------------------- params


async def test_params_dict_are_url_encoded(server, client):
    params = {"q": "a b", "slash": "x/y", "amp": "1&2=3", "uni": "é✓"}
    doc = await echo(await client.get(server.url("/echo"), params=params))
    assert parse_qsl(doc["query"], keep_blank_values=True) == list(params.items())
    assert " " not in doc["query"]


async def test_params_sequence_keeps_order_and_repeats(server, client):
    params = [("k", "1"), ("k", "2"), ("other", "x"), ("k", "3")]
    doc = await echo(await client.get(server.url("/echo"), params=params))
    assert parse_qsl(doc["query"]) == params


async def test_params_are_appended_to_an_existing_query(server, client):
    doc = await echo(await client.get(server.url("/echo?a=1"), params={"b": "2"}))
    assert doc["query"] == "a=1&b=2"


async def test_params_sequence_appended_to_existing_query(server, client):
    doc = await echo(
        await client.get(server.url("/echo?first=0&x=y"), params=[("x", "z"), ("last", "9")])
    )
    assert parse_qsl(doc["query"]) == [("first", "0"), ("x", "y"), ("x", "z"), ("last", "9")]


async def test_params_on_post_with_body(server, client):
    doc = await echo(await client.post(server.url("/echo"), params={"id": "7"}, data=b"body"))
    assert doc["query"] == "id=7"
    assert echo_body(doc) == b"body"


# ------------------------------------------------------------------------------- headers


async def test_default_headers(server, client):
    doc = await echo(await client.get(server.url("/echo")))
    assert header_values(doc, "Host") == [f"127.0.0.1:{server.port}"]
    user_agent = header_values(doc, "User-Agent")
    assert user_agent == [f"aiosonic/{aiosonic.__version__}"]
    # br and zstd only when their libraries are installed (see aiosonic._decode)
    assert header_values(doc, "Accept-Encoding") == [ACCEPT_ENCODING]
    assert ACCEPT_ENCODING.startswith("gzip, deflate")
    assert header_values(doc, "Accept") == ["*/*"]
    # each default header appears exactly once
    names = header_names(doc)
    assert len(names) == len(set(names))


async def test_headers_as_dict(server, client):
    doc = await echo(
        await client.get(server.url("/echo"), headers={"X-Custom": "one", "X-Other": "two"})
    )
    assert header_values(doc, "X-Custom") == ["one"]
    assert header_values(doc, "X-Other") == ["two"]


async def test_headers_as_list_with_repeats_keep_order(server, client):
    headers = [("X-Multi", "first"), ("X-Single", "s"), ("X-Multi", "second")]
    doc = await echo(await client.get(server.url("/echo"), headers=headers))
    assert header_values(doc, "X-Multi") == ["first", "second"]
    assert header_values(doc, "X-Single") == ["s"]


async def test_headers_as_httpheaders_with_repeats(server, client):
    headers = HttpHeaders({"X-Token": "t1"})
    headers.add("X-Token", "t2")
    headers.add("X-Trace", "abc")
    doc = await echo(await client.get(server.url("/echo"), headers=headers))
    assert header_values(doc, "X-Token") == ["t1", "t2"]
    assert header_values(doc, "X-Trace") == ["abc"]


@pytest.mark.parametrize("name", ["User-Agent", "user-agent", "USER-AGENT"])
async def test_user_agent_override_is_case_insensitive(server, client, name):
    doc = await echo(await client.get(server.url("/echo"), headers={name: "my-agent/2.0"}))
    assert header_values(doc, "User-Agent") == ["my-agent/2.0"]


async def test_override_accept_and_accept_encoding(server, client):
    doc = await echo(
        await client.get(
            server.url("/echo"),
            headers=[("accept", "application/json"), ("ACCEPT-ENCODING", "identity")],
        )
    )
    assert header_values(doc, "Accept") == ["application/json"]
    assert header_values(doc, "Accept-Encoding") == ["identity"]


async def test_host_header_override(server, client):
    doc = await echo(await client.get(server.url("/echo"), headers={"host": "example.test"}))
    assert header_values(doc, "Host") == ["example.test"]


async def test_header_values_with_non_ascii_latin1(server, client):
    doc = await echo(await client.get(server.url("/echo"), headers={"X-Name": "café"}))
    # wire bytes are reported as latin-1 text by the echo endpoint
    values = header_values(doc, "X-Name")
    assert len(values) == 1
    assert values[0] in ("café", "café".encode().decode("latin-1"))


async def test_header_injection_is_refused(server, client):
    with pytest.raises((aiosonic.exceptions.AiosonicError, ValueError)):
        await client.get(server.url("/echo"), headers={"X-Evil": "a\r\nX-Injected: 1"})
    # the client still works, and nothing was injected on a later request
    doc = await echo(await client.get(server.url("/echo")))
    assert header_values(doc, "X-Injected") == []


# ------------------------------------------------------------------------------- addresses


async def test_localhost_name_is_resolved(raw_server, client):
    async def respond(request):
        return simple_response(b"via name")

    srv = await raw_server(respond=respond)
    resp = await client.get(f"http://localhost:{srv.port}/named")
    assert await resp.content() == b"via name"
    assert srv.requests[0].header("Host") == f"localhost:{srv.port}"


async def test_localhost_without_dns_cache(raw_server, make_client):
    async def respond(request):
        return simple_response(b"uncached")

    srv = await raw_server(respond=respond)
    client, _ = make_client(use_dns_cache=False)
    for _ in range(2):
        resp = await client.get(f"http://localhost:{srv.port}/")
        assert await resp.content() == b"uncached"


async def test_ipv6_loopback_literal(raw_server, client):
    if not socket.has_ipv6:
        pytest.skip("no IPv6 support in this Python build")
    try:
        probe = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
    except OSError:
        pytest.skip("IPv6 sockets unavailable")
    try:
        probe.bind(("::1", 0))
    except OSError:
        pytest.skip("no ::1 loopback address")
    finally:
        probe.close()

    async def respond(request):
        return simple_response(b"over ipv6")

    srv = await raw_server(respond=respond, host="::1")
    resp = await client.get(srv.url("/v6"))
    assert await resp.content() == b"over ipv6"
    assert srv.requests[0].header("Host") == f"[::1]:{srv.port}"


async def test_head_and_options_verbs_and_aclose(server):
    client = aiosonic.HTTPClient()
    head = await client.head(server.url("/bytes/100"))
    assert head.status_code == 200 and head.headers["Content-Length"] == "100"
    assert await head.content() == b""  # a HEAD answer has no body
    doc = await echo(await client.options(server.url("/echo"), headers={"X-Probe": "1"}))
    assert doc["method"] == "OPTIONS" and header_values(doc, "X-Probe") == ["1"]
    await client.aclose()
    assert client.connector.pool.is_all_free()
