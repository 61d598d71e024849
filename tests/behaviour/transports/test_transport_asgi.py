"""``ASGITransport`` with hand-written ASGI 3 apps: the scope, the receive/send channel,
streaming, and what an app's exceptions and protocol mistakes become."""

from __future__ import annotations

import asyncio
import gzip
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest

from aiosonic import HTTPClient
from aiosonic.exceptions import ConnectionDisconnected, HttpParsingError
from aiosonic.testing import ASGIProtocolError, ASGITransport

Message = dict[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]


async def start(send: Send, status: int = 200, headers: list[Any] | None = None) -> None:
    await send({"type": "http.response.start", "status": status, "headers": headers or []})


async def read_body(receive: Receive) -> tuple[bytes, list[Message]]:
    messages = []
    while True:
        message = await receive()
        messages.append(message)
        if message["type"] != "http.request" or not message.get("more_body"):
            break
    return b"".join(m.get("body", b"") for m in messages), messages


async def echo_app(scope: dict[str, Any], receive: Receive, send: Send) -> None:
    """Answers with the scope (bytes made text) and how the body arrived."""
    body, messages = await read_body(receive)
    shown = {
        key: value for key, value in scope.items() if key not in ("headers", "raw_path",
                                                                  "query_string")
    }
    shown["headers"] = [[name.decode(), value.decode()] for name, value in scope["headers"]]
    shown["raw_path"] = scope["raw_path"].decode()
    shown["query_string"] = scope["query_string"].decode()
    shown["body"] = body.decode()
    shown["messages"] = [[m["type"], m.get("more_body", False)] for m in messages]
    payload = json.dumps(shown).encode()
    await start(send, 200, [(b"content-type", b"application/json"),
                            (b"content-length", str(len(payload)).encode())])
    await send({"type": "http.response.body", "body": payload})


def client_for(app: Any, handle_cookies: bool = False, **kwargs: Any) -> HTTPClient:
    return HTTPClient(transport=ASGITransport(app, **kwargs), handle_cookies=handle_cookies)


async def test_scope_of_a_get() -> None:
    async with client_for(echo_app, root_path="/api", client=("10.0.0.9", 5555)) as client:
        response = await client.get(
            "https://svc.example:8443/api/caf%C3%A9/a%2Fb?name=J%C3%BCrgen&x=1+2",
            headers={"X-Custom": "Value"},
        )
        assert response.status_code == 200
        assert response.headers["content-type"] == "application/json"
        scope = await response.json()
    assert scope["type"] == "http" and scope["http_version"] == "1.1"
    assert scope["asgi"] == {"version": "3.0", "spec_version": "2.4"}
    assert scope["method"] == "GET" and scope["scheme"] == "https"
    assert scope["path"] == "/api/caf\u00e9/a/b"
    assert scope["raw_path"] == "/api/caf%C3%A9/a%2Fb"
    assert scope["query_string"] == "name=J%C3%BCrgen&x=1+2"
    assert scope["root_path"] == "/api"
    assert scope["server"] == ["svc.example", 8443]
    assert scope["client"] == ["10.0.0.9", 5555]
    headers = dict(scope["headers"])
    assert headers["host"] == "svc.example:8443" and headers["x-custom"] == "Value"
    assert all(name == name.lower() for name, _ in scope["headers"])
    assert "user-agent" in headers and "accept-encoding" in headers
    assert scope["body"] == "" and scope["messages"] == [["http.request", False]]


async def test_params_and_default_ports() -> None:
    async with client_for(echo_app, client=None) as client:
        scope = await (await client.get("http://plain.example/p",
                                        params={"q": "a b&c", "e": "\u00e9"})).json()
        assert scope["query_string"] == "q=a+b%26c&e=%C3%A9"
        assert scope["server"] == ["plain.example", 80] and scope["client"] is None
        secure = await (await client.get("https://plain.example/")).json()
        assert secure["server"] == ["plain.example", 443]
        override = await (await client.get("http://plain.example/",
                                           headers={"Host": "[::1]:9000"})).json()
        assert override["server"] == ["::1", 9000]


async def test_post_body_in_memory_and_streamed() -> None:
    async def upload() -> AsyncIterator[bytes]:
        for part in (b"alpha ", b"beta ", b"gamma"):
            yield part

    async with client_for(echo_app) as client:
        scope = await (await client.post("http://t.example/", json={"k": 1})).json()
        assert scope["body"] == '{"k": 1}'
        assert scope["messages"] == [["http.request", False]]
        assert ["content-type", "application/json"] in scope["headers"]
        assert ["content-length", "8"] in scope["headers"]
        streamed = await (await client.put("http://t.example/", data=upload())).json()
        assert streamed["body"] == "alpha beta gamma"
        assert streamed["messages"] == [["http.request", True]] * 3 + [["http.request", False]]
        assert ["transfer-encoding", "chunked"] in streamed["headers"]


async def test_receive_gives_disconnect_once_the_response_is_sent() -> None:
    events: list[str] = []

    async def app(scope: dict[str, Any], receive: Receive, send: Send) -> None:
        await read_body(receive)
        waiter = asyncio.ensure_future(receive())
        await asyncio.sleep(0)
        events.append(f"before response: done={waiter.done()}")
        await start(send)
        await send({"type": "http.response.body", "body": b"ok"})
        events.append((await waiter)["type"])

    async with client_for(app) as client:
        assert await (await client.get("http://t.example/")).text() == "ok"
    assert events == ["before response: done=False", "http.disconnect"]


async def test_streaming_response_is_readable_before_the_app_finishes() -> None:
    proceed = asyncio.Event()
    sent: list[int] = []

    async def app(scope: dict[str, Any], receive: Receive, send: Send) -> None:
        await start(send, 200, [(b"content-type", b"text/event-stream")])
        for number in range(3):
            await send({"type": "http.response.body", "body": b"data: %d\n\n" % number,
                        "more_body": True})
            sent.append(number)
            await proceed.wait()
            proceed.clear()
        await send({"type": "http.response.body", "body": b""})

    async with client_for(app) as client:
        response = await client.get("http://t.example/events")
        assert response.status_code == 200 and response.chunked
        lines = []
        async for line in response.iter_lines():
            if line:
                lines.append(line)
                assert sent == list(range(len(lines)))  # read while the app waits
                proceed.set()
        assert lines == ["data: 0", "data: 1", "data: 2"]


async def test_send_waits_while_too_much_body_is_unread() -> None:
    sent = 0
    piece = b"x" * (1024 * 1024)

    async def app(scope: dict[str, Any], receive: Receive, send: Send) -> None:
        nonlocal sent
        await start(send)
        for _ in range(8):
            await send({"type": "http.response.body", "body": piece, "more_body": True})
            sent += 1
        await send({"type": "http.response.body"})

    async with client_for(app) as client:
        response = await client.get("http://t.example/big")
        for _ in range(20):
            await asyncio.sleep(0)
        assert sent == 4  # the fifth piece went over 4 MiB: its send waits for the reader
        assert len(await response.content()) == 8 * len(piece)
        assert sent == 8


async def test_discarding_a_stream_cancels_the_app() -> None:
    events: list[str] = []

    async def app(scope: dict[str, Any], receive: Receive, send: Send) -> None:
        await start(send)
        try:
            while True:
                await send({"type": "http.response.body", "body": b"tick", "more_body": True})
                await asyncio.sleep(0)
        except asyncio.CancelledError:
            events.append("cancelled")
            raise

    async with client_for(app) as client:
        async with client.stream("GET", "http://t.example/") as response:
            async for chunk in response.iter_bytes():
                assert chunk == b"tick"
                break
        for _ in range(5):
            await asyncio.sleep(0)
    assert events == ["cancelled"]


async def test_head_response_has_no_body() -> None:
    async def app(scope: dict[str, Any], receive: Receive, send: Send) -> None:
        await start(send, 200, [(b"content-length", b"5")])
        await send({"type": "http.response.body", "body": b"hello"})

    async with client_for(app) as client:
        response = await client.request("http://t.example/", "HEAD")
        assert response.headers["content-length"] == "5"
        assert await response.content() == b""


async def test_gzip_response_and_background_work_before_the_body_ends() -> None:
    events: list[str] = []

    async def app(scope: dict[str, Any], receive: Receive, send: Send) -> None:
        await start(send, 200, [(b"content-encoding", b"gzip")])
        await send({"type": "http.response.body", "body": gzip.compress(b"zipped" * 50)})
        await asyncio.sleep(0)
        events.append("background done")

    async with client_for(app) as client:
        response = await client.get("http://t.example/")
        assert await response.text() == "zipped" * 50
        assert events == ["background done"]


async def test_redirect_and_cookies_through_the_app() -> None:
    async def app(scope: dict[str, Any], receive: Receive, send: Send) -> None:
        headers = dict(scope["headers"])
        if scope["path"] == "/login":
            await start(send, 302, [(b"location", b"/home"),
                                    (b"set-cookie", b"sid=42; Path=/")])
            await send({"type": "http.response.body"})
            return
        await start(send, 200)
        await send({"type": "http.response.body", "body": headers.get(b"cookie", b"-")})

    async with client_for(app, handle_cookies=True) as client:
        response = await client.get("http://t.example/login", follow=True)
        assert await response.text() == "sid=42"
        assert [r.status_code for r in response.history] == [302]
        assert response.url == "http://t.example/home"


async def failing_before_start(scope: dict[str, Any], receive: Receive, send: Send) -> None:
    raise LookupError("app bug")


async def test_app_exception_before_the_head() -> None:
    async with client_for(failing_before_start) as client:
        with pytest.raises(LookupError, match="app bug"):
            await client.get("http://t.example/")
    async with client_for(failing_before_start, raise_app_exceptions=False) as client:
        response = await client.get("http://t.example/")
        assert response.status_code == 500
        assert await response.text() == "Internal Server Error"


async def test_app_exception_after_the_head() -> None:
    async def app(scope: dict[str, Any], receive: Receive, send: Send) -> None:
        await start(send)
        await send({"type": "http.response.body", "body": b"partial", "more_body": True})
        raise LookupError("late bug")

    async with client_for(app) as client:
        with pytest.raises(LookupError, match="late bug"):
            await client.get("http://t.example/")
    async with client_for(app, raise_app_exceptions=False) as client:
        response = await client.get("http://t.example/")
        assert response.status_code == 200
        with pytest.raises(ConnectionDisconnected, match="late bug"):
            await response.content()


async def test_app_exception_while_streaming_reaches_the_reader() -> None:
    go_on = asyncio.Event()

    async def app(scope: dict[str, Any], receive: Receive, send: Send) -> None:
        await start(send)
        await send({"type": "http.response.body", "body": b"one", "more_body": True})
        await go_on.wait()
        raise LookupError("mid-stream bug")

    async with client_for(app) as client:
        response = await client.get("http://t.example/")
        chunks = []
        with pytest.raises(LookupError, match="mid-stream bug"):
            async for chunk in response.read_chunks():
                chunks.append(chunk)
                go_on.set()
        assert chunks == [b"one"]


async def test_exception_after_the_complete_body_without_raising() -> None:
    async def app(scope: dict[str, Any], receive: Receive, send: Send) -> None:
        await start(send)
        await send({"type": "http.response.body", "body": b"all of it"})
        raise LookupError("after the response")

    async with client_for(app, raise_app_exceptions=False) as client:
        response = await client.get("http://t.example/")
        assert await response.text() == "all of it"


START = {"type": "http.response.start", "status": 200}


@pytest.mark.parametrize(
    ("messages", "match", "as_server"),
    [
        ([], "without sending http.response.start", "500"),
        ([START], "without finishing", "cut"),
        ([{"type": "http.response.body", "body": b"x"}], "before http.response.start", "500"),
        ([START, START], "sent twice", "cut"),
        ([{**START, "status": "200"}], "invalid http.response.start", "500"),
        ([{**START, "headers": [(b"a b", b"c")]}], "invalid http.response.start", "500"),
        ([START, {"type": "http.response.body", "body": "text"}], "must be bytes", "cut"),
        # The whole response was sent before the mistake: a server has nothing to cut.
        ([START, {"type": "http.response.body"}, {"type": "http.response.body"}],
         "after the last", "complete"),
        (["not a dict"], "must be a dict", "500"),
        ([{"type": "websocket.accept"}], "unexpected ASGI message type", "500"),
    ],
)
async def test_protocol_mistakes(messages: list[Message], match: str, as_server: str) -> None:
    async def app(scope: dict[str, Any], receive: Receive, send: Send) -> None:
        for message in messages:
            await send(message)

    async with client_for(app) as client:
        with pytest.raises(ASGIProtocolError, match=match) as info:
            await client.get("http://t.example/")
        assert isinstance(info.value, HttpParsingError)
    async with client_for(app, raise_app_exceptions=False) as client:
        response = await client.get("http://t.example/")
        assert response.status_code == (500 if as_server == "500" else 200)
        if as_server == "cut":
            with pytest.raises(ConnectionDisconnected, match="ASGIProtocolError"):
                await response.content()
        else:
            await response.content()


async def test_send_after_the_client_left_raises_oserror() -> None:
    outcome: list[str] = []
    release = asyncio.Event()

    async def app(scope: dict[str, Any], receive: Receive, send: Send) -> None:
        await start(send)
        await send({"type": "http.response.body", "body": b"a", "more_body": True})
        try:
            await asyncio.shield(release.wait())
        except asyncio.CancelledError:
            outcome.append("cancelled")
            try:
                await send({"type": "http.response.body", "body": b"b"})
            except OSError as exc:
                outcome.append(f"OSError: {exc}")
            raise

    async with client_for(app) as client:
        response = await client.get("http://t.example/")
        await response.aclose()
        for _ in range(5):
            await asyncio.sleep(0)
    assert outcome == ["cancelled", "OSError: the client closed the response"]


def test_transport_needs_a_callable_app() -> None:
    with pytest.raises(TypeError, match="ASGI 3 callable"):
        ASGITransport(None)  # type: ignore[arg-type]
