"""``Session``: the configured ``HTTPClient`` of one run and the one way requests are sent.

It maps options to the public API (``TCPConnector``, ``Timeouts``, ``Proxy``, an SSL
context for ``--cacert``) and sends a ``PreparedRequest`` to a URL. It never prints.
"""

from __future__ import annotations

import ssl
from types import TracebackType

from aiosonic import HTTPClient, HttpResponse, Proxy, TCPConnector, Timeouts

from .args import Options
from .body import PreparedRequest

__all__ = ["Session", "timeouts_for"]

# Without --timeout: give up on a connection that cannot be made, never on a slow body
# (a large download may take as long as it takes, like curl and httpie).
DEFAULT_CONNECT_TIMEOUT = 30.0


def timeouts_for(seconds: float | None) -> Timeouts:
    """``--timeout`` bounds connecting and every wait for data, not the whole transfer."""
    if seconds is None:
        return Timeouts(sock_connect=DEFAULT_CONNECT_TIMEOUT, sock_read=None,
                        request_timeout=None)
    return Timeouts(sock_connect=seconds, sock_read=seconds, request_timeout=None)


class Session:
    """One client for the run; ``async with`` closes every connection it opened."""

    def __init__(self, options: Options, prepared: PreparedRequest, pool_size: int = 1) -> None:
        self.options = options
        self.prepared = prepared
        self.ssl_context: ssl.SSLContext | None = None
        if options.cacert is not None and not options.insecure:
            try:
                self.ssl_context = ssl.create_default_context(cafile=options.cacert)
            except OSError as exc:  # also ssl.SSLError: not PEM certificates
                reason = exc.strerror or str(exc)
                raise OSError(f"cannot load --cacert {options.cacert!r}: {reason}") from None
        proxy = Proxy(options.proxy) if options.proxy is not None else None
        connector = TCPConnector(pool_size=pool_size, timeouts=timeouts_for(options.timeout))
        self.client = HTTPClient(
            connector,
            verify_ssl=not options.insecure,
            proxy=proxy,
            max_redirects=options.max_redirects,
        )

    async def __aenter__(self) -> Session:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.client.close()

    async def send(self, url: str) -> HttpResponse:
        """Send the prepared request to ``url``; returns once the response head is in."""
        prepared = self.prepared
        return await self.client.request(
            url,
            prepared.method,
            headers=prepared.headers,
            params=prepared.params or None,
            data=prepared.data,
            verify=not self.options.insecure,
            ssl=self.ssl_context,
            follow=self.options.follow,
            http2=self.options.http2,
            max_redirects=self.options.max_redirects,
        )
