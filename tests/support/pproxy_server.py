"""Run pproxy (an independent SOCKS implementation) as a child process for interop tests.

``python pproxy_server.py URI...`` serves each pproxy URI (``socks5://127.0.0.1:0#user:pw``)
and prints one listening port per line, then serves until terminated. pproxy's own
command line cannot start on this venv (it calls ``get_event_loop()`` under uvloop's
policy), and in-process it leaves tasks and sockets behind, hence a child process.
Authentication is not remembered per client address (``authtime=-1``): every connection
authenticates.
"""

from __future__ import annotations

import asyncio
import contextlib
import subprocess
import sys
from collections.abc import Iterator


async def _serve(uris: list[str]) -> None:
    import pproxy  # type: ignore[import-untyped]

    for uri in uris:
        server = await pproxy.Server(uri).start_server({"rserver": [], "authtime": -1})
        print(server.sockets[0].getsockname()[1], flush=True)
    await asyncio.Event().wait()


@contextlib.contextmanager
def running(*uris: str) -> Iterator[list[int]]:
    """Start the child, yield the ports (in the order of ``uris``), stop it."""
    child = subprocess.Popen(
        [sys.executable, __file__, *uris],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert child.stdout is not None
        ports = [int(child.stdout.readline()) for _ in uris]
        yield ports
    finally:
        child.terminate()
        child.wait(10)
        if child.stdout is not None:
            child.stdout.close()


if __name__ == "__main__":
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_serve(sys.argv[1:]))
