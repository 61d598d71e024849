"""The clients under test: who they are, where their code must come from, their environment.

Owns the catalogue of clients (``CLIENTS``, in table order, ``PROJECT`` first), what each
client that runs in a virtual environment of its own needs installed there (the released
aiosonic that ``upstream`` stands for, and the peers pyreqwest, rnet, curl_cffi and niquests)
and where that environment lives (``bench/.venvs/<name>``), the runner scripts' folder, the
environment a client process is started with, and the check that a result was produced by the
library it claims to measure.

It must never start a process, create or change an environment, print, or know about
scenarios: it is the data the rest of the package is built on.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

BENCH_DIR = Path(__file__).resolve().parent
REPO_ROOT = BENCH_DIR.parent
RUNNERS = BENCH_DIR / "runners"
#: The client every ratio is taken against: this repository's aiosonic.
PROJECT = "aiosonic"
UPSTREAM_REQUIREMENT = "aiosonic==1.3.3"
#: Where the clients with requirements of their own get a virtual environment each.
VENVS = BENCH_DIR / ".venvs"
#: Where ``--build compiled`` installs this repository's mypyc build (``bench.builds``).
COMPILED_BUILD = BENCH_DIR / ".run" / "compiled"
#: The builds of this repository's aiosonic the ``aiosonic`` client can run.
BUILDS = ("pure", "compiled")
#: The peers that run in their own environment, with what is installed there.
VENV_REQUIREMENTS = {
    "pyreqwest": "pyreqwest>=0.15,<0.16",
    "rnet": "rnet>=2.4,<2.5",
    "curl_cffi": "curl_cffi>=0.17,<0.18",
    "niquests": "niquests>=3,<4",
}


@dataclass(frozen=True)
class Client:
    """One client: its name in the tables, its runner script, how the tables describe it."""

    name: str
    script: str
    label: str
    #: Installed into ``bench/.venvs/<name>``, where the client then runs; empty: the client
    #: runs in this interpreter.
    requirements: tuple[str, ...] = ()

    @property
    def env(self) -> Path | None:
        """Its own virtual environment (None: it runs in this interpreter)."""
        return VENVS / self.name if self.requirements else None


CLIENTS: dict[str, Client] = {
    c.name: c
    for c in (
        Client(PROJECT, "aiosonic_runner.py", "this repository's aiosonic"),
        Client(
            "upstream",
            "aiosonic_runner.py",
            f"released {UPSTREAM_REQUIREMENT}, in its own venv (bench/.venvs/upstream)",
            (UPSTREAM_REQUIREMENT,),
        ),
        Client("aiohttp", "aiohttp_runner.py", "aiohttp ClientSession, TCPConnector(limit=N)"),
        Client("httpx", "httpx_runner.py", "httpx AsyncClient, Limits(max_connections=N)"),
        Client(
            "pyreqwest",
            "pyreqwest_runner.py",
            "pyreqwest Client (Rust: reqwest/hyper on a tokio thread), "
            "ClientBuilder().max_connections(N).pool_max_idle_per_host(N), in its own venv",
            (VENV_REQUIREMENTS["pyreqwest"],),
        ),
        Client(
            "rnet",
            "rnet_runner.py",
            "rnet Client (Rust: a hyper fork on a tokio thread), pool_max_size=N, "
            "pool_max_idle_per_host=N, in its own venv",
            (VENV_REQUIREMENTS["rnet"],),
        ),
        Client(
            "curl_cffi",
            "curl_cffi_runner.py",
            "curl_cffi AsyncSession(max_clients=N) (libcurl multi driven by the event loop), "
            "in its own venv",
            (VENV_REQUIREMENTS["curl_cffi"],),
        ),
        Client(
            "niquests",
            "niquests_runner.py",
            "niquests AsyncSession(pool_maxsize=N), in its own venv",
            (VENV_REQUIREMENTS["niquests"],),
        ),
        Client(
            "raw",
            "raw_runner.py",
            "bare asyncio.Protocol per connection, no client library: the ceiling",
        ),
        Client(
            "raw_await",
            "raw_await_runner.py",
            "the raw connections, each request awaited through one future by a coroutine: "
            "the floor of any awaitable client API",
        ),
    )
}
#: The peers other than upstream that run in an environment of their own.
VENV_PEERS = tuple(VENV_REQUIREMENTS)


def client_env(client: Client, build: str = "pure") -> dict[str, str]:
    """This process's environment, adjusted so that ``client`` imports the right library
    (for ``PROJECT``: the sources, or the compiled build in ``COMPILED_BUILD``)."""
    env = dict(os.environ)
    env.pop("PYTHONHOME", None)
    if client.env is not None:
        env.pop("PYTHONPATH", None)  # nothing from this repo may shadow what its venv holds
    elif client.name == PROJECT:
        first = COMPILED_BUILD if build == "compiled" else REPO_ROOT
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(first), env.get("PYTHONPATH")]))
    return env


def check_origin(client: Client, info: dict[str, Any], build: str = "pure") -> str:
    """Why this result does not come from the library it claims to measure ("" if it does).

    This project's aiosonic must come from the repository's sources (``build`` pure) or from
    the compiled build in ``COMPILED_BUILD`` (``build`` compiled), and be the build it says
    (``aiosonic.COMPILED``, where the package has it); a client with its own venv must have
    imported its library from there (so upstream can never measure this repository).
    """
    env = client.env
    if client.name != PROJECT and env is None:
        return ""
    module = Path(str(info.get("module", ""))).resolve()
    if client.name == PROJECT:
        home = COMPILED_BUILD if build == "compiled" else REPO_ROOT
        if not module.is_relative_to(home.resolve() / "aiosonic"):
            return f"imported aiosonic from {module}, not from {home / 'aiosonic'}"
        compiled = info.get("compiled")
        if compiled is not None and compiled != (build == "compiled"):
            return f"the {build} build was asked for, aiosonic.COMPILED is {compiled}"
        return ""
    if env is not None and not module.is_relative_to(env.resolve()):
        return f"imported {info.get('name', 'its library')} from {module}, not from {env}"
    return ""
