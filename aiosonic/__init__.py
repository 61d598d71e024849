"""aiosonic: a fast asyncio HTTP client you can trust with hostile servers.

    async with aiosonic.HTTPClient() as client:
        response = await client.get("http://127.0.0.1:8080/")
        print(response.status_code, await response.text())

The HTTP client loads with ``import aiosonic``; the WebSocket and SSE clients, the auth
schemes, ``BaseClient`` and the test transports are loaded the first time they are named
(``aiosonic.WebSocketClient``), so that programs that never use them do not pay for them.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

from ._build import COMPILED
from ._headers import HttpHeaders
from ._version import __version__
from .client import HTTPClient
from .connectors import TCPConnector
from .exceptions import AiosonicError, HTTPStatusError
from .limits import Limits
from .multipart import MultipartFile, MultipartForm
from .pools import CyclicQueuePool, PoolConfig, SmartPool
from .proxy import Proxy
from .request import Request
from .resolver import AsyncResolver, DefaultResolver, ThreadedResolver
from .response import HttpResponse
from .retry import RetryPolicy
from .timeout import Timeouts

if TYPE_CHECKING:
    from .auth import Auth, BasicAuth, BearerAuth, DigestAuth
    from .base_client import BaseClient
    from .cookies import Cookie, CookieJar
    from .hooks import TraceEvent
    from .sse_client import SSEClient
    from .testing import ASGITransport, MockTransport
    from .web_socket_client import Message, MessageType, WebSocketClient, WebSocketConnection

# name -> the module that defines it, imported on first use.
_LAZY = {
    "Auth": ".auth",
    "BasicAuth": ".auth",
    "BearerAuth": ".auth",
    "DigestAuth": ".auth",
    "BaseClient": ".base_client",
    "Cookie": ".cookies",
    "CookieJar": ".cookies",
    "TraceEvent": ".hooks",
    "ASGITransport": ".testing",
    "MockTransport": ".testing",
    "SSEClient": ".sse_client",
    "Message": ".web_socket_client",
    "MessageType": ".web_socket_client",
    "WebSocketClient": ".web_socket_client",
    "WebSocketConnection": ".web_socket_client",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'aiosonic' has no attribute {name!r}")
    value = getattr(import_module(module, __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)


__all__ = [
    "COMPILED",
    "ASGITransport",
    "AiosonicError",
    "AsyncResolver",
    "Auth",
    "BaseClient",
    "BasicAuth",
    "BearerAuth",
    "Cookie",
    "CookieJar",
    "CyclicQueuePool",
    "DefaultResolver",
    "DigestAuth",
    "HTTPClient",
    "HTTPStatusError",
    "HttpHeaders",
    "HttpResponse",
    "Limits",
    "Message",
    "MessageType",
    "MockTransport",
    "MultipartFile",
    "MultipartForm",
    "PoolConfig",
    "Proxy",
    "Request",
    "RetryPolicy",
    "SSEClient",
    "SmartPool",
    "TCPConnector",
    "ThreadedResolver",
    "Timeouts",
    "TraceEvent",
    "WebSocketClient",
    "WebSocketConnection",
    "__version__",
]
