"""Connection lifetimes: ``Deadline`` (the connect-time limit) and ``close_all`` (closing a
client really releases its sockets, even when a TLS peer never answers our close_notify)."""

from __future__ import annotations

import asyncio
import socket
import ssl
import sys
import threading

import pytest
import trustme
from servers import AppServer, loads, simple_response
from web.webapp import tcp_fds

import aiosonic
from aiosonic._deadline import Deadline

NO_LIMITS = aiosonic.Timeouts(sock_connect=None, sock_read=None, request_timeout=None)


async def test_requests_without_any_time_limit_connect_and_complete(server: AppServer) -> None:
    async with aiosonic.HTTPClient() as client:
        response = await client.get(server.url("/echo"), timeouts=NO_LIMITS)
        assert loads(await response.content())["method"] == "GET"


async def test_a_deadline_outside_a_task_is_refused() -> None:
    loop = asyncio.get_running_loop()
    outcome: asyncio.Future[BaseException] = loop.create_future()

    def in_a_callback() -> None:
        try:
            with Deadline(loop, loop.time() + 1, lambda: TimeoutError("late")):
                pass
        except RuntimeError as exc:
            outcome.set_result(exc)

    loop.call_soon(in_a_callback)
    assert str(await outcome) == "Deadline must be used inside a task"


async def test_a_cancellation_from_outside_wins_over_a_deadline_firing_with_it() -> None:
    loop = asyncio.get_running_loop()
    when = loop.time() + 0.05

    async def connect_like() -> None:
        with Deadline(loop, when, lambda: TimeoutError("deadline")):
            await asyncio.sleep(10)

    task = asyncio.create_task(connect_like())
    loop.call_at(when, task.cancel)  # the caller cancels in the same loop turn
    with pytest.raises((asyncio.CancelledError, TimeoutError)) as raised:
        await task
    # Before 3.11 a task cannot tell the two apart; since then the caller's cancel wins.
    expected = asyncio.CancelledError if sys.version_info >= (3, 11) else TimeoutError
    assert type(raised.value) is expected


@pytest.fixture(scope="module")
def local_ca() -> trustme.CA:
    return trustme.CA()


async def test_closing_gives_up_on_a_tls_peer_that_never_answers_close_notify(
    local_ca: trustme.CA,
) -> None:
    # A TLS server that answers one request and then never reads again, so our close_notify
    # is never answered: close() must still end the connection (after a grace period).
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    local_ca.issue_cert("127.0.0.1").configure_cert(context)
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
    local_ca.configure_trust(trusting)
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
