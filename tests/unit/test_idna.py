"""Host names in their wire form (``aiosonic._idna``): IDNA 2008 with UTS #46 mapping,
non-transitional, and every place that encodes or compares a host name using it alike (URL,
NO_PROXY, SOCKS5, ``auths`` keys, ``.netrc`` machines, cookie Domain attributes)."""

from __future__ import annotations

from pathlib import Path

import pytest

from aiosonic._env_proxy import no_proxy_matches
from aiosonic._idna import IDNAError, host_to_ascii
from aiosonic._socks import Socks5Handshake
from aiosonic._url import parse_url
from aiosonic.auth import AuthsByHost, BasicAuth, netrc_auth
from aiosonic.cookies import CookieJar
from aiosonic.exceptions import InvalidRequest

MAPPED = [
    ("faß.de", "xn--fa-hia.de"),  # non-transitional: ß is kept (IDNA 2003 gives fass.de)
    ("ÖBB.at", "xn--bb-eka.at"),  # case folded by the mapping
    ("Straße.DE", "xn--strae-oqa.de"),
    # full-width letters and full stop (EXAMPLE.com)
    ("\uff25\uff38\uff21\uff2d\uff30\uff2c\uff25\uff0e\uff43\uff4f\uff4d", "example.com"),
    ("例え。テスト", "xn--r8jz45g.xn--zckzah"),  # the ideographic full stop separates labels
    ("bücher.example.", "xn--bcher-kva.example."),  # one trailing dot is kept
    ("faß.xn--i-7iq.ws", "xn--fa-hia.xn--i-7iq.ws"),  # an A-label beside a U-label: as is
    ("a_b.bücher.de", "a_b.xn--bcher-kva.de"),  # an ASCII label: as an ASCII name would be
    ("ﬀ.bücher.de", "ff.xn--bcher-kva.de"),  # a compatibility ligature mapped
]

REFUSED = [
    "😀.example",  # emoji are not IDNA 2008
    "i❤.ws",  # nor dingbats
    "ü" * 70 + ".example",  # a label over 63 octets
    ".".join(["bü"] * 90),  # over 253 octets in all
    "a..ü.example",  # an empty label
    ".ü.example",
    "ü..",
    "-ü.example",  # a hyphen first or last
    "ü-.example",
    "ab--ü.example",  # hyphens in the third and fourth places
    "\u200dü.example",  # a joiner out of context
    "x\x00ü.example",  # a disallowed code point
    "ü .example",
    "ü.example\uff0fx",  # a full-width solidus would become "/"
    "ü\uff20x.example",  # and a full-width at sign "@"
]


@pytest.mark.parametrize(("name", "wire"), MAPPED)
def test_names_are_mapped_by_uts46_and_encoded_by_idna_2008(name: str, wire: str) -> None:
    assert host_to_ascii(name) == wire


@pytest.mark.parametrize("name", REFUSED)
def test_names_idna_2008_refuses_raise_a_unicode_error(name: str) -> None:
    with pytest.raises(IDNAError):
        host_to_ascii(name)
    assert issubclass(IDNAError, UnicodeError)  # what the callers catch


@pytest.mark.parametrize(
    "name", ["Example.COM", "xn--i-7iq.ws", "XN--FA-HIA.DE", "a_b.example", "a..b", "-x.test"]
)
def test_an_ascii_name_is_only_lowercased(name: str) -> None:
    # the fast path: ASCII names (A-labels included) never reach the idna package
    assert host_to_ascii(name) == name.lower()


def test_the_url_host_is_the_wire_form() -> None:
    url = parse_url("http://user:pw@FAß.de:8080/p?q")
    assert url.host == "xn--fa-hia.de"
    assert url.host_header == "xn--fa-hia.de:8080"
    assert url.origin == ("http", "xn--fa-hia.de", 8080)
    assert parse_url("https://ÖBB.at/").host_header == "xn--bb-eka.at"
    assert parse_url("http://Example.COM/").host == "example.com"
    assert parse_url("http://xn--i-7iq.ws/").host == "xn--i-7iq.ws"


@pytest.mark.parametrize("host", ["[::1]", "127.0.0.1", "[fe80::AB]"])
def test_ip_literals_are_not_idna_processed(host: str) -> None:
    assert parse_url(f"http://{host}:81/").host == host.strip("[]").lower()


@pytest.mark.parametrize("name", REFUSED[:4] + REFUSED[6:10])
def test_a_url_host_idna_refuses_is_an_invalid_request_without_secrets(name: str) -> None:
    with pytest.raises(InvalidRequest, match="URL host is not a valid name") as raised:
        parse_url(f"http://alice:s3cret@{name}/")
    assert "s3cret" not in str(raised.value)
    assert "alice" not in str(raised.value)


@pytest.mark.parametrize(
    ("no_proxy", "host", "expected"),
    [
        ("faß.de", "xn--fa-hia.de", True),
        ("FAß.DE", "www.xn--fa-hia.de", True),
        ("xn--fa-hia.de", "faß.de", True),
        ("faß.de", "fass.de", False),  # the IDNA 2003 name is another host
        ("fass.de", "faß.de", False),
        ("*.ÖBB.at", "xn--bb-eka.at", True),
        ("😀.example, faß.de", "xn--fa-hia.de", True),  # an unencodable entry is ignored
    ],
)
def test_no_proxy_entries_compare_in_the_wire_form(
    no_proxy: str, host: str, expected: bool
) -> None:
    assert no_proxy_matches(no_proxy, host, 80) is expected


def test_socks5_sends_the_idna_2008_name() -> None:
    hs = Socks5Handshake("faß.de", 80)
    hs.initial()
    name = b"xn--fa-hia.de"
    assert hs.receive(b"\x05\x00") == b"\x05\x01\x00\x03" + bytes([len(name)]) + name + b"\x00P"


def test_socks5_refuses_a_name_idna_2008_refuses() -> None:
    with pytest.raises(InvalidRequest, match="cannot be sent to a SOCKS proxy"):
        Socks5Handshake("😀.example", 80)


def test_auths_keys_compare_in_the_wire_form() -> None:
    table = AuthsByHost({"faß.de": ("a", "b"), "ÖBB.at:8443": ("c", "d")})
    assert table.lookup("xn--fa-hia.de", 443) == BasicAuth("a", "b")
    assert table.lookup("fass.de", 443) is None
    assert table.lookup("xn--bb-eka.at", 8443) == BasicAuth("c", "d")
    with pytest.raises(InvalidRequest, match="not a valid host name"):
        AuthsByHost({"😀.example": ("a", "b")})


def test_a_netrc_machine_in_u_labels_matches_the_url_host(tmp_path: Path) -> None:
    path = tmp_path / "netrc"
    path.write_text(
        "machine faß.de login alice password one\n"
        "machine 😀.example login eve password two\n"
        "default login anon password guest\n",
        encoding="utf-8",
    )
    path.chmod(0o600)
    assert netrc_auth("xn--fa-hia.de", path) == BasicAuth("alice", "one")
    assert netrc_auth("FAß.de", path) == BasicAuth("alice", "one")
    assert netrc_auth("fass.de", path) == BasicAuth("anon", "guest")


@pytest.mark.parametrize("domain", ["faß.de", ".FAß.DE", "xn--fa-hia.de", "fa\u00c3\u009f.de"])
def test_a_cookie_domain_in_u_labels_matches_the_url_host(domain: str) -> None:
    # "fa\u00c3\u009f.de" is faß.de in UTF-8 as the latin-1 decoded header reads it
    jar = CookieJar()
    jar.set_cookie(parse_url("http://www.faß.de/"), f"a=1; Domain={domain}", now=0.0)
    assert [cookie.domain for cookie in jar] == ["xn--fa-hia.de"]
    assert jar.header_for(parse_url("http://faß.de/"), now=0.0) == "a=1"
    assert jar.header_for(parse_url("http://fass.de/"), now=0.0) is None


def test_a_cookie_domain_idna_refuses_is_ignored() -> None:
    jar = CookieJar()
    jar.set_cookie(parse_url("http://xn--fa-hia.de/"), "a=1; Domain=😀.de", now=0.0)
    assert len(jar) == 0
