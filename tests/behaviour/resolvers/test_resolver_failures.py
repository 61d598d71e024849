"""Name resolution failures: a scoped IPv6 link-local address keeps its scope, and the aiodns
resolver's failures (here a loopback DNS server that refuses every query) become clear
errors."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator

import pytest
import pytest_asyncio

import aiosonic
from aiosonic.exceptions import ConnectError
from aiosonic.resolver import AsyncResolver, ThreadedResolver


async def test_a_scoped_link_local_address_keeps_its_scope(request: pytest.FixtureRequest) -> None:
    try:
        scope = socket.if_nametoindex("lo")
    except OSError:
        pytest.skip("no loopback interface named lo")
    found = await ThreadedResolver().resolve("fe80::1%lo", 8080, family=socket.AF_INET6)
    assert [(entry["host"], entry["port"], entry["family"]) for entry in found] == [
        (f"fe80::1%{scope}", 8080, socket.AF_INET6)
    ]


class _RefusingDNS(asyncio.DatagramProtocol):
    """Answers every DNS query with REFUSED (RCODE 5), echoing the question."""

    transport: asyncio.DatagramTransport
    queries = 0

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        self.queries += 1
        header = data[:2] + b"\x81\x85" + data[4:6] + bytes(6)  # QR RD RA, REFUSED
        self.transport.sendto(header + data[12:], addr)


@pytest_asyncio.fixture
async def refusing_dns() -> AsyncIterator[tuple[str, _RefusingDNS]]:
    loop = asyncio.get_running_loop()
    transport, protocol = await loop.create_datagram_endpoint(
        _RefusingDNS, local_addr=("127.0.0.1", 0)
    )
    try:
        yield f"127.0.0.1:{transport.get_extra_info('sockname')[1]}", protocol
    finally:
        transport.close()


async def test_aiodns_failures_are_oserrors_naming_the_host(
    refusing_dns: tuple[str, _RefusingDNS],
) -> None:
    pytest.importorskip("aiodns")
    address, dns = refusing_dns
    resolver = AsyncResolver(nameservers=[address], timeout=1, tries=1)
    try:
        with pytest.raises(OSError, match=r"could not resolve 'nowhere\.invalid': .*refused"):
            await resolver.resolve("nowhere.invalid", 80)
    finally:
        await resolver.close()
    assert dns.queries >= 1


async def test_a_client_with_aiodns_reports_an_unresolvable_host_as_connect_error(
    refusing_dns: tuple[str, _RefusingDNS],
) -> None:
    pytest.importorskip("aiodns")
    address, _ = refusing_dns
    connector = aiosonic.TCPConnector(
        resolver=AsyncResolver(nameservers=[address], timeout=1, tries=1)
    )
    async with aiosonic.HTTPClient(connector=connector) as client:
        with pytest.raises(ConnectError, match=r"cannot resolve host 'nowhere\.invalid'"):
            await client.get("http://nowhere.invalid/")
