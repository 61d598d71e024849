"""One HTTP/1.1 connection: an ``asyncio.Protocol`` driving the sans-IO codec.

The loop calls ``data_received``; that feeds the ``ResponseParser``, whose events build the
``HttpResponse`` and wake the one request waiting for it. No stream readers, no task per
request, no ``wait_for``: one future per response head, and one loop timer per connection
that is re-armed lazily (only when a deadline could be missed), never per request.

Its life is one state, moved by a table (not a set of flags)::

    IDLE     --start-->      WAITING    a request without a streamed body went out
    IDLE     --stream-->     SENDING    its head went out; its body is streaming
    SENDING  --sent-->       WAITING    the body is out: only the response is awaited
    WAITING  --reuse-->      IDLE       the response ended and the connection is reusable
    any      --end-->        CLOSED     failed, not reusable, lost, or handed over (101)

It owns: the transport, the exchange in progress (one at a time), read and request
timeouts, write and read flow control, and telling its owner when an exchange ends and
whether the connection may be reused. It is made from a dialed connection (``Dialed``),
never dials, never touches the pool and never decides about redirects or retries.
"""

from __future__ import annotations

import asyncio
import select
import weakref
from collections.abc import AsyncIterable, Iterable
from enum import Enum
from time import monotonic as _monotonic
from typing import TYPE_CHECKING, Any, Final, Protocol, cast

from ._http11 import (
    BY_CHUNKS,
    BY_LENGTH,
    LAST_CHUNK,
    ResponseHead,
    ResponseParser,
    encode_chunk,
    idle_timeout,
)
from ._lifecycle import LosableProtocol
from ._mypyc import mypyc_attr
from ._request import close_stream
from .exceptions import (
    AiosonicError,
    ConnectionDisconnected,
    InvalidRequest,
    ReadTimeout,
    RequestTimeout,
)
from .limits import DEFAULT_LIMITS, Limits
from .response import HttpResponse

if TYPE_CHECKING:
    from ._interfaces import Exchange
    from .hooks import Trace

__all__ = ["ExchangeOwner", "ExpectationRefused", "HTTP11Protocol", "Life", "early_answer"]

# Final names are C statics in the compiled build; other module globals are looked up in
# the module's dict on every use. Hence these aliases of what every exchange calls.
monotonic: Final = _monotonic
_weak_ref: Final = weakref.ref
_Response: Final = HttpResponse

_INF: Final = float("inf")
# Bodies up to this size are joined to the head and sent in one write.
_JOIN_LIMIT: Final = 16 * 1024
# A Content-Length body longer than this is read into one reused buffer (see _BodyReader).
_BUFFERED_ABOVE: Final = 1024 * 1024
_READ_BUFFER: Final = 256 * 1024
# A kept-alive connection idle this long is looked at again before it is reused: the
# server may have closed it while the loop was busy elsewhere.
_PROBE_AFTER: Final = 1.0
_poll: Final = select.poll if hasattr(select, "poll") else None  # not on Windows: select()
_EXPECT_CONTINUE: Final = b"Expect: 100-continue\r\n\r\n"


class ExchangeOwner(Protocol):
    """Told when an exchange ends (``keep_alive``: the connection may carry another)."""

    def exchange_done(self, keep_alive: bool) -> None: ...


@mypyc_attr(native_class=False)  # an exception subclass: mypyc compiles none of those
class ExpectationRefused(ConnectionDisconnected):
    """A 417 answered ``Expect: 100-continue`` before the body went out: the request is
    to be sent again without the expectation (RFC 9110 10.1.1), on another connection."""


class Life(Enum):
    IDLE = "idle"
    SENDING = "sending"
    WAITING = "waiting"
    CLOSED = "closed"

    # Members are singletons: identity hashing (in C) keeps the transition tables cheap.
    __hash__ = object.__hash__


# The members as module globals (on CPython 3.10 and 3.11 reading one off its Enum class
# costs a descriptor call); Final, so that the compiled build reads them as C statics.
_IDLE: Final = Life.IDLE
_SENDING: Final = Life.SENDING
_WAITING: Final = Life.WAITING
_CLOSED: Final = Life.CLOSED
_MOVES: Final[dict[tuple[Life, str], Life]] = {
    (_IDLE, "start"): _WAITING,
    (_IDLE, "stream"): _SENDING,
    (_SENDING, "sent"): _WAITING,
    (_WAITING, "reuse"): _IDLE,
    **{(life, "end"): _CLOSED for life in Life},
}
_EXCHANGING: Final = frozenset({_SENDING, _WAITING})


class HTTP11Protocol(LosableProtocol):
    """One HTTP/1.1 connection: writes requests, parses responses, enforces timeouts."""

    http2 = False
    http_version = "1.1"

    def __init__(
        self,
        loop: asyncio.AbstractEventLoop,
        owner: ExchangeOwner,
        limits: Limits = DEFAULT_LIMITS,
    ) -> None:
        self.loop = loop
        self.owner = owner
        self.limits = limits
        self.transport: asyncio.Transport | None = None
        self.life = _IDLE
        self.parser = ResponseParser(
            self,
            max_head_size=limits.max_head_size,
            max_headers=limits.max_headers,
            max_status_line=limits.max_status_line,
        )
        self.received_any = False  # of the exchange in progress
        # Why the exchange in progress failed (a timeout, say): what a body sender raises.
        self.failure: BaseException | None = None
        self._trace: Trace | None = None
        self._reader: _BodyReader | None = None
        self._head_waiter: asyncio.Future[HttpResponse] | None = None
        self._response_ref: weakref.ref[HttpResponse] | None = None
        self._reading_paused = False
        self._writing_paused = False
        # The transport is going away: the server's EOF, or our close(). Known here, so
        # that is_available needs no call into the transport on every request.
        self._shutting = False
        self._drain_waiter: asyncio.Future[None] | None = None
        # Set while a request expecting 100 Continue holds its body back.
        self._continue: asyncio.Future[None] | None = None
        self._deadline = _INF
        self._sock_read: float | None = None
        self._last_read = 0.0
        self._sent_at = 0.0
        self._timer: asyncio.TimerHandle | None = None
        self._timer_when = _INF
        # Reuse after idling, counted from ``_last_read`` (the last response's end): for
        # how long it is trusted without a look (less if the server announced a short
        # Keep-Alive timeout), the server's last announced timeout, the last look.
        self._trust_for = _PROBE_AFTER
        self._server_idle: float | None = None
        self._probed = 0.0

    @property
    def closed(self) -> bool:
        return self.life is _CLOSED

    @property
    def active(self) -> bool:
        """An exchange is in progress."""
        return self.life in _EXCHANGING

    # -- HTTPConnection -------------------------------------------------------------------

    @property
    def is_idle(self) -> bool:
        return self.life is _IDLE

    @property
    def is_closed(self) -> bool:
        return self.life is _CLOSED or self.lost

    def has_expired(self) -> bool:
        return not self.is_available and not self.active

    async def handle_request(self, exchange: Exchange) -> HttpResponse:
        """Send the exchange and return its response once the head has arrived.

        Raises ``ConnectionDisconnected`` when the connection fails before the answer (the
        transport decides whether to try again: ``received_any`` says if the server had
        started to answer); an answer that comes while the body is still going out (a 413,
        say) is returned. With ``exchange.expect100`` the head carries ``Expect:
        100-continue`` and the body waits (see ``_continued``).
        """
        stream = exchange.stream
        if exchange.expect100 is not None and (stream is not None or exchange.data):
            return await self._expecting(exchange, exchange.expect100)
        trace = exchange.trace
        waiter = self.start(
            exchange.head, exchange.data, exchange.method == "HEAD", exchange.deadline,
            exchange.timeouts.sock_read, exchange.upgrade, trace, stream is not None,
            exchange.started,
        )
        if trace is not None:
            trace("headers_sent")
        try:
            if stream is not None:
                await self.send_stream(stream, exchange.chunked)
            return await waiter
        except BaseException as exc:
            return self._unwind(waiter, exc)

    async def _expecting(self, exchange: Exchange, patience: float) -> HttpResponse:
        """``handle_request`` with ``Expect: 100-continue`` on the head and the body held
        back (see ``_continued``)."""
        stream = exchange.stream
        trace = exchange.trace
        waiter = self.start(
            exchange.head[:-2] + _EXPECT_CONTINUE, None, False, exchange.deadline,
            exchange.timeouts.sock_read, False, trace, True, exchange.started,
        )
        if trace is not None:
            trace("headers_sent")
        try:
            if not await self._continued(waiter, patience):
                return await waiter  # a final answer first: the body is never sent
            if stream is None:
                self._send_held_body(exchange.data)
            else:
                await self.send_stream(stream, exchange.chunked)
            return await waiter
        except BaseException as exc:
            return self._unwind(waiter, exc)

    def _unwind(self, waiter: asyncio.Future[HttpResponse], exc: BaseException) -> HttpResponse:
        """After sending or waiting failed with ``exc``: the answer, if the server gave one
        although the body could not be sent (``ConnectionDisconnected`` only); otherwise
        the exchange is aborted and ``exc`` raised again."""
        if isinstance(exc, ConnectionDisconnected):
            early = None if isinstance(exc, ExpectationRefused) else early_answer(waiter)
            if early is not None:
                return early
            raise exc
        self.abort(exc)
        if not waiter.done():
            waiter.cancel()
        elif not waiter.cancelled():
            waiter.exception()  # retrieved: no "exception never retrieved" noise
        raise exc

    async def _continued(
        self, waiter: asyncio.Future[HttpResponse], patience: float
    ) -> bool:
        """Wait, with the body held back, for a 100 Continue, a final answer, or
        ``patience`` seconds without either (servers that ignore the expectation). True:
        send the body now. False: the final answer came first, and the body is never sent
        (the connection is then not reused). A 417 there raises ``ExpectationRefused``."""
        go = self._continue = self.loop.create_future()
        waiter.add_done_callback(lambda _: _release(go))  # a final answer, or a failure
        timer = self.loop.call_later(patience, _release, go)
        try:
            await go
        finally:
            timer.cancel()
            self._continue = None
        if not waiter.done():
            return True
        if not waiter.cancelled() and waiter.exception() is None and (
            waiter.result().status_code == 417
        ):
            refused = ExpectationRefused("417 Expectation Failed before the body was sent")
            self.abort(refused)
            raise refused
        return False

    def _send_held_body(self, data: bytes | None) -> None:
        transport = self.transport
        if self.life is not _SENDING or transport is None or transport.is_closing():
            raise self.failure or ConnectionDisconnected(
                "connection closed before the request body was sent"
            )
        if data:
            transport.write(data)
        self.life = _MOVES[self.life, "sent"]

    def on_keep_alive(self, value: bytes) -> None:
        # Servers announce the same timeout on every response of a connection: the last
        # one announced stands until another is.
        timeout = idle_timeout(value)
        if timeout is not None:
            self._server_idle = timeout
            self._trust_for = min(_PROBE_AFTER, _reuse_window(timeout))

    def on_trailers(self, fields: list[tuple[bytes, bytes]]) -> None:
        ref = self._response_ref
        response = ref() if ref is not None else None
        if response is not None:
            response._trailers = fields

    def on_interim(self, status: int) -> None:
        go = self._continue
        if status == 100 and go is not None:
            _release(go)

    # -- asyncio.Protocol -----------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's transports are not asyncio.Transport subclasses, but behave as one.
        self.transport = cast(asyncio.Transport, transport)

    def data_received(self, data: bytes) -> None:
        if self.life is _CLOSED:
            return  # failed and aborted: what still arrives belongs to nobody
        self._last_read = monotonic()  # also when the head came, if it is in this read
        if not self.received_any:
            self.received_any = True
            if self._trace is not None:
                self._trace("first_byte")
        try:
            self.parser.feed(data)
        except AiosonicError as exc:
            self._fail(exc)

    def eof_received(self) -> bool | None:
        self._shutting = True
        return None  # let the transport close; connection_lost finishes the response

    def connection_lost(self, exc: Exception | None) -> None:
        self.mark_lost()
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if self.life in _EXCHANGING:
            try:
                self.parser.feed_eof()
            except AiosonicError as error:
                self._fail(error)
        if self.life in _EXCHANGING:  # feed_eof found nothing to finish with
            self._fail(ConnectionDisconnected(f"connection lost: {exc}" if exc else
                                              "server closed the connection"))
        self.life = _CLOSED
        waiter = self._drain_waiter
        if waiter is not None and not waiter.done():
            waiter.set_exception(
                self.failure or ConnectionDisconnected("connection lost while sending")
            )

    def pause_writing(self) -> None:
        self._writing_paused = True

    def resume_writing(self) -> None:
        self._writing_paused = False
        waiter = self._drain_waiter
        if waiter is not None:
            self._drain_waiter = None
            if not waiter.done():
                waiter.set_result(None)

    # -- ResponseReceiver -----------------------------------------------------------------

    def on_head(self, head: ResponseHead) -> None:
        if self.life not in _EXCHANGING:
            return
        response = _Response(
            head.status,
            head.reason,
            head.version,
            head.raw_headers,
            head.content_encoding,
            head.framing is BY_CHUNKS,
        )
        if (
            head.framing is BY_LENGTH
            and head.content_length is not None
            and head.content_length > _BUFFERED_ABOVE
            and self.transport is not None
        ):
            if self._reader is None:
                self._reader = _BodyReader(self)
            self.transport.set_protocol(self._reader)
        response._protocol = self
        response._limits = self.limits
        response._sent_at = self._sent_at
        response._head_at = self._last_read  # read as the bytes holding the head arrived
        self._response_ref = _weak_ref(response, self._response_dropped)
        waiter = self._head_waiter
        self._head_waiter = None
        if waiter is not None and not waiter.done():
            waiter.set_result(response)

    def on_body(self, data: bytes) -> None:
        ref = self._response_ref
        response = ref() if ref is not None else None
        if response is not None:
            response._feed(data)

    def on_complete(self, keep_alive: bool) -> None:
        if self.life not in _EXCHANGING:
            return  # the exchange already ended (failed while this very read was parsed)
        ref = self._response_ref
        self._response_ref = None
        response = ref() if ref is not None else None
        if response is not None:
            response._finish()
        if self._reader is not None and self.transport is not None:
            self.transport.set_protocol(self)
        # A response that ends while its request body is still going out (an early answer)
        # leaves the connection mid-body: never reused.
        self._end_exchange(keep_alive and not self.lost and self.life is _WAITING)

    # -- exchanges ------------------------------------------------------------------------

    @property
    def is_available(self) -> bool:
        """Open, idle, and not half-closed by the server. (IDLE implies the parser is idle
        too: bytes that come when no response is expected fail the connection.) Read from
        this connection's own state: every way its transport starts closing (the server's
        EOF, our close or abort, a lost connection) has passed through here first."""
        return (
            self.life is _IDLE
            and not self.lost
            and not self._shutting
            and self.transport is not None
        )

    def reusable(self, now: float) -> bool:
        """Available (see ``is_available``) for a request going out at ``now`` (monotonic).
        A connection that idled past the server's ``Keep-Alive: timeout`` (less a margin)
        is not: it is closed, and the caller dials anew rather than race the server's
        close. One idle for ``_PROBE_AFTER`` or longer is reused only if nothing (an EOF,
        a reset, stray bytes) is waiting on its socket unread."""
        if (
            self.life is not _IDLE
            or self.lost
            or self._shutting
            or self.transport is None
        ):
            return False
        if now - self._last_read < self._trust_for:
            return True  # the common case: used a moment ago
        return self._recheck(now)

    def _recheck(self, now: float) -> bool:
        idle = now - self._last_read  # since the last response ended (no exchange since)
        server_idle = self._server_idle
        if server_idle is not None and idle >= _reuse_window(server_idle):
            self.close()
            return False
        if idle >= _PROBE_AFTER and now - self._probed >= _PROBE_AFTER:
            if _has_input(self.transport):
                self.close()
                return False
            self._probed = now
        return True

    def start(
        self,
        head: bytes,
        body: bytes | None,
        head_request: bool,
        deadline: float | None,
        sock_read: float | None,
        upgrade: bool = False,
        trace: Trace | None = None,
        streaming: bool = False,
        now: float | None = None,
    ) -> asyncio.Future[HttpResponse]:
        """Send a request head (and a bytes body); return the future of the response head.

        A streamed body (``streaming``) is sent afterwards with ``send_stream``. From here
        on the exchange ends exactly once, through ``owner.exchange_done``. With
        ``upgrade`` a 101 (Switching Protocols) answer is accepted, and the caller then
        ``detach``es. ``now``: the ``time.monotonic()`` reading the request went out at, if
        the caller has one.
        """
        transport = self.transport
        assert transport is not None
        self.life = _MOVES[self.life, "stream" if streaming else "start"]
        self.failure = None
        self.received_any = False
        self._trace = trace
        self.parser.start(head_request, upgrade)
        waiter = self._head_waiter = self.loop.create_future()
        if now is None:
            now = monotonic()
        self._last_read = self._sent_at = now
        self._deadline = _INF if deadline is None else deadline
        self._sock_read = sock_read
        self._arm(now)
        if body:
            if len(body) <= _JOIN_LIMIT:
                transport.write(head + body)
            else:
                transport.write(head)
                transport.write(body)
        else:
            transport.write(head)
        return waiter

    async def send_stream(
        self, body: Iterable[Any] | AsyncIterable[Any], chunked: bool = True
    ) -> None:
        """Send a streamed body (chunked, or raw under a known Content-Length), honouring
        write flow control; the iterator is finalised however this ends. Its pieces are
        whatever the caller's iterator yields (``_write_piece`` checks them)."""
        try:
            if isinstance(body, AsyncIterable):
                async for piece in body:
                    await self._write_piece(piece, chunked)
            else:
                for piece in body:
                    await self._write_piece(piece, chunked)
        finally:
            await close_stream(body)
        if chunked:
            await self._write_piece(None, chunked)
        if self.life is _SENDING:
            self.life = _WAITING

    async def _write_piece(self, piece: object, chunked: bool) -> None:
        transport = self.transport
        if self.closed or not self.active or transport is None or transport.is_closing():
            raise self.failure or ConnectionDisconnected(
                "connection closed while sending the request body"
            )
        if piece is None:
            transport.write(LAST_CHUNK)
        else:
            if isinstance(piece, str):
                piece = piece.encode("utf-8")
            elif not isinstance(piece, (bytes, bytearray, memoryview)):
                raise InvalidRequest(
                    f"request body iterators must yield bytes, not {type(piece).__name__}"
                )
            transport.write(encode_chunk(bytes(piece)) if chunked else piece)
        if self._writing_paused:
            waiter = self._drain_waiter = self.loop.create_future()
            await waiter
        # The body going out is progress: sock_read measures the server's silence while we
        # wait on it, not the time a long upload takes.
        self._last_read = monotonic()

    def detach(self) -> tuple[asyncio.Transport, bytes]:
        """After a 101 (Switching Protocols) answer: give up the transport for good.

        Returns it with the bytes that came after the response head (the first bytes of
        the new protocol). This protocol forgets the transport, never touches it again, and
        ends its exchange without reporting it (the caller frees the pool slot).
        """
        transport = self.transport
        assert transport is not None and self.active
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        self.transport = None
        self.life = _CLOSED
        self.mark_lost()  # nothing of ours left to wait for when the pool closes
        ref = self._response_ref
        self._response_ref = None
        response = ref() if ref is not None else None
        if response is not None:
            response._finish()
        tail = self.parser.upgrade_tail
        self.parser.upgrade_tail = b""
        return transport, tail

    def abort(self, exc: BaseException) -> None:
        """Give up on the exchange in progress (cancelled or failed): close, never reuse."""
        self._fail(exc)

    def close(self) -> None:
        transport = self.transport
        self._shutting = True
        if transport is not None and not self.lost and not transport.is_closing():
            transport.close()

    def _fail(self, exc: BaseException) -> None:
        if self.life in _EXCHANGING:
            self.failure = exc
            waiter = self._head_waiter
            self._head_waiter = None
            if waiter is not None and not waiter.done():
                waiter.set_exception(exc)
                # Whoever awaits it still gets the error; nobody awaiting is not worth a log.
                waiter.exception()
            ref = self._response_ref
            self._response_ref = None
            response = ref() if ref is not None else None
            if response is not None:
                response._fail(exc)
        if self.transport is not None:
            self.transport.abort()
        if self.life in _EXCHANGING:
            self._end_exchange(False)
        self.life = _CLOSED

    def _end_exchange(self, keep_alive: bool) -> None:
        self.life = _MOVES[self.life, "reuse" if keep_alive else "end"]
        if self._reading_paused and self.transport is not None and keep_alive:
            self._reading_paused = False
            self.transport.resume_reading()
        self.owner.exchange_done(keep_alive)

    def _response_dropped(self, ref: weakref.ref[HttpResponse]) -> None:
        # The caller let go of a response whose body is still arriving: nobody will read
        # the rest, so the connection cannot be reused.
        if ref is self._response_ref and self.life in _EXCHANGING:
            self._fail(ConnectionDisconnected("response dropped before its body was read"))

    # -- read flow control (driven by the response) ---------------------------------------

    def pause_body(self) -> None:
        if not self._reading_paused and self.transport is not None and self.life is not _CLOSED:
            self._reading_paused = True
            self.transport.pause_reading()

    def resume_body(self) -> None:
        if self._reading_paused:
            self._reading_paused = False
            self._last_read = monotonic()
            if self.transport is not None and self.life is not _CLOSED:
                self.transport.resume_reading()

    # -- timeouts -------------------------------------------------------------------------

    def _due(self, now: float) -> float:
        sock_read = self._sock_read
        if sock_read is None:
            return self._deadline
        last = now if self._reading_paused else self._last_read
        return min(self._deadline, last + sock_read)

    def _arm(self, now: float) -> None:
        due = self._due(now)
        if due == _INF or due >= self._timer_when:
            return  # the timer already pending fires early enough to check this exchange
        if self._timer is not None:
            self._timer.cancel()
        self._timer_when = due
        self._timer = self.loop.call_at(due, self._on_timer)

    def _on_timer(self) -> None:
        self._timer = None
        self._timer_when = _INF
        if self.life not in _EXCHANGING:
            return
        now = monotonic()
        if now >= self._deadline:
            self._fail(RequestTimeout("request_timeout elapsed before the response completed"))
        elif self._sock_read is not None and now >= self._due(now):
            self._fail(ReadTimeout(f"no data from the server for {self._sock_read} seconds"))
        else:
            self._arm(now)


def _reuse_window(server_idle: float) -> float:
    """How long after a response a connection is reused when the server announced
    ``Keep-Alive: timeout=server_idle``. Its clock started when it wrote, ours when the
    bytes were read: stop a margin before its timeout."""
    return max(server_idle - 1.0, server_idle / 2)


def _release(go: asyncio.Future[None]) -> None:
    if not go.done():
        go.set_result(None)


def _has_input(transport: asyncio.BaseTransport | None) -> bool:
    """True if the socket under ``transport`` has something to read (or is closed or in
    error) right now: for an idle connection, a sign that the server is done with it."""
    sock = None if transport is None else transport.get_extra_info("socket")
    if sock is None:
        return False  # not a socket we can look at (a test double): nothing to tell
    try:
        fd = sock.fileno()
    except (OSError, ValueError):
        return True
    if fd < 0:
        return True
    if _poll is not None:
        poller = _poll()
        poller.register(fd, select.POLLIN | select.POLLPRI)
        return bool(poller.poll(0))
    readable, _, failed = select.select([fd], [], [fd], 0)
    return bool(readable or failed)


def early_answer(waiter: asyncio.Future[HttpResponse]) -> HttpResponse | None:
    """The response, if the server answered although sending the body failed (it may
    reply, e.g. 413, and close before taking the whole body)."""
    if waiter.done() and not waiter.cancelled() and waiter.exception() is None:
        return waiter.result()
    return None


class _BodyReader(asyncio.BufferedProtocol):
    """Stands in for the connection's protocol while a long Content-Length body streams.

    With ``data_received`` the loop allocates a fresh 256 KiB buffer for every read and
    shrinks it to what arrived; here the socket is read into one reused buffer and exactly
    what arrived is copied out, once, into the bytes handed to the reader. Everything else
    is passed through to the connection.
    """

    def __init__(self, connection: HTTP11Protocol) -> None:
        self.connection = connection
        self.view = memoryview(bytearray(_READ_BUFFER))

    def get_buffer(self, sizehint: int) -> memoryview:
        return self.view

    def buffer_updated(self, nbytes: int) -> None:
        self.connection.data_received(self.view[:nbytes].tobytes())

    def eof_received(self) -> bool | None:
        return self.connection.eof_received()

    def connection_lost(self, exc: Exception | None) -> None:
        self.connection.connection_lost(exc)

    def pause_writing(self) -> None:
        self.connection.pause_writing()

    def resume_writing(self) -> None:
        self.connection.resume_writing()
