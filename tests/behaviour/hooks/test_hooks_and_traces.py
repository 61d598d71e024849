"""Event hooks and trace points: request hooks that read and change the request (the server
sees the change), response hooks on every response (redirect hops, retried attempts), and
the sequence of trace points of a request that is retried and redirected."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from support.app import AppServer, header_values, loads
from support.raw import RawRequest
from support.scripted import replies, status

import aiosonic
from aiosonic import HTTPClient, RetryPolicy
from aiosonic.exceptions import InvalidRequest
from aiosonic.hooks import TRACE_POINTS, TraceEvent

Start = Callable[..., Awaitable[Any]]


async def test_sync_and_async_request_hooks_see_and_change_the_request(
    server: AppServer, new_client: Callable[..., HTTPClient]
) -> None:
    seen: list[tuple[str, str, str | None]] = []

    def sync_hook(request: aiosonic.Request) -> None:
        seen.append((request.method, request.url, request.headers.get("x-caller")))
        request.headers["X-Sync"] = "s"

    async def async_hook(request: aiosonic.Request) -> None:
        await asyncio.sleep(0)
        # Hooks run in order: the sync hook's header is already there.
        seen.append((request.method, request.url, request.headers.get("X-SYNC")))
        request.headers["X-Async"] = "a"

    client = new_client(event_hooks={"request": [sync_hook, async_hook]})
    url = server.url("/echo?q=1")
    response = await client.post(url, data=b"body", headers={"X-Caller": "me"})
    doc = loads(await response.content())
    assert seen == [("POST", url, "me"), ("POST", url, "s")]
    assert header_values(doc, "X-Sync") == ["s"]
    assert header_values(doc, "X-Async") == ["a"]
    assert header_values(doc, "X-Caller") == ["me"]
    assert doc["body_len"] == 4


async def test_a_single_callable_is_accepted_as_the_hook_list(
    server: AppServer, new_client: Callable[..., HTTPClient]
) -> None:
    def hook(request: aiosonic.Request) -> None:
        request.headers["X-One"] = "1"

    client = new_client(event_hooks={"request": hook})
    doc = loads(await (await client.get(server.url("/echo"))).content())
    assert header_values(doc, "X-One") == ["1"]


async def test_request_hook_can_point_the_request_elsewhere(
    server: AppServer, server2: AppServer, new_client: Callable[..., HTTPClient]
) -> None:
    target = server2.url("/echo/rewritten?by=hook")

    def rewrite(request: aiosonic.Request) -> None:
        request.url = target

    client = new_client(event_hooks={"request": [rewrite]})
    response = await client.get(server.url("/echo/original"))
    doc = loads(await response.content())
    assert doc["path"] == "/echo/rewritten"
    assert doc["query"] == "by=hook"
    assert header_values(doc, "Host") == [f"127.0.0.1:{server2.port}"]
    assert response.url == target
    assert server.state.requests == 0


async def test_request_hook_making_the_url_invalid_raises_invalid_request(
    server: AppServer, new_client: Callable[..., HTTPClient]
) -> None:
    def spoil(request: aiosonic.Request) -> None:
        request.url = "not a url"

    client = new_client(event_hooks={"request": [spoil]})
    with pytest.raises(InvalidRequest):
        await client.get(server.url("/echo"))


async def test_response_hooks_get_each_redirect_hop(
    server: AppServer, new_client: Callable[..., HTTPClient]
) -> None:
    hops: list[tuple[int, str | None]] = []

    async def on_response(response: aiosonic.HttpResponse) -> None:
        hops.append((response.status_code, response.url))

    client = new_client(event_hooks={"response": [on_response]})
    response = await client.get(server.url("/redirect/2"), follow=True)
    assert response.status_code == 200
    assert hops == [
        (302, server.url("/redirect/2")),
        (302, server.url("/redirect/1")),
        (302, server.url("/redirect/0")),
        (200, server.url("/echo?from=redirect")),
    ]


def _names(events: list[TraceEvent]) -> list[str]:
    return [event.name for event in events]


async def test_trace_points_of_a_retried_and_redirected_request(
    logged: Start, new_client: Callable[..., HTTPClient]
) -> None:
    srv = await logged(replies(
        status(503, b"busy"),
        status(302, headers=[("Location", "/b")]),
        status(200, b"at b"),
    ))
    events: list[TraceEvent] = []
    client = new_client(retry=RetryPolicy(attempts=2, backoff=0.01),
                        event_hooks={"trace": [events.append]})
    url = srv.url("/a", host="localhost")  # a name: the connection resolves it
    response = await client.get(url, follow=True)
    assert await response.content() == b"at b"
    assert _names(events) == [
        "dns_resolved", "connection_created", "headers_sent", "first_byte", "retry",
        "connection_reused", "headers_sent", "first_byte",
        "redirect",
        "connection_reused", "headers_sent", "first_byte",
    ]  # fmt: skip
    info = {event.name: event.info for event in events}
    assert info["dns_resolved"]["host"] == "localhost"
    assert "127.0.0.1" in info["dns_resolved"]["addresses"]
    assert info["connection_created"] == {
        "host": "localhost", "port": srv.port, "tls": False, "http_version": "1.1"
    }
    assert info["connection_reused"] == {"http_version": "1.1"}
    assert info["retry"]["attempt"] == 1 and info["retry"]["reason"] == "status 503"
    assert 0 <= info["retry"]["delay"] <= 0.01
    assert info["redirect"] == {"status_code": 302, "location": srv.url("/b", host="localhost")}
    # The clock only moves forward, and each try's points are timed from its start.
    ats = [event.at for event in events]
    assert ats == sorted(ats)
    assert all(event.elapsed >= 0 for event in events)
    for first, last in ((0, 5), (5, 8), (9, 12)):
        part = events[first:last]
        assert [e.elapsed for e in part] == sorted(e.elapsed for e in part)
        starts = {round(e.at - e.elapsed, 9) for e in part}
        assert len(starts) == 1, part
    # Every event names the request it belongs to.
    assert {e.request.url for e in events[:8]} == {url}
    assert {e.request.url for e in events[8:]} == {srv.url("/b", host="localhost")}
    assert events[0].request.method == "GET"
    assert srv.log.opened == 1


async def test_trace_elapsed_counts_from_the_first_try(
    logged: Start, new_client: Callable[..., HTTPClient]
) -> None:
    answers = [status(503), status(200)]

    async def script(
        request: RawRequest, writer: asyncio.StreamWriter, reader: asyncio.StreamReader
    ) -> bool:
        if len(answers) == 2:
            await asyncio.sleep(0.03)  # the first try takes a measurable time
        writer.write(answers.pop(0))
        await writer.drain()
        return True

    srv = await logged(script)
    events: list[TraceEvent] = []
    client = new_client(retry=RetryPolicy(attempts=2, backoff=0.01),
                        event_hooks={"trace": [events.append]})
    await client.get(srv.url())
    assert _names(events)[4:6] == ["retry", "connection_reused"]
    assert events[4].request is events[5].request
    assert events[4].elapsed >= 0.025
    assert events[5].elapsed >= events[4].elapsed


async def test_hook_for_one_trace_point_sees_only_that_point(
    logged: Start, new_client: Callable[..., HTTPClient]
) -> None:
    srv = await logged(replies(status(200)))
    created: list[TraceEvent] = []
    reused: list[TraceEvent] = []
    client = new_client(event_hooks={"connection_created": [created.append],
                                     "connection_reused": [reused.append]})
    for _ in range(3):
        await (await client.get(srv.url())).content()
    assert _names(created) == ["connection_created"]
    assert _names(reused) == ["connection_reused"] * 2
    assert "connection_created" in repr(created[0])


async def test_client_with_only_response_hooks(
    logged: Start, new_client: Callable[..., HTTPClient]
) -> None:
    srv = await logged(replies(status(200)))
    got: list[int] = []
    client = new_client(event_hooks={"response": [lambda r: got.append(r.status_code)]})
    response = await client.get(srv.url())
    assert response.status_code == 200 and got == [200]


def test_trace_points_are_the_documented_ones() -> None:
    assert frozenset({
        "connection_reused", "dns_resolved", "connection_created", "headers_sent",
        "first_byte", "redirect", "retry",
    }) == TRACE_POINTS  # fmt: skip


def test_coroutine_function_as_trace_hook_is_refused() -> None:
    async def on_trace(event: TraceEvent) -> None:
        return None

    for kind in ("trace", "first_byte"):
        with pytest.raises(InvalidRequest, match="plain function"):
            HTTPClient(event_hooks={kind: [on_trace]})


def test_unknown_hook_name_is_refused() -> None:
    with pytest.raises(InvalidRequest, match="unknown event hook"):
        HTTPClient(event_hooks={"on_request": [print]})


def test_hook_that_is_not_callable_is_refused() -> None:
    with pytest.raises(InvalidRequest, match="not callable"):
        HTTPClient(event_hooks={"response": ["print"]})


def test_hook_value_that_is_neither_callable_nor_iterable_is_refused() -> None:
    with pytest.raises(InvalidRequest):
        HTTPClient(event_hooks={"request": 5})  # type: ignore[dict-item]


async def test_request_hook_can_replace_the_body(
    server: AppServer, new_client: Callable[..., HTTPClient]
) -> None:
    def replace(request: aiosonic.Request) -> None:
        assert request.content == b"original"
        request.content = b"replaced by hook"

    client = new_client(event_hooks={"request": [replace]})
    doc = loads(await (await client.post(server.url("/echo"), data=b"original")).content())
    assert doc["body_len"] == len(b"replaced by hook")
    assert header_values(doc, "Content-Length") == [str(len(b"replaced by hook"))]


async def test_async_request_hook_can_read_a_streamed_body(
    logged: Start, new_client: Callable[..., HTTPClient]
) -> None:
    srv = await logged(replies(status(503), status(200)))
    seen: list[bytes] = []

    async def sign(request: aiosonic.Request) -> None:
        body = await request.read()  # e.g. to sign it; the body must still be sent
        seen.append(body)
        request.headers["X-Length"] = str(len(body))

    async def stream() -> Any:
        yield b"streamed "
        yield b"body"

    # Read into memory by the hook, the body can even be sent again on a retry.
    client = new_client(event_hooks={"request": [sign]},
                        retry=RetryPolicy(attempts=2, backoff=0.01))
    response = await client.put(srv.url(), data=stream())
    assert response.status_code == 200
    assert seen == [b"streamed body"] * 2
    assert [r.body for r in srv.log.requests] == [b"streamed body"] * 2
    assert [r.header("X-Length") for r in srv.log.requests] == ["13", "13"]


class _AsyncCallable:
    async def __call__(self, event: TraceEvent) -> None:
        return None


async def test_async_callable_object_works_as_request_hook(
    server: AppServer, new_client: Callable[..., HTTPClient]
) -> None:
    class Stamp:
        async def __call__(self, request: aiosonic.Request) -> None:
            await asyncio.sleep(0)
            request.headers["X-Stamp"] = "obj"

    client = new_client(event_hooks={"request": [Stamp()]})
    doc = loads(await (await client.get(server.url("/echo"))).content())
    assert header_values(doc, "X-Stamp") == ["obj"]


def test_async_callable_object_as_trace_hook_is_refused() -> None:
    with pytest.raises(InvalidRequest):
        HTTPClient(event_hooks={"trace": [_AsyncCallable()]})


async def test_relative_redirect_after_a_hook_rewrite_follows_the_rewritten_origin(
    server: AppServer, server2: AppServer, new_client: Callable[..., HTTPClient]
) -> None:
    def rewrite(request: aiosonic.Request) -> None:
        if request.url.endswith("/start"):
            request.url = server2.url("/redirect/0")  # answers 302 Location: /echo?...

    client = new_client(event_hooks={"request": [rewrite]})
    response = await client.get(server.url("/start"), follow=True)
    await response.content()
    assert response.history[0].url == server2.url("/redirect/0")
    assert response.url == server2.url("/echo?from=redirect")
    assert server.state.requests == 0
