"""``Proxy``: where an HTTP proxy is and how to authenticate to it. A value object only;
the connector decides how to route through it (absolute-form for http, CONNECT for https)."""

from __future__ import annotations

from base64 import b64encode
from urllib.parse import unquote

from ._url import URL, parse_url, redact
from .exceptions import InvalidRequest

__all__ = ["Proxy"]


class Proxy:
    """An HTTP proxy.

    - ``host``: the proxy's address, ``"http://127.0.0.1:3128"`` or ``"127.0.0.1:3128"``.
    - ``auth``: credentials as ``"user:password"``, sent as ``Proxy-Authorization: Basic``
      to the proxy only (never to the origin).
    """

    def __init__(self, host: str, auth: str | None = None) -> None:
        self.host = host
        self.auth = auth
        raw = host if "://" in host else "http://" + host
        try:
            url = parse_url(raw)
        except InvalidRequest as exc:
            raise InvalidRequest(f"invalid proxy address {redact(host)!r}: {exc}") from None
        if url.scheme != "http":
            raise InvalidRequest(f"only http:// proxies are supported, not {redact(host)!r}")
        if auth is None and url.userinfo is not None:
            self.auth = unquote(url.userinfo)
        self.url: URL = url

    @property
    def authorization(self) -> str | None:
        """The Proxy-Authorization header value, if credentials were given."""
        if self.auth is None:
            return None
        return "Basic " + b64encode(self.auth.encode("utf-8")).decode("ascii")

    def __repr__(self) -> str:
        auth = ", auth=***" if self.auth else ""
        return f"Proxy({self.host!r}{auth})"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Proxy):
            return NotImplemented
        return (self.url.origin, self.auth) == (other.url.origin, other.auth)

    def __hash__(self) -> int:
        return hash((self.url.origin, self.auth))
