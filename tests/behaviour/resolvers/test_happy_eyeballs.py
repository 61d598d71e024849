"""Happy Eyeballs (RFC 8305): a name's addresses race, the next one starting when the one
before has not connected within ``happy_eyeballs_delay`` or has failed; the first to connect
wins and every other attempt is closed. Also the resolver protocol's optional ``close()``.

A black hole here is a loopback listener with a backlog of 0 whose one queue place is taken
by a connection nobody accepts: Linux then drops every further SYN, so a connect to it
neither succeeds nor fails until the client gives up. Every address is a loopback one; the
test's resolver answers which (and each answer's port).
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import time
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import pytest
import pytest_asyncio
from support.app import AppServer, header_one, loads
from support.sockets import ipv6_available, tcp_fds
from support.socks_server import SocksServer
from support.waits import eventually

import aiosonic
from aiosonic._dial import interleave_addresses
from aiosonic.exceptions import ConnectError, ConnectTimeout
from aiosonic.timeout import Timeouts


def answer(host: str, port: int) -> dict[str, Any]:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    return {"hostname": "race.test", "host": host, "port": port, "family": family,
            "proto": 0, "flags": socket.AI_NUMERICHOST}


class ListResolver:
    """Answers the same (host, port) list for every name, in that order; no ``close``."""

    def __init__(self, *addresses: tuple[str, int]) -> None:
        self.addresses = addresses

    async def resolve(self, host: str, port: int = 0,
                      family: int = socket.AF_INET) -> list[dict[str, Any]]:
        return [answer(h, p) for h, p in self.addresses]


class BlackHole:
    """A listener whose accept queue is full: SYNs to ``host:port`` go unanswered."""

    def __init__(self, host: str) -> None:
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        self.host = host
        self.listener = socket.socket(family, socket.SOCK_STREAM)
        self.listener.bind((host, 0))
        self.listener.listen(0)
        self.port: int = self.listener.getsockname()[1]
        self.filler = socket.create_connection((host, self.port), timeout=2)

    def client_sockets(self) -> int:
        """How many of this process's sockets (the filler included) point at the hole."""
        return len(tcp_fds(remote_port=self.port))

    def close(self) -> None:
        self.filler.close()
        self.listener.close()


async def probe_hangs(hole: BlackHole) -> bool:
    """Whether a connect to the hole really neither succeeds nor fails for a while here."""
    loop = asyncio.get_running_loop()
    family = socket.AF_INET6 if ":" in hole.host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as sock:
        sock.setblocking(False)
        try:
            await asyncio.wait_for(loop.sock_connect(sock, (hole.host, hole.port)), 0.3)
        except asyncio.TimeoutError:
            return True
        except OSError:
            return False
    return False


@contextlib.contextmanager
def black_hole(host: str) -> Iterator[BlackHole]:
    hole = BlackHole(host)
    try:
        yield hole
    finally:
        hole.close()


@pytest_asyncio.fixture
async def hole() -> AsyncIterator[BlackHole]:
    with black_hole("127.0.0.2") as made:
        if not await probe_hangs(made):
            pytest.skip("a full listen queue does not black-hole connects here")
        assert made.client_sockets() == 1
        yield made


@pytest.fixture
def refused_port() -> Iterator[int]:
    """A loopback port where connections are refused (bound, not listening)."""
    with socket.socket() as placeholder:
        placeholder.bind(("127.0.0.1", 0))
        yield placeholder.getsockname()[1]


def race_tasks() -> list[asyncio.Task[Any]]:
    return [task for task in asyncio.all_tasks()
            if getattr(task.get_coro(), "__qualname__", "") == "_open_socket"]


# --------------------------------------------------------------------------- the race


async def test_a_black_holed_first_address_loses_to_the_next(
    server: AppServer, hole: BlackHole, new_client: Callable[..., aiosonic.HTTPClient]
) -> None:
    resolver = ListResolver((hole.host, hole.port), ("127.0.0.1", server.port))
    http = new_client(connector={"resolver": resolver,
                                 "timeouts": Timeouts(sock_connect=5)})
    started = time.monotonic()
    resp = await http.get(f"http://race.test:{server.port}/echo")
    elapsed = time.monotonic() - started
    assert resp.status_code == 200
    assert header_one(loads(await resp.content()), "Host") == f"race.test:{server.port}"
    # The second attempt started after the delay (0.25 s), long before sock_connect (5 s).
    assert 0.2 <= elapsed < 2, elapsed
    assert hole.client_sockets() == 1  # the hanging attempt is closed, only the filler is left
    assert race_tasks() == []


async def test_a_socks_proxys_addresses_race_as_an_origins_do(
    server: AppServer, hole: BlackHole, new_client: Callable[..., aiosonic.HTTPClient]
) -> None:
    socks = await SocksServer().start()
    try:
        # The proxy's name answers the black hole first; the origin is an IP literal,
        # which the proxy is given as it is.
        resolver = ListResolver((hole.host, hole.port), ("127.0.0.1", socks.port))
        http = new_client(connector={"resolver": resolver,
                                     "timeouts": Timeouts(sock_connect=5)},
                          proxy=aiosonic.Proxy(f"socks5://socks.test:{socks.port}"))
        started = time.monotonic()
        resp = await http.get(f"http://127.0.0.1:{server.port}/echo")
        elapsed = time.monotonic() - started
        assert resp.status_code == 200
        assert loads(await resp.content())["method"] == "GET"
        assert [request.port for request in socks.requests] == [server.port]
        assert 0.2 <= elapsed < 2, elapsed
        assert hole.client_sockets() == 1
        assert race_tasks() == []
    finally:
        await socks.close()


async def test_a_failure_starts_the_next_attempt_at_once(
    server: AppServer, refused_port: int, new_client: Callable[..., aiosonic.HTTPClient]
) -> None:
    resolver = ListResolver(("127.0.0.1", refused_port), ("127.0.0.1", server.port))
    http = new_client(connector={"resolver": resolver, "happy_eyeballs_delay": 3,
                                 "timeouts": Timeouts(sock_connect=5)})
    started = time.monotonic()
    resp = await http.get(f"http://race.test:{server.port}/")
    assert resp.status_code == 200
    await resp.content()
    assert time.monotonic() - started < 2  # not the 3 s delay


async def test_the_winner_speaks_tls(
    tls_web: Callable[..., Any], hole: BlackHole, trusting_context: Any,
    new_client: Callable[..., aiosonic.HTTPClient],
) -> None:
    srv = await tls_web("race.test")
    resolver = ListResolver((hole.host, hole.port), ("127.0.0.1", srv.port))
    http = new_client(connector={"resolver": resolver, "timeouts": Timeouts(sock_connect=5)})
    started = time.monotonic()
    resp = await http.get(f"https://race.test:{srv.port}/echo", ssl=trusting_context)
    assert resp.status_code == 200
    await resp.content()
    assert time.monotonic() - started < 2
    assert srv.sni == ["race.test"]  # one handshake, with the winner only
    assert hole.client_sockets() == 1


@pytest.mark.parametrize("six_is", ["refused", "black-holed"])
async def test_ipv6_first_and_only_ipv4_listening(
    six_is: str, server: AppServer, new_client: Callable[..., aiosonic.HTTPClient]
) -> None:
    if not ipv6_available():
        pytest.skip("::1 is not available here")
    with contextlib.ExitStack() as stack:
        if six_is == "refused":
            six = stack.enter_context(socket.socket(socket.AF_INET6, socket.SOCK_STREAM))
            six.bind(("::1", 0))
            six_port = six.getsockname()[1]
            delay = 3.0
        else:
            six_hole = stack.enter_context(black_hole("::1"))
            if not await probe_hangs(six_hole):
                pytest.skip("a full listen queue does not black-hole connects here")
            six_port = six_hole.port
            delay = 0.25
        resolver = ListResolver(("::1", six_port), ("127.0.0.1", server.port))
        http = new_client(connector={"resolver": resolver, "happy_eyeballs_delay": delay,
                                     "timeouts": Timeouts(sock_connect=5)})
        started = time.monotonic()
        resp = await http.get(f"http://race.test:{server.port}/")
        await resp.content()
        assert resp.status_code == 200
        assert time.monotonic() - started < 2
        assert tcp_fds(remote_port=six_port) == ([] if six_is == "refused"
                                                 else [six_hole.filler.fileno()])


@pytest.mark.parametrize("delay", [0.25, None], ids=["racing", "one-after-another"])
async def test_every_address_refused_is_the_same_connect_error(
    delay: float | None, refused_port: int, new_client: Callable[..., aiosonic.HTTPClient]
) -> None:
    with socket.socket() as other:
        other.bind(("127.0.0.1", 0))
        last_port = other.getsockname()[1]
        resolver = ListResolver(("127.0.0.1", refused_port), ("127.0.0.1", last_port))
        http = new_client(connector={"resolver": resolver, "happy_eyeballs_delay": delay})
        with pytest.raises(ConnectError, match=r"^cannot connect to race\.test:80: ") as caught:
            await http.get("http://race.test/")
    # The last attempt's error, as the one-after-another dialing has always reported it.
    assert isinstance(caught.value.__cause__, ConnectionRefusedError)
    assert str(last_port) in str(caught.value)
    assert race_tasks() == []


async def test_every_address_black_holed_is_a_connect_timeout_over_the_whole_race(
    hole: BlackHole, new_client: Callable[..., aiosonic.HTTPClient]
) -> None:
    resolver = ListResolver(*[(hole.host, hole.port)] * 3)
    http = new_client(connector={"resolver": resolver, "happy_eyeballs_delay": 0.05,
                                 "timeouts": Timeouts(sock_connect=0.5)})
    started = time.monotonic()
    with pytest.raises(ConnectTimeout):
        await http.get("http://race.test/")
    assert 0.45 <= time.monotonic() - started < 2  # one sock_connect for all three attempts
    assert hole.client_sockets() == 1
    assert race_tasks() == []


async def test_without_a_delay_the_addresses_are_tried_one_after_another(
    server: AppServer, hole: BlackHole, new_client: Callable[..., aiosonic.HTTPClient]
) -> None:
    # The black hole takes the whole sock_connect: the working second address is never tried.
    resolver = ListResolver((hole.host, hole.port), ("127.0.0.1", server.port))
    http = new_client(connector={"resolver": resolver, "happy_eyeballs_delay": None,
                                 "timeouts": Timeouts(sock_connect=0.5)})
    with pytest.raises(ConnectTimeout):
        await http.get(f"http://race.test:{server.port}/")
    assert server.seen == []
    assert hole.client_sockets() == 1


async def test_cancelling_the_request_mid_race_leaks_nothing(
    hole: BlackHole, new_client: Callable[..., aiosonic.HTTPClient]
) -> None:
    resolver = ListResolver(*[(hole.host, hole.port)] * 3)
    http = new_client(connector={"resolver": resolver, "happy_eyeballs_delay": 0.01,
                                 "timeouts": Timeouts(sock_connect=5)})
    request = asyncio.ensure_future(http.get("http://race.test/"))
    # the filler and three attempts in flight
    await eventually(lambda: hole.client_sockets() == 4, timeout=3.0)
    assert len(race_tasks()) == 3
    request.cancel()
    with pytest.raises(asyncio.CancelledError):
        await request
    assert hole.client_sockets() == 1
    assert race_tasks() == []


# --------------------------------------------------------------------------- configuration


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"happy_eyeballs_delay": -0.1}, ValueError),
        ({"happy_eyeballs_delay": float("inf")}, ValueError),
        ({"happy_eyeballs_delay": float("nan")}, ValueError),
        ({"happy_eyeballs_delay": "0.25"}, TypeError),
        ({"happy_eyeballs_delay": True}, TypeError),
        ({"interleave": -1}, ValueError),
        ({"interleave": 1.5}, TypeError),
        ({"interleave": False}, TypeError),
    ],
)
def test_bad_settings_fail_at_construction(kwargs: dict[str, Any], error: type) -> None:
    with pytest.raises(error, match=next(iter(kwargs))):
        aiosonic.TCPConnector(**kwargs)


def test_the_settings_reach_the_dialer() -> None:
    connector = aiosonic.TCPConnector(happy_eyeballs_delay=0.1, interleave=2)
    assert (connector.dialer.happy_eyeballs_delay, connector.dialer.interleave) == (0.1, 2)
    default = aiosonic.TCPConnector()
    assert (default.happy_eyeballs_delay, default.interleave) == (0.25, None)
    assert default.dialer.interleave == 1  # asyncio's rule: 1 when racing...
    assert aiosonic.TCPConnector(happy_eyeballs_delay=None).dialer.interleave == 0  # ...else 0


@pytest.mark.parametrize(
    ("count", "order"),
    [
        (1, ["::1", "127.0.0.1", "::2", "127.0.0.2", "::3"]),
        (2, ["::1", "::2", "127.0.0.1", "::3", "127.0.0.2"]),
        (9, ["::1", "::2", "::3", "127.0.0.1", "127.0.0.2"]),
    ],
)
def test_families_are_interleaved_from_the_first_answers(count: int, order: list[str]) -> None:
    answers = [answer(host, 80) for host in ("::1", "::2", "::3", "127.0.0.1", "127.0.0.2")]
    assert [a["host"] for a in interleave_addresses(answers, count)] == order
    one_family = [answer("127.0.0.1", 80), answer("127.0.0.2", 80)]
    assert interleave_addresses(one_family, 1) == one_family


# --------------------------------------------------------------------------- resolver close()


class SyncCloseResolver(ListResolver):
    def __init__(self, *addresses: tuple[str, int]) -> None:
        super().__init__(*addresses)
        self.closed = 0

    def close(self) -> None:
        self.closed += 1


class AsyncCloseResolver(SyncCloseResolver):
    async def close(self) -> None:  # type: ignore[override]
        await asyncio.sleep(0)  # really awaited: a coroutine not awaited would warn
        self.closed += 1


async def test_a_resolver_without_close(server: AppServer) -> None:
    resolver = ListResolver(("127.0.0.1", server.port))
    async with aiosonic.HTTPClient(aiosonic.TCPConnector(resolver=resolver)) as http:
        resp = await http.get(f"http://race.test:{server.port}/")
        assert resp.status_code == 200
        await resp.content()
    assert len(server.seen) == 1


@pytest.mark.parametrize("cls", [SyncCloseResolver, AsyncCloseResolver], ids=["sync", "async"])
async def test_a_resolvers_close_is_called_and_awaited(server: AppServer, cls: type) -> None:
    resolver = cls(("127.0.0.1", server.port))
    async with aiosonic.HTTPClient(aiosonic.TCPConnector(resolver=resolver)) as http:
        await (await http.get(f"http://race.test:{server.port}/")).content()
    assert resolver.closed == 1
