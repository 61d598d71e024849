"""aiosonic against real web servers: nginx, apache2 and caddy (``support.web_daemons``), each
in cleartext HTTP/1.1, and over TLS with HTTP/1.1 and with HTTP/2 (ALPN).

Each case checks what the client got (status, protocol, exact bytes or SHA-256) and what
the server did: its access log (which client port, so which connection, carried each
request, with which protocol) and, for request bodies, what the checksum backend behind
the server's reverse proxy received.
"""

from __future__ import annotations

import asyncio
import hashlib
import random
import ssl
import uuid
from dataclasses import dataclass
from typing import Any

import pytest
from support import tcp_states
from support.waits import eventually
from support.web_daemons import (
    IDLE_TIMEOUT,
    LARGE_SIZE,
    SMALL_BODY,
    ChecksumBackend,
    Hit,
    WebServer,
    large_body,
)

import aiosonic

from .conftest import SERVERS, TIMEOUTS, Daemons, start_server, used


@dataclass(frozen=True)
class Mode:
    """How the client talks to the server."""

    name: str
    tls: bool
    http2: bool

    @property
    def http_version(self) -> str:  # what aiosonic reports
        return "2" if self.http2 else "1.1"

    @property
    def logged(self) -> str:  # what the servers log
        return "HTTP/2.0" if self.http2 else "HTTP/1.1"


MODES = [
    Mode("http1.1", False, False),
    Mode("https-http1.1", True, False),
    Mode("https-h2", True, True),
]


@pytest.fixture(params=MODES, ids=[mode.name for mode in MODES])
def mode(request: pytest.FixtureRequest) -> Mode:
    return request.param  # type: ignore[no-any-return]


@dataclass
class Session:
    """One test's view of a server: the URLs it asks for, tagged so that the access log
    lines of this test (and only these) can be picked out."""

    server: WebServer
    mode: Mode
    context: ssl.SSLContext
    tag: str

    def url(self, path: str) -> str:
        separator = "&" if "?" in path else "?"
        return self.server.url(f"{path}{separator}t={self.tag}", self.mode.tls)

    def kwargs(self) -> dict[str, Any]:
        if not self.mode.tls:
            return {}
        return {"ssl": self.context, "http2": self.mode.http2}

    def client(self, pool_size: int = 4) -> aiosonic.HTTPClient:
        return aiosonic.HTTPClient(aiosonic.TCPConnector(
            pool_size=pool_size, timeouts=TIMEOUTS, conn_max_requests=10_000
        ))

    async def get(self, client: aiosonic.HTTPClient, path: str,
                  **kwargs: Any) -> aiosonic.HttpResponse:
        return await client.get(self.url(path), **self.kwargs(), **kwargs)

    async def hits(self, count: int) -> list[Hit]:
        """This test's access log lines, once there are ``count`` of them (a server writes
        the line after it sent the response)."""
        await eventually(lambda: len(self.server.hits(self.tag)) >= count, timeout=5)
        hits = self.server.hits(self.tag)
        assert len(hits) == count, hits
        return hits


@pytest.fixture
def session(web_server: WebServer, mode: Mode, trusting_context: ssl.SSLContext) -> Session:
    return Session(web_server, mode, trusting_context, uuid.uuid4().hex)


def check(response: aiosonic.HttpResponse, mode: Mode) -> None:
    assert (response.status_code, response.http_version) == (200, mode.http_version)


# --------------------------------------------------------------------------------------------
# Requests and bodies
# --------------------------------------------------------------------------------------------


@pytest.mark.timeout(30)
async def test_get_a_static_file(session: Session) -> None:
    """GET of a small static file: the exact bytes, its length and type, five times."""
    async with session.client() as client:
        for _ in range(5):
            response = await session.get(client, "/static/small.txt")
            check(response, session.mode)
            assert await response.content() == SMALL_BODY
            assert response.headers["content-length"] == str(len(SMALL_BODY))
            assert response.headers["content-type"].startswith("text/plain")
    hits = await session.hits(5)
    assert {(hit.method, hit.status, hit.protocol) for hit in hits} == {
        ("GET", 200, session.mode.logged)
    }


@pytest.mark.timeout(30)
async def test_post_bodies(session: Session, backend: ChecksumBackend) -> None:
    """A small POST echoed back byte for byte, and 4 MiB checked by SHA-256, both through
    the server's reverse proxy to the backend."""
    small = "ünïcödé form=1&x=" + "y" * 3000
    big = random.Random(10).randbytes(4 * 1024 * 1024)
    async with session.client() as client:
        response = await client.post(session.url("/backend/echo"), data=small.encode(),
                                     **session.kwargs())
        check(response, session.mode)
        answer = await response.json()
        assert answer["body"].encode("latin-1") == small.encode()
        response = await client.post(session.url("/backend/big"), data=big,
                                     **session.kwargs())
        check(response, session.mode)
        answer = await response.json()
        assert (answer["length"], answer["sha256"]) == (len(big), hashlib.sha256(big).hexdigest())
    received = [(r.method, r.path.split("?")[0], r.length, r.sha256)
                for r in backend.received("/backend/") if session.tag in r.path]
    assert received == [
        ("POST", "/backend/echo", len(small.encode()), hashlib.sha256(small.encode()).hexdigest()),
        ("POST", "/backend/big", len(big), hashlib.sha256(big).hexdigest()),
    ]
    hits = await session.hits(2)
    assert [(hit.method, hit.status, hit.protocol) for hit in hits] == [
        ("POST", 200, session.mode.logged)
    ] * 2


@pytest.mark.timeout(30)
async def test_stream_a_large_file(session: Session) -> None:
    """An 8 MiB static file read with ``read_chunks()``: many chunks, and their bytes are
    the file's (SHA-256); then the connection serves the next request."""
    expected = hashlib.sha256(large_body()).hexdigest()
    async with session.client(pool_size=1) as client:
        response = await session.get(client, "/static/large.bin")
        check(response, session.mode)
        assert response.headers["content-length"] == str(LARGE_SIZE)
        digest = hashlib.sha256()
        chunks = size = 0
        async for chunk in response.read_chunks():
            digest.update(chunk)
            chunks += 1
            size += len(chunk)
        assert (size, digest.hexdigest()) == (LARGE_SIZE, expected)
        assert chunks > 8, "streamed in pieces, not read whole"
        response = await session.get(client, "/static/small.txt")
        assert await response.content() == SMALL_BODY
    hits = await session.hits(2)
    assert len({hit.client_port for hit in hits}) == 1  # the same connection


# --------------------------------------------------------------------------------------------
# Connections: keep-alive, and the server closing idle ones
# --------------------------------------------------------------------------------------------


@pytest.mark.timeout(30)
async def test_keep_alive_reuses_connections(session: Session) -> None:
    """200 GETs by 4 workers on a pool of 4: at most 4 connections (1 for HTTP/2, which
    multiplexes), as the server's access log shows by client port."""
    async with session.client(pool_size=4) as client:

        async def worker() -> list[bytes]:
            bodies = []
            for _ in range(50):
                response = await session.get(client, "/static/small.txt")
                check(response, session.mode)
                bodies.append(await response.content())
            return bodies

        results = await asyncio.gather(*(worker() for _ in range(4)))
    assert [body for bodies in results for body in bodies] == [SMALL_BODY] * 200
    hits = await session.hits(200)
    ports = {hit.client_port for hit in hits}
    if session.mode.http2:
        assert len(ports) == 1, ports
    else:
        assert 1 <= len(ports) <= 4, ports


async def idle_until_closed(session: Session) -> list[str]:
    """Wait until the server has closed our idle connection: our end of it leaves
    ESTABLISHED when the server's FIN arrives (bounded: a few times its idle timeout)."""
    port = session.server.https_port if session.mode.tls else session.server.http_port
    assert tcp_states.states_to(port) == [tcp_states.ESTABLISHED], "one idle connection"
    states = await tcp_states.wait_none_established(port, timeout=IDLE_TIMEOUT * 5)
    assert tcp_states.ESTABLISHED not in states, f"the server kept it open: {states}"
    return states


@pytest.mark.timeout(30)
async def test_idle_close(session: Session) -> None:
    """The server closes a keep-alive connection after ``IDLE_TIMEOUT`` idle (over HTTP/2:
    GOAWAY, then close); the next request, once it has, succeeds on a new connection."""
    if not tcp_states.available():
        pytest.skip("needs /proc to see the server close the connection")
    async with session.client(pool_size=1) as client:
        for _ in range(2):
            response = await session.get(client, "/static/small.txt")
            check(response, session.mode)
            assert await response.content() == SMALL_BODY
        await idle_until_closed(session)
        response = await session.get(client, "/static/small.txt")
        check(response, session.mode)
        assert await response.content() == SMALL_BODY
    hits = await session.hits(3)
    first, second, third = (hit.client_port for hit in hits)
    assert first == second != third  # reused while open, a new one after the close


@pytest.mark.timeout(30)
@pytest.mark.parametrize("web_server", ["apache"], indirect=True)
@pytest.mark.parametrize("mode", [mode for mode in MODES if not mode.http2], indirect=True,
                         ids=[mode.name for mode in MODES if not mode.http2])
async def test_idle_close_announced(session: Session) -> None:
    """apache answers ``Connection: keep-alive`` with ``Keep-Alive: timeout=1``: the client
    knows when the server will close; after the close the next request succeeds."""
    if not tcp_states.available():
        pytest.skip("needs /proc to see the server close the connection")
    async with session.client(pool_size=1) as client:
        response = await session.get(client, "/static/small.txt",
                                     headers={"Connection": "keep-alive"})
        check(response, session.mode)
        assert await response.content() == SMALL_BODY
        # MaxKeepAliveRequests 0 (no limit): no "max=" part
        assert response.headers["keep-alive"] == f"timeout={IDLE_TIMEOUT}"
        await idle_until_closed(session)
        response = await session.get(client, "/static/small.txt",
                                     headers={"Connection": "keep-alive"})
        check(response, session.mode)
        assert await response.content() == SMALL_BODY
    hits = await session.hits(2)
    assert hits[0].client_port != hits[1].client_port


# Idle times around the server's timeout. Here time passing is the subject: the request
# goes out just before, at, or just after the moment the server closes the connection,
# which is the race a client must survive (a GET on a connection the server is closing is
# sent again on a new one).
RACE_IDLES = (0.9, 0.97, 1.0, 1.03, 1.1)
RACE_MODES = [MODES[0], MODES[2]]


async def race_the_idle_close(session: Session) -> list[str]:
    """A GET after idling for each of ``RACE_IDLES`` seconds; what became of each."""
    outcomes: list[str] = []
    async with session.client(pool_size=1) as client:
        response = await session.get(client, "/static/small.txt")
        assert await response.content() == SMALL_BODY
        for idle in RACE_IDLES:
            await asyncio.sleep(idle)  # time passing is the subject (see RACE_IDLES)
            what = f"{session.server.name} {session.mode.name} after {idle} s"
            try:
                response = await session.get(client, "/static/small.txt")
                body = await response.content()
            except aiosonic.AiosonicError as exc:
                outcomes.append(f"{what}: {type(exc).__name__}: {exc}")
                continue
            ok = (response.status_code, body) == (200, SMALL_BODY)
            outcomes.append("ok" if ok else f"{what}: {response.status_code}")
    hits = await session.hits(1 + len(RACE_IDLES))
    assert {hit.status for hit in hits} == {200}
    return outcomes


@pytest.mark.timeout(60)
async def test_requests_racing_the_idle_close(
    request: pytest.FixtureRequest, daemons: Daemons, server_certificate: Any,
    backend: ChecksumBackend, trusting_context: ssl.SSLContext,
) -> None:
    """On every server, in cleartext HTTP/1.1 and over HTTP/2: GETs after idling around the
    server's 1 s timeout all succeed. The servers and modes race at the same time (each on
    a client of its own), so the whole takes the time of one."""
    sessions = []
    for name in SERVERS:
        server = start_server(daemons, name, server_certificate, backend)
        used(request, server.daemon)
        for mode in RACE_MODES:
            sessions.append(Session(server, mode, trusting_context, uuid.uuid4().hex))
    results = await asyncio.gather(*(race_the_idle_close(s) for s in sessions))
    failures = [outcome for outcomes in results for outcome in outcomes if outcome != "ok"]
    assert not failures, failures


# --------------------------------------------------------------------------------------------
# Nagle's algorithm
# --------------------------------------------------------------------------------------------

# A connection that keeps Nagle's algorithm on makes the last DATA frame of each HTTP/2
# flow-control window wait for the server's delayed ACK (against apache's mod_http2, a
# 10 MiB h2 POST took 2-7 s instead of 0.1 s before the dialer set TCP_NODELAY itself).


@pytest.mark.timeout(30)
@pytest.mark.parametrize("mode", RACE_MODES, indirect=True, ids=[m.name for m in RACE_MODES])
async def test_connections_disable_nagle(session: Session) -> None:
    """The connection aiosonic opened to the server has TCP_NODELAY set (as read from the
    kernel on a duplicate of its descriptor): small writes (a request head, the last DATA
    frame of a flow-control window) go out at once instead of waiting for an ACK."""
    if not tcp_states.available():
        pytest.skip("needs /proc to find the connection's socket")
    port = session.server.https_port if session.mode.tls else session.server.http_port
    async with session.client(pool_size=1) as client:
        response = await session.get(client, "/static/small.txt")
        check(response, session.mode)
        assert await response.content() == SMALL_BODY
        assert tcp_states.nodelay_to(port) == [True]
