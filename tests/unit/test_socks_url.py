"""SOCKS proxy URLs become SocksProxy values; bad ones raise InvalidRequest. No network."""

from __future__ import annotations

import pytest

from aiosonic._socks import Socks4Handshake, Socks5Handshake, SocksProxy, parse_socks_url
from aiosonic.exceptions import InvalidRequest


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("socks5://127.0.0.1", SocksProxy("socks5", "127.0.0.1", 1080)),
        ("socks5h://proxy.lan:9050", SocksProxy("socks5h", "proxy.lan", 9050)),
        ("SOCKS5H://Proxy.LAN:9050/", SocksProxy("socks5h", "proxy.lan", 9050)),
        ("socks4://10.0.0.1:1081", SocksProxy("socks4", "10.0.0.1", 1081)),
        ("socks4a://[::1]:1082", SocksProxy("socks4a", "::1", 1082)),
        ("socks4://bob@10.0.0.1", SocksProxy("socks4", "10.0.0.1", 1080, "bob")),
        (
            "socks5://alice:s3cret@proxy:1",
            SocksProxy("socks5", "proxy", 1, "alice", "s3cret"),
        ),
        (
            "socks5h://us%40er:p%3Aa%2Fss%20word@proxy",
            SocksProxy("socks5h", "proxy", 1080, "us@er", "p:a/ss word"),
        ),
        ("socks5://alice:@proxy", SocksProxy("socks5", "proxy", 1080, "alice", "")),
        ("socks5://@proxy", SocksProxy("socks5", "proxy", 1080)),
        ("  socks5://proxy:1080  ", SocksProxy("socks5", "proxy", 1080)),
    ],
)
def test_parse(url: str, expected: SocksProxy) -> None:
    proxy = parse_socks_url(url)
    assert proxy == expected
    assert hash(proxy) == hash(expected)


@pytest.mark.parametrize(
    ("url", "match"),
    [
        ("http://proxy:3128", "not a SOCKS proxy URL"),
        ("socks6://proxy", "not a SOCKS proxy URL"),
        ("proxy:1080", "not a SOCKS proxy URL"),
        ("socks5://", "no host"),
        ("socks5://proxy:99999", "invalid SOCKS proxy URL"),
        ("socks5://proxy:abc", "invalid SOCKS proxy URL"),
        ("socks5://proxy:0", "port out of range"),
        ("socks5://proxy/path", "no path"),
        ("socks5://proxy?x=1", "no path"),
        ("socks4://bob:secret@proxy", "SOCKS4 has no passwords"),
        ("socks4a://bob:secret@proxy", "SOCKS4 has no passwords"),
        ("socks5://:secret@proxy", "needs a user name"),
        ("socks5://" + "u" * 256 + ":p@proxy", "longer than 255 bytes"),
        ("socks5://u:" + "p" * 256 + "@proxy", "longer than 255 bytes"),
        ("socks5://pro xy:1080", "forbidden characters"),
    ],
)
def test_bad_urls(url: str, match: str) -> None:
    with pytest.raises(InvalidRequest, match=match):
        parse_socks_url(url)


def test_not_a_string() -> None:
    with pytest.raises(InvalidRequest, match="must be a str"):
        parse_socks_url(b"socks5://proxy")  # type: ignore[arg-type]


def test_errors_never_show_credentials() -> None:
    with pytest.raises(InvalidRequest) as info:
        parse_socks_url("socks5://alice:hunter2@proxy:99999")
    assert "hunter2" not in str(info.value) and "alice" not in str(info.value)


def test_repr_hides_credentials() -> None:
    assert repr(parse_socks_url("socks5h://alice:hunter2@proxy:1")) == (
        "SocksProxy(socks5h://proxy:1, auth=***)"
    )
    assert repr(parse_socks_url("socks4://bob@[::1]")) == (
        "SocksProxy(socks4://[::1]:1080, username=***)"
    )
    assert repr(parse_socks_url("socks5://proxy")) == "SocksProxy(socks5://proxy:1080)"


@pytest.mark.parametrize(
    ("scheme", "version", "remote_dns"),
    [("socks5", 5, False), ("socks5h", 5, True), ("socks4", 4, False), ("socks4a", 4, True)],
)
def test_properties_and_handshake(scheme: str, version: int, remote_dns: bool) -> None:
    proxy = SocksProxy(scheme, "proxy", 1)
    assert (proxy.version, proxy.remote_dns, proxy.address) == (version, remote_dns, "proxy:1")
    handshake = proxy.handshake("10.0.0.1", 80)
    assert isinstance(handshake, Socks5Handshake if version == 5 else Socks4Handshake)


def test_handshake_carries_credentials() -> None:
    socks5 = parse_socks_url("socks5://alice:pw@proxy").handshake("10.0.0.1", 80)
    assert socks5.initial() == b"\x05\x02\x00\x02"
    assert socks5.receive(b"\x05\x02") == b"\x01\x05alice\x02pw"
    socks4 = parse_socks_url("socks4://bob@proxy").handshake("10.0.0.1", 80)
    assert socks4.initial().endswith(b"bob\x00")


def test_constructor_validates() -> None:
    with pytest.raises(InvalidRequest, match="not a SOCKS scheme"):
        SocksProxy("http", "proxy")
    with pytest.raises(InvalidRequest, match="needs a host"):
        SocksProxy("socks5", "")
    with pytest.raises(InvalidRequest, match="port out of range"):
        SocksProxy("socks5", "proxy", 70000)
