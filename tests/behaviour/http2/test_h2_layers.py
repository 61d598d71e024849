"""The layers over HTTP/2 (cleartext h2c with prior knowledge, hypercorn): trace points,
retries, redirects with history, progress callbacks, and leaving a stream early."""

from __future__ import annotations

from collections.abc import Callable

from support.app import payload
from support.h2_servers import H2cServer

from aiosonic import HTTPClient, RetryPolicy
from aiosonic.hooks import TraceEvent


async def test_trace_points_over_h2(h2c: H2cServer, new_client: Callable[..., HTTPClient]) -> None:
    events: list[TraceEvent] = []
    client = new_client(event_hooks={"trace": [events.append]})
    for _ in range(2):
        response = await client.get(h2c.url("/bytes/10"), http2=True)
        assert response.http_version == "2"
        assert await response.content() == payload(10)
    assert [e.name for e in events] == [
        "dns_resolved", "connection_created", "headers_sent", "first_byte",
        "connection_reused", "headers_sent", "first_byte",
    ]  # fmt: skip
    assert events[1].info["http_version"] == "2"
    assert events[4].info == {"http_version": "2"}
    assert h2c.protocols == ["2", "2"]


async def test_retry_over_h2(h2c: H2cServer, new_client: Callable[..., HTTPClient]) -> None:
    statuses: list[int] = []
    client = new_client(retry=RetryPolicy(attempts=3, backoff=0.01),
                        event_hooks={"response": [lambda r: statuses.append(r.status_code)]})
    response = await client.get(h2c.url("/flaky"), http2=True)
    assert response.status_code == 200
    assert await response.content() == b"recovered"
    assert statuses == [503, 200]
    assert h2c.protocols == ["2", "2"]


async def test_redirect_history_over_h2(
    h2c: H2cServer, new_client: Callable[..., HTTPClient]
) -> None:
    client = new_client(retry=RetryPolicy(attempts=2))
    response = await client.get(h2c.url("/redirect"), http2=True, follow=True)
    assert response.http_version == "2"
    assert response.url == h2c.url("/bytes/10")
    assert [(hop.status_code, hop.url) for hop in response.history] == [
        (302, h2c.url("/redirect"))
    ]
    assert h2c.protocols == ["2", "2"]


async def test_progress_over_h2(h2c: H2cServer, new_client: Callable[..., HTTPClient]) -> None:
    up: list[tuple[int, int | None]] = []
    down: list[tuple[int, int | None]] = []
    client = new_client()
    data = payload(300_000, seed=3)
    response = await client.post(
        h2c.url("/echo"), data=data, http2=True,
        upload_progress=lambda n, t: up.append((n, t)),
        download_progress=lambda n, t: down.append((n, t)),
    )
    assert response.http_version == "2"
    assert await response.content() == data
    assert up[-1] == (300_000, 300_000)
    assert down[-1] == (300_000, 300_000)
    assert [n for n, _ in down] == sorted(n for n, _ in down)


async def test_leaving_an_h2_stream_early_keeps_the_connection(
    h2c: H2cServer, new_client: Callable[..., HTTPClient]
) -> None:
    events: list[TraceEvent] = []
    client = new_client(event_hooks={"connection_created": [events.append]})
    async with client.stream("GET", h2c.url("/bytes/3000000"), http2=True) as response:
        async for _ in response.iter_bytes():
            break
    # Only that stream is reset: the connection carries the next request.
    response = await client.get(h2c.url("/bytes/100"), http2=True)
    assert await response.content() == payload(100)
    assert len(events) == 1
