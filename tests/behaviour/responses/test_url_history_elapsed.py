"""Response fields the client fills in: ``url`` (the final URL after redirects),
``history`` (the redirect responses, oldest first), ``elapsed`` and ``raise_for_status()``,
on the plain request path and on the layered one."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
from support.app import AppServer, loads

import aiosonic
from aiosonic import HTTPClient, HTTPStatusError, RetryPolicy
from aiosonic.exceptions import AiosonicError

# A plain client takes the direct path; one with a layer goes through _send_with_layers.
CLIENTS = {
    "plain": {},
    "layered": {"retry": RetryPolicy(attempts=2, backoff=0.01)},
}


@pytest.fixture(params=sorted(CLIENTS))
def layered_client(request: pytest.FixtureRequest,
                   new_client: Callable[..., HTTPClient]) -> HTTPClient:
    return new_client(**CLIENTS[request.param])


async def test_url_and_history_after_redirects(
    server: AppServer, layered_client: HTTPClient
) -> None:
    response = await layered_client.get(server.url("/redirect/2"), follow=True)
    assert response.status_code == 200
    assert isinstance(response.url, str)
    assert response.url == server.url("/echo?from=redirect")
    assert loads(await response.content())["query"] == "from=redirect"
    history = response.history
    assert isinstance(history, list)
    assert [hop.status_code for hop in history] == [302, 302, 302]
    assert [hop.url for hop in history] == [
        server.url("/redirect/2"), server.url("/redirect/1"), server.url("/redirect/0")
    ]
    assert all(hop.history == [] for hop in history)


async def test_url_and_history_with_params_and_headers(
    server: AppServer, layered_client: HTTPClient
) -> None:
    response = await layered_client.get(
        server.url("/redirect/0"), params={"a": "1"}, headers={"X-A": "b"}, follow=True
    )
    assert response.url == server.url("/echo?from=redirect")
    assert [hop.url for hop in response.history] == [server.url("/redirect/0?a=1")]


async def test_no_redirect_means_empty_history(
    server: AppServer, layered_client: HTTPClient
) -> None:
    url = server.url("/echo?x=1")
    response = await layered_client.get(url, follow=True)
    assert response.history == []
    assert response.url == url
    unfollowed = await layered_client.get(server.url("/redirect/1"))
    assert unfollowed.status_code == 302
    assert unfollowed.url == server.url("/redirect/1")
    assert unfollowed.history == []


async def test_absolute_cross_origin_redirect_url(
    server: AppServer, server2: AppServer, layered_client: HTTPClient
) -> None:
    target = server2.url("/echo?landed=1")
    response = await layered_client.get(
        server.url(f"/absolute-redirect?to={target}"), follow=True
    )
    assert response.url == target
    assert [hop.url for hop in response.history] == [
        server.url(f"/absolute-redirect?to={target}")
    ]


async def test_elapsed_covers_the_server_delay(
    server: AppServer, layered_client: HTTPClient
) -> None:
    response = await layered_client.get(server.url("/slow?delay=0.05"))
    elapsed = response.elapsed
    assert isinstance(elapsed, timedelta)
    assert elapsed >= timedelta(seconds=0.045)
    await response.content()


async def test_elapsed_is_positive_for_fast_responses(
    server: AppServer, layered_client: HTTPClient, request: pytest.FixtureRequest
) -> None:
    elapsed = []
    for _ in range(20):
        response = await layered_client.get(server.url("/echo"))
        await response.content()
        elapsed.append(response.elapsed)
    assert all(value > timedelta(0) for value in elapsed), elapsed


async def test_raise_for_status_returns_the_response_on_success(
    server: AppServer, layered_client: HTTPClient
) -> None:
    response = await layered_client.get(server.url("/echo"))
    assert response.raise_for_status() is response
    redirect = await layered_client.get(server.url("/redirect/0"))
    assert redirect.raise_for_status() is redirect


@pytest.mark.parametrize("code", [404, 500])
async def test_raise_for_status_raises_on_errors(
    server: AppServer, layered_client: HTTPClient, code: int
) -> None:
    response = await layered_client.get(server.url(f"/status/{code}"))
    with pytest.raises(HTTPStatusError) as caught:
        response.raise_for_status()
    error = caught.value
    assert error.response is response
    assert error.status_code == code
    assert isinstance(error, AiosonicError)
    assert str(code) in str(error)
    assert server.url(f"/status/{code}") in str(error)
    assert ("client error" if code < 500 else "server error") in str(error)
    assert aiosonic.HTTPStatusError is HTTPStatusError


async def test_url_and_error_message_never_show_credentials(
    server: AppServer, layered_client: HTTPClient
) -> None:
    response = await layered_client.get(
        f"http://user:s3cret@127.0.0.1:{server.port}/status/404"
    )
    assert response.url == server.url("/status/404")
    with pytest.raises(HTTPStatusError) as caught:
        response.raise_for_status()
    assert "s3cret" not in str(caught.value)


@pytest.mark.parametrize(("code", "kind"), [(404, "client error"), (503, "server error")])
async def test_raise_for_status_carries_the_response_and_its_status(
    server: AppServer, code: int, kind: str
) -> None:
    async with aiosonic.HTTPClient() as client:
        response = await client.get(server.url(f"/status/{code}"))
        with pytest.raises(HTTPStatusError) as raised:
            response.raise_for_status()
    assert raised.value.status_code == code
    assert raised.value.response is response
    assert kind in str(raised.value)
    assert server.url(f"/status/{code}") in str(raised.value)


async def test_raise_for_status_returns_the_response_below_400(server: AppServer) -> None:
    async with aiosonic.HTTPClient() as client:
        response = await client.get(server.url("/status/204"))
        assert response.raise_for_status() is response
