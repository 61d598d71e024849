"""Upload and download progress callbacks against the aiohttp application: the calls are
monotonic, end at the body's size, carry the total when it is known, and the bytes that
cross the wire are unchanged by the watching."""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest
from support.app import AppServer, loads, payload
from support.raw import RawRequest
from support.scripted import Script, status

from aiosonic import HTTPClient, RetryPolicy

MB2 = 2 * 1024 * 1024
Calls = list[tuple[int, int | None]]


def recorder() -> tuple[Calls, Callable[[int, int | None], None]]:
    calls: Calls = []

    def record(done: int, total: int | None) -> None:
        calls.append((done, total))

    return calls, record


def assert_monotonic(calls: Calls) -> None:
    done = [c[0] for c in calls]
    assert done == sorted(done), "progress went backwards"
    assert len(set(done)) == len(done), "the same progress was reported twice"


async def test_upload_progress_bytes_body(
    server: AppServer, new_client: Callable[..., HTTPClient]
) -> None:
    data = payload(MB2, seed=7)
    calls, record = recorder()
    client = new_client()
    response = await client.post(server.url("/upload"), data=data, upload_progress=record)
    doc = loads(await response.content())
    assert doc["sha256"] == hashlib.sha256(data).hexdigest()
    assert doc["length"] == MB2
    assert doc["content_length"] == str(MB2)
    assert doc["chunked"] is None
    assert len(calls) > 1  # reported piece by piece, not once at the end
    assert_monotonic(calls)
    assert calls[-1] == (MB2, MB2)
    assert {total for _, total in calls} == {MB2}


async def test_upload_progress_async_iterator_body(
    server: AppServer, new_client: Callable[..., HTTPClient]
) -> None:
    pieces = [payload(100_000, seed=i) for i in range(5)]

    async def body() -> AsyncIterator[bytes]:
        for piece in pieces:
            yield piece

    calls, record = recorder()
    client = new_client()
    response = await client.put(server.url("/upload"), data=body(), upload_progress=record)
    doc = loads(await response.content())
    assert doc["sha256"] == hashlib.sha256(b"".join(pieces)).hexdigest()
    assert doc["chunked"] == "chunked"
    assert calls == [(100_000 * (i + 1), None) for i in range(5)]


async def test_upload_progress_with_retry_reports_each_try(
    server: AppServer, new_client: Callable[..., HTTPClient]
) -> None:
    # /status/503 is retried; the body is sent (and counted) again on every try.
    calls, record = recorder()
    client = new_client(retry=RetryPolicy(attempts=2, backoff=0.01))
    data = b"x" * 100_000
    response = await client.put(server.url("/status/503"), data=data, upload_progress=record)
    assert response.status_code == 503
    assert calls[-1] == (100_000, 100_000)
    assert calls.count((100_000, 100_000)) == 2


async def test_upload_progress_without_body_is_not_called(
    server: AppServer, new_client: Callable[..., HTTPClient]
) -> None:
    calls, record = recorder()
    client = new_client()
    response = await client.get(server.url("/echo"), upload_progress=record)
    assert response.status_code == 200
    assert calls == []


@pytest.mark.parametrize("size", [300_000, MB2])  # MB2: the large-body read path
async def test_download_progress_with_content(
    server: AppServer, new_client: Callable[..., HTTPClient], size: int
) -> None:
    calls, record = recorder()
    client = new_client()
    response = await client.get(server.url(f"/bytes/{size}"), download_progress=record)
    assert await response.content() == payload(size)
    assert_monotonic(calls)
    assert calls[-1] == (size, size)
    assert {total for _, total in calls} == {size}


async def test_download_progress_with_read_chunks(
    server: AppServer, new_client: Callable[..., HTTPClient]
) -> None:
    calls, record = recorder()
    client = new_client()
    response = await client.get(server.url(f"/bytes/{MB2}"), download_progress=record)
    received = b""
    async for piece in response.read_chunks():
        received += piece
        # Progress never runs behind what the reader was given.
        assert calls[-1][0] >= len(received)
    assert received == payload(MB2)
    assert_monotonic(calls)
    assert calls[-1] == (MB2, MB2)


async def test_download_progress_chunked_response_has_no_total(
    server: AppServer, new_client: Callable[..., HTTPClient]
) -> None:
    calls, record = recorder()
    client = new_client()
    response = await client.get(
        server.url("/stream/200000?piece=10000"), download_progress=record
    )
    assert response.chunked
    assert await response.content() == payload(200_000)
    assert_monotonic(calls)
    assert calls[-1] == (200_000, None)
    assert {total for _, total in calls} == {None}


async def test_download_progress_counts_wire_bytes_of_a_compressed_body(
    server: AppServer, new_client: Callable[..., HTTPClient]
) -> None:
    calls, record = recorder()
    client = new_client()
    response = await client.get(server.url("/compressed/gzip?n=50000"), download_progress=record)
    text = await response.content()
    assert len(text) == 50_000
    wire = int(response.headers["Content-Length"])
    assert wire < 50_000
    assert calls[-1] == (wire, wire)


def _close_second_request_on_first_connection() -> Script:
    """Answer 200, but close the first connection on its second request (as a server whose
    keep-alive timeout struck just as the request arrived)."""
    first: list[asyncio.StreamWriter] = []
    on_first = [0]

    async def script(
        request: RawRequest, writer: asyncio.StreamWriter, reader: asyncio.StreamReader
    ) -> bool:
        if not first:
            first.append(writer)
        if writer is first[0]:
            on_first[0] += 1
            if on_first[0] == 2:
                return False  # closed without an answer
        writer.write(status(200, b"ok"))
        await writer.drain()
        return True

    return script


@pytest.mark.parametrize("watched", [False, True], ids=["plain", "upload_progress"])
async def test_stale_keep_alive_connection_is_retried_for_a_put(
    logged: Callable[..., Awaitable[Any]],
    new_client: Callable[..., HTTPClient],
    watched: bool,
    request: pytest.FixtureRequest,
) -> None:
    srv = await logged(_close_second_request_on_first_connection())
    client = new_client()
    first = await client.put(srv.url(), data=b"one")
    assert await first.content() == b"ok"
    calls, record = recorder()
    options: dict[str, Any] = {"upload_progress": record} if watched else {}
    second = await client.put(srv.url(), data=b"two", **options)
    assert await second.content() == b"ok"
    assert srv.log.opened == 2
    assert [r.body for r in srv.log.requests] == [b"one", b"two", b"two"]
    if watched:
        assert calls[-1] == (3, 3)
