"""HTTP/2 through real proxy daemons: squid (HTTP CONNECT) and microsocks (SOCKS5).

The origin is a TLS server on 127.0.0.1 (``TLSOrigin``) that, when ALPN selects h2, writes
its HTTP/2 preface (SETTINGS and a connection WINDOW_UPDATE) in ``connection_made``, before
it reads anything. With TLS 1.2 the server's Finished is still in the TLS layer's outgoing
buffer at that moment, so Finished and SETTINGS leave in one write: the client receives
them in the same flight, typically in one read, and the SETTINGS must reach the HTTP/2
protocol even though they arrive together with the end of the TLS handshake started inside
a tunnel. The matrix per proxy:

* TLS 1.2 + h2: the case that must work (it did not: a connection's first bytes went to
  the HTTP/1.1 protocol before the HTTP/2 one took over);
* TLS 1.3 + h2 (SETTINGS in a later flight than the server's Finished): control;
* TLS 1.2 + http/1.1 (the server only speaks after the request): control.

Every request is asserted on both sides: the response (``http_version``, status, the exact
body) and what the origin saw (the TLS version and ALPN protocol of each connection, that
the connection came from the proxy's outgoing address, the SHA-256 of each upload).
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import random
import ssl
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from typing import Any

import h2.config
import h2.connection
import h2.events
import h2.exceptions
import h2.settings
import h11
import pytest
import pytest_asyncio
from support.daemons import Daemon, socks5_proxy, squid_proxy

import aiosonic

__all__ = ["socks5_proxy", "squid_proxy"]  # the daemon fixtures, used here by name

pytestmark = pytest.mark.timeout(30)

HOST = "127.0.0.1"
GETS = 50
UPLOADS = 4
UPLOAD_SIZE = 10 * 1024 * 1024
TIMEOUTS = aiosonic.Timeouts(sock_connect=5, sock_read=5, request_timeout=8)


def hello_body(index: int) -> bytes:
    """What ``GET /hello/<index>`` answers: more than one DATA frame (16 KiB) of it."""
    return b"hello %d\n" % index + random.Random(index).randbytes(20_000)


_UPLOAD: list[bytes] = []


def upload_body() -> bytes:
    if not _UPLOAD:
        _UPLOAD.append(random.Random(UPLOAD_SIZE).randbytes(UPLOAD_SIZE))
    return _UPLOAD[0]


# --------------------------------------------------------------------------------------------
# The origin: TLS, then h2 or HTTP/1.1 as ALPN decides
# --------------------------------------------------------------------------------------------


@dataclass
class Accepted:
    """One connection as the origin saw it once TLS was up."""

    tls_version: str | None
    alpn: str | None
    peer: str


@dataclass
class Upload:
    protocol: str
    length: int
    sha256: str


@dataclass
class OriginState:
    connections: list[Accepted] = field(default_factory=list)
    uploads: list[Upload] = field(default_factory=list)


def _answer(method: str, path: str, body_digest: Any, length: int,
            protocol: str, state: OriginState) -> tuple[int, bytes, str]:
    """(status, body, content type) for a complete request."""
    first, _, rest = path.strip("/").partition("/")
    if method == "GET" and first == "hello" and rest.isdigit():
        return 200, hello_body(int(rest)), "application/octet-stream"
    if method == "POST" and first == "upload":
        upload = Upload(protocol, length, body_digest.hexdigest())
        state.uploads.append(upload)
        doc = {"protocol": protocol, "length": length, "sha256": upload.sha256}
        return 200, json.dumps(doc).encode(), "application/json"
    return 404, b"not found", "text/plain"


class _H2Side:
    """The server side of HTTP/2 on one connection, driven by the ``h2`` library."""

    def __init__(self, transport: asyncio.Transport, state: OriginState) -> None:
        self.transport = transport
        self.state = state
        self.conn = h2.connection.H2Connection(
            h2.config.H2Configuration(client_side=False, header_encoding="utf-8")
        )
        self.conn.local_settings = h2.settings.Settings(
            client=False,
            initial_values={
                h2.settings.SettingCodes.MAX_CONCURRENT_STREAMS: 100,
                h2.settings.SettingCodes.INITIAL_WINDOW_SIZE: 1 << 20,
            },
        )
        self.requests: dict[int, tuple[str, str, Any, int]] = {}
        self.pending: dict[int, bytes] = {}  # response bytes waiting for flow control
        # The preface now, in connection_made, before anything is read: with TLS 1.2 it
        # goes out in the same write as the server's Finished.
        self.conn.initiate_connection()
        self.conn.increment_flow_control_window(1 << 24)
        self.flush()

    def flush(self) -> None:
        data = self.conn.data_to_send()
        if data and not self.transport.is_closing():
            self.transport.write(data)

    def receive(self, data: bytes) -> None:
        try:
            events = self.conn.receive_data(data)
        except h2.exceptions.ProtocolError:
            self.flush()
            self.transport.close()
            return
        for event in events:
            self._on(event)
        self._send_pending()
        self.flush()

    def _on(self, event: h2.events.Event) -> None:
        if isinstance(event, h2.events.RequestReceived):
            assert event.stream_id is not None and event.headers is not None
            headers = dict(event.headers)
            self.requests[event.stream_id] = (
                str(headers[":method"]), str(headers[":path"]), hashlib.sha256(), 0
            )
        elif isinstance(event, h2.events.DataReceived):
            assert event.stream_id is not None and event.data is not None
            method, path, digest, length = self.requests[event.stream_id]
            digest.update(event.data)
            self.requests[event.stream_id] = (method, path, digest, length + len(event.data))
            if event.flow_controlled_length:
                self.conn.acknowledge_received_data(event.flow_controlled_length,
                                                    event.stream_id)
        elif isinstance(event, h2.events.StreamEnded):
            assert event.stream_id is not None
            self._respond(event.stream_id)
        elif isinstance(event, h2.events.StreamReset):
            self.requests.pop(event.stream_id or 0, None)
            self.pending.pop(event.stream_id or 0, None)
        elif isinstance(event, h2.events.ConnectionTerminated):
            self.flush()
            self.transport.close()

    def _respond(self, stream_id: int) -> None:
        method, path, digest, length = self.requests.pop(stream_id)
        status, body, content_type = _answer(method, path, digest, length, "h2", self.state)
        self.conn.send_headers(
            stream_id,
            [(":status", str(status)), ("content-type", content_type),
             ("content-length", str(len(body)))],
            end_stream=not body,
        )
        if body:
            self.pending[stream_id] = body

    def _send_pending(self) -> None:
        for stream_id in list(self.pending):
            body = self.pending[stream_id]
            while body:
                window = min(self.conn.local_flow_control_window(stream_id),
                             self.conn.max_outbound_frame_size)
                if window <= 0:
                    break
                chunk, body = body[:window], body[window:]
                self.conn.send_data(stream_id, chunk, end_stream=not body)
            if body:
                self.pending[stream_id] = body
            else:
                del self.pending[stream_id]


class _H1Side:
    """The server side of HTTP/1.1 on one connection, driven by ``h11``."""

    def __init__(self, transport: asyncio.Transport, state: OriginState) -> None:
        self.transport = transport
        self.state = state
        self.conn = h11.Connection(h11.SERVER)
        self.request: tuple[str, str, Any, int] | None = None

    def receive(self, data: bytes) -> None:
        self.conn.receive_data(data)
        try:
            self._process()
        except h11.ProtocolError:
            self.transport.close()

    def _process(self) -> None:
        while True:
            event = self.conn.next_event()
            if event is h11.NEED_DATA or event is h11.PAUSED:
                return
            if isinstance(event, h11.Request):
                self.request = (event.method.decode(), event.target.decode(),
                                hashlib.sha256(), 0)
            elif isinstance(event, h11.Data):
                assert self.request is not None
                method, path, digest, length = self.request
                digest.update(event.data)
                self.request = (method, path, digest, length + len(event.data))
            elif isinstance(event, h11.EndOfMessage):
                assert self.request is not None
                method, path, digest, length = self.request
                self.request = None
                status, body, content_type = _answer(method, path, digest, length,
                                                     "http/1.1", self.state)
                out = self.conn.send(h11.Response(
                    status_code=status,
                    headers=[("content-type", content_type),
                             ("content-length", str(len(body)))],
                ))
                out += self.conn.send(h11.Data(data=body)) + self.conn.send(h11.EndOfMessage())
                self.transport.write(out)
                if self.conn.our_state is not h11.DONE:
                    self.transport.close()
                    return
                self.conn.start_next_cycle()
            elif isinstance(event, h11.ConnectionClosed):
                self.transport.close()
                return


class _OriginProtocol(asyncio.Protocol):
    def __init__(self, origin: TLSOrigin) -> None:
        self.origin = origin
        self.side: _H2Side | _H1Side | None = None
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's transports do not inherit from asyncio.Transport
        self.transport = transport  # type: ignore[assignment]
        assert self.transport is not None
        self.origin.transports.add(self.transport)
        ssl_object = transport.get_extra_info("ssl_object")
        alpn = ssl_object.selected_alpn_protocol()
        state = self.origin.state
        state.connections.append(
            Accepted(ssl_object.version(), alpn, transport.get_extra_info("peername")[0])
        )
        if alpn == "h2":
            self.side = _H2Side(self.transport, state)
        else:
            self.side = _H1Side(self.transport, state)

    def data_received(self, data: bytes) -> None:
        assert self.side is not None
        self.side.receive(data)

    def eof_received(self) -> bool:
        return False  # close

    def connection_lost(self, exc: Exception | None) -> None:
        if self.transport is not None:
            self.origin.transports.discard(self.transport)


class TLSOrigin:
    """The TLS origin on an ephemeral port of 127.0.0.1 (certificate for 127.0.0.1)."""

    def __init__(self, context: ssl.SSLContext) -> None:
        self.context = context
        self.state = OriginState()
        self.transports: set[asyncio.Transport] = set()
        self.port = 0
        self._server: asyncio.Server | None = None

    async def start(self) -> TLSOrigin:
        loop = asyncio.get_running_loop()
        self._server = await loop.create_server(
            lambda: _OriginProtocol(self), HOST, 0, ssl=self.context
        )
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    def url(self, path: str) -> str:
        return f"https://{HOST}:{self.port}{path}"

    async def close(self) -> None:
        if self._server is None:
            return
        server, self._server = self._server, None
        server.close()
        for transport in list(self.transports):
            transport.abort()
        await asyncio.wait_for(server.wait_closed(), 5)


# --------------------------------------------------------------------------------------------
# Fixtures
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Variant:
    """What the origin offers."""

    name: str
    tls: ssl.TLSVersion
    alpn: list[str]
    http_version: str  # what aiosonic must report
    tls_seen: str  # ssl_object.version() on the origin

    @property
    def alpn_seen(self) -> str:
        return self.alpn[0]


TLS12_H2 = Variant("tls1.2-h2", ssl.TLSVersion.TLSv1_2, ["h2"], "2", "TLSv1.2")
TLS13_H2 = Variant("tls1.3-h2", ssl.TLSVersion.TLSv1_3, ["h2"], "2", "TLSv1.3")
TLS12_H1 = Variant("tls1.2-http1.1", ssl.TLSVersion.TLSv1_2, ["http/1.1"], "1.1", "TLSv1.2")
VARIANTS = [TLS12_H2, TLS13_H2, TLS12_H1]
PROXIES = ["squid", "socks5"]


@pytest.fixture(scope="module")
def certificate_authority() -> Any:
    trustme = pytest.importorskip("trustme")
    return trustme.CA()


@pytest.fixture(scope="module")
def certificate(certificate_authority: Any) -> Any:
    return certificate_authority.issue_cert("127.0.0.1", "localhost")


@pytest.fixture(params=VARIANTS, ids=[variant.name for variant in VARIANTS])
def variant(request: pytest.FixtureRequest) -> Variant:
    return request.param  # type: ignore[no-any-return]


@pytest.fixture(params=PROXIES)
def proxy_daemon(request: pytest.FixtureRequest) -> Daemon:
    fixture = "squid_proxy" if request.param == "squid" else "socks5_proxy"
    return request.getfixturevalue(fixture)  # type: ignore[no-any-return]


def _proxy(daemon: Daemon) -> aiosonic.Proxy:
    if daemon.name == "squid":
        return aiosonic.Proxy(f"http://{daemon.address}")
    return aiosonic.Proxy(f"socks5://{daemon.address}")


@pytest_asyncio.fixture
async def origin(variant: Variant, certificate: Any) -> AsyncIterator[TLSOrigin]:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = variant.tls
    context.maximum_version = variant.tls
    context.set_alpn_protocols(variant.alpn)
    certificate.configure_cert(context)
    server = await TLSOrigin(context).start()
    try:
        yield server
    finally:
        await server.close()


@pytest.fixture
def trusting(certificate_authority: Any) -> Iterator[ssl.SSLContext]:
    """A client context trusting the test CA (fresh per test: aiosonic sets its ALPN)."""
    context = ssl.create_default_context()
    certificate_authority.configure_trust(context)
    yield context


def _check_connections(origin: TLSOrigin, daemon: Daemon, variant: Variant,
                       expected: int | None = None) -> None:
    seen = origin.state.connections
    if expected is not None:
        assert len(seen) == expected
    assert seen, "the origin accepted no connection"
    assert {(c.tls_version, c.alpn) for c in seen} == {(variant.tls_seen, variant.alpn_seen)}
    # every connection came through the daemon, not straight from the client
    assert {c.peer for c in seen} == {daemon.outgoing}


# --------------------------------------------------------------------------------------------
# Tests
# --------------------------------------------------------------------------------------------


async def _get(client: aiosonic.HTTPClient, origin: TLSOrigin, context: ssl.SSLContext,
               index: int) -> tuple[str, int, bytes]:
    response = await client.get(origin.url(f"/hello/{index}"), http2=True, ssl=context,
                                timeouts=TIMEOUTS)
    return response.http_version, response.status_code, await response.content()


async def test_gets_each_on_a_new_tunnel(
    proxy_daemon: Daemon, variant: Variant, origin: TLSOrigin, trusting: ssl.SSLContext
) -> None:
    """50 GETs, each on a fresh client (a new tunnel and TLS handshake): 50 succeed."""
    outcomes: list[str] = []
    for index in range(GETS):
        async with aiosonic.HTTPClient(proxy=_proxy(proxy_daemon)) as client:
            try:
                version, status, body = await _get(client, origin, trusting, index)
            except aiosonic.AiosonicError as exc:
                outcomes.append(f"{type(exc).__name__}: {exc}")
                continue
        if (version, status, body) == (variant.http_version, 200, hello_body(index)):
            outcomes.append("ok")
        else:
            outcomes.append(f"HTTP/{version} {status}, {len(body)} bytes")
    failures = [outcome for outcome in outcomes if outcome != "ok"]
    assert not failures, f"{len(failures)} of {GETS} failed; first: {failures[0]}"
    _check_connections(origin, proxy_daemon, variant, expected=GETS)


async def test_concurrent_gets_on_one_client(
    proxy_daemon: Daemon, variant: Variant, origin: TLSOrigin, trusting: ssl.SSLContext
) -> None:
    """50 GETs at once on one client: all succeed, each with its own body."""
    async with aiosonic.HTTPClient(proxy=_proxy(proxy_daemon)) as client:
        results = await asyncio.gather(
            *(_get(client, origin, trusting, index) for index in range(GETS)),
            return_exceptions=True,
        )
    errors = [result for result in results if isinstance(result, BaseException)]
    assert not errors, f"{len(errors)} of {GETS} failed; first: {errors[0]!r}"
    for index, result in enumerate(results):
        assert result == (variant.http_version, 200, hello_body(index))
    _check_connections(origin, proxy_daemon, variant)
    if variant.http_version == "2":
        assert len(origin.state.connections) <= 2  # multiplexed, not one connection each


async def test_large_uploads(
    proxy_daemon: Daemon, variant: Variant, origin: TLSOrigin, trusting: ssl.SSLContext
) -> None:
    """10 MiB uploads, each on a new tunnel: the origin receives exactly the bytes."""
    body = upload_body()
    digest = hashlib.sha256(body).hexdigest()
    protocol = variant.alpn_seen
    for attempt in range(UPLOADS):
        async with aiosonic.HTTPClient(proxy=_proxy(proxy_daemon)) as client:
            try:
                response = await client.post(origin.url("/upload"), data=body, http2=True,
                                             ssl=trusting, timeouts=TIMEOUTS)
                answer = await response.json()
            except aiosonic.AiosonicError as exc:
                pytest.fail(f"upload {attempt + 1} of {UPLOADS}: {type(exc).__name__}: {exc}")
        assert response.status_code == 200
        assert response.http_version == variant.http_version
        assert answer == {"protocol": protocol, "length": UPLOAD_SIZE, "sha256": digest}
    assert [(u.protocol, u.length, u.sha256) for u in origin.state.uploads] == [
        (protocol, UPLOAD_SIZE, digest)
    ] * UPLOADS
    _check_connections(origin, proxy_daemon, variant, expected=UPLOADS)

