"""The one shared set of fixtures: event loop factories, the aiohttp test application and the
scripted servers on loopback, a local certificate authority, real proxy.py processes, and
aiosonic clients that are always closed.

Request server fixtures before client fixtures in a test's arguments: fixtures are torn
down in reverse order, so clients close (and say goodbye) before their servers stop.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import ssl
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from support.app import HOST, AppServer
from support.proxy_process import ProxyProcess, run_proxy
from support.raw import Handler, RawServer, Responder
from support.scripted import ConnLog, RecordingProxy, Script
from support.sockets import open_fds_for, wait_closed
from support.tls import server_context

import aiosonic


def pytest_asyncio_loop_factories(
    config: pytest.Config, item: pytest.Item
) -> dict[str, Callable[[], asyncio.AbstractEventLoop]]:
    """Every async test runs on the default loop and, when installed, on uvloop."""
    factories: dict[str, Callable[[], asyncio.AbstractEventLoop]] = {
        "asyncio": asyncio.new_event_loop
    }
    try:
        import uvloop
    except ImportError:
        return factories
    factories["uvloop"] = uvloop.new_event_loop
    return factories


# --------------------------------------------------------------------------- the aiohttp app


@pytest_asyncio.fixture
async def server() -> AsyncIterator[AppServer]:
    """The aiohttp application (``support.app``) on 127.0.0.1 (also reachable as
    ``localhost``), on an ephemeral port."""
    app_server = await AppServer().start()
    try:
        yield app_server
    finally:
        await app_server.close()


@pytest_asyncio.fixture
async def server2() -> AsyncIterator[AppServer]:
    """A second, independent instance of the application on another port (another origin)."""
    app_server = await AppServer().start()
    try:
        yield app_server
    finally:
        await app_server.close()


# --------------------------------------------------------------------------- scripted servers


@pytest_asyncio.fixture
async def raw_server() -> AsyncIterator[Callable[..., Awaitable[RawServer]]]:
    """Factory: ``await raw_server(handler=...)`` or ``await raw_server(respond=...)``."""
    started: list[RawServer] = []

    async def start(
        handler: Handler | None = None, respond: Responder | None = None, host: str = HOST
    ) -> RawServer:
        srv = await RawServer(handler=handler, respond=respond, host=host).start()
        started.append(srv)
        return srv

    try:
        yield start
    finally:
        for srv in reversed(started):
            await srv.close()


@dataclass
class Logged:
    """A scripted server and the log of its connections."""

    raw: RawServer
    log: ConnLog

    @property
    def port(self) -> int:
        return self.raw.port

    def url(self, path: str = "/", host: str = "127.0.0.1") -> str:
        return f"http://{host}:{self.raw.port}{path}"


@pytest_asyncio.fixture
async def logged(
    raw_server: Callable[..., Awaitable[RawServer]],
) -> Callable[[Script], Awaitable[Logged]]:
    """Factory: ``await logged(script)`` -> a keep-alive scripted server (see ``ConnLog``)."""

    async def start(script: Script) -> Logged:
        log = ConnLog()
        srv = await raw_server(handler=log.handler(script))
        return Logged(srv, log)

    return start


@pytest_asyncio.fixture
async def forward_proxy(
    raw_server: Callable[..., Awaitable[RawServer]],
) -> tuple[RecordingProxy, str]:
    """A recording forward proxy and its ``http://127.0.0.1:port`` address."""
    proxy = RecordingProxy()
    srv = await raw_server(handler=proxy.handle)
    return proxy, f"http://127.0.0.1:{srv.port}"


# --------------------------------------------------------------------------- clients


@pytest_asyncio.fixture
async def client() -> AsyncIterator[aiosonic.HTTPClient]:
    """A default ``aiosonic.HTTPClient``."""
    async with aiosonic.HTTPClient() as http_client:
        yield http_client


@pytest_asyncio.fixture
async def make_client() -> AsyncIterator[Callable[..., Any]]:
    """Factory: ``make_client(**connector_kwargs)`` -> ``(client, connector)``.

    Every client made is closed at teardown (closing twice must be harmless).
    """
    made: list[aiosonic.HTTPClient] = []

    def make(**connector_kwargs: Any) -> tuple[Any, Any]:
        connector = aiosonic.TCPConnector(**connector_kwargs)
        http_client = aiosonic.HTTPClient(connector=connector)
        made.append(http_client)
        return http_client, connector

    try:
        yield make
    finally:
        for http_client in reversed(made):
            await http_client.close()


@pytest_asyncio.fixture
async def new_client() -> AsyncIterator[Callable[..., aiosonic.HTTPClient]]:
    """Factory: ``new_client(connector=None, **client_kwargs)``; ``connector`` is a
    ``TCPConnector`` or a dict of its arguments. All are closed at teardown."""
    made: list[aiosonic.HTTPClient] = []

    def make(
        connector: aiosonic.TCPConnector | dict[str, Any] | None = None, **kwargs: Any
    ) -> aiosonic.HTTPClient:
        if connector is None or isinstance(connector, dict):
            connector = aiosonic.TCPConnector(**(connector or {}))
        http_client = aiosonic.HTTPClient(connector=connector, **kwargs)
        made.append(http_client)
        return http_client

    try:
        yield make
    finally:
        for http_client in reversed(made):
            await http_client.close()
            proxy_port = getattr(getattr(http_client.proxy, "url", None), "port", None)
            if proxy_port:
                # close() does not wait for a tunnelled TLS connection to finish closing
                # (see behaviour/lifecycle/test_close.py); let it finish before the loop goes.
                await wait_closed(remote_port=proxy_port)


# --------------------------------------------------------------------------- TLS


@pytest.fixture(scope="session")
def ca() -> Any:
    """A local certificate authority (nothing outside this process trusts it)."""
    trustme = pytest.importorskip("trustme")
    return trustme.CA()


@pytest.fixture
def trusting_context(ca: Any) -> ssl.SSLContext:
    """A fresh client context that trusts only the local CA (and has no ALPN set yet)."""
    context = ssl.create_default_context()
    ca.configure_trust(context)
    return context


@pytest_asyncio.fixture
async def tls_server(ca: Any) -> AsyncIterator[AppServer]:
    """The aiohttp application over TLS, with a certificate for 127.0.0.1 and localhost."""
    srv = await AppServer(ssl_context=server_context(ca, "127.0.0.1", "localhost")).start()
    try:
        yield srv
    finally:
        await srv.close()


@pytest_asyncio.fixture
async def tls_web(ca: Any) -> AsyncIterator[Callable[..., Awaitable[AppServer]]]:
    """Factory: ``await tls_web("127.0.0.1", "localhost", expired=False)`` -> the application
    over TLS with a certificate naming those identities; its SNI callback records names."""
    started: list[AppServer] = []

    async def start(*names: str, expired: bool = False, host: str = HOST) -> AppServer:
        now = dt.datetime.now(dt.timezone.utc)
        window: dict[str, dt.datetime] = {}
        if expired:
            window = {
                "not_before": now - dt.timedelta(days=30),
                "not_after": now - dt.timedelta(days=1),
            }
        srv = AppServer(host=host, ssl_context=server_context(ca, *names, **window))
        srv.record_sni()
        started.append(await srv.start())
        return srv

    try:
        yield start
    finally:
        for srv in reversed(started):
            await srv.close()


# --------------------------------------------------------------------------- proxy.py


@pytest.fixture(scope="session")
def proxy_auth(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ProxyProcess]:
    """proxy.py requiring ``Proxy-Authorization: Basic`` for ``user:pass``."""
    with run_proxy(tmp_path_factory.mktemp("proxy-auth"), "user:pass") as proc:
        yield proc


@pytest.fixture(scope="session")
def proxy_open(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ProxyProcess]:
    """proxy.py without authentication."""
    with run_proxy(tmp_path_factory.mktemp("proxy-open"), None) as proc:
        yield proc


# --------------------------------------------------------------------------- files


@pytest.fixture
def fd_check() -> Callable[[Path], list[str]]:
    """``fd_check(path)``: this process's descriptors open on ``path`` (needs ``/proc``)."""
    if not Path("/proc/self/fd").is_dir():
        pytest.skip("needs /proc/self/fd to see open file handles")
    return open_fds_for


# --------------------------------------------------------------------------- environment

PROXY_VARIABLES = ("http_proxy", "https_proxy", "all_proxy", "no_proxy")

@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    """No proxy or netrc settings from the machine running the tests."""
    for name in PROXY_VARIABLES:
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.upper(), raising=False)
    monkeypatch.delenv("REQUEST_METHOD", raising=False)
    monkeypatch.setenv("NETRC", "/nonexistent/netrc")
    return monkeypatch
