"""Value objects and pure helpers: HttpHeaders, URL parsing, Timeouts, body decoders."""

from __future__ import annotations

import gzip
import zlib

import pytest

from aiosonic import HttpHeaders
from aiosonic._decode import make_decoder
from aiosonic._url import parse_url
from aiosonic.exceptions import DecompressionError, InvalidRequest
from aiosonic.timeout import Timeouts


def test_headers_are_case_insensitive_and_multi_valued() -> None:
    headers = HttpHeaders({"Content-Type": "text/plain"}, x_other="1")
    headers.add("set-cookie", "a=1")
    headers.add("Set-Cookie", "b=2")
    assert headers["content-type"] == "text/plain"
    assert headers["SET-COOKIE"] == "a=1"
    assert headers.getall("Set-Cookie") == ["a=1", "b=2"]
    assert headers.getlist("missing") == []
    assert headers.getall("missing", ["d"]) == ["d"]
    assert "CONTENT-TYPE" in headers and 3 not in headers
    assert list(headers) == ["Content-Type", "x_other", "set-cookie"]
    assert len(headers) == 3
    headers["Set-Cookie"] = "c=3"
    assert headers.getall("set-cookie") == ["c=3"]
    del headers["content-type"]
    assert headers.get("content-type") is None
    assert headers.get("content-type", "dflt") == "dflt"
    assert list(HttpHeaders([("A", "1"), ("a", "2")]).multi_items()) == [("A", "1"), ("A", "2")]


def test_headers_equality_and_copy() -> None:
    headers = HttpHeaders([("A", "1"), ("B", "2")])
    assert headers == {"a": "1", "b": "2"}
    clone = headers.copy()
    clone.add("a", "3")
    assert headers.getall("a") == ["1"]
    assert clone != headers
    assert "HttpHeaders" in repr(headers)


def test_url_parsing_and_normalising() -> None:
    url = parse_url("HTTP://User:P%40ss@Example.COM:8080/a b/ü?q=1 2#frag")
    assert (url.scheme, url.host, url.port) == ("http", "example.com", 8080)
    assert url.target == "/a%20b/%C3%BC?q=1%202"
    assert url.host_header == "example.com:8080"
    assert url.userinfo == "User:P%40ss"
    assert parse_url("https://h").target == "/"
    assert parse_url("https://h").port == 443
    assert parse_url("http://[::1]:81/").host_header == "[::1]:81"
    assert parse_url("http://bücher.example/").host == "xn--bcher-kva.example"
    assert parse_url("http://h/%41").target == "/%41"  # already-encoded stays as it is
    assert parse_url("http://h/x") is parse_url("http://h/x")


def test_url_with_params_and_join() -> None:
    url = parse_url("http://h/p?a=1")
    assert url.with_params({"b": "x y"}).target == "/p?a=1&b=x+y"
    assert url.with_params([("c", 1), ("c", 2)]).target == "/p?a=1&c=1&c=2"
    assert parse_url("http://h/p").with_params({"b": "2"}).target == "/p?b=2"
    assert url.join("/other").unparse() == "http://h/other"
    assert url.join("rel").unparse() == "http://h/rel"
    assert url.join("https://x:8443/y").unparse() == "https://x:8443/y"


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("ftp://h/", "scheme 'ftp' is not supported"),
        ("h/path", "no scheme"),
        ("http:///path", "no host"),
        ("http://h:99999/", "invalid URL"),
        ("http://h:abc/", "invalid URL"),
    ],
)
def test_bad_urls_raise_invalid_request(raw: str, message: str) -> None:
    with pytest.raises(InvalidRequest, match=message):
        parse_url(raw)


def test_timeouts_value_object() -> None:
    assert Timeouts() == Timeouts(5, 30, None, 60)
    assert Timeouts(sock_read=1) != Timeouts()
    assert repr(Timeouts(1, 2, 3, 4)) == (
        "Timeouts(sock_connect=1.0, sock_read=2.0, pool_acquire=3.0, request_timeout=4.0)"
    )
    assert hash(Timeouts()) == hash(Timeouts())
    with pytest.raises(ValueError, match="sock_read"):
        Timeouts(sock_read=-1)
    with pytest.raises(TypeError, match="sock_connect"):
        Timeouts(sock_connect="5")  # type: ignore[arg-type]


def _decode_all(encoding: bytes, data: bytes, limit: int = 10**8, step: int = 7) -> bytes:
    decoder = make_decoder(encoding, limit)
    assert decoder is not None
    out = b"".join(decoder.feed(data[i : i + step]) for i in range(0, len(data), step))
    return out + decoder.flush()


def test_decoders() -> None:
    plain = b"hello " * 1000
    assert make_decoder(None) is None
    assert make_decoder(b"identity") is None
    assert _decode_all(b"gzip", gzip.compress(plain)) == plain
    assert _decode_all(b"x-gzip", gzip.compress(plain) + gzip.compress(b"!")) == plain + b"!"
    assert _decode_all(b"deflate", zlib.compress(plain)) == plain
    raw = zlib.compressobj(wbits=-15)
    assert _decode_all(b"deflate", raw.compress(plain) + raw.flush()) == plain
    stacked = gzip.compress(zlib.compress(plain))
    assert _decode_all(b"deflate, gzip", stacked) == plain


def test_decoder_errors() -> None:
    with pytest.raises(DecompressionError, match="unsupported"):
        make_decoder(b"compress")
    with pytest.raises(DecompressionError, match="stacks 3"):
        make_decoder(b"gzip, gzip, gzip")
    with pytest.raises(DecompressionError, match="invalid gzip"):
        _decode_all(b"gzip", b"not gzip at all")
    with pytest.raises(DecompressionError, match="before its end"):
        _decode_all(b"gzip", gzip.compress(b"x" * 1000)[:-12])
    bomb = gzip.compress(b"\0" * (20 * 1024 * 1024))
    with pytest.raises(DecompressionError, match="more than 1048576"):
        _decode_all(b"gzip", bomb, limit=1024 * 1024, step=len(bomb))


def test_errors_never_show_url_credentials() -> None:
    from aiosonic import Proxy

    for raw in ("ftp://user:s3cret@h/", "http://user:s3cret@h:99999/"):
        with pytest.raises(InvalidRequest) as info:
            parse_url(raw)
        assert "s3cret" not in str(info.value) and "***@" in str(info.value)
    with pytest.raises(InvalidRequest) as info:
        Proxy("https://user:s3cret@proxy:3128")
    assert "s3cret" not in str(info.value)
    assert "s3cret" not in repr(parse_url("http://user:s3cret@h/"))
