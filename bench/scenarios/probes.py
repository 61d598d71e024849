"""One-off checks of a server before it is measured, with the standard library only.

Owns ``probe`` (one HTTP/1.1 GET: status, body length, ``Server`` header), ``tls_probe``
(one verified TLS handshake offering h2: the ALPN choice, TLS version and cipher) and
``realistic_probe`` (the realistic scenario's two requests get their answers, and a request
missing its headers gets a 400).

It must never loop, measure, or reach anything but the URL it is given, which the scenarios
only ever take from a server on loopback (or from ``--url``).
"""

from __future__ import annotations

import http.client
import json
import socket
import ssl
from pathlib import Path
from urllib.parse import urlencode, urlsplit

from bench import realistic


def _tls_context(cafile: Path | None) -> ssl.SSLContext:
    return ssl.create_default_context(cafile=str(cafile) if cafile is not None else None)


def probe(url: str, cafile: Path | None = None) -> tuple[int, int, str]:
    """One GET (HTTP/1.1) with the standard library: (status, body length, Server header).

    An https URL is verified against ``cafile`` (or the system store when None).
    """
    parts = urlsplit(url)
    if parts.hostname is None or parts.scheme not in ("http", "https"):
        raise ValueError(f"not an http(s) URL: {url!r}")
    conn: http.client.HTTPConnection
    if parts.scheme == "https":
        conn = http.client.HTTPSConnection(
            parts.hostname, parts.port, timeout=10, context=_tls_context(cafile)
        )
    else:
        conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
    try:
        target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        conn.request("GET", target)
        resp = conn.getresponse()
        body = resp.read()
        return resp.status, len(body), resp.getheader("Server", "") or ""
    finally:
        conn.close()


def tls_probe(url: str, cafile: Path | None) -> tuple[str | None, str, str]:
    """A verified TLS handshake offering h2 and http/1.1: (ALPN choice, TLS version, cipher)."""
    parts = urlsplit(url)
    if parts.scheme != "https" or parts.hostname is None:
        raise ValueError(f"not an https URL: {url!r}")
    context = _tls_context(cafile)
    context.set_alpn_protocols(["h2", "http/1.1"])
    with (
        socket.create_connection((parts.hostname, parts.port or 443), timeout=10) as sock,
        context.wrap_socket(sock, server_hostname=parts.hostname) as tls,
    ):
        cipher = tls.cipher()
        return tls.selected_alpn_protocol(), tls.version() or "?", cipher[0] if cipher else "?"


def realistic_probe(url: str) -> None:
    """Send the realistic GET and POST to ``url`` (an http URL of ``realistic.PATH``) and a GET
    without its headers; raises ``RuntimeError`` unless they get their answers and the 400."""
    parts = urlsplit(url)
    if parts.scheme != "http" or parts.hostname is None:
        raise ValueError(f"the realistic scenario needs a plain http URL, got {url!r}")
    path = parts.path or "/"
    headers = dict(realistic.HEADERS)
    checks: tuple[tuple[str, str, bytes | None, dict[str, str], int, bytes], ...] = (
        ("GET", f"{path}?{urlencode(realistic.QUERY)}", None, headers, 200, realistic.GET_ANSWER),
        (
            "POST",
            path,
            realistic.payload_bytes(),
            {**headers, "content-type": realistic.JSON_TYPE},
            200,
            realistic.POST_ANSWER,
        ),
        ("GET", f"{path}?{urlencode(realistic.QUERY)}", None, {}, 400, realistic.REJECTED),
    )
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
    try:
        for method, target, body, sent, status, expected in checks:
            conn.request(method, target, body=body, headers=sent)
            resp = conn.getresponse()
            got = resp.read()
            if resp.status != status or got != expected:
                shown = json.dumps(sent)
                raise RuntimeError(
                    f"{method} {target} with headers {shown} answered {resp.status} "
                    f"{got[:80]!r}, expected {status} {expected[:80]!r}"
                )
    finally:
        conn.close()
