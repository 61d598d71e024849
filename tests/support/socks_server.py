"""A small but complete SOCKS4/4a/5 server for the tests, written from the RFCs.

It serves CONNECT only: SOCKS5 (RFC 1928) with "no authentication" or user name and
password (RFC 1929), address types IPv4, IPv6 and domain name (resolved here: "remote
DNS"); SOCKS4 with an IPv4 address and SOCKS4a with a host name, and optional user ids.
Refusals use the real reply codes (a refused target gives SOCKS5 REP=5, SOCKS4 CD=91).
After a successful reply it relays bytes both ways until either side closes.

Why not pproxy: it replies "granted" before it has connected to the target (so a closed
target port cannot be reported), it cannot serve SOCKS4a, and it remembers an
authenticated client by IP address (a wrong password from 127.0.0.1 then passes). It is
still used as an independent implementation in ``test_socks_pproxy.py``.

Each accepted CONNECT is recorded in ``requests`` (what the client asked for, as sent).
Runs inside ``servers.RawServer``, which owns the listening socket and its cleanup.
``Collect`` is the other end: a protocol that gathers what comes out of a tunnel.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import socket
from dataclasses import dataclass
from typing import cast

from .raw import HOST, RawServer


@dataclass
class SocksRequest:
    version: int  # 4 or 5
    kind: str  # "ipv4", "ipv6" or "domain"
    host: str
    port: int
    user: str | None


class SocksServer:
    """``await SocksServer(users={"alice": "secret"}).start()``; ``close()`` at the end.

    ``users``: SOCKS5 requires one of these user name / password pairs (no auth without).
    ``user_ids``: SOCKS4 requires one of these user ids (any without).
    """

    def __init__(
        self,
        users: dict[str, str] | None = None,
        user_ids: set[str] | None = None,
        host: str = HOST,
    ) -> None:
        self.users = users
        self.user_ids = user_ids
        self.requests: list[SocksRequest] = []
        self.auth_failures = 0
        self.relayed_to_target = 0
        self._raw = RawServer(handler=self._handle, host=host)
        self._writers: set[asyncio.StreamWriter] = set()
        self._active = 0

    async def start(self) -> SocksServer:
        await self._raw.start()
        return self

    @property
    def port(self) -> int:
        return self._raw.port

    @property
    def netloc(self) -> str:
        return self._raw.netloc

    @property
    def connections(self) -> int:
        return self._raw.connections

    def url(self, scheme: str, auth: str = "") -> str:
        return f"{scheme}://{auth + '@' if auth else ''}{self.netloc}"

    async def close(self) -> None:
        # End live tunnels by closing their sockets first, so that handlers return on
        # their own: on Python 3.11 a client task cancelled by RawServer.close() is
        # reported by asyncio as an "unhandled exception in client_connected_cb".
        for writer in list(self._writers):
            writer.close()
        for _ in range(100):
            if not self._active:
                break
            await asyncio.sleep(0.01)
        await self._raw.close()

    # -- one client -------------------------------------------------------------------------

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._active += 1
        self._writers.add(writer)
        try:
            version = (await reader.readexactly(1))[0]
            if version == 5:
                await self._socks5(reader, writer)
            elif version == 4:
                await self._socks4(reader, writer)
        finally:
            self._writers.discard(writer)
            self._active -= 1

    async def _socks5(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        count = (await reader.readexactly(1))[0]
        methods = await reader.readexactly(count)
        user: str | None = None
        if self.users is None:
            if 0 not in methods:
                writer.write(b"\x05\xff")
                return
            writer.write(b"\x05\x00")
        else:
            if 2 not in methods:
                writer.write(b"\x05\xff")
                return
            writer.write(b"\x05\x02")
            if (await reader.readexactly(1))[0] != 1:
                return
            name = (await reader.readexactly((await reader.readexactly(1))[0])).decode()
            secret = (await reader.readexactly((await reader.readexactly(1))[0])).decode()
            if self.users.get(name) != secret:
                self.auth_failures += 1
                writer.write(b"\x01\x01")
                return
            writer.write(b"\x01\x00")
            user = name
        ver, cmd, _rsv, atyp = await reader.readexactly(4)
        if ver != 5:
            return
        if atyp == 1:
            kind, host = "ipv4", str(ipaddress.IPv4Address(await reader.readexactly(4)))
        elif atyp == 4:
            kind, host = "ipv6", str(ipaddress.IPv6Address(await reader.readexactly(16)))
        elif atyp == 3:
            size = (await reader.readexactly(1))[0]
            kind, host = "domain", (await reader.readexactly(size)).decode("ascii")
        else:
            writer.write(b"\x05\x08\x00\x01" + bytes(6))
            return
        port = int.from_bytes(await reader.readexactly(2), "big")
        self.requests.append(SocksRequest(5, kind, host, port, user))
        if cmd != 1:
            writer.write(b"\x05\x07\x00\x01" + bytes(6))
            return
        try:
            target = await asyncio.open_connection(host, port)
        except socket.gaierror:
            writer.write(b"\x05\x04\x00\x01" + bytes(6))
            return
        except ConnectionRefusedError:
            writer.write(b"\x05\x05\x00\x01" + bytes(6))
            return
        except OSError:
            writer.write(b"\x05\x01\x00\x01" + bytes(6))
            return
        bound_host, bound_port = target[1].get_extra_info("sockname")[:2]
        bound = ipaddress.ip_address(bound_host)
        atyp_out = b"\x01" if bound.version == 4 else b"\x04"
        writer.write(b"\x05\x00\x00" + atyp_out + bound.packed + bound_port.to_bytes(2, "big"))
        await self._relay(reader, writer, *target)

    async def _socks4(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        cmd = (await reader.readexactly(1))[0]
        port = int.from_bytes(await reader.readexactly(2), "big")
        ip = await reader.readexactly(4)
        user = (await reader.readuntil(b"\0"))[:-1].decode()
        if ip[:3] == b"\0\0\0" and ip[3] != 0:
            kind, host = "domain", (await reader.readuntil(b"\0"))[:-1].decode("ascii")
        else:
            kind, host = "ipv4", str(ipaddress.IPv4Address(ip))
        self.requests.append(SocksRequest(4, kind, host, port, user))
        refuse = b"\x00\x5b" + bytes(6)
        if cmd != 1:
            writer.write(refuse)
            return
        if self.user_ids is not None and user not in self.user_ids:
            self.auth_failures += 1
            writer.write(b"\x00\x5d" + bytes(6))
            return
        try:
            target = await asyncio.open_connection(host, port, family=socket.AF_INET)
        except OSError:
            writer.write(refuse)
            return
        writer.write(b"\x00\x5a" + port.to_bytes(2, "big") + ip)
        await self._relay(reader, writer, *target)

    async def _relay(
        self,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        target_reader: asyncio.StreamReader,
        target_writer: asyncio.StreamWriter,
    ) -> None:
        self._writers.add(target_writer)
        try:
            await asyncio.gather(
                self._pump(reader, target_writer, to_target=True),
                self._pump(target_reader, writer, to_target=False),
            )
        finally:
            self._writers.discard(target_writer)
            target_writer.close()
            with contextlib.suppress(Exception, asyncio.CancelledError):
                await target_writer.wait_closed()

    async def _pump(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, to_target: bool
    ) -> None:
        try:
            while data := await reader.read(65536):
                if to_target:
                    self.relayed_to_target += len(data)
                writer.write(data)
                await writer.drain()
            if not writer.is_closing() and writer.can_write_eof():
                writer.write_eof()
        except ConnectionError:
            writer.close()


# --------------------------------------------------------------------------------------------
# The client end of a tunnel, for the tests
# --------------------------------------------------------------------------------------------


class Collect(asyncio.Protocol):
    """Collects what arrives; ``done`` resolves (with all bytes) when the connection ends."""

    def __init__(self) -> None:
        self.data = bytearray()
        self.done: asyncio.Future[bytes] = asyncio.get_running_loop().create_future()
        self.transport: asyncio.Transport | None = None
        self.made = 0
        self._arrived = asyncio.Event()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)  # uvloop's are not subclasses
        self.made += 1

    def data_received(self, data: bytes) -> None:
        self.data += data
        self._arrived.set()

    def eof_received(self) -> bool:
        return False

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.done.done():
            self.done.set_result(bytes(self.data))
        self._arrived.set()

    async def until(self, marker: bytes, timeout: float = 5) -> bytes:
        """Wait until ``marker`` has arrived or the connection ended; all bytes so far."""

        async def wait() -> None:
            while marker not in self.data and not self.done.done():
                self._arrived.clear()
                await self._arrived.wait()

        await asyncio.wait_for(wait(), timeout)
        return bytes(self.data)


def http_get(path: str, host: str) -> bytes:
    """A minimal HTTP/1.1 request that asks the server to close afterwards."""
    return f"GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n".encode()
