"""The interpreters the clients run in: this one with the peer libraries, and the clients' venvs.

Owns the one-time setup before any scenario: installing the project's ``bench`` extra into
this interpreter when a module the selected scenarios need is missing, creating (once, then
reusing) ``bench/.venvs/<name>`` for each selected client that has requirements of its own
(upstream: the released aiosonic; pyreqwest, rnet, curl_cffi, niquests: those libraries),
each with ``uvloop`` added when a run asks for it, the compiled build for ``--build compiled``
(made by ``bench.builds``), and ``Prepared``: the map of client name
to interpreter that the scenarios start each client with, the clients whose setup failed and
the CPU plan.

A venv is reused while its stamp (``.bench-installed.json``: this interpreter's version and
what was installed) says it holds what is wanted; a venv made by another Python version is
made anew. Packages are installed by name with pip.

It must never run a client or a server, measure anything, or install into any environment
other than this interpreter's and ``bench/.venvs/`` (``bench.builds`` writes only under
``bench/.run/``). A failed install is reported (as a
warning, or as that client's setup failure, shown in its tables), never fatal.
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

from bench import builds, pinning
from bench.clients import CLIENTS, PROJECT, REPO_ROOT, Client
from bench.report import Run, tail
from bench.settings import Settings

STAMP_NAME = ".bench-installed.json"
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


def _read_stamp(env: Path) -> dict[str, Any]:
    try:
        stamp = json.loads((env / STAMP_NAME).read_text())
    except (OSError, ValueError):
        return {}
    return stamp if isinstance(stamp, dict) else {}


def ensure_client_env(client: Client, need_uvloop: bool) -> Path:
    """``client.env`` with ``client.requirements`` (and uvloop when asked) installed; created
    once, then reused. Returns the venv's interpreter."""
    env = client.env
    if env is None:
        raise ValueError(f"{client.name} runs in this interpreter, not in a venv of its own")
    python = _venv_python(env)
    this_python = platform.python_version()
    stamp = _read_stamp(env) if python.exists() else {}
    if stamp.get("python") != this_python:
        if env.exists():
            shutil.rmtree(env)
        print(f"creating {env.relative_to(REPO_ROOT)} (one time) ...", flush=True)
        _run_checked([sys.executable, "-m", "venv", str(env)], "python -m venv")
        stamp = {"python": this_python, "installed": []}
    installed: list[str] = list(stamp.get("installed", []))
    wanted = [*client.requirements] + (["uvloop"] if need_uvloop else [])
    missing = [req for req in wanted if req not in installed]
    if missing:
        print(f"installing {' '.join(missing)} into {env.relative_to(REPO_ROOT)} ...", flush=True)
        pip = [str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
        _run_checked([*pip, *missing], f"pip install into the {client.name} venv")
        stamp["installed"] = sorted({*installed, *missing})
        (env / STAMP_NAME).write_text(json.dumps(stamp, indent=2) + "\n")
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
    """Each selected client's interpreter (creating the venvs of the selected clients that
    have requirements of their own)."""
    pythons = {name: Path(sys.executable) for name in settings.clients}
    setup_failures: dict[str, Run] = {}
    if settings.build == "compiled" and PROJECT in settings.clients:
        try:
            builds.ensure_compiled()
        except (OSError, RuntimeError) as exc:
            print(f"warning: {exc}\n({PROJECT} will be reported as failed)", flush=True)
            reason = "the compiled build could not be made"
            setup_failures[PROJECT] = Run(PROJECT, reason=reason, stderr_tail=str(exc))
    for name in settings.clients:
        client = CLIENTS[name]
        if client.env is None:
            continue
        try:
            pythons[name] = ensure_client_env(client, settings.uvloop)
        except (OSError, RuntimeError) as exc:
            print(f"warning: {exc}\n({name} will be reported as failed)", flush=True)
            reason = f"{name} venv setup failed"
            setup_failures[name] = Run(name, reason=reason, stderr_tail=str(exc))
    return Prepared(pythons, setup_failures, cpus)
