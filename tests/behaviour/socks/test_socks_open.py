"""open_socks and create_socks_connection through a real SOCKS server on loopback, with
real HTTP (and HTTPS) exchanges to an aiohttp application through the tunnel."""

from __future__ import annotations

import asyncio
import socket
import ssl
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from support.app import HOST, AppServer, loads
from support.raw import RawServer, refused_port
from support.socks_server import Collect, SocksServer, http_get

from aiosonic._deadline import Deadline
from aiosonic._http11_conn import HTTP11Protocol
from aiosonic._socks import (
    SocksProxy,
    create_socks_connection,
    open_socks,
    parse_socks_url,
)
from aiosonic.exceptions import (
    ConnectError,
    ConnectTimeout,
    InvalidRequest,
    ProxyError,
    TLSError,
)
from aiosonic.resolver import ThreadedResolver

StartSocks = Callable[..., Awaitable[SocksServer]]


async def get_through(
    proxy: SocksProxy, host: str, port: int, path: str = "/echo", **kwargs: Any
) -> tuple[bytes, dict[str, Any]]:
    """GET ``path`` through the proxy with raw bytes; (status line, JSON body)."""
    loop = asyncio.get_running_loop()
    transport, protocol = await create_socks_connection(loop, Collect, proxy, host, port, **kwargs)
    transport.write(http_get(path, f"{host}:{port}"))
    raw = await asyncio.wait_for(protocol.done, 5)
    head, _, body = raw.partition(b"\r\n\r\n")
    return head.split(b"\r\n")[0], loads(body)


async def test_socks5_no_auth_http_request(socks: StartSocks, server: AppServer) -> None:
    proxy_server = await socks()
    proxy = parse_socks_url(proxy_server.url("socks5"))
    status, doc = await get_through(proxy, HOST, server.port, "/echo/through?x=1")
    assert status == b"HTTP/1.1 200 OK"
    assert doc["path"] == "/echo/through" and doc["query"] == "x=1"
    (request,) = proxy_server.requests
    assert (request.version, request.kind, request.host, request.port, request.user) == (
        5,
        "ipv4",
        HOST,
        server.port,
        None,
    )
    # the origin saw the proxy's outgoing connection, not ours
    assert server.state.requests == 1


async def test_open_socks_returns_paused_transport_and_caller_takes_over(
    socks: StartSocks, server: AppServer
) -> None:
    proxy_server = await socks()
    loop = asyncio.get_running_loop()
    transport, leftover = await open_socks(
        loop, parse_socks_url(proxy_server.url("socks5h")), HOST, server.port
    )
    assert leftover == b""
    assert not transport.is_reading()
    protocol = Collect()
    transport.set_protocol(protocol)
    protocol.connection_made(transport)
    transport.resume_reading()
    transport.write(http_get("/json", HOST))
    raw = await asyncio.wait_for(protocol.done, 5)
    assert raw.startswith(b"HTTP/1.1 200 OK\r\n")
    assert loads(raw.partition(b"\r\n\r\n")[2])["name"] == "aiosonic"


async def test_socks5_user_password_with_aiosonic_http11_protocol(
    socks: StartSocks, server: AppServer
) -> None:
    proxy_server = await socks(users={"alice": "p@ss:w0rd"})
    proxy = parse_socks_url(f"socks5://alice:p%40ss%3Aw0rd@{proxy_server.netloc}")
    loop = asyncio.get_running_loop()

    class Owner:
        ended: list[bool] = []

        def exchange_done(self, keep_alive: bool) -> None:
            self.ended.append(keep_alive)

    owner = Owner()
    transport, protocol = await create_socks_connection(
        loop, lambda: HTTP11Protocol(loop, owner), proxy, HOST, server.port
    )
    try:
        for n in (1, 2):  # keep-alive: two exchanges on the one tunnel
            head = f"GET /bytes/{n * 1000} HTTP/1.1\r\nHost: {HOST}:{server.port}\r\n\r\n"
            waiter = protocol.start(
                head.encode(), None, head_request=False, deadline=None, sock_read=None
            )
            response = await asyncio.wait_for(waiter, 5)
            assert response.status_code == 200
            assert len(await response.content()) == n * 1000
    finally:
        transport.close()
        await protocol.wait_lost()
    assert owner.ended == [True, True]
    assert [r.user for r in proxy_server.requests] == ["alice"]
    assert len(set(server.state.ports)) == 1


async def test_socks5_wrong_password(socks: StartSocks, server: AppServer) -> None:
    proxy_server = await socks(users={"alice": "secret"})
    proxy = SocksProxy("socks5", HOST, proxy_server.port, "alice", "nope")
    with pytest.raises(ProxyError, match="authentication failed") as info:
        await open_socks(asyncio.get_running_loop(), proxy, HOST, server.port)
    assert "nope" not in str(info.value)
    assert proxy_server.auth_failures == 1 and proxy_server.requests == []


async def test_socks5_credentials_required_but_not_given(
    socks: StartSocks, server: AppServer
) -> None:
    proxy_server = await socks(users={"alice": "secret"})
    proxy = parse_socks_url(proxy_server.url("socks5"))
    with pytest.raises(ProxyError, match="none of our authentication methods"):
        await open_socks(asyncio.get_running_loop(), proxy, HOST, server.port)


async def test_socks5h_sends_the_host_name(socks: StartSocks, server: AppServer) -> None:
    proxy_server = await socks()
    proxy = parse_socks_url(proxy_server.url("socks5h"))
    status, doc = await get_through(proxy, "localhost", server.port)
    assert status == b"HTTP/1.1 200 OK" and doc["method"] == "GET"
    (request,) = proxy_server.requests
    assert (request.kind, request.host) == ("domain", "localhost")


@pytest.mark.parametrize("scheme", ["socks5", "socks4"])
async def test_local_dns_sends_an_address(
    socks: StartSocks, server: AppServer, scheme: str
) -> None:
    proxy_server = await socks()
    proxy = parse_socks_url(proxy_server.url(scheme))
    resolver = ThreadedResolver()
    for resolve in (None, lambda host, port: resolver.resolve(host, port, socket.AF_INET)):
        status, _ = await get_through(proxy, "localhost", server.port, resolve=resolve)
        assert status == b"HTTP/1.1 200 OK"
    assert [(r.kind, r.host) for r in proxy_server.requests] == [("ipv4", "127.0.0.1")] * 2


async def test_local_dns_failure_is_a_connect_error(socks: StartSocks) -> None:
    proxy_server = await socks()
    proxy = parse_socks_url(proxy_server.url("socks5"))
    with pytest.raises(ConnectError, match=r"cannot resolve host 'no-such-host\.invalid'"):
        await open_socks(asyncio.get_running_loop(), proxy, "no-such-host.invalid", 80)
    assert proxy_server.connections == 0


async def test_socks4a_sends_the_host_name(socks: StartSocks, server: AppServer) -> None:
    proxy_server = await socks()
    proxy = parse_socks_url(f"socks4a://carol@{proxy_server.netloc}")
    status, _ = await get_through(proxy, "localhost", server.port)
    assert status == b"HTTP/1.1 200 OK"
    (request,) = proxy_server.requests
    assert (request.version, request.kind, request.host, request.user) == (
        4,
        "domain",
        "localhost",
        "carol",
    )


async def test_socks4_with_an_ip_and_user_id(socks: StartSocks, server: AppServer) -> None:
    proxy_server = await socks(user_ids={"dave"})
    status, _ = await get_through(
        parse_socks_url(f"socks4://dave@{proxy_server.netloc}"), HOST, server.port
    )
    assert status == b"HTTP/1.1 200 OK"
    assert [(r.version, r.kind, r.host, r.user) for r in proxy_server.requests] == [
        (4, "ipv4", HOST, "dave")
    ]
    with pytest.raises(ProxyError, match="identd reports a different user id") as info:
        await open_socks(
            asyncio.get_running_loop(),
            parse_socks_url(f"socks4://eve@{proxy_server.netloc}"),
            HOST,
            server.port,
        )
    assert info.value.status_code == 93


async def test_socks4_refuses_ipv6_target_before_connecting(socks: StartSocks) -> None:
    proxy_server = await socks()
    with pytest.raises(InvalidRequest, match="IPv4 addresses only"):
        await open_socks(
            asyncio.get_running_loop(), parse_socks_url(proxy_server.url("socks4")), "::1", 80
        )
    assert proxy_server.connections == 0


@pytest.mark.parametrize(
    ("scheme", "code", "reason"),
    [
        ("socks5", 5, "connection refused by destination host"),
        ("socks5h", 5, "connection refused by destination host"),
        ("socks4", 91, "request rejected or failed"),
        ("socks4a", 91, "request rejected or failed"),
    ],
)
async def test_target_port_closed(socks: StartSocks, scheme: str, code: int, reason: str) -> None:
    proxy_server = await socks()
    closed = refused_port()
    try:
        port = closed.getsockname()[1]
        with pytest.raises(ProxyError) as info:
            await open_socks(
                asyncio.get_running_loop(), parse_socks_url(proxy_server.url(scheme)), HOST, port
            )
    finally:
        closed.close()
    assert info.value.status_code == code
    assert str(info.value) == (
        f"SOCKS{scheme[5]} proxy refused the connection to {HOST}:{port}: "
        f"{reason} (reply code {code})"
    )


async def test_socks5h_unknown_host_is_host_unreachable(socks: StartSocks) -> None:
    proxy_server = await socks()
    with pytest.raises(ProxyError, match=r"host unreachable \(reply code 4\)"):
        await open_socks(
            asyncio.get_running_loop(),
            parse_socks_url(proxy_server.url("socks5h")),
            "no-such-host.invalid",
            80,
        )


async def test_proxy_not_listening_is_a_connect_error() -> None:
    closed = refused_port()
    try:
        port = closed.getsockname()[1]
        proxy = parse_socks_url(f"socks5://u:secret@{HOST}:{port}")
        with pytest.raises(ConnectError) as info:
            await open_socks(asyncio.get_running_loop(), proxy, HOST, 80)
    finally:
        closed.close()
    assert not isinstance(info.value, ProxyError)
    assert str(info.value).startswith(f"cannot connect to SOCKS proxy {HOST}:{port}: ")
    assert "secret" not in str(info.value)


async def test_proxy_host_name_resolved_through_the_callers_resolver(
    socks: StartSocks, server: AppServer
) -> None:
    proxy_server = await socks()
    asked: list[tuple[str, int]] = []
    resolver = ThreadedResolver()

    async def resolve(host: str, port: int) -> list[dict[str, Any]]:
        asked.append((host, port))
        return await resolver.resolve(host, port, socket.AF_INET)

    proxy = parse_socks_url(f"socks5h://localhost:{proxy_server.port}")
    status, _ = await get_through(proxy, HOST, server.port, resolve=resolve)
    assert status == b"HTTP/1.1 200 OK"
    assert asked == [("localhost", proxy_server.port)]
    with pytest.raises(ConnectError, match="no address of the requested family"):
        await open_socks(
            asyncio.get_running_loop(),
            proxy,
            HOST,
            server.port,
            family=socket.AF_INET6,
            resolve=resolve,
        )


async def test_proxy_on_ipv6_loopback(socks: StartSocks, server: AppServer) -> None:
    if not socket.has_ipv6:
        pytest.skip("no IPv6")
    try:
        proxy_server = await socks(host="::1")
    except OSError:
        pytest.skip("no IPv6 loopback")
    proxy = parse_socks_url(proxy_server.url("socks5"))
    assert proxy.host == "::1"
    status, _ = await get_through(proxy, HOST, server.port)
    assert status == b"HTTP/1.1 200 OK"


# ---------------------------------------------------------------------------------- HTTPS


async def test_https_through_socks5h(
    socks: StartSocks, localhost_tls_server: AppServer, trusting_context: ssl.SSLContext
) -> None:
    proxy_server = await socks(users={"u": "p"})
    proxy = parse_socks_url(f"socks5h://u:p@{proxy_server.netloc}")
    status, doc = await get_through(
        proxy, "localhost", localhost_tls_server.port, "/echo/tls", ssl=trusting_context
    )
    assert status == b"HTTP/1.1 200 OK" and doc["path"] == "/echo/tls"
    assert proxy_server.requests[0].host == "localhost"


async def test_https_start_tls_on_the_returned_transport(
    socks: StartSocks, localhost_tls_server: AppServer, trusting_context: ssl.SSLContext
) -> None:
    """What a connector does: open_socks, then start_tls with the target's name."""
    proxy_server = await socks()
    loop = asyncio.get_running_loop()
    transport, leftover = await open_socks(
        loop, parse_socks_url(proxy_server.url("socks4a")), "localhost", localhost_tls_server.port
    )
    assert leftover == b""
    protocol = Collect()
    tls = await loop.start_tls(transport, protocol, trusting_context, server_hostname="localhost")
    assert tls is not None and protocol.made == 0  # start_tls does not call connection_made
    protocol.connection_made(tls)
    tls.write(http_get("/json", "localhost"))
    raw = await asyncio.wait_for(protocol.done, 5)
    assert raw.startswith(b"HTTP/1.1 200 OK\r\n")


async def test_https_wrong_name_is_a_tls_error(
    socks: StartSocks, localhost_tls_server: AppServer, trusting_context: ssl.SSLContext
) -> None:
    proxy_server = await socks()
    proxy = parse_socks_url(proxy_server.url("socks5"))
    with pytest.raises(TLSError, match="through SOCKS proxy") as caught:
        await create_socks_connection(
            asyncio.get_running_loop(),
            Collect,
            proxy,
            HOST,  # the certificate is for localhost only
            localhost_tls_server.port,
            ssl=trusting_context,
        )
    assert isinstance(caught.value, ssl.SSLCertVerificationError)
    assert caught.value.verify_code == 64  # X509_V_ERR_IP_ADDRESS_MISMATCH: HOST is an IP


# ------------------------------------------------------------------ cancellation and deadline


async def never_answers(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """Read everything and answer nothing; return once the client has closed."""
    while await reader.read(1024):
        pass


async def test_caller_deadline_closes_the_proxy_connection(
    raw_server: Callable[..., Awaitable[RawServer]],
) -> None:
    seen_close = asyncio.Event()

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await never_answers(reader, writer)
        seen_close.set()

    silent = await raw_server(handler=handler)
    proxy = parse_socks_url(f"socks5h://{silent.netloc}")
    loop = asyncio.get_running_loop()

    def expired() -> Exception:
        return ConnectTimeout("deadline")

    with (
        pytest.raises(ConnectTimeout, match="deadline"),
        Deadline(loop, loop.time() + 0.2, expired),
    ):
        await open_socks(loop, proxy, "example.com", 80)
    await asyncio.wait_for(seen_close.wait(), 5)


async def test_cancelled_task_closes_the_proxy_connection(
    raw_server: Callable[..., Awaitable[RawServer]],
) -> None:
    connected, seen_close = asyncio.Event(), asyncio.Event()

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        connected.set()
        await never_answers(reader, writer)
        seen_close.set()

    silent = await raw_server(handler=handler)
    proxy = parse_socks_url(f"socks4a://{silent.netloc}")
    task = asyncio.ensure_future(open_socks(asyncio.get_running_loop(), proxy, "example.com", 80))
    await asyncio.wait_for(connected.wait(), 5)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    await asyncio.wait_for(seen_close.wait(), 5)
