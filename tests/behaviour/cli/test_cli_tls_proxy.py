"""TLS options (--cacert, --insecure) against a loopback HTTPS server with a private CA, and
--proxy against a loopback server that answers absolute-form requests like a proxy."""

from __future__ import annotations

import ssl
from collections.abc import AsyncIterator
from pathlib import Path

import pytest_asyncio
import trustme
from support.app import AppServer, header_values, loads
from support.cli_run import cli


@pytest_asyncio.fixture
async def tls_server(tmp_path: Path) -> AsyncIterator[tuple[AppServer, Path]]:
    ca = trustme.CA()
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1").configure_cert(context)
    ca_file = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(ca_file))
    server = await AppServer(ssl_context=context).start()
    try:
        yield server, ca_file
    finally:
        await server.close()


async def test_untrusted_certificate_fails_cleanly(tls_server: tuple[AppServer, Path]) -> None:
    server, _ = tls_server
    result = await cli(server.url("/json"))
    assert result.code == 1
    assert result.err.startswith("aiosonic: TLS error")
    assert result.err.count("\n") == 1


async def test_cacert_and_insecure(tls_server: tuple[AppServer, Path]) -> None:
    server, ca_file = tls_server
    trusted = await cli("--cacert", str(ca_file), server.url("/json"))
    assert trusted.code == 0, trusted.err
    assert loads(trusted.out)["name"] == "aiosonic"
    insecure = await cli("--insecure", server.url("/json"))
    assert insecure.code == 0, insecure.err
    assert loads(insecure.out)["name"] == "aiosonic"


async def test_missing_cacert_file(tls_server: tuple[AppServer, Path], tmp_path: Path) -> None:
    server, _ = tls_server
    result = await cli("--cacert", str(tmp_path / "nope.pem"), server.url("/json"))
    assert result.code == 1
    assert result.err.startswith("aiosonic: error: cannot load --cacert")


async def test_proxy_receives_absolute_form(server: AppServer) -> None:
    result = await cli("--proxy", server.url("/"), "http://origin.invalid/echo?a=1")
    assert result.code == 0, result.err
    doc = loads(result.out)
    assert doc["raw_path"] == "http://origin.invalid/echo?a=1"
    assert header_values(doc, "Host") == ["origin.invalid"]
