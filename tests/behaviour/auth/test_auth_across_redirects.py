"""Credentials across redirects: ``auth=`` (per request or client-wide) is sent to the
origin it was given for, kept on a same-origin redirect and dropped on a cross-origin one
(the second server records what it received); ``auths=`` per host applies on each hop."""

from __future__ import annotations

import asyncio
import base64
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from support.app import AppServer, header_values, loads
from support.raw import RawRequest
from support.scripted import replies, status

from aiosonic import HTTPClient

Start = Callable[..., Awaitable[Any]]


def basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


@pytest.mark.parametrize("where", ["request", "client"])
async def test_auth_dropped_on_cross_origin_redirect(
    logged: Start, server2: AppServer, new_client: Callable[..., HTTPClient], where: str
) -> None:
    first = await logged(replies(status(302, headers=[("Location", server2.url("/echo/b"))])))
    if where == "client":
        client = new_client(auth=("u", "p"))
        response = await client.get(first.url("/a"), follow=True)
    else:
        client = new_client()
        response = await client.get(first.url("/a"), follow=True, auth=("u", "p"))
    doc = loads(await response.content())
    assert doc["path"] == "/echo/b"
    assert first.log.requests[0].header("Authorization") == basic("u", "p")
    assert header_values(doc, "Authorization") == []
    assert [hop.status_code for hop in response.history] == [302]


async def test_auth_kept_on_same_origin_redirect(
    server: AppServer, new_client: Callable[..., HTTPClient]
) -> None:
    client = new_client()
    response = await client.get(server.url("/redirect/1"), follow=True, auth=("u", "p"))
    doc = loads(await response.content())
    assert doc["query"] == "from=redirect"
    assert header_values(doc, "Authorization") == [basic("u", "p")]
    assert len(response.history) == 2


async def test_authorization_header_dropped_on_cross_origin_redirect(
    server: AppServer, server2: AppServer, new_client: Callable[..., HTTPClient]
) -> None:
    client = new_client()
    target = server2.url("/echo/b")
    response = await client.get(
        server.url(f"/absolute-redirect?to={target}"), follow=True,
        headers={"Authorization": "Bearer secret", "X-Other": "kept"},
    )
    doc = loads(await response.content())
    assert header_values(doc, "Authorization") == []
    assert header_values(doc, "X-Other") == ["kept"]


async def test_auths_per_host_apply_on_each_hop(
    logged: Start, server2: AppServer, new_client: Callable[..., HTTPClient]
) -> None:
    first = await logged(replies(status(302, headers=[("Location", server2.url("/echo/b"))])))
    client = new_client(auths={f"127.0.0.1:{server2.port}": ("second", "pw2")})
    response = await client.get(first.url("/a"), follow=True, auth=("u", "p"))
    doc = loads(await response.content())
    assert first.log.requests[0].header("Authorization") == basic("u", "p")
    assert header_values(doc, "Authorization") == [basic("second", "pw2")]


async def test_auth_back_on_the_original_origin_after_a_detour(
    logged: Start, server2: AppServer, new_client: Callable[..., HTTPClient]
) -> None:
    location: list[str] = []

    async def script(
        request: RawRequest, writer: asyncio.StreamWriter, reader: asyncio.StreamReader
    ) -> bool:
        if request.target == "/start":
            writer.write(status(302, headers=[("Location", location[0])]))
        else:
            writer.write(status(200, b"home"))
        await writer.drain()
        return True

    home = await logged(script)
    # home -> server2 -> back home: credentials only where they were given.
    location.append(server2.url(f"/absolute-redirect?to={home.url('/back')}"))
    client = new_client()
    response = await client.get(home.url("/start"), follow=True, auth=("u", "p"))
    assert await response.content() == b"home"
    assert [r.target for r in home.log.requests] == ["/start", "/back"]
    assert [r.header("Authorization") for r in home.log.requests] == [basic("u", "p")] * 2
    assert [hop.status_code for hop in response.history] == [302, 302]
    assert response.history[1].url == location[0]
