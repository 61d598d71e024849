"""A real proxy.py process on loopback (absolute-form for http, CONNECT tunnels for https,
optionally Basic authentication), started and stopped around a test session."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path


@dataclass
class ProxyProcess:
    port: int
    auth: str | None
    log: Path

    @property
    def address(self) -> str:
        return f"http://127.0.0.1:{self.port}"


def _wait_listening(port_file: Path, proc: subprocess.Popen[bytes], log: Path) -> int:
    deadline = time.monotonic() + 15
    port = 0
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"proxy.py exited with {proc.returncode}: {log.read_text()}")
        if not port:
            text = port_file.read_text().strip() if port_file.exists() else ""
            port = int(text.split()[0]) if text else 0
        if port:
            with contextlib.suppress(OSError), socket.create_connection(
                ("127.0.0.1", port), timeout=0.5
            ):
                return port
        time.sleep(0.02)
    raise RuntimeError(f"proxy.py did not start listening: {log.read_text()}")


@contextlib.contextmanager
def run_proxy(tmp: Path, auth: str | None) -> Iterator[ProxyProcess]:
    port_file = tmp / "port"
    log = tmp / "proxy.log"
    command = [
        sys.executable, "-m", "proxy",
        "--hostname", "127.0.0.1",
        "--port", "0",
        "--port-file", str(port_file),
        "--num-workers", "1",
        "--num-acceptors", "1",
        "--timeout", "30",
        "--log-level", "WARNING",
    ]  # fmt: skip
    if auth is not None:
        command += ["--basic-auth", auth]
    with open(log, "wb") as log_file:
        proc = subprocess.Popen(
            command,
            stdin=subprocess.DEVNULL,
            stdout=log_file,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: teardown ends its workers too
        )
    try:
        port = _wait_listening(port_file, proc, log)
        yield ProxyProcess(port=port, auth=auth, log=log)
    finally:
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=5)
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, signal.SIGKILL)  # stray workers of the group we created
