"""The two seams of the request path, and the one object that crosses them.

    client pipeline --Exchange--> Transport.send --> pool slot --> HTTPConnection.handle_request

- ``Exchange``: one request, ready for the wire: prepared once by the client (headers
  merged, HTTP/1.1 head encoded, body framed) and read, never changed, below it.
- ``Transport``: what the client sends every request through: the network
  (``TCPConnector``'s transport), ``MockTransport`` and ``ASGITransport`` alike.
- ``HTTPConnection``: one connection to one origin, whatever its protocol (HTTP/1.1 and
  HTTP/2 today): takes an exchange, returns the response once its head has arrived, and
  says whether it can take another (``is_available``), has none in flight (``is_idle``),
  should not be used again (``has_expired``) or is gone (``is_closed``).

This module holds no behaviour beyond building the HTTP/2 header list on demand.
"""

from __future__ import annotations

from collections.abc import AsyncIterable, Callable, Iterable
from typing import TYPE_CHECKING, Any, Protocol

from ._url import URL

if TYPE_CHECKING:
    from ._request import Body
    from ._routes import Route
    from .hooks import Trace
    from .response import HttpResponse
    from .timeout import Timeouts

__all__ = ["Exchange", "HTTPConnection", "Stream", "Transport"]

Stream = Iterable[bytes] | AsyncIterable[bytes]


class Exchange:
    """One request as the connections see it.

    ``head`` is the HTTP/1.1 request head (absolute-form through an HTTP proxy);
    ``pairs`` the header pairs it was made of (what HTTP/2 and transports use); ``data``
    a body in memory, or ``stream`` a streamed one (``chunked`` framing or raw under a
    Content-Length), with ``restart`` making the stream anew if it may be sent twice.
    ``deadline`` is the time the whole request must be done by (None: no limit) and
    ``started`` when it was last handed to a connection, both on ``time.monotonic()``'s
    clock (the one asyncio's and uvloop's loop times count in): the transport reads it once
    per attempt and the connection reuses that reading rather than taking its own.
    """

    __slots__ = (
        "_h2_headers",
        "body",
        "chunked",
        "data",
        "deadline",
        "expect100",
        "extensions",
        "head",
        "idempotent",
        "method",
        "pairs",
        "restart",
        "route",
        "started",
        "stream",
        "timeouts",
        "trace",
        "upgrade",
        "url",
    )

    def __init__(
        self,
        method: str,
        url: URL,
        route: Route,
        head: bytes,
        pairs: list[tuple[str, str]],
        timeouts: Timeouts,
        data: bytes | None = None,
        stream: Stream | None = None,
        chunked: bool = False,
        restart: Callable[[], Stream] | None = None,
        idempotent: bool = False,
        trace: Trace | None = None,
        body: Body | None = None,
        *,
        upgrade: bool = False,
    ) -> None:
        self.method = method
        self.url = url
        self.route = route
        self.head = head
        self.pairs = pairs
        self.timeouts = timeouts
        self.data = data
        self.stream = stream
        self.chunked = chunked
        self.restart = restart
        self.idempotent = idempotent
        self.trace = trace
        self.upgrade = upgrade  # asks to switch protocols (a 101 answer is accepted)
        self.deadline: float | None = None
        self.started = 0.0
        self.extensions: dict[str, Any] | None = None  # a hook's Request.extensions
        # Seconds to hold the body back for a 100 Continue (HTTP/1.1), or None: send it.
        self.expect100: float | None = None
        self.body = body  # the body as the caller gave it (for transports)
        self._h2_headers: list[tuple[bytes, bytes]] | None = None

    @property
    def replayable(self) -> bool:
        """True if the body can be sent again (in memory, or a stream that restarts)."""
        return self.stream is None or self.restart is not None

    def h2_headers(self) -> list[tuple[bytes, bytes]]:
        """The HTTP/2 header list (pseudo-headers first), built on first use."""
        headers = self._h2_headers
        if headers is None:
            from ._http2_conn import h2_request_headers  # imported once HTTP/2 is spoken

            headers = self._h2_headers = h2_request_headers(self.method, self.url, self.pairs)
        return headers

    def __repr__(self) -> str:
        return f"<Exchange {self.method} {self.url.unparse()}>"


class Transport(Protocol):
    """Sends an exchange and returns its response once the head has arrived."""

    async def send(self, exchange: Exchange) -> HttpResponse: ...


class HTTPConnection(Protocol):
    """One open connection, of whatever protocol, as the pool and transport see it."""

    http_version: str

    async def handle_request(self, exchange: Exchange) -> HttpResponse: ...

    @property
    def is_available(self) -> bool:
        """It can take a new request right now."""
        ...

    def reusable(self, now: float) -> bool:
        """It can take a request going out at ``now`` (``time.monotonic()``): available,
        and not so long idle that the server has likely closed it."""
        ...

    @property
    def is_idle(self) -> bool:
        """No request is in flight on it."""
        ...

    @property
    def is_closed(self) -> bool:
        """Its transport is gone or going."""
        ...

    def has_expired(self) -> bool:
        """It must not take new requests any more (closed, or told to stop by the server)."""
        ...

    def close(self) -> None: ...
