"""``Proxy``: where a proxy is and how to authenticate to it. A value object only; the
connector decides how to route through it (HTTP proxy: absolute-form for http, CONNECT for
https; SOCKS proxy: a SOCKS tunnel to the origin, then HTTP as if direct)."""

from __future__ import annotations

from base64 import b64encode
from typing import TYPE_CHECKING
from urllib.parse import unquote

from ._url import URL, parse_url, redact
from .exceptions import InvalidRequest

if TYPE_CHECKING:
    from ._socks import SocksProxy

__all__ = ["Proxy"]

_SOCKS_PREFIXES = ("socks5://", "socks5h://", "socks4://", "socks4a://")


class Proxy:
    """An HTTP or SOCKS proxy.

    - ``host``: the proxy's address: ``"http://127.0.0.1:3128"`` or ``"127.0.0.1:3128"``
      for an HTTP proxy; ``"socks5://host:1080"`` (names resolved here),
      ``"socks5h://..."`` (names resolved by the proxy), ``"socks4://..."`` or
      ``"socks4a://..."`` for a SOCKS proxy, with ``user:password@`` if it wants them.
    - ``auth``: credentials as ``"user:password"``, sent as ``Proxy-Authorization: Basic``
      to an HTTP proxy only (never to the origin); a SOCKS proxy takes them in its URL.
    """

    url: URL

    def __init__(self, host: str, auth: str | None = None) -> None:
        self.host = host
        self.auth = auth
        self.socks: SocksProxy | None = None
        if host.lower().startswith(_SOCKS_PREFIXES):
            from ._socks import parse_socks_url  # only SOCKS users load it

            self.socks = parse_socks_url(host)
            if auth is not None:
                raise InvalidRequest("give SOCKS credentials in the proxy URL, not auth=")
            self.url = parse_url("http://" + host.split("://", 1)[1].rpartition("@")[2])
            return
        raw = host if "://" in host else "http://" + host
        try:
            url = parse_url(raw)
        except InvalidRequest as exc:
            # The same class (an InvalidURL is also the HttpParsingError upstream raised).
            raise type(exc)(f"invalid proxy address {redact(host)!r}: {exc}") from None
        if url.scheme != "http":
            raise InvalidRequest(
                f"only http:// and socks proxies are supported, not {redact(host)!r}"
            )
        if auth is None and url.userinfo is not None:
            self.auth = unquote(url.userinfo)
        self.url = url

    @property
    def authorization(self) -> str | None:
        """The Proxy-Authorization header value, if credentials were given."""
        if self.auth is None:
            return None
        return "Basic " + b64encode(self.auth.encode("utf-8")).decode("ascii")

    def __repr__(self) -> str:
        auth = ", auth=***" if self.auth else ""
        return f"Proxy({redact(self.host)!r}{auth})"  # never show credentials

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Proxy):
            return NotImplemented
        return (self.url.origin, self.auth, self.socks) == (
            other.url.origin, other.auth, other.socks
        )

    def __hash__(self) -> int:
        return hash((self.url.origin, self.auth, self.socks))
