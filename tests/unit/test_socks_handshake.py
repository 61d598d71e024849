"""The sans-IO SOCKS handshakes: exact bytes out, every reply split every way, every refusal
and malformed reply raising a clear ProxyError. No network."""

from __future__ import annotations

import re

import pytest

from aiosonic._socks import Socks4Handshake, Socks5Handshake, SocksHandshake
from aiosonic.exceptions import InvalidRequest, ProxyError

OK_V4 = b"\x05\x00\x00\x01\x7f\x00\x00\x01\x04\x38"  # bound to 127.0.0.1:1080
OK_V6 = b"\x05\x00\x00\x04" + bytes(15) + b"\x01" + b"\x04\x38"
OK_NAME = b"\x05\x00\x00\x03\x09proxy.lan\x04\x38"
OK_LONG_NAME = b"\x05\x00\x00\x03\xff" + b"a" * 255 + b"\x04\x38"  # the largest reply, 262
SOCKS4_OK = b"\x00\x5a\x00\x50\x0a\x00\x00\x01"


def splits(data: bytes) -> list[list[bytes]]:
    """``data`` whole, byte by byte, and cut in two at every point."""
    ways = [[data], [data[i : i + 1] for i in range(len(data))]]
    ways += [[data[:i], data[i:]] for i in range(1, len(data))]
    return ways


def feed(handshake: SocksHandshake, pieces: list[bytes]) -> bytes:
    """Feed pieces; the reply bytes must come exactly once, with the last piece."""
    sent = b""
    for index, piece in enumerate(pieces):
        out = handshake.receive(piece)
        if index < len(pieces) - 1:
            assert out == b"" and not handshake.done
        sent += out
    return sent


# ------------------------------------------------------------------------------ what we send


def test_socks5_no_auth_bytes() -> None:
    hs = Socks5Handshake("example.com", 443)
    assert hs.initial() == b"\x05\x01\x00"
    assert hs.receive(b"\x05\x00") == b"\x05\x01\x00\x03\x0bexample.com\x01\xbb"


def test_socks5_user_password_bytes() -> None:
    hs = Socks5Handshake("10.1.2.3", 80, username="alice", password="s\u00e9cret")
    assert hs.initial() == b"\x05\x02\x00\x02"
    secret = "s\u00e9cret".encode()
    assert hs.receive(b"\x05\x02") == b"\x01\x05alice" + bytes([len(secret)]) + secret
    assert hs.receive(b"\x01\x00") == b"\x05\x01\x00\x01\x0a\x01\x02\x03\x00\x50"
    assert hs.receive(OK_V4) == b"" and hs.done


def test_socks5_with_credentials_accepts_no_auth_choice() -> None:
    hs = Socks5Handshake("10.1.2.3", 80, username="alice", password="x")
    hs.initial()
    assert hs.receive(b"\x05\x00") == b"\x05\x01\x00\x01\x0a\x01\x02\x03\x00\x50"


def test_socks5_ipv6_literal_is_sent_as_ipv6() -> None:
    hs = Socks5Handshake("::1", 8080, remote_dns=False)
    hs.initial()
    assert hs.receive(b"\x05\x00") == b"\x05\x01\x00\x04" + bytes(15) + b"\x01\x1f\x90"


def test_socks5_bracketed_ipv6_literal() -> None:
    hs = Socks5Handshake("[2001:db8::5]", 443)
    hs.initial()
    out = hs.receive(b"\x05\x00")
    assert out[3] == 4 and out[4:20] == bytes.fromhex("20010db8000000000000000000000005")


def test_socks5_ip_literal_sent_as_address_even_with_remote_dns() -> None:
    hs = Socks5Handshake("192.0.2.7", 1, remote_dns=True)
    hs.initial()
    assert hs.receive(b"\x05\x00") == b"\x05\x01\x00\x01\xc0\x00\x02\x07\x00\x01"


def test_socks5_unicode_name_is_sent_as_idna() -> None:
    hs = Socks5Handshake("b\u00fccher.example", 80)
    hs.initial()
    name = b"xn--bcher-kva.example"
    assert hs.receive(b"\x05\x00") == b"\x05\x01\x00\x03" + bytes([len(name)]) + name + b"\x00P"


def test_socks4_ip_bytes_with_user_id() -> None:
    hs = Socks4Handshake("10.0.0.1", 80, user_id="bob", remote_dns=False)
    assert hs.initial() == b"\x04\x01\x00\x50\x0a\x00\x00\x01bob\x00"
    assert hs.receive(SOCKS4_OK) == b"" and hs.done


def test_socks4a_name_bytes() -> None:
    hs = Socks4Handshake("example.org", 8080)
    assert hs.initial() == b"\x04\x01\x1f\x90\x00\x00\x00\x01\x00example.org\x00"


def test_socks4a_with_ipv4_literal_sends_plain_socks4() -> None:
    hs = Socks4Handshake("127.0.0.1", 80, remote_dns=True)
    assert hs.initial() == b"\x04\x01\x00\x50\x7f\x00\x00\x01\x00"


# ------------------------------------------------------------------- replies split every way


@pytest.mark.parametrize("reply", [OK_V4, OK_V6, OK_NAME, OK_LONG_NAME])
def test_socks5_connect_reply_in_every_split(reply: bytes) -> None:
    for pieces in splits(reply):
        hs = Socks5Handshake("example.com", 80, "u", "p")
        hs.initial()
        assert feed(hs, splits(b"\x05\x02")[1]).startswith(b"\x01\x01u\x01p")
        assert feed(hs, [b"\x01", b"\x00"]).startswith(b"\x05\x01\x00\x03")
        assert feed(hs, pieces) == b""
        assert hs.done and hs.leftover == b""


def test_socks4_reply_in_every_split() -> None:
    for pieces in splits(SOCKS4_OK):
        hs = Socks4Handshake("example.com", 80)
        hs.initial()
        assert feed(hs, pieces) == b""
        assert hs.done and hs.leftover == b""


def test_method_and_auth_replies_split() -> None:
    hs = Socks5Handshake("example.com", 80, "u", "p")
    hs.initial()
    assert hs.receive(b"\x05") == b""
    assert hs.receive(b"\x02") == b"\x01\x01u\x01p"
    assert hs.receive(b"\x01") == b""
    assert hs.receive(b"\x00").startswith(b"\x05\x01\x00\x03")


def test_bytes_after_the_last_reply_are_leftover() -> None:
    hs = Socks5Handshake("example.com", 80)
    hs.initial()
    hs.receive(b"\x05\x00")
    assert hs.receive(OK_NAME + b"HTTP/1.1 200") == b""
    assert hs.done and hs.leftover == b"HTTP/1.1 200"
    hs.receive(b" OK\r\n")  # more arriving later is kept too
    assert hs.leftover == b"HTTP/1.1 200 OK\r\n"

    hs4 = Socks4Handshake("10.0.0.1", 80)
    hs4.initial()
    hs4.receive(SOCKS4_OK[:5])
    hs4.receive(SOCKS4_OK[5:] + b"\x16\x03")
    assert hs4.done and hs4.leftover == b"\x16\x03"


def test_socks5h_old_auth_version_5_is_accepted() -> None:
    hs = Socks5Handshake("example.com", 80, "u", "p")
    hs.initial()
    hs.receive(b"\x05\x02")
    assert hs.receive(b"\x05\x00").startswith(b"\x05\x01")


def test_socks4_reply_version_4_is_accepted() -> None:
    hs = Socks4Handshake("example.com", 80)
    hs.initial()
    hs.receive(b"\x04\x5a" + bytes(6))
    assert hs.done


# ------------------------------------------------------------------------------- refusals


SOCKS5_CODES = {
    1: "general SOCKS server failure",
    2: "connection not allowed by ruleset",
    3: "network unreachable",
    4: "host unreachable",
    5: "connection refused by destination host",
    6: "TTL expired",
    7: "command not supported",
    8: "address type not supported",
    9: "unknown reply code",
    0xFE: "unknown reply code",
}


@pytest.mark.parametrize(("code", "reason"), sorted(SOCKS5_CODES.items()))
def test_socks5_refusal_codes(code: int, reason: str) -> None:
    # decided from two bytes: a proxy that sends a short refusal and waits is not waited for
    for tail in (b"", b"\x00\x01" + bytes(6)):
        hs = Socks5Handshake("example.com", 443)
        hs.initial()
        hs.receive(b"\x05\x00")
        with pytest.raises(ProxyError) as info:
            hs.receive(bytes([5, code]) + tail)
        assert info.value.status_code == code
        message = str(info.value)
        assert reason in message and f"reply code {code}" in message
        assert "example.com:443" in message and "SOCKS5" in message
        assert not hs.done


@pytest.mark.parametrize(
    ("code", "reason"),
    [
        (91, "request rejected or failed"),
        (92, "cannot reach identd"),
        (93, "identd reports a different user id"),
        (0, "unknown reply code"),
    ],
)
def test_socks4_refusal_codes(code: int, reason: str) -> None:
    hs = Socks4Handshake("10.0.0.1", 80)
    hs.initial()
    with pytest.raises(ProxyError) as info:
        hs.receive(bytes([0, code]))
    assert info.value.status_code == code
    assert reason in str(info.value) and "10.0.0.1:80" in str(info.value)


def test_authentication_failed() -> None:
    hs = Socks5Handshake("example.com", 80, "alice", "wrong")
    hs.initial()
    hs.receive(b"\x05\x02")
    with pytest.raises(ProxyError, match="authentication failed") as info:
        hs.receive(b"\x01\x01")
    assert info.value.status_code is None
    assert "wrong" not in str(info.value) and "alice" not in str(info.value)


def test_no_acceptable_method_without_credentials_hints_at_them() -> None:
    hs = Socks5Handshake("example.com", 80)
    hs.initial()
    with pytest.raises(ProxyError, match=r"none of our authentication methods.*user name"):
        hs.receive(b"\x05\xff")


def test_no_acceptable_method_with_credentials() -> None:
    hs = Socks5Handshake("example.com", 80, "u", "p")
    hs.initial()
    with pytest.raises(ProxyError, match="none of our authentication methods") as info:
        hs.receive(b"\x05\xff")
    assert "user name" not in str(info.value)


# --------------------------------------------------------------------------- malformed replies


@pytest.mark.parametrize(
    ("credentials", "replies", "match"),
    [
        (False, [b"HTTP/1.1 400 Bad Request\r\n\r\n"], "is not a SOCKS5 proxy"),
        (False, [b"\x04"], "is not a SOCKS5 proxy"),
        (False, [b"\x05\x02"], "chose authentication method 2, which we did not offer"),
        (True, [b"\x05\x01"], "chose authentication method 1"),
        (False, [b"\x05\x00", b"\x04\x00"], "malformed reply to CONNECT"),
        (False, [b"\x05\x00", b"\x05\x00\x00\x07\x00"], "unknown address type 7"),
        (True, [b"\x05\x02", b"\x02\x00"], "malformed authentication reply"),
        (False, [b"\x05\x00\x05\x00"], "sent 2 bytes more than its reply"),
        (True, [b"\x05\x02", b"\x01\x00\x05"], "sent 1 bytes more than its reply"),
        (False, [b"\x05\x00", b"\x00" * 100_000], "malformed reply to CONNECT"),
    ],
)
def test_malformed_socks5_replies(credentials: bool, replies: list[bytes], match: str) -> None:
    hs = Socks5Handshake("example.com", 80, *(("u", "p") if credentials else ()))
    hs.initial()
    with pytest.raises(ProxyError, match=match) as info:
        for reply in replies:
            hs.receive(reply)
    assert info.value.status_code is None
    # a failed handshake stays failed: more bytes raise the same error, nothing is buffered
    with pytest.raises(ProxyError) as again:
        hs.receive(b"\x05\x00")
    assert again.value is info.value
    assert hs.connection_closed() is info.value


@pytest.mark.parametrize("reply", [b"HTTP/1.1 200 OK\r\n", b"\x05\x5a" + bytes(6), b"\x01"])
def test_malformed_socks4_replies(reply: bytes) -> None:
    hs = Socks4Handshake("10.0.0.1", 80)
    hs.initial()
    with pytest.raises(ProxyError, match="is not a SOCKS4 proxy"):
        hs.receive(reply)


def test_huge_reply_in_pieces_never_buffers_past_one_reply() -> None:
    hs = Socks5Handshake("example.com", 80)
    hs.initial()
    hs.receive(b"\x05\x00")
    hs.receive(b"\x05\x00\x00\x03\xff")
    for _ in range(255 + 1):
        assert not hs.done
        hs.receive(b"a")
    assert len(hs._buffer) == 261
    hs.receive(b"b" + b"c" * 1_000_000)  # the last port byte, and what follows is leftover
    assert hs.done and len(hs.leftover) == 1_000_000 and hs._buffer == b""


# ------------------------------------------------------------------------ the proxy hangs up


@pytest.mark.parametrize(
    ("version", "before", "partial", "match"),
    [
        (5, [], b"", "before sending its authentication method"),
        (5, [], b"\x05", r"its authentication method \(1 bytes of it arrived\)"),
        (5, [b"\x05\x02"], b"", "before sending the authentication result"),
        (5, [b"\x05\x02"], b"\x01", r"authentication result \(1 bytes"),
        (5, [b"\x05\x02", b"\x01\x00"], b"\x05\x00\x00\x01\x7f", r"CONNECT \(5 bytes"),
        (4, [], b"\x00\x5a\x00", r"before sending the answer to CONNECT \(3 bytes"),
    ],
)
def test_connection_closed_mid_handshake(
    version: int, before: list[bytes], partial: bytes, match: str
) -> None:
    hs: SocksHandshake
    if version == 5:
        hs = Socks5Handshake("example.com", 80, "u", "p")
    else:
        hs = Socks4Handshake("example.com", 80)
    hs.initial()
    for reply in before:
        hs.receive(reply)
    hs.receive(partial)
    error = hs.connection_closed()
    assert isinstance(error, ProxyError) and error.status_code is None
    assert f"SOCKS{version} proxy closed the connection to example.com:80" in str(error)
    with pytest.raises(ProxyError) as again:
        hs.receive(b"x")
    assert again.value is error
    assert re.search(match, str(error))


# ----------------------------------------------------------------------------- bad arguments


@pytest.mark.parametrize(
    ("make", "match"),
    [
        (lambda: Socks5Handshake("example.com", 80, remote_dns=False), "pass an IP address"),
        (lambda: Socks5Handshake("example.com", 0), "port out of range"),
        (lambda: Socks5Handshake("example.com", 65536), "port out of range"),
        (lambda: Socks5Handshake("a" * 256, 80), "cannot be sent"),
        (lambda: Socks5Handshake("", 80), "cannot be sent"),
        (lambda: Socks5Handshake("bad\0name", 80), "cannot be sent"),
        (lambda: Socks5Handshake("x.com", 80, "u" * 256, "p"), "at most 255 bytes"),
        (lambda: Socks5Handshake("x.com", 80, "u", "p" * 256), "at most 255 bytes"),
        (lambda: Socks4Handshake("example.com", 80, remote_dns=False), "IPv4 addresses only"),
        (lambda: Socks4Handshake("::1", 80, remote_dns=False), "IPv4 addresses only"),
        (lambda: Socks4Handshake("10.0.0.1", 80, user_id="a\0b"), "NUL"),
        (lambda: Socks4Handshake("10.0.0.1", -1), "port out of range"),
    ],
)
def test_bad_arguments_raise_invalid_request(make: object, match: str) -> None:
    with pytest.raises(InvalidRequest, match=match):
        make()  # type: ignore[operator]


def test_misuse_is_a_runtime_error() -> None:
    hs = Socks5Handshake("example.com", 80)
    with pytest.raises(RuntimeError):
        hs.receive(b"\x05\x00")
    hs.initial()
    with pytest.raises(RuntimeError):
        hs.initial()
