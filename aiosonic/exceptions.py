"""Every error aiosonic raises, and the one place where foreign errors become ours.

The tree (catch ``AiosonicError`` to catch them all)::

    AiosonicError
    ├── BaseTimeout                    (also a builtin TimeoutError)
    │   ├── ConnectTimeout             sock_connect elapsed while connecting
    │   ├── ReadTimeout                sock_read elapsed with no byte from the server
    │   ├── RequestTimeout             request_timeout elapsed before the response completed
    │   ├── ConnectionPoolAcquireTimeout  pool_acquire elapsed waiting for a free connection
    │   └── TimeoutException           wait_requests() and other generic waits
    ├── ConnectError                   the TCP/TLS connection could not be made
    │   │                              (also a builtin ConnectionError)
    │   ├── TLSError                   the TLS handshake failed: untrusted, expired or
    │   │   │                          wrong-name certificate, protocol mismatch
    │   │   │                          (also an ssl.SSLError)
    │   │   └── TLSCertVerificationError  the certificate was refused (also an
    │   │                              ssl.SSLCertVerificationError: ``verify_code``...)
    │   └── ProxyError                 the proxy refused the tunnel (``status_code``)
    ├── ConnectionDisconnected         the server closed early: a truncated body or no reply
    │   └── StreamNotProcessed         HTTP/2: the server did not process the stream
    │                                  (also a builtin ConnectionError)
    ├── HttpParsingError               the server sent bytes that are not valid HTTP
    │   └── InvalidURL                 a URL that cannot be parsed (also an InvalidRequest)
    ├── DecompressionError             a Content-Encoding could not be decoded or is too large
    ├── MaxRedirects                   follow=True went past the redirect limit or in a loop
    ├── HTTPStatusError                raise_for_status() on a 4xx/5xx (``response``)
    ├── InvalidRequest                 the request itself is malformed (also a ValueError)
    │   └── InvalidURL
    ├── ResponseConsumed               the body was already streamed with read_chunks()
    │                                  (also a builtin ConnectionError)
    ├── SSEError                       the Server-Sent Events client (aiosonic.sse_client)
    │   ├── SSEConnectionError         the stream could not be opened (``status_code``)
    │   └── SSEParsingError            an event or line over ``max_event_size``
    ├── MissingWriterException         a connection used before it was connected
    ├── MissingReaderException         a connection read before it was connected
    └── MissingEvent                   an internal wait ended without its event

The features loaded on demand define their other errors next to them, under the same root::

    AiosonicError
    ├── AuthError                      aiosonic.auth: an unusable WWW-Authenticate challenge
    ├── WebSocketError                 aiosonic.web_socket_client
    │   ├── WebSocketHandshakeError    the server refused the upgrade (``status_code``)
    │   ├── WebSocketMessageTypeError  text expected, binary received (or the reverse)
    │   ├── NoProtocolHandler          send_protocol() without a handler (also a
    │   │                              RuntimeError)
    │   └── WebSocketClosed            closed (``code``, ``reason``); also a
    │       │                          ConnectionDisconnected
    │       ├── WebSocketProtocolError the peer broke RFC 6455 (1002, 1007)
    │       └── MessageTooBig          a message over ``max_msg_size`` (1009)
    └── HttpParsingError
        └── ASGIProtocolError          aiosonic.testing: an ASGI app broke the protocol

The builtin bases are there so that programs written against upstream aiosonic, and
against the standard library, catch what they expect: ``except ssl.SSLError`` around a
request to a server with a bad certificate, ``except HttpParsingError`` around a URL
without a host, ``except ConnectionError`` around a body read twice.

``map_oserror`` is the only translation point for ``OSError`` raised by the socket layer;
the codec's own errors are raised directly as ``HttpParsingError``.

Several of these classes have more than one builtin base, which mypyc cannot compile:
this module must stay interpreted (the compiled modules raise and catch its classes like
any others). It must never import anything from the rest of the package at run time.
"""

from __future__ import annotations

import ssl
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .response import HttpResponse

__all__ = [
    "AiosonicError",
    "BaseTimeout",
    "ConnectError",
    "ConnectTimeout",
    "ConnectionDisconnected",
    "ConnectionPoolAcquireTimeout",
    "DecompressionError",
    "HTTPStatusError",
    "HttpParsingError",
    "InvalidRequest",
    "InvalidURL",
    "MaxRedirects",
    "MissingEvent",
    "MissingReaderException",
    "MissingWriterException",
    "ProxyError",
    "ReadTimeout",
    "RequestTimeout",
    "ResponseConsumed",
    "SSEConnectionError",
    "SSEError",
    "SSEParsingError",
    "StreamNotProcessed",
    "TLSCertVerificationError",
    "TLSError",
    "TimeoutException",
    "map_oserror",
]


class AiosonicError(Exception):
    """Root of every exception aiosonic raises on purpose."""


class BaseTimeout(AiosonicError, TimeoutError):
    """A configured time limit elapsed."""


class ConnectTimeout(BaseTimeout):
    """``Timeouts.sock_connect`` elapsed while opening the connection."""


class ReadTimeout(BaseTimeout):
    """``Timeouts.sock_read`` elapsed without a byte from the server."""


class RequestTimeout(BaseTimeout):
    """``Timeouts.request_timeout`` elapsed before the response was complete."""


class ConnectionPoolAcquireTimeout(BaseTimeout):
    """``Timeouts.pool_acquire`` elapsed while every pooled connection was busy."""


class TimeoutException(BaseTimeout):
    """A generic wait (such as ``HTTPClient.wait_requests``) ran out of time."""


class ConnectError(AiosonicError, ConnectionError):
    """The connection to the server could not be established."""


class TLSError(ConnectError, ssl.SSLError):
    """The TLS handshake with the server (or through a proxy tunnel) failed.

    It is also an ``ssl.SSLError``, so code written for the standard library (or for
    upstream aiosonic) that catches that still does. ``cause`` is the ``ssl`` module's
    error (raised as ``__cause__`` too): its ``errno``, ``strerror``, ``library`` and
    ``reason`` are copied; the message names the host and the reason.
    """

    def __init__(self, message: str, cause: ssl.SSLError | None = None) -> None:
        super().__init__(message)
        if cause is not None:
            self.errno = cause.errno
            self.strerror = cause.strerror
            # Set by the ssl module on the errors it raises; absent on one made by hand.
            for name in ("library", "reason"):
                if hasattr(cause, name):
                    setattr(self, name, getattr(cause, name))

    def __str__(self) -> str:
        # ssl.SSLError's own __str__ shows ``strerror`` (the cause's text, without which
        # host failed) or else the args tuple: the message is what explains the failure.
        return BaseException.__str__(self)


class TLSCertVerificationError(TLSError, ssl.SSLCertVerificationError):
    """The server's certificate was refused: untrusted, expired, or not for this host.

    Also an ``ssl.SSLCertVerificationError``; ``verify_code`` and ``verify_message`` are
    OpenSSL's (``verify_message`` is in the message too).
    """

    def __init__(self, message: str, cause: ssl.SSLCertVerificationError | None = None) -> None:
        super().__init__(message, cause)
        for name in ("verify_code", "verify_message"):
            if hasattr(cause, name):
                setattr(self, name, getattr(cause, name))


class ProxyError(ConnectError):
    """The proxy refused to open a tunnel; ``status_code`` is its answer (407, 403, 502...)."""

    def __init__(self, message: str, status_code: int | None = None) -> None:
        super().__init__(message)
        self.status_code = status_code


class ConnectionDisconnected(AiosonicError, ConnectionError):
    """The server closed the connection before the response was complete."""


class StreamNotProcessed(ConnectionDisconnected):
    """The server will not process this HTTP/2 stream (GOAWAY above it, or REFUSED_STREAM):
    it is safe to send the request again on another connection."""


class HttpParsingError(AiosonicError):
    """The server's reply is not valid HTTP, or breaks one of our limits."""


class DecompressionError(AiosonicError):
    """A response body could not be decoded by its Content-Encoding."""


class MaxRedirects(AiosonicError):
    """Following redirects went past the limit, or looped."""


class HTTPStatusError(AiosonicError):
    """``response.raise_for_status()`` found a 4xx or 5xx status; ``response`` is it."""

    def __init__(self, message: str, response: HttpResponse) -> None:
        super().__init__(message)
        self.response = response

    @property
    def status_code(self) -> int:
        return self.response.status_code


class InvalidRequest(AiosonicError, ValueError):
    """The request cannot be sent as given (bad URL, method, header or body)."""


class InvalidURL(InvalidRequest, HttpParsingError):
    """A URL cannot be parsed: no host, no or an unsupported scheme, a bad port...

    An ``InvalidRequest`` (so a ``ValueError``) like any other request that cannot be
    sent, and an ``HttpParsingError`` because that is what upstream aiosonic raises for a
    URL without a host, and programs written for it catch that.
    """


class ResponseConsumed(AiosonicError, ConnectionError):
    """The body was already streamed with ``read_chunks()`` and is gone.

    Also a ``ConnectionError``: upstream aiosonic raises that one for a body read after
    its chunks were.
    """


class SSEError(AiosonicError):
    """Root of the errors of the Server-Sent Events client (``aiosonic.sse_client``)."""


class SSEParsingError(SSEError):
    """The event stream broke a limit of the parser (a line or an event too large)."""


class SSEConnectionError(SSEError):
    """The event source could not be opened, or its stream broke without reconnection.

    ``status_code`` is the server's answer when it refused the stream (non-200, or a
    Content-Type other than text/event-stream), else None; ``body`` holds the first bytes of
    that answer's body (at most 64 KiB). A network failure is chained as ``__cause__``.
    """

    def __init__(
        self, message: str, status_code: int | None = None, body: bytes = b""
    ) -> None:
        super().__init__(message)
        self.status_code = status_code
        self.body = body


class MissingWriterException(AiosonicError):
    """A connection was written to before it was connected."""


class MissingReaderException(AiosonicError):
    """A connection was read from before it was connected."""


class MissingEvent(AiosonicError):
    """An internal wait finished without the event it was waiting for."""


def map_oserror(exc: OSError, what: str) -> AiosonicError:
    """Translate a socket-level ``OSError`` raised while doing ``what`` (the caller raises
    the result ``from exc``)."""
    if isinstance(exc, TimeoutError):
        return ConnectTimeout(f"{what}: {exc}")
    if isinstance(exc, ssl.SSLError):
        reason = getattr(exc, "verify_message", None) or exc.reason or str(exc)
        message = f"{what}: TLS handshake failed: {reason}"
        if isinstance(exc, ssl.SSLCertVerificationError):
            return TLSCertVerificationError(message, exc)
        return TLSError(message, exc)
    return ConnectError(f"{what}: {exc.strerror or exc}")
