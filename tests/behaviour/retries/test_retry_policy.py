"""Retries: ``RetryPolicy`` on the client and per request, against scripted loopback servers
that fail a set number of times; ``RetryPolicy.delay`` and validation as pure units."""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime
from typing import Any

import pytest
from support.raw import RawServer, read_request, refused_port, simple_response
from support.scripted import replies, status

import aiosonic
from aiosonic import HTTPClient, RetryPolicy
from aiosonic.exceptions import ConnectError, ConnectionDisconnected, InvalidRequest

FAST = RetryPolicy(attempts=3, backoff=0.01)
Start = Callable[..., Awaitable[Any]]


def retry_events(sink: list[Any]) -> dict[str, list[Any]]:
    return {"retry": [sink.append]}


# -- statuses -------------------------------------------------------------------------------


@pytest.mark.parametrize("failures", [1, 2])
async def test_client_policy_retries_until_success(
    logged: Start, new_client: Callable[..., HTTPClient], failures: int
) -> None:
    answers = [status(503, b"busy")] * failures + [status(200, b"done")]
    srv = await logged(replies(*answers))
    client = new_client(retry=FAST)
    response = await client.get(srv.url("/thing"))
    assert response.status_code == 200
    assert await response.content() == b"done"
    assert len(srv.log.requests) == failures + 1
    assert all(r.target == "/thing" for r in srv.log.requests)
    # The 503s were read to their end: their keep-alive connection carried the retries.
    assert srv.log.opened == 1


async def test_attempts_exhausted_returns_last_response(
    logged: Start, new_client: Callable[..., HTTPClient]
) -> None:
    srv = await logged(replies(status(503, b"still busy")))
    client = new_client(retry=FAST)
    response = await client.get(srv.url())
    assert response.status_code == 503
    assert await response.content() == b"still busy"
    assert len(srv.log.requests) == 3


async def test_per_request_policy(logged: Start, new_client: Callable[..., HTTPClient]) -> None:
    srv = await logged(replies(status(503), status(200, b"ok"), status(503), status(200)))
    client = new_client()  # no client-wide policy
    response = await client.get(srv.url(), retry=RetryPolicy(attempts=2, backoff=0.01))
    assert response.status_code == 200
    assert len(srv.log.requests) == 2
    # Without retry= the next 503 comes straight back.
    response = await client.get(srv.url())
    assert response.status_code == 503
    assert len(srv.log.requests) == 3


async def test_per_request_policy_overrides_client_policy(
    logged: Start, new_client: Callable[..., HTTPClient]
) -> None:
    srv = await logged(replies(status(503), status(503), status(200)))
    client = new_client(retry=RetryPolicy(attempts=1))
    response = await client.get(srv.url(), retry=RetryPolicy(attempts=3, backoff=0.01))
    assert response.status_code == 200
    assert len(srv.log.requests) == 3


async def test_status_not_in_statuses_is_not_retried(
    logged: Start, new_client: Callable[..., HTTPClient]
) -> None:
    srv = await logged(replies(status(500), status(200)))
    client = new_client(retry=FAST)
    response = await client.get(srv.url())
    assert response.status_code == 500
    assert len(srv.log.requests) == 1


async def test_retry_after_zero_and_past_date_are_honoured(
    logged: Start, new_client: Callable[..., HTTPClient]
) -> None:
    past = format_datetime(datetime.now(timezone.utc) - timedelta(hours=1), usegmt=True)
    srv = await logged(replies(
        status(429, headers=[("Retry-After", "0")]),
        status(503, headers=[("Retry-After", past)]),
        status(200, b"ok"),
    ))
    seen: list[Any] = []
    # Without Retry-After the waits would be random in [0, 5) and [0, 10) seconds.
    policy = RetryPolicy(attempts=3, backoff=5, max_backoff=10)
    client = new_client(retry=policy, event_hooks=retry_events(seen))
    response = await asyncio.wait_for(client.get(srv.url()), 3)
    assert response.status_code == 200
    assert [event.info["delay"] for event in seen] == [0.0, 0.0]
    assert [event.info["attempt"] for event in seen] == [1, 2]
    assert [event.info["reason"] for event in seen] == ["status 429", "status 503"]


async def test_retry_after_is_capped_by_max_backoff(
    logged: Start, new_client: Callable[..., HTTPClient]
) -> None:
    srv = await logged(replies(status(503, headers=[("Retry-After", "120")]), status(200)))
    seen: list[Any] = []
    client = new_client(retry=RetryPolicy(attempts=2, max_backoff=0.05),
                        event_hooks=retry_events(seen))
    response = await asyncio.wait_for(client.get(srv.url()), 3)
    assert response.status_code == 200
    assert [event.info["delay"] for event in seen] == [0.05]


async def test_retry_after_ignored_when_not_respected(
    logged: Start, new_client: Callable[..., HTTPClient]
) -> None:
    srv = await logged(replies(status(503, headers=[("Retry-After", "120")]), status(200)))
    seen: list[Any] = []
    policy = RetryPolicy(attempts=2, backoff=0.02, respect_retry_after=False)
    client = new_client(retry=policy, event_hooks=retry_events(seen))
    response = await asyncio.wait_for(client.get(srv.url()), 3)
    assert response.status_code == 200
    assert len(seen) == 1 and 0 <= seen[0].info["delay"] <= 0.02


# -- methods and bodies ---------------------------------------------------------------------


async def test_post_not_retried_on_503_by_default(
    logged: Start, new_client: Callable[..., HTTPClient]
) -> None:
    srv = await logged(replies(status(503), status(200)))
    client = new_client(retry=FAST)
    response = await client.post(srv.url(), data=b"payload")
    assert response.status_code == 503
    assert len(srv.log.requests) == 1


async def test_post_retried_when_listed_in_methods(
    logged: Start, new_client: Callable[..., HTTPClient]
) -> None:
    srv = await logged(replies(status(503), status(503), status(200, b"ok")))
    client = new_client(retry=RetryPolicy(attempts=3, backoff=0.01, methods={"POST"}))
    response = await client.post(srv.url(), data=b"payload")
    assert response.status_code == 200
    assert [r.body for r in srv.log.requests] == [b"payload"] * 3
    assert all(r.method == "POST" for r in srv.log.requests)


async def test_json_body_resent_identically(
    logged: Start, new_client: Callable[..., HTTPClient]
) -> None:
    srv = await logged(replies(status(503), status(200)))
    client = new_client(retry=FAST)
    response = await client.put(srv.url(), json={"a": [1, 2]})
    assert response.status_code == 200
    bodies = [r.body for r in srv.log.requests]
    assert bodies == [b'{"a": [1, 2]}'] * 2
    assert [r.header("Content-Type") for r in srv.log.requests] == ["application/json"] * 2


async def test_one_shot_async_iterator_body_is_never_retried(
    logged: Start, new_client: Callable[..., HTTPClient]
) -> None:
    srv = await logged(replies(status(503), status(200)))

    async def body() -> AsyncIterator[bytes]:
        yield b"part one, "
        yield b"part two"

    # PUT is idempotent and POST is listed: only the one-shot body stops the retry.
    client = new_client(retry=RetryPolicy(attempts=3, backoff=0.01, methods={"PUT", "POST"}))
    response = await client.put(srv.url(), data=body())
    assert response.status_code == 503
    assert len(srv.log.requests) == 1
    assert srv.log.requests[0].body == b"part one, part two"


async def test_one_shot_sync_iterator_body_is_never_retried(
    logged: Start, new_client: Callable[..., HTTPClient]
) -> None:
    srv = await logged(replies(status(503), status(200)))
    client = new_client(retry=FAST)
    response = await client.put(srv.url(), data=iter([b"a", b"b"]))
    assert response.status_code == 503
    assert len(srv.log.requests) == 1


# -- errors ---------------------------------------------------------------------------------


@pytest.mark.parametrize("method", ["GET", "POST"])
async def test_connection_refused_retried_then_raises(
    new_client: Callable[..., HTTPClient], method: str
) -> None:
    sock = refused_port()
    try:
        port = sock.getsockname()[1]
        seen: list[Any] = []
        client = new_client(retry=FAST, event_hooks=retry_events(seen))
        # A refused connection never reached the server: even a POST is retried.
        with pytest.raises(ConnectError):
            await client.request(f"http://127.0.0.1:{port}/", method, data=b"x")
        assert [event.info["attempt"] for event in seen] == [1, 2]
        assert all("ConnectError" in event.info["reason"] for event in seen)
    finally:
        sock.close()


async def test_connection_refused_without_policy_raises_at_once(
    new_client: Callable[..., HTTPClient],
) -> None:
    sock = refused_port()
    try:
        seen: list[Any] = []
        client = new_client(event_hooks=retry_events(seen))
        with pytest.raises(ConnectError):
            await client.get(f"http://127.0.0.1:{sock.getsockname()[1]}/")
        assert seen == []
    finally:
        sock.close()


def _cut_first_connection(counter: list[int]) -> Callable[..., Awaitable[None]]:
    """A handler that closes its first connection in the middle of the response head and
    answers 200 on the others."""

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        counter.append(1)
        request = await read_request(reader)
        if request is None:
            return
        if len(counter) == 1:
            writer.write(b"HTTP/1.1 200 OK\r\nContent-Le")
            await writer.drain()
            return
        writer.write(simple_response(b"second try"))
        await writer.drain()

    return handle


async def test_connection_closed_mid_response_get_is_retried(
    raw_server: Callable[..., Awaitable[RawServer]], new_client: Callable[..., HTTPClient]
) -> None:
    connections: list[int] = []
    srv = await raw_server(handler=_cut_first_connection(connections))
    client = new_client(retry=FAST)
    response = await client.get(srv.url())
    assert response.status_code == 200
    assert await response.content() == b"second try"
    assert len(connections) == 2


async def test_connection_closed_mid_response_post_is_not_retried(
    raw_server: Callable[..., Awaitable[RawServer]], new_client: Callable[..., HTTPClient]
) -> None:
    connections: list[int] = []
    srv = await raw_server(handler=_cut_first_connection(connections))
    client = new_client(retry=FAST)
    # The POST may have been processed: sending it again is not safe by default.
    with pytest.raises(ConnectionDisconnected):
        await client.post(srv.url(), data=b"once")
    assert len(connections) == 1


# -- RetryPolicy as a value -----------------------------------------------------------------


def test_delay_backoff_doubles_with_full_jitter() -> None:
    policy = RetryPolicy(backoff=0.5, max_backoff=30)
    rng_state = random.getstate()
    try:
        random.seed(1234)
        for attempt, ceiling in [(1, 0.5), (2, 1.0), (3, 2.0), (4, 4.0)]:
            samples = [policy.delay(attempt) for _ in range(400)]
            assert all(0 <= s <= ceiling for s in samples)
            # Full jitter: spread over the whole range, not a fixed wait.
            assert min(samples) < ceiling * 0.1
            assert max(samples) > ceiling * 0.9
    finally:
        random.setstate(rng_state)


def test_delay_capped_by_max_backoff() -> None:
    policy = RetryPolicy(backoff=1, max_backoff=0.25)
    assert all(0 <= policy.delay(10) <= 0.25 for _ in range(100))
    zero = RetryPolicy(backoff=0)
    assert zero.delay(5) == 0.0


def test_delay_retry_after_seconds_and_dates() -> None:
    policy = RetryPolicy(backoff=0.1, max_backoff=60)
    assert policy.delay(1, "5") == 5.0
    assert policy.delay(3, " 7 ") == 7.0
    assert policy.delay(1, "0") == 0.0
    assert policy.delay(1, "600") == 60.0  # capped
    future = format_datetime(datetime.now(timezone.utc) + timedelta(seconds=20), usegmt=True)
    assert 17 <= policy.delay(1, future) <= 20
    past = format_datetime(datetime.now(timezone.utc) - timedelta(days=1), usegmt=True)
    assert policy.delay(1, past) == 0.0
    # Not a valid Retry-After: the ordinary jittered backoff.
    for bad in ("soon", "-3", "", "1.5"):
        assert 0 <= policy.delay(1, bad) <= 0.1
    ignoring = RetryPolicy(backoff=0.1, respect_retry_after=False)
    assert 0 <= ignoring.delay(1, "50") <= 0.1


@pytest.mark.parametrize(
    "kwargs",
    [
        {"attempts": 0},
        {"attempts": -1},
        {"attempts": True},
        {"attempts": 1.5},
        {"attempts": "3"},
        {"backoff": -0.1},
        {"backoff": "1"},
        {"backoff": True},
        {"max_backoff": -1},
        {"max_backoff": None},
    ],
)
def test_retry_policy_validation(kwargs: dict[str, Any]) -> None:
    with pytest.raises(ValueError):
        RetryPolicy(**kwargs)


def test_retry_policy_is_a_value() -> None:
    a = RetryPolicy(attempts=4, backoff=0.2, methods=["get", "post"])
    b = RetryPolicy(attempts=4, backoff=0.2, methods={"GET", "POST"})
    assert a == b and hash(a) == hash(b)
    assert a != RetryPolicy(attempts=5, backoff=0.2, methods={"GET", "POST"})
    assert "attempts=4" in repr(a)
    assert a.methods == frozenset({"GET", "POST"})
    assert aiosonic.RetryPolicy is RetryPolicy


def test_client_rejects_a_retry_that_is_not_a_policy() -> None:
    with pytest.raises(InvalidRequest):
        HTTPClient(retry=3)  # type: ignore[arg-type]


async def test_per_request_retry_that_is_not_a_policy(
    logged: Start, new_client: Callable[..., HTTPClient]
) -> None:
    srv = await logged(replies(status(200)))
    client = new_client()
    with pytest.raises(InvalidRequest):
        await client.get(srv.url(), retry=3)  # type: ignore[arg-type]


@pytest.mark.parametrize("kwargs", [{"methods": "POST"}, {"statuses": 503}])
def test_retry_policy_scalar_instead_of_collection(kwargs: dict[str, Any]) -> None:
    try:
        policy = RetryPolicy(**kwargs)
    except ValueError:
        return  # a clear refusal is fine
    assert "POST" in policy.methods if "methods" in kwargs else 503 in policy.statuses


async def test_response_hook_sees_every_retried_attempt(
    logged: Start, new_client: Callable[..., HTTPClient]
) -> None:
    srv = await logged(replies(status(503), status(503), status(200)))
    statuses: list[int] = []
    client = new_client(retry=FAST,
                        event_hooks={"response": [lambda r: statuses.append(r.status_code)]})
    response = await client.get(srv.url())
    assert response.status_code == 200
    assert statuses == [503, 503, 200]


async def test_request_hook_called_before_every_attempt(
    logged: Start, new_client: Callable[..., HTTPClient]
) -> None:
    srv = await logged(replies(status(503), status(200)))
    calls: list[str] = []

    def stamp(request: aiosonic.Request) -> None:
        calls.append(request.url)
        request.headers["X-Attempt"] = str(len(calls))

    client = new_client(retry=FAST, event_hooks={"request": [stamp]})
    response = await client.get(srv.url("/r"))
    assert response.status_code == 200
    assert calls == [srv.url("/r")] * 2
    assert [r.header("X-Attempt") for r in srv.log.requests] == ["1", "2"]
