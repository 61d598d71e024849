"""Real servers on 127.0.0.1 for the integration tests.

Two kinds:

* ``AppServer``: an in-process aiohttp application (``build_app``) for ordinary behaviour:
  an echo endpoint, large bodies, compression, cookies, slow replies, etc.
* ``RawServer``: an ``asyncio.start_server`` server driven by a scripted handler that writes
  exact bytes, for edge cases (truncated bodies, no framing, interim responses, garbage).

Every server listens on an ephemeral port of the loopback interface only, and ``close()``
releases every socket and task it created so no resource warning escapes.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import gzip
import hashlib
import json
import random
import select
import socket
import zlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from aiohttp import web

HOST = "127.0.0.1"

# --------------------------------------------------------------------------------------------
# Deterministic payloads
# --------------------------------------------------------------------------------------------

_PAYLOADS: dict[tuple[int, int], bytes] = {}


def payload(size: int, seed: int = 0) -> bytes:
    """``size`` pseudo-random bytes, the same for the same arguments (cached)."""
    key = (size, seed)
    data = _PAYLOADS.get(key)
    if data is None:
        data = random.Random(seed * 1_000_003 + size).randbytes(size)
        _PAYLOADS[key] = data
    return data


def text_payload(size: int) -> bytes:
    """Compressible ASCII text of exactly ``size`` bytes."""
    line = b"".join(
        b"line %06d: the quick brown fox jumps over the lazy dog\n" % i
        for i in range(size // 40 + 2)
    )
    return line[:size]


# Bodies for text() decoding, with the Content-Type the server sends for each.
TEXTS: dict[str, tuple[str, str, str]] = {
    # name: (text, encoding used on the wire, Content-Type header)
    "latin1": (
        "Café au lait, naïve façade, señor, garçon, ÿ and ß; only latin-1 here: ±½¼¾",
        "latin-1",
        "text/plain; charset=iso-8859-1",
    ),
    "cp1252": (
        "\u201cSmart quotes\u201d cost 5 \u20ac \u2014 \u2018really\u2019 \u2026 "
        "œuvre, Šibenik, Žilina™",
        "cp1252",
        'text/html; charset="windows-1252"',
    ),
    "utf8-charset": (
        "Grüße aus Köln — ✓ ünïcödé, 日本語のテキスト, Ελληνικά, русский текст.",
        "utf-8",
        "text/plain; charset=utf-8",
    ),
    "utf8-nocharset": (
        "Grüße aus Köln! Das Wetter ist schön, die Straßen sind voll. "
        "日本語のテキストもあります。Ελληνικά κείμενα και русский текст тоже. "
        "Zürich, Malmö, Óbuda, Łódź — ✓ ✓ ✓. " * 4,
        "utf-8",
        "text/plain",
    ),
}

JSON_DOC = {
    "name": "aiosonic",
    "numbers": [1, 2, 3.5, -7],
    "nested": {"ok": True, "none": None, "unicode": "ünïcödé ✓"},
    "price": 10.25,
}


# --------------------------------------------------------------------------------------------
# aiohttp application
# --------------------------------------------------------------------------------------------


@dataclass
class AppState:
    """Counters the application updates, read by the tests."""

    in_flight: int = 0
    max_in_flight: int = 0
    slow_started: int = 0
    slow_finished: int = 0
    requests: int = 0
    ports: list[int] = field(default_factory=list)
    slow_entered: asyncio.Event = field(default_factory=asyncio.Event)

    async def wait_slow_started(self, timeout: float = 5) -> None:
        """Wait until a ``/slow`` request is being handled."""
        await asyncio.wait_for(self.slow_entered.wait(), timeout)


def _peer_port(request: web.Request) -> int:
    transport = request.transport
    assert transport is not None
    return int(transport.get_extra_info("peername")[1])


def build_app(state: AppState) -> web.Application:
    app = web.Application(client_max_size=64 * 1024 * 1024)

    @web.middleware
    async def count(request: web.Request, handler: Callable[..., Awaitable[web.StreamResponse]]):
        state.requests += 1
        state.ports.append(_peer_port(request))
        return await handler(request)

    app.middlewares.append(count)

    async def echo(request: web.Request) -> web.StreamResponse:
        body = await request.read()
        return web.json_response(
            {
                "method": request.method,
                "path": request.path,
                "raw_path": request.raw_path,
                "query": request.raw_path.partition("?")[2],
                "headers": [
                    [k.decode("latin-1"), v.decode("latin-1")] for k, v in request.raw_headers
                ],
                "body_b64": base64.b64encode(body).decode("ascii"),
                "body_len": len(body),
                "chunked": request.headers.get("Transfer-Encoding"),
                "port": _peer_port(request),
            }
        )

    async def fixed_bytes(request: web.Request) -> web.StreamResponse:
        size = int(request.match_info["n"])
        return web.Response(body=payload(size), content_type="application/octet-stream")

    async def stream(request: web.Request) -> web.StreamResponse:
        size = int(request.match_info["n"])
        piece = int(request.query.get("piece", "65536"))
        data = payload(size)
        resp = web.StreamResponse()
        resp.content_type = "application/octet-stream"
        resp.enable_chunked_encoding()
        await resp.prepare(request)
        for start in range(0, size, piece):
            await resp.write(data[start : start + piece])
        await resp.write_eof()
        return resp

    async def compressed(request: web.Request) -> web.StreamResponse:
        kind = request.match_info["kind"]
        size = int(request.query.get("n", "20000"))
        raw = text_payload(size)
        if kind == "gzip":
            body, encoding = gzip.compress(raw), "gzip"
        elif kind == "deflate":
            body, encoding = zlib.compress(raw), "deflate"
        elif kind == "bad-gzip":
            good = gzip.compress(raw)
            body, encoding = good[:10] + b"\x00this is not deflate data" + good[30:], "gzip"
        else:
            raise web.HTTPNotFound()
        if request.query.get("chunked"):
            resp = web.StreamResponse(headers={"Content-Encoding": encoding})
            resp.content_type = "text/plain"
            resp.enable_chunked_encoding()
            await resp.prepare(request)
            for start in range(0, len(body), 1000):
                await resp.write(body[start : start + 1000])
            await resp.write_eof()
            return resp
        return web.Response(
            body=body, content_type="text/plain", headers={"Content-Encoding": encoding}
        )

    async def text(request: web.Request) -> web.StreamResponse:
        name = request.match_info["name"]
        content, encoding, content_type = TEXTS[name]
        return web.Response(body=content.encode(encoding), headers={"Content-Type": content_type})

    async def json_doc(request: web.Request) -> web.StreamResponse:
        return web.json_response(JSON_DOC)

    async def cookies(request: web.Request) -> web.StreamResponse:
        resp = web.Response(text="cookies")
        resp.set_cookie("session", "abc123", path="/", httponly=True)
        resp.set_cookie("theme", "dark")
        return resp

    async def status(request: web.Request) -> web.StreamResponse:
        code = int(request.match_info["code"])
        headers = {"X-Port": str(_peer_port(request))}
        if code == 304:
            headers["ETag"] = '"v1"'
        return web.Response(status=code, headers=headers)

    async def slow(request: web.Request) -> web.StreamResponse:
        delay = float(request.query.get("delay", "0.2"))
        state.slow_started += 1
        state.slow_entered.set()
        state.in_flight += 1
        state.max_in_flight = max(state.max_in_flight, state.in_flight)
        try:
            await asyncio.sleep(delay)
        finally:
            state.in_flight -= 1
        state.slow_finished += 1
        return web.json_response(
            {"port": _peer_port(request), "query": request.raw_path.partition("?")[2]}
        )

    async def close(request: web.Request) -> web.StreamResponse:
        resp = web.json_response({"port": _peer_port(request)})
        resp.force_close()
        return resp

    async def upload(request: web.Request) -> web.StreamResponse:
        digest = hashlib.sha256()
        length = 0
        async for piece in request.content.iter_any():
            digest.update(piece)
            length += len(piece)
        return web.json_response(
            {
                "sha256": digest.hexdigest(),
                "length": length,
                "chunked": request.headers.get("Transfer-Encoding"),
                "content_length": request.headers.get("Content-Length"),
            }
        )

    async def redirect(request: web.Request) -> web.StreamResponse:
        left = int(request.match_info["n"])
        target = "/echo?from=redirect" if left <= 0 else f"/redirect/{left - 1}"
        raise web.HTTPFound(target)

    async def loop(request: web.Request) -> web.StreamResponse:
        raise web.HTTPFound("/loop")

    async def see_other(request: web.Request) -> web.StreamResponse:
        await request.read()
        raise web.HTTPSeeOther("/echo?from=303")

    async def temporary(request: web.Request) -> web.StreamResponse:
        await request.read()
        raise web.HTTPTemporaryRedirect("/echo?from=307")

    async def absolute(request: web.Request) -> web.StreamResponse:
        target = request.query["to"]
        raise web.HTTPFound(target)

    async def set_cookie(request: web.Request) -> web.StreamResponse:
        resp = web.Response(text="set")
        resp.set_cookie("sid", "xyz789", path="/")
        return resp

    async def multipart(request: web.Request) -> web.StreamResponse:
        reader = await request.multipart()
        parts = []
        async for part in reader:
            data = await part.read()  # type: ignore[union-attr]
            parts.append(
                {
                    "name": part.name,  # type: ignore[union-attr]
                    "filename": part.filename,  # type: ignore[union-attr]
                    "data_b64": base64.b64encode(bytes(data)).decode("ascii"),
                }
            )
        return web.json_response(
            {"content_type": request.headers.get("Content-Type", ""), "parts": parts}
        )

    app.router.add_route("*", "/echo", echo)
    app.router.add_route("*", "/echo/{tail:.*}", echo)
    app.router.add_get("/bytes/{n}", fixed_bytes)
    app.router.add_get("/stream/{n}", stream)
    app.router.add_get("/compressed/{kind}", compressed)
    app.router.add_get("/text/{name}", text)
    app.router.add_get("/json", json_doc)
    app.router.add_get("/cookies", cookies)
    app.router.add_route("*", "/status/{code}", status)
    app.router.add_get("/slow", slow)
    app.router.add_get("/close", close)
    app.router.add_post("/upload", upload)
    app.router.add_put("/upload", upload)
    app.router.add_get("/redirect/{n}", redirect)
    app.router.add_get("/loop", loop)
    app.router.add_route("*", "/see-other", see_other)
    app.router.add_route("*", "/temporary", temporary)
    app.router.add_get("/absolute-redirect", absolute)
    app.router.add_get("/set-cookie", set_cookie)
    app.router.add_post("/multipart", multipart)
    return app


class AppServer:
    """The aiohttp application on an ephemeral loopback port."""

    def __init__(self, ssl_context: object | None = None) -> None:
        self.state = AppState()
        self._ssl_context = ssl_context
        self._runner: web.AppRunner | None = None
        self.port = 0

    @property
    def scheme(self) -> str:
        return "https" if self._ssl_context is not None else "http"

    async def start(self) -> AppServer:
        self._runner = web.AppRunner(
            build_app(self.state),
            access_log=None,
            handler_cancellation=True,
            shutdown_timeout=0.5,
        )
        await self._runner.setup()
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((HOST, 0))
        self.port = sock.getsockname()[1]
        site = web.SockSite(self._runner, sock, ssl_context=self._ssl_context)  # type: ignore[arg-type]
        await site.start()
        return self

    def url(self, path: str = "/") -> str:
        return f"{self.scheme}://{HOST}:{self.port}{path}"

    async def close(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None


# --------------------------------------------------------------------------------------------
# Raw scripted servers
# --------------------------------------------------------------------------------------------


@dataclass
class RawRequest:
    method: str
    target: str
    version: str
    headers: list[tuple[str, str]]
    body: bytes
    head: bytes

    def header(self, name: str) -> str | None:
        for key, value in self.headers:
            if key.lower() == name.lower():
                return value
        return None


async def read_request(reader: asyncio.StreamReader) -> RawRequest | None:
    """Read one HTTP/1.1 request (head and body). ``None`` on a clean EOF before a request."""
    try:
        head = await reader.readuntil(b"\r\n\r\n")
    except asyncio.IncompleteReadError as exc:
        if not exc.partial:
            return None
        raise
    lines = head[:-4].decode("latin-1").split("\r\n")
    method, target, version = lines[0].split(" ", 2)
    headers: list[tuple[str, str]] = []
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers.append((name.strip(), value.strip()))
    request = RawRequest(method, target, version, headers, b"", head)
    length = request.header("Content-Length")
    if "chunked" in (request.header("Transfer-Encoding") or "").lower():
        body = bytearray()
        while True:
            size_line = await reader.readuntil(b"\r\n")
            size = int(size_line.split(b";", 1)[0].strip(), 16)
            if size == 0:
                # trailers until the empty line
                while (await reader.readuntil(b"\r\n")) != b"\r\n":
                    pass
                break
            body += await reader.readexactly(size)
            await reader.readexactly(2)
        request.body = bytes(body)
    elif length is not None:
        request.body = await reader.readexactly(int(length))
    return request


def simple_response(
    body: bytes = b"",
    status: str = "200 OK",
    headers: list[tuple[str, str]] | None = None,
    content_length: bool = True,
) -> bytes:
    lines = [f"HTTP/1.1 {status}"]
    for name, value in headers or []:
        lines.append(f"{name}: {value}")
    if content_length:
        lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]
Responder = Callable[[RawRequest], Awaitable[bytes | None]]


class RawServer:
    """``asyncio.start_server`` on an ephemeral port with a scripted per-connection handler.

    Give either ``handler(reader, writer)`` (full control), or ``respond(request)``: a
    keep-alive loop reads each request (recorded in ``requests``) and writes the bytes
    ``respond`` returns; ``None`` closes the connection. ``connections`` counts accepted
    connections. ``close()`` cancels handlers still running and closes every socket.
    """

    def __init__(
        self,
        handler: Handler | None = None,
        respond: Responder | None = None,
        host: str = HOST,
    ) -> None:
        if (handler is None) == (respond is None):
            raise ValueError("give exactly one of handler and respond")
        self.host = host
        self._handler = handler
        self._respond = respond
        self._tasks: set[asyncio.Task[None]] = set()
        self._server: asyncio.Server | None = None
        self.connections = 0
        self.requests: list[RawRequest] = []
        self.port = 0

    async def start(self) -> RawServer:
        self._server = await asyncio.start_server(self._on_client, self.host, 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    @property
    def netloc(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{host}:{self.port}"

    def url(self, path: str = "/") -> str:
        return f"http://{self.netloc}{path}"

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        assert self._respond is not None
        while True:
            request = await read_request(reader)
            if request is None:
                return
            self.requests.append(request)
            reply = await self._respond(request)
            if reply is None:
                return
            writer.write(reply)
            await writer.drain()

    async def _on_client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        try:
            if self._handler is not None:
                await self._handler(reader, writer)
            else:
                await self._serve(reader, writer)
        except (ConnectionError, asyncio.IncompleteReadError, asyncio.LimitOverrunError):
            pass
        finally:
            self._tasks.discard(task)
            writer.close()
            with contextlib.suppress(Exception, asyncio.CancelledError):
                await writer.wait_closed()

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


# --------------------------------------------------------------------------------------------
# A listener whose accept backlog is full (for connect timeouts)
# --------------------------------------------------------------------------------------------


class FullBacklogListener:
    """A listening socket that is never accepted from, with its backlog filled.

    New connection attempts to it stall in SYN-SENT (Linux drops the SYN while the accept
    queue is full), which is how a connect timeout is provoked without leaving loopback.
    """

    def __init__(self) -> None:
        self.listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.listener.bind((HOST, 0))
        self.listener.listen(0)
        self.port = self.listener.getsockname()[1]
        self._fillers: list[socket.socket] = []

    def fill(self, attempts: int = 32) -> bool:
        """Connect until an attempt stalls. True when the backlog is full."""
        address = (HOST, self.port)
        for _ in range(attempts):
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            sock.setblocking(False)
            self._fillers.append(sock)
            sock.connect_ex(address)
            _, writable, _ = select.select([], [sock], [], 0.25)
            if not writable:
                return True
        return False

    def url(self, path: str = "/") -> str:
        return f"http://{HOST}:{self.port}{path}"

    def close(self) -> None:
        for sock in self._fillers:
            sock.close()
        self._fillers.clear()
        self.listener.close()


def refused_port() -> socket.socket:
    """A socket bound to a loopback port but not listening: connecting to it is refused.

    The caller keeps it open (so no one else takes the port) and closes it afterwards.
    """
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind((HOST, 0))
    return sock


def loads(data: bytes) -> dict:
    return json.loads(data)  # type: ignore[no-any-return]


def header_values(echo_doc: dict, name: str) -> list[str]:
    """Values of header ``name`` (case-insensitive) as the echo endpoint received them."""
    return [value for key, value in echo_doc["headers"] if key.lower() == name.lower()]


def header_names(echo_doc: dict) -> list[str]:
    """Lower-cased header names, in the order the echo endpoint received them."""
    return [key.lower() for key, _ in echo_doc["headers"]]


def echo_body(echo_doc: dict) -> bytes:
    return base64.b64decode(echo_doc["body_b64"])


def first_mismatch(got: bytes, expected: bytes) -> str:
    """A short description of how two byte strings differ ("" when they are equal)."""
    if got == expected:
        return ""
    for index, (a, b) in enumerate(zip(got, expected, strict=False)):
        if a != b:
            return f"first difference at byte {index} (len got={len(got)}, want={len(expected)})"
    return f"length differs: got {len(got)}, want {len(expected)}"
