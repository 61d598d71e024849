"""The opening handshake: what we send, what we accept, and every way a server can refuse."""

from __future__ import annotations

import pytest
from support.raw import read_request
from support.ws_servers import ServerWS, WSApp

from aiosonic._headers import HttpHeaders
from aiosonic._url import parse_url
from aiosonic._ws import accept_token, build_handshake, check_handshake
from aiosonic.exceptions import InvalidRequest, ReadTimeout
from aiosonic.timeout import Timeouts
from aiosonic.web_socket_client import WebSocketClient, WebSocketHandshakeError

KEY = "dGhlIHNhbXBsZSBub25jZQ=="  # RFC 6455 section 1.3's example


def good_headers(**extra: str) -> HttpHeaders:
    headers = HttpHeaders(
        {
            "Upgrade": "websocket",
            "Connection": "Upgrade",
            "Sec-WebSocket-Accept": accept_token(KEY),
        }
    )
    for name, value in extra.items():
        headers[name.replace("_", "-")] = value
    return headers


# --------------------------------------------------------------------------- pure units


def test_accept_token_matches_rfc_example() -> None:
    assert accept_token(KEY) == "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="


def test_request_head_carries_the_handshake_headers() -> None:
    url = parse_url("ws://example.com:8080/chat?room=1", ("ws", "wss"))
    head = build_handshake(url, KEY, ["chat", "v2"], True, {"Origin": "http://example.com"})
    lines = head.decode().split("\r\n")
    assert lines[0] == "GET /chat?room=1 HTTP/1.1"
    assert "Host: example.com:8080" in lines
    assert "Upgrade: websocket" in lines
    assert "Connection: Upgrade" in lines
    assert f"Sec-WebSocket-Key: {KEY}" in lines
    assert "Sec-WebSocket-Version: 13" in lines
    assert "Sec-WebSocket-Protocol: chat, v2" in lines
    assert "Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits" in lines
    assert "Origin: http://example.com" in lines
    assert head.endswith(b"\r\n\r\n")


def test_default_port_is_left_out_of_host_and_host_can_be_replaced() -> None:
    url = parse_url("wss://example.com/", ("ws", "wss"))
    assert b"Host: example.com\r\n" in build_handshake(url, KEY, [], False, None)
    replaced = build_handshake(url, KEY, [], False, [("Host", "other.example")])
    assert b"Host: other.example\r\n" in replaced
    assert b"example.com" not in replaced
    assert b"Sec-WebSocket-Extensions" not in replaced


@pytest.mark.parametrize("name", ["Upgrade", "sec-websocket-key", "Sec-WebSocket-Protocol"])
def test_caller_cannot_set_handshake_headers(name: str) -> None:
    url = parse_url("ws://example.com/", ("ws", "wss"))
    with pytest.raises(InvalidRequest, match="belongs to the WebSocket handshake"):
        build_handshake(url, KEY, [], False, {name: "x"})


@pytest.mark.parametrize("bad", ["two words", "", "a,b", "caf\u00e9"])
def test_subprotocols_must_be_tokens(bad: str) -> None:
    url = parse_url("ws://example.com/", ("ws", "wss"))
    with pytest.raises(InvalidRequest, match="not a valid token"):
        build_handshake(url, KEY, [bad], False, None)


def test_good_answer_is_accepted_case_insensitively() -> None:
    headers = HttpHeaders(
        {
            "upgrade": "WebSocket",
            "CONNECTION": "keep-alive, UPGRADE",
            "sec-websocket-accept": accept_token(KEY),
            "Sec-WebSocket-Protocol": "v2",
        }
    )
    assert check_handshake(101, headers, KEY, ["chat", "v2"], False) == ("v2", [])


@pytest.mark.parametrize(
    ("headers", "message"),
    [
        (good_headers(Upgrade="h2c"), "Upgrade: websocket"),
        (good_headers(Connection="close"), "Connection: upgrade"),
        (good_headers(Sec_WebSocket_Accept="wrong"), "Sec-WebSocket-Accept"),
        (good_headers(Sec_WebSocket_Accept=accept_token(KEY).lower()), "Sec-WebSocket-Accept"),
        (good_headers(Sec_WebSocket_Protocol="mqtt"), "not one we offered"),
        (good_headers(Sec_WebSocket_Protocol="chat, v2"), "not one we offered"),
        (good_headers(Sec_WebSocket_Extensions="x-webkit-deflate-frame"), "did not offer"),
        (
            good_headers(Sec_WebSocket_Extensions="permessage-deflate, permessage-deflate"),
            "did not offer",
        ),
        (
            good_headers(Sec_WebSocket_Extensions="permessage-deflate; client_max_window_bits"),
            "not valid in an answer",
        ),
        (
            good_headers(Sec_WebSocket_Extensions="permessage-deflate; server_max_window_bits=7"),
            "not supported",
        ),
        (good_headers(Sec_WebSocket_Extensions="permessage-deflate; foo=1"), "not valid"),
    ],
)
def test_bad_answers_are_refused(headers: HttpHeaders, message: str) -> None:
    with pytest.raises(WebSocketHandshakeError, match=message) as info:
        check_handshake(101, headers, KEY, ["chat"], True)
    assert info.value.status_code == 101
    assert info.value.headers is headers


def test_missing_accept_is_refused() -> None:
    headers = good_headers()
    del headers["Sec-WebSocket-Accept"]
    with pytest.raises(WebSocketHandshakeError, match="Sec-WebSocket-Accept"):
        check_handshake(101, headers, KEY, [], False)


def test_extension_answer_without_an_offer_is_refused() -> None:
    headers = good_headers(Sec_WebSocket_Extensions="permessage-deflate")
    with pytest.raises(WebSocketHandshakeError, match="did not offer"):
        check_handshake(101, headers, KEY, [], False)


def test_deflate_parameters_configure_the_extension() -> None:
    value = 'permessage-deflate; server_no_context_takeover; client_max_window_bits="10"'
    _, [extension] = check_handshake(
        101, good_headers(Sec_WebSocket_Extensions=value), KEY, [], True
    )
    assert extension.enabled()
    assert "client_max_window_bits=10" in repr(extension)
    assert "server_no_context_takeover" in repr(extension)


# --------------------------------------------------------------------------- real servers


async def test_subprotocol_negotiated(app: WSApp, client: WebSocketClient) -> None:
    async with await client.connect(app.url(), subprotocols=["mqtt", "superchat"]) as ws:
        assert ws.subprotocol == "superchat"
    async with await client.connect(app.url()) as ws:
        assert ws.subprotocol is None
    offered = app.seen.headers[0]["Sec-WebSocket-Protocol"]
    assert offered == "mqtt, superchat"


async def test_headers_and_query_reach_the_server(app: WSApp, client: WebSocketClient) -> None:
    url = app.url("/echo?compress=1&room=a%20b")
    async with await client.connect(url, headers={"Origin": "http://me", "X-Token": "t"}) as ws:
        assert ws.response.status_code == 101
        assert ws.response.headers["Upgrade"].lower() == "websocket"
    seen = app.seen.headers[0]
    assert seen["Origin"] == "http://me"
    assert seen["X-Token"] == "t"
    assert seen["Host"] == f"127.0.0.1:{app.port}"
    assert seen["Sec-WebSocket-Version"] == "13"


async def test_http_scheme_is_accepted_too(app: WSApp, client: WebSocketClient) -> None:
    async with await client.connect(app.url(scheme="http")) as ws:
        await ws.send_text("over http://")
        assert await ws.receive_text(timeout=5) == "over http://"


async def test_403_is_a_handshake_error_with_its_status(
    app: WSApp, client: WebSocketClient
) -> None:
    with pytest.raises(WebSocketHandshakeError, match="403") as info:
        await client.connect(app.url("/forbidden"))
    assert info.value.status_code == 403
    # The refused connection went back to the pool's accounting: another connect works.
    async with await client.connect(app.url()) as ws:
        await ws.send_text("still fine")
        assert await ws.receive_text(timeout=5) == "still fine"


async def test_200_without_upgrade_is_a_handshake_error(
    app: WSApp, client: WebSocketClient
) -> None:
    with pytest.raises(WebSocketHandshakeError) as info:
        await client.connect(app.url("/plain"))
    assert info.value.status_code == 200


async def test_wrong_accept_is_refused_and_the_connection_dropped(
    scripted, client: WebSocketClient
) -> None:
    async def script(server: ServerWS) -> None:
        request = await read_request(server.reader)
        assert request is not None
        await server.write(
            b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
            b"Connection: Upgrade\r\nSec-WebSocket-Accept: bm90IHRoZSByaWdodCBvbmU=\r\n\r\n"
        )
        assert await server.reader.read() == b""  # the client hung up

    srv = await scripted(script)
    with pytest.raises(WebSocketHandshakeError, match="Sec-WebSocket-Accept") as info:
        await client.connect(srv.url())
    assert info.value.status_code == 101
    await srv.done


async def test_unoffered_subprotocol_is_refused(scripted, client: WebSocketClient) -> None:
    async def script(server: ServerWS) -> None:
        request = await read_request(server.reader)
        assert request is not None
        key = request.header("Sec-WebSocket-Key")
        assert key is not None
        await server.write(
            b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            b"Sec-WebSocket-Protocol: evil\r\n"
            + f"Sec-WebSocket-Accept: {accept_token(key)}\r\n\r\n".encode()
        )
        assert await server.reader.read() == b""

    srv = await scripted(script)
    with pytest.raises(WebSocketHandshakeError, match="'evil'"):
        await client.connect(srv.url(), subprotocols=["chat"])
    await srv.done


async def test_silent_server_times_out_the_handshake(scripted, client: WebSocketClient) -> None:
    async def script(server: ServerWS) -> None:
        assert await read_request(server.reader) is not None
        assert await server.reader.read() == b""  # no answer; the client gives up

    srv = await scripted(script)
    with pytest.raises(ReadTimeout):
        await client.connect(srv.url(), timeouts=Timeouts(sock_read=0.1))
    await srv.done


async def test_unknown_conn_opts_and_bad_limits_are_refused(
    app: WSApp, client: WebSocketClient
) -> None:
    with pytest.raises(TypeError, match="unknown conn_opts: nope"):
        await client.connect(app.url(), conn_opts={"nope": 1})
    with pytest.raises(ValueError, match="max_queue"):
        await client.connect(app.url(), max_queue=0)
    with pytest.raises(InvalidRequest, match="scheme"):
        await client.connect(f"ftp://127.0.0.1:{app.port}/")
    assert app.seen.headers == []  # nothing reached the server
