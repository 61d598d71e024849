"""``CookieJar`` and ``Cookie``: cookies kept across requests with RFC 6265 semantics.
No network I/O (``save``/``load`` read and write a file you name).

It owns parsing ``Set-Cookie`` (RFC 6265 section 5.2, not ``SimpleCookie``'s looser rules),
storage keyed by (domain, path, name), expiry, and choosing the cookies for a request URL:

- no Domain attribute: host-only, sent back to exactly that host;
- Domain=d: sent to d and its subdomains, accepted only if the request host domain-matches d
  and d is not a public suffix (``co.uk``, ``github.io``: from the Public Suffix List of the
  ``publicsuffixlist`` package; a public suffix that is the host itself makes a host-only
  cookie); for an IP-address host only d == host is accepted; d is compared in its IDNA
  form, as URL hosts are (``Domain=faß.de`` is ``xn--fa-hia.de``);
- Path: prefix match on "/" boundaries; absent or not starting with "/": the default path;
- Secure: sent only over https; Max-Age wins over Expires; an expired cookie deletes.

And RFC 6265bis on top:

- a ``Secure`` cookie is accepted only from a secure origin (https, or a loopback host, as
  browsers count them), and a non-secure origin cannot set, overwrite or delete a cookie
  that shadows a ``Secure`` one ("leave Secure cookies alone");
- name prefixes: ``__Secure-`` needs ``Secure`` from a secure origin, ``__Host-`` also
  ``Path=/`` and no ``Domain`` (compared without case);
- limits as browsers keep them: 4096 bytes of name and value, 1024 of an attribute value
  (a longer one is ignored), 50 cookies per domain and 3000 in all (the least recently
  set go first), and at most ``MAX_HEADER`` bytes in one Cookie header (the most specific
  cookies first, as they are sent).

The client calls ``extract`` for each response and ``header_for`` for each request. Users
inspect it (iterate its ``Cookie`` objects, ``get``), add their own (``set``: a cookie with
no domain is sent to every host), and keep it in a file (``save``/``load``, the
Netscape/Mozilla ``cookies.txt`` format that curl and wget read and write).
"""

from __future__ import annotations

import ipaddress
import os
import time
from collections.abc import Iterator
from functools import lru_cache
from typing import TYPE_CHECKING

from ._idna import host_to_ascii
from ._url import URL
from .exceptions import InvalidRequest

if TYPE_CHECKING:
    from publicsuffixlist import PublicSuffixList

__all__ = ["Cookie", "CookieJar"]

_MAX_AGE_CAP = 400 * 24 * 3600  # RFC 6265bis caps lifetimes at 400 days
MAX_COOKIE = 4096  # bytes of name and value
MAX_ATTRIBUTE = 1024  # bytes of one attribute value; a longer one is ignored
MAX_PER_DOMAIN = 50
MAX_COOKIES = 3000
MAX_HEADER = 16 * 1024  # bytes of one Cookie header
_LOOPBACK_NAMES = frozenset({"localhost", "localhost.localdomain"})


class Cookie:
    """One cookie of the jar: ``name``, ``value``, ``domain`` (empty: every host),
    ``path``, ``host_only``, ``secure``, ``expires`` (a Unix time, None for the session)
    and ``created``."""

    __slots__ = ("created", "domain", "expires", "host_only", "name", "path", "secure", "value")

    def __init__(
        self,
        name: str,
        value: str,
        domain: str,
        path: str,
        *,
        host_only: bool,
        secure: bool,
        expires: float | None,
        created: float,
    ) -> None:
        self.name = name
        self.value = value
        self.domain = domain
        self.path = path
        self.host_only = host_only
        self.secure = secure
        self.expires = expires
        self.created = created

    def __repr__(self) -> str:
        return f"Cookie({self.name}={self.value!r}, domain={self.domain!r}, path={self.path!r})"


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def _domain_attribute(value: str) -> str | None:
    """A Domain attribute in the wire form of URL hosts (``_idna``): ``Domain=faß.de`` is
    ``xn--fa-hia.de``. The header was decoded as latin-1; a server writing a U-label sends
    it in UTF-8. None for a name that cannot be encoded."""
    domain = value.lstrip(".")
    if domain.isascii():
        return domain.lower()
    try:
        domain = domain.encode("latin-1").decode("utf-8")
    except UnicodeError:
        pass  # not UTF-8: the latin-1 text it was read as
    try:
        return host_to_ascii(domain.lower())
    except UnicodeError:
        return None


def _secure_origin(url: URL) -> bool:
    """https, or a loopback host (a "potentially trustworthy" origin to browsers)."""
    if url.is_secure:
        return True
    host = url.host
    if host in _LOOPBACK_NAMES or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _prefix_allows(name: str, secure: bool, secure_origin: bool, domain_attr: str | None,
                   path_attr: str | None) -> bool:
    """The cookie name prefixes of RFC 6265bis 4.1.3, compared without case."""
    lowered = name[:9].lower()
    if lowered.startswith("__secure-"):
        return secure and secure_origin
    if lowered.startswith("__host-"):
        return secure and secure_origin and domain_attr is None and path_attr == "/"
    return True


@lru_cache(maxsize=1)
def _suffixes() -> PublicSuffixList:
    """The Public Suffix List, loaded (about 40 ms) at the first Domain attribute."""
    from publicsuffixlist import PublicSuffixList

    return PublicSuffixList()


def public_suffix(domain: str) -> bool:
    """True if cookies may not be set for ``domain`` as a whole: a public suffix
    (``co.uk``, ``github.io``), or a name of one label, which the list counts as one."""
    return bool(_suffixes().is_public(domain))


def check_cookie(name: str, value: str) -> None:
    """Refuse a cookie of the caller's that would break the Cookie header it goes into
    (``InvalidRequest``, a ``ValueError``)."""
    if not name or any(ch in name + value for ch in ";\r\n\0"):
        raise InvalidRequest(f"invalid cookie {name!r}={value!r}")


def _domain_match(host: str, domain: str) -> bool:
    if host == domain:
        return True
    return host.endswith("." + domain) and not _is_ip(host)


def _path_match(request_path: str, cookie_path: str) -> bool:
    if request_path == cookie_path:
        return True
    if request_path.startswith(cookie_path):
        return cookie_path.endswith("/") or request_path[len(cookie_path)] == "/"
    return False


def _default_path(request_path: str) -> str:
    if not request_path.startswith("/") or request_path.count("/") == 1:
        return "/"
    return request_path[: request_path.rfind("/")]


def _parse_expires(value: str) -> float | None:
    from email.utils import parsedate_to_datetime  # heavy to import; few cookies expire

    try:
        return parsedate_to_datetime(value).timestamp()
    except (TypeError, ValueError, IndexError, OverflowError):
        return None


class CookieJar:
    """Cookies from responses, sent back to the hosts and paths they belong to."""

    def __init__(self) -> None:
        # In the order they were set (a replaced cookie moves to the end): eviction takes
        # from the front; per domain too.
        self._cookies: dict[tuple[str, str, str], Cookie] = {}
        self._by_domain: dict[str, dict[tuple[str, str, str], None]] = {}

    def __len__(self) -> int:
        return len(self._cookies)

    def __iter__(self) -> Iterator[Cookie]:
        return iter(list(self._cookies.values()))

    def __repr__(self) -> str:
        return f"<CookieJar {len(self._cookies)} cookies>"

    def get(self, name: str, domain: str | None = None, path: str | None = None) -> str | None:
        """The value of the cookie ``name`` (of ``domain`` and ``path`` when given), or
        None; the most recently set one if several match."""
        found = None
        for (cookie_domain, cookie_path, cookie_name), cookie in self._cookies.items():
            if cookie_name == name and (domain is None or cookie_domain == domain) and (
                path is None or cookie_path == path
            ):
                found = cookie.value
        return found

    def set(
        self,
        name: str,
        value: str,
        domain: str = "",
        path: str = "/",
        *,
        secure: bool = False,
        expires: float | None = None,
    ) -> None:
        """Add a cookie of your own. Without ``domain`` it is sent to every host; with one,
        to that host and its subdomains. ``expires``: a Unix time (None: for the session)."""
        check_cookie(name, value)
        domain = (_domain_attribute(domain) or "") if domain else ""
        self._add((domain, path, name), Cookie(
            name, value, domain, path, host_only=False, secure=secure, expires=expires,
            created=time.time(),
        ))

    def save(self, path: str | os.PathLike[str], *, session: bool = True) -> None:
        """Write the cookies to ``path`` in the ``cookies.txt`` format (curl's and wget's):
        expiry kept, session cookies with expiry 0 (``session=False`` leaves them out)."""
        lines = ["# Netscape HTTP Cookie File", "# Written by aiosonic.", ""]
        for cookie in self:
            if cookie.expires is None and not session:
                continue
            domain = cookie.domain if cookie.host_only else "." + cookie.domain
            lines.append("\t".join((
                domain, "FALSE" if cookie.host_only else "TRUE", cookie.path,
                "TRUE" if cookie.secure else "FALSE",
                str(int(cookie.expires)) if cookie.expires is not None else "0",
                cookie.name, cookie.value,
            )))
        with open(path, "w", encoding="utf-8") as file:
            file.write("\n".join(lines) + "\n")

    def load(self, path: str | os.PathLike[str], now: float | None = None) -> None:
        """Add the cookies of a ``cookies.txt`` file (expired ones are skipped; curl's
        ``#HttpOnly_`` lines are read too). A line that is not one is ``ValueError``."""
        now = time.time() if now is None else now
        with open(path, encoding="utf-8") as file:
            for number, raw in enumerate(file, 1):
                line = raw.rstrip("\r\n")
                if line.startswith("#HttpOnly_"):
                    line = line[len("#HttpOnly_"):]
                elif not line.strip() or line.startswith("#"):
                    continue
                fields = line.split("\t")
                if len(fields) != 7 or not fields[4].lstrip("-").isdigit():
                    raise ValueError(f"{os.fspath(path)}:{number}: not a cookies.txt line")
                domain, subdomains, cookie_path, secure, expiry, name, value = fields
                expires = float(expiry) or None
                if expires is not None and expires <= now:
                    continue
                host = (_domain_attribute(domain) or "") if domain.strip(".") else ""
                self._add((host, cookie_path, name), Cookie(
                    name, value, host, cookie_path, host_only=subdomains != "TRUE",
                    secure=secure == "TRUE", expires=expires, created=now,
                ))

    def clear(self) -> None:
        self._cookies.clear()
        self._by_domain.clear()

    def _add(self, key: tuple[str, str, str], cookie: Cookie) -> None:
        self._remove(key)
        self._cookies[key] = cookie
        keys = self._by_domain.setdefault(key[0], {})
        keys[key] = None
        if len(keys) > MAX_PER_DOMAIN:
            self._remove(next(iter(keys)))
        while len(self._cookies) > MAX_COOKIES:
            self._remove(next(iter(self._cookies)))

    def _remove(self, key: tuple[str, str, str]) -> Cookie | None:
        cookie = self._cookies.pop(key, None)
        if cookie is not None:
            keys = self._by_domain[key[0]]
            del keys[key]
            if not keys:
                del self._by_domain[key[0]]
        return cookie

    def extract(self, url: URL, raw_headers: list[tuple[bytes, bytes]]) -> None:
        """Store every valid cookie that a response from ``url`` sets."""
        for name, value in raw_headers:
            if len(name) == 10 and name.lower() == b"set-cookie":
                self.set_cookie(url, value.decode("latin-1"))

    def set_cookie(self, url: URL, header: str, now: float | None = None) -> None:
        """Apply one Set-Cookie header value received from ``url`` (invalid ones are ignored)."""
        now = time.time() if now is None else now
        pair, *attributes = header.split(";")
        name, eq, value = pair.partition("=")
        name, value = name.strip(), value.strip()
        if not eq or not name or len(name) + len(value) > MAX_COOKIE:
            return
        domain_attr: str | None = None
        path_attr: str | None = None
        secure = False
        expires: float | None = None
        max_age: float | None = None
        for attribute in attributes:
            attr, _, attr_value = attribute.partition("=")
            attr, attr_value = attr.strip().lower(), attr_value.strip()
            if len(attr_value) > MAX_ATTRIBUTE:
                continue
            if attr == "domain" and attr_value:
                domain_attr = _domain_attribute(attr_value)
                if domain_attr is None:
                    return  # no host has that name: the cookie could match nothing
            elif attr == "path":
                path_attr = attr_value if attr_value.startswith("/") else None
            elif attr == "secure":
                secure = True
            elif attr == "max-age":
                try:
                    seconds = int(attr_value)
                except ValueError:
                    continue
                max_age = now + min(seconds, _MAX_AGE_CAP) if seconds > 0 else 0.0
            elif attr == "expires":
                parsed = _parse_expires(attr_value)
                if parsed is not None:
                    expires = min(parsed, now + _MAX_AGE_CAP)
        if max_age is not None:
            expires = max_age
        secure_origin = _secure_origin(url)
        if (secure and not secure_origin) or not _prefix_allows(
            name, secure, secure_origin, domain_attr, path_attr
        ):
            return
        host = url.host
        if domain_attr is not None and domain_attr == host and (
            _is_ip(host) or public_suffix(host)
        ):
            domain_attr = None  # Domain=its own address or suffix: a host-only cookie
        if domain_attr is not None:
            if _is_ip(host) or not _domain_match(host, domain_attr) or public_suffix(
                domain_attr
            ):
                return  # for a domain this host does not belong to, or a public suffix
            domain, host_only = domain_attr, False
        else:
            domain, host_only = host, True
        path = path_attr or _default_path(url.path)
        if not secure_origin and self._shadows_secure(name, domain, path):
            return
        key = (domain, path, name)
        if expires is not None and expires <= now:
            self._remove(key)
            return
        old = self._cookies.get(key)
        self._add(key, Cookie(
            name,
            value,
            domain,
            path,
            host_only=host_only,
            secure=secure,
            expires=expires,
            created=old.created if old is not None else now,
        ))

    def _shadows_secure(self, name: str, domain: str, path: str) -> bool:
        """A cookie from a non-secure origin may not set, overwrite or delete one that
        would shadow a Secure cookie of the same name (RFC 6265bis 5.7, step 16)."""
        for cookie in self._cookies.values():
            if (
                cookie.secure
                and cookie.name == name
                and (_domain_match(domain, cookie.domain) or _domain_match(cookie.domain, domain))
                and _path_match(path, cookie.path)
            ):
                return True
        return False

    def header_for(self, url: URL, now: float | None = None) -> str | None:
        """The Cookie header value for a request to ``url``, or None if no cookie applies."""
        if not self._cookies:
            return None
        now = time.time() if now is None else now
        host, path, secure = url.host, url.path, url.is_secure
        chosen = []
        for key, cookie in list(self._cookies.items()):
            if cookie.expires is not None and cookie.expires <= now:
                self._remove(key)
                continue
            if cookie.host_only:
                if host != cookie.domain:
                    continue
            elif cookie.domain and not _domain_match(host, cookie.domain):
                continue  # (a cookie without a domain, set by the user, goes everywhere)
            if (cookie.secure and not secure) or not _path_match(path, cookie.path):
                continue
            chosen.append(cookie)
        if not chosen:
            return None
        chosen.sort(key=lambda c: (-len(c.path), c.created))
        pairs: list[str] = []
        size = 0
        for cookie in chosen:
            pair = f"{cookie.name}={cookie.value}"
            size += len(pair) + 2
            if size > MAX_HEADER:
                break  # the most specific ones are in; the rest would overflow servers
            pairs.append(pair)
        return "; ".join(pairs) if pairs else None
