"""This process's sockets and files as the kernel sees them (Linux ``/proc``): how tests see
from outside the client that a connection or a file really was closed."""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
from pathlib import Path


def ipv6_available() -> bool:
    """True if this machine can bind a socket on ``::1``."""
    try:
        with socket.socket(socket.AF_INET6, socket.SOCK_STREAM) as sock:
            sock.bind(("::1", 0))
    except OSError:
        return False
    return True


def _tcp_table() -> dict[str, tuple[int, int]]:
    """Socket inode -> (local port, remote port) for this network namespace's TCP sockets."""
    table: dict[str, tuple[int, int]] = {}
    for name in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            with open(name) as handle:
                lines = handle.readlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            if len(fields) < 10:
                continue
            local_port = int(fields[1].rsplit(":", 1)[1], 16)
            remote_port = int(fields[2].rsplit(":", 1)[1], 16)
            table[fields[9]] = (local_port, remote_port)
    return table


def tcp_fds(*, local_port: int | None = None, remote_port: int | None = None) -> list[int]:
    """This process's open TCP socket descriptors with the given local and/or remote port
    (Linux ``/proc``; an empty list where that is not available)."""
    table = _tcp_table()
    found = []
    fd_dir = "/proc/self/fd"
    try:
        entries = os.listdir(fd_dir)
    except OSError:
        return []
    for entry in entries:
        try:
            link = os.readlink(f"{fd_dir}/{entry}")
        except OSError:
            continue
        if not link.startswith("socket:["):
            continue
        ports = table.get(link[8:-1])
        if ports is None:
            continue
        if local_port is not None and ports[0] != local_port:
            continue
        if remote_port is not None and ports[1] != remote_port:
            continue
        found.append(int(entry))
    return found


async def wait_closed(*, local_port: int | None = None, remote_port: int | None = None,
                      timeout: float = 2.0) -> list[int]:
    """Wait until no socket of this process matches; return those still open at the end."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        left = tcp_fds(local_port=local_port, remote_port=remote_port)
        if not left or loop.time() >= deadline:
            return left
        await asyncio.sleep(0.01)


def open_fds_for(path: Path) -> list[str]:
    """File descriptors of this process that refer to ``path`` (Linux ``/proc``)."""
    target = str(path.resolve())
    found = []
    fd_dir = Path("/proc/self/fd")
    for entry in fd_dir.iterdir():
        with contextlib.suppress(OSError):
            if os.readlink(entry) == target:
                found.append(entry.name)
    return found
