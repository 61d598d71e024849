"""TLS contexts: built once per verification mode and reused for every handshake.

Creating an ``SSLContext`` loads the CA bundle (milliseconds); doing it per connection would
dominate connection setup. This module never opens sockets.
"""

from __future__ import annotations

import ssl
import weakref
from functools import lru_cache

__all__ = ["ALPN_H2", "ALPN_HTTP11", "client_context", "offer_h2", "offers_h2"]

ALPN_HTTP11 = ["http/1.1"]
ALPN_H2 = ["h2", "http/1.1"]


@lru_cache(maxsize=4)
def client_context(verify: bool = True, http2: bool = False) -> ssl.SSLContext:
    """The shared client context: verifying certificates and host names, or neither;
    offering h2 and http/1.1 through ALPN, or http/1.1 only."""
    context = ssl.create_default_context(ssl.Purpose.SERVER_AUTH)
    if not verify:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    context.set_alpn_protocols(ALPN_H2 if http2 else ALPN_HTTP11)
    return context


_offering_h2: weakref.WeakSet[ssl.SSLContext] = weakref.WeakSet()


def offer_h2(context: ssl.SSLContext) -> ssl.SSLContext:
    """Make a caller's context offer h2 and http/1.1 through ALPN.

    An SSLContext cannot be copied, so its ALPN list is set in place; that changes nothing
    for HTTP/1.1 servers, which keep selecting http/1.1. From then on every connection made
    with it may come up as HTTP/2 (``offers_h2``), and is spoken to accordingly.
    """
    if context not in _offering_h2:
        context.set_alpn_protocols(ALPN_H2)
        _offering_h2.add(context)
    return context


def offers_h2(context: ssl.SSLContext) -> bool:
    """True for a caller's context that ``offer_h2`` changed."""
    return context in _offering_h2
