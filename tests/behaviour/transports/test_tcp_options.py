"""The sockets the dialer opens: TCP_NODELAY on every event loop (a request head or the
last frame of an HTTP/2 window must not wait for the peer's delayed ACK)."""

from __future__ import annotations

import socket

from support.app import AppServer
from support.waits import pooled_protocols

import aiosonic


async def test_a_dialed_connection_has_nagle_off(server: AppServer) -> None:
    async with aiosonic.HTTPClient() as client:
        assert (await client.get(server.url("/echo"))).status_code == 200
        (protocol,) = pooled_protocols(client)
        sock = protocol.transport.get_extra_info("socket")
        assert sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) != 0
