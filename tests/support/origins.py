"""An origin for the tests that go through real proxies: hypercorn on 127.0.0.1, recording
who connected (the proxy's outgoing address) and with which protocol.

``RecordingOrigin`` speaks cleartext HTTP/1.1, or TLS pinned to one version (1.2 or 1.3:
the context's minimum and maximum are both that version, so every handshake that succeeds
used it) with ALPN ``h2`` and ``http/1.1`` (the client's offer decides). Routes:

* ``GET /hello/<n>``: ``hello_body(n)``, 24 KiB and a bit (more than one HTTP/2 DATA frame
  and one TCP segment), different for every ``n``;
* anything else: 404.

Every request is kept in ``seen`` with the peer's address and port, and every TLS
handshake's version in ``tls_versions``.
"""

from __future__ import annotations

import asyncio
import logging
import random
import socket
import ssl
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hypercorn.asyncio import serve
from hypercorn.config import Config

from .asgi import Receive, Send, run_lifespan

__all__ = ["HOST", "RecordingOrigin", "Seen", "hello_body"]

HOST = "127.0.0.1"


_HELLO: dict[int, bytes] = {}


def hello_body(index: int) -> bytes:
    """What ``GET /hello/<index>`` answers (deterministic, cached)."""
    body = _HELLO.get(index)
    if body is None:
        body = _HELLO[index] = b"hello %d\n" % index + random.Random(index).randbytes(24_000)
    return body


@dataclass(frozen=True)
class Seen:
    """One request as the origin received it."""

    method: str
    path: str
    http_version: str  # "1.1", "2"
    peer: str  # the address the connection came from
    port: int  # its port: one per connection


@dataclass
class _State:
    seen: list[Seen] = field(default_factory=list)
    handshakes: list[ssl.SSLObject] = field(default_factory=list)


async def _respond(send: Send, status: int, body: bytes, content_type: bytes) -> None:
    await send({
        "type": "http.response.start",
        "status": status,
        "headers": [(b"content-type", content_type),
                    (b"content-length", str(len(body)).encode("ascii"))],
    })
    await send({"type": "http.response.body", "body": body})


class _App:
    def __init__(self, state: _State) -> None:
        self.state = state

    async def __call__(self, scope: dict[str, Any], receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await run_lifespan(receive, send)
            return
        if scope["type"] != "http":
            return
        host, port = scope["client"]
        method: str = scope["method"]
        path: str = scope["path"]
        version: str = scope["http_version"]
        self.state.seen.append(Seen(method, path, version, host, int(port)))
        first, _, rest = path.strip("/").partition("/")
        if method == "GET" and first == "hello" and rest.isdigit():
            await _respond(send, 200, hello_body(int(rest)), b"application/octet-stream")
        else:
            await _respond(send, 404, b"not found", b"text/plain")


class RecordingOrigin:
    """hypercorn serving the recording application on an ephemeral port of 127.0.0.1.

    ``tls``: None for cleartext, else the one TLS version the server accepts; then
    ``certificate`` (a trustme ``LeafCert``) and ``directory`` (where its PEM files go) are
    required.
    """

    def __init__(
        self,
        tls: ssl.TLSVersion | None = None,
        certificate: Any = None,
        directory: Path | None = None,
    ) -> None:
        self.tls = tls
        self.state = _State()
        config = Config()
        config.accesslog = None
        config.errorlog = logging.getLogger("interop.origin")
        config.graceful_timeout = 1.0
        if tls is not None:
            assert certificate is not None and directory is not None
            pem = directory / "origin.pem"
            certificate.private_key_and_cert_chain_pem.write_to_path(str(pem))
            config.certfile = config.keyfile = str(pem)
            config.alpn_protocols = ["h2", "http/1.1"]
            make_context = config.create_ssl_context

            def pinned() -> ssl.SSLContext | None:
                context = make_context()
                assert context is not None
                context.minimum_version = context.maximum_version = tls

                def record(ssl_object: ssl.SSLObject, name: str | None,
                           _context: ssl.SSLContext) -> None:
                    self.state.handshakes.append(ssl_object)  # called with or without SNI

                context.sni_callback = record
                return context

            config.create_ssl_context = pinned  # type: ignore[method-assign]
        self.config = config
        self.port = 0
        self._stop = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    @property
    def seen(self) -> list[Seen]:
        return self.state.seen

    @property
    def tls_versions(self) -> set[str | None]:
        """The TLS versions of the handshakes the origin completed (``ssl_object.version()``:
        "TLSv1.2", "TLSv1.3")."""
        return {ssl_object.version() for ssl_object in self.state.handshakes}

    @property
    def handshakes(self) -> int:
        return len(self.state.handshakes)

    def url(self, path: str) -> str:
        return f"{'http' if self.tls is None else 'https'}://{HOST}:{self.port}{path}"

    async def start(self) -> RecordingOrigin:
        # Bound and listening here, so the port is known and connections queue from now on;
        # hypercorn takes the descriptor over (and closes it when it stops).
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        # hypercorn does not set TCP_NODELAY on a socket it is handed; accepted sockets
        # inherit it from this one
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sock.bind((HOST, 0))
        sock.listen(512)
        self.port = sock.getsockname()[1]
        self.config.bind = [f"fd://{sock.detach()}"]
        self._task = asyncio.create_task(
            serve(_App(self.state), self.config, shutdown_trigger=self._stop.wait)  # type: ignore[arg-type]
        )
        for _ in range(5):
            await asyncio.sleep(0)
        if self._task.done():
            self._task.result()  # raises what made it stop
        return self

    async def close(self) -> None:
        if self._task is None:
            return
        self._stop.set()
        task, self._task = self._task, None
        await asyncio.wait_for(task, 10)
