"""The clients under test: who they are, where their code must come from, their environment.

Owns the catalogue of clients (``CLIENTS``, in table order, ``PROJECT`` first), the released
aiosonic that ``upstream`` stands for and where its virtual environment lives, the runner
scripts' folder, the environment a client process is started with, and the check that a
result was produced by the library it claims to measure.

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
UPSTREAM_ENV = BENCH_DIR / ".venvs" / "upstream"


@dataclass(frozen=True)
class Client:
    """One client: its name in the tables, its runner script, how the tables describe it."""

    name: str
    script: str
    label: str


CLIENTS: dict[str, Client] = {
    c.name: c
    for c in (
        Client(PROJECT, "aiosonic_runner.py", "this repository's aiosonic"),
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


def client_env(client: Client) -> dict[str, str]:
    """This process's environment, adjusted so that ``client`` imports the right aiosonic."""
    env = dict(os.environ)
    env.pop("PYTHONHOME", None)
    if client.name == "upstream":
        env.pop("PYTHONPATH", None)  # nothing from this repo may shadow the released package
    elif client.name == PROJECT:
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO_ROOT), env.get("PYTHONPATH")]))
    return env


def check_origin(client: Client, info: dict[str, Any]) -> str:
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
