"""``trust_env=True``: proxies from ``HTTP_PROXY``/``NO_PROXY`` (through a real recording
forward proxy on loopback) and credentials from a ``.netrc`` named by ``NETRC``; without
``trust_env`` the environment is ignored."""

from __future__ import annotations

import base64
from collections.abc import Callable
from pathlib import Path

import pytest
from support.app import AppServer, header_values, loads
from support.raw import refused_port
from support.scripted import RecordingProxy

from aiosonic import HTTPClient


def basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


def write_netrc(folder: Path, text: str) -> Path:
    path = folder / "netrc"
    path.write_text(text)
    path.chmod(0o600)
    return path


async def test_http_proxy_from_the_environment_is_used(
    server: AppServer,
    forward_proxy: tuple[RecordingProxy, str],
    clean_env: pytest.MonkeyPatch,
    new_client: Callable[..., HTTPClient],
) -> None:
    proxy, address = forward_proxy
    clean_env.setenv("HTTP_PROXY", address)
    client = new_client(trust_env=True)
    response = await client.get(server.url("/echo?via=proxy"))
    doc = loads(await response.content())
    assert doc["query"] == "via=proxy"
    assert [r.target for r in proxy.requests] == [server.url("/echo?via=proxy")]
    assert proxy.requests[0].header("Host") == f"127.0.0.1:{server.port}"


async def test_no_proxy_covering_the_host_bypasses_the_proxy(
    server: AppServer,
    forward_proxy: tuple[RecordingProxy, str],
    clean_env: pytest.MonkeyPatch,
    new_client: Callable[..., HTTPClient],
) -> None:
    proxy, address = forward_proxy
    clean_env.setenv("HTTP_PROXY", address)
    clean_env.setenv("NO_PROXY", "example.com, 127.0.0.0/8")
    client = new_client(trust_env=True)
    response = await client.get(server.url("/echo"))
    assert loads(await response.content())["path"] == "/echo"
    assert proxy.requests == []
    assert server.state.requests == 1


async def test_no_proxy_for_another_host_keeps_the_proxy(
    server: AppServer,
    forward_proxy: tuple[RecordingProxy, str],
    clean_env: pytest.MonkeyPatch,
    new_client: Callable[..., HTTPClient],
) -> None:
    proxy, address = forward_proxy
    clean_env.setenv("HTTP_PROXY", address)
    clean_env.setenv("NO_PROXY", "localhost,127.0.0.2")
    client = new_client(trust_env=True)
    await (await client.get(server.url("/echo"))).content()
    assert len(proxy.requests) == 1


async def test_environment_ignored_without_trust_env(
    server: AppServer,
    clean_env: pytest.MonkeyPatch,
    tmp_path: Path,
    new_client: Callable[..., HTTPClient],
) -> None:
    dead = refused_port()  # a proxy nobody could reach: used, it would fail the request
    try:
        clean_env.setenv("HTTP_PROXY", f"http://127.0.0.1:{dead.getsockname()[1]}")
        clean_env.setenv("ALL_PROXY", f"http://127.0.0.1:{dead.getsockname()[1]}")
        clean_env.setenv("NETRC", str(write_netrc(
            tmp_path, "machine 127.0.0.1 login alice password secret\n"
        )))
        client = new_client()
        response = await client.get(server.url("/echo"))
        doc = loads(await response.content())
        assert header_values(doc, "Authorization") == []
    finally:
        dead.close()


async def test_netrc_credentials_sent_as_basic_auth(
    server: AppServer,
    clean_env: pytest.MonkeyPatch,
    tmp_path: Path,
    new_client: Callable[..., HTTPClient],
) -> None:
    clean_env.setenv("NETRC", str(write_netrc(
        tmp_path,
        "machine other.example login bob password nope\n"
        "machine 127.0.0.1 login alice password s3cret\n",
    )))
    client = new_client(trust_env=True)
    doc = loads(await (await client.get(server.url("/echo"))).content())
    assert header_values(doc, "Authorization") == [basic("alice", "s3cret")]


async def test_netrc_gives_way_to_explicit_credentials(
    server: AppServer,
    clean_env: pytest.MonkeyPatch,
    tmp_path: Path,
    new_client: Callable[..., HTTPClient],
) -> None:
    clean_env.setenv("NETRC", str(write_netrc(
        tmp_path, "machine 127.0.0.1 login alice password s3cret\n"
    )))
    client = new_client(trust_env=True)
    doc = loads(await (await client.get(server.url("/echo"), auth=("carol", "pw"))).content())
    assert header_values(doc, "Authorization") == [basic("carol", "pw")]
    doc = loads(await (await client.get(
        server.url("/echo"), headers={"Authorization": "Bearer tok"}
    )).content())
    assert header_values(doc, "Authorization") == ["Bearer tok"]


async def test_netrc_without_an_entry_for_the_host_sends_nothing(
    server: AppServer,
    clean_env: pytest.MonkeyPatch,
    tmp_path: Path,
    new_client: Callable[..., HTTPClient],
) -> None:
    clean_env.setenv("NETRC", str(write_netrc(
        tmp_path, "machine elsewhere.example login alice password s3cret\n"
    )))
    client = new_client(trust_env=True)
    doc = loads(await (await client.get(server.url("/echo"))).content())
    assert header_values(doc, "Authorization") == []


async def test_proxy_and_netrc_together(
    server: AppServer,
    forward_proxy: tuple[RecordingProxy, str],
    clean_env: pytest.MonkeyPatch,
    tmp_path: Path,
    new_client: Callable[..., HTTPClient],
) -> None:
    proxy, address = forward_proxy
    clean_env.setenv("HTTP_PROXY", address)
    clean_env.setenv("NETRC", str(write_netrc(
        tmp_path, "machine 127.0.0.1 login alice password s3cret\n"
    )))
    client = new_client(trust_env=True)
    doc = loads(await (await client.get(server.url("/echo"))).content())
    assert header_values(doc, "Authorization") == [basic("alice", "s3cret")]
    assert proxy.requests[0].header("Authorization") == basic("alice", "s3cret")


async def test_proxy_credentials_from_the_environment(
    server: AppServer,
    forward_proxy: tuple[RecordingProxy, str],
    clean_env: pytest.MonkeyPatch,
    new_client: Callable[..., HTTPClient],
) -> None:
    proxy, address = forward_proxy
    clean_env.setenv("HTTP_PROXY", address.replace("http://", "http://pu:pp@"))
    client = new_client(trust_env=True)
    doc = loads(await (await client.get(server.url("/echo"))).content())
    assert proxy.requests[0].header("Proxy-Authorization") == basic("pu", "pp")
    # The proxy's credentials are for the proxy only.
    assert header_values(doc, "Proxy-Authorization") == []


async def test_all_proxy_is_the_fallback_and_https_proxy_is_not_used_for_http(
    server: AppServer,
    forward_proxy: tuple[RecordingProxy, str],
    clean_env: pytest.MonkeyPatch,
    new_client: Callable[..., HTTPClient],
) -> None:
    proxy, address = forward_proxy
    dead = refused_port()
    try:
        clean_env.setenv("HTTPS_PROXY", f"http://127.0.0.1:{dead.getsockname()[1]}")
        client = new_client(trust_env=True)
        await (await client.get(server.url("/echo"))).content()
        assert proxy.requests == []  # direct: HTTPS_PROXY is for https:// URLs
        clean_env.setenv("ALL_PROXY", address)
        other = new_client(trust_env=True)
        await (await other.get(server.url("/echo?all=1"))).content()
        assert [r.target for r in proxy.requests] == [server.url("/echo?all=1")]
    finally:
        dead.close()
