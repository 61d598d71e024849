"""Basic and Bearer header values, ``auth_from`` coercion and the ``auths={host: auth}``
table (pure, no network)."""

from __future__ import annotations

from base64 import b64decode

import pytest

from aiosonic.auth import (
    Auth,
    AuthsByHost,
    BasicAuth,
    BearerAuth,
    DigestAuth,
    auth_for_host,
    auth_from,
)
from aiosonic.exceptions import InvalidRequest
from aiosonic.request import Request


def header_after_flow(auth: Auth) -> str:
    flow = auth.auth_flow(Request("GET", "http://example.org/", headers={"Authorization": "x"}))
    request = next(flow)
    with pytest.raises(StopIteration):
        flow.send(None)  # type: ignore[arg-type]
    return request.headers["Authorization"]


# -- Basic ------------------------------------------------------------------------------------


def test_basic_rfc7617_example() -> None:
    auth = BasicAuth("Aladdin", "open sesame")
    assert auth.header_value == "Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ=="
    assert header_after_flow(auth) == "Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ=="


def test_basic_rfc7617_utf8_example() -> None:
    # RFC 7617 section 2.1: "test" / "123£" under charset="UTF-8"
    assert BasicAuth("test", "123\u00a3", "utf-8").header_value == "Basic dGVzdDoxMjPCow=="
    assert BasicAuth("test", "123\u00a3").header_value == "Basic dGVzdDoxMjOj"  # latin-1


def test_basic_non_ascii_utf8_round_trips() -> None:
    auth = BasicAuth("\u00e5sa", "\u65e5\u672c \u20ac", encoding="utf-8")
    encoded = auth.header_value.removeprefix("Basic ")
    assert b64decode(encoded).decode("utf-8") == "\u00e5sa:\u65e5\u672c \u20ac"


def test_basic_empty_password_and_colon_in_password() -> None:
    assert b64decode(BasicAuth("user").header_value[6:]) == b"user:"
    assert b64decode(BasicAuth("user", "a:b").header_value[6:]) == b"user:a:b"


@pytest.mark.parametrize(
    ("args", "why"),
    [
        (("us:er", "p"), "must not contain ':'"),
        (("\u20ac", "p"), "cannot be encoded as latin-1; pass encoding='utf-8'"),
        (("u", "p", "no-such-codec"), "unknown text encoding"),
        (("u", "p", "base64"), "unknown text encoding"),
        ((b"u", "p"), "must be str"),
        (("u", None), "must be str"),
    ],
)
def test_basic_refuses_bad_credentials(args: tuple[object, ...], why: str) -> None:
    with pytest.raises(InvalidRequest, match=why):
        BasicAuth(*args)  # type: ignore[arg-type]


def test_basic_is_a_value_and_hides_the_password() -> None:
    auth = BasicAuth("u", "secret")
    assert auth == BasicAuth("u", "secret")
    assert auth != BasicAuth("u", "other")
    assert hash(auth) == hash(BasicAuth("u", "secret"))
    assert (auth.login, auth.password, auth.encoding) == ("u", "secret", "latin-1")
    assert "secret" not in repr(auth) and "'u'" in repr(auth)


# -- Bearer -----------------------------------------------------------------------------------


def test_bearer_header() -> None:
    token = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.sig-_~+/=="
    assert header_after_flow(BearerAuth(token)) == f"Bearer {token}"
    assert BearerAuth(token).token == token
    assert token not in repr(BearerAuth(token))
    assert BearerAuth("a") == BearerAuth("a") and BearerAuth("a") != BearerAuth("b")


@pytest.mark.parametrize("token", ["", "a b", "a\r\nX-Evil: 1", "t\u00e9", None, b"t"])
def test_bearer_refuses_tokens_that_cannot_be_a_header(token: object) -> None:
    with pytest.raises(InvalidRequest, match="BearerAuth token"):
        BearerAuth(token)  # type: ignore[arg-type]


def test_base_auth_sends_the_request_unchanged() -> None:
    assert header_after_flow(Auth()) == "x"
    assert Auth.requires_body is False


# -- auth_from ----------------------------------------------------------------------------------


def test_auth_from_coerces() -> None:
    digest = DigestAuth("u", "p")
    assert auth_from(None) is None
    assert auth_from(digest) is digest
    assert auth_from(("user", "pass")) == BasicAuth("user", "pass")


@pytest.mark.parametrize(
    "value",
    [
        "user:hunter2",
        ["user", "hunter2"],
        ("hunter2",),
        ("u", "hunter2", "x"),
        ("u", 1),
        {"u": "hunter2"},
        42,
    ],
)
def test_auth_from_refuses_anything_else_without_echoing_it(value: object) -> None:
    with pytest.raises(InvalidRequest, match=r"auth must be an aiosonic Auth") as info:
        auth_from(value)
    assert type(value).__name__ in str(info.value)
    assert "hunter2" not in str(info.value)


# -- auths={host: auth} ------------------------------------------------------------------------


def test_host_port_beats_host() -> None:
    on_port = BearerAuth("port")
    table = AuthsByHost({"Example.ORG": ("u", "p"), "example.org:8443": on_port})
    assert table.lookup("example.org", 8443) is on_port
    assert table.lookup("EXAMPLE.org", 443) == BasicAuth("u", "p")
    assert table.lookup("example.com", 443) is None
    assert len(table) == 2
    assert "example.org:8443" in repr(table) and "'p'" not in repr(table)


def test_ipv6_and_idna_keys() -> None:
    v6 = BearerAuth("v6")
    table = AuthsByHost({"[::1]:8080": v6, "::2": ("a", "b"), "b\u00fccher.example": ("c", "d")})
    assert table.lookup("::1", 8080) is v6
    assert table.lookup("[::1]", 8080) is v6
    assert table.lookup("::1", 80) is None
    assert table.lookup("::2", 1) == BasicAuth("a", "b")
    assert table.lookup("xn--bcher-kva.example", 443) == BasicAuth("c", "d")


def test_none_under_host_port_switches_auth_off_for_that_port() -> None:
    table = AuthsByHost({"example.org": ("u", "p"), "example.org:8080": None})
    assert table.lookup("example.org", 8080) is None
    assert table.lookup("example.org", 80) is not None


def test_the_same_digest_instance_is_returned() -> None:
    digest = DigestAuth("u", "p")
    assert auth_for_host({"127.0.0.1:9000": digest}, "127.0.0.1", 9000) is digest
    table = AuthsByHost({"127.0.0.1": digest})
    assert auth_for_host(table, "127.0.0.1", 1) is digest


@pytest.mark.parametrize(
    ("auths", "why"),
    [
        ({"http://example.org": ("u", "p")}, "is not 'host' or 'host:port'"),
        ({"example.org/path": ("u", "p")}, "is not 'host' or 'host:port'"),
        ({"user@example.org": ("u", "p")}, "is not 'host' or 'host:port'"),
        ({"": ("u", "p")}, "is not 'host' or 'host:port'"),
        ({"[::1": ("u", "p")}, "is not 'host' or 'host:port'"),
        ({"[::1]x": ("u", "p")}, "is not 'host' or 'host:port'"),
        ({"example.org:http": ("u", "p")}, "invalid port"),
        ({"example.org:0": ("u", "p")}, "invalid port"),
        ({"example.org:70000": ("u", "p")}, "invalid port"),
        ({1: ("u", "p")}, "keys must be str"),
        ({"example.org": "u:p"}, "auth must be an aiosonic Auth"),
        ([("example.org", ("u", "p"))], "auths must be a mapping"),
    ],
)
def test_bad_tables_are_refused_up_front(auths: object, why: str) -> None:
    with pytest.raises(InvalidRequest, match=why):
        AuthsByHost(auths)  # type: ignore[arg-type]
