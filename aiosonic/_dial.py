"""Dialing: from a ``Route`` to a ready byte stream and the protocol it will speak.

    resolve (DNS cache, resolver)  ->  TCP, racing the addresses (Happy Eyeballs), or a
                                       Unix socket, or a SOCKS tunnel
                                   ->  CONNECT (https via a proxy)
                                   ->  TLS (ALPN)          ->  Dialed(transport, alpn, bytes)

Happy Eyeballs (RFC 8305): the addresses are ordered with their families interleaved; the
first attempt starts, and each next one starts when the one before fails or has not
answered within ``happy_eyeballs_delay``; the first socket to connect wins, every other
attempt is cancelled and its socket closed. Only TCP races: TLS and CONNECT start on the
winner. ``happy_eyeballs_delay=None`` tries the addresses one after another.

The protocol is decided here, once: "h2" when TLS selected it (or for h2c with prior
knowledge), "http/1.1" otherwise. Until the connection class for that protocol takes the
transport over, a ``_Pending`` protocol holds everything that arrives (with TLS 1.2 the
server's first HTTP/2 frames come in the same flight as its handshake), so the hand-over
loses no byte, no EOF and no loss of the connection.

Every failure leaves as one of our exceptions, translated in one place (``map_errors``):
``ConnectTimeout``/``RequestTimeout`` at the deadline, ``TLSError``, ``ProxyError``,
``ConnectError``. This module never sends an HTTP request of its own (but CONNECT), never
touches a pool and never reads a response.
"""

from __future__ import annotations

import asyncio
import inspect
import ipaddress
import math
import socket
import ssl
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from time import monotonic
from typing import TYPE_CHECKING, Any, cast

from ._deadline import Deadline
from ._http11 import ResponseHead, ResponseParser
from ._request import build_connect_head
from ._routes import Route
from .exceptions import (
    AiosonicError,
    ConnectError,
    ConnectTimeout,
    ProxyError,
    RequestTimeout,
    map_oserror,
)
from .timeout import Timeouts

if TYPE_CHECKING:
    from .hooks import Trace
    from .resolver import Resolver

__all__ = ["Dialed", "Dialer", "check_happy_eyeballs", "interleave_addresses", "map_errors"]

Address = dict[str, Any]


def check_happy_eyeballs(delay: object, interleave: object) -> None:
    """Raise ``TypeError``/``ValueError`` unless ``delay`` is None or a finite number of
    seconds >= 0 and ``interleave`` is None or an int >= 0."""
    if delay is not None:
        if isinstance(delay, bool) or not isinstance(delay, (int, float)):
            raise TypeError(f"happy_eyeballs_delay must be a number of seconds or None, "
                            f"not {delay!r}")
        if not (math.isfinite(delay) and delay >= 0):
            raise ValueError(f"happy_eyeballs_delay must be finite and >= 0: {delay!r}")
    if interleave is not None:
        if isinstance(interleave, bool) or not isinstance(interleave, int):
            raise TypeError(f"interleave must be an int or None, not {interleave!r}")
        if interleave < 0:
            raise ValueError(f"interleave must be >= 0: {interleave!r}")


def interleave_addresses(addresses: list[Address], first_family_count: int) -> list[Address]:
    """RFC 8305 section 4: ``first_family_count`` addresses of the first answer's family,
    then one of each family in turn; within a family, the resolver's order."""
    queues: dict[int, deque[Address]] = {}
    for address in addresses:
        queues.setdefault(address["family"], deque()).append(address)
    if len(queues) < 2:
        return addresses
    families = list(queues.values())
    first = families[0]
    ordered = [first.popleft() for _ in range(min(first_family_count - 1, len(first)))]
    while True:
        families = [queue for queue in families if queue]
        if not families:
            return ordered
        for queue in families:
            ordered.append(queue.popleft())


async def _sockaddr(loop: asyncio.AbstractEventLoop, address: Address) -> tuple[int, Any]:
    """The family and socket address to connect to for a resolver's answer. An IP literal
    (the usual answer; a scoped IPv6 one keeps its scope id) is read without any lookup."""
    host, port, family = address["host"], address["port"], address.get("family", 0)
    try:
        infos = socket.getaddrinfo(host, port, family, socket.SOCK_STREAM, 0,
                                   socket.AI_NUMERICHOST)
    except socket.gaierror:
        # A resolver answered a name, not an address: look it up as create_connection would.
        infos = await loop.getaddrinfo(host, port, family=family, type=socket.SOCK_STREAM)
    if not infos:
        raise OSError(f"no address for {host!r}")
    return infos[0][0], infos[0][4]


async def _open_socket(loop: asyncio.AbstractEventLoop, address: Address) -> socket.socket:
    """A non-blocking TCP socket connected to ``address``; closed on any failure or
    cancellation."""
    family, sockaddr = await _sockaddr(loop, address)
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    try:
        sock.setblocking(False)
        # No Nagle: a request head, a body's last frame or a window update must not wait
        # for the peer's delayed ACK. (asyncio sets it only on sockets it made itself, or
        # that say IPPROTO_TCP; uvloop always does.)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        await loop.sock_connect(sock, sockaddr)
    except BaseException:
        sock.close()
        raise
    return sock


async def _race(
    loop: asyncio.AbstractEventLoop,
    addresses: list[Address],
    delay: float,
    errors: list[OSError],
) -> socket.socket | None:
    """Happy Eyeballs: the socket of the first address to connect, or None when every one
    failed (their errors appended to ``errors`` as they come). An attempt starts when the
    one before fails or after ``delay`` seconds without an answer; whatever way this ends
    (a winner, an error, a cancellation), every other attempt is cancelled and awaited and
    every other socket closed."""
    waiting = deque(addresses)
    attempts: set[asyncio.Task[socket.socket]] = set()
    winner: socket.socket | None = None

    def start_next() -> None:
        if waiting:
            attempts.add(loop.create_task(_open_socket(loop, waiting.popleft())))

    start_next()
    try:
        while attempts:
            done, _ = await asyncio.wait(
                attempts, timeout=delay if waiting else None,
                return_when=asyncio.FIRST_COMPLETED,
            )
            if not done:  # nothing answered within the delay: start the next one beside
                start_next()
                continue
            failure: BaseException | None = None
            for attempt in done:
                attempts.discard(attempt)
                exc = attempt.exception()
                if exc is None:
                    if winner is None:
                        winner = attempt.result()
                    else:
                        attempt.result().close()
                elif isinstance(exc, OSError):
                    errors.append(exc)
                    if winner is None:
                        start_next()  # a failure starts the next attempt at once
                else:
                    failure = exc
            if failure is not None:
                raise failure
            if winner is not None:
                sock, winner = winner, None
                return sock
        return None
    finally:
        if winner is not None:
            winner.close()
        for attempt in attempts:
            attempt.cancel()
        if attempts:
            await asyncio.wait(attempts)
            for attempt in attempts:
                if not attempt.cancelled() and attempt.exception() is None:
                    attempt.result().close()  # connected just as it was cancelled


@contextmanager
def map_errors(what: str) -> Iterator[None]:
    """Translate what the OS and TLS raise while doing ``what`` into our exceptions; ours
    pass through unchanged."""
    try:
        yield
    except AiosonicError:
        raise
    except OSError as exc:
        raise map_oserror(exc, what) from exc


class _Pending(asyncio.Protocol):
    """Holds a new connection until its HTTP protocol takes it over (``hand_over``)."""

    def __init__(self) -> None:
        self.transport: asyncio.BaseTransport | None = None
        self.received: list[bytes] = []
        self.eof = False
        self.lost = False
        self.lost_exc: Exception | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        self.received.append(data)

    def eof_received(self) -> bool:
        self.eof = True
        return True  # keep the transport: its new protocol decides what EOF means

    def connection_lost(self, exc: Exception | None) -> None:
        self.lost = True
        self.lost_exc = exc


class Dialed:
    """A connection ready for HTTP: its transport, what it speaks ("h2" or "http/1.1") and
    whatever arrived before its protocol took it over."""

    __slots__ = ("_pending", "alpn", "transport")

    def __init__(self, transport: asyncio.BaseTransport, alpn: str, pending: _Pending) -> None:
        # uvloop's transports are not asyncio.Transport subclasses, but behave as one.
        self.transport = cast(asyncio.Transport, transport)
        self.alpn = alpn
        self._pending = pending

    def hand_over(self, protocol: asyncio.Protocol) -> None:
        """Give the transport to ``protocol`` (made for ``alpn``), then replay to it what
        arrived meanwhile, in order: bytes, EOF, loss."""
        pending = self._pending
        transport = self.transport
        transport.set_protocol(protocol)
        protocol.connection_made(transport)
        for data in pending.received:
            protocol.data_received(data)
        pending.received = []
        if pending.eof and not pending.lost and not protocol.eof_received():
            transport.close()
        if pending.lost:
            protocol.connection_lost(pending.lost_exc)

    def close(self) -> None:
        self.transport.abort()


def _alpn(transport: asyncio.BaseTransport, prior_knowledge: bool) -> str:
    ssl_object = transport.get_extra_info("ssl_object")
    if ssl_object is not None:
        return "h2" if ssl_object.selected_alpn_protocol() == "h2" else "http/1.1"
    return "h2" if prior_knowledge else "http/1.1"


class _TunnelAnswer(asyncio.Protocol):
    """Sends CONNECT to a proxy and reads its answer; ``answered`` resolves with the head.

    Reading pauses once the answer is in, so nothing of the tunnel is read before TLS (or
    the origin's protocol) takes over.
    """

    def __init__(self, loop: asyncio.AbstractEventLoop, head: bytes, authority: str) -> None:
        self.head = head
        self.authority = authority
        self.answered: asyncio.Future[ResponseHead] = loop.create_future()
        self.transport: asyncio.Transport | None = None
        self.parser = ResponseParser(self)
        self.parser.start(head_request=True)  # a 2xx answer to CONNECT has no body

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)
        self.transport.write(self.head)

    def data_received(self, data: bytes) -> None:
        if self.answered.done():
            return
        try:
            self.parser.feed(data)
        except AiosonicError as exc:
            self._fail(ProxyError(f"bad answer to CONNECT {self.authority}: {exc}"))

    def on_head(self, head: ResponseHead) -> None:
        if not self.answered.done():
            if 200 <= head.status < 300 and self.transport is not None:
                self.transport.pause_reading()
            self.answered.set_result(head)

    def on_body(self, data: bytes) -> None:
        pass  # a refusal's body says nothing the status does not

    def on_complete(self, keep_alive: bool) -> None:
        pass

    def eof_received(self) -> bool | None:
        self.connection_lost(None)
        return None

    def connection_lost(self, exc: Exception | None) -> None:
        self._fail(ProxyError(f"proxy closed the connection before answering CONNECT "
                              f"{self.authority}"))

    def _fail(self, exc: ProxyError) -> None:
        if not self.answered.done():
            self.answered.set_exception(exc)


class Dialer:
    """Opens connections for routes: the resolver and its cache, the connector's Unix
    socket if it has one, and how TCP attempts race (``happy_eyeballs_delay``,
    ``interleave``: see ``TCPConnector``). One per connector."""

    def __init__(
        self,
        resolver: Resolver,
        *,
        ttl_dns_cache: int = 10000,
        use_dns_cache: bool = True,
        uds: str | None = None,
        happy_eyeballs_delay: float | None = 0.25,
        interleave: int | None = None,
    ) -> None:
        check_happy_eyeballs(happy_eyeballs_delay, interleave)
        self.resolver = resolver
        self.ttl_dns_cache = ttl_dns_cache
        self.use_dns_cache = use_dns_cache
        self.uds = uds
        self.happy_eyeballs_delay = happy_eyeballs_delay
        # asyncio's rule: no reordering unless asked, or unless the attempts race.
        if interleave is None:
            interleave = 0 if happy_eyeballs_delay is None else 1
        self.interleave = interleave
        self._dns_cache: dict[tuple[str, int], tuple[float, list[Address]]] = {}

    async def dial(
        self,
        route: Route,
        timeouts: Timeouts,
        deadline: float | None,
        trace: Trace | None = None,
    ) -> Dialed:
        """A connection for ``route``, within ``timeouts.sock_connect`` and ``deadline``
        (``time.monotonic()``, the clock the transport's deadlines count on), whichever comes
        first (which decides the error)."""
        loop = asyncio.get_running_loop()
        when = None if timeouts.sock_connect is None else monotonic() + timeouts.sock_connect
        by_request = deadline is not None and (when is None or deadline < when)
        if by_request:
            when = deadline

        def expired() -> Exception:
            if by_request:
                return RequestTimeout("request_timeout elapsed while connecting")
            return ConnectTimeout(
                f"could not connect to {route.host}:{route.port} within "
                f"{timeouts.sock_connect} seconds"
            )

        with Deadline(loop, when, expired):
            if self.uds is not None or route.socks is not None:
                return await self._dial_indirect(loop, route)
            transport, protocol = await self._dial_tcp(loop, route, trace)
            if route.tunnel is not None:
                return await self._through_tunnel(loop, route, transport, protocol)
            return Dialed(transport, _alpn(transport, route.http2 == "prior"), protocol)

    async def _dial_tcp(
        self, loop: asyncio.AbstractEventLoop, route: Route, trace: Trace | None
    ) -> tuple[asyncio.BaseTransport, Any]:
        """TCP to the resolved addresses, raced or in turn (``_connect``), then TLS with the
        origin on the winner unless a tunnel comes first."""
        addresses = await self.resolve(route.host, route.port)
        if trace is not None:
            trace("dns_resolved", host=route.host,
                  addresses=[address["host"] for address in addresses])
        tunnel = route.tunnel
        tls = route.ssl_context if tunnel is None else None
        what = f"cannot connect to {route.host}:{route.port}"
        factory: Callable[[], asyncio.Protocol]
        if tunnel is None:
            factory = _Pending
        else:
            head = build_connect_head(tunnel, route.proxy_authorization)
            factory = lambda: _TunnelAnswer(loop, head, tunnel)  # noqa: E731
        sock = await self._connect(loop, addresses, what)
        try:
            # The transport owns the socket from here, and closes it if this fails.
            return await loop.create_connection(
                factory,
                sock=sock,
                ssl=tls,
                server_hostname=route.server_hostname if tls is not None else None,
            )
        except OSError as exc:
            raise map_oserror(exc, what) from exc

    async def _open(self, host: str, port: int) -> socket.socket:
        """A connected socket to ``host:port`` (a SOCKS proxy), its addresses raced as an
        origin's are."""
        addresses = await self.resolve(host, port)
        where = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
        return await self._connect(
            asyncio.get_running_loop(), addresses, f"cannot connect to SOCKS proxy {where}"
        )

    async def _connect(
        self, loop: asyncio.AbstractEventLoop, addresses: list[Address], what: str
    ) -> socket.socket:
        """A connected socket to one of ``addresses``; when every one fails, the error of
        the last to fail, as today's one-after-another did."""
        if self.interleave:
            addresses = interleave_addresses(addresses, self.interleave)
        errors: list[OSError] = []
        delay = self.happy_eyeballs_delay
        if delay is None or len(addresses) == 1:
            for address in addresses:
                try:
                    return await _open_socket(loop, address)
                except OSError as exc:
                    errors.append(exc)
        else:
            sock = await _race(loop, addresses, delay, errors)
            if sock is not None:
                return sock
        error = errors[-1]
        raise map_oserror(error, what) from error

    async def _through_tunnel(
        self,
        loop: asyncio.AbstractEventLoop,
        route: Route,
        transport: asyncio.BaseTransport,
        answer: _TunnelAnswer,
    ) -> Dialed:
        """Wait for the proxy's answer to CONNECT, then start TLS with the origin inside
        the tunnel (or speak to a cleartext origin as it is)."""
        tunnel = route.tunnel
        try:
            head = await answer.answered
            if not 200 <= head.status < 300:
                raise ProxyError(
                    f"proxy refused the tunnel to {tunnel}: {head.status} {head.reason}",
                    head.status,
                )
            # Any 2xx opens the tunnel, whatever its Connection header says about the
            # proxy connection: the tunnel is what we use from now on.
            pending = _Pending()
            if route.ssl_context is None:
                transport.set_protocol(pending)
                pending.connection_made(transport)
                cast(asyncio.Transport, transport).resume_reading()
                return Dialed(transport, "http/1.1", pending)
            try:
                tls = await loop.start_tls(
                    cast(asyncio.Transport, transport),
                    pending,
                    route.ssl_context,
                    server_hostname=route.server_hostname,
                )
            except OSError as exc:
                if transport.is_closing() and not isinstance(exc, ssl.SSLError):
                    raise ProxyError(f"proxy closed the tunnel to {tunnel}") from exc
                raise map_oserror(exc, f"cannot connect to {tunnel} through the proxy") from exc
            if tls is None:
                raise ProxyError(f"proxy closed the tunnel to {tunnel}")
            pending.connection_made(tls)  # start_tls never calls it
            if pending.lost:
                raise ProxyError(f"proxy closed the tunnel to {tunnel}")
            return Dialed(tls, _alpn(tls, False), pending)
        except BaseException:
            cast(asyncio.Transport, transport).abort()
            raise

    async def _dial_indirect(self, loop: asyncio.AbstractEventLoop, route: Route) -> Dialed:
        """One attempt at a connection that does not go to a resolved address of the
        origin: to the connector's Unix domain socket, or through a SOCKS proxy (which is
        given the origin's name or address). The URL's host still names the server to the
        HTTP layer (Host header) and to TLS."""
        tls = route.ssl_context
        hostname = route.server_hostname if tls is not None else None
        if self.uds is not None:
            with map_errors(f"cannot connect to the Unix socket {self.uds}"):
                transport, protocol = await loop.create_unix_connection(
                    _Pending, self.uds, ssl=tls, server_hostname=hostname
                )
        else:
            from ._socks import create_socks_connection  # only SOCKS users load it

            assert route.socks is not None
            with map_errors(f"cannot connect to {route.host}:{route.port} through the SOCKS "
                            "proxy"):
                transport, protocol = await create_socks_connection(
                    loop, _Pending, route.socks, route.host, route.port, ssl=tls,
                    server_hostname=hostname, resolve=self.resolve, connect=self._open,
                )
        return Dialed(transport, _alpn(transport, route.http2 == "prior"), protocol)

    async def resolve(self, host: str, port: int) -> list[Address]:
        """The addresses of ``host`` (an IP literal as it is), from the cache while fresh."""
        try:
            version = ipaddress.ip_address(host).version
        except ValueError:
            pass
        else:
            family = socket.AF_INET6 if version == 6 else socket.AF_INET
            return [{"hostname": host, "host": host, "port": port, "family": family}]
        loop = asyncio.get_running_loop()
        now = loop.time()
        if self.use_dns_cache:
            cached = self._dns_cache.get((host, port))
            if cached is not None and cached[0] > now:
                return cached[1]
        try:
            addresses: list[Address] = await self.resolver.resolve(
                host, port, family=socket.AF_UNSPEC
            )
        except OSError as exc:
            raise ConnectError(f"cannot resolve host {host!r}: {exc}") from exc
        if not addresses:
            raise ConnectError(f"cannot resolve host {host!r}: no addresses")
        if self.use_dns_cache:
            self._dns_cache[(host, port)] = (now + self.ttl_dns_cache / 1000, addresses)
        return addresses

    async def close(self) -> None:
        """Release the resolver: its ``close()``, awaited if it answers an awaitable (a
        resolver without one holds nothing to release)."""
        close: Callable[[], object] | None = getattr(self.resolver, "close", None)
        if close is not None:
            result = close()
            if inspect.isawaitable(result):
                await result
