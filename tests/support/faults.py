"""Helpers for the hostile tests: socket accounting through /proc and a faulty TCP proxy."""

from __future__ import annotations

import asyncio
import contextlib
import os
import random
import socket
import struct
from collections import Counter
from dataclasses import dataclass, field

HOST = "127.0.0.1"


def _socket_inodes() -> set[int]:
    inodes: set[int] = set()
    for name in os.listdir("/proc/self/fd"):
        try:
            target = os.readlink(f"/proc/self/fd/{name}")
        except OSError:
            continue  # closed between listdir and readlink
        if target.startswith("socket:["):
            inodes.add(int(target[8:-1]))
    return inodes


def tcp_fds_to_port(port: int) -> int:
    """How many of this process's file descriptors are TCP sockets whose peer is ``port``."""
    inodes = _socket_inodes()
    count = 0
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            with open(table) as fh:
                lines = fh.read().splitlines()[1:]
        except FileNotFoundError:
            continue
        for line in lines:
            fields = line.split()
            remote_port = int(fields[2].rsplit(":", 1)[1], 16)
            if remote_port == port and int(fields[9]) in inodes:
                count += 1
    return count


def reset(transport: asyncio.BaseTransport) -> None:
    """Abort ``transport`` with a TCP RST (SO_LINGER 0), not a FIN."""
    sock = transport.get_extra_info("socket")
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    transport.abort()  # type: ignore[attr-defined]


@dataclass
class ProxyStats:
    connections: int = 0
    faulty: int = 0
    cuts: Counter[str] = field(default_factory=Counter)

    @property
    def total_cuts(self) -> int:
        return sum(self.cuts.values())


class FaultProxy:
    """A loopback TCP proxy that cuts a random share of its connections.

    A faulty connection is cut after a random number of bytes in one direction
    (``up``: client to server, ``down``: server to client), either with an RST or with a
    plain close, after forwarding exactly the bytes before the cut point.
    """

    def __init__(
        self,
        upstream_port: int,
        rate: float,
        seed: int,
        up_range: int = 200,
        down_range: int = 60_000,
    ) -> None:
        self.upstream_port = upstream_port
        self.rate = rate
        self.rng = random.Random(seed)
        self.up_range = up_range
        self.down_range = down_range
        self.stats = ProxyStats()
        self.port = 0
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[None]] = set()

    async def start(self) -> FaultProxy:
        self._server = await asyncio.start_server(self._on_client, HOST, 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    def url(self, path: str) -> str:
        return f"http://{HOST}:{self.port}{path}"

    async def _on_client(
        self, c_reader: asyncio.StreamReader, c_writer: asyncio.StreamWriter
    ) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        self.stats.connections += 1
        plan: tuple[str, int, str] | None = None
        if self.rng.random() < self.rate:
            self.stats.faulty += 1
            direction = self.rng.choice(("up", "down"))
            limit = self.up_range if direction == "up" else self.down_range
            plan = (direction, self.rng.randint(0, limit), self.rng.choice(("rst", "close")))
        u_writer: asyncio.StreamWriter | None = None
        try:
            u_reader, u_writer = await asyncio.open_connection(HOST, self.upstream_port)
            pumps = [
                asyncio.ensure_future(
                    self._pump(c_reader, u_writer, "up", plan, c_writer, u_writer)
                ),
                asyncio.ensure_future(
                    self._pump(u_reader, c_writer, "down", plan, c_writer, u_writer)
                ),
            ]
            try:
                await asyncio.wait(pumps, return_when=asyncio.FIRST_COMPLETED)
            finally:
                for pump in pumps:
                    pump.cancel()
                await asyncio.gather(*pumps, return_exceptions=True)
        except (ConnectionError, OSError):
            pass
        finally:
            self._tasks.discard(task)
            for writer in (c_writer, u_writer):
                if writer is not None:
                    writer.close()
            for writer in (c_writer, u_writer):
                if writer is not None:
                    with contextlib.suppress(Exception, asyncio.CancelledError):
                        await writer.wait_closed()

    async def _pump(
        self,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        direction: str,
        plan: tuple[str, int, str] | None,
        c_writer: asyncio.StreamWriter,
        u_writer: asyncio.StreamWriter,
    ) -> None:
        sent = 0
        try:
            while True:
                data = await reader.read(65536)
                if not data:
                    return
                if plan is not None and plan[0] == direction and sent + len(data) >= plan[1]:
                    writer.write(data[: plan[1] - sent])
                    mode = plan[2]
                    self.stats.cuts[f"{direction}-{mode}"] += 1
                    if mode == "rst":
                        reset(c_writer.transport)
                        reset(u_writer.transport)
                    else:
                        # a FIN after the bytes before the cut point
                        c_writer.close()
                        u_writer.close()
                    return
                writer.write(data)
                sent += len(data)
                await writer.drain()
        except (ConnectionError, OSError):
            return

    async def close(self) -> None:
        if self._server is None:
            return
        self._server.close()
        tasks = list(self._tasks)
        if tasks:
            # Handlers end by themselves once their client has gone; cancel stragglers only.
            _, late = await asyncio.wait(tasks, timeout=2)
            for task in late:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
        await self._server.wait_closed()
        self._server = None
