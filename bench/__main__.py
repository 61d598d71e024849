"""``python -m bench``: the peer benchmark's command line and orchestration.

Owns the options, the one-time setup (peer libraries in this interpreter, the upstream
aiosonic virtual environment in ``bench/.venvs/upstream``), the server's lifetime, the
interleaved rounds of client subprocesses, the result table on stdout and the Markdown copy
in ``bench/results/latest.md``.

There are two scenarios, run in this order by default, each with its own server, rounds and
table (``--scenario h1`` or ``--scenario h2`` runs one):

- ``h1``: small keep-alive GETs over plain HTTP/1.1 (every client, ``--concurrency``).
- ``h2``: small GETs over TLS to nginx with HTTP/2 enabled, ``--h2-concurrency`` in flight:
  aiosonic, upstream and httpx offer HTTP/2 and must get it on every response; aiohttp, which
  has no HTTP/2, runs HTTP/1.1 over TLS with as many connections. Needs nginx (there is no
  embedded HTTP/2 server): without it, or with ``--url``, the scenario is skipped.

``results/latest.md`` holds one section per scenario; a run replaces the sections of the
scenarios it ran (a skipped one included) and keeps the others.

Each client runs in its own process (``bench/runners/*.py``) so that imports, garbage and
event-loop state never leak between clients; every round runs every client once, in an order
rotated by one each round, so that machine noise is shared fairly. A client that fails is
reported as failed with the tail of its stderr instead of stopping the run.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime
import functools
import http.client
import importlib.util
import json
import os
import platform
import re
import shlex
import shutil
import signal
import socket
import ssl
import statistics
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from typing import Any
from urllib.parse import urlsplit

from bench import pinning, records, server, transfer

BENCH_DIR = Path(__file__).resolve().parent
REPO_ROOT = BENCH_DIR.parent
RUNNERS = BENCH_DIR / "runners"
RESULTS = BENCH_DIR / "results" / "latest.md"
UPSTREAM_ENV = BENCH_DIR / ".venvs" / "upstream"
UPSTREAM_REQUIREMENT = "aiosonic==1.3.3"
UPSTREAM_STAMP = UPSTREAM_ENV / ".bench-installed.json"
#: The project's ``bench`` extra (module: requirement), installed into this interpreter when
#: a module that the selected scenarios need is missing. ``h2`` is httpx's HTTP/2 extra.
PEER_REQUIREMENTS = {
    "aiohttp": "aiohttp>=3.9",
    "httpx": "httpx>=0.27",
    "h2": "httpx[http2]>=0.27",
    "uvloop": "uvloop>=0.19",
    "trustme": "trustme>=1.1",
    "matplotlib": "matplotlib>=3.7",
}
#: httpx is an order of magnitude slower; it gets a shorter timed phase (req/s is unaffected).
SLOW_CLIENT_SHARE = {"httpx": 0.5}


@dataclass(frozen=True)
class Client:
    name: str
    script: str
    label: str


CLIENTS: dict[str, Client] = {
    c.name: c
    for c in (
        Client("aiosonic", "aiosonic_runner.py", "this repository's aiosonic"),
        Client(
            "upstream",
            "aiosonic_runner.py",
            f"released {UPSTREAM_REQUIREMENT}, in its own venv (bench/.venvs/upstream)",
        ),
        Client("aiohttp", "aiohttp_runner.py", "aiohttp ClientSession, TCPConnector(limit=N)"),
        Client("httpx", "httpx_runner.py", "httpx AsyncClient, Limits(max_connections=N)"),
        Client(
            "raw",
            "raw_runner.py",
            "bare asyncio.Protocol per connection, no client library: the ceiling",
        ),
    )
}
PROJECT = "aiosonic"


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


SCENARIOS: dict[str, Scenario] = {
    s.key: s
    for s in (
        Scenario("h1", "HTTP/1.1 keep-alive", tuple(CLIENTS)),
        Scenario(
            "h2",
            "HTTP/2 over TLS",
            ("aiosonic", "upstream", "aiohttp", "httpx"),
            http2_clients=frozenset({"aiosonic", "upstream", "httpx"}),
            labels=(
                (
                    "aiosonic",
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
            ),
        ),
        Scenario(
            "scale",
            "keep-alive GETs at concurrency 1, 32, 256, 1024",
            tuple(CLIENTS),
            labels=(
                ("aiosonic", "this repository's aiosonic, TCPConnector(pool_size=N)"),
                ("upstream", f"released {UPSTREAM_REQUIREMENT}, PoolConfig(size=N)"),
            ),
        ),
        Scenario(
            "newconn",
            "a new connection per request (plain and TLS)",
            ("aiosonic", "upstream", "aiohttp", "httpx"),
            labels=(
                ("aiosonic", "this repository's aiosonic, TCPConnector(conn_max_requests=1)"),
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
            tuple(CLIENTS),
            labels=(
                ("aiosonic", "this repository's aiosonic: get(url), response.read_chunks()"),
                (
                    "upstream",
                    f"released {UPSTREAM_REQUIREMENT}: request(url, stream=True), read_chunks()",
                ),
                ("aiohttp", "aiohttp: session.get(url), resp.content.iter_any()"),
                ("httpx", "httpx: client.stream('GET', url), resp.aiter_raw()"),
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
            ("aiosonic", "upstream", "aiohttp", "httpx"),
            labels=(
                ("aiosonic", "this repository's aiosonic: post(url, data=...)"),
                ("upstream", f"released {UPSTREAM_REQUIREMENT}: post(url, data=...)"),
                ("aiohttp", "aiohttp: session.post(url, data=...)"),
                ("httpx", "httpx: client.post(url, content=...)"),
            ),
        ),
        Scenario(
            "import",
            "cold import time",
            ("aiosonic", "upstream", "aiohttp", "httpx"),
            labels=(
                ("aiosonic", "import aiosonic (this repository)"),
                ("upstream", f"import aiosonic ({UPSTREAM_REQUIREMENT}, its venv)"),
                ("aiohttp", "import aiohttp"),
                ("httpx", "import httpx"),
            ),
        ),
    )
}
#: Concurrency levels of the ``scale`` scenario; httpx only runs the first two (see below).
SCALE_LEVELS = (1, 32, 256, 1024)
#: httpx manages a few hundred req/s here; at 256 and 1024 requests in flight its runs would
#: take minutes and measure queueing, so it is left out there.
HTTPX_SCALE_MAX = 32
#: The heavy scenarios (scale, newconn) run at most this many rounds of at most this long.
HEAVY_ROUNDS = 3
HEAVY_DURATION = 1.5


@dataclass
class Run:
    """One client process: its req/s, or why it failed."""

    client: str
    rps: float | None = None
    errors: int = 0
    reason: str = ""
    stderr_tail: str = ""
    info: dict[str, Any] = field(default_factory=dict)

    @property
    def failed(self) -> bool:
        return self.rps is None


@dataclass
class Settings:
    scenarios: list[str]
    clients: list[str]
    concurrency: int
    h2_concurrency: int
    duration: float
    warmup: float
    rounds: int
    uvloop: bool
    url: str | None
    body_size: int
    nginx: bool
    pin: bool
    prime_malloc: bool
    output: Path
    argv: list[str]
    chart: bool = True

    def for_scenario(self, scenario: Scenario) -> Settings:
        """These settings narrowed to one scenario's clients and concurrency."""
        return dataclasses.replace(
            self,
            clients=[name for name in self.clients if name in scenario.clients],
            concurrency=self.h2_concurrency if scenario.key == "h2" else self.concurrency,
        )

    def heavy(self) -> Settings:
        """Fewer, shorter rounds for the scenarios that run many tables."""
        return dataclasses.replace(
            self,
            rounds=min(self.rounds, HEAVY_ROUNDS),
            duration=min(self.duration, HEAVY_DURATION),
        )

    def duration_for(self, client: str) -> float:
        share = SLOW_CLIENT_SHARE.get(client)
        if share is None:
            return self.duration
        return max(self.duration * share, min(self.duration, 1.0))


# --- command line ---------------------------------------------------------------------------


def parse_args(argv: list[str]) -> Settings:
    parser = argparse.ArgumentParser(
        prog="python -m bench",
        description="GET throughput of aiosonic (this repo) against its peers: HTTP/1.1 "
        "keep-alive (h1), then HTTP/2 over TLS (h2).",
    )
    parser.add_argument("--quick", action="store_true", help="1 s runs, 2 rounds")
    parser.add_argument(
        "--scenario",
        default="all",
        help="comma-separated list of "
        + ", ".join(SCENARIOS)
        + " or all (default). h1: HTTP/1.1 keep-alive; h2: HTTP/2 over TLS (nginx only); "
        "scale: concurrency 1..1024; newconn: a connection per request; download/upload: "
        "100 MiB bodies; import: cold import time",
    )
    parser.add_argument(
        "--no-chart", action="store_true", help="do not redraw bench/results/chart.png"
    )
    parser.add_argument("--uvloop", action="store_true", help="run every client on uvloop")
    parser.add_argument(
        "--clients",
        default=",".join(CLIENTS),
        help=f"comma-separated subset of {','.join(CLIENTS)} (default: all)",
    )
    parser.add_argument("--concurrency", type=int, default=32, help="h1: connections (default 32)")
    parser.add_argument(
        "--h2-concurrency", type=int, default=64, help="h2: requests in flight (default 64)"
    )
    parser.add_argument("--duration", type=float, help="timed seconds per run (3, quick: 1)")
    parser.add_argument("--warmup", type=float, default=0.5, help="warm-up seconds (0.5)")
    parser.add_argument("--rounds", type=int, help="interleaved rounds (5, quick: 2)")
    parser.add_argument(
        "--url", help="h1: benchmark this server instead of starting one (h2 is then skipped)"
    )
    parser.add_argument("--body-size", type=int, default=600, help="response body bytes (600)")
    parser.add_argument(
        "--no-nginx", action="store_true", help="use the embedded server even if nginx exists"
    )
    parser.add_argument("--no-pin", action="store_true", help="do not pin processes to CPUs")
    parser.add_argument(
        "--no-malloc-prime",
        action="store_true",
        help="do not prime glibc malloc in the clients (see runners/_harness.py)",
    )
    parser.add_argument("--output", type=Path, default=RESULTS, help="Markdown result file")
    ns = parser.parse_args(argv)

    picked = [name.strip() for name in ns.scenario.split(",") if name.strip()]
    if "all" in picked:
        picked = list(SCENARIOS)
    bad = [name for name in picked if name not in SCENARIOS]
    if bad or not picked:
        parser.error(f"unknown scenarios {bad}; choose from all, {', '.join(SCENARIOS)}")
    scenarios = [name for name in SCENARIOS if name in picked]
    clients = [name.strip() for name in ns.clients.split(",") if name.strip()]
    unknown = [name for name in clients if name not in CLIENTS]
    if unknown or not clients:
        parser.error(f"unknown clients {unknown}; choose from {', '.join(CLIENTS)}")
    ordered = [name for name in CLIENTS if name in clients]
    checked = (("concurrency", ns.concurrency), ("h2-concurrency", ns.h2_concurrency))
    for label, value in (*checked, ("rounds", ns.rounds)):
        if value is not None and value < 1:
            parser.error(f"--{label} must be at least 1")
    if ns.duration is not None and ns.duration <= 0:
        parser.error("--duration must be positive")
    return Settings(
        scenarios=scenarios,
        clients=ordered,
        concurrency=ns.concurrency,
        h2_concurrency=ns.h2_concurrency,
        duration=ns.duration if ns.duration is not None else (1.0 if ns.quick else 3.0),
        warmup=max(ns.warmup, 0.0),
        rounds=ns.rounds if ns.rounds is not None else (2 if ns.quick else 5),
        uvloop=ns.uvloop,
        url=ns.url,
        body_size=ns.body_size,
        nginx=not ns.no_nginx,
        pin=not ns.no_pin,
        prime_malloc=not ns.no_malloc_prime,
        output=ns.output,
        argv=argv,
        chart=not ns.no_chart,
    )


# --- one-time setup -------------------------------------------------------------------------


def _tail(text: str, lines: int = 15) -> str:
    return "\n".join(text.strip().splitlines()[-lines:])


def _run_checked(argv: list[str], what: str) -> None:
    proc = subprocess.run(argv, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise RuntimeError(
            f"{what} failed ({proc.returncode}):\n{_tail(proc.stdout + proc.stderr)}"
        )


def ensure_peer_libraries(settings: Settings) -> None:
    """Install the ``bench`` extra's peers into this interpreter when one is missing."""
    needed: list[str] = [name for name in ("aiohttp", "httpx") if name in settings.clients]
    if settings.uvloop:
        needed.append("uvloop")
    if {"h2", "newconn"} & set(settings.scenarios) and not settings.url:
        needed.append("trustme")  # the TLS servers' certificate
        if "httpx" in settings.clients and "h2" in settings.scenarios:
            needed.append("h2")  # httpx[http2]
    if settings.chart:
        needed.append("matplotlib")
    missing = [name for name in needed if importlib.util.find_spec(name) is None]
    if not missing:
        return
    wanted = [
        spec for name, spec in PEER_REQUIREMENTS.items() if name != "uvloop" or os.name != "nt"
    ]
    print(f"missing {', '.join(missing)}: installing {' '.join(wanted)} into {sys.executable}")
    try:
        _run_checked([sys.executable, "-m", "pip", "install", "--quiet", *wanted], "pip install")
    except (OSError, RuntimeError) as exc:
        print(f"warning: {exc}\n(the clients that need them will be reported as failed)")
    importlib.invalidate_caches()


def _venv_python(env: Path) -> Path:
    return env / ("Scripts/python.exe" if os.name == "nt" else "bin/python")


def ensure_upstream_env(need_uvloop: bool) -> Path:
    """``bench/.venvs/upstream`` with the released aiosonic; created once, then reused."""
    python = _venv_python(UPSTREAM_ENV)
    this_python = platform.python_version()
    stamp: dict[str, Any] = {}
    if UPSTREAM_STAMP.exists() and python.exists():
        try:
            stamp = json.loads(UPSTREAM_STAMP.read_text())
        except ValueError:
            stamp = {}
    if stamp.get("python") != this_python:
        if UPSTREAM_ENV.exists():
            shutil.rmtree(UPSTREAM_ENV)
        print(f"creating {UPSTREAM_ENV.relative_to(REPO_ROOT)} (one time) ...", flush=True)
        _run_checked([sys.executable, "-m", "venv", str(UPSTREAM_ENV)], "python -m venv")
        stamp = {"python": this_python, "installed": []}
    installed: list[str] = list(stamp.get("installed", []))
    wanted = [UPSTREAM_REQUIREMENT] + (["uvloop"] if need_uvloop else [])
    missing = [req for req in wanted if req not in installed]
    if missing:
        print(f"installing {' '.join(missing)} into the upstream venv ...", flush=True)
        _run_checked(
            [
                str(python),
                "-m",
                "pip",
                "install",
                "--quiet",
                "--disable-pip-version-check",
                *missing,
            ],
            "pip install into the upstream venv",
        )
        stamp["installed"] = sorted({*installed, *missing})
        UPSTREAM_STAMP.write_text(json.dumps(stamp, indent=2) + "\n")
    return python


def _tls_context(cafile: Path | None) -> ssl.SSLContext:
    return ssl.create_default_context(cafile=str(cafile) if cafile is not None else None)


def probe(url: str, cafile: Path | None = None) -> tuple[int, int, str]:
    """One GET (HTTP/1.1) with the standard library: (status, body length, Server header).

    An https URL is verified against ``cafile`` (or the system store when None).
    """
    parts = urlsplit(url)
    if parts.hostname is None or parts.scheme not in ("http", "https"):
        raise ValueError(f"not an http(s) URL: {url!r}")
    conn: http.client.HTTPConnection
    if parts.scheme == "https":
        conn = http.client.HTTPSConnection(
            parts.hostname, parts.port, timeout=10, context=_tls_context(cafile)
        )
    else:
        conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
    try:
        target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        conn.request("GET", target)
        resp = conn.getresponse()
        body = resp.read()
        return resp.status, len(body), resp.getheader("Server", "") or ""
    finally:
        conn.close()


def tls_probe(url: str, cafile: Path | None) -> tuple[str | None, str, str]:
    """A verified TLS handshake offering h2 and http/1.1: (ALPN choice, TLS version, cipher)."""
    parts = urlsplit(url)
    if parts.scheme != "https" or parts.hostname is None:
        raise ValueError(f"not an https URL: {url!r}")
    context = _tls_context(cafile)
    context.set_alpn_protocols(["h2", "http/1.1"])
    with (
        socket.create_connection((parts.hostname, parts.port or 443), timeout=10) as sock,
        context.wrap_socket(sock, server_hostname=parts.hostname) as tls,
    ):
        cipher = tls.cipher()
        return tls.selected_alpn_protocol(), tls.version() or "?", cipher[0] if cipher else "?"


# --- running clients ------------------------------------------------------------------------


@dataclass(frozen=True)
class Target:
    """What the clients of one scenario are pointed at and must get back."""

    scenario: Scenario
    url: str
    expect_len: int
    cafile: Path | None = None  # the CA to trust for an https URL


def _client_command(client: Client, python: Path, settings: Settings, target: Target) -> list[str]:
    argv = [str(python), str(RUNNERS / client.script), "--name", client.name]
    argv += ["--url", target.url, "--concurrency", str(settings.concurrency)]
    argv += ["--duration", str(settings.duration_for(client.name))]
    argv += ["--warmup", str(settings.warmup), "--expect-len", str(target.expect_len)]
    if target.scenario.key == "newconn":
        argv.append("--new-conn")
    if target.scenario.key == "h2":
        argv += ["--expect-version", target.scenario.expected_version(client.name)]
        if client.name in target.scenario.http2_clients:
            argv.append("--http2")
    if target.cafile is not None:
        argv += ["--cafile", str(target.cafile)]
    if settings.uvloop:
        argv.append("--uvloop")
    if settings.prime_malloc:
        argv.append("--prime-malloc")
    return argv


def _client_env(client: Client) -> dict[str, str]:
    env = dict(os.environ)
    env.pop("PYTHONHOME", None)
    if client.name == "upstream":
        env.pop("PYTHONPATH", None)  # nothing from this repo may shadow the released package
    elif client.name == PROJECT:
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO_ROOT), env.get("PYTHONPATH")]))
    return env


def _check_origin(client: Client, info: dict[str, Any]) -> str:
    """Why this result does not come from the library it claims to measure ("" if it does)."""
    if client.name not in (PROJECT, "upstream"):
        return ""
    module = Path(str(info.get("module", ""))).resolve()
    if client.name == PROJECT and not module.is_relative_to(REPO_ROOT / "aiosonic"):
        return f"imported aiosonic from {module}, not from this repository"
    in_repo = module.is_relative_to(REPO_ROOT) and not module.is_relative_to(UPSTREAM_ENV)
    if client.name == "upstream" and in_repo:
        return f"the upstream run imported aiosonic from this repository ({module})"
    return ""


ServedCounter = Callable[[], int | None]


#: A run in which more than this share of the requests failed measured failures, not
#: throughput: it is reported as failed.
MAX_ERROR_SHARE = 0.01


def run_client(
    client: Client,
    python: Path,
    settings: Settings,
    target: Target,
    cpu: int | None,
    served: ServedCounter | None = None,
) -> Run:
    """Run one client process and judge its result.

    ``served`` reads the server's request counter; when given, a client claiming more valid
    responses than the server served during its run is failed. In the h2 scenario the HTTP
    version of the client's first response must be the expected one (the runner already
    counts every response in another version as bad). A run with more than
    ``MAX_ERROR_SHARE`` of its requests failed is failed.
    """
    argv = _client_command(client, python, settings, target)
    served_before = served() if served is not None else None
    timeout = settings.warmup + settings.duration_for(client.name) + 60.0
    with pinning.spawn_on(cpu):
        proc = subprocess.Popen(
            argv,
            cwd=REPO_ROOT,
            env=_client_env(client),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
    try:
        stdout, stderr = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        stdout, stderr = proc.communicate()
        return Run(
            client.name, reason=f"timed out after {timeout:.0f} s", stderr_tail=_tail(stderr)
        )
    except BaseException:
        proc.kill()
        proc.wait()
        raise
    result: dict[str, Any] | None = None
    for line in reversed(stdout.splitlines()):
        try:
            parsed = json.loads(line)
        except ValueError:
            continue
        if isinstance(parsed, dict) and parsed.get("client") == client.name:
            result = parsed
            break
    if proc.returncode != 0 or result is None:
        last_line = next((ln.strip() for ln in reversed(stderr.splitlines()) if ln.strip()), "")
        return Run(
            client.name,
            reason=f"exit status {proc.returncode}" + (f": {last_line}" if last_line else ""),
            stderr_tail=_tail(stderr),
        )
    info = dict(result.get("library") or {})
    expected_loop = "uvloop" if settings.uvloop else "asyncio"
    problem = _check_origin(client, info)
    if not problem and result.get("loop") != expected_loop:
        problem = f"ran on {result.get('loop')}, expected {expected_loop}"
    if not problem and target.scenario.key == "h2":
        wanted = target.scenario.expected_version(client.name)
        got = result.get("protocol")
        if got is not None and got != wanted:
            problem = f"first response was HTTP/{got}, expected HTTP/{wanted}"
    if not problem and not result.get("ok"):
        problem = f"no valid responses ({result.get('errors')} errors: {result.get('first_error')})"
    ok, errors = int(result.get("ok") or 0), int(result.get("errors") or 0)
    if not problem and errors > MAX_ERROR_SHARE * (ok + errors):
        problem = f"{errors} of {ok + errors} requests failed (first: {result.get('first_error')})"
    served_after = served() if served is not None and served_before is not None else None
    if not problem and served_before is not None and served_after is not None:
        claimed = int(result.get("ok") or 0) + int(result.get("warmup_ok") or 0)
        if claimed > served_after - served_before:
            problem = (
                f"claims {claimed} valid responses but the server served only "
                f"{served_after - served_before} requests during the run"
            )
    if problem:
        return Run(
            client.name,
            errors=int(result.get("errors") or 0),
            reason=problem,
            stderr_tail=_tail(stderr),
            info=info,
        )
    return Run(
        client.name,
        rps=float(result["rps"]),
        errors=int(result.get("errors") or 0),
        reason=str(result.get("first_error") or ""),
        info=info,
    )


# --- reporting ------------------------------------------------------------------------------


@dataclass
class Summary:
    client: str
    runs: list[Run]
    skipped: int = 0

    @property
    def good(self) -> list[float]:
        return [run.rps for run in self.runs if run.rps is not None]

    @property
    def median(self) -> float | None:
        return statistics.median(self.good) if self.good else None

    @property
    def errors(self) -> int:
        return sum(run.errors for run in self.runs)

    @property
    def info(self) -> dict[str, Any]:
        return next((run.info for run in self.runs if run.info), {})


def _fmt_rps(value: float | None) -> str:
    return "-" if value is None else f"{value:,.0f}"


def table_rows(summaries: list[Summary], rounds: int) -> list[list[str]]:
    base = next((s.median for s in summaries if s.client == PROJECT), None)
    rows = []
    for summary in summaries:
        good = summary.good
        median = summary.median
        if median is None:
            ratio = "FAILED"
        elif summary.client == PROJECT:
            ratio = "1.00 (baseline)"
        elif base is None:
            ratio = "n/a (aiosonic failed)" if PROJECT in {s.client for s in summaries} else "n/a"
        else:
            ratio = f"{base / median:.2f}x"
        runs = f"{len(good)}/{rounds}"
        rows.append(
            [
                summary.client,
                _fmt_rps(median) if median is not None else "FAILED",
                _fmt_rps(min(good) if good else None),
                _fmt_rps(max(good) if good else None),
                runs,
                str(summary.errors),
                ratio,
            ]
        )
    return rows


HEADERS = ["client", "median req/s", "min", "max", "runs ok", "errors", f"{PROJECT} / X"]


def text_table(rows: list[list[str]]) -> str:
    widths = [max(len(row[i]) for row in [HEADERS, *rows]) for i in range(len(HEADERS))]

    def line(cells: list[str]) -> str:
        return "  ".join(
            cell.ljust(width) if i == 0 else cell.rjust(width)
            for i, (cell, width) in enumerate(zip(cells, widths, strict=True))
        )

    return "\n".join([line(HEADERS), line(["-" * w for w in widths]), *map(line, rows)])


def markdown_table(rows: list[list[str]]) -> str:
    out = ["| " + " | ".join(HEADERS) + " |", "|" + "|".join(["---"] + ["---:"] * 6) + "|"]
    out += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(out)


def failure_notes(summaries: list[Summary]) -> list[tuple[str, str, str]]:
    """(client, headline, stderr tail) for each client with failed runs or bad responses."""
    notes = []
    for summary in summaries:
        failed = [run for run in summary.runs if run.failed]
        if failed:
            first = failed[0]
            headline = f"failed {len(failed)} of {len(summary.runs)} runs: {first.reason}"
            if summary.skipped:
                headline += f" (not retried in the {summary.skipped} later rounds)"
            notes.append((summary.client, headline, first.stderr_tail))
        elif summary.errors:
            first_error = next((run.reason for run in summary.runs if run.reason), "")
            notes.append((summary.client, f"{summary.errors} bad responses: {first_error}", ""))
    return notes


def versions_line(summaries: list[Summary], scenario: Scenario) -> str:
    parts = []
    for summary in summaries:
        info = summary.info
        if summary.client == "raw" or not info:
            continue
        version = info.get("version", "?")
        extra = f", {info['pool_api']}" if info.get("pool_api") else ""
        if summary.client in scenario.http2_clients and info.get("h2"):
            extra += f", h2 {info['h2']}"
        parts.append(f"{summary.client} {version}{extra}")
    return "; ".join(parts) if parts else "-"


def _footnote(scenario: Scenario, summaries: list[Summary]) -> str:
    text = f"`{PROJECT} / X` is the ratio of median req/s; above 1 means this project is faster."
    if any(s.client == "raw" for s in summaries):
        text += (
            " `raw` is a bare asyncio.Protocol loop, the ceiling for any client on this event loop."
        )
    if scenario.key == "h2":
        text += (
            " Every client gets the same number of requests in flight; the HTTP/2 clients may "
            "multiplex them over one TLS connection, aiohttp (HTTP/1.1 only) needs as many TLS "
            "connections."
        )
    return text


def markdown_section(
    scenario: Scenario, settings: Settings, setup: list[tuple[str, str]], summaries: list[Summary]
) -> str:
    """One scenario's part of the results file: setup, table, labels, failures."""
    rows = table_rows(summaries, settings.rounds)
    lines = [f"## {scenario.key}: {scenario.title}", ""]
    lines += [f"- {key}: {value}" for key, value in setup]
    lines += ["", markdown_table(rows), ""]
    lines += [f"- `{s.client}`: {scenario.label(s.client)}" for s in summaries]
    lines += ["", _footnote(scenario, summaries), ""]
    notes = failure_notes(summaries)
    if notes:
        lines += ["### Failures and bad responses", ""]
        for client, headline, tail in notes:
            lines.append(f"- **{client}**: {headline}")
            if tail:
                lines += ["", "  ```", *[f"  {t}" for t in tail.splitlines()], "  ```"]
        lines.append("")
    return "\n".join(lines)


def skipped_section(scenario: Scenario, settings: Settings, reason: str) -> str:
    now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    command = " ".join(["python -m bench", *map(shlex.quote, settings.argv)])
    return f"## {scenario.key}: {scenario.title}\n\nSkipped on {now} (`{command}`): {reason}\n"


_SECTION = re.compile(r"<!-- bench:(\w+) -->\n.*?<!-- /bench:\1 -->\n", re.DOTALL)
RESULTS_TITLE = "# aiosonic peer benchmark\n"


def update_results(path: Path, key: str, section: str) -> None:
    """Replace scenario ``key``'s section of the results file, keeping the other sections.

    Sections are delimited by ``<!-- bench:KEY -->`` / ``<!-- /bench:KEY -->`` and written in
    scenario order; anything else in the file (such as a file from before sections) is
    dropped.
    """
    sections: dict[str, str] = {}
    try:
        for match in _SECTION.finditer(path.read_text()):
            sections[match.group(1)] = match.group(0)
    except OSError:
        pass
    sections[key] = f"<!-- bench:{key} -->\n{section.strip()}\n\n<!-- /bench:{key} -->\n"
    order = [k for k in SCENARIOS if k in sections] + [k for k in sections if k not in SCENARIOS]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(RESULTS_TITLE + "".join("\n" + sections[k] for k in order))


def _shown(path: Path) -> Path:
    resolved = path.resolve()
    return resolved.relative_to(REPO_ROOT) if resolved.is_relative_to(REPO_ROOT) else resolved


# --- orchestration --------------------------------------------------------------------------


def _on_sigterm(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


def run_rounds(
    settings: Settings,
    pythons: dict[str, Path],
    setup_failures: dict[str, Run],
    target: Target,
    cpu: int | None,
    served: ServedCounter | None,
) -> list[Summary]:
    """Every round runs each working client once, the order rotated by one per round."""
    runs: dict[str, list[Run]] = {name: [] for name in settings.clients}
    skipped = dict.fromkeys(settings.clients, 0)
    for name, failure in setup_failures.items():
        runs[name].append(failure)
        skipped[name] = settings.rounds - 1
    active = [name for name in settings.clients if name not in setup_failures]
    for round_no in range(settings.rounds):
        shift = round_no % len(active) if active else 0
        for name in active[shift:] + active[:shift]:
            run = run_client(CLIENTS[name], pythons[name], settings, target, cpu, served)
            runs[name].append(run)
            prefix = f"round {round_no + 1}/{settings.rounds}  {name:<9}"
            if run.failed:
                print(f"{prefix} FAILED: {run.reason}", flush=True)
            else:
                errors = f"  ({run.errors} bad responses)" if run.errors else ""
                print(f"{prefix} {_fmt_rps(run.rps):>9} req/s{errors}", flush=True)
        if round_no == 0:  # a client that cannot run even once is not retried
            for name in [name for name in active if runs[name][0].failed]:
                active.remove(name)
                skipped[name] = settings.rounds - 1
    return [Summary(name, runs[name], skipped[name]) for name in settings.clients]


def describe_setup(
    settings: Settings,
    target: Target,
    server_text: str,
    cpus: pinning.CpuPlan,
    cross_checked: bool,
    tls_text: str | None = None,
) -> list[tuple[str, str]]:
    durations = f"{settings.duration:g} s timed per run"
    if "httpx" in settings.clients and settings.duration_for("httpx") != settings.duration:
        durations += f" (httpx {settings.duration_for('httpx'):g} s)"
    now = datetime.datetime.now(datetime.timezone.utc)
    scenario = target.scenario
    verification = "status 200 and body length of every response"
    if scenario.key == "h2":
        h2_clients = [name for name in settings.clients if name in scenario.http2_clients]
        h1_clients = [name for name in settings.clients if name not in scenario.http2_clients]
        request = f"GET over TLS, {target.expect_len}-byte body"
        if h2_clients:
            request += f"; HTTP/2 offered (ALPN) by {', '.join(h2_clients)}"
        if h1_clients:
            request += f"; HTTP/1.1 keep-alive for {', '.join(h1_clients)}"
        concurrency = (
            "in flight",
            f"{settings.concurrency} requests per client (pool size {settings.concurrency})",
        )
        verification += (
            ", and its HTTP version (2 for the HTTP/2 clients, 1.1 for the others; a run "
            "whose first response is in the wrong version fails)"
        )
    else:
        request = f"GET with keep-alive, {target.expect_len}-byte body"
        concurrency = ("connections", str(settings.concurrency))
    if cross_checked:
        verification += "; each run's count checked against the server's request counter"
    setup = [
        ("date", now.strftime("%Y-%m-%d %H:%M UTC")),
        ("event loop", "uvloop" if settings.uvloop else "asyncio"),
        ("python", f"{platform.python_implementation()} {platform.python_version()}"),
        ("server", server_text),
    ]
    if tls_text:
        setup.append(("tls", tls_text))
    setup += [
        ("request", request),
        concurrency,
        (
            "timing",
            f"{durations}, {settings.warmup:g} s warm-up, {settings.rounds} interleaved rounds, "
            "median reported",
        ),
        ("verification", verification),
        ("CPU pinning", cpus.describe()),
        (
            "malloc",
            "primed in every client (1 MiB block freed first, see bench/runners/_harness.py)"
            if settings.prime_malloc
            else "not primed (--no-malloc-prime): asyncio reads may mmap per recv",
        ),
        ("machine", f"{platform.machine()}, {os.cpu_count()} CPUs, {platform.platform()}"),
        ("command", " ".join(["python -m bench", *map(shlex.quote, settings.argv)])),
    ]
    return setup


def report(
    scenario: Scenario,
    settings: Settings,
    setup: list[tuple[str, str]],
    summaries: list[Summary],
) -> None:
    versions = versions_line(summaries, scenario)
    setup.insert(-1, ("versions", versions))
    print()
    print(text_table(table_rows(summaries, settings.rounds)))
    print()
    print(_footnote(scenario, summaries).replace("`", ""))
    print(f"versions: {versions}")
    for client, headline, tail in failure_notes(summaries):
        print(f"\n{client}: {headline}")
        if tail:
            print("  " + tail.replace("\n", "\n  "))
    section = markdown_section(scenario, settings, setup, summaries)
    update_results(settings.output, scenario.key, section)
    medians = {s.client: s.median for s in summaries if s.median is not None}
    records.store(settings.output, scenario.key, [records.group(scenario.key, "req/s", medians)])
    print(f"\n{scenario.key} section written to {_shown(settings.output)}")


def _start_server(
    scenario: Scenario, settings: Settings, cpus: pinning.CpuPlan
) -> server.RunningServer:
    """The scenario's server; raises ``server.H2Unavailable`` when h2 must be skipped."""
    if scenario.key == "h2":
        if settings.url:
            raise server.H2Unavailable(
                "--url points the benchmark at an external HTTP/1.1 server; the h2 scenario "
                "needs its own nginx"
            )
        if not settings.nginx:
            raise server.H2Unavailable(
                "--no-nginx given, and there is no embedded HTTP/2 server (h2 needs nginx)"
            )
        return server.start_h2(settings.body_size, cpus.server)
    running = server.start(settings.body_size, cpus.server, use_nginx=settings.nginx)
    if running.kind != "nginx":
        why = "--no-nginx given" if not settings.nginx else "nginx not found"
        print("*" * 78)
        print(f"* {why}: using the EMBEDDED fallback server. With nginx the numbers")
        print("* are the reference ones; ratios between clients remain valid either way.")
        print("*" * 78)
    return running


def run_scenario(
    scenario: Scenario,
    settings: Settings,
    pythons: dict[str, Path],
    setup_failures: dict[str, Run],
    cpus: pinning.CpuPlan,
) -> int:
    """Run one scenario and report it: 0 (all ran, or skipped), 1 (a run failed), 2 (setup
    error), 130 (interrupted)."""
    if not settings.clients:
        print(f"{scenario.key} skipped: none of the selected clients takes part in it")
        return 0
    running: server.RunningServer | None = None
    try:
        cafile: Path | None = None
        tls_text: str | None = None
        if settings.url and scenario.key == "h1":
            url = settings.url
            server_text = f"external server at {url}"
            cpus = pinning.CpuPlan(None, cpus.clients)
        else:
            running = _start_server(scenario, settings, cpus)
            url = running.url
            server_text = f"{running.description} at {url}"
            cafile = running.cafile
        if scenario.key == "h2":
            alpn, tls_version, cipher = tls_probe(url, cafile)
            if alpn != "h2":
                raise RuntimeError(f"the server did not select h2 in ALPN (it chose {alpn!r})")
            tls_text = (
                f"{tls_version}, {cipher}, server selects h2 in ALPN; certificate for 127.0.0.1 "
                f"from a throwaway trustme CA; {ssl.OPENSSL_VERSION}"
            )
        status, expect_len, server_header = probe(url, cafile)
        if status != 200:
            print(f"error: GET {url} answered {status}, expected 200", file=sys.stderr)
            return 2
        if settings.url and server_header:
            server_text += f" ({server_header})"
        target = Target(scenario, url, expect_len, cafile)
        checked = running is not None and running.counts_requests
        setup = describe_setup(settings, target, server_text, cpus, checked, tls_text)
        for key, value in setup:
            print(f"{key:>12}: {value}")
        print(flush=True)
        served = running.served_requests if running and running.counts_requests else None
        summaries = run_rounds(settings, pythons, setup_failures, target, cpus.clients, served)
    except KeyboardInterrupt:
        print("\ninterrupted", file=sys.stderr)
        return 130
    except server.H2Unavailable as exc:
        print(f"{scenario.key} scenario SKIPPED: {exc}")
        update_results(settings.output, scenario.key, skipped_section(scenario, settings, str(exc)))
        print(f"{scenario.key} section (skipped) written to {_shown(settings.output)}")
        return 0
    except (OSError, RuntimeError, ValueError, http.client.HTTPException) as exc:
        print(f"error: cannot benchmark {scenario.key}: {exc}", file=sys.stderr)
        return 2
    finally:
        if running is not None:
            running.stop()

    report(scenario, settings, setup, summaries)
    # A peer failing is a result worth reporting (upstream aiosonic cannot finish the h2
    # scenario), not a failure of the benchmark; only this project failing is.
    ours = [summary for summary in summaries if summary.client == PROJECT]
    return 1 if any(run.failed for summary in ours for run in summary.runs) else 0


def _sweep_levels(scenario: Scenario, settings: Settings) -> list[tuple[str, Settings]]:
    """(table title, settings) for each table of the scale and newconn scenarios."""
    if scenario.key == "scale":
        levels = []
        for level in SCALE_LEVELS:
            clients = [c for c in settings.clients if c != "httpx" or level <= HTTPX_SCALE_MAX]
            narrowed = dataclasses.replace(settings, concurrency=level, clients=clients)
            levels.append((f"concurrency {level}", narrowed))
        return levels
    plain = dataclasses.replace(settings, concurrency=settings.concurrency)
    return [("plain HTTP/1.1", plain), ("HTTP/1.1 over TLS", plain)]


def run_sweep(
    scenario: Scenario,
    settings: Settings,
    pythons: dict[str, Path],
    setup_failures: dict[str, Run],
    cpus: pinning.CpuPlan,
) -> int:
    """``scale`` (one table per concurrency) and ``newconn`` (plain, then TLS): each table
    has its own server and interleaved rounds, like ``h1``."""
    if settings.url:
        print(f"{scenario.key} skipped: --url given (this scenario starts its own nginx)")
        return 0
    if not settings.nginx or server.find_nginx() is None:
        reason = "needs nginx (--no-nginx given or nginx not found)"
        update_results(settings.output, scenario.key, skipped_section(scenario, settings, reason))
        print(f"{scenario.key} scenario SKIPPED: {reason}")
        return 0
    settings = settings.heavy()
    parts: list[tuple[str, list[Summary], Settings]] = []
    setup: list[tuple[str, str]] = []
    groups = []
    try:
        for index, (title, narrowed) in enumerate(_sweep_levels(scenario, settings)):
            tls = scenario.key == "newconn" and index == 1
            print(f"--- {scenario.key}: {title}", flush=True)
            running = (
                server.start_h2(settings.body_size, cpus.server)
                if tls
                else server.start(settings.body_size, cpus.server)
            )
            try:
                status, expect_len, _ = probe(running.url, running.cafile)
                if status != 200:
                    raise RuntimeError(f"GET {running.url} answered {status}")
                target = Target(scenario, running.url, expect_len, running.cafile)
                if not setup:
                    server_text = f"{running.description} (a fresh one per table)"
                    setup = describe_setup(narrowed, target, server_text, cpus, True)
                served = running.served_requests if running.counts_requests else None
                failures = {k: v for k, v in setup_failures.items() if k in narrowed.clients}
                summaries = run_rounds(narrowed, pythons, failures, target, cpus.clients, served)
            finally:
                running.stop()
            print(text_table(table_rows(summaries, narrowed.rounds)), flush=True)
            parts.append((title, summaries, narrowed))
            medians = {s.client: s.median for s in summaries if s.median is not None}
            label = f"{scenario.key} c={narrowed.concurrency}" if scenario.key == "scale" else (
                "newconn TLS" if tls else "newconn"
            )
            groups.append(records.group(label, "req/s", medians))
    except KeyboardInterrupt:
        print("\ninterrupted", file=sys.stderr)
        return 130
    except (OSError, RuntimeError, ValueError, http.client.HTTPException) as exc:
        print(f"error: cannot benchmark {scenario.key}: {exc}", file=sys.stderr)
        return 2
    all_summaries = [summary for _, summaries, _ in parts for summary in summaries]
    setup = [(k, v) for k, v in setup if k not in ("connections", "request")]
    if scenario.key == "scale":
        setup.insert(4, ("request", "GET with keep-alive, small body; pool size = concurrency"))
        setup.insert(5, ("skipped", f"httpx above concurrency {HTTPX_SCALE_MAX} (too slow)"))
    else:
        setup.insert(4, ("request", "GET, small body, a new TCP (+TLS) connection for each"))
        setup.insert(5, ("concurrency", str(settings.concurrency)))
        setup.insert(6, ("tls", "second table: nginx TLS (trustme CA), HTTP/1.1 only offered"))
    setup.insert(-1, ("versions", versions_line(all_summaries, scenario)))
    lines = [f"## {scenario.key}: {scenario.title}", ""]
    lines += [f"- {key}: {value}" for key, value in setup]
    for title, summaries, narrowed in parts:
        lines += ["", f"### {title}", "", markdown_table(table_rows(summaries, narrowed.rounds))]
        notes = failure_notes(summaries)
        for client, headline, tail in notes:
            lines.append(f"\n- **{client}** failed: {headline}")
            if tail:
                lines += ["", "  ```", *[f"  {t}" for t in tail.splitlines()], "  ```"]
    lines += [""]
    lines += [f"- `{name}`: {scenario.label(name)}" for name in settings.clients]
    lines += ["", _footnote(scenario, all_summaries), ""]
    update_results(settings.output, scenario.key, "\n".join(lines))
    records.store(settings.output, scenario.key, groups)
    print(f"\n{scenario.key} section written to {_shown(settings.output)}")
    ours = [s for s in all_summaries if s.client == PROJECT]
    return 1 if any(run.failed for summary in ours for run in summary.runs) else 0


def raise_open_files_limit() -> None:
    """Soft RLIMIT_NOFILE up to the hard limit (inherited by nginx and the clients)."""
    try:
        import resource
    except ImportError:  # not on Windows
        return
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != hard:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
        except (ValueError, OSError) as exc:
            print(f"warning: cannot raise the open-files limit from {soft}: {exc}")


def main(argv: list[str] | None = None) -> int:
    settings = parse_args(sys.argv[1:] if argv is None else argv)
    signal.signal(signal.SIGTERM, _on_sigterm)
    cpus = pinning.plan(settings.pin)
    raise_open_files_limit()
    ensure_peer_libraries(settings)

    pythons = {name: Path(sys.executable) for name in settings.clients}
    setup_failures: dict[str, Run] = {}
    if "upstream" in settings.clients:
        try:
            pythons["upstream"] = ensure_upstream_env(settings.uvloop)
        except (OSError, RuntimeError) as exc:
            setup_failures["upstream"] = Run(
                "upstream", reason="upstream venv setup failed", stderr_tail=str(exc)
            )

    worst = 0
    for number, key in enumerate(settings.scenarios):
        scenario = SCENARIOS[key]
        narrowed = settings.for_scenario(scenario)
        if len(settings.scenarios) > 1:
            print(("\n" if number else "") + f"=== {key}: {scenario.title} ".ljust(78, "="))
        failures = {k: v for k, v in setup_failures.items() if k in narrowed.clients}
        if key in ("scale", "newconn"):
            code = run_sweep(scenario, narrowed, pythons, failures, cpus)
        elif key in ("download", "upload", "import"):
            code = transfer.run(
                transfer.Job(
                    key=key,
                    title=scenario.title,
                    clients=narrowed.clients,
                    labels={name: scenario.label(name) for name in narrowed.clients},
                    pythons=pythons,
                    envs={name: _client_env(CLIENTS[name]) for name in narrowed.clients},
                    scripts={name: RUNNERS / CLIENTS[name].script for name in narrowed.clients},
                    failures=failures,
                    rounds=narrowed.rounds,
                    quick=narrowed.duration <= 1.0,
                    uvloop=narrowed.uvloop,
                    prime_malloc=narrowed.prime_malloc,
                    cpus=cpus,
                    nginx=narrowed.nginx,
                    output=narrowed.output,
                    command=" ".join(["python -m bench", *map(shlex.quote, narrowed.argv)]),
                    write_section=functools.partial(update_results, narrowed.output),
                )
            )
        else:
            code = run_scenario(scenario, narrowed, pythons, failures, cpus)
        if code == 130:
            return code
        worst = max(worst, code)
    if settings.chart:
        try:
            chart = records.draw_chart(settings.output, list(SCENARIOS), list(CLIENTS), PROJECT)
            print(f"\nchart written to {_shown(chart)}")
        except Exception as exc:  # a missing chart must not fail the benchmark
            print(f"warning: no chart: {type(exc).__name__}: {exc}")
    return worst


if __name__ == "__main__":
    sys.exit(main())
