"""The scenarios: what each one measures (this module) and how each family runs (submodules).

This module owns the catalogue: ``Scenario`` (which clients a table compares, over which
protocol, described how), ``SCENARIOS`` in the order a full run takes them, ``Target`` (the
server the clients of one table are pointed at) and the levels of the ``scale`` sweep.

The families, each a module with the same ``run(scenario, settings, prepared)``
entry point returning the scenario's exit status:

- ``protocols``: ``realistic``, ``h1`` and ``h2``, one server and one table each.
- ``sweeps``: ``scale`` and ``newconn``, one fresh server and table per level.
- ``transfers``: ``download``, ``upload`` and ``import``, handed to ``bench.transfer``.

Shared by the first two: ``probes`` (checking a server answers before it is measured) and
``rounds`` (one client process, and the interleaved rounds of them).

This module must never import its submodules, start anything or print: the settings and
the reporting import the catalogue, and the submodules import those.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from bench.clients import CLIENTS, PROJECT, UPSTREAM_REQUIREMENT, VENV_PEERS


@dataclass(frozen=True)
class Scenario:
    """What one table measures: which clients, over which protocol."""

    key: str
    title: str
    clients: tuple[str, ...]
    #: Clients told to offer HTTP/2 (``--http2``); every response they get must be HTTP/2.
    http2_clients: frozenset[str] = frozenset()
    #: Client descriptions where they differ from ``Client.label``.
    labels: tuple[tuple[str, str], ...] = ()

    def label(self, client: str) -> str:
        return dict(self.labels).get(client, CLIENTS[client].label)

    def expected_version(self, client: str) -> str:
        return "2" if client in self.http2_clients else "1.1"


#: The client libraries of the first benchmark (before the Rust and libcurl peers joined):
#: the scenarios whose runners only they implement (newconn, upload).
LIBRARIES = (PROJECT, "upstream", "aiohttp", "httpx")
#: Clients that measure request rates only (no transfer runner of their own).
REQUEST_RATE_ONLY = frozenset({"raw_await"})
#: Every client library, the peers in their own venvs included.
ALL_LIBRARIES = (*LIBRARIES, *VENV_PEERS)

SCENARIOS: dict[str, Scenario] = {
    s.key: s
    for s in (
        Scenario(
            "realistic",
            "GET with headers and query, alternating with a JSON POST (HTTP/1.1 keep-alive)",
            ALL_LIBRARIES,
            labels=(
                (
                    PROJECT,
                    "this repository's aiosonic, TCPConnector(pool_size=N): get(url, "
                    "headers=H, params=Q) / post(url, json=J, headers=H), await resp.content()",
                ),
                (
                    "upstream",
                    f"released {UPSTREAM_REQUIREMENT}, PoolConfig(size=N): the same calls",
                ),
                (
                    "aiohttp",
                    "aiohttp, TCPConnector(limit=N): session.get(url, params=Q, headers=H) / "
                    "session.post(url, json=J, headers=H), await resp.read()",
                ),
                (
                    "httpx",
                    "httpx, Limits(max_connections=N): client.get(url, params=Q, headers=H) / "
                    "client.post(url, json=J, headers=H), resp.content",
                ),
                (
                    "pyreqwest",
                    "pyreqwest, max_connections(N): client.get(url).query(Q).headers(H) / "
                    "client.post(url).headers(H).body_json(J), .build().send(), await "
                    "resp.bytes()",
                ),
                (
                    "rnet",
                    "rnet, pool_max_size=N: client.get(url, query=Q, headers=H) / "
                    "client.post(url, json=J, headers=H), await resp.bytes()",
                ),
                (
                    "curl_cffi",
                    "curl_cffi, AsyncSession(max_clients=N): session.get(url, params=Q, "
                    "headers=H) / session.post(url, json=J, headers=H), resp.content",
                ),
                (
                    "niquests",
                    "niquests, AsyncSession(pool_maxsize=N): session.get(url, params=Q, "
                    "headers=H) / session.post(url, json=J, headers=H), resp.content",
                ),
            ),
        ),
        Scenario("h1", "HTTP/1.1 keep-alive", tuple(CLIENTS)),
        Scenario(
            "h2",
            "HTTP/2 over TLS",
            ALL_LIBRARIES,
            http2_clients=frozenset({PROJECT, "upstream", "httpx", *VENV_PEERS}),
            labels=(
                (
                    PROJECT,
                    "this repository's aiosonic, HTTPClient(TCPConnector(pool_size=N), "
                    "http2=True), get(url, ssl=ctx)",
                ),
                (
                    "upstream",
                    f"released {UPSTREAM_REQUIREMENT} (HTTP/2 experimental), "
                    "TCPConnector(http2=True) + HTTPClient(http2=True), get(url, ssl=ctx)",
                ),
                (
                    "aiohttp",
                    "aiohttp ClientSession, TCPConnector(limit=N, ssl=ctx): HTTP/1.1 over TLS, "
                    "N connections (aiohttp has no HTTP/2)",
                ),
                ("httpx", "httpx AsyncClient(http2=True, verify=ctx), Limits(max_connections=N)"),
                (
                    "pyreqwest",
                    "pyreqwest ClientBuilder().http2(True).add_root_certificate_pem(CA)"
                    ".max_connections(N): HTTP/2 by ALPN",
                ),
                (
                    "rnet",
                    "rnet Client(verify=CA file, pool_max_size=N): HTTP/2 by ALPN",
                ),
                (
                    "curl_cffi",
                    "curl_cffi AsyncSession(max_clients=N, verify=CA file, "
                    "http_version=V2TLS): libcurl multiplexes the streams",
                ),
                (
                    "niquests",
                    "niquests AsyncSession(pool_maxsize=N, verify=CA file, disable_http3=True, "
                    "revocation_configuration=None): HTTP/2 by ALPN",
                ),
            ),
        ),
        Scenario(
            "scale",
            "keep-alive GETs at concurrency 1, 32, 256, 1024",
            tuple(CLIENTS),
            labels=(
                (PROJECT, "this repository's aiosonic, TCPConnector(pool_size=N)"),
                ("upstream", f"released {UPSTREAM_REQUIREMENT}, PoolConfig(size=N)"),
            ),
        ),
        Scenario(
            "newconn",
            "a new connection per request (plain and TLS)",
            LIBRARIES,
            labels=(
                (PROJECT, "this repository's aiosonic, TCPConnector(conn_max_requests=1)"),
                (
                    "upstream",
                    f"released {UPSTREAM_REQUIREMENT}, PoolConfig(size=N, max_conn_requests=1)",
                ),
                ("aiohttp", "aiohttp ClientSession, TCPConnector(limit=N, force_close=True)"),
                ("httpx", "httpx AsyncClient, Limits(max_connections=N, max_keepalive=0)"),
            ),
        ),
        Scenario(
            "download",
            "one 100 MiB body, streamed",
            tuple(c for c in CLIENTS if c not in REQUEST_RATE_ONLY),
            labels=(
                (PROJECT, "this repository's aiosonic: get(url), response.read_chunks()"),
                (
                    "upstream",
                    f"released {UPSTREAM_REQUIREMENT}: request(url, stream=True), read_chunks()",
                ),
                ("aiohttp", "aiohttp: session.get(url), resp.content.iter_any()"),
                ("httpx", "httpx: client.stream('GET', url), resp.aiter_raw()"),
                (
                    "pyreqwest",
                    "pyreqwest: client.get(url).build_streamed(), body_reader.read_chunk()",
                ),
                ("rnet", "rnet: await client.get(url), async for chunk in resp.stream()"),
                ("curl_cffi", "curl_cffi: session.get(url, stream=True), resp.aiter_content()"),
                (
                    "niquests",
                    "niquests: session.get(url, stream=True), resp.iter_content(64 KiB)",
                ),
                (
                    "raw",
                    "asyncio.BufferedProtocol reading into one reused 256 KiB bytearray, parsing "
                    "only the head's Content-Length: the ceiling",
                ),
            ),
        ),
        Scenario(
            "upload",
            "a 100 MiB POST, from bytes and from an async iterator",
            LIBRARIES,
            labels=(
                (PROJECT, "this repository's aiosonic: post(url, data=...)"),
                ("upstream", f"released {UPSTREAM_REQUIREMENT}: post(url, data=...)"),
                ("aiohttp", "aiohttp: session.post(url, data=...)"),
                ("httpx", "httpx: client.post(url, content=...)"),
            ),
        ),
        Scenario(
            "import",
            "cold import time",
            ALL_LIBRARIES,
            labels=(
                (PROJECT, "import aiosonic (this repository)"),
                ("upstream", f"import aiosonic ({UPSTREAM_REQUIREMENT}, its venv)"),
                ("aiohttp", "import aiohttp"),
                ("httpx", "import httpx"),
                *((name, f"import {name} (its venv)") for name in VENV_PEERS),
            ),
        ),
    )
}
#: Concurrency levels of the ``scale`` scenario; httpx only runs the first two (see below).
SCALE_LEVELS = (1, 32, 256, 1024)
#: httpx manages a few hundred req/s here; at 256 and 1024 requests in flight its runs would
#: take minutes and measure queueing, so it is left out there.
HTTPX_SCALE_MAX = 32


@dataclass(frozen=True)
class Target:
    """What the clients of one scenario are pointed at and must get back."""

    scenario: Scenario
    url: str
    #: The body length of every answer (None: the runners check the realistic answers).
    expect_len: int | None
    cafile: Path | None = None  # the CA to trust for an https URL
