"""CPU pinning: the server gets one core, the client processes another.

Affinity is inherited across ``fork``/``exec``, so a child is pinned by narrowing this
process's own affinity for the instant it is spawned (no ``taskset`` needed). On platforms
without ``os.sched_setaffinity`` or with a single usable CPU nothing is pinned. ``popen``
starts a benchmark child that way, with its output piped back.

It must never leave this process's own affinity narrowed after a spawn, nor decide what a
child runs or how its output is judged.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class CpuPlan:
    """Which CPU the server and the clients run on (``None``: not pinned)."""

    server: int | None
    clients: int | None

    def describe(self) -> str:
        if self.server is None and self.clients is None:
            return "not pinned"
        parts = []
        if self.server is not None:
            parts.append(f"server on CPU {self.server}")
        if self.clients is not None:
            parts.append(f"clients on CPU {self.clients}")
        return ", ".join(parts)


def plan(enabled: bool = True) -> CpuPlan:
    """Server on the first usable CPU and clients on the second, when there are two."""
    if not enabled or not hasattr(os, "sched_setaffinity"):
        return CpuPlan(None, None)
    cpus = sorted(os.sched_getaffinity(0))
    if len(cpus) < 2:
        return CpuPlan(None, None)
    return CpuPlan(cpus[0], cpus[1])


@contextmanager
def spawn_on(cpu: int | None) -> Iterator[None]:
    """Inside this block, processes started by this one are pinned to ``cpu``."""
    if cpu is None:
        yield
        return
    saved = os.sched_getaffinity(0)
    os.sched_setaffinity(0, {cpu})
    try:
        yield
    finally:
        os.sched_setaffinity(0, saved)


def popen(
    argv: list[str], cpu: int | None, cwd: Path, env: dict[str, str]
) -> subprocess.Popen[str]:
    """Start ``argv`` pinned to ``cpu``, no stdin, stdout and stderr piped as text."""
    with spawn_on(cpu):
        return subprocess.Popen(
            argv,
            cwd=cwd,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
