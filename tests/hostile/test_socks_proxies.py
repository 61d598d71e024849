"""Hostile SOCKS proxies (scripted raw servers on loopback): garbage, truncated, huge,
unsolicited and dribbled replies, resets. Every one ends in a clear error or a correct
tunnel, never a hang, and the proxy connection is closed on failure."""

from __future__ import annotations

import asyncio
import socket
import ssl
import struct
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from support.raw import RawServer
from support.socks_server import Collect

from aiosonic._deadline import Deadline
from aiosonic._socks import SocksProxy, create_socks_connection, open_socks, parse_socks_url
from aiosonic.exceptions import ConnectTimeout, ProxyError, TLSError

StartRaw = Callable[..., Awaitable[RawServer]]
Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]

TARGET = ("example.com", 80)
OK_REPLY = b"\x05\x00\x00\x01\x7f\x00\x00\x01\x00\x50"


class Scripted:
    """A proxy that runs ``script`` and then records whether the client closed on it."""

    def __init__(self, script: Handler) -> None:
        self.script = script
        self.client_closed = asyncio.Event()

    async def __call__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await self.script(reader, writer)
        try:
            while await reader.read(65536):
                pass
        except ConnectionError:
            pass
        self.client_closed.set()


async def start(
    raw_server: StartRaw, script: Handler, scheme: str = "socks5h"
) -> tuple[SocksProxy, Scripted]:
    scripted = Scripted(script)
    srv = await raw_server(handler=scripted)
    return parse_socks_url(f"{scheme}://{srv.netloc}"), scripted


async def fails(proxy: SocksProxy, match: str) -> ProxyError:
    with pytest.raises(ProxyError, match=match) as info:
        await asyncio.wait_for(open_socks(asyncio.get_running_loop(), proxy, *TARGET), 10)
    return info.value


async def test_http_server_instead_of_a_socks5_proxy(raw_server: StartRaw) -> None:
    async def script(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readexactly(3)
        writer.write(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n")

    proxy, scripted = await start(raw_server, script)
    await fails(proxy, r"is not a SOCKS5 proxy \(its reply begins b'HTTP/1.1'\)")
    await asyncio.wait_for(scripted.client_closed.wait(), 5)


async def test_garbage_instead_of_a_socks4_reply(raw_server: StartRaw) -> None:
    async def script(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read(100)
        writer.write(b"\xff" * 64)

    proxy, scripted = await start(raw_server, script, "socks4a")
    await fails(proxy, "is not a SOCKS4 proxy")
    await asyncio.wait_for(scripted.client_closed.wait(), 5)


async def test_closed_on_accept(raw_server: StartRaw) -> None:
    async def script(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.close()

    proxy, _ = await start(raw_server, script)
    error = await fails(proxy, "before sending its authentication method")
    assert error.status_code is None


@pytest.mark.parametrize(
    ("scheme", "replies", "match"),
    [
        ("socks5h", [b"\x05"], r"its authentication method \(1 bytes of it arrived\)"),
        ("socks5h", [b"\x05\x00", OK_REPLY[:7]], r"answer to CONNECT \(7 bytes of it arrived\)"),
        ("socks4a", [b"\x00\x5a\x00\x50"], r"answer to CONNECT \(4 bytes of it arrived\)"),
    ],
)
async def test_truncated_reply_then_close(
    raw_server: StartRaw, scheme: str, replies: list[bytes], match: str
) -> None:
    async def script(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        for reply in replies:
            await reader.read(300)
            writer.write(reply)
            await writer.drain()
        writer.close()

    proxy, _ = await start(raw_server, script, scheme)
    await fails(proxy, match)


async def test_truncated_reply_held_open_ends_at_the_callers_deadline(
    raw_server: StartRaw,
) -> None:
    async def script(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read(3)
        writer.write(b"\x05\x00")
        await reader.read(300)
        writer.write(OK_REPLY[:6])  # and then nothing more, connection open

    proxy, scripted = await start(raw_server, script)
    loop = asyncio.get_running_loop()
    deadline = Deadline(loop, loop.time() + 0.3, lambda: ConnectTimeout("SOCKS deadline"))
    with pytest.raises(ConnectTimeout, match="SOCKS deadline"), deadline:
        await open_socks(loop, proxy, *TARGET)
    await asyncio.wait_for(scripted.client_closed.wait(), 5)


async def test_short_refusal_held_open_is_not_waited_for(raw_server: StartRaw) -> None:
    async def script(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read(3)
        writer.write(b"\x05\x00")
        await reader.read(300)
        writer.write(b"\x05\x02")  # "not allowed by ruleset", and the rest never comes

    proxy, scripted = await start(raw_server, script)
    error = await fails(proxy, r"connection not allowed by ruleset \(reply code 2\)")
    assert error.status_code == 2
    await asyncio.wait_for(scripted.client_closed.wait(), 5)


async def test_huge_garbage_reply(raw_server: StartRaw) -> None:
    async def script(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read(3)
        writer.write(b"\x05\x00")
        await reader.read(300)
        try:
            for _ in range(64):  # 8 MiB, or until the client is gone
                writer.write(b"\x07" * 131072)
                await writer.drain()
        except ConnectionError:
            pass

    proxy, scripted = await start(raw_server, script)
    await fails(proxy, "malformed reply to CONNECT")
    await asyncio.wait_for(scripted.client_closed.wait(), 5)


async def test_unsolicited_replies_before_our_request(raw_server: StartRaw) -> None:
    async def script(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(b"\x05\x00" + OK_REPLY)  # answers CONNECT before it was asked

    proxy, _ = await start(raw_server, script)
    await fails(proxy, "sent 10 bytes more than its reply")


async def test_reset_during_the_handshake(raw_server: StartRaw) -> None:
    async def script(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read(3)
        sock = writer.get_extra_info("socket")
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        writer.transport.abort()  # RST

    proxy, _ = await start(raw_server, script)
    error = await fails(proxy, "before sending its authentication method: ")
    assert "reset" in str(error).lower()


async def test_reply_dribbled_byte_by_byte(raw_server: StartRaw) -> None:
    async def script(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readexactly(4)
        for byte in b"\x05\x02":
            writer.write(bytes([byte]))
            await asyncio.sleep(0.005)
        assert await reader.readexactly(5) == b"\x01\x01u\x01p"
        for byte in b"\x01\x00":
            writer.write(bytes([byte]))
            await asyncio.sleep(0.005)
        await reader.readexactly(4 + 1 + 11 + 2)
        for byte in b"\x05\x00\x00\x03\x09proxy.lan\x00\x50":
            writer.write(bytes([byte]))
            await asyncio.sleep(0.005)
        writer.write(b"220 hello\r\n")

    srv = await raw_server(handler=script)
    proxy = parse_socks_url(f"socks5h://u:p@{srv.netloc}")
    transport, protocol = await asyncio.wait_for(
        create_socks_connection(asyncio.get_running_loop(), Collect, proxy, *TARGET), 10
    )
    try:
        assert await protocol.until(b"\r\n") == b"220 hello\r\n"
    finally:
        transport.close()


async def test_bytes_after_the_reply_reach_the_callers_protocol_exactly_once(
    raw_server: StartRaw,
) -> None:
    """The reply and the target's first bytes in one segment, more later and a lot more:
    the caller's protocol sees every byte once, in order."""
    tail = bytes(range(256)) * 8192  # 2 MiB
    handed_over = asyncio.Event()  # open_socks returned: the client's reading is paused
    rest_written = asyncio.Event()

    async def script(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read(3)
        writer.write(b"\x05\x00")
        await reader.read(300)
        writer.write(b"\x05\x00\x00\x03\xff" + b"a" * 255 + b"\x00\x50" + b"HELLO ")
        await writer.drain()
        await asyncio.wait_for(handed_over.wait(), 10)
        # Written while the client does not read: what the socket holds arrives and waits,
        # the rest stays in this side's buffer (drain returns once the client reads again).
        writer.write(b"WORLD\n" + tail)
        rest_written.set()
        await writer.drain()
        writer.close()

    srv = await raw_server(handler=script)
    proxy = parse_socks_url(f"socks5h://{srv.netloc}")
    loop = asyncio.get_running_loop()
    transport, leftover = await asyncio.wait_for(open_socks(loop, proxy, *TARGET), 10)
    handed_over.set()
    assert leftover == b"HELLO "
    await asyncio.wait_for(rest_written.wait(), 10)  # the rest was sent, reading being paused
    protocol = Collect()
    transport.set_protocol(protocol)
    protocol.connection_made(transport)
    protocol.data_received(leftover)
    transport.resume_reading()
    data = await asyncio.wait_for(protocol.done, 10)
    assert data == b"HELLO WORLD\n" + tail


class SmallBuffers(asyncio.BufferedProtocol):
    """A buffered protocol offering 4 bytes at a time; ``done`` resolves with everything."""

    def __init__(self) -> None:
        self.data = bytearray()
        self.buffer = bytearray(4)
        self.done: asyncio.Future[bytes] = asyncio.get_running_loop().create_future()
        self.made = 0

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.made += 1

    def get_buffer(self, sizehint: int) -> bytearray:
        return self.buffer

    def buffer_updated(self, nbytes: int) -> None:
        self.data += self.buffer[:nbytes]

    def connection_lost(self, exc: Exception | None) -> None:
        self.done.set_result(bytes(self.data))


@pytest.mark.parametrize("factory", [Collect, SmallBuffers])
async def test_create_socks_connection_delivers_leftover(
    raw_server: StartRaw, factory: Any
) -> None:
    async def script(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read(100)
        writer.write(b"\x00\x5a\x00\x50\x7f\x00\x00\x01" + b"banner")
        await asyncio.sleep(0.05)
        writer.write(b" and more")
        writer.close()

    srv = await raw_server(handler=script)
    proxy = parse_socks_url(f"socks4a://{srv.netloc}")
    loop = asyncio.get_running_loop()
    _, protocol = await asyncio.wait_for(create_socks_connection(loop, factory, proxy, *TARGET), 10)
    assert protocol.made == 1
    assert await asyncio.wait_for(protocol.done, 10) == b"banner and more"


async def test_bytes_before_tls_are_refused(raw_server: StartRaw) -> None:
    async def script(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read(100)
        writer.write(b"\x00\x5a\x00\x50\x7f\x00\x00\x01" + b"not tls")

    srv = await raw_server(handler=script)
    proxy = parse_socks_url(f"socks4a://{srv.netloc}")
    with pytest.raises(TLSError, match="sent 7 bytes through the SOCKS proxy before the TLS"):
        await asyncio.wait_for(
            create_socks_connection(
                asyncio.get_running_loop(),
                Collect,
                proxy,
                "example.com",
                443,
                ssl=ssl.create_default_context(),
            ),
            10,
        )
