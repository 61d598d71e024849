"""``python -m aiosonic``: the command line (see ``aiosonic.cli``)."""

from __future__ import annotations

from aiosonic.cli.main import main

if __name__ == "__main__":
    raise SystemExit(main())
