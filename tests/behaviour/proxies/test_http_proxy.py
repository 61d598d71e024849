"""Requests through an HTTP proxy: a real proxy.py process (absolute-form for http, CONNECT
tunnels for https, Basic authentication) and scripted raw-socket proxies for exact wire
checks and refusals.

Note on proxy.py: after the first request on a client connection it forwards every later
request on that connection to the first request's upstream, unparsed for routing (its
"pipeline" handling). Plain-http tests through it therefore use ``conn_max_requests=1`` so each
request gets its own proxy connection; keep-alive behaviour towards a proxy is checked with
the scripted proxy instead.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import socket
from typing import Any

import pytest
from support.app import echo_body, header_one, header_values, loads
from support.raw import RawRequest, read_request, refused_port, simple_response

import aiosonic
from aiosonic.exceptions import AiosonicError, ConnectError, InvalidRequest, ProxyError, TLSError
from aiosonic.proxy import Proxy

BASIC = "Basic " + base64.b64encode(b"user:pass").decode("ascii")


class NoDNS:
    """A resolver that refuses every name and counts the attempts: a request that still
    succeeds to a named origin was resolved and connected by the proxy, not by the client."""

    def __init__(self) -> None:
        self.calls: list[str] = []

    async def resolve(self, host: str, port: int = 0, family: int = socket.AF_INET) -> list[Any]:
        self.calls.append(host)
        raise OSError(f"{host} must not be resolved by the client")

    async def close(self) -> None:
        pass


def through(new_client, proxy, *, auth: str | None = None, one_request_per_connection=True,
            resolver: Any = None, **kwargs: Any) -> aiosonic.HTTPClient:
    connector: dict[str, Any] = {}
    if one_request_per_connection:
        connector["conn_max_requests"] = 1
    if resolver is not None:
        connector["resolver"] = resolver
    address = proxy if isinstance(proxy, str) else proxy.address
    return new_client(connector=connector, proxy=aiosonic.Proxy(address, auth=auth), **kwargs)


# --------------------------------------------------------------------------- plain http


async def test_http_goes_through_the_proxy_with_credentials(server, new_client, proxy_auth):
    no_dns = NoDNS()
    http = through(new_client, proxy_auth, auth="user:pass", resolver=no_dns)
    resp = await http.get(server.url("/echo/path?q=1&r=%20", host="localhost"),
                          headers={"X-Custom": "passed"})
    assert resp.status_code == 200
    doc = loads(await resp.content())
    assert (doc["path"], doc["query"]) == ("/echo/path", "q=1&r=%20")
    assert header_one(doc, "Host") == f"localhost:{server.port}"
    assert header_one(doc, "X-Custom") == "passed"
    assert header_values(doc, "Proxy-Authorization") == []
    assert "proxy.py" in (header_one(doc, "Via") or "")
    assert no_dns.calls == []  # the proxy resolved localhost, the client did not


async def test_http_post_body_through_the_proxy(server, new_client, proxy_auth):
    http = through(new_client, proxy_auth, auth="user:pass")
    body = bytes(range(256)) * 400
    for _ in range(3):
        resp = await http.post(server.url("/echo/upload"), data=body)
        doc = loads(await resp.content())
        assert echo_body(doc) == body
        assert header_values(doc, "Proxy-Authorization") == []
    assert len(server.seen) == 3


@pytest.mark.parametrize("auth", ["user:wrong", "nobody:pass", None])
async def test_http_with_bad_credentials_gets_the_407(server, new_client, proxy_auth, auth):
    http = through(new_client, proxy_auth, auth=auth)
    resp = await http.get(server.url("/echo"))
    assert resp.status_code == 407
    assert "Basic" in resp.headers.get("Proxy-Authenticate", "")
    await resp.content()
    assert server.seen == []


async def test_proxy_credentials_from_the_proxy_url(server, new_client, proxy_auth):
    proxy = aiosonic.Proxy(f"http://user:pass@127.0.0.1:{proxy_auth.port}")
    http = new_client(connector={"conn_max_requests": 1}, proxy=proxy)
    resp = await http.get(server.url("/echo"))
    assert resp.status_code == 200
    assert header_values(loads(await resp.content()), "Proxy-Authorization") == []


async def test_proxy_address_without_a_scheme(server, new_client, proxy_auth):
    proxy = aiosonic.Proxy(f"127.0.0.1:{proxy_auth.port}", auth="user:pass")
    http = new_client(connector={"conn_max_requests": 1}, proxy=proxy)
    resp = await http.get(server.url("/echo"))
    assert resp.status_code == 200
    await resp.content()


async def test_http_follows_redirects_through_the_proxy(server, server2, new_client, proxy_auth):
    http = through(new_client, proxy_auth, auth="user:pass")
    target = server2.url("/echo/landed")
    resp = await http.get(server.url(f"/redirect?to={target}"), follow=True)
    doc = loads(await resp.content())
    assert doc["path"] == "/echo/landed"
    assert header_values(doc, "Proxy-Authorization") == []
    assert [s.path for s in server.seen] == ["/redirect"]


# --------------------------------------------------------------------------- https tunnels


@pytest.mark.parametrize("host", ["localhost", "127.0.0.1"])
async def test_https_goes_through_a_connect_tunnel(tls_web, new_client, proxy_auth,
                                                   trusting_context, host):
    srv = await tls_web("127.0.0.1", "localhost")
    no_dns = NoDNS()
    http = through(new_client, proxy_auth, auth="user:pass", resolver=no_dns,
                   one_request_per_connection=False)
    for index in range(3):
        resp = await http.post(srv.url(f"/echo/{index}", host=host), data=b"secret body",
                               ssl=trusting_context)
        assert resp.status_code == 200
        doc = loads(await resp.content())
        assert doc["path"] == f"/echo/{index}"
        assert echo_body(doc) == b"secret body"
        assert header_one(doc, "Host") == f"{host}:{srv.port}"
        assert header_values(doc, "Proxy-Authorization") == []
        assert header_values(doc, "Via") == []  # the proxy cannot see inside the tunnel
    # TLS was with the origin (SNI for its name, one handshake for the three requests)
    assert srv.sni == (["localhost"] if host == "localhost" else [None])
    assert no_dns.calls == []
    assert len({s.peer_port for s in srv.seen}) == 1


@pytest.mark.parametrize("auth", ["user:wrong", None])
async def test_https_with_bad_credentials_raises_proxy_error(tls_web, new_client, proxy_auth,
                                                             trusting_context, auth):
    srv = await tls_web("127.0.0.1")
    http = through(new_client, proxy_auth, auth=auth)
    with pytest.raises(ProxyError) as excinfo:
        await http.get(srv.url("/echo"), ssl=trusting_context)
    assert excinfo.value.status_code == 407
    assert isinstance(excinfo.value, ConnectError)
    assert "407" in str(excinfo.value)
    assert srv.seen == []


async def test_origin_certificate_is_verified_through_the_tunnel(tls_web, new_client,
                                                                 proxy_open, trusting_context):
    wrong_name = await tls_web("other.example")
    http = through(new_client, proxy_open, one_request_per_connection=False)
    with pytest.raises(TLSError) as excinfo:
        await http.get(wrong_name.url("/echo", host="localhost"), ssl=trusting_context)
    assert "mismatch" in str(excinfo.value).lower() or "hostname" in str(excinfo.value).lower()
    untrusted = await tls_web("localhost")
    with pytest.raises(TLSError):
        await http.get(untrusted.url("/echo", host="localhost"))  # default trust store
    assert wrong_name.seen == [] and untrusted.seen == []
    resp = await http.get(untrusted.url("/echo", host="localhost"), verify=False)
    assert resp.status_code == 200
    await resp.content()


async def test_tunnels_are_reused_per_origin_only(tls_web, new_client, proxy_auth,
                                                  trusting_context):
    first = await tls_web("localhost")
    second = await tls_web("localhost")
    http = through(new_client, proxy_auth, auth="user:pass", one_request_per_connection=False)
    order = [first, first, second, first, second, second]
    for srv in order:
        resp = await http.get(srv.url("/echo", host="localhost"), ssl=trusting_context)
        doc = loads(await resp.content())
        assert header_one(doc, "Host") == f"localhost:{srv.port}"
    assert len(first.seen) == 3
    assert len(second.seen) == 3
    # each origin was reached over one tunnel (one proxy-side connection, one handshake)
    assert len({s.peer_port for s in first.seen}) == 1
    assert len({s.peer_port for s in second.seen}) == 1
    assert first.sni == ["localhost"]
    assert second.sni == ["localhost"]


async def test_unreachable_proxy_is_a_connect_error(server, new_client):
    closed = refused_port()
    try:
        http = through(new_client, f"http://127.0.0.1:{closed.getsockname()[1]}")
        with pytest.raises(ConnectError):
            await http.get(server.url("/echo"))
    finally:
        closed.close()
    assert server.seen == []


# --------------------------------------------------------------------------- scripted proxies


class ScriptedProxy:
    """Reads one request per connection and answers ``reply``; for a 2xx answer to CONNECT
    it then pipes bytes between the client and the requested authority. ``reply=None``
    closes without answering. Plain requests get a short 200 naming their target."""

    def __init__(self, reply: bytes | None = b"HTTP/1.1 200 Connection established\r\n\r\n"):
        self.reply = reply
        self.requests: list[RawRequest] = []

    async def handler(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while True:
            request = await read_request(reader)
            if request is None:
                return
            self.requests.append(request)
            if request.method != "CONNECT":
                writer.write(simple_response(f"{request.target}|{request.header('Host')}"
                                             .encode()))
                await writer.drain()
                continue
            if self.reply is None:
                return
            writer.write(self.reply)
            await writer.drain()
            if not self.reply.startswith(b"HTTP/1.1 2"):
                return
            await self._pipe_to(request.target, reader, writer)
            return

    @staticmethod
    async def _pipe_to(authority: str, reader: asyncio.StreamReader,
                       writer: asyncio.StreamWriter) -> None:
        host, _, port = authority.rpartition(":")
        up_reader, up_writer = await asyncio.open_connection(host.strip("[]"), int(port))

        async def copy(src: asyncio.StreamReader, dst: asyncio.StreamWriter) -> None:
            while data := await src.read(65536):
                dst.write(data)
                await dst.drain()

        tasks = [asyncio.ensure_future(copy(reader, up_writer)),
                 asyncio.ensure_future(copy(up_reader, writer))]
        try:
            await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            up_writer.close()
            with contextlib.suppress(Exception):
                await up_writer.wait_closed()


@pytest.mark.parametrize(
    ("reply", "status"),
    [
        (b"HTTP/1.1 403 Forbidden\r\nContent-Length: 9\r\n\r\nforbidden", 403),
        (b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n", 502),
        (b"HTTP/1.1 407 Proxy Authentication Required\r\n"
         b"Proxy-Authenticate: Basic\r\nContent-Length: 0\r\n\r\n", 407),
    ],
)
async def test_tunnel_refusals_raise_proxy_error(raw_server, tls_web, new_client,
                                                 trusting_context, reply, status):
    origin = await tls_web("127.0.0.1")
    script = ScriptedProxy(reply)
    proxy = await raw_server(handler=script.handler)
    http = through(new_client, proxy.url("/").rstrip("/"), auth="user:pass")
    with pytest.raises(ProxyError) as excinfo:
        await http.get(origin.url("/echo"), ssl=trusting_context)
    assert excinfo.value.status_code == status
    assert str(status) in str(excinfo.value)
    assert origin.seen == []
    assert [r.method for r in script.requests] == ["CONNECT"]


async def test_proxy_closing_instead_of_answering_connect(raw_server, tls_web, new_client,
                                                          trusting_context):
    origin = await tls_web("127.0.0.1")
    script = ScriptedProxy(reply=None)
    proxy = await raw_server(handler=script.handler)
    http = through(new_client, proxy.url("/").rstrip("/"))
    with pytest.raises(AiosonicError) as excinfo:
        await asyncio.wait_for(http.get(origin.url("/echo"), ssl=trusting_context), 10)
    assert isinstance(excinfo.value, ConnectionError)
    assert origin.seen == []


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost"])
async def test_connect_request_on_the_wire(raw_server, tls_web, new_client, trusting_context,
                                           host):
    origin = await tls_web("127.0.0.1", "localhost")
    script = ScriptedProxy()
    proxy = await raw_server(handler=script.handler)
    http = through(new_client, proxy.url("/").rstrip("/"), auth="user:pass",
                   one_request_per_connection=False)
    for _ in range(2):
        resp = await http.get(origin.url("/echo", host=host), ssl=trusting_context)
        doc = loads(await resp.content())
        assert header_values(doc, "Proxy-Authorization") == []
    (connect,) = script.requests  # one tunnel for both requests
    authority = f"{host}:{origin.port}"
    assert (connect.method, connect.target, connect.version) == ("CONNECT", authority,
                                                                   "HTTP/1.1")
    assert connect.header("Host") == authority
    assert connect.header("Proxy-Authorization") == BASIC


async def test_keep_alive_proxy_connections_are_per_origin_in_absolute_form(raw_server,
                                                                            new_client):
    # One kept-alive proxy connection per origin: never a connection that carried one
    # origin's requests reused for another (proxies may bind it to the first origin).
    script = ScriptedProxy()
    proxy = await raw_server(handler=script.handler)
    http = through(new_client, proxy.url("/").rstrip("/"), auth="user:pass",
                   one_request_per_connection=False)
    targets = ["http://127.0.0.1:1/a?x=1", "http://localhost:2/b", "http://127.0.0.1:1/c"]
    for target in targets:
        resp = await http.get(target)
        host = target.split("/")[2]
        assert await resp.content() == f"{target}|{host}".encode()
    assert [r.target for r in script.requests] == targets
    assert [r.header("Proxy-Authorization") for r in script.requests] == [BASIC] * 3
    assert proxy.connections == 2  # 127.0.0.1:1 twice on one connection, localhost:2 apart


# --------------------------------------------------------------------------- the value object


def test_proxy_rejects_unsupported_schemes():
    with pytest.raises(InvalidRequest):
        aiosonic.Proxy("https://127.0.0.1:3128")
    with pytest.raises(ValueError):
        aiosonic.Proxy("socks6://127.0.0.1:1080")
    assert aiosonic.Proxy("socks5://127.0.0.1:1080").socks is not None


def test_proxy_repr_hides_the_password():
    text = repr(aiosonic.Proxy("http://127.0.0.1:3128", auth="user:s3cret-pw"))
    assert "s3cret-pw" not in text
    assert "127.0.0.1:3128" in text


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
