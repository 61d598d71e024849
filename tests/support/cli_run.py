"""Ways to run the command line from a test whose event loop keeps serving the server:

- ``cli``: in-process, ``aiosonic.cli.main.run`` in a worker thread (it runs its own event
  loop there) against in-memory streams that may claim to be terminals;
- ``cli_process``: ``python -m aiosonic`` as a subprocess with stdout/stderr piped;
- ``cli_pty``: the same with stdout and/or stderr on a pseudo-terminal.
"""

from __future__ import annotations

import asyncio
import io
import os
import pty
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from aiosonic.cli.console import Console
from aiosonic.cli.main import run

ROOT = Path(__file__).resolve().parents[2]
ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


@dataclass
class Result:
    code: int
    out: bytes
    err: str

    @property
    def text(self) -> str:
        return self.out.decode("utf-8")


def strip_ansi(text: str) -> str:
    return ANSI.sub("", text)


async def cli(
    *args: str,
    out_tty: bool = False,
    err_tty: bool = False,
    env: dict[str, str] | None = None,
) -> Result:
    out, err = io.BytesIO(), io.StringIO()
    console = Console(out=out, err=err, out_is_tty=out_tty, err_is_tty=err_tty, env=env or {})
    code = await asyncio.to_thread(run, list(args), console)
    return Result(code, out.getvalue(), err.getvalue())


def _env(extra: dict[str, str] | None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "COLUMNS")}
    env["PYTHONPATH"] = str(ROOT)
    env.update(extra or {})
    return env


async def cli_process(*args: str, env: dict[str, str] | None = None) -> Result:
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "aiosonic", *args,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env=_env(env),
        cwd=ROOT,
    )
    out, err = await asyncio.wait_for(proc.communicate(), 30)
    assert proc.returncode is not None
    return Result(proc.returncode, out, err.decode("utf-8"))


def _drain(fd: int) -> bytes:
    data = bytearray()
    while True:
        try:
            piece = os.read(fd, 65536)
        except OSError:  # EIO: the child closed its side of the terminal
            break
        if not piece:
            break
        data += piece
    return bytes(data)


async def cli_pty(
    *args: str, tty: Literal["stdout", "stderr"] = "stdout", env: dict[str, str] | None = None
) -> Result:
    """Run with stdout or stderr on a pseudo-terminal (the other one piped); what the
    terminal shows comes back in ``out`` or ``err`` with its CRLF turned back into LF."""
    stdout_tty = tty == "stdout"
    master, slave = pty.openpty()
    pipe = asyncio.subprocess.PIPE
    try:
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "aiosonic", *args,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=slave if stdout_tty else pipe,
            stderr=pipe if stdout_tty else slave,
            env=_env(env),
            cwd=ROOT,
        )
    finally:
        os.close(slave)  # the child holds it now: EOF on the master when the child exits
    try:
        piped = proc.stderr if stdout_tty else proc.stdout
        assert piped is not None
        shown, other = await asyncio.wait_for(
            asyncio.gather(asyncio.to_thread(_drain, master), piped.read()), 30
        )
        await proc.wait()
    finally:
        os.close(master)
    assert proc.returncode is not None
    shown = shown.replace(b"\r\n", b"\n")
    if stdout_tty:
        return Result(proc.returncode, shown, other.decode("utf-8"))
    return Result(proc.returncode, other, shown.decode("utf-8"))
