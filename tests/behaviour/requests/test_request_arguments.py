"""``HTTPClient`` request preparation (``aiosonic.client``, ``aiosonic._url``,
``aiosonic._request``): arguments of the wrong type get a clear ``InvalidRequest``, a form
object with ``multipart=True``, and a bytes body sent chunked when the caller asks for it."""

from __future__ import annotations

import base64
from collections.abc import Callable
from typing import Any, cast

import pytest
from support.app import AppServer, loads
from support.raw import RawRequest, RawServer, simple_response

import aiosonic
from aiosonic.exceptions import InvalidRequest


async def test_a_method_that_is_not_a_str_is_refused(
    server: AppServer, client: aiosonic.HTTPClient
) -> None:
    with pytest.raises(InvalidRequest, match="method must be a str, not int"):
        await client.request(server.url("/echo"), cast(Any, 5))
    with pytest.raises(InvalidRequest, match="method must be a str, not bytes"):
        await client.request(server.url("/echo"), cast(Any, b"GET"), headers={"X": "1"})
    assert server.state.requests == 0


async def test_an_unknown_keyword_option_is_refused(
    server: AppServer, client: aiosonic.HTTPClient
) -> None:
    with pytest.raises(TypeError, match="unexpected keyword argument 'max_redirect'"):
        await client.get(server.url("/echo"), **cast(Any, {"max_redirect": 3}))
    with pytest.raises(TypeError, match="unexpected keyword argument 'retries'"):
        await client.post(server.url("/echo"), data=b"x", **cast(Any, {"retries": 2}))
    assert server.state.requests == 0
    response = await client.get(server.url("/echo"), max_redirects=3, retry=None)
    assert response.status_code == 200


async def test_a_url_that_is_not_a_str_is_refused(client: aiosonic.HTTPClient) -> None:
    with pytest.raises(InvalidRequest, match="URL must be a str, not bytes"):
        await client.get(cast(Any, b"http://127.0.0.1/"))


async def test_a_host_name_that_cannot_be_idna_encoded_is_refused(
    client: aiosonic.HTTPClient,
) -> None:
    with pytest.raises(InvalidRequest, match="URL host is not a valid name") as raised:
        await client.get("http://user:secret@" + "ü" * 70 + ".example/")
    assert "secret" not in str(raised.value)


async def test_a_header_name_that_is_not_a_str_is_refused(
    server: AppServer, client: aiosonic.HTTPClient
) -> None:
    with pytest.raises(InvalidRequest, match="header names must be str, not bytes"):
        await client.get(server.url("/echo"), headers=cast(Any, [(b"X-Raw", "1")]))
    assert server.state.requests == 0


async def test_a_form_object_with_multipart_true_is_sent_as_it_is(
    server: AppServer, client: aiosonic.HTTPClient
) -> None:
    form = aiosonic.MultipartForm()
    form.add_field("greeting", "hello")
    form.add_field("blob", b"\x00\x01raw", filename="blob.bin")
    response = await client.post(server.url("/multipart"), data=form, multipart=True)
    doc = loads(await response.content())
    parts = {part["name"]: part for part in doc["parts"]}
    assert base64.b64decode(parts["greeting"]["data_b64"]) == b"hello"
    assert parts["blob"]["filename"] == "blob.bin"
    assert base64.b64decode(parts["blob"]["data_b64"]) == b"\x00\x01raw"
    assert doc["content_type"].startswith("multipart/form-data; boundary=")


async def test_a_bytes_body_goes_chunked_when_the_caller_says_so(
    raw_server: Callable[..., Any], client: aiosonic.HTTPClient
) -> None:
    async def ok(request: RawRequest) -> bytes:
        return simple_response(b"ok")

    srv: RawServer = await raw_server(respond=ok)
    response = await client.post(srv.url("/"), data=b"framed by hand",
                                 headers={"Transfer-Encoding": "chunked"})
    assert await response.content() == b"ok"
    (request,) = srv.requests
    assert request.header("Transfer-Encoding") == "chunked"
    assert request.header("Content-Length") is None
    assert request.body == b"framed by hand"  # read back through the chunked framing
