"""``close_all``: closing a client really releases its sockets, even when a TLS peer never
answers our close_notify."""

from __future__ import annotations

import asyncio
import socket
import ssl
import threading

import trustme
from support.raw import simple_response
from support.sockets import tcp_fds

import aiosonic

NO_LIMITS = aiosonic.Timeouts(sock_connect=None, sock_read=None, request_timeout=None)


async def test_closing_gives_up_on_a_tls_peer_that_never_answers_close_notify(
    ca: trustme.CA,
) -> None:
    # A TLS server that answers one request and then never reads again, so our close_notify
    # is never answered: close() must still end the connection (after a grace period).
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1").configure_cert(context)
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    done = threading.Event()

    def serve() -> None:
        raw, _ = listener.accept()
        tls = context.wrap_socket(raw, server_side=True)
        request = b""
        while b"\r\n\r\n" not in request:
            request += tls.recv(65536)
        tls.sendall(simple_response(b"hello"))
        done.wait(10)  # not reading: the client's close_notify waits unanswered
        tls.close()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    trusting = ssl.create_default_context()
    ca.configure_trust(trusting)
    try:
        client = aiosonic.HTTPClient()
        response = await client.get(f"https://127.0.0.1:{port}/", ssl=trusting)
        assert await response.content() == b"hello"
        assert len(tcp_fds(remote_port=port)) == 1
        await client.close()
        assert tcp_fds(remote_port=port) == []  # our socket is gone, answered or not
    finally:
        done.set()
        await asyncio.to_thread(thread.join, 10)
        listener.close()
