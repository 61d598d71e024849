"""The ``aiosonic`` command line: an httpie-style HTTP client built on the public API.

    aiosonic [METHOD] URL [Header:Value ...] [key=value ...] [key:=json ...] [key==param ...]

Modules, one job each:

- ``items``: parse httpie-style request items and URL shorthands (pure).
- ``args``: the argparse parser, exit-code documentation and the validated ``Options``.
- ``body``: turn options and items into headers and a body ready for ``HTTPClient``.
- ``ansi``, ``highlight``, ``output``: colours, JSON highlighting, rendering heads and bodies.
- ``progress``: a dependency-free live line for downloads and parallel runs.
- ``session``: the configured ``HTTPClient`` and the one way a request is sent.
- ``exchange``: one request, its output, its download; ``parallel``: many URLs at once.
- ``exits``: exit codes and how errors map to them; ``console``: the streams and the terminal.
- ``main``: the entry point, ``main(argv) -> int``.

Nothing here reaches into aiosonic's private modules.
"""

from __future__ import annotations

from .main import main

__all__ = ["main"]
