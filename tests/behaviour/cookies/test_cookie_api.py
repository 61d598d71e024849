"""What users of every peer have: ``cookies=`` on the client and per request, a jar to
inspect and fill, kept in a ``cookies.txt`` file (the format curl and wget read)."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from support.app import AppServer, header_one, loads

import aiosonic
from aiosonic._url import parse_url


async def cookie_sent(client: aiosonic.HTTPClient, url: str, **kwargs: object) -> str | None:
    response = await client.get(url, **kwargs)  # type: ignore[arg-type]
    return header_one(loads(await response.content()), "Cookie")


async def test_client_cookies_go_to_every_host(server: AppServer, server2: AppServer) -> None:
    async with aiosonic.HTTPClient(cookies={"theme": "dark", "lang": "en"}) as client:
        assert await cookie_sent(client, server.url("/echo")) == "theme=dark; lang=en"
        assert await cookie_sent(client, server2.url("/echo")) == "theme=dark; lang=en"
        assert client.cookie_jar is not None and client.cookie_jar.get("theme") == "dark"


async def test_request_cookies_are_added_for_that_request_only(server: AppServer) -> None:
    async with aiosonic.HTTPClient(cookies={"theme": "dark"}) as client:
        assert await cookie_sent(client, server.url("/echo"), cookies={"once": "1"}) == (
            "theme=dark; once=1"
        )
        assert await cookie_sent(client, server.url("/echo")) == "theme=dark"
    async with aiosonic.HTTPClient() as plain:  # no jar at all: still sent
        assert await cookie_sent(plain, server.url("/echo"), cookies={"a": "b"}) == "a=b"
        with pytest.raises(aiosonic.exceptions.InvalidRequest, match="invalid cookie"):
            await plain.get(server.url("/echo"), cookies={"a": "b\r\nX: y"})


async def test_a_jar_is_shared_inspected_saved_and_loaded(
    server: AppServer, tmp_path: Path
) -> None:
    jar = aiosonic.CookieJar()
    async with aiosonic.HTTPClient(cookies=jar) as client:
        set_it = "/set-cookie?cookie=session%3Dabc%3B+Max-Age%3D3600%3B+Path%3D%2F"
        await client.get(server.url(set_it))
        assert await cookie_sent(client, server.url("/echo")) == "session=abc"
    assert client.cookie_jar is jar
    (cookie,) = list(jar)
    assert (cookie.name, cookie.value, cookie.domain) == ("session", "abc", "127.0.0.1")
    assert cookie.expires is not None and cookie.expires > time.time() + 3000
    path = tmp_path / "cookies.txt"
    jar.save(path)
    text = path.read_text()
    assert text.startswith("# Netscape HTTP Cookie File")
    assert f"127.0.0.1\tFALSE\t/\tFALSE\t{int(cookie.expires)}\tsession\tabc" in text
    again = aiosonic.CookieJar()
    again.load(path)
    async with aiosonic.HTTPClient(cookies=again) as client:
        assert await cookie_sent(client, server.url("/echo")) == "session=abc"


def test_a_file_curl_wrote_is_read(tmp_path: Path) -> None:
    later = int(time.time()) + 3600
    path = tmp_path / "cookies.txt"
    path.write_text(
        "# Netscape HTTP Cookie File\n"
        "# https://curl.se/docs/http-cookies.html\n\n"
        f".example.com\tTRUE\t/\tTRUE\t{later}\tsid\t1\n"
        f"#HttpOnly_www.example.com\tFALSE\t/app\tFALSE\t{later}\ttoken\t2\n"
        "www.example.com\tFALSE\t/\tFALSE\t0\tsession\t3\n"
        "www.example.com\tFALSE\t/\tFALSE\t1000\told\t4\n"
    )
    jar = aiosonic.CookieJar()
    jar.load(path)
    assert sorted(c.name for c in jar) == ["session", "sid", "token"]  # "old" expired
    header = jar.header_for(parse_url("https://www.example.com/app/x"))
    assert header == "token=2; sid=1; session=3"
    assert jar.header_for(parse_url("http://shop.example.com/")) is None  # sid is Secure
    path.write_text("not\ta cookie line\n")
    with pytest.raises(ValueError, match=r"not a cookies\.txt line"):
        aiosonic.CookieJar().load(path)
