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
    │   │                              wrong-name certificate, protocol mismatch
    │   └── ProxyError                 the proxy refused the tunnel (``status_code``)
    ├── ConnectionDisconnected         the server closed early: a truncated body or no reply
    │   └── StreamNotProcessed         HTTP/2: the server did not process the stream
    │                                  (also a builtin ConnectionError)
    ├── HttpParsingError               the server sent bytes that are not valid HTTP
    ├── DecompressionError             a Content-Encoding could not be decoded or is too large
    ├── MaxRedirects                   follow=True went past the redirect limit or in a loop
    ├── HTTPStatusError                raise_for_status() on a 4xx/5xx (``response``)
    ├── InvalidRequest                 the request itself is malformed (also a ValueError)
    ├── MissingWriterException         a connection used before it was connected
    ├── MissingReaderException         a connection read before it was connected
    └── MissingEvent                   an internal wait ended without its event

The features loaded on demand define their errors next to them, under the same root::

    AiosonicError
    ├── ResponseConsumed               aiosonic.response: the body was already streamed
    ├── AuthError                      aiosonic.auth: an unusable WWW-Authenticate challenge
    ├── SSEError                       aiosonic.sse_client
    │   ├── SSEConnectionError         the stream could not be opened (``status_code``)
    │   └── SSEParsingError            an event or line over ``max_event_size``
    ├── WebSocketError                 aiosonic.web_socket_client
    │   ├── WebSocketHandshakeError    the server refused the upgrade (``status_code``)
    │   ├── WebSocketMessageTypeError  text expected, binary received (or the reverse)
    │   └── WebSocketClosed            closed (``code``, ``reason``); also a
    │       │                          ConnectionDisconnected
    │       ├── WebSocketProtocolError the peer broke RFC 6455 (1002, 1007)
    │       └── MessageTooBig          a message over ``max_msg_size`` (1009)
    └── HttpParsingError
        └── ASGIProtocolError          aiosonic.testing: an ASGI app broke the protocol

``map_oserror`` is the only translation point for ``OSError`` raised by the socket layer;
the codec's own errors are raised directly as ``HttpParsingError``.

This module must never import anything from the rest of the package.
"""

from __future__ import annotations

import ssl
from typing import Any

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
    "MaxRedirects",
    "MissingEvent",
    "MissingReaderException",
    "MissingWriterException",
    "ProxyError",
    "ReadTimeout",
    "RequestTimeout",
    "StreamNotProcessed",
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


class TLSError(ConnectError):
    """The TLS handshake with the server (or through a proxy tunnel) failed."""


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

    def __init__(self, message: str, response: Any) -> None:
        super().__init__(message)
        self.response = response

    @property
    def status_code(self) -> int:
        return int(self.response.status_code)


class InvalidRequest(AiosonicError, ValueError):
    """The request cannot be sent as given (bad URL, method, header or body)."""


class MissingWriterException(AiosonicError):
    """A connection was written to before it was connected."""


class MissingReaderException(AiosonicError):
    """A connection was read from before it was connected."""


class MissingEvent(AiosonicError):
    """An internal wait finished without the event it was waiting for."""


def map_oserror(exc: OSError, what: str) -> AiosonicError:
    """Translate a socket-level ``OSError`` raised while doing ``what``."""
    if isinstance(exc, TimeoutError):
        return ConnectTimeout(f"{what}: {exc}")
    if isinstance(exc, ssl.SSLError):
        reason = getattr(exc, "verify_message", None) or exc.reason or str(exc)
        return TLSError(f"{what}: TLS handshake failed: {reason}")
    return ConnectError(f"{what}: {exc.strerror or exc}")
