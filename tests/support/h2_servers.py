"""Loopback servers for the HTTP/2 tests.

* ``HyperServer``: hypercorn serving ``H2App`` (an ASGI application written for these tests)
  over TLS (ALPN h2 and/or http/1.1, trustme certificate) or in cleartext (HTTP/1.1 and h2c
  with prior knowledge). The application records what it sees per request, including the
  client's port, so tests assert on server-observed connections.
* ``ScriptedH2Server``: ``asyncio.start_server`` (optionally TLS with ALPN h2) where every
  accepted connection runs a test's scenario against an ``H2Peer``: the server side of the
  ``h2`` state machine plus helpers, so a test decides frame by frame what the client gets.

* ``H2cServer``: hypercorn speaking HTTP/1.1 and h2c (prior knowledge) with a small ASGI
  application of its own (status codes, a flaky endpoint, payloads, a redirect).
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import gzip
import hashlib
import json
import logging
import socket
import ssl
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

import h2.config
import h2.connection
import h2.events
import h2.settings
from hypercorn.asyncio import serve
from hypercorn.config import Config
from hyperframe.frame import GoAwayFrame

from .app import HOST, payload
from .asgi import Receive, Send, run_lifespan

__all__ = [
    "H2App",
    "H2Peer",
    "HyperServer",
    "ScriptedH2Server",
    "ScriptedRequest",
    "Seen",
    "gzip_text",
]

# --------------------------------------------------------------------------------------------
# The ASGI application
# --------------------------------------------------------------------------------------------


GZIP_SOURCE = b"".join(b"h2 gzip line %05d: pack my box with five dozen jugs\n" % i
                       for i in range(2000))


def gzip_text() -> bytes:
    """The plain text that ``/gzip`` serves gzip-encoded."""
    return GZIP_SOURCE


@dataclass
class Seen:
    """One request as the application saw it."""

    method: str
    path: str
    query: str
    http_version: str
    port: int


@dataclass
class AppState:
    """What the application observed; read by the tests."""

    seen: list[Seen] = field(default_factory=list)
    in_flight: dict[int, int] = field(default_factory=dict)  # per client port
    max_in_flight: dict[int, int] = field(default_factory=dict)  # per client port
    total_in_flight: int = 0
    max_total_in_flight: int = 0
    disconnects: int = 0  # /stall requests that ended because the client went away
    stall_entered: asyncio.Event = field(default_factory=asyncio.Event)
    stopping: asyncio.Event = field(default_factory=asyncio.Event)

    @property
    def ports(self) -> set[int]:
        """Client ports of every request: one per connection the server served."""
        return {seen.port for seen in self.seen}

    def ports_for(self, path: str) -> list[int]:
        return [seen.port for seen in self.seen if seen.path == path]

    def enter(self, port: int) -> None:
        count = self.in_flight[port] = self.in_flight.get(port, 0) + 1
        self.max_in_flight[port] = max(self.max_in_flight.get(port, 0), count)
        self.total_in_flight += 1
        self.max_total_in_flight = max(self.max_total_in_flight, self.total_in_flight)

    def leave(self, port: int) -> None:
        self.in_flight[port] -= 1
        self.total_in_flight -= 1


async def _read_body(receive: Receive) -> bytes:
    parts = []
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            break
        parts.append(message.get("body", b""))
        if not message.get("more_body", False):
            break
    return b"".join(parts)


async def _respond(
    send: Send,
    body: bytes = b"",
    status: int = 200,
    headers: Iterable[tuple[bytes, bytes]] = (),
    content_type: bytes = b"text/plain",
) -> None:
    all_headers = [
        (b"content-type", content_type),
        (b"content-length", str(len(body)).encode("ascii")),
        *headers,
    ]
    await send({"type": "http.response.start", "status": status, "headers": all_headers})
    await send({"type": "http.response.body", "body": body})


async def _respond_json(send: Send, doc: Any) -> None:
    await _respond(send, json.dumps(doc).encode("utf-8"), content_type=b"application/json")


class H2App:
    """An ASGI application with the endpoints the HTTP/2 tests need.

    ``/echo``            method, path, query, headers and body (base64) as JSON
    ``/upload``          sha256 and length of the request body (streamed)
    ``/bytes/<n>``       ``payload(n)`` sent in 64 KiB pieces
    ``/slow?delay=s``    answers after ``s`` seconds; counts requests in flight per connection
    ``/stall``           never answers (until the client goes away or the server stops)
    ``/stall-body``      sends the head and 1000 bytes, then stalls
    ``/gzip``            ``gzip_text()`` with Content-Encoding: gzip
    ``/headers``         repeated and mixed-case-looking response headers
    ``/cookies``         two Set-Cookie headers
    ``/redirect/<n>``    302 to ``/redirect/<n-1>``, at 0 to ``/echo?from=redirect``
    ``/status/<code>``   an empty response with that status
    """

    def __init__(self, state: AppState) -> None:
        self.state = state

    async def __call__(self, scope: dict[str, Any], receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await run_lifespan(receive, send)
            return
        if scope["type"] != "http":
            return
        port = int(scope["client"][1])
        path: str = scope["path"]
        query = scope["query_string"].decode("latin-1")
        self.state.seen.append(Seen(scope["method"], path, query, scope["http_version"], port))
        first, _, rest = path.strip("/").partition("/")
        handler = getattr(self, "_" + first.replace("-", "_"), None)
        if handler is None:
            await _respond(send, b"not found", status=404)
            return
        await handler(scope, receive, send, port, rest, dict(parse_qsl(query)))

    async def _echo(
        self, scope: dict[str, Any], receive: Receive, send: Send, port: int, rest: str,
        query: dict[str, str],
    ) -> None:
        body = await _read_body(receive)
        await _respond_json(
            send,
            {
                "method": scope["method"],
                "path": scope["path"],
                "query": scope["query_string"].decode("latin-1"),
                "http_version": scope["http_version"],
                "port": port,
                "headers": [
                    [name.decode("latin-1"), value.decode("latin-1")]
                    for name, value in scope["headers"]
                ],
                "body_b64": base64.b64encode(body).decode("ascii"),
            },
        )

    async def _upload(
        self, scope: dict[str, Any], receive: Receive, send: Send, port: int, rest: str,
        query: dict[str, str],
    ) -> None:
        digest = hashlib.sha256()
        length = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            piece = message.get("body", b"")
            digest.update(piece)
            length += len(piece)
            if not message.get("more_body", False):
                break
        await _respond_json(send, {"sha256": digest.hexdigest(), "length": length,
                                   "port": port, "http_version": scope["http_version"]})

    async def _bytes(
        self, scope: dict[str, Any], receive: Receive, send: Send, port: int, rest: str,
        query: dict[str, str],
    ) -> None:
        size = int(rest)
        data = payload(size)
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [
                    (b"content-type", b"application/octet-stream"),
                    (b"content-length", str(size).encode("ascii")),
                ],
            }
        )
        piece = 64 * 1024
        for start in range(0, size, piece):
            await send(
                {"type": "http.response.body", "body": data[start : start + piece],
                 "more_body": True}
            )
        await send({"type": "http.response.body", "body": b""})

    async def _slow(
        self, scope: dict[str, Any], receive: Receive, send: Send, port: int, rest: str,
        query: dict[str, str],
    ) -> None:
        delay = float(query.get("delay", "0.5"))
        self.state.enter(port)
        try:
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self.state.stopping.wait(), delay)
        finally:
            self.state.leave(port)
        await _respond_json(send, {"port": port, "query": query})

    async def _until_gone(self, receive: Receive, limit: float = 20.0) -> None:
        """Wait until the client goes away (or the server stops, or ``limit`` passes)."""

        async def disconnected() -> None:
            while (await receive())["type"] != "http.disconnect":
                pass
            self.state.disconnects += 1

        gone = asyncio.ensure_future(disconnected())
        stop = asyncio.ensure_future(self.state.stopping.wait())
        try:
            await asyncio.wait({gone, stop}, timeout=limit,
                               return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in (gone, stop):
                task.cancel()
            await asyncio.gather(gone, stop, return_exceptions=True)

    async def _stall(
        self, scope: dict[str, Any], receive: Receive, send: Send, port: int, rest: str,
        query: dict[str, str],
    ) -> None:
        await _read_body(receive)
        self.state.stall_entered.set()
        await self._until_gone(receive)

    async def _stall_body(
        self, scope: dict[str, Any], receive: Receive, send: Send, port: int, rest: str,
        query: dict[str, str],
    ) -> None:
        await _read_body(receive)
        await send(
            {"type": "http.response.start", "status": 200,
             "headers": [(b"content-length", b"100000")]}
        )
        await send({"type": "http.response.body", "body": b"x" * 1000, "more_body": True})
        self.state.stall_entered.set()
        await self._until_gone(receive)

    async def _gzip(
        self, scope: dict[str, Any], receive: Receive, send: Send, port: int, rest: str,
        query: dict[str, str],
    ) -> None:
        await _respond(send, gzip.compress(GZIP_SOURCE), headers=[(b"content-encoding", b"gzip")],
                       content_type=b"text/plain; charset=utf-8")

    async def _headers(
        self, scope: dict[str, Any], receive: Receive, send: Send, port: int, rest: str,
        query: dict[str, str],
    ) -> None:
        await _respond(
            send,
            b"headers",
            headers=[
                (b"x-multi", b"one"),
                (b"x-multi", b"two"),
                (b"x-custom", b"Some Value; with=params"),
                (b"x-utf8", "caf\u00e9 \u2713".encode()),
            ],
        )

    async def _cookies(
        self, scope: dict[str, Any], receive: Receive, send: Send, port: int, rest: str,
        query: dict[str, str],
    ) -> None:
        await _respond(
            send,
            b"cookies",
            headers=[
                (b"set-cookie", b"session=abc123; Path=/; HttpOnly"),
                (b"set-cookie", b"theme=dark; Path=/"),
            ],
        )

    async def _redirect(
        self, scope: dict[str, Any], receive: Receive, send: Send, port: int, rest: str,
        query: dict[str, str],
    ) -> None:
        left = int(rest)
        target = b"/echo?from=redirect" if left <= 0 else b"/redirect/%d" % (left - 1)
        await _respond(send, b"", status=302, headers=[(b"location", target)])

    async def _status(
        self, scope: dict[str, Any], receive: Receive, send: Send, port: int, rest: str,
        query: dict[str, str],
    ) -> None:
        await _respond(send, b"", status=int(rest))


# --------------------------------------------------------------------------------------------
# hypercorn
# --------------------------------------------------------------------------------------------


class HyperServer:
    """hypercorn serving ``H2App`` on an ephemeral loopback port.

    With ``certfile``/``keyfile`` it speaks TLS and selects among ``alpn`` (default h2 then
    http/1.1); without, it speaks HTTP/1.1 and h2c with prior knowledge.
    """

    def __init__(
        self,
        *,
        certfile: str | None = None,
        keyfile: str | None = None,
        alpn: list[str] | None = None,
        max_streams: int | None = None,
    ) -> None:
        self.state = AppState()
        self.tls = certfile is not None
        config = Config()
        config.certfile = certfile
        config.keyfile = keyfile
        if alpn is not None:
            config.alpn_protocols = alpn
        if max_streams is not None:
            config.h2_max_concurrent_streams = max_streams
        config.graceful_timeout = 1.0
        config.accesslog = None
        config.errorlog = logging.getLogger("h2tests.hypercorn")
        self.config = config
        self.port = 0
        self._stop = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> HyperServer:
        # Bind and listen here so the port is known and connections queue from now on;
        # hypercorn takes the descriptor over (and closes it when it stops).
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((HOST, 0))
        sock.listen(128)
        self.port = sock.getsockname()[1]
        self.config.bind = [f"fd://{sock.detach()}"]
        self._task = asyncio.create_task(
            serve(H2App(self.state), self.config, shutdown_trigger=self._stop.wait)  # type: ignore[arg-type]
        )
        for _ in range(5):
            await asyncio.sleep(0)
        if self._task.done():
            self._task.result()  # raises what made it stop
        return self

    def url(self, path: str = "/") -> str:
        return f"{'https' if self.tls else 'http'}://{HOST}:{self.port}{path}"

    async def close(self) -> None:
        if self._task is None:
            return
        self.state.stopping.set()
        self._stop.set()
        task, self._task = self._task, None
        await asyncio.wait_for(task, 10)


# --------------------------------------------------------------------------------------------
# Scripted h2 server
# --------------------------------------------------------------------------------------------


@dataclass
class ScriptedRequest:
    """A request stream as the scripted server received it."""

    stream_id: int
    headers: list[tuple[bytes, bytes]]
    body: bytearray = field(default_factory=bytearray)
    complete: bool = False
    answered: bool = False

    def header(self, name: bytes) -> bytes | None:
        for key, value in self.headers:
            if key == name:
                return value
        return None

    @property
    def path(self) -> str:
        return (self.header(b":path") or b"").decode("latin-1")

    @property
    def method(self) -> str:
        return (self.header(b":method") or b"").decode("latin-1")


class H2Peer:
    """One connection accepted by ``ScriptedH2Server``, seen from the server's side."""

    def __init__(
        self,
        index: int,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        settings: dict[int, int] | None,
    ) -> None:
        self.index = index
        self.reader = reader
        self.writer = writer
        config = h2.config.H2Configuration(client_side=False, header_encoding=None)
        self.conn = h2.connection.H2Connection(config=config)
        if settings:
            self.conn.local_settings = h2.settings.Settings(client=False, initial_values=settings)
        self.requests: dict[int, ScriptedRequest] = {}
        self.client_settings: dict[int, int] = {}
        self.ping_acks: list[bytes] = []
        self.client_resets: dict[int, int] = {}
        self.events: list[h2.events.Event] = []
        self.auto_ack = True
        self.max_open = 0  # most request streams open (received, not answered) at once
        self.eof = False

    # -- reading ------------------------------------------------------------------------

    def start(self, update: dict[int, int] | None = None) -> None:
        """Send the server preface (SETTINGS); ``update`` is announced in a second SETTINGS
        frame, so it takes effect once the client acknowledges it (RFC 9113, 6.5.3)."""
        self.conn.initiate_connection()
        if update:
            self.conn.update_settings(update)
        self.flush()

    async def pump(self) -> list[h2.events.Event]:
        """Read once from the client and process what arrived; [] at EOF."""
        data = await self.reader.read(65536)
        if not data:
            self.eof = True
            return []
        events = self.conn.receive_data(data)
        for event in events:
            self._note(event)
        self.flush()
        return events

    def _note(self, event: h2.events.Event) -> None:
        self.events.append(event)
        if isinstance(event, h2.events.RequestReceived):
            assert event.stream_id is not None and event.headers is not None
            self.requests[event.stream_id] = ScriptedRequest(event.stream_id,
                                                             list(event.headers))
            self.max_open = max(self.max_open, self.open_count())
        elif isinstance(event, h2.events.DataReceived):
            assert event.stream_id is not None and event.data is not None
            self.requests[event.stream_id].body += event.data
            if self.auto_ack and event.flow_controlled_length:
                self.conn.acknowledge_received_data(event.flow_controlled_length,
                                                    event.stream_id)
        elif isinstance(event, h2.events.StreamEnded):
            request = self.requests.get(event.stream_id or 0)
            if request is not None:
                request.complete = True
        elif isinstance(event, h2.events.RemoteSettingsChanged):
            for code, change in event.changed_settings.items():
                self.client_settings[int(code)] = change.new_value
        elif isinstance(event, h2.events.PingAckReceived):
            assert event.ping_data is not None
            self.ping_acks.append(event.ping_data)
        elif isinstance(event, h2.events.StreamReset):
            assert event.stream_id is not None
            self.client_resets[event.stream_id] = int(event.error_code or 0)
            request = self.requests.get(event.stream_id)
            if request is not None:
                request.answered = True

    def open_count(self) -> int:
        return sum(1 for request in self.requests.values() if not request.answered)

    async def wait_for(self, check: Callable[[], bool], timeout: float = 5.0) -> None:
        """Keep reading from the client until ``check()`` holds (polled between reads)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while not check():
            if self.eof:
                raise ConnectionError("the client closed the connection")
            if loop.time() >= deadline:
                raise TimeoutError("scripted server: condition not met in time")
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self.pump(), 0.05)

    async def wait_eof(self, timeout: float = 10.0) -> None:
        """Keep reading (and acknowledging) until the client closes the connection."""
        with contextlib.suppress(ConnectionError):
            await self.wait_for(lambda: self.eof, timeout)

    def complete(self) -> list[ScriptedRequest]:
        return [request for request in self.requests.values() if request.complete]

    def by_path(self, path: str) -> ScriptedRequest | None:
        for request in self.requests.values():
            if request.path == path:
                return request
        return None

    # -- writing ------------------------------------------------------------------------

    def flush(self) -> None:
        data = self.conn.data_to_send()
        if data and not self.writer.transport.is_closing():
            self.writer.write(data)

    def write_raw(self, data: bytes) -> None:
        self.flush()
        self.writer.write(data)

    def respond(
        self,
        stream_id: int,
        body: bytes = b"",
        status: int = 200,
        headers: Iterable[tuple[bytes, bytes]] = (),
        end: bool = True,
    ) -> None:
        """Send a response head and (part of) a body; ``end=False`` leaves it open."""
        head = [(b":status", str(status).encode("ascii")),
                (b"content-length", str(len(body)).encode("ascii")), *headers]
        if not end:
            head = [pair for pair in head if pair[0] != b"content-length"]
        self.conn.send_headers(stream_id, head, end_stream=end and not body)
        if body:
            self.conn.send_data(stream_id, body, end_stream=end)
        if end:
            self.requests[stream_id].answered = True
        self.flush()

    def reset(self, stream_id: int, error_code: int) -> None:
        self.conn.reset_stream(stream_id, error_code)
        self.requests[stream_id].answered = True
        self.flush()

    def goaway(self, last_stream_id: int, error_code: int = 0) -> None:
        """A GOAWAY written as a raw frame: h2's own ``close_connection`` would stop this
        side from answering the streams at or below ``last_stream_id`` afterwards."""
        frame = GoAwayFrame(0)
        frame.last_stream_id = last_stream_id
        frame.error_code = error_code
        self.write_raw(frame.serialize())

    def ping(self, opaque: bytes) -> None:
        self.conn.ping(opaque)
        self.flush()

    async def serve(
        self,
        answer: Callable[[H2Peer, ScriptedRequest], None] | None = None,
        timeout: float = 20.0,
    ) -> None:
        """Answer every complete request (by default 200 with ``"<path> on <index>"``) until
        the client closes the connection."""

        def default(peer: H2Peer, request: ScriptedRequest) -> None:
            peer.respond(request.stream_id, f"{request.path} on {peer.index}".encode())

        reply = answer or default
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while not self.eof and loop.time() < deadline:
            for request in list(self.requests.values()):
                if request.complete and not request.answered:
                    reply(self, request)
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self.pump(), 0.05)


Scenario = Callable[[H2Peer], Awaitable[None]]


class ScriptedH2Server:
    """Runs ``scenario(peer)`` for every accepted connection (index 0, 1, ...), then closes it.

    With ``handshake`` (default) the server preface is sent before the scenario starts.
    ``settings`` are in force from the first byte (as hypercorn does), ``settings_update``
    only once the client acknowledges them.
    Exceptions a scenario raises (other than the client going away) are kept in ``errors``.
    """

    def __init__(
        self,
        scenario: Scenario,
        *,
        ssl_context: ssl.SSLContext | None = None,
        settings: dict[int, int] | None = None,
        settings_update: dict[int, int] | None = None,
        handshake: bool = True,
    ) -> None:
        self.scenario = scenario
        self.ssl_context = ssl_context
        self.settings = settings
        self.settings_update = settings_update
        self.handshake = handshake
        self.peers: list[H2Peer] = []
        self.errors: list[BaseException] = []
        self.port = 0
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[Any]] = set()

    async def start(self) -> ScriptedH2Server:
        self._server = await asyncio.start_server(self._on_client, HOST, 0, ssl=self.ssl_context)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    def url(self, path: str = "/") -> str:
        scheme = "https" if self.ssl_context is not None else "http"
        return f"{scheme}://{HOST}:{self.port}{path}"

    async def _on_client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        peer = H2Peer(len(self.peers), reader, writer, self.settings)
        self.peers.append(peer)
        try:
            if self.handshake:
                peer.start(self.settings_update)
            await self.scenario(peer)
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        except Exception as exc:
            self.errors.append(exc)
        finally:
            self._tasks.discard(task)
            writer.close()
            try:
                await asyncio.wait_for(writer.wait_closed(), 2)
            except (Exception, asyncio.CancelledError):
                writer.transport.abort()

    async def close(self) -> None:
        if self._server is None:
            return
        self._server.close()
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await self._server.wait_closed()
        self._server = None


class H2cServer:
    """hypercorn speaking HTTP/1.1 and cleartext HTTP/2 (prior knowledge) on loopback, with
    a small ASGI application:

    * ``/status/{code}``: that status (``/flaky``: 503 on its first ``failures`` calls, then
      200 "recovered");
    * ``/bytes/{n}``: ``payload(n)`` with a Content-Length;
    * ``/redirect``: 302 to ``/bytes/10``;
    * anything else: the body received, echoed back.

    ``protocols`` records the HTTP version of every request it served.
    """

    def __init__(self, failures: int = 1) -> None:
        from hypercorn.config import Config

        self.failures = failures
        self.protocols: list[str] = []
        self.port = 0
        config = Config()
        config.graceful_timeout = 0.5
        config.accesslog = None
        config.errorlog = logging.getLogger("support.h2c")
        self._config = config
        self._stop = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def url(self, path: str = "/") -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    async def _app(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            while True:
                message = await receive()
                kind = message["type"].rsplit(".", 1)[-1]
                await send({"type": f"{message['type']}.complete"})
                if kind == "shutdown":
                    return
        self.protocols.append(scope["http_version"])
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        path: str = scope["path"]
        code, headers, answer = 200, [], body
        if path.startswith("/status/"):
            code, answer = int(path.rsplit("/", 1)[1]), b""
        elif path == "/flaky":
            self.failures -= 1
            code, answer = (503, b"busy") if self.failures >= 0 else (200, b"recovered")
        elif path.startswith("/bytes/"):
            answer = payload(int(path.rsplit("/", 1)[1]))
        elif path == "/redirect":
            code, answer = 302, b""
            headers.append((b"location", b"/bytes/10"))
        headers.append((b"content-length", str(len(answer)).encode()))
        await send({"type": "http.response.start", "status": code, "headers": headers})
        await send({"type": "http.response.body", "body": answer})

    async def start(self) -> H2cServer:
        from hypercorn.asyncio import serve

        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.bind(("127.0.0.1", 0))
        sock.listen(64)
        self.port = sock.getsockname()[1]
        self._config.bind = [f"fd://{sock.detach()}"]
        self._task = asyncio.create_task(
            serve(self._app, self._config, shutdown_trigger=self._stop.wait)  # type: ignore[arg-type]
        )
        for _ in range(5):
            await asyncio.sleep(0)
        if self._task.done():
            self._task.result()
        return self

    async def close(self) -> None:
        if self._task is not None:
            self._stop.set()
            task, self._task = self._task, None
            await asyncio.wait_for(task, 10)
