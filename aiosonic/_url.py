"""URL parsing for requests: a string becomes an immutable ``URL`` once, then comes from a cache.

It owns splitting, normalising and percent-encoding the parts of a request URL and
computing the per-origin values the hot path needs (origin key, Host header). It never does
I/O and never decides anything about connections.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Mapping, Sequence
from typing import Final
from urllib.parse import quote, urlencode, urljoin, urlsplit

from ._idna import host_to_ascii
from .exceptions import InvalidURL

__all__ = ["URL", "parse_url", "redact"]

_DEFAULT_PORTS: Final = {"http": 80, "https": 443, "ws": 80, "wss": 443}
# Characters left as they are in a path or query: RFC 3986 pchar plus "/" and "?", and "%" so
# that an already-encoded URL is not encoded twice.
_SAFE_PATH: Final = "/%:@!$&'()*+,;=-._~"
_SAFE_QUERY: Final = _SAFE_PATH + "?"
# Refused anywhere in a URL, rather than silently dropped as urlsplit (and WHATWG) do: a URL
# built from untrusted input with a line break in it fails loudly.
_CONTROL_IN_URL: Final = re.compile(r"[\r\n\t\0]")
# A "%" that does not start an escape: sent as "%25" (yarl and WHATWG do the same).
_STRAY_PERCENT: Final = re.compile(r"%(?![0-9A-Fa-f]{2})")
_DOT_SEGMENTS: Final = frozenset({".", "..", "%2e", "%2E", ".%2e", ".%2E", "%2e.", "%2E.",
                                  "%2e%2e", "%2E%2E", "%2e%2E", "%2E%2e"})
_CACHE_MAX: Final = 2048
_host_to_ascii: Final = host_to_ascii

Params = Mapping[str, object] | Sequence[tuple[str, object]]


class URL:
    """A parsed, normalised absolute URL. Build with ``parse_url``; never mutate."""

    __slots__ = (
        "host",
        "host_header",
        "is_default_port",
        "origin",
        "port",
        "raw",
        "scheme",
        "target",
        "userinfo",
    )

    def __init__(
        self, raw: str, scheme: str, host: str, port: int, target: str, userinfo: str | None
    ) -> None:
        self.raw = raw
        self.scheme = scheme
        self.host = host
        self.port = port
        self.target = target
        self.userinfo = userinfo
        self.is_default_port = _DEFAULT_PORTS.get(scheme) == port
        bracketed = f"[{host}]" if ":" in host else host
        self.host_header = bracketed if self.is_default_port else f"{bracketed}:{port}"
        self.origin = (scheme, host, port)

    @property
    def is_secure(self) -> bool:
        return self.scheme in ("https", "wss")

    @property
    def path(self) -> str:
        return self.target.partition("?")[0]

    @property
    def query(self) -> str:
        return self.target.partition("?")[2]

    def with_params(self, params: Params) -> URL:
        """This URL with ``params`` appended to its query (existing query kept first)."""
        items = params.items() if isinstance(params, Mapping) else params
        encoded = urlencode([(str(k), str(v)) for k, v in items])
        if not encoded:
            return self
        sep = "&" if "?" in self.target else "?"
        return URL(self.raw, self.scheme, self.host, self.port, self.target + sep + encoded,
                   self.userinfo)

    def join(self, location: str) -> URL:
        """Resolve ``location`` (absolute or relative, e.g. a redirect) against this URL."""
        return parse_url(urljoin(self.unparse(), location))

    def unparse(self) -> str:
        scheme_host = f"{self.scheme}://{self.host_header}"
        return scheme_host + self.target

    def __repr__(self) -> str:
        return f"URL({self.unparse()!r})"  # unparse() never includes user:password


def _normalise_host(host: str, raw: str) -> str:
    if not host:
        raise InvalidURL(f"URL has no host: {redact(raw)!r}")
    try:
        return str(ipaddress.ip_address(host))
    except ValueError:
        pass
    if host.isascii():
        host = host.lower()  # the fast path: most hosts, and already their wire form
    else:
        try:
            host = _host_to_ascii(host)  # IDNA 2008 + UTS 46 (_idna.py), cached there
        except UnicodeError as exc:
            raise InvalidURL(
                f"URL host is not a valid name ({exc}): {redact(raw)!r}"
            ) from None
    if any(ch in host for ch in "\r\n\0 \t/\\@"):
        raise InvalidURL(f"URL host contains forbidden characters: {redact(raw)!r}")
    return host


def _parse(raw: object, schemes: tuple[str, ...]) -> URL:
    if not isinstance(raw, str):
        raise InvalidURL(f"URL must be a str, not {type(raw).__name__}")
    if _CONTROL_IN_URL.search(raw):
        raise InvalidURL(f"URL contains CR, LF, TAB or NUL: {redact(raw)!r}")
    try:
        parts = urlsplit(raw.strip())
        port = parts.port
    except ValueError as exc:
        raise InvalidURL(f"invalid URL {redact(raw)!r}: {exc}") from exc
    scheme = parts.scheme.lower()
    if scheme not in schemes:
        if not scheme:
            raise InvalidURL(f"URL has no scheme: {redact(raw)!r}")
        raise InvalidURL(f"URL scheme {scheme!r} is not supported: {redact(raw)!r}")
    host = _normalise_host(parts.hostname or "", raw)
    path = parts.path
    if "." in path:
        path = remove_dot_segments(path)
    path = _escaped(quote(path, safe=_SAFE_PATH)) or "/"
    target = path
    if parts.query:
        target += "?" + _escaped(quote(parts.query, safe=_SAFE_QUERY))
    userinfo = None
    if parts.username is not None:
        userinfo = parts.username + (":" + parts.password if parts.password is not None else "")
    return URL(raw, scheme, host, port or _DEFAULT_PORTS[scheme], target, userinfo)


def _escaped(text: str) -> str:
    return _STRAY_PERCENT.sub("%25", text) if "%" in text else text


def remove_dot_segments(path: str) -> str:
    """``path`` without its ``.`` and ``..`` segments (RFC 3986 5.2.4; an escaped dot,
    ``%2e``, is one too, as in WHATWG): ``/a/../b/./c`` is ``/b/c``. A ``..`` above the
    root stays at the root."""
    segments = path.split("/")
    if not any(segment in _DOT_SEGMENTS for segment in segments):
        return path
    out: list[str] = []
    for segment in segments[1:] if path.startswith("/") else segments:
        if segment in _DOT_SEGMENTS:
            if segment not in (".", "%2e", "%2E") and out:
                out.pop()
            continue
        out.append(segment)
    # A path ending in a dot segment names a directory: it keeps its trailing slash.
    if segments[-1] in _DOT_SEGMENTS:
        out.append("")
    return "/" + "/".join(out)


_USERINFO: Final = re.compile(r"(?<=://)[^/@?#]*@")


def redact(raw: str) -> str:
    """``raw`` with any user:password@ part hidden, for error messages (never leak secrets)."""
    return _USERINFO.sub("***@", raw) if isinstance(raw, str) else repr(raw)


_cache: Final[dict[object, URL]] = {}


def parse_url(raw: object, schemes: tuple[str, ...] = ("http", "https")) -> URL:
    """Parse ``raw`` once; repeated calls with the same string come from a bounded cache.

    ``raw`` is whatever the caller passed (``object``: in the compiled build a ``str``
    annotation would refuse anything else before ``InvalidRequest`` could name it)."""
    url = _cache.get(raw)
    if url is not None and url.scheme in schemes:
        return url
    url = _parse(raw, schemes)
    if len(_cache) >= _CACHE_MAX:
        _cache.clear()
    _cache[raw] = url
    return url
