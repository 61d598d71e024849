"""Name resolution: the bundled resolvers, custom resolvers plugged into ``TCPConnector``, the
DNS cache, address fallback, and IPv6 on ``::1``. Everything stays on loopback: names are
mapped by the test's own resolver or come from ``/etc/hosts``."""

from __future__ import annotations

import asyncio
import socket
from typing import Any

import pytest
from support.app import AppServer, header_one, loads
from support.sockets import ipv6_available

import aiosonic
from aiosonic.exceptions import ConnectError
from aiosonic.resolver import AsyncResolver, ThreadedResolver

KEYS = {"hostname", "host", "port", "family", "proto", "flags"}


def entry(hostname: str, host: str, port: int) -> dict[str, Any]:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    return {"hostname": hostname, "host": host, "port": port, "family": family, "proto": 0,
            "flags": socket.AI_NUMERICHOST}


class MapResolver:
    """Resolves names from a fixed table (addresses tried in the given order); counts calls."""

    def __init__(self, table: dict[str, list[str]]) -> None:
        self.table = table
        self.calls: list[tuple[str, int]] = []
        self.closed = 0

    async def resolve(self, host: str, port: int = 0,
                      family: int = socket.AF_INET) -> list[dict[str, Any]]:
        self.calls.append((host, port))
        try:
            addresses = self.table[host]
        except KeyError:
            raise socket.gaierror(socket.EAI_NONAME, f"unknown test name {host!r}") from None
        return [entry(host, address, port) for address in addresses]

    async def close(self) -> None:
        self.closed += 1


class FailingResolver(MapResolver):
    def __init__(self, error: Exception | None) -> None:
        super().__init__({})
        self.error = error

    async def resolve(self, host: str, port: int = 0,
                      family: int = socket.AF_INET) -> list[dict[str, Any]]:
        self.calls.append((host, port))
        if self.error is not None:
            raise self.error
        return []


needs_ipv6 = pytest.mark.skipif(not ipv6_available(), reason="::1 is not available here")


# --------------------------------------------------------------------------- bundled resolvers


async def test_threaded_resolver_resolves_localhost():
    resolver = ThreadedResolver()
    try:
        answers = await resolver.resolve("localhost", 80)
    finally:
        await resolver.close()
    assert answers
    for answer in answers:
        assert set(answer) == KEYS
        assert answer["hostname"] == "localhost"
        assert answer["port"] == 80
        assert answer["family"] == socket.AF_INET  # the default family
    assert "127.0.0.1" in [a["host"] for a in answers]


async def test_threaded_resolver_with_an_ip_and_another_family():
    resolver = ThreadedResolver()
    try:
        v4 = await resolver.resolve("127.0.0.1", 8080)
        assert [(a["host"], a["port"], a["family"]) for a in v4] == [
            ("127.0.0.1", 8080, socket.AF_INET)
        ]
        if ipv6_available():
            v6 = await resolver.resolve("::1", 443, family=socket.AF_INET6)
            assert [(a["host"], a["port"], a["family"]) for a in v6] == [
                ("::1", 443, socket.AF_INET6)
            ]
    finally:
        await resolver.close()


async def test_async_resolver_resolves_localhost_from_hosts_file():
    pytest.importorskip("aiodns")
    resolver = AsyncResolver()
    try:
        try:
            answers = await asyncio.wait_for(resolver.resolve("localhost", 8080), 5)
        except (OSError, asyncio.TimeoutError) as exc:
            pytest.skip(f"c-ares cannot resolve localhost in this sandbox: {exc}")
    finally:
        await resolver.close()
    assert answers
    for answer in answers:
        assert set(answer) == KEYS
        assert answer["hostname"] == "localhost"
        assert answer["port"] == 8080
        assert answer["family"] == socket.AF_INET
    assert "127.0.0.1" in [a["host"] for a in answers]


async def test_async_resolver_in_a_connector(server, new_client):
    pytest.importorskip("aiodns")
    probe = AsyncResolver()
    try:
        await asyncio.wait_for(probe.resolve("localhost", 80), 5)
    except (OSError, asyncio.TimeoutError) as exc:
        pytest.skip(f"c-ares cannot resolve localhost in this sandbox: {exc}")
    finally:
        await probe.close()
    http = new_client(connector={"resolver": AsyncResolver()})
    resp = await http.get(server.url("/echo", host="localhost"))
    assert header_one(loads(await resp.content()), "Host") == f"localhost:{server.port}"


# --------------------------------------------------------------------------- custom resolvers


async def test_custom_resolver_maps_a_name_to_the_local_server(server, new_client):
    resolver = MapResolver({"my.test": ["127.0.0.1"]})
    http = new_client(connector={"resolver": resolver})
    resp = await http.get(f"http://my.test:{server.port}/echo/mapped")
    doc = loads(await resp.content())
    assert doc["path"] == "/echo/mapped"
    assert header_one(doc, "Host") == f"my.test:{server.port}"
    assert resolver.calls == [("my.test", server.port)]


async def test_custom_resolver_is_used_for_every_new_connection(server, new_client):
    resolver = MapResolver({"a.test": ["127.0.0.1"], "b.test": ["127.0.0.1"]})
    http = new_client(connector={"resolver": resolver, "use_dns_cache": False,
                                 "conn_max_requests": 1})
    for name in ("a.test", "b.test", "a.test"):
        resp = await http.get(f"http://{name}:{server.port}/echo")
        assert header_one(loads(await resp.content()), "Host") == f"{name}:{server.port}"
    assert resolver.calls == [
        ("a.test", server.port),
        ("b.test", server.port),
        ("a.test", server.port),
    ]
    assert len({s.peer_port for s in server.seen}) == 3


async def test_client_close_releases_the_resolver(server):
    resolver = MapResolver({"my.test": ["127.0.0.1"]})
    http = aiosonic.HTTPClient(connector=aiosonic.TCPConnector(resolver=resolver))
    try:
        await (await http.get(f"http://my.test:{server.port}/")).content()
    finally:
        await http.close()
    assert resolver.closed == 1


async def test_unknown_name_is_a_connect_error(server, new_client):
    resolver = MapResolver({})
    http = new_client(connector={"resolver": resolver})
    with pytest.raises(ConnectError) as excinfo:
        await http.get(f"http://nowhere.test:{server.port}/")
    assert "nowhere.test" in str(excinfo.value)
    assert server.seen == []


@pytest.mark.parametrize(
    "error",
    [OSError("resolver exploded"), socket.gaierror(socket.EAI_AGAIN, "temporary failure"), None],
    ids=["oserror", "gaierror", "no-addresses"],
)
async def test_resolver_failures_are_connect_errors(server, new_client, error):
    http = new_client(connector={"resolver": FailingResolver(error)})
    with pytest.raises(ConnectError):
        await http.get(f"http://broken.test:{server.port}/")
    assert server.seen == []


# --------------------------------------------------------------------------- DNS cache


async def test_dns_cache_reuses_answers_within_the_ttl(server, new_client):
    resolver = MapResolver({"cached.test": ["127.0.0.1"]})
    http = new_client(connector={"resolver": resolver, "conn_max_requests": 1})
    for _ in range(3):
        await (await http.get(f"http://cached.test:{server.port}/echo")).content()
    assert len({s.peer_port for s in server.seen}) == 3  # three connections...
    assert len(resolver.calls) == 1  # ...one resolution


async def test_dns_cache_disabled_resolves_each_connection(server, new_client):
    resolver = MapResolver({"fresh.test": ["127.0.0.1"]})
    http = new_client(connector={"resolver": resolver, "conn_max_requests": 1,
                                 "use_dns_cache": False})
    for _ in range(3):
        await (await http.get(f"http://fresh.test:{server.port}/echo")).content()
    assert len({s.peer_port for s in server.seen}) == 3
    assert len(resolver.calls) == 3


async def test_dns_cache_entry_expires_after_the_ttl(server, new_client):
    resolver = MapResolver({"ttl.test": ["127.0.0.1"]})
    http = new_client(connector={"resolver": resolver, "conn_max_requests": 1,
                                 "ttl_dns_cache": 100})
    await (await http.get(f"http://ttl.test:{server.port}/echo")).content()
    await (await http.get(f"http://ttl.test:{server.port}/echo")).content()
    assert len(resolver.calls) == 1
    await asyncio.sleep(0.15)
    await (await http.get(f"http://ttl.test:{server.port}/echo")).content()
    assert len(resolver.calls) == 2


async def test_kept_alive_connection_does_not_resolve_again(server, new_client):
    resolver = MapResolver({"keep.test": ["127.0.0.1"]})
    http = new_client(connector={"resolver": resolver, "use_dns_cache": False})
    for _ in range(3):
        await (await http.get(f"http://keep.test:{server.port}/echo")).content()
    assert len({s.peer_port for s in server.seen}) == 1
    assert len(resolver.calls) == 1


async def test_ip_literals_never_call_the_resolver(server, new_client):
    resolver = MapResolver({})
    http = new_client(connector={"resolver": resolver, "use_dns_cache": False,
                                 "conn_max_requests": 1})
    for _ in range(2):
        await (await http.get(server.url("/echo"))).content()
    assert resolver.calls == []


# --------------------------------------------------------------------------- address order


async def test_addresses_are_tried_in_order_until_one_connects(server, new_client):
    # ::1 first: nothing listens there on this port (or IPv6 is absent), so 127.0.0.1 is next
    resolver = MapResolver({"dual.test": ["::1", "127.0.0.1"]})
    http = new_client(connector={"resolver": resolver})
    resp = await http.get(f"http://dual.test:{server.port}/echo")
    assert resp.status_code == 200
    assert header_one(loads(await resp.content()), "Host") == f"dual.test:{server.port}"


async def test_every_address_failing_is_a_connect_error(new_client):
    with socket.socket() as placeholder:
        placeholder.bind(("127.0.0.1", 0))  # bound, not listening: connections are refused
        port = placeholder.getsockname()[1]
        resolver = MapResolver({"dead.test": ["127.0.0.1", "127.0.0.1"]})
        http = new_client(connector={"resolver": resolver})
        with pytest.raises(ConnectError):
            await http.get(f"http://dead.test:{port}/")


# --------------------------------------------------------------------------- IPv6


@pytest.fixture
async def server6():
    if not ipv6_available():
        pytest.skip("::1 is not available here")
    srv = await AppServer(host="::1").start()
    try:
        yield srv
    finally:
        await srv.close()


async def test_ipv6_literal_url(server6, client):
    resp = await client.get(f"http://[::1]:{server6.port}/echo/v6?x=1")
    doc = loads(await resp.content())
    assert (doc["path"], doc["query"]) == ("/echo/v6", "x=1")
    assert header_one(doc, "Host") == f"[::1]:{server6.port}"


@needs_ipv6
async def test_name_resolving_to_ipv6_only(server6, new_client):
    resolver = MapResolver({"six.test": ["::1"]})
    http = new_client(connector={"resolver": resolver})
    resp = await http.get(f"http://six.test:{server6.port}/echo")
    assert header_one(loads(await resp.content()), "Host") == f"six.test:{server6.port}"
