"""A loopback aiohttp application for the web-semantics tests (redirects, cookies, multipart,
TLS, proxies, resolvers).

``WebServer`` listens on one loopback address (127.0.0.1 by default, ``::1`` for IPv6 tests),
optionally with TLS, and records every request it handles in ``seen`` so a test can inspect
requests whose response it never reads (intermediate redirect hops, for instance).

Routes (anything not listed echoes):

* ``/redirect`` and ``/dir/sub/redirect``: answer ``status`` (default 302) with
  ``Location: <to>`` (no Location when ``to`` is absent), one ``Set-Cookie`` per ``cookie``
  parameter and a body of ``size`` bytes (default a short text).
* ``/chain/{n}``: ``n`` redirects (``status``, default 302) down to ``/echo?chain=done``.
* ``/loop``: redirects to itself (``status``, default 302).
* ``/bounce?to=<origin>``: 302 to ``<origin>/bounce?to=<this origin>`` (a two-server loop).
* ``/set-cookie`` (and below it): one ``Set-Cookie`` per ``cookie`` parameter, then echoes.
* ``/multipart``: parses the body with aiohttp's multipart reader and returns every part.
* ``/multipart-hash``: streams each part with ``read_chunk`` and returns its sha256.
* ``/form``: ``await request.post()`` and returns the fields.
* anything else: a JSON echo of the request.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import os
import socket
import ssl
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

from aiohttp import BodyPartReader, web

__all__ = [
    "Seen",
    "WebServer",
    "body_of",
    "header_all",
    "header_one",
    "parse",
    "tcp_fds",
    "wait_closed",
]


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
class _State:
    seen: list[Seen] = field(default_factory=list)
    sni: list[str | None] = field(default_factory=list)


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


def _build(state: _State) -> web.Application:
    app = web.Application(client_max_size=8 * 1024 * 1024)

    @web.middleware
    async def record(request: web.Request, handler: Any) -> web.StreamResponse:
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
        return await handler(request)  # type: ignore[no-any-return]

    app.middlewares.append(record)

    async def echo(request: web.Request) -> web.StreamResponse:
        body = await request.read()
        return web.json_response(
            {
                "method": request.method,
                "path": request.path,
                "query": request.raw_path.partition("?")[2],
                "headers": [
                    [k.decode("latin-1"), v.decode("latin-1")] for k, v in request.raw_headers
                ],
                "body_b64": _b64(body),
                "port": _peer_port(request),
            }
        )

    async def redirect(request: web.Request) -> web.StreamResponse:
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
                "content_type": request.headers.get("Content-Type"),
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

    app.router.add_route("*", "/redirect", redirect)
    app.router.add_route("*", "/dir/sub/redirect", redirect)
    app.router.add_route("*", "/chain/{n}", chain)
    app.router.add_route("*", "/loop", loop)
    app.router.add_route("*", "/bounce", bounce)
    app.router.add_route("*", "/set-cookie", set_cookie)
    app.router.add_route("*", "/set-cookie/{tail:.*}", set_cookie)
    app.router.add_post("/multipart", multipart)
    app.router.add_post("/multipart-hash", multipart_hash)
    app.router.add_route("*", "/form", form)
    app.router.add_route("*", "/{tail:.*}", echo)
    return app


def _tcp_table() -> dict[str, tuple[int, int]]:
    """Socket inode -> (local port, remote port) for this network namespace's TCP sockets."""
    table: dict[str, tuple[int, int]] = {}
    for name in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            with open(name) as handle:
                lines = handle.readlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            if len(fields) < 10:
                continue
            local_port = int(fields[1].rsplit(":", 1)[1], 16)
            remote_port = int(fields[2].rsplit(":", 1)[1], 16)
            table[fields[9]] = (local_port, remote_port)
    return table


def tcp_fds(*, local_port: int | None = None, remote_port: int | None = None) -> list[int]:
    """This process's open TCP socket descriptors with the given local and/or remote port
    (Linux ``/proc``; an empty list where that is not available)."""
    table = _tcp_table()
    found = []
    fd_dir = "/proc/self/fd"
    try:
        entries = os.listdir(fd_dir)
    except OSError:
        return []
    for entry in entries:
        try:
            link = os.readlink(f"{fd_dir}/{entry}")
        except OSError:
            continue
        if not link.startswith("socket:["):
            continue
        ports = table.get(link[8:-1])
        if ports is None:
            continue
        if local_port is not None and ports[0] != local_port:
            continue
        if remote_port is not None and ports[1] != remote_port:
            continue
        found.append(int(entry))
    return found


async def wait_closed(*, local_port: int | None = None, remote_port: int | None = None,
                      timeout: float = 2.0) -> list[int]:
    """Wait until no socket of this process matches; return those still open at the end."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        left = tcp_fds(local_port=local_port, remote_port=remote_port)
        if not left or loop.time() >= deadline:
            return left
        await asyncio.sleep(0.01)


class WebServer:
    """The application on an ephemeral port of ``host`` (a loopback address)."""

    def __init__(self, host: str = "127.0.0.1", ssl_context: ssl.SSLContext | None = None):
        self.host = host
        self.ssl_context = ssl_context
        self._state = _State()
        self._runner: web.AppRunner | None = None
        self.port = 0

    @property
    def seen(self) -> list[Seen]:
        return self._state.seen

    @property
    def sni(self) -> list[str | None]:
        """Server names from the TLS SNI callback, one per handshake (when installed)."""
        return self._state.sni

    def record_sni(self) -> None:
        """Install an SNI callback on the server context that records each server name."""
        assert self.ssl_context is not None

        def callback(_ssl_object: Any, server_name: str | None, _context: Any) -> None:
            self._state.sni.append(server_name)

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

    async def start(self) -> WebServer:
        family = socket.AF_INET6 if ":" in self.host else socket.AF_INET
        self._runner = web.AppRunner(
            _build(self._state), access_log=None, handler_cancellation=True, shutdown_timeout=0.5
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


def header_all(doc: dict[str, Any], name: str) -> list[str]:
    """Every value of header ``name`` (case-insensitive) in an echo document."""
    return [v for k, v in doc["headers"] if k.lower() == name.lower()]


def header_one(doc: dict[str, Any], name: str) -> str | None:
    values = header_all(doc, name)
    assert len(values) <= 1, f"{name} sent {len(values)} times: {values}"
    return values[0] if values else None


def body_of(doc: dict[str, Any]) -> bytes:
    return base64.b64decode(doc["body_b64"])


def parse(data: bytes) -> dict[str, Any]:
    return json.loads(data)  # type: ignore[no-any-return]
