"""Internationalised host names on the wire (``aiosonic._idna``): IDNA 2008 with UTS #46
mapping, as browsers and curl send them, never IDNA 2003 (``faß.de`` is ``xn--fa-hia.de``,
not ``fass.de``). Every name resolves to 127.0.0.1 through the test's own resolver, which
records what it was asked: nothing leaves loopback."""

from __future__ import annotations

import socket
from collections.abc import Callable
from typing import Any

import pytest
from support.app import AppServer, header_one, loads
from support.raw import RawRequest, RawServer, simple_response

import aiosonic
from aiosonic.exceptions import InvalidRequest


class LoopbackResolver:
    """Answers 127.0.0.1 for any name, and records the names asked."""

    def __init__(self) -> None:
        self.names: list[str] = []

    async def resolve(
        self, host: str, port: int = 0, family: int = socket.AF_INET
    ) -> list[dict[str, Any]]:
        self.names.append(host)
        return [{"hostname": host, "host": "127.0.0.1", "port": port, "family": socket.AF_INET,
                 "proto": 0, "flags": socket.AI_NUMERICHOST}]

    async def close(self) -> None:
        pass


@pytest.fixture
def resolver() -> LoopbackResolver:
    return LoopbackResolver()



async def ok(request: RawRequest) -> bytes:
    return simple_response(b"ok")


@pytest.mark.parametrize(
    ("written", "wire"),
    [
        ("faß.de", "xn--fa-hia.de"),
        ("ÖBB.at", "xn--bb-eka.at"),
        ("\uff26\uff21ß\uff0e\uff24\uff25", "xn--fa-hia.de"),  # full-width FAß.DE
        ("www.bücher.example", "www.xn--bcher-kva.example"),
        ("xn--i-7iq.ws", "xn--i-7iq.ws"),  # an A-label goes as it is written
        ("Example.COM", "example.com"),
    ],
)
async def test_the_host_header_and_the_name_resolved_are_the_idna_2008_form(
    raw_server: Callable[..., Any],
    new_client: Callable[..., aiosonic.HTTPClient],
    resolver: LoopbackResolver,
    written: str,
    wire: str,
) -> None:
    srv: RawServer = await raw_server(respond=ok)
    client = new_client({"resolver": resolver})
    response = await client.get(f"http://{written}:{srv.port}/path")
    assert response.status_code == 200
    assert await response.content() == b"ok"
    assert [r.header("Host") for r in srv.requests] == [f"{wire}:{srv.port}"]
    assert resolver.names == [wire]


async def test_the_u_label_and_the_a_label_share_one_connection(
    raw_server: Callable[..., Any],
    new_client: Callable[..., aiosonic.HTTPClient],
    resolver: LoopbackResolver,
) -> None:
    srv: RawServer = await raw_server(respond=ok)
    client = new_client({"resolver": resolver})
    for host in ("faß.de", "xn--fa-hia.de", "FAß.DE"):
        response = await client.get(f"http://{host}:{srv.port}/")
        assert await response.content() == b"ok"
    assert srv.connections == 1  # one origin, one pool key
    assert len(srv.requests) == 3


@pytest.mark.parametrize(
    "host",
    [
        "😀.example",  # emoji are not IDNA 2008
        "ü" * 70 + ".example",  # a label over 63 octets
        "a..bü.example",  # an empty label
        "-bü.example",  # a leading hyphen
        "\u200dbü.example",  # a joiner out of context
    ],
)
async def test_a_name_idna_2008_refuses_fails_before_any_lookup(
    new_client: Callable[..., aiosonic.HTTPClient], resolver: LoopbackResolver, host: str
) -> None:
    client = new_client({"resolver": resolver})
    with pytest.raises(InvalidRequest, match="URL host is not a valid name") as raised:
        await client.get(f"http://user:secret@{host}:8080/")
    assert "secret" not in str(raised.value)
    assert resolver.names == []


async def test_https_sends_the_a_label_as_sni_and_verifies_it(
    tls_web: Callable[..., Any],
    new_client: Callable[..., aiosonic.HTTPClient],
    resolver: LoopbackResolver,
    trusting_context: Any,
) -> None:
    srv: AppServer = await tls_web("xn--fa-hia.de")
    client = new_client({"resolver": resolver})
    response = await client.get(f"https://faß.de:{srv.port}/echo", ssl=trusting_context)
    doc = loads(await response.content())
    assert header_one(doc, "Host") == f"xn--fa-hia.de:{srv.port}"
    assert srv.sni == ["xn--fa-hia.de"]


async def test_a_no_proxy_entry_in_u_labels_bypasses_the_proxy(
    raw_server: Callable[..., Any],
    new_client: Callable[..., aiosonic.HTTPClient],
    resolver: LoopbackResolver,
    clean_env: pytest.MonkeyPatch,
) -> None:
    origin: RawServer = await raw_server(respond=ok)
    # A "proxy" that answers by itself: it never forwards, so no name leaves loopback.
    proxy: RawServer = await raw_server(respond=ok)
    clean_env.setenv("HTTP_PROXY", f"http://127.0.0.1:{proxy.port}")
    clean_env.setenv("NO_PROXY", "other.example, FAß.de")
    client = new_client({"resolver": resolver}, trust_env=True)
    for host in ("faß.de", "www.faß.de", "xn--fa-hia.de"):
        response = await client.get(f"http://{host}:{origin.port}/")
        assert await response.content() == b"ok"
    assert proxy.requests == []
    assert len(origin.requests) == 3
    # a host the entry does not cover still goes through the proxy, by its A-label
    response = await client.get(f"http://bücher.example:{origin.port}/")
    assert await response.content() == b"ok"
    assert [r.target for r in proxy.requests] == [
        f"http://xn--bcher-kva.example:{origin.port}/"
    ]


@pytest.mark.parametrize("encoding", ["utf-8", "latin-1"])
async def test_a_cookie_for_a_u_label_domain_is_sent_back(
    raw_server: Callable[..., Any],
    new_client: Callable[..., aiosonic.HTTPClient],
    resolver: LoopbackResolver,
    encoding: str,
) -> None:
    async def respond(request: RawRequest) -> bytes:
        if request.target == "/set":
            head = "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n"
            head += "Set-Cookie: lang=de; Domain=Faß.de; Path=/\r\n\r\n"
            return head.encode(encoding)
        return simple_response(b"ok")

    srv: RawServer = await raw_server(respond=respond)
    client = new_client({"resolver": resolver}, handle_cookies=True)
    await (await client.get(f"http://www.faß.de:{srv.port}/set")).content()
    for host in ("faß.de", "xn--fa-hia.de", "www.faß.de", "fass.de"):
        await (await client.get(f"http://{host}:{srv.port}/{host}")).content()
    sent = {r.target: r.header("Cookie") for r in srv.requests if r.target != "/set"}
    assert sent == {
        "/faß.de".replace("ß", "%C3%9F"): "lang=de",
        "/xn--fa-hia.de": "lang=de",
        "/www.faß.de".replace("ß", "%C3%9F"): "lang=de",
        "/fass.de": None,  # IDNA 2003's name for it is another host
    }
