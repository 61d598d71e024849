"""Test code that uses aiosonic without a server: MockTransport answers in memory.

    python examples/mock_transport.py          # or: pytest examples/mock_transport.py

Everything above the transport still runs: redirects, cookies, retries, auth, hooks.
"""

from __future__ import annotations

import asyncio
from urllib.parse import urlsplit

import aiosonic
from aiosonic.exceptions import ConnectError
from aiosonic.testing import MockTransport, Response


async def user_name(client: aiosonic.HTTPClient, user_id: int) -> str:
    """The code under test: fetch a user from an API and return the name."""
    response = await client.get(f"https://api.example/users/{user_id}", follow=True)
    response.raise_for_status()
    return str((await response.json())["name"])


def fake_api(request: aiosonic.Request) -> aiosonic.HttpResponse:
    """The handler: gets each request as it would go on the wire, returns a response."""
    path = urlsplit(request.url).path
    if path == "/users/1":
        return Response(301, headers={"Location": "/v2/users/1"})
    if path == "/v2/users/1":
        return Response(200, json={"id": 1, "name": "Ada"})
    return Response(404, text="no such user")


async def test_user_name() -> None:
    async with aiosonic.HTTPClient(transport=MockTransport(fake_api)) as client:
        assert await user_name(client, 1) == "Ada"
        try:
            await user_name(client, 2)
        except aiosonic.HTTPStatusError as exc:
            assert exc.status_code == 404
        else:
            raise AssertionError("expected a 404")
    print("user_name: ok")


async def test_retries_a_refused_connection() -> None:
    calls: list[str] = []

    def flaky(request: aiosonic.Request) -> aiosonic.HttpResponse:
        calls.append(request.headers["Host"])
        if len(calls) == 1:
            raise ConnectError("connection refused")  # as the network would raise it
        return Response(200, text="ok")

    policy = aiosonic.RetryPolicy(attempts=2, backoff=0)
    async with aiosonic.HTTPClient(transport=MockTransport(flaky), retry=policy) as client:
        response = await client.get("https://api.example/health")
        assert await response.text() == "ok"
    assert calls == ["api.example", "api.example"]
    print("retries: ok")


async def main() -> None:
    await test_user_name()
    await test_retries_a_refused_connection()


if __name__ == "__main__":
    asyncio.run(main())
