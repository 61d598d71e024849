"""The scripts in ``examples/`` run against local servers and print what the docs promise;
the docs cover every example and the whole public API.

The servers live for the module in one background thread with its own event loop: the
demo application (``examples/server.py``), the Digest server of the auth tests
(``tests/support/digest_server.py``) and hypercorn speaking h2c with the application of
the HTTP/2 tests (``tests/support/h2_servers.py``). Each example runs as a subprocess, the way
a user runs it, and must exit 0 and print the expected lines in order.
"""

from __future__ import annotations

import asyncio
import importlib
import importlib.util
import re
import subprocess
import sys
import tempfile
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from string import Template
from types import ModuleType
from typing import Any

import pytest
import trustme
from aiohttp import web
from support import pproxy_server
from support.digest_server import DigestServer
from support.h2_servers import HyperServer

import aiosonic

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"
DOCS = ROOT / "docs"
REFERENCE = ROOT.parent / "shared" / "spec" / "reference.txt"
HOST = "127.0.0.1"
DIGEST_USER, DIGEST_PASSWORD = "user", "passwd"

# An sdist carries tests/ and examples/ but not the documentation sources.
needs_docs = pytest.mark.skipif(not (DOCS / "reference").is_dir(), reason="no docs/ here")


def _load_demo_server() -> ModuleType:
    spec = importlib.util.spec_from_file_location("examples_demo_server", EXAMPLES / "server.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class Servers:
    """Every server the examples need, on ephemeral loopback ports, in a thread."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, name="example-servers")
        self.demo = ""
        self.digest = ""
        self.h2 = ""
        self.h2_tls = ""
        self._folder = tempfile.TemporaryDirectory(prefix="aiosonic-examples-")
        self.ca_file = str(Path(self._folder.name) / "ca.pem")
        self._runner: web.AppRunner | None = None
        self._digest: Any = None
        self._h2: Any = None
        self._h2_tls: Any = None

    def __enter__(self) -> Servers:
        self.thread.start()
        try:
            asyncio.run_coroutine_threadsafe(self._start(), self.loop).result(30)
        except BaseException:
            self.__exit__()
            raise
        return self

    def __exit__(self, *exc_info: object) -> None:
        try:
            asyncio.run_coroutine_threadsafe(self._stop(), self.loop).result(30)
        finally:
            self.loop.call_soon_threadsafe(self.loop.stop)
            self.thread.join(30)
            self.loop.close()
            self._folder.cleanup()

    async def _start(self) -> None:
        self._runner = web.AppRunner(
            _load_demo_server().build_app(), access_log=None, shutdown_timeout=0.5
        )
        await self._runner.setup()
        site = web.TCPSite(self._runner, HOST, 0)
        await site.start()
        port = self._runner.addresses[0][1]
        self.demo = f"http://{HOST}:{port}"
        self._digest = await DigestServer(users={DIGEST_USER: DIGEST_PASSWORD}).start()
        self.digest = self._digest.url("/protected")
        self._h2 = await HyperServer().start()  # cleartext: HTTP/1.1 and h2c
        self.h2 = self._h2.url("/echo")
        certfile, keyfile = self._certificate()
        self._h2_tls = await HyperServer(certfile=certfile, keyfile=keyfile).start()
        self.h2_tls = self._h2_tls.url("/echo")

    def _certificate(self) -> tuple[str, str]:
        """A throwaway CA (written to ``ca_file``) and a certificate for 127.0.0.1."""
        ca = trustme.CA()
        ca.cert_pem.write_to_path(self.ca_file)
        leaf = ca.issue_cert(HOST)
        certfile = str(Path(self._folder.name) / "cert.pem")
        keyfile = str(Path(self._folder.name) / "key.pem")
        leaf.cert_chain_pems[0].write_to_path(certfile)
        leaf.private_key_pem.write_to_path(keyfile)
        return certfile, keyfile

    async def _stop(self) -> None:
        for h2 in (self._h2_tls, self._h2):
            if h2 is not None:
                await h2.close()
        if self._digest is not None:
            await self._digest.close()
        if self._runner is not None:
            await self._runner.cleanup()


@pytest.fixture(scope="module")
def servers() -> Iterator[Servers]:
    with Servers() as running:
        yield running


@pytest.fixture(scope="module")
def proxies() -> Iterator[dict[str, str]]:
    """pproxy (a proxy we did not write) as an HTTP and a SOCKS5 proxy, in a child process."""
    with pproxy_server.running(f"http://{HOST}:0", f"socks5://{HOST}:0") as (http, socks5):
        yield {"http_proxy": f"http://{HOST}:{http}", "socks5_proxy": f"socks5h://{HOST}:{socks5}"}


@dataclass(frozen=True)
class Case:
    script: str
    # $demo, $ws, $digest, $h2, $h2_tls and $ca_file are replaced by the servers' URLs and
    # CA file, $http_proxy and $socks5_proxy by the proxies'.
    args: tuple[str, ...]
    expected: tuple[str, ...]  # substrings of stdout, in this order
    name: str = ""

    @property
    def id(self) -> str:
        return self.name or self.script

    def argv(self, servers: Servers, proxies: dict[str, str] | None = None) -> list[str]:
        values = {
            "demo": servers.demo,
            "ws": servers.demo.replace("http://", "ws://", 1),
            "digest": servers.digest,
            "h2": servers.h2,
            "h2_tls": servers.h2_tls,
            "ca_file": servers.ca_file,
            **(proxies or {}),
        }
        return [Template(arg).substitute(values) for arg in self.args]


CASES = [
    Case(
        "basic.py",
        ("$demo",),
        (
            "GET 200 {'q': 'sonic'} basic",
            "POST 200 {'name': 'aiosonic', 'fast': True}",
            "FORM 200 {'field': 'value'}",
            "REDIRECTS 3 -> http://127.0.0.1:",
            "/get\n",
            "COOKIES {'flavour': 'oat'}",
            "ERROR 404",
        ),
    ),
    Case(
        "streaming.py",
        ("$demo",),
        (
            "progress: 5,242,880 of 5,242,880 bytes",
            "downloaded 5,242,880 bytes in",
            "line: line 1\nline: line 2\nline: line 3\n",
            "read_chunks: 1000",
        ),
    ),
    Case(
        "upload.py",
        ("$demo",),
        (
            "uploaded ",
            "fields: {'title': 'monthly report'}",
            "files: {'report': {'filename': 'report.csv', 'size': 500009}}",
            "progress calls: several",
        ),
    ),
    Case("concurrency.py", ("$demo",), ("statuses: {200: 200}", "idle: True")),
    Case(
        "timeouts.py",
        ("$demo",),
        (
            "in time: 200",
            "ReadTimeout: no data from the server for 0.3 seconds",
            "RequestTimeout: request_timeout elapsed",
            "ConnectError: nothing listens on 127.0.0.1:1",
        ),
    ),
    Case(
        "retries_hooks.py",
        ("$demo",),
        (
            "trace: connection_created 1.1",
            "response: 503\ntrace: retry after attempt 1 (status 503)",
            "response: 503\ntrace: retry after attempt 2 (status 503)",
            "response: 200\nfinal: 200 {'attempt': 3}",
            "response: 503\nwithout retries: 503",
        ),
    ),
    Case(
        "digest_auth.py",
        ("$digest", DIGEST_USER, DIGEST_PASSWORD),
        (
            "first request:\n  response: 401\n  response: 200\n",
            "  final: 200 {'user': 'user', 'path': '/protected', 'body_size': 0}",
            "second request:\n  response: 200\n  final: 200",
        ),
    ),
    Case(
        "websocket_echo.py",
        ("$ws/ws",),
        (
            "text: hello",
            "bytes: b'\\x00\\x01\\x02'",
            "json: {'op': 'ping', 'n': 1}",
            "message: one\nmessage: two\nmessage: three\n",
            "closed with code 1000",
        ),
    ),
    Case(
        "sse_consumer.py",
        ("$demo/events",),
        (
            "event=tick id=1 data={'n': 1}",
            "event=tick id=2 data={'n': 2}",
            "event=tick id=3 data={'n': 3}",
            "last event id: 3",
        ),
    ),
    Case(
        "base_client.py",
        ("$demo",),
        ("created: keyboard mouse", "read: keyboard", "names: ['mouse']", "gone: 404"),
    ),
    Case("http2.py", ("$h2",), ("HTTP versions: {'2': 50}",), name="http2.py-h2c"),
    Case("http2.py", ("$h2_tls", "$ca_file"), ("HTTP versions: {'2': 50}",), name="http2.py-tls"),
    Case("mock_transport.py", (), ("user_name: ok", "retries: ok")),
]


PROXY_CASE = Case(
    "proxy.py",
    ("$demo/get", "$http_proxy", "$socks5_proxy"),
    ("http: 200, ", "socks5h: 200, "),
)


def run_example(case: Case, argv: list[str]) -> None:
    done = subprocess.run(
        [sys.executable, str(EXAMPLES / case.script), *argv],
        capture_output=True,
        text=True,
        timeout=30,
        cwd=ROOT,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    position = 0
    for expected in case.expected:
        found = done.stdout.find(expected, position)
        assert found >= 0, f"{expected!r} not in order in:\n{done.stdout}"
        position = found + len(expected)


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_example_runs(case: Case, servers: Servers) -> None:
    run_example(case, case.argv(servers))


def test_proxy_example_runs(servers: Servers, proxies: dict[str, str]) -> None:
    run_example(PROXY_CASE, PROXY_CASE.argv(servers, proxies))


@needs_docs
def test_every_example_is_run_and_documented() -> None:
    scripts = {path.name for path in EXAMPLES.glob("*.py")} - {"server.py"}
    assert scripts == {case.script for case in [*CASES, PROXY_CASE]}
    listing = (DOCS / "examples.md").read_text(encoding="utf-8")
    pages = "".join(page.read_text(encoding="utf-8") for page in DOCS.rglob("*.md"))
    for script in scripts:
        assert f"(examples/{script})" in listing, f"{script} is not listed in docs/examples.md"
        assert f'--8<-- "examples/{script}"' in pages, f"no page shows {script}"


# -- the API reference covers the public surface --------------------------------------------

_DIRECTIVE = re.compile(r"^::: ([\w.]+)", re.MULTILINE)
_REFERENCE_NAME = re.compile(r"^- (?:class |async |property )?([A-Za-z_][\w.]*)")
# The modules the reference must render whole, besides those holding exported names.
MODULES = (
    "exceptions", "timeout", "connectors", "pools", "proxy", "resolver", "multipart",
    "response", "web_socket_client", "sse_client", "auth", "retry", "hooks", "base_client",
    "testing", "client", "request", "limits", "connection", "cookies",
)


def _rendered() -> set[str]:
    """The objects the reference pages render with a ``::: name`` directive."""
    names: set[str] = set()
    for page in (DOCS / "reference").glob("*.md"):
        names.update(_DIRECTIVE.findall(page.read_text(encoding="utf-8")))
    return names


def _resolve(qualified: str) -> object:
    parts = qualified.split(".")
    obj: object = importlib.import_module(parts[0])
    for index, part in enumerate(parts[1:], start=1):
        try:
            obj = getattr(obj, part)
        except AttributeError:
            obj = importlib.import_module(".".join(parts[: index + 1]))
    return obj


def _defined_at(qualified: str) -> str:
    """Where the object ``qualified`` names is defined (``aiosonic.HttpHeaders`` ->
    ``aiosonic._headers.HttpHeaders``); a property or attribute goes with its class."""
    obj = _resolve(qualified)
    module, name = getattr(obj, "__module__", None), getattr(obj, "__qualname__", None)
    if isinstance(module, str) and isinstance(name, str):
        return f"{module}.{name}"
    parent, _, attribute = qualified.rpartition(".")
    return f"{_defined_at(parent)}.{attribute}" if parent else qualified


def _is_rendered(qualified: str, rendered: set[str]) -> bool:
    """True when ``qualified``, or the object it names where it is defined, is rendered
    itself or as a member of a rendered module or class (a module renders the names of its
    ``__all__`` too, those it re-exports included)."""
    obj = _resolve(qualified)
    for path in (qualified, _defined_at(qualified)):
        parts = path.split(".")
        if any(".".join(parts[:end]) in rendered for end in range(1, len(parts) + 1)):
            return True
    short = qualified.rsplit(".", 1)[-1]
    for target in rendered:
        owner = _resolve(target)
        if short in getattr(owner, "__all__", ()) and getattr(owner, short) is obj:
            return True
    return False


@needs_docs
def test_reference_renders_every_module() -> None:
    rendered = _rendered()
    missing = [name for name in MODULES if f"aiosonic.{name}" not in rendered]
    assert not missing


@needs_docs
def test_reference_renders_every_exported_name() -> None:
    rendered = _rendered()
    missing = [
        name
        for name in aiosonic.__all__
        # The two constants have no page of their own: the overview table describes them.
        if name not in ("__version__", "COMPILED")
        and not _is_rendered(f"aiosonic.{name}", rendered)
    ]
    assert not missing


def _reference_names() -> list[str]:
    """Every name the reference text documents; methods and properties get their class."""
    names: list[str] = []
    owner = ""
    for line in REFERENCE.read_text(encoding="utf-8").splitlines():
        match = _REFERENCE_NAME.match(line)
        if match is None:
            continue
        name = match.group(1)
        if name.startswith("aiosonic."):
            owner = name if line.startswith("- class ") else owner
            names.append(name)
        elif owner and (line.startswith(("- async ", "- property ")) or "(" in line):
            names.append(f"{owner}.{name}")
    return names


@needs_docs
def test_reference_renders_every_name_of_the_reference_text() -> None:
    if not REFERENCE.exists():
        pytest.skip("the reference text is not next to this checkout")
    names = _reference_names()
    assert len(names) > 40  # the reference's classes, functions, methods and properties
    rendered = _rendered()
    assert [name for name in names if not _is_rendered(name, rendered)] == []


@needs_docs
def test_reference_overview_lists_every_exported_name() -> None:
    overview = (DOCS / "reference" / "index.md").read_text(encoding="utf-8")
    assert [name for name in aiosonic.__all__ if f"`{name}`" not in overview] == []
