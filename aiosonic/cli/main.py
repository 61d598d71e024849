"""Entry point of the ``aiosonic`` command: ``main(argv) -> exit status``.

It parses the options, runs one exchange or a parallel run in a fresh event loop, and is
the one place where failures become a one-line message and an exit code (no traceback for
network, TLS, timeout, protocol or local file errors). ``run`` takes a ``Console`` so it
can be driven in-process; ``main`` wires it to the real stdout, stderr and environment.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import sys

from aiosonic.exceptions import AiosonicError

from .args import Options, parse_args
from .body import prepare
from .console import Console
from .exchange import run_exchange
from .exits import ExitCode, describe, exit_for_error
from .items import ItemError
from .output import choose_style
from .parallel import read_urls, run_parallel
from .session import Session

__all__ = ["main", "run"]


async def _run(options: Options, console: Console) -> ExitCode:
    prepared = prepare(options)
    style = choose_style(options.pretty, console.out_is_tty, console.no_color)
    if options.urls_file is not None:
        urls = read_urls(options.urls_file)
        async with Session(options, prepared, pool_size=options.parallel or 1) as session:
            return await run_parallel(session, urls, console)
    async with Session(options, prepared) as session:
        return await run_exchange(session, console, style)


def run(argv: list[str], console: Console) -> int:
    """Run the command line ``argv`` (without the program name) writing to ``console``."""
    try:
        with contextlib.redirect_stderr(console.err):  # argparse reports usage errors there
            options = parse_args(argv)
    except SystemExit as exc:  # argparse: --help, --version (0) or a usage error (2)
        return exc.code if isinstance(exc.code, int) else ExitCode.USAGE
    try:
        return int(asyncio.run(_run(options, console)))
    except ItemError as exc:
        console.error(f"error: {exc}")
        return ExitCode.USAGE
    except BrokenPipeError:
        raise  # the reader of stdout went away: main() ends quietly
    except (AiosonicError, OSError) as exc:
        console.error(describe(exc))
        return int(exit_for_error(exc))
    except KeyboardInterrupt:
        console.err.write("\n")
        return ExitCode.INTERRUPTED


def main(argv: list[str] | None = None) -> int:
    """The console script: ``aiosonic [METHOD] URL [items]``; returns the exit status."""
    console = Console.from_sys()
    try:
        code = run(sys.argv[1:] if argv is None else list(argv), console)
        console.out.flush()
    except BrokenPipeError:
        # The reader went away (``aiosonic URL | head``): stop quietly, and make sure the
        # interpreter's final flush of stdout does not complain about it either.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
        return ExitCode.OK
    return code
