"""Proxies from the environment, read as curl and requests read them.

It owns one question: "which proxy URL, if any, does the environment give for this
request?" (``proxy_for``), and the ``NO_PROXY`` matching behind it (``no_proxy_matches``).
Pure functions over a mapping (``os.environ`` by default): it never opens a connection,
never resolves a name and never parses the proxy URL beyond adding a missing scheme.

Variables (each looked up lowercase first; the UPPERCASE name only when the lowercase one
is absent, so an empty lowercase variable switches the uppercase one off):

    http_proxy    requests to http:// (and ws://) URLs
    https_proxy   requests to https:// (and wss://) URLs
    all_proxy     fallback for both when the scheme's own variable is absent or empty
    no_proxy      hosts that are reached directly

The value is returned as given (``http://``, ``https://``, ``socks5://``, ``socks5h://``...);
a bare ``host:port`` means ``http://host:port``.

Safety rule (as urllib and requests, CVE-2016-1000110, "httpoxy"): when ``REQUEST_METHOD``
is set we may be running as a CGI script, where the web server turns a client's ``Proxy:``
request header into ``HTTP_PROXY``. The UPPERCASE ``HTTP_PROXY`` is then ignored; the
lowercase ``http_proxy`` (which no header can produce) still counts.

``NO_PROXY`` entries, separated by commas and/or white space, case-insensitive:

    *                   every host: no proxy at all
    example.com         example.com and every subdomain (a.example.com), never
    .example.com        badexample.com; the leading "." (or "*.") changes nothing
    10.1.2.3, ::1       that IP address exactly (IPv6 may be written [::1])
    10.0.0.0/8, fd00::/8  any IP-literal host inside the block
    name:8080, [::1]:8080  the same, only for requests to that port

Names are compared as text and IP entries only against hosts that are IP literals: nothing
is resolved, so ``localhost`` does not match ``127.0.0.1``. Loopback is not special: a
request to 127.0.0.1 goes through the proxy unless an entry says otherwise (curl and
requests behave the same). Entries that are not valid are ignored.
"""

from __future__ import annotations

import ipaddress
import os
import re
from collections.abc import Mapping
from functools import lru_cache

from ._idna import host_to_ascii

__all__ = ["no_proxy_matches", "proxy_for"]

# The variable consulted for each URL scheme (a WebSocket handshake is an HTTP request).
_SCHEME_VARIABLE = {
    "http": "http_proxy",
    "https": "https_proxy",
    "ws": "http_proxy",
    "wss": "https_proxy",
}

_Network = ipaddress.IPv4Network | ipaddress.IPv6Network
_Address = ipaddress.IPv4Address | ipaddress.IPv6Address

# A parsed NO_PROXY entry: (a network or a domain suffix, the port it is limited to or None).
_Rule = tuple[_Network | str, int | None]

_SEPARATORS = re.compile(r"[,\s]+")
_NAME = re.compile(r"[a-z0-9_.-]+")


def proxy_for(
    url_scheme: str, host: str, port: int | None, environ: Mapping[str, str] = os.environ
) -> str | None:
    """The proxy URL the environment gives for a request to ``url_scheme://host:port``,
    or None to connect directly."""
    variable = _SCHEME_VARIABLE.get(url_scheme.lower())
    if variable is None:
        return None
    value = _read(environ, variable) or _read(environ, "all_proxy")
    if value is None:
        return None
    if no_proxy_matches(_read(environ, "no_proxy") or "", host, port):
        return None
    return value if "://" in value else "http://" + value


def _read(environ: Mapping[str, str], name: str) -> str | None:
    """A variable's non-empty value: the lowercase name wins even when empty."""
    value = environ.get(name)
    if value is None:
        if name == "http_proxy" and "REQUEST_METHOD" in environ:
            return None  # CGI: HTTP_PROXY may come from a client's "Proxy:" header
        value = environ.get(name.upper())
    if value is None:
        return None
    return value.strip() or None


def no_proxy_matches(no_proxy: str, host: str, port: int | None) -> bool:
    """True when a ``NO_PROXY`` value lists ``host`` (optionally on ``port``)."""
    match_all, rules = _parse_no_proxy(no_proxy)
    if match_all:
        return True
    if not rules:
        return False
    name = host.strip().lower()
    if name.startswith("[") and name.endswith("]"):
        name = name[1:-1]
    name = _ascii(name.rstrip("."))
    address = _address(name)
    for target, only_port in rules:
        if only_port is not None and only_port != port:
            continue
        if isinstance(target, str):
            if address is None and (name == target or name.endswith("." + target)):
                return True
        elif address is not None and address.version == target.version and address in target:
            return True
    return False


def _ascii(name: str) -> str:
    """A name in its wire form (IDNA 2008, ``_idna``), as URL hosts are normalised."""
    try:
        return host_to_ascii(name)
    except UnicodeError:
        return name  # matches nothing: entries are ASCII


def _address(text: str) -> _Address | None:
    try:
        return ipaddress.ip_address(text.partition("%")[0])  # a scope id does not matter
    except ValueError:
        return None


@lru_cache(maxsize=32)
def _parse_no_proxy(value: str) -> tuple[bool, tuple[_Rule, ...]]:
    """(whether an entry is ``*``, the other entries parsed) for a NO_PROXY value."""
    rules: list[_Rule] = []
    for entry in _SEPARATORS.split(value.strip().lower()):
        if entry == "*":
            return True, ()
        rule = _parse_entry(entry)
        if rule is not None:
            rules.append(rule)
    return False, tuple(rules)


def _parse_entry(entry: str) -> _Rule | None:
    if not entry:
        return None
    text, port_text = entry, ""
    if entry.startswith("["):  # [v6], [v6]:port, [v6]/bits
        inside, bracket, rest = entry[1:].partition("]")
        if not bracket:
            return None
        if rest.startswith(":"):
            text, port_text = inside, rest[1:]
        elif rest.startswith("/") or not rest:
            text = inside + rest
        else:
            return None
    elif entry.count(":") == 1:  # name:port or v4:port (IPv6 has two colons or more)
        text, _, port_text = entry.partition(":")
    port: int | None = None
    if port_text:
        if not port_text.isdigit() or not 0 < int(port_text) < 65536:
            return None
        port = int(port_text)
    try:
        return ipaddress.ip_network(text, strict=False), port
    except ValueError:
        pass
    if text.startswith("*."):
        text = text[2:]
    name = _ascii(text.lstrip(".").rstrip("."))
    if not _NAME.fullmatch(name):
        return None
    return name, port
