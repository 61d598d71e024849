"""Authentication through the client's own API (``HTTPClient(auth=...)``, ``auth=`` per
request, ``auths={host: auth}``) against real loopback servers.

Skipped until the client wiring lands; they run as soon as ``HTTPClient.request`` takes
``auth``.
"""

from __future__ import annotations

import inspect
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
import pytest_asyncio
from support.digest_server import DigestServer

from aiosonic import HTTPClient
from aiosonic.auth import AuthError, BasicAuth, BearerAuth, DigestAuth
from aiosonic.exceptions import InvalidRequest

from .conftest import StartServer

pytestmark = pytest.mark.skipif(
    "auth" not in inspect.signature(HTTPClient.request).parameters,
    reason="client wiring pending",
)

MUFASA = ("Mufasa", "Circle of Life")


@pytest_asyncio.fixture
async def new_client() -> AsyncIterator[Callable[..., HTTPClient]]:
    made: list[HTTPClient] = []

    def make(**kwargs: Any) -> HTTPClient:
        client = HTTPClient(**kwargs)
        made.append(client)
        return client

    try:
        yield make
    finally:
        for client in reversed(made):
            await client.close()


def authorization(server: DigestServer, index: int = -1) -> list[str]:
    return server.seen[index].header("Authorization")


async def test_client_wide_digest(
    digest_server: StartServer, new_client: Callable[..., HTTPClient]
) -> None:
    server = await digest_server(algorithms=("SHA-256",))
    client = new_client(auth=DigestAuth(*MUFASA))
    first = await client.get(server.url("/one"))
    assert first.status_code == 200
    assert (await first.json())["user"] == "Mufasa"
    second = await client.get(server.url("/two"))
    assert second.status_code == 200
    await second.discard()
    assert server.statuses == [401, 200, 200]  # the second request is pre-authenticated
    assert [hit.nc for hit in server.hits[1:]] == [1, 2]


async def test_digest_post_body_is_replayed(
    digest_server: StartServer, new_client: Callable[..., HTTPClient]
) -> None:
    server = await digest_server()
    client = new_client(auth=DigestAuth(*MUFASA))
    response = await client.post(server.url("/upload"), data=b"y" * 70_000)
    assert response.status_code == 200
    assert (await response.json())["body_size"] == 70_000
    assert server.statuses == [401, 200]


async def test_digest_wrong_password_returns_the_401(
    digest_server: StartServer, new_client: Callable[..., HTTPClient]
) -> None:
    server = await digest_server()
    client = new_client(auth=DigestAuth("Mufasa", "wrong"))
    response = await client.get(server.url("/private"))
    assert response.status_code == 401
    assert await response.text() == "authenticate"
    assert server.statuses == [401, 401]


async def test_per_request_basic(digest_server: StartServer, client: HTTPClient) -> None:
    server = await digest_server()
    response = await client.get(server.url("/basic"), auth=BasicAuth("aladdin", "open sesame"))
    assert response.status_code == 200
    assert await response.json() == {"user": "aladdin"}


async def test_per_request_tuple(digest_server: StartServer, client: HTTPClient) -> None:
    server = await digest_server()
    response = await client.get(server.url("/basic"), auth=("aladdin", "open sesame"))
    assert response.status_code == 200
    await response.discard()
    assert authorization(server) == [BasicAuth("aladdin", "open sesame").header_value]


async def test_per_request_auth_beats_the_client_one(
    digest_server: StartServer, new_client: Callable[..., HTTPClient]
) -> None:
    server = await digest_server()
    client = new_client(auth=BasicAuth("aladdin", "wrong"))
    response = await client.get(server.url("/bearer"), auth=BearerAuth("t0ken"))
    assert response.status_code == 200
    await response.discard()
    assert authorization(server) == ["Bearer t0ken"]


async def test_bad_auth_value_is_refused(digest_server: StartServer, client: HTTPClient) -> None:
    server = await digest_server()
    with pytest.raises(InvalidRequest, match="auth must be"):
        await client.get(server.url("/basic"), auth="aladdin:open sesame")
    assert server.seen == []


async def test_auths_by_host_and_port(
    digest_server: StartServer, new_client: Callable[..., HTTPClient]
) -> None:
    server = await digest_server()
    other = await digest_server()
    client = new_client(
        auths={server.authority: DigestAuth(*MUFASA), "127.0.0.1:1": ("not", "used")}
    )
    response = await client.get(server.url("/mapped"))
    assert response.status_code == 200
    await response.discard()
    assert server.statuses == [401, 200]
    # another port of the same host is not in the table: no credentials go there
    elsewhere = await client.get(other.url("/open/x"))
    await elsewhere.discard()
    assert authorization(other) == []


async def test_auths_by_host_basic(
    digest_server: StartServer, new_client: Callable[..., HTTPClient]
) -> None:
    server = await digest_server()
    client = new_client(auths={"127.0.0.1": ("aladdin", "open sesame")})
    response = await client.get(server.url("/basic"))
    assert response.status_code == 200
    await response.discard()


async def test_authorization_is_dropped_on_a_cross_origin_redirect(
    digest_server: StartServer, client: HTTPClient
) -> None:
    origin = await digest_server()
    elsewhere = await digest_server()
    target = elsewhere.url("/open/landed")
    response = await client.get(
        origin.url(f"/open/redirect?to={target}"),
        auth=BasicAuth("aladdin", "open sesame"),
        follow=True,
    )
    assert response.status_code == 200
    assert (await response.json())["path"] == "/open/landed"
    assert authorization(origin, 0) == [BasicAuth("aladdin", "open sesame").header_value]
    assert [seen.path for seen in elsewhere.seen] == ["/open/landed"]
    assert authorization(elsewhere) == []


async def test_authorization_is_kept_on_a_same_origin_redirect(
    digest_server: StartServer, client: HTTPClient
) -> None:
    server = await digest_server()
    auth = BasicAuth("aladdin", "open sesame")
    response = await client.get(
        server.url(f"/open/redirect?to={server.url('/basic')}"), auth=auth, follow=True
    )
    assert response.status_code == 200
    await response.discard()
    assert [seen.path for seen in server.seen][-1] == "/basic"
    assert authorization(server) == [auth.header_value]


async def test_client_digest_is_not_sent_to_another_origin_after_redirect(
    digest_server: StartServer, new_client: Callable[..., HTTPClient]
) -> None:
    origin = await digest_server()
    elsewhere = await digest_server()
    client = new_client(auth=DigestAuth(*MUFASA))
    warm = await client.get(origin.url("/warm"))  # so the next request is pre-authenticated
    await warm.discard()
    response = await client.get(
        origin.url(f"/open/redirect?to={elsewhere.url('/open/landed')}"), follow=True
    )
    assert response.status_code == 200
    await response.discard()
    assert origin.seen[-1].header("Authorization")  # pre-authenticated at the origin
    assert authorization(elsewhere) == []


async def test_an_unanswerable_challenge_raises_and_the_client_goes_on(
    digest_server: StartServer, new_client: Callable[..., HTTPClient]
) -> None:
    refusing = await digest_server(algorithms=("SHA-999",))
    client = new_client(auth=DigestAuth(*MUFASA))
    with pytest.raises(AuthError, match="unsupported Digest algorithm"):
        await client.get(refusing.url("/x"))
    after = await client.get(refusing.url("/open/after"))
    assert after.status_code == 200
    assert (await after.json())["path"] == "/open/after"


async def test_digest_after_a_same_origin_redirect(
    digest_server: StartServer, new_client: Callable[..., HTTPClient]
) -> None:
    server = await digest_server()
    client = new_client(auth=DigestAuth(*MUFASA))
    response = await client.get(
        server.url(f"/open/redirect?to={server.url('/secret')}"), follow=True
    )
    await response.discard()
    assert response.status_code == 200
