"""aiosonic: a fast asyncio HTTP client you can trust with hostile servers.

    async with aiosonic.HTTPClient() as client:
        response = await client.get("http://127.0.0.1:8080/")
        print(response.status_code, await response.text())
"""

from __future__ import annotations

from ._headers import HttpHeaders
from ._version import __version__
from .client import HTTPClient
from .connectors import TCPConnector
from .exceptions import AiosonicError
from .limits import Limits
from .multipart import MultipartFile, MultipartForm
from .pools import CyclicQueuePool, SmartPool
from .proxy import Proxy
from .resolver import AsyncResolver, DefaultResolver, ThreadedResolver
from .response import HttpResponse
from .timeout import Timeouts

__all__ = [
    "AiosonicError",
    "AsyncResolver",
    "CyclicQueuePool",
    "DefaultResolver",
    "HTTPClient",
    "HttpHeaders",
    "HttpResponse",
    "Limits",
    "MultipartFile",
    "MultipartForm",
    "Proxy",
    "SmartPool",
    "TCPConnector",
    "ThreadedResolver",
    "Timeouts",
    "__version__",
]
