"""HTTPS against a local CA, requests through an HTTP proxy, and multipart uploads."""

from __future__ import annotations

import asyncio
import base64
import io
import ssl

import pytest
import pytest_asyncio
from servers import AppServer, loads, payload, read_request, refused_port, simple_response

import aiosonic
from aiosonic.exceptions import ConnectError
from aiosonic.multipart import MultipartForm
from aiosonic.proxy import Proxy

trustme = pytest.importorskip("trustme")


# ------------------------------------------------------------------------------- TLS


@pytest.fixture(scope="module")
def certificate_authority():
    return trustme.CA()


@pytest_asyncio.fixture
async def tls_server(certificate_authority):
    server_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    certificate_authority.issue_cert("127.0.0.1").configure_cert(server_context)
    srv = await AppServer(ssl_context=server_context).start()
    try:
        yield srv
    finally:
        await srv.close()


@pytest.fixture
def trusting_context(certificate_authority):
    context = ssl.create_default_context()
    certificate_authority.configure_trust(context)
    return context


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


async def test_https_unknown_ca_is_refused_by_default(tls_server, client):
    with pytest.raises(ConnectError):
        await asyncio.wait_for(client.get(tls_server.url("/echo")), timeout=5)


async def test_https_verify_false_per_request(tls_server, client):
    resp = await client.get(tls_server.url("/echo"), verify=False)
    assert resp.status_code == 200
    assert loads(await resp.content())["method"] == "GET"


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


class RecordingProxy:
    """A minimal HTTP proxy that answers by itself and records what it was asked.

    It accepts both ways of proxying plain HTTP: an absolute-form request line
    (``GET http://host/path HTTP/1.1``) or a ``CONNECT`` tunnel followed by the request.
    """

    def __init__(self) -> None:
        self.seen: list[tuple[str, str, str | None, str | None]] = []

    async def handler(self, reader, writer) -> None:
        tunnel_target = None
        auth = None
        while True:
            request = await read_request(reader)
            if request is None:
                return
            if request.method == "CONNECT":
                tunnel_target = request.target
                auth = request.header("Proxy-Authorization")
                writer.write(b"HTTP/1.1 200 Connection established\r\n\r\n")
                await writer.drain()
                continue
            if tunnel_target is None:
                auth = request.header("Proxy-Authorization")
            self.seen.append((request.method, request.target, tunnel_target, auth))
            host = request.header("Host") or ""
            writer.write(simple_response(f"proxied {request.target} for {host}".encode()))
            await writer.drain()


async def test_http_request_goes_through_the_proxy(raw_server):
    proxy = RecordingProxy()
    proxy_server = await raw_server(handler=proxy.handler)
    unreachable = refused_port()  # the origin itself is not reachable directly
    try:
        origin_port = unreachable.getsockname()[1]
        origin = f"http://127.0.0.1:{origin_port}"
        async with aiosonic.HTTPClient(proxy=Proxy(f"http://127.0.0.1:{proxy_server.port}")) as c:
            resp = await c.get(origin + "/path?q=1")
            assert resp.status_code == 200
            body = await resp.content()
    finally:
        unreachable.close()
    assert body.endswith(f"for 127.0.0.1:{origin_port}".encode())
    assert len(proxy.seen) == 1
    method, target, tunnel, auth = proxy.seen[0]
    assert method == "GET"
    if tunnel is None:
        assert target == origin + "/path?q=1"
    else:
        assert tunnel == f"127.0.0.1:{origin_port}"
        assert target == "/path?q=1"
    assert auth is None


async def test_proxy_authorization_is_sent(raw_server):
    proxy = RecordingProxy()
    proxy_server = await raw_server(handler=proxy.handler)
    unreachable = refused_port()
    try:
        origin = f"http://127.0.0.1:{unreachable.getsockname()[1]}"
        settings = Proxy(f"http://127.0.0.1:{proxy_server.port}", auth="user:s3cret")
        async with aiosonic.HTTPClient(proxy=settings) as c:
            resp = await c.get(origin + "/x")
            await resp.content()
    finally:
        unreachable.close()
    assert len(proxy.seen) == 1
    expected = "Basic " + base64.b64encode(b"user:s3cret").decode("ascii")
    assert proxy.seen[0][3] == expected


# ------------------------------------------------------------------------------- multipart


async def test_multipart_form_with_field_and_file(server, client, tmp_path):
    file_bytes = payload(100_000, seed=11)
    path = tmp_path / "data.bin"
    path.write_bytes(file_bytes)
    form = MultipartForm()
    form.add_field("field1", "value1")
    form.add_file("file1", str(path))
    form.add_field("memory", io.BytesIO(b"in-memory content"), filename="mem.txt")
    resp = await client.post(server.url("/multipart"), data=form)
    assert resp.status_code == 200
    doc = loads(await resp.content())
    assert doc["content_type"].startswith("multipart/form-data; boundary=")
    parts = {part["name"]: part for part in doc["parts"]}
    assert list(parts) == ["field1", "file1", "memory"]
    assert base64.b64decode(parts["field1"]["data_b64"]) == b"value1"
    assert parts["field1"]["filename"] is None
    assert parts["file1"]["filename"] == "data.bin"
    assert base64.b64decode(parts["file1"]["data_b64"]) == file_bytes
    assert parts["memory"]["filename"] == "mem.txt"
    assert base64.b64decode(parts["memory"]["data_b64"]) == b"in-memory content"


async def test_multipart_flag_with_a_dict(server, client):
    resp = await client.post(server.url("/multipart"), data={"a": "1", "b": "two"}, multipart=True)
    doc = loads(await resp.content())
    assert doc["content_type"].startswith("multipart/form-data")
    assert [(p["name"], base64.b64decode(p["data_b64"])) for p in doc["parts"]] == [
        ("a", b"1"),
        ("b", b"two"),
    ]
