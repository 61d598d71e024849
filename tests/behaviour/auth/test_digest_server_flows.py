"""Auth flows against a real aiohttp server on loopback that checks the credentials itself,
driven over the public client by ``driver.drive`` (what the client wiring will do)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from support.auth_driver import drive
from support.digest_server import digest_hex, parse_credentials

from aiosonic import HTTPClient
from aiosonic.auth import AuthError, BasicAuth, BearerAuth, DigestAuth

from .conftest import StartServer

MUFASA = ("Mufasa", "Circle of Life")


@pytest.mark.parametrize("algorithm", ["MD5", "MD5-sess", "SHA-256", "SHA-256-sess", "SHA-512-256"])
async def test_digest_succeeds_after_one_challenge(
    digest_server: StartServer, client: HTTPClient, algorithm: str
) -> None:
    server = await digest_server(algorithms=(algorithm,))
    response = await drive(client, DigestAuth(*MUFASA), server.url("/private?x=1"))
    assert response.status_code == 200
    assert await response.json() == {"user": "Mufasa", "path": "/private?x=1", "body_size": 0}
    assert server.statuses == [401, 200]
    assert server.hits[0].authorization is None
    assert server.hits[1].nc == 1
    sent = parse_credentials(server.hits[1].authorization or "")
    assert sent is not None and sent["algorithm"] == algorithm and sent["qop"] == "auth"


async def test_wrong_password_returns_the_second_401(
    digest_server: StartServer, client: HTTPClient
) -> None:
    server = await digest_server()
    response = await drive(client, DigestAuth("Mufasa", "wrong"), server.url("/private"))
    assert response.status_code == 401
    assert await response.text() == "authenticate"
    assert server.statuses == [401, 401]


async def test_unknown_user_returns_401(digest_server: StartServer, client: HTTPClient) -> None:
    server = await digest_server()
    response = await drive(client, DigestAuth("Scar", "Circle of Life"), server.url("/"))
    await response.discard()
    assert response.status_code == 401
    assert server.statuses == [401, 401]


async def test_second_request_is_pre_authenticated(
    digest_server: StartServer, client: HTTPClient
) -> None:
    server = await digest_server(algorithms=("SHA-256",))
    auth = DigestAuth(*MUFASA)
    for path in ("/a", "/b", "/c?q=1"):
        response = await drive(client, auth, server.url(path))
        assert response.status_code == 200
        assert (await response.json())["path"] == path
    # one 401 round trip for the first request only; the nonce count goes up by one
    assert server.statuses == [401, 200, 200, 200]
    assert [hit.nc for hit in server.hits[1:]] == [1, 2, 3]
    assert len({hit.nonce for hit in server.hits[1:]}) == 1


async def test_stale_nonce_is_retried_transparently(
    digest_server: StartServer, client: HTTPClient
) -> None:
    server = await digest_server()
    auth = DigestAuth(*MUFASA)
    first = await drive(client, auth, server.url("/one"))
    await first.discard()
    server.expire_nonces()
    second = await drive(client, auth, server.url("/two"))
    assert second.status_code == 200
    assert (await second.json())["path"] == "/two"
    assert server.statuses == [401, 200, 401, 200]
    assert server.hits[2].stale
    # the new nonce starts counting again at 1
    assert server.hits[3].nonce != server.hits[1].nonce
    assert server.hits[3].nc == 1


async def test_a_server_that_is_always_stale_does_not_loop(
    digest_server: StartServer, client: HTTPClient
) -> None:
    server = await digest_server(always_stale=True)
    response = await drive(client, DigestAuth(*MUFASA), server.url("/"))
    await response.discard()
    assert response.status_code == 401
    # bare, answered, one stale retry: then the 401 goes to the caller
    assert server.statuses == [401, 401, 401]
    assert [hit.stale for hit in server.hits] == [False, True, True]


async def test_concurrent_requests_count_distinct_nonce_counts(
    digest_server: StartServer, client: HTTPClient
) -> None:
    server = await digest_server()
    auth = DigestAuth(*MUFASA)
    first = await drive(client, auth, server.url("/warm"))
    await first.discard()

    async def one(index: int) -> int:
        response = await drive(client, auth, server.url(f"/c{index}"))
        await response.discard()
        return response.status_code

    assert await asyncio.gather(*(one(index) for index in range(12))) == [200] * 12
    # the server refuses a repeated count, so every one of them was distinct
    assert server.statuses == [401] + [200] * 13
    assert sorted(hit.nc or 0 for hit in server.hits[1:]) == list(range(1, 14))


async def test_userhash_and_sha512_256(digest_server: StartServer, client: HTTPClient) -> None:
    server = await digest_server(algorithms=("SHA-512-256",), userhash=True)
    response = await drive(client, DigestAuth(*MUFASA), server.url("/hashed"))
    assert response.status_code == 200
    assert (await response.json())["user"] == "Mufasa"
    sent = parse_credentials(server.hits[1].authorization or "")
    assert sent is not None and sent["userhash"] == "true"
    assert sent["username"] == digest_hex("SHA-512-256", f"Mufasa:{server.realm}")


async def test_non_ascii_user_name(digest_server: StartServer, client: HTTPClient) -> None:
    server = await digest_server(users={"J\u00e4s\u00f8n Doe": "Secret, or not?"})
    response = await drive(
        client, DigestAuth("J\u00e4s\u00f8n Doe", "Secret, or not?"), server.url()
    )
    assert response.status_code == 200
    assert (await response.json())["user"] == "J\u00e4s\u00f8n Doe"
    assert "username*=UTF-8''J%C3%A4s%C3%B8n%20Doe" in (server.hits[1].authorization or "")


async def test_rfc2069_mode_without_qop(digest_server: StartServer, client: HTTPClient) -> None:
    server = await digest_server(qop=None)
    auth = DigestAuth(*MUFASA)
    for path in ("/legacy", "/legacy2"):
        response = await drive(client, auth, server.url(path))
        assert response.status_code == 200
        await response.discard()
    assert server.statuses == [401, 200, 200]
    sent = parse_credentials(server.hits[1].authorization or "")
    assert sent is not None and not {"qop", "nc", "cnonce"} & set(sent)


@pytest.mark.parametrize("one_header", [False, True])
async def test_first_supported_challenge_is_used(
    digest_server: StartServer, client: HTTPClient, one_header: bool
) -> None:
    server = await digest_server(
        algorithms=("SHA-256", "MD5"),
        qop="auth-int, auth",
        one_header=one_header,
        extra_challenges=('Basic realm="other, with comma"', "Negotiate"),
    )
    response = await drive(client, DigestAuth(*MUFASA), server.url("/multi"))
    assert response.status_code == 200
    await response.discard()
    sent = parse_credentials(server.hits[1].authorization or "")
    assert sent is not None and sent["algorithm"] == "SHA-256" and sent["qop"] == "auth"


async def test_unsupported_algorithm_raises_auth_error(
    digest_server: StartServer, client: HTTPClient
) -> None:
    server = await digest_server(algorithms=("SHA-999",))
    with pytest.raises(AuthError, match="unsupported Digest algorithm 'SHA-999'"):
        await drive(client, DigestAuth(*MUFASA), server.url("/"))


async def test_next_nonce_is_followed(digest_server: StartServer, client: HTTPClient) -> None:
    server = await digest_server(next_nonce=True)
    auth = DigestAuth(*MUFASA)
    for path in ("/n1", "/n2", "/n3"):
        response = await drive(client, auth, server.url(path))
        assert response.status_code == 200
        await response.discard()
    assert server.statuses == [401, 200, 200, 200]
    nonces = [hit.nonce for hit in server.hits[1:]]
    assert len(set(nonces)) == 3  # each request used the nonce the previous answer named
    assert [hit.nc for hit in server.hits[1:]] == [1, 1, 1]


async def test_post_body_is_replayed_on_the_retry(
    digest_server: StartServer, client: HTTPClient
) -> None:
    server = await digest_server()
    response = await drive(client, DigestAuth(*MUFASA), server.url("/upload"), "POST", b"x" * 5000)
    assert response.status_code == 200
    assert (await response.json())["body_size"] == 5000


@pytest.mark.parametrize(
    ("auth", "status"),
    [
        (BasicAuth("aladdin", "open sesame"), 200),
        (BasicAuth("aladdin", "open sesame", encoding="utf-8"), 200),
        (BasicAuth("aladdin", "wrong"), 401),
    ],
)
async def test_basic_against_the_server(
    digest_server: StartServer, client: HTTPClient, auth: BasicAuth, status: int
) -> None:
    server = await digest_server()
    response = await drive(client, auth, server.url("/basic"))
    await response.discard()
    assert response.status_code == status
    assert server.seen[-1].header("Authorization") == [auth.header_value]
    assert len(server.seen) == 1  # Basic never retries


async def test_basic_non_ascii_utf8(digest_server: StartServer, client: HTTPClient) -> None:
    server = await digest_server(basic_user="j\u00fcrgen", basic_password="p\u00e4ss \u20ac")
    ok = await drive(
        client, BasicAuth("j\u00fcrgen", "p\u00e4ss \u20ac", "utf-8"), server.url("/basic")
    )
    assert ok.status_code == 200
    assert await ok.json() == {"user": "j\u00fcrgen"}


@pytest.mark.parametrize(("token", "status"), [("t0ken", 200), ("other", 401)])
async def test_bearer_against_the_server(
    digest_server: StartServer, client: HTTPClient, token: str, status: int
) -> None:
    server = await digest_server()
    response: Any = await drive(client, BearerAuth(token), server.url("/bearer"))
    await response.discard()
    assert response.status_code == status
    assert server.seen[-1].header("Authorization") == [f"Bearer {token}"]
