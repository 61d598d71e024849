"""Fixtures of the interop suite (``make interop``): real proxies and real web servers from
the distribution's packages, each started once per session on loopback with a generated
configuration (``support.daemons``, ``support.web_daemons``), and the origins behind them.

A daemon that is not installed skips the tests that need it (and fails them under ``CI``).
"""

from __future__ import annotations

import contextlib
import ssl
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import quote

import pytest
import pytest_asyncio
from support.daemons import (
    Credentials,
    Daemon,
    require_binary,
    run_dante,
    run_microsocks,
    run_squid,
    run_tinyproxy,
)
from support.origins import RecordingOrigin
from support.tls import server_context
from support.web_daemons import ChecksumBackend, WebServer, run_apache, run_caddy, run_nginx
from support.ws_servers import WSApp

import aiosonic

T = TypeVar("T")

CREDENTIALS = Credentials("aiosonic", "s3cret-Pass")
WRONG_PASSWORD = Credentials("aiosonic", "not-the-password")
# Every request of the suite has these: a hang fails the request well before the test's
# own hard timeout (pytest.mark.timeout) would.
TIMEOUTS = aiosonic.Timeouts(sock_connect=5, sock_read=15, request_timeout=30)


# The daemons a test used, whose logs go into its report when it fails.
_USED = pytest.StashKey[list[Daemon]]()
LOG_TAIL = 6000  # characters of each daemon's logs in a failure report


def used(request: pytest.FixtureRequest, daemon: Daemon) -> None:
    request.node.stash.setdefault(_USED, []).append(daemon)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    report = yield
    if report.failed:
        for daemon in item.stash.get(_USED, []):
            report.sections.append((f"{daemon.name} logs (tail)", daemon.logs()[-LOG_TAIL:]))
    return report


class Daemons:
    """Daemons started on first use and kept for the session (stopped at its end)."""

    def __init__(self) -> None:
        self._stack = contextlib.ExitStack()
        self._running: dict[str, Any] = {}

    def get(self, key: str, start: Callable[[], AbstractContextManager[T]]) -> T:
        if key not in self._running:
            self._running[key] = self._stack.enter_context(start())
        return self._running[key]  # type: ignore[no-any-return]

    def close(self) -> None:
        self._stack.close()


@pytest.fixture(scope="session")
def daemons() -> Iterator[Daemons]:
    running = Daemons()
    try:
        yield running
    finally:
        running.close()


# --------------------------------------------------------------------------------------------
# Proxies
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ProxyUnderTest:
    """One running proxy daemon and how aiosonic is pointed at it."""

    name: str  # squid, tinyproxy, microsocks, dante
    kind: str  # "http" or "socks5"
    daemon: Daemon

    @property
    def outgoing(self) -> str:
        """The address the proxy's connections to origins come from."""
        return self.daemon.outgoing

    def proxy(self, credentials: Credentials | None = None) -> aiosonic.Proxy:
        """``aiosonic.Proxy`` for it, with ``credentials`` (none by default)."""
        address = self.daemon.address
        if self.kind == "http":
            auth = None if credentials is None else f"{credentials.user}:{credentials.password}"
            return aiosonic.Proxy(f"http://{address}", auth=auth)
        userinfo = ""
        if credentials is not None:
            userinfo = f"{quote(credentials.user, safe='')}:{quote(credentials.password, safe='')}@"
        return aiosonic.Proxy(f"socks5://{userinfo}{address}")


# name: (binary, Debian package, kind, runner)
_PROXIES: dict[str, tuple[str, str, str, Callable[..., AbstractContextManager[Daemon]]]] = {
    "squid": ("squid", "squid", "http", run_squid),
    "tinyproxy": ("tinyproxy", "tinyproxy", "http", run_tinyproxy),
    "microsocks": ("microsocks", "microsocks", "socks5", run_microsocks),
    "dante": ("danted", "dante-server", "socks5", run_dante),
}
PROXIES = list(_PROXIES)


def start_proxy(daemons: Daemons, name: str, credentials: Credentials | None) -> ProxyUnderTest:
    binary_name, package, kind, runner = _PROXIES[name]
    binary = require_binary(binary_name, package)
    key = f"{name}-{'auth' if credentials else 'open'}"
    daemon = daemons.get(key, lambda: runner(binary, credentials))
    return ProxyUnderTest(name, kind, daemon)


@pytest.fixture(params=PROXIES)
def proxy(request: pytest.FixtureRequest, daemons: Daemons) -> ProxyUnderTest:
    """Each proxy daemon in turn, without authentication."""
    started = start_proxy(daemons, request.param, None)
    used(request, started.daemon)
    return started


@pytest.fixture(params=PROXIES)
def auth_proxy(request: pytest.FixtureRequest, daemons: Daemons) -> ProxyUnderTest:
    """Each proxy daemon in turn, requiring ``CREDENTIALS``."""
    started = start_proxy(daemons, request.param, CREDENTIALS)
    used(request, started.daemon)
    return started


# --------------------------------------------------------------------------------------------
# Origins behind the proxies (in this process, on the test's event loop)
# --------------------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def origin_certificate(ca: Any) -> Any:
    return ca.issue_cert("127.0.0.1")


@pytest_asyncio.fixture
async def plain_origin() -> AsyncIterator[RecordingOrigin]:
    """The recording origin in cleartext HTTP/1.1."""
    origin = await RecordingOrigin().start()
    try:
        yield origin
    finally:
        await origin.close()


@pytest.fixture(scope="session")
def origin_directory(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("origins")


@pytest_asyncio.fixture
async def tls_origin_factory(
    origin_certificate: Any, origin_directory: Path
) -> AsyncIterator[Callable[[ssl.TLSVersion], Any]]:
    """``await tls_origin_factory(version)``: the recording origin over TLS ``version``."""
    started: list[RecordingOrigin] = []

    async def start(version: ssl.TLSVersion) -> RecordingOrigin:
        origin = await RecordingOrigin(version, origin_certificate, origin_directory).start()
        started.append(origin)
        return origin

    try:
        yield start
    finally:
        for origin in reversed(started):
            await origin.close()


@pytest_asyncio.fixture
async def ws_origin() -> AsyncIterator[WSApp]:
    app = await WSApp().start()
    try:
        yield app
    finally:
        await app.close()


@pytest_asyncio.fixture
async def wss_origin(ca: Any) -> AsyncIterator[WSApp]:
    app = await WSApp(server_context(ca, "127.0.0.1")).start()
    try:
        yield app
    finally:
        await app.close()


# --------------------------------------------------------------------------------------------
# Web servers
# --------------------------------------------------------------------------------------------

# name: (binary, Debian package, runner)
_SERVERS: dict[str, tuple[str, str, Callable[..., AbstractContextManager[WebServer]]]] = {
    "nginx": ("nginx", "nginx", run_nginx),
    "apache": ("apache2", "apache2-bin", run_apache),
    "caddy": ("caddy", "caddy", run_caddy),
}
SERVERS = list(_SERVERS)


@pytest.fixture(scope="session")
def backend() -> Iterator[ChecksumBackend]:
    """The checksum backend behind every web server's reverse proxy."""
    server = ChecksumBackend().start()
    try:
        yield server
    finally:
        server.close()


@pytest.fixture(scope="session")
def server_certificate(ca: Any) -> Any:
    return ca.issue_cert("127.0.0.1")


def start_server(daemons: Daemons, name: str, certificate: Any,
                 backend: ChecksumBackend) -> WebServer:
    binary_name, package, runner = _SERVERS[name]
    binary = require_binary(binary_name, package)
    return daemons.get(name, lambda: runner(binary, certificate, backend))


@pytest.fixture(params=SERVERS)
def web_server(request: pytest.FixtureRequest, daemons: Daemons, server_certificate: Any,
               backend: ChecksumBackend) -> WebServer:
    """Each web server in turn."""
    started = start_server(daemons, request.param, server_certificate, backend)
    used(request, started.daemon)
    return started


@pytest.fixture
def upload_origin(request: pytest.FixtureRequest, daemons: Daemons, server_certificate: Any,
                  backend: ChecksumBackend) -> WebServer:
    """nginx, the origin of the uploads through the proxies."""
    started = start_server(daemons, "nginx", server_certificate, backend)
    used(request, started.daemon)
    return started
