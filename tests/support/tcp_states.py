"""This process's TCP sockets as the kernel reports them (Linux ``/proc``), seen from
outside the client:

* their states: how a test sees that a server closed an idle connection (our end leaves
  ESTABLISHED the moment the server's FIN arrives: CLOSE_WAIT until the client closes its
  end, then gone);
* their options (``nodelay_to``): whether Nagle's algorithm is off on a connection.
"""

from __future__ import annotations

import asyncio
import os
import socket
from pathlib import Path

__all__ = ["ESTABLISHED", "available", "nodelay_to", "states_to", "wait_none_established"]

ESTABLISHED = "ESTABLISHED"
# /proc/net/tcp's "st" column (include/net/tcp_states.h)
_STATES = {
    0x01: "ESTABLISHED", 0x02: "SYN_SENT", 0x03: "SYN_RECV", 0x04: "FIN_WAIT1",
    0x05: "FIN_WAIT2", 0x06: "TIME_WAIT", 0x07: "CLOSE", 0x08: "CLOSE_WAIT",
    0x09: "LAST_ACK", 0x0A: "LISTEN", 0x0B: "CLOSING",
}


def available() -> bool:
    """True where ``/proc`` shows sockets (Linux)."""
    return Path("/proc/net/tcp").exists() and Path("/proc/self/fd").is_dir()


def _own_sockets() -> dict[str, int]:
    """Socket inode -> one of this process's descriptors for it."""
    sockets = {}
    for entry in os.listdir("/proc/self/fd"):
        try:
            link = os.readlink(f"/proc/self/fd/{entry}")
        except OSError:
            continue
        if link.startswith("socket:["):
            sockets[link[8:-1]] = int(entry)
    return sockets


def _to(remote_port: int) -> list[tuple[str, int]]:
    """(state, descriptor) of this process's TCP sockets connected to ``remote_port``."""
    own = _own_sockets()
    found = []
    for name in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(name).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            if len(fields) < 10 or fields[9] not in own:
                continue
            if int(fields[2].rsplit(":", 1)[1], 16) == remote_port:
                found.append((_STATES.get(int(fields[3], 16), fields[3]), own[fields[9]]))
    return found


def states_to(remote_port: int) -> list[str]:
    """The states of this process's TCP sockets connected to ``remote_port``."""
    return [state for state, _ in _to(remote_port)]


def nodelay_to(remote_port: int) -> list[bool]:
    """Whether TCP_NODELAY is set, for each of this process's ESTABLISHED TCP sockets
    connected to ``remote_port`` (read on a duplicate of its descriptor)."""
    found = []
    for state, fd in _to(remote_port):
        if state != ESTABLISHED:
            continue
        with socket.socket(fileno=os.dup(fd)) as duplicate:
            found.append(bool(duplicate.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY)))
    return found


async def wait_none_established(remote_port: int, timeout: float) -> list[str]:
    """Wait (polling every 10 ms, at most ``timeout`` seconds) until none of this
    process's sockets to ``remote_port`` is ESTABLISHED; answer the states seen last."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        states = states_to(remote_port)
        if ESTABLISHED not in states or loop.time() >= deadline:
            return states
        await asyncio.sleep(0.01)
