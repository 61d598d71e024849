"""Proxies from the environment: a table of environments and requests with the proxy each
must get (or None), and NO_PROXY matching on its own. Pure functions, fake environ dicts."""

from __future__ import annotations

import pytest

from aiosonic._env_proxy import no_proxy_matches, proxy_for

P = "http://proxy:3128"
S = "socks5h://socks:1080"

# (description, environ, (scheme, host, port), expected proxy URL or None)
CORPUS: list[tuple[str, dict[str, str], tuple[str, str, int], str | None]] = [
    ("nothing set", {}, ("http", "example.com", 80), None),
    ("http_proxy for http", {"http_proxy": P}, ("http", "example.com", 80), P),
    ("http_proxy not for https", {"http_proxy": P}, ("https", "example.com", 443), None),
    ("https_proxy for https", {"https_proxy": S}, ("https", "example.com", 443), S),
    ("https_proxy not for http", {"https_proxy": S}, ("http", "example.com", 80), None),
    ("ws uses http_proxy", {"http_proxy": P}, ("ws", "example.com", 80), P),
    ("wss uses https_proxy", {"https_proxy": S}, ("wss", "example.com", 443), S),
    ("unknown scheme", {"http_proxy": P, "all_proxy": P}, ("ftp", "example.com", 21), None),
    ("scheme is case-insensitive", {"https_proxy": S}, ("HTTPS", "example.com", 443), S),
    ("uppercase HTTPS_PROXY", {"HTTPS_PROXY": S}, ("https", "example.com", 443), S),
    ("uppercase HTTP_PROXY", {"HTTP_PROXY": P}, ("http", "example.com", 80), P),
    (
        "lowercase wins over uppercase",
        {"http_proxy": P, "HTTP_PROXY": "http://upper:1"},
        ("http", "example.com", 80),
        P,
    ),
    (
        "empty lowercase switches uppercase off, all_proxy still applies",
        {"https_proxy": "", "HTTPS_PROXY": P, "all_proxy": S},
        ("https", "example.com", 443),
        S,
    ),
    (
        "empty lowercase, nothing else",
        {"https_proxy": "", "HTTPS_PROXY": P},
        ("https", "example.com", 443),
        None,
    ),
    ("all_proxy for http", {"all_proxy": S}, ("http", "example.com", 80), S),
    ("ALL_PROXY for https", {"ALL_PROXY": S}, ("https", "example.com", 443), S),
    (
        "the scheme's variable wins over all_proxy",
        {"all_proxy": S, "http_proxy": P},
        ("http", "example.com", 80),
        P,
    ),
    ("bare host:port means http://", {"http_proxy": "proxy:3128"}, ("http", "a.b", 80), P),
    (
        "value returned as given (https proxy)",
        {"https_proxy": "https://user:pw@proxy:8443"},
        ("https", "example.com", 443),
        "https://user:pw@proxy:8443",
    ),
    ("white space around the value", {"http_proxy": f"  {P}\n"}, ("http", "a.b", 80), P),
    ("white space only is unset", {"http_proxy": "  ", "all_proxy": S}, ("http", "a.b", 80), S),
    (
        "CGI: uppercase HTTP_PROXY ignored",
        {"REQUEST_METHOD": "GET", "HTTP_PROXY": "http://evil:1"},
        ("http", "example.com", 80),
        None,
    ),
    (
        "CGI: falls back to all_proxy",
        {"REQUEST_METHOD": "GET", "HTTP_PROXY": "http://evil:1", "all_proxy": S},
        ("http", "example.com", 80),
        S,
    ),
    (
        "CGI: lowercase http_proxy still used",
        {"REQUEST_METHOD": "POST", "http_proxy": P, "HTTP_PROXY": "http://evil:1"},
        ("http", "example.com", 80),
        P,
    ),
    (
        "CGI: HTTPS_PROXY is not affected",
        {"REQUEST_METHOD": "GET", "HTTPS_PROXY": S},
        ("https", "example.com", 443),
        S,
    ),
    # ---------------------------------------------------------------- NO_PROXY in context
    (
        "no_proxy domain",
        {"http_proxy": P, "no_proxy": "example.com"},
        ("http", "example.com", 80),
        None,
    ),
    (
        "no_proxy subdomain",
        {"http_proxy": P, "no_proxy": "example.com"},
        ("http", "a.example.com", 80),
        None,
    ),
    (
        "no_proxy not a suffix of the label",
        {"http_proxy": P, "no_proxy": "example.com"},
        ("http", "badexample.com", 80),
        P,
    ),
    (
        "NO_PROXY uppercase",
        {"http_proxy": P, "NO_PROXY": "example.com"},
        ("http", "example.com", 80),
        None,
    ),
    (
        "no_proxy lowercase wins over NO_PROXY",
        {"http_proxy": P, "no_proxy": "other.org", "NO_PROXY": "example.com"},
        ("http", "example.com", 80),
        P,
    ),
    ("no_proxy *", {"http_proxy": P, "all_proxy": S, "no_proxy": "*"}, ("http", "a.b", 80), None),
    (
        "no_proxy applies to all_proxy",
        {"all_proxy": S, "no_proxy": ".lan"},
        ("https", "nas.lan", 443),
        None,
    ),
    ("loopback is not special", {"http_proxy": P}, ("http", "127.0.0.1", 80), P),
    ("localhost is not special", {"http_proxy": P}, ("http", "localhost", 80), P),
    (
        "loopback when listed",
        {"http_proxy": P, "no_proxy": "localhost,127.0.0.1,::1"},
        ("http", "::1", 80),
        None,
    ),
    (
        "no_proxy port mismatch",
        {"http_proxy": P, "no_proxy": "example.com:8080"},
        ("http", "example.com", 80),
        P,
    ),
    (
        "no_proxy port match",
        {"http_proxy": P, "no_proxy": "example.com:8080"},
        ("http", "example.com", 8080),
        None,
    ),
    (
        "no_proxy CIDR",
        {"https_proxy": S, "no_proxy": "10.0.0.0/8"},
        ("https", "10.20.30.40", 443),
        None,
    ),
    (
        "no_proxy CIDR miss",
        {"https_proxy": S, "no_proxy": "10.0.0.0/8"},
        ("https", "11.0.0.1", 443),
        S,
    ),
]


@pytest.mark.parametrize(
    ("environ", "request_to", "expected"),
    [case[1:] for case in CORPUS],
    ids=[case[0] for case in CORPUS],
)
def test_proxy_for(
    environ: dict[str, str], request_to: tuple[str, str, int], expected: str | None
) -> None:
    scheme, host, port = request_to
    assert proxy_for(scheme, host, port, environ) == expected


# (no_proxy value, host, port, matches)
NO_PROXY: list[tuple[str, str, int | None, bool]] = [
    ("", "example.com", 80, False),
    ("   ", "example.com", 80, False),
    ("*", "anything.at.all", 1, True),
    ("foo.org, *", "example.com", 80, True),
    ("example.com", "example.com", 80, True),
    ("example.com", "a.b.example.com", 80, True),
    ("example.com", "badexample.com", 80, False),
    ("example.com", "example.com.evil.net", 80, False),
    ("example.com", "com", 80, False),
    (".example.com", "example.com", 80, True),
    (".example.com", "www.example.com", 80, True),
    (".example.com", "badexample.com", 80, False),
    ("*.example.com", "www.example.com", 80, True),
    ("Example.COM", "www.EXAMPLE.com", 80, True),
    ("example.com.", "www.example.com", 80, True),
    ("example.com", "www.example.com.", 80, True),
    ("a.org,example.com", "example.com", 80, True),
    ("a.org example.com", "example.com", 80, True),
    ("a.org ,\texample.com\n", "example.com", 80, True),
    ("a.org,,b.org", "example.com", 80, False),
    ("example.com:8080", "example.com", 8080, True),
    ("example.com:8080", "example.com", 80, False),
    ("example.com:8080", "example.com", None, False),
    ("example.com", "example.com", None, True),
    ("10.1.2.3", "10.1.2.3", 80, True),
    ("10.1.2.3", "10.1.2.4", 80, False),
    ("10.1.2.3:443", "10.1.2.3", 443, True),
    ("10.1.2.3:443", "10.1.2.3", 80, False),
    ("2.3", "10.1.2.3", 80, False),  # names never match an IP literal by suffix
    ("10.0.0.0/8", "10.255.0.1", 80, True),
    ("10.0.0.0/8", "11.0.0.1", 80, False),
    ("10.1.2.3/8", "10.9.9.9", 80, True),  # host bits ignored
    ("192.168.0.0/16:8080", "192.168.1.1", 8080, True),
    ("192.168.0.0/16:8080", "192.168.1.1", 80, False),
    ("10.0.0.0/8", "ten.example", 80, False),  # names are not resolved
    ("::1", "::1", 80, True),
    ("::1", "[::1]", 80, True),
    ("[::1]", "::1", 80, True),
    ("0:0::1", "::1", 80, True),
    ("[::1]:8080", "::1", 8080, True),
    ("[::1]:8080", "::1", 80, False),
    ("fd00::/8", "fd12:3456::1", 443, True),
    ("fd00::/8", "fe80::1", 443, False),
    ("[fd00::]/8", "fd00::5", 443, True),
    ("fd00::/8", "10.0.0.1", 443, False),  # family mismatch
    ("10.0.0.0/8", "::ffff:10.0.0.1", 443, False),
    ("fe80::/10", "fe80::1%eth0", 80, True),  # scope id ignored
    ("localhost", "localhost", 80, True),
    ("localhost", "127.0.0.1", 80, False),  # not special, not resolved
    ("127.0.0.1", "localhost", 80, False),
    ("bücher.example", "xn--bcher-kva.example", 80, True),
    ("bücher.example", "www.bücher.example", 80, True),
    ("xn--bcher-kva.example", "bücher.example", 80, True),
    ("exa mple.com", "mple.com", 80, True),  # white space separates entries
    # invalid entries are ignored, valid ones still apply
    ("bad/entry,example.com", "example.com", 80, True),
    ("example.com:notaport", "example.com", 80, False),
    ("example.com:99999", "example.com", 80, False),
    ("[::1", "::1", 80, False),
    ("10.0.0.0/33", "10.0.0.1", 80, False),
    (".", "example.com", 80, False),
]


@pytest.mark.parametrize(("no_proxy", "host", "port", "expected"), NO_PROXY)
def test_no_proxy_matches(no_proxy: str, host: str, port: int | None, expected: bool) -> None:
    assert no_proxy_matches(no_proxy, host, port) is expected


def test_default_environ_is_os_environ(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("http_proxy", "HTTP_PROXY", "all_proxy", "ALL_PROXY", "no_proxy", "NO_PROXY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.delenv("REQUEST_METHOD", raising=False)
    monkeypatch.setenv("http_proxy", "envproxy:8080")
    assert proxy_for("http", "example.com", 80) == "http://envproxy:8080"
    monkeypatch.setenv("no_proxy", "example.com")
    assert proxy_for("http", "example.com", 80) is None
