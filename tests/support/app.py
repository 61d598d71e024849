"""The one aiohttp test application, on loopback, for every behaviour test.

``AppServer`` runs ``build_app`` on an ephemeral port of one loopback address (127.0.0.1 by
default, ``::1`` for IPv6 tests), optionally with TLS. It counts requests and peer ports in
``state`` and records every request it handles in ``seen`` (so a test can inspect requests
whose response it never reads, intermediate redirect hops for instance); ``record_sni()``
records the TLS server names.

Routes:

* ``/echo`` (and below it), and any path no other route takes: a JSON echo of the request.
* ``/missing/...``: aiohttp's own 404 (what an unknown route gets elsewhere).
* ``/bytes/{n}``, ``/stream/{n}``: ``payload(n)``, with a Content-Length or chunked.
* ``/compressed/{gzip,deflate,bad-gzip}``, ``/text/{name}``, ``/json``: encoded bodies.
* ``/cookies``, ``/set-sid``: fixed ``Set-Cookie`` headers.
* ``/set-cookie`` (and below it): one ``Set-Cookie`` per ``cookie`` parameter, then echoes.
* ``/status/{code}``, ``/slow?delay=``, ``/close``, ``/upload``.
* ``/redirect/{n}``: ``n`` 302s down to ``/echo?from=redirect``; ``/see-other`` (303),
  ``/temporary`` (307), ``/absolute-redirect?to=``.
* ``/redirect`` and ``/dir/sub/redirect``: answer ``status`` (default 302) with
  ``Location: <to>`` (no Location when ``to`` is absent), one ``Set-Cookie`` per ``cookie``
  parameter and a body of ``size`` bytes (default a short text).
* ``/chain/{n}``: ``n`` redirects (``status``, default 302) down to ``/echo?chain=done``.
* ``/loop``: redirects to itself (``status``, default 302).
* ``/bounce?to=<origin>``: 302 to ``<origin>/bounce?to=<this origin>`` (a two-server loop).
* ``/multipart``: parses the body with aiohttp's multipart reader and returns every part;
  ``/multipart-hash`` streams each part with ``read_chunk`` and returns its sha256.
* ``/form``: ``await request.post()`` and returns the fields.
"""

from __future__ import annotations

import asyncio
import base64
import gzip
import hashlib
import json
import random
import socket
import ssl
import zlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

from aiohttp import BodyPartReader, web

from .sockets import wait_closed

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
class Seen:
    """One request as the server received it."""

    method: str
    path: str
    query: str
    headers: list[tuple[str, str]]
    host: str
    peer_port: int

    def header(self, name: str) -> list[str]:
        return [value for key, value in self.headers if key.lower() == name.lower()]


@dataclass
class AppState:
    """Counters and records the application updates, read by the tests."""

    in_flight: int = 0
    max_in_flight: int = 0
    slow_started: int = 0
    slow_finished: int = 0
    requests: int = 0
    ports: list[int] = field(default_factory=list)
    slow_entered: asyncio.Event = field(default_factory=asyncio.Event)
    seen: list[Seen] = field(default_factory=list)
    sni: list[str | None] = field(default_factory=list)

    async def wait_slow_started(self, timeout: float = 5) -> None:
        """Wait until a ``/slow`` request is being handled."""
        await asyncio.wait_for(self.slow_entered.wait(), timeout)


def _peer_port(request: web.Request) -> int:
    transport = request.transport
    assert transport is not None
    return int(transport.get_extra_info("peername")[1])


def _with_cookies(response: web.StreamResponse, request: web.Request) -> web.StreamResponse:
    for raw in request.query.getall("cookie", []):
        response.headers.add("Set-Cookie", raw)
    return response


def _b64(data: bytes | bytearray) -> str:
    return base64.b64encode(bytes(data)).decode("ascii")


def build_app(state: AppState) -> web.Application:
    app = web.Application(client_max_size=64 * 1024 * 1024)

    @web.middleware
    async def count(request: web.Request, handler: Callable[..., Awaitable[web.StreamResponse]]):
        state.requests += 1
        state.ports.append(_peer_port(request))
        state.seen.append(
            Seen(
                method=request.method,
                path=request.path,
                query=request.raw_path.partition("?")[2],
                headers=[
                    (k.decode("latin-1"), v.decode("latin-1")) for k, v in request.raw_headers
                ],
                host=request.headers.get("Host", ""),
                peer_port=_peer_port(request),
            )
        )
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
                "body_b64": _b64(body),
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

    async def see_other(request: web.Request) -> web.StreamResponse:
        await request.read()
        raise web.HTTPSeeOther("/echo?from=303")

    async def temporary(request: web.Request) -> web.StreamResponse:
        await request.read()
        raise web.HTTPTemporaryRedirect("/echo?from=307")

    async def absolute(request: web.Request) -> web.StreamResponse:
        target = request.query["to"]
        raise web.HTTPFound(target)

    async def set_sid(request: web.Request) -> web.StreamResponse:
        resp = web.Response(text="set")
        resp.set_cookie("sid", "xyz789", path="/")
        return resp

    async def missing(request: web.Request) -> web.StreamResponse:
        raise web.HTTPNotFound()

    async def redirect_to(request: web.Request) -> web.StreamResponse:
        await request.read()
        status = int(request.query.get("status", "302"))
        size = request.query.get("size")
        body = b"x" * int(size) if size is not None else b"you are being redirected"
        response = web.Response(status=status, body=body, content_type="text/plain")
        target = request.query.get("to")
        if target is not None:
            response.headers["Location"] = target
        return _with_cookies(response, request)

    async def chain(request: web.Request) -> web.StreamResponse:
        await request.read()
        left = int(request.match_info["n"])
        status = int(request.query.get("status", "302"))
        suffix = f"?status={status}"
        target = "/echo?chain=done" if left <= 1 else f"/chain/{left - 1}{suffix}"
        return web.Response(status=status, headers={"Location": target})

    async def loop(request: web.Request) -> web.StreamResponse:
        await request.read()
        status = int(request.query.get("status", "302"))
        return web.Response(status=status, headers={"Location": request.raw_path})

    async def bounce(request: web.Request) -> web.StreamResponse:
        await request.read()
        me = quote(f"{request.scheme}://{request.host}", safe="")
        target = f"{request.query['to']}/bounce?to={me}"
        return web.Response(status=302, headers={"Location": target})

    async def set_cookie(request: web.Request) -> web.StreamResponse:
        return _with_cookies(await echo(request), request)

    async def multipart(request: web.Request) -> web.StreamResponse:
        reader = await request.multipart()
        parts = []
        async for part in reader:
            assert isinstance(part, BodyPartReader)
            data = await part.read(decode=False)
            parts.append(
                {
                    "name": part.name,
                    "filename": part.filename,
                    "headers": [[k, v] for k, v in part.headers.items()],
                    "data_b64": _b64(data),
                }
            )
        return web.json_response(
            {
                "content_type": request.headers.get("Content-Type", ""),
                "content_length": request.headers.get("Content-Length"),
                "transfer_encoding": request.headers.get("Transfer-Encoding"),
                "parts": parts,
            }
        )

    async def multipart_hash(request: web.Request) -> web.StreamResponse:
        reader = await request.multipart()
        parts = []
        async for part in reader:
            assert isinstance(part, BodyPartReader)
            digest = hashlib.sha256()
            size = 0
            largest = 0
            while True:
                chunk = await part.read_chunk(64 * 1024)
                if not chunk:
                    break
                digest.update(chunk)
                size += len(chunk)
                largest = max(largest, len(chunk))
            parts.append(
                {
                    "name": part.name,
                    "filename": part.filename,
                    "sha256": digest.hexdigest(),
                    "size": size,
                    "largest_chunk": largest,
                }
            )
        return web.json_response({"parts": parts})

    async def form(request: web.Request) -> web.StreamResponse:
        fields = []
        for name, value in (await request.post()).items():
            if isinstance(value, str):
                fields.append({"name": name, "value": value})
            else:
                fields.append(
                    {
                        "name": name,
                        "filename": value.filename,
                        "content_type": value.content_type,
                        "data_b64": _b64(value.file.read()),
                    }
                )
        return web.json_response(
            {"content_type": request.headers.get("Content-Type"), "fields": fields}
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
    app.router.add_route("*", "/loop", loop)
    app.router.add_route("*", "/see-other", see_other)
    app.router.add_route("*", "/temporary", temporary)
    app.router.add_get("/absolute-redirect", absolute)
    app.router.add_get("/set-sid", set_sid)
    app.router.add_route("*", "/missing/{tail:.*}", missing)
    app.router.add_route("*", "/redirect", redirect_to)
    app.router.add_route("*", "/dir/sub/redirect", redirect_to)
    app.router.add_route("*", "/chain/{n}", chain)
    app.router.add_route("*", "/bounce", bounce)
    app.router.add_route("*", "/set-cookie", set_cookie)
    app.router.add_route("*", "/set-cookie/{tail:.*}", set_cookie)
    app.router.add_post("/multipart", multipart)
    app.router.add_post("/multipart-hash", multipart_hash)
    app.router.add_route("*", "/form", form)
    app.router.add_route("*", "/{tail:.*}", echo)
    return app


class AppServer:
    """The application on an ephemeral port of ``host`` (a loopback address)."""

    def __init__(self, ssl_context: ssl.SSLContext | None = None, host: str = HOST) -> None:
        self.host = host
        self.ssl_context = ssl_context
        self.state = AppState()
        self._runner: web.AppRunner | None = None
        self.port = 0

    @property
    def seen(self) -> list[Seen]:
        return self.state.seen

    @property
    def sni(self) -> list[str | None]:
        """Server names from the TLS SNI callback, one per handshake (when installed)."""
        return self.state.sni

    def record_sni(self) -> None:
        """Install an SNI callback on the server context that records each server name."""
        assert self.ssl_context is not None

        def callback(_ssl_object: Any, server_name: str | None, _context: Any) -> None:
            self.state.sni.append(server_name)

        self.ssl_context.sni_callback = callback

    @property
    def scheme(self) -> str:
        return "http" if self.ssl_context is None else "https"

    def origin(self, host: str | None = None) -> str:
        name = host or self.host
        if ":" in name:
            name = f"[{name}]"
        return f"{self.scheme}://{name}:{self.port}"

    def url(self, path: str = "/", host: str | None = None) -> str:
        return self.origin(host) + path

    async def start(self) -> AppServer:
        family = socket.AF_INET6 if ":" in self.host else socket.AF_INET
        self._runner = web.AppRunner(
            build_app(self.state), access_log=None, handler_cancellation=True, shutdown_timeout=0.5
        )
        await self._runner.setup()
        sock = socket.socket(family, socket.SOCK_STREAM)
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind((self.host, 0))
        except OSError:
            sock.close()
            await self._runner.cleanup()
            self._runner = None
            raise
        self.port = sock.getsockname()[1]
        site = web.SockSite(self._runner, sock, ssl_context=self.ssl_context)
        await site.start()
        return self

    async def close(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
            # A TLS connection closes only after its close_notify exchange: give accepted
            # connections that are still finishing one the time to do so.
            await wait_closed(local_port=self.port)


def loads(data: bytes) -> dict:
    return json.loads(data)  # type: ignore[no-any-return]


def header_values(echo_doc: dict, name: str) -> list[str]:
    """Values of header ``name`` (case-insensitive) as the echo endpoint received them."""
    return [value for key, value in echo_doc["headers"] if key.lower() == name.lower()]


def header_names(echo_doc: dict) -> list[str]:
    """Lower-cased header names, in the order the echo endpoint received them."""
    return [key.lower() for key, _ in echo_doc["headers"]]


def header_one(echo_doc: dict, name: str) -> str | None:
    """The one value of header ``name`` (fails when it was sent more than once)."""
    values = header_values(echo_doc, name)
    assert len(values) <= 1, f"{name} sent {len(values)} times: {values}"
    return values[0] if values else None


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
