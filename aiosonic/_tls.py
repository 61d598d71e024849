"""TLS contexts: built once per verification mode and reused for every handshake.

Creating an ``SSLContext`` loads the CA bundle (milliseconds); doing it per connection would
dominate connection setup. This module never opens sockets.
"""

from __future__ import annotations

import ssl
from functools import lru_cache

__all__ = ["ALPN_HTTP11", "client_context"]

ALPN_HTTP11 = ["http/1.1"]


@lru_cache(maxsize=4)
def client_context(verify: bool = True) -> ssl.SSLContext:
    """The shared client context: verifying certificates and host names, or neither."""
    context = ssl.create_default_context(ssl.Purpose.SERVER_AUTH)
    if not verify:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    context.set_alpn_protocols(ALPN_HTTP11)
    return context
