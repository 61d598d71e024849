"""Request heads and bodies: what goes on the wire for each kind of argument."""

from __future__ import annotations

import json

import pytest

from aiosonic import HttpHeaders
from aiosonic._decode import ACCEPT_ENCODING
from aiosonic._http11 import encode_chunk, encode_request_head
from aiosonic._request import USER_AGENT, Body, build_head, encode_body
from aiosonic._url import parse_url
from aiosonic.exceptions import InvalidRequest


def lines(head: bytes) -> list[str]:
    assert head.endswith(b"\r\n\r\n")
    return head.decode("latin-1").split("\r\n")[:-2]


def test_default_head() -> None:
    head, chunked = build_head("GET", parse_url("http://example.com/a?b=1"), None, Body())
    assert not chunked
    assert lines(head) == [
        "GET /a?b=1 HTTP/1.1",
        "Host: example.com",
        f"User-Agent: {USER_AGENT}",
        "Accept: */*",
        f"Accept-Encoding: {ACCEPT_ENCODING}",
    ]


def test_host_header_keeps_a_non_default_port() -> None:
    head, _ = build_head("GET", parse_url("https://[::1]:8443/"), None, Body())
    assert "Host: [::1]:8443" in lines(head)
    head, _ = build_head("GET", parse_url("https://example.com:443/"), None, Body())
    assert "Host: example.com" in lines(head)


@pytest.mark.parametrize(
    "headers",
    [
        {"user-agent": "mine", "X-A": "1"},
        [("User-Agent", "mine"), ("X-A", "1")],
        HttpHeaders({"USER-AGENT": "mine", "x-a": "1"}),
    ],
)
def test_caller_headers_override_defaults_without_case(headers: object) -> None:
    head, _ = build_head("GET", parse_url("http://h/"), headers, Body())
    text = lines(head)
    assert [line for line in text if line.lower().startswith("user-agent")] == [
        next(line for line in text if line.lower().startswith("user-agent"))
    ]
    assert any(line.lower() == "user-agent: mine" for line in text)
    assert any(line.lower() == "x-a: 1" for line in text)


def test_repeated_caller_headers_are_all_sent() -> None:
    head, _ = build_head("GET", parse_url("http://h/"), [("X", "1"), ("X", "2")], Body())
    assert [line for line in lines(head) if line.startswith("X:")] == ["X: 1", "X: 2"]


def test_body_headers() -> None:
    head, chunked = build_head("POST", parse_url("http://h/"), None, encode_body(b"abc", None,
                                                                                 json.dumps))
    assert "Content-Length: 3" in lines(head) and not chunked
    head, chunked = build_head("POST", parse_url("http://h/"), None, Body())
    assert "Content-Length: 0" in lines(head)
    head, chunked = build_head("POST", parse_url("http://h/"), None, Body(stream=iter([b"x"])))
    assert "Transfer-Encoding: chunked" in lines(head) and chunked
    head, chunked = build_head(
        "POST", parse_url("http://h/"), None, Body(stream=iter([b"x"]), length=1)
    )
    assert "Content-Length: 1" in lines(head) and not chunked


def test_encode_body_forms() -> None:
    assert encode_body("é", None, json.dumps).data == "é".encode()
    form = encode_body({"a": "1", "b": "x y"}, None, json.dumps)
    assert form.data == b"a=1&b=x+y"
    assert form.headers == [("Content-Type", "application/x-www-form-urlencoded")]
    assert encode_body((("a", "1"), ("a", "2")), None, json.dumps).data == b"a=1&a=2"
    as_json = encode_body(None, {"k": [1]}, json.dumps)
    assert as_json.data == b'{"k": [1]}'
    assert as_json.headers == [("Content-Type", "application/json")]
    assert encode_body(None, {"k": 1}, lambda obj: b"custom").data == b"custom"
    assert encode_body(iter([b"x"]), None, json.dumps).stream is not None
    with pytest.raises(InvalidRequest):
        encode_body(object(), None, json.dumps)
    with pytest.raises(InvalidRequest):
        encode_body(b"x", {"k": 1}, json.dumps)


class _Tagged(int):
    pass


@pytest.mark.parametrize(
    "value",
    [
        {"name": "widget", "tags": ["a", "b"], "price": 12.5, "qty": 3, "active": True},
        {"nested": {"deep": [None, False, -0.0, 1e300, "é\u2028\"\\"]}, "": {}},
        [float("nan"), float("inf"), _Tagged(7)],
        {3: "int key", 2.5: "float key", None: "null key", True: "bool key"},
        "just a string: é",
        12,
        [],
    ],
)
def test_json_default_serializer_gives_json_dumps_bytes(value: object) -> None:
    # json= without a serializer skips json.dumps' Python layers: the bytes must not change.
    assert encode_body(None, value, json.dumps).data == json.dumps(value).encode()


def test_json_default_serializer_refuses_what_json_dumps_refuses() -> None:
    circular: list[object] = []
    circular.append(circular)
    with pytest.raises(ValueError, match="Circular reference"):
        encode_body(None, circular, json.dumps)
    with pytest.raises(TypeError, match="not JSON serializable"):
        encode_body(None, {"x": object()}, json.dumps)
    with pytest.raises(TypeError, match="keys must be"):
        encode_body(None, {(1, 2): "tuple key"}, json.dumps)
    assert encode_body(None, [1], json.dumps).data == b"[1]"  # nothing left behind


@pytest.mark.parametrize(
    ("method", "target", "headers", "part"),
    [
        ("GE T", "/", [], "method"),
        ("GET\r\n", "/", [], "method"),
        ("GET", "/a b", [], "target"),
        ("GET", "/a\r\nX: y", [], "target"),
        ("GET", "/", [("Bad Name", "v")], "header name"),
        ("GET", "/", [("X", "a\r\nInjected: 1")], "CR, LF or NUL"),
        ("GET", "/", [("X", "a\x00")], "CR, LF or NUL"),
    ],
)
def test_request_head_refuses_injection(
    method: str, target: str, headers: list[tuple[str, str]], part: str
) -> None:
    with pytest.raises(InvalidRequest, match=part):
        encode_request_head(method, target, headers)


def test_encode_chunk() -> None:
    assert encode_chunk(b"hello") == b"5\r\nhello\r\n"
    assert encode_chunk(b"x" * 26) == b"1a\r\n" + b"x" * 26 + b"\r\n"
    assert encode_chunk(b"") == b""
