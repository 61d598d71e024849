"""The RFC 6265 cookie jar as pure code: ``set_cookie`` / ``header_for`` with explicit clocks."""

from __future__ import annotations

from email.utils import formatdate

import pytest

from aiosonic._url import parse_url
from aiosonic.cookies import CookieJar

NOW = 1_700_000_000.0


def jar_with(url: str, *headers: str, now: float = NOW) -> CookieJar:
    jar = CookieJar()
    for header in headers:
        jar.set_cookie(parse_url(url), header, now=now)
    return jar


def sent(jar: CookieJar, url: str, now: float = NOW) -> str | None:
    return jar.header_for(parse_url(url), now=now)


def names(jar: CookieJar, url: str, now: float = NOW) -> list[str]:
    header = sent(jar, url, now)
    if header is None:
        return []
    return [pair.split("=", 1)[0] for pair in header.split("; ")]


def http_date(timestamp: float) -> str:
    return formatdate(timestamp, usegmt=True)


# --------------------------------------------------------------------------- basics


def test_empty_jar_sends_nothing():
    jar = CookieJar()
    assert len(jar) == 0
    assert sent(jar, "http://example.com/") is None


def test_name_and_value_are_sent_back_trimmed():
    jar = jar_with("http://example.com/", "  sid =  abc123 ; HttpOnly")
    assert sent(jar, "http://example.com/") == "sid=abc123"
    assert len(jar) == 1


@pytest.mark.parametrize("header", ["no-equals-sign", "=value-without-name", "", ";Path=/"])
def test_invalid_pairs_are_ignored(header):
    jar = jar_with("http://example.com/", header)
    assert len(jar) == 0
    assert sent(jar, "http://example.com/") is None


def test_empty_value_is_kept():
    jar = jar_with("http://example.com/", "flag=")
    assert sent(jar, "http://example.com/") == "flag="


def test_same_name_domain_and_path_replaces():
    jar = jar_with("http://example.com/", "a=1", "a=2")
    assert len(jar) == 1
    assert sent(jar, "http://example.com/") == "a=2"


def test_same_name_on_different_paths_are_separate_cookies():
    jar = jar_with("http://example.com/", "a=root; Path=/", "a=deep; Path=/x")
    assert len(jar) == 2
    assert sent(jar, "http://example.com/x/y") == "a=deep; a=root"
    assert sent(jar, "http://example.com/") == "a=root"


def test_attribute_names_are_case_insensitive():
    jar = jar_with(
        "https://www.example.com/a/b", "c=1; DOMAIN=Example.COM; PATH=/; SECURE; MAX-AGE=60"
    )
    assert sent(jar, "https://sub.example.com/") == "c=1"
    assert sent(jar, "http://sub.example.com/") is None
    assert sent(jar, "https://example.com/", now=NOW + 61) is None


# --------------------------------------------------------------------------- host-only


def test_host_only_cookie_goes_to_exactly_that_host():
    jar = jar_with("http://www.example.com/", "h=1")
    assert sent(jar, "http://www.example.com/") == "h=1"
    assert sent(jar, "http://WWW.EXAMPLE.COM/") == "h=1"
    assert sent(jar, "http://sub.www.example.com/") is None
    assert sent(jar, "http://example.com/") is None
    assert sent(jar, "http://other.com/") is None


def test_host_only_cookies_ignore_the_port_and_scheme():
    # RFC 6265 section 8.5: cookies do not provide isolation by port (or by scheme unless Secure)
    jar = jar_with("http://example.com:8080/", "p=1")
    assert sent(jar, "http://example.com:9090/") == "p=1"
    assert sent(jar, "http://example.com/") == "p=1"
    assert sent(jar, "https://example.com/") == "p=1"


def test_host_only_cookie_from_an_ip_address():
    jar = jar_with("http://127.0.0.1:1234/", "ip=1")
    assert sent(jar, "http://127.0.0.1:5678/") == "ip=1"
    assert sent(jar, "http://localhost:1234/") is None
    assert sent(jar, "http://127.0.0.2/") is None


def test_localhost_cookie_is_not_sent_to_the_loopback_ip():
    jar = jar_with("http://localhost/", "lh=1")
    assert sent(jar, "http://localhost:81/") == "lh=1"
    assert sent(jar, "http://127.0.0.1/") is None


# --------------------------------------------------------------------------- Domain


@pytest.mark.parametrize("domain", ["example.com", ".example.com", "EXAMPLE.com"])
def test_domain_cookie_goes_to_the_domain_and_its_subdomains(domain):
    jar = jar_with("http://www.example.com/", f"d=1; Domain={domain}")
    for url in ("http://example.com/", "http://www.example.com/", "http://a.b.example.com/"):
        assert sent(jar, url) == "d=1", url
    for url in ("http://notexample.com/", "http://example.com.evil.org/", "http://other.com/"):
        assert sent(jar, url) is None, url


def test_domain_equal_to_the_request_host_still_covers_subdomains():
    # RFC 6265 section 4.1.2.3: Domain=example.com set by example.com is sent to
    # www.example.com too; only a cookie without Domain is host-only.
    jar = jar_with("http://example.com/", "d=1; Domain=example.com")
    assert sent(jar, "http://example.com/") == "d=1"
    assert sent(jar, "http://www.example.com/") == "d=1"


@pytest.mark.parametrize(
    ("url", "domain"),
    [
        ("http://www.example.com/", "other.com"),
        ("http://www.example.com/", "sub.www.example.com"),  # a subdomain of the host
        ("http://www.example.com/", "ample.com"),  # a suffix that is not on a dot boundary
        ("http://example.com/", "www.example.com"),
    ],
)
def test_domain_the_host_does_not_belong_to_is_rejected(url, domain):
    jar = jar_with(url, f"d=1; Domain={domain}")
    assert len(jar) == 0
    assert sent(jar, url) is None
    assert sent(jar, f"http://{domain}/") is None


@pytest.mark.parametrize("domain", ["com", ".com", "COM"])
def test_bare_top_level_domain_is_rejected(domain):
    jar = jar_with("http://www.example.com/", f"tld=1; Domain={domain}")
    assert len(jar) == 0
    assert sent(jar, "http://other.com/") is None
    assert sent(jar, "http://www.example.com/") is None


def test_ip_host_accepts_only_its_own_address_as_domain():
    jar = jar_with("http://127.0.0.1/", "same=1; Domain=127.0.0.1")
    assert sent(jar, "http://127.0.0.1/") == "same=1"
    for domain in ("0.0.1", "0.1", "1", "localhost", "127.0.0.2"):
        jar = jar_with("http://127.0.0.1/", f"bad=1; Domain={domain}")
        assert len(jar) == 0, domain


def test_ipv6_host_cookie():
    jar = jar_with("http://[::1]:8000/", "v6=1")
    assert sent(jar, "http://[::1]:9000/") == "v6=1"
    assert sent(jar, "http://127.0.0.1:8000/") is None


def test_domain_cookie_is_not_sent_to_an_ip_that_ends_like_the_domain():
    jar = jar_with("http://www.example.com/", "d=1; Domain=example.com")
    assert sent(jar, "http://10.0.0.1/") is None


# --------------------------------------------------------------------------- Path


@pytest.mark.parametrize(
    ("request_path", "default_path"),
    [("/", "/"), ("/file", "/"), ("/a/b/c", "/a/b"), ("/a/b/", "/a/b"), ("/a/", "/a")],
)
def test_default_path_is_the_directory_of_the_request_path(request_path, default_path):
    jar = jar_with(f"http://example.com{request_path}", "p=1")
    assert sent(jar, f"http://example.com{default_path}") == "p=1"
    if default_path != "/":
        assert sent(jar, f"http://example.com{default_path}/deeper") == "p=1"
        assert sent(jar, f"http://example.com{default_path}x") is None
        assert sent(jar, "http://example.com/") is None


def test_default_path_ignores_the_query():
    jar = jar_with("http://example.com/a/b?next=/x/y/z", "q=1")
    assert sent(jar, "http://example.com/a/other") == "q=1"
    assert sent(jar, "http://example.com/x/y/z") is None


@pytest.mark.parametrize(
    ("request_path", "matches"),
    [
        ("/a", True),
        ("/a/", True),
        ("/a/b", True),
        ("/a/b/c?x=1", True),
        ("/ab", False),
        ("/", False),
        ("/b/a", False),
        ("/A", False),
    ],
)
def test_path_matches_on_slash_boundaries(request_path, matches):
    jar = jar_with("http://example.com/", "p=1; Path=/a")
    assert (sent(jar, f"http://example.com{request_path}") == "p=1") is matches


def test_path_with_a_trailing_slash():
    jar = jar_with("http://example.com/", "p=1; Path=/a/")
    assert sent(jar, "http://example.com/a/b") == "p=1"
    assert sent(jar, "http://example.com/a/") == "p=1"
    assert sent(jar, "http://example.com/a") is None


@pytest.mark.parametrize("attribute", ["Path=", "Path=relative/x", "Path"])
def test_invalid_path_attribute_falls_back_to_the_default_path(attribute):
    jar = jar_with("http://example.com/dir/page", f"p=1; {attribute}")
    assert sent(jar, "http://example.com/dir/other") == "p=1"
    assert sent(jar, "http://example.com/") is None


def test_longer_paths_first_then_older_first():
    jar = CookieJar()
    url = parse_url("http://example.com/")
    jar.set_cookie(url, "root=1; Path=/", now=NOW)
    jar.set_cookie(url, "deep=1; Path=/a/b", now=NOW + 1)
    jar.set_cookie(url, "mid2=1; Path=/a", now=NOW + 3)
    jar.set_cookie(url, "mid1=1; Path=/a", now=NOW + 2)
    assert sent(jar, "http://example.com/a/b/c", now=NOW + 10) == (
        "deep=1; mid1=1; mid2=1; root=1"
    )


def test_replacing_a_cookie_keeps_its_creation_time_for_ordering():
    jar = CookieJar()
    url = parse_url("http://example.com/")
    jar.set_cookie(url, "first=1", now=NOW)
    jar.set_cookie(url, "second=1", now=NOW + 1)
    jar.set_cookie(url, "first=2", now=NOW + 2)  # RFC 6265 5.3 step 11.3: keep creation time
    assert sent(jar, "http://example.com/", now=NOW + 3) == "first=2; second=1"


# --------------------------------------------------------------------------- Secure


def test_secure_cookie_only_over_https():
    jar = jar_with("https://example.com/", "s=1; Secure", "plain=1")
    assert sorted(names(jar, "https://example.com/")) == ["plain", "s"]
    assert sent(jar, "http://example.com/") == "plain=1"


# --------------------------------------------------------------------------- expiry


def test_max_age_expires_the_cookie():
    jar = jar_with("http://example.com/", "m=1; Max-Age=60")
    assert sent(jar, "http://example.com/", now=NOW + 59) == "m=1"
    assert sent(jar, "http://example.com/", now=NOW + 61) is None


def test_expires_attribute_expires_the_cookie():
    jar = jar_with("http://example.com/", f"e=1; Expires={http_date(NOW + 3600)}")
    assert sent(jar, "http://example.com/", now=NOW + 3500) == "e=1"
    assert sent(jar, "http://example.com/", now=NOW + 3700) is None


def test_expired_cookies_are_dropped_from_the_jar():
    jar = jar_with("http://example.com/", "short=1; Max-Age=10", "long=1; Max-Age=1000")
    assert sent(jar, "http://example.com/", now=NOW + 20) == "long=1"
    assert len(jar) == 1


def test_session_cookie_never_expires_by_itself():
    jar = jar_with("http://example.com/", "session=1")
    assert sent(jar, "http://example.com/", now=NOW + 10 * 365 * 24 * 3600) == "session=1"


@pytest.mark.parametrize(
    "attributes",
    [
        f"Max-Age=100; Expires={http_date(NOW - 3600)}",
        f"Expires={http_date(NOW - 3600)}; Max-Age=100",
    ],
)
def test_max_age_wins_over_a_past_expires(attributes):
    jar = jar_with("http://example.com/", f"w=1; {attributes}")
    assert sent(jar, "http://example.com/", now=NOW + 50) == "w=1"
    assert sent(jar, "http://example.com/", now=NOW + 150) is None


@pytest.mark.parametrize(
    "attributes",
    [
        f"Max-Age=0; Expires={http_date(NOW + 3600)}",
        f"Expires={http_date(NOW + 3600)}; Max-Age=0",
    ],
)
def test_max_age_zero_wins_over_a_future_expires(attributes):
    jar = jar_with("http://example.com/", f"w=1; {attributes}")
    assert sent(jar, "http://example.com/") is None
    assert len(jar) == 0


@pytest.mark.parametrize(
    "deletion",
    [
        "gone=; Max-Age=0",
        "gone=x; Max-Age=-1",
        "gone=; Expires=Thu, 01 Jan 1970 00:00:00 GMT",
        "gone=; Expires=Wed, 21-Oct-2015 07:28:00 GMT",
    ],
)
def test_deleting_a_cookie(deletion):
    jar = jar_with("http://example.com/", "gone=1", "kept=1")
    assert len(jar) == 2
    jar.set_cookie(parse_url("http://example.com/"), deletion, now=NOW)
    assert sent(jar, "http://example.com/") == "kept=1"
    assert len(jar) == 1


def test_deletion_must_match_domain_and_path():
    jar = jar_with("http://example.com/", "a=1; Path=/p")
    jar.set_cookie(parse_url("http://example.com/"), "a=; Path=/other; Max-Age=0", now=NOW)
    assert sent(jar, "http://example.com/p") == "a=1"


@pytest.mark.parametrize("bad", ["Max-Age=soon", "Expires=not a date"])
def test_unparseable_lifetimes_are_ignored(bad):
    jar = jar_with("http://example.com/", f"u=1; {bad}")
    assert sent(jar, "http://example.com/", now=NOW + 10**6) == "u=1"


# --------------------------------------------------------------------------- extract


def test_extract_reads_every_set_cookie_header():
    jar = CookieJar()
    raw = [
        (b"Content-Type", b"text/plain"),
        (b"Set-Cookie", b"a=1; Path=/"),
        (b"set-cookie", b"b=2; Path=/"),
        (b"SET-COOKIE", b"c=3; Domain=other.org"),  # rejected: wrong domain
        (b"X-Set-Cookie", b"d=4"),
    ]
    jar.extract(parse_url("http://example.com/page"), raw)
    assert len(jar) == 2
    assert sent(jar, "http://example.com/") in ("a=1; b=2", "b=2; a=1")


# --------------------------------------------------------------------------- RFC 6265bis


def test_a_secure_cookie_needs_a_secure_origin():
    assert names(jar_with("http://example.com/", "s=1; Secure"), "https://example.com/") == []
    assert names(jar_with("https://example.com/", "s=1; Secure"), "https://example.com/") == [
        "s"
    ]
    # loopback counts as a secure origin, as it does to browsers
    assert names(jar_with("http://localhost/", "s=1; Secure"), "https://localhost/") == ["s"]
    assert names(jar_with("http://127.0.0.1/", "s=1; Secure"), "https://127.0.0.1/") == ["s"]


def test_a_non_secure_origin_leaves_secure_cookies_alone():
    jar = jar_with("https://example.com/", "session=good; Secure; Path=/")
    for header in ("session=evil", "session=evil; Path=/app",
                   f"session=; Expires={http_date(NOW - 10)}", "session=evil; Domain=example.com"):
        jar.set_cookie(parse_url("http://example.com/"), header, now=NOW)
        jar.set_cookie(parse_url("http://www.example.com/"), header, now=NOW)
    assert sent(jar, "https://example.com/app") == "session=good"
    # another name is fine, and a secure origin may replace it
    jar.set_cookie(parse_url("http://example.com/"), "other=1", now=NOW)
    jar.set_cookie(parse_url("https://example.com/"), "session=new; Secure; Path=/", now=NOW)
    assert sorted(names(jar, "https://example.com/")) == ["other", "session"]
    assert "session=new" in (sent(jar, "https://example.com/") or "")


@pytest.mark.parametrize(
    ("url", "header", "kept"),
    [
        ("https://example.com/", "__Secure-id=1; Secure", True),
        ("https://example.com/", "__Secure-id=1", False),
        ("http://example.com/", "__Secure-id=1; Secure", False),
        ("https://example.com/", "__secure-ID=1", False),  # compared without case
        ("https://example.com/", "__Host-id=1; Secure; Path=/", True),
        ("https://example.com/", "__Host-id=1; Secure", False),  # Path=/ required
        ("https://example.com/a/", "__Host-id=1; Secure; Path=/a", False),
        ("https://example.com/", "__Host-id=1; Secure; Path=/; Domain=example.com", False),
        ("http://example.com/", "__Host-id=1; Secure; Path=/", False),
        ("https://example.com/", "__HOST-id=1; Path=/", False),
    ],
)
def test_cookie_name_prefixes(url: str, header: str, kept: bool) -> None:
    assert len(jar_with(url, header)) == (1 if kept else 0)


def test_a_cookie_over_4096_bytes_is_refused_and_long_attributes_ignored():
    assert len(jar_with("http://example.com/", "big=" + "x" * 4094)) == 0  # 4097 bytes
    assert len(jar_with("http://example.com/", "big=" + "x" * 4093)) == 1  # 4096 bytes
    jar = jar_with("http://example.com/a/b", "p=1; Path=/" + "x" * 1100)
    assert [c.path for c in jar] == ["/a"]  # the too-long Path was ignored: the default


def test_at_most_50_per_domain_the_least_recently_set_go_first():
    jar = jar_with("http://example.com/", *(f"c{i}={i}" for i in range(60)))
    assert len(jar) == 50
    assert names(jar, "http://example.com/")[:2] == ["c10", "c11"]
    jar.set_cookie(parse_url("http://example.com/"), "c10=again", now=NOW)  # now the newest
    jar.set_cookie(parse_url("http://example.com/"), "fresh=1", now=NOW)
    assert "c11" not in names(jar, "http://example.com/")
    assert "c10" in names(jar, "http://example.com/")


def test_twenty_thousand_set_cookie_lines_stay_bounded():
    jar = CookieJar()
    url = parse_url("http://example.com/")
    headers = [(b"Set-Cookie", b"k%d=%s" % (i, b"v" * 3000)) for i in range(20_000)]
    jar.extract(url, headers)
    assert len(jar) == 50
    header = sent(jar, "http://example.com/")
    assert header is not None and len(header) <= 16 * 1024


def test_at_most_3000_cookies_in_all():
    jar = CookieJar()
    for site in range(70):
        url = parse_url(f"http://site{site}.example/")
        for i in range(50):
            jar.set_cookie(url, f"c{i}=1", now=NOW)
    assert len(jar) == 3000
    assert names(jar, "http://site0.example/") == []  # the first site's went first
    assert len(names(jar, "http://site69.example/")) == 50


@pytest.mark.parametrize(
    ("url", "domain", "kept_for"),
    [
        ("http://www.example.co.uk/", "co.uk", None),
        ("http://alice.github.io/", "github.io", None),
        ("http://www.example.co.uk/", "example.co.uk", "http://shop.example.co.uk/"),
        ("http://alice.github.io/", "alice.github.io", "http://alice.github.io/"),
        ("http://example.com/", "com", None),
    ],
)
def test_a_public_suffix_is_no_cookie_domain(url: str, domain: str, kept_for: str | None):
    jar = jar_with(url, f"c=1; Domain={domain}")
    if kept_for is None:
        assert len(jar) == 0
        assert names(jar, "http://bob.github.io/") == []
        return
    assert names(jar, kept_for) == ["c"]
    assert names(jar, "http://bob.github.io/") == []


@pytest.mark.parametrize("host", ["localhost", "127.0.0.1", "[::1]"])
def test_loopback_hosts_keep_their_cookies(host: str) -> None:
    url = f"http://{host}:8080/"
    bare = host.strip("[]")
    jar = jar_with(url, "plain=1", f"own=1; Domain={bare}")
    assert sorted(names(jar, url)) == ["own", "plain"]
    assert all(cookie.host_only for cookie in jar)
