"""``Proxy``: where an HTTP proxy is and how to authenticate to it. A value object only."""

from __future__ import annotations

from base64 import b64encode

__all__ = ["Proxy"]


class Proxy:
    """An HTTP proxy: ``host`` such as ``"http://127.0.0.1:3128"``, ``auth`` as ``"user:pass"``."""

    def __init__(self, host: str, auth: str | None = None) -> None:
        self.host = host
        self.auth = auth

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
        return (self.host, self.auth) == (other.host, other.auth)

    def __hash__(self) -> int:
        return hash((self.host, self.auth))
