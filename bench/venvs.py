"""The interpreters the clients run in: this one with the peer libraries, and the upstream venv.

Owns the one-time setup before any scenario: installing the project's ``bench`` extra into
this interpreter when a module the selected scenarios need is missing, creating (once, then
reusing) ``bench/.venvs/upstream`` with the released aiosonic, and ``Prepared``: the map of
client name to interpreter that the scenarios start each client with, the clients whose setup
failed and the CPU plan.

It must never run a client or a server, measure anything, or install into any environment
other than this interpreter's and ``bench/.venvs/upstream``. A failed install is reported
(as a warning, or as the upstream client's setup failure), never fatal.
"""

from __future__ import annotations

import dataclasses
import importlib.util
import json
import os
import platform
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench import pinning
from bench.clients import REPO_ROOT, UPSTREAM_ENV, UPSTREAM_REQUIREMENT
from bench.report import Run, tail
from bench.settings import Settings

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


def _run_checked(argv: list[str], what: str) -> None:
    proc = subprocess.run(argv, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise RuntimeError(f"{what} failed ({proc.returncode}):\n{tail(proc.stdout + proc.stderr)}")


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
        pip = [str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
        _run_checked([*pip, *missing], "pip install into the upstream venv")
        stamp["installed"] = sorted({*installed, *missing})
        UPSTREAM_STAMP.write_text(json.dumps(stamp, indent=2) + "\n")
    return python


@dataclass(frozen=True)
class Prepared:
    """What the one-time setup hands every scenario besides its settings."""

    #: Each selected client's interpreter.
    pythons: dict[str, Path]
    #: A failed ``Run`` for each client that could not be set up (it is not run).
    failures: dict[str, Run]
    cpus: pinning.CpuPlan

    def only(self, clients: list[str]) -> Prepared:
        """The same, with the setup failures of ``clients`` only."""
        failures = {k: v for k, v in self.failures.items() if k in clients}
        return dataclasses.replace(self, failures=failures)


def prepare(settings: Settings, cpus: pinning.CpuPlan) -> Prepared:
    """Each selected client's interpreter (creating the upstream venv when it is selected)."""
    pythons = {name: Path(sys.executable) for name in settings.clients}
    setup_failures: dict[str, Run] = {}
    if "upstream" in settings.clients:
        try:
            pythons["upstream"] = ensure_upstream_env(settings.uvloop)
        except (OSError, RuntimeError) as exc:
            setup_failures["upstream"] = Run(
                "upstream", reason="upstream venv setup failed", stderr_tail=str(exc)
            )
    return Prepared(pythons, setup_failures, cpus)
