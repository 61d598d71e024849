"""Fixtures for the web-semantics tests: the loopback application, clients that are always
closed, a local certificate authority, TLS servers, and real proxy.py processes."""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import signal
import socket
import ssl
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio

import aiosonic

from .webapp import WebServer, wait_closed

# --------------------------------------------------------------------------- plain servers


@pytest_asyncio.fixture
async def web() -> AsyncIterator[WebServer]:
    """The web application on 127.0.0.1 (also reachable as ``localhost``)."""
    srv = await WebServer().start()
    try:
        yield srv
    finally:
        await srv.close()


@pytest_asyncio.fixture
async def web2() -> AsyncIterator[WebServer]:
    """A second, independent instance on another port."""
    srv = await WebServer().start()
    try:
        yield srv
    finally:
        await srv.close()


@pytest_asyncio.fixture
async def new_client() -> AsyncIterator[Callable[..., aiosonic.HTTPClient]]:
    """Factory: ``new_client(connector=dict(...), **client_kwargs)``; all closed at teardown."""
    made: list[aiosonic.HTTPClient] = []

    def make(connector: dict[str, Any] | None = None, **kwargs: Any) -> aiosonic.HTTPClient:
        client = aiosonic.HTTPClient(connector=aiosonic.TCPConnector(**(connector or {})), **kwargs)
        made.append(client)
        return client

    try:
        yield make
    finally:
        for client in reversed(made):
            await client.close()
            if client.proxy is not None:
                # close() does not wait for a tunnelled TLS connection to finish closing
                # (see test_close.py); let it finish before the loop goes away.
                await wait_closed(remote_port=client.proxy.url.port)


# --------------------------------------------------------------------------- TLS


@pytest.fixture(scope="session")
def ca() -> Any:
    """A local certificate authority (nothing outside this process trusts it)."""
    trustme = pytest.importorskip("trustme")
    return trustme.CA()


@pytest.fixture
def trusting_context(ca: Any) -> ssl.SSLContext:
    """A client context that trusts only the local CA."""
    context = ssl.create_default_context()
    ca.configure_trust(context)
    return context


def server_context(
    ca: Any,
    *names: str,
    not_before: dt.datetime | None = None,
    not_after: dt.datetime | None = None,
) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    cert = ca.issue_cert(*names, not_before=not_before, not_after=not_after)
    cert.configure_cert(context)
    return context


@pytest_asyncio.fixture
async def tls_web(ca: Any) -> AsyncIterator[Callable[..., Awaitable[WebServer]]]:
    """Factory: ``await tls_web("127.0.0.1", "localhost", expired=False)`` -> a TLS server
    whose certificate names those identities; its SNI callback records server names."""
    started: list[WebServer] = []

    async def start(*names: str, expired: bool = False, host: str = "127.0.0.1") -> WebServer:
        now = dt.datetime.now(dt.timezone.utc)
        window: dict[str, dt.datetime] = {}
        if expired:
            window = {
                "not_before": now - dt.timedelta(days=30),
                "not_after": now - dt.timedelta(days=1),
            }
        srv = WebServer(host=host, ssl_context=server_context(ca, *names, **window))
        srv.record_sni()
        started.append(await srv.start())
        return srv

    try:
        yield start
    finally:
        for srv in reversed(started):
            await srv.close()


# --------------------------------------------------------------------------- proxy.py


@dataclass
class ProxyProcess:
    port: int
    auth: str | None
    log: Path

    @property
    def address(self) -> str:
        return f"http://127.0.0.1:{self.port}"


def _wait_listening(port_file: Path, proc: subprocess.Popen[bytes], log: Path) -> int:
    deadline = time.monotonic() + 15
    port = 0
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"proxy.py exited with {proc.returncode}: {log.read_text()}")
        if not port:
            text = port_file.read_text().strip() if port_file.exists() else ""
            port = int(text.split()[0]) if text else 0
        if port:
            with contextlib.suppress(OSError), socket.create_connection(
                ("127.0.0.1", port), timeout=0.5
            ):
                return port
        time.sleep(0.02)
    raise RuntimeError(f"proxy.py did not start listening: {log.read_text()}")


@contextlib.contextmanager
def _run_proxy(tmp: Path, auth: str | None) -> Iterator[ProxyProcess]:
    port_file = tmp / "port"
    log = tmp / "proxy.log"
    command = [
        sys.executable, "-m", "proxy",
        "--hostname", "127.0.0.1",
        "--port", "0",
        "--port-file", str(port_file),
        "--num-workers", "1",
        "--num-acceptors", "1",
        "--timeout", "30",
        "--log-level", "WARNING",
    ]  # fmt: skip
    if auth is not None:
        command += ["--basic-auth", auth]
    with open(log, "wb") as log_file:
        proc = subprocess.Popen(
            command,
            stdin=subprocess.DEVNULL,
            stdout=log_file,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: teardown ends its workers too
        )
    try:
        port = _wait_listening(port_file, proc, log)
        yield ProxyProcess(port=port, auth=auth, log=log)
    finally:
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=5)
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, signal.SIGKILL)  # stray workers of the group we created


@pytest.fixture(scope="session")
def proxy_auth(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ProxyProcess]:
    """proxy.py requiring ``Proxy-Authorization: Basic`` for ``user:pass``."""
    with _run_proxy(tmp_path_factory.mktemp("proxy-auth"), "user:pass") as proc:
        yield proc


@pytest.fixture(scope="session")
def proxy_open(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ProxyProcess]:
    """proxy.py without authentication."""
    with _run_proxy(tmp_path_factory.mktemp("proxy-open"), None) as proc:
        yield proc


# --------------------------------------------------------------------------- files


def open_fds_for(path: Path) -> list[str]:
    """File descriptors of this process that refer to ``path`` (Linux ``/proc``)."""
    target = str(path.resolve())
    found = []
    fd_dir = Path("/proc/self/fd")
    for entry in fd_dir.iterdir():
        with contextlib.suppress(OSError):
            if os.readlink(entry) == target:
                found.append(entry.name)
    return found


@pytest.fixture
def fd_check() -> Callable[[Path], list[str]]:
    if not Path("/proc/self/fd").is_dir():
        pytest.skip("needs /proc/self/fd to see open file handles")
    return open_fds_for
