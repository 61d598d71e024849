"""Request and response bodies over HTTP/2: every body form byte-exact on the server, uploads
and downloads far beyond the 64 KiB default windows, the client honouring the server's flow
control window, and a slow reader of one stream not stalling the others."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
from collections.abc import AsyncIterator, Iterator
from typing import Any
from urllib.parse import urlencode

import pytest
from support.app import first_mismatch, payload

import aiosonic

MB = 1024 * 1024


def _echoed(doc: dict[str, Any]) -> bytes:
    return base64.b64decode(doc["body_b64"])


def _header(doc: dict[str, Any], name: str) -> list[str]:
    return [value for key, value in doc["headers"] if key.lower() == name]


def _sync_pieces() -> Iterator[bytes]:
    yield b"sync-"
    yield b""
    yield b"iterator-"
    yield payload(70_000, seed=1)


async def _async_pieces() -> AsyncIterator[bytes]:
    for piece in (b"async-", b"iterator-", payload(70_000, seed=2)):
        await asyncio.sleep(0)
        yield piece


BODY_FORMS = {
    "bytes": (lambda: {"data": b"\x00\x01raw bytes\xff"}, b"\x00\x01raw bytes\xff",
              "application/octet-stream"),
    "str": (lambda: {"data": "caf\u00e9 \u2713"}, "caf\u00e9 \u2713".encode(), None),
    "dict-form": (lambda: {"data": {"a": "1", "b": "two words"}},
                  urlencode([("a", "1"), ("b", "two words")]).encode(),
                  "application/x-www-form-urlencoded"),
    "tuple-pairs": (lambda: {"data": (("k", "v1"), ("k", "v2"))}, b"k=v1&k=v2",
                    "application/x-www-form-urlencoded"),
    "json": (lambda: {"json": {"n": [1, 2], "s": "\u2713"}},
             json.dumps({"n": [1, 2], "s": "\u2713"}).encode(), "application/json"),
    "sync-iterator": (lambda: {"data": _sync_pieces()},
                      b"sync-iterator-" + payload(70_000, seed=1), None),
    "async-iterator": (lambda: {"data": _async_pieces()},
                       b"async-iterator-" + payload(70_000, seed=2), None),
}


@pytest.mark.parametrize("transport", ["tls", "h2c"])
@pytest.mark.parametrize("form", list(BODY_FORMS))
async def test_request_body_forms_are_byte_exact(
    hyper, new_client, trusting_context, form, transport
):
    srv = await hyper(tls=transport == "tls")
    client = new_client()
    make_kwargs, expected, content_type = BODY_FORMS[form]
    kwargs = make_kwargs()
    if transport == "tls":
        kwargs["ssl"] = trusting_context
    resp = await client.post(srv.url("/echo"), http2=True, **kwargs)
    assert resp.http_version == "2"
    doc = json.loads(await resp.content())
    got = _echoed(doc)
    assert got == expected, first_mismatch(got, expected)
    if content_type is not None and form != "bytes":
        assert _header(doc, "content-type") == [content_type]
    # HTTP/1.1 framing never reaches an HTTP/2 server.
    assert _header(doc, "transfer-encoding") == []
    assert _header(doc, "connection") == []
    lengths = _header(doc, "content-length")
    assert lengths in ([], [str(len(expected))])


async def test_multipart_form_is_byte_exact(hyper, new_client, trusting_context, tmp_path):
    srv = await hyper()
    client = new_client()
    upload = tmp_path / "report.bin"
    upload.write_bytes(payload(100_000, seed=3))
    form = aiosonic.MultipartForm()
    form.add_field("title", "h2 \u2713")
    form.add_field("blob", b"\x00\x01\x02")
    form.add_file("file", str(upload))
    resp = await client.post(srv.url("/echo"), data=form, http2=True, ssl=trusting_context)
    assert resp.http_version == "2"
    doc = json.loads(await resp.content())
    expected, size = await form.get_body_size()
    got = _echoed(doc)
    assert got == expected, first_mismatch(got, expected)
    assert _header(doc, "content-type") == [f"multipart/form-data; boundary={form.boundary}"]
    assert _header(doc, "content-length") in ([], [str(size)])
    assert payload(100_000, seed=3) in got


async def test_multipart_true_with_a_dict(hyper, new_client, trusting_context):
    srv = await hyper()
    client = new_client()
    resp = await client.post(srv.url("/echo"), data={"field": "value"}, multipart=True,
                             http2=True, ssl=trusting_context)
    doc = json.loads(await resp.content())
    body = _echoed(doc)
    assert b'name="field"' in body
    assert b"\r\n\r\nvalue\r\n" in body
    assert _header(doc, "content-type")[0].startswith("multipart/form-data; boundary=")


@pytest.mark.parametrize("kind", ["bytes", "async-iterator"])
async def test_three_megabyte_upload(hyper, new_client, trusting_context, kind):
    """Far beyond the 64 KiB initial window: sending waits for WINDOW_UPDATE and resumes."""
    srv = await hyper()
    client = new_client()
    data = payload(3 * MB, seed=4)

    async def pieces() -> AsyncIterator[bytes]:
        for start in range(0, len(data), 256 * 1024):
            yield data[start : start + 256 * 1024]

    body: Any = data if kind == "bytes" else pieces()
    resp = await client.post(srv.url("/upload"), data=body, http2=True, ssl=trusting_context)
    assert resp.http_version == "2"
    doc = json.loads(await resp.content())
    assert doc["length"] == len(data)
    assert doc["sha256"] == hashlib.sha256(data).hexdigest()


async def test_concurrent_uploads_on_one_connection(hyper, new_client, trusting_context):
    srv = await hyper()
    client = new_client()
    bodies = [payload(600_000, seed=10 + n) for n in range(4)]
    responses = await asyncio.gather(
        *(
            client.put(srv.url("/upload"), data=body, http2=True, ssl=trusting_context)
            for body in bodies
        )
    )
    for body, resp in zip(bodies, responses, strict=True):
        doc = json.loads(await resp.content())
        assert doc["sha256"] == hashlib.sha256(body).hexdigest()
    assert len(srv.state.ports) == 1


async def test_upload_never_exceeds_the_servers_window(scripted, new_client):
    """The scripted server keeps the default 65,535-byte windows and withholds
    WINDOW_UPDATE: the client sends exactly the window, then waits; once the server
    acknowledges, the rest follows. (h2 on the server raises on any overrun.)"""
    data = payload(200_000, seed=5)
    observed: dict[str, int] = {}

    async def scenario(peer):
        peer.auto_ack = False

        def received() -> int:
            return sum(len(request.body) for request in peer.requests.values())

        await peer.wait_for(lambda: received() >= 65_535)
        # A PING round trip: whatever the client sent before answering it (an overrun
        # included, if the client would) has been read and processed once the ack is in.
        peer.ping(b"window..")
        await peer.wait_for(lambda: b"window.." in peer.ping_acks)
        with pytest.raises(asyncio.TimeoutError):
            await asyncio.wait_for(peer.pump(), 0.1)
        observed["before_update"] = received()
        (request,) = peer.requests.values()
        peer.auto_ack = True
        peer.conn.acknowledge_received_data(received(), request.stream_id)
        peer.flush()
        await peer.wait_for(lambda: request.complete)
        body = bytes(request.body)
        peer.respond(request.stream_id, hashlib.sha256(body).hexdigest().encode())
        await peer.wait_eof()

    srv = await scripted(scenario)
    client = new_client()
    resp = await client.post(srv.url("/up"), data=data, http2=True)
    assert await resp.content() == hashlib.sha256(data).hexdigest().encode()
    assert observed["before_update"] == 65_535


@pytest.mark.parametrize("reader", ["content", "read_chunks"])
async def test_three_megabyte_download_is_byte_exact(hyper, new_client, trusting_context, reader):
    srv = await hyper()
    client = new_client()
    resp = await client.get(srv.url(f"/bytes/{3 * MB}"), http2=True, ssl=trusting_context)
    assert resp.http_version == "2"
    assert resp.headers["content-length"] == str(3 * MB)
    if reader == "content":
        got = await resp.content()
    else:
        chunks = [chunk async for chunk in resp.read_chunks()]
        assert len(chunks) > 1
        got = b"".join(chunks)
    expected = payload(3 * MB)
    assert got == expected, first_mismatch(got, expected)


async def test_twenty_megabyte_download_does_not_stall(hyper, new_client, trusting_context):
    srv = await hyper()
    client = new_client()
    resp = await asyncio.wait_for(
        client.get(srv.url(f"/bytes/{20 * MB}"), http2=True, ssl=trusting_context), 10
    )
    got = await asyncio.wait_for(resp.content(), 15)
    expected = payload(20 * MB)
    assert got == expected, first_mismatch(got, expected)


async def test_h2c_large_download_with_read_chunks(hyper, new_client):
    srv = await hyper(tls=False)
    client = new_client()
    resp = await client.get(srv.url(f"/bytes/{6 * MB}"), http2=True)
    assert resp.http_version == "2"
    digest = hashlib.sha256()
    size = 0
    async for chunk in resp.read_chunks():
        digest.update(chunk)
        size += len(chunk)
    assert size == 6 * MB
    assert digest.hexdigest() == hashlib.sha256(payload(6 * MB)).hexdigest()


async def _until_held_back(resp: aiosonic.HttpResponse) -> None:
    """Wait until the server has sent all the unread stream may take (the bytes buffered
    for it stop growing): from then on, only flow control decides what else can arrive."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 3
    last = -1
    while loop.time() < deadline:
        buffered = resp._buffered  # internal: only used to know when to go on
        if buffered == last and buffered > 0:
            return
        last = buffered
        await asyncio.sleep(0.15)


async def test_a_slow_reader_does_not_stall_other_streams(hyper, new_client, trusting_context):
    """A 20 MB response nobody reads yet; meanwhile other requests on the same connection
    still complete; then the big body is read in full."""
    srv = await hyper()
    client = new_client()
    big = await client.get(srv.url(f"/bytes/{20 * MB}"), http2=True, ssl=trusting_context)
    assert big.http_version == "2"
    await _until_held_back(big)

    async def small(n: int) -> bytes:
        resp = await client.get(srv.url(f"/bytes/{100_000 + n}"), http2=True, ssl=trusting_context)
        return await resp.content()

    bodies = await asyncio.wait_for(asyncio.gather(*(small(n) for n in range(5))), 2)
    for n, body in enumerate(bodies):
        assert body == payload(100_000 + n)
    assert len(srv.state.ports) == 1  # all on the big download's connection

    got = await asyncio.wait_for(big.content(), 15)
    assert got == payload(20 * MB), first_mismatch(got, payload(20 * MB))


async def test_a_slow_streaming_reader_does_not_stall_other_streams(
    hyper, new_client, trusting_context
):
    """Same, but the big body is being streamed and the reader just stops for a while."""
    srv = await hyper()
    client = new_client()
    big = await client.get(srv.url(f"/bytes/{20 * MB}"), http2=True, ssl=trusting_context)
    chunks = big.read_chunks()
    first = await chunks.__anext__()
    await _until_held_back(big)
    resp = await asyncio.wait_for(
        client.get(srv.url("/bytes/300000"), http2=True, ssl=trusting_context), 2
    )
    assert await asyncio.wait_for(resp.content(), 2) == payload(300_000)
    rest = [first]
    async for chunk in chunks:
        rest.append(chunk)
    assert b"".join(rest) == payload(20 * MB)
    assert len(srv.state.ports) == 1
