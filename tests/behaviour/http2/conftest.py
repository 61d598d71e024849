"""Fixtures for the HTTP/2 tests: a certificate from the shared local CA, hypercorn servers
(TLS with ALPN or cleartext h2c) and scripted h2 servers, every one closed at teardown
(aiosonic clients come from ``new_client`` in the shared conftest).

Request the server fixture before ``new_client`` in a test's arguments: fixtures are torn
down in reverse order, so clients close (and say goodbye) before their servers stop.
"""

from __future__ import annotations

import ssl
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass

import pytest
import pytest_asyncio
import trustme
from support.h2_servers import H2cServer, HyperServer, Scenario, ScriptedH2Server


@dataclass
class CertFiles:
    cert: trustme.LeafCert
    certfile: str
    keyfile: str


@pytest.fixture(scope="session")
def h2_cert(ca: trustme.CA, tmp_path_factory: pytest.TempPathFactory) -> CertFiles:
    """A certificate for 127.0.0.1 and localhost, also written to PEM files for hypercorn."""
    cert = ca.issue_cert("127.0.0.1", "localhost")
    folder = tmp_path_factory.mktemp("h2-cert")
    certfile = folder / "cert.pem"
    keyfile = folder / "key.pem"
    cert.cert_chain_pems[0].write_to_path(str(certfile))
    for extra in cert.cert_chain_pems[1:]:
        extra.write_to_path(str(certfile), append=True)
    cert.private_key_pem.write_to_path(str(keyfile))
    return CertFiles(cert, str(certfile), str(keyfile))


@pytest_asyncio.fixture
async def hyper(h2_cert: CertFiles) -> AsyncIterator[Callable[..., Awaitable[HyperServer]]]:
    """Factory: ``await hyper(tls=True, alpn=None, max_streams=None)`` -> a hypercorn server
    (TLS with ALPN, or cleartext HTTP/1.1 + h2c with ``tls=False``)."""
    started: list[HyperServer] = []

    async def start(
        tls: bool = True, alpn: list[str] | None = None, max_streams: int | None = None
    ) -> HyperServer:
        srv = HyperServer(
            certfile=h2_cert.certfile if tls else None,
            keyfile=h2_cert.keyfile if tls else None,
            alpn=alpn,
            max_streams=max_streams,
        )
        started.append(srv)
        return await srv.start()

    try:
        yield start
    finally:
        for srv in reversed(started):
            await srv.close()


@pytest_asyncio.fixture
async def scripted(
    h2_cert: CertFiles,
) -> AsyncIterator[Callable[..., Awaitable[ScriptedH2Server]]]:
    """Factory: ``await scripted(scenario, tls=False, settings=None, settings_update=None,
    handshake=True)`` (see ``ScriptedH2Server``).

    At teardown, an exception raised inside a scenario fails the test.
    """
    started: list[ScriptedH2Server] = []

    async def start(
        scenario: Scenario,
        tls: bool = False,
        settings: dict[int, int] | None = None,
        settings_update: dict[int, int] | None = None,
        handshake: bool = True,
    ) -> ScriptedH2Server:
        context = None
        if tls:
            context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            h2_cert.cert.configure_cert(context)
            context.set_alpn_protocols(["h2"])
        srv = ScriptedH2Server(scenario, ssl_context=context, settings=settings,
                               settings_update=settings_update, handshake=handshake)
        started.append(srv)
        return await srv.start()

    try:
        yield start
    finally:
        errors: list[BaseException] = []
        for srv in reversed(started):
            await srv.close()
            errors.extend(srv.errors)
        if errors:
            raise errors[0]




@pytest_asyncio.fixture
async def h2c() -> AsyncIterator[H2cServer]:
    """hypercorn on loopback speaking h2c with prior knowledge (see ``H2cServer``)."""
    srv = await H2cServer().start()
    try:
        yield srv
    finally:
        await srv.close()
