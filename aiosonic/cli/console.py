"""``Console``: where the command line writes, and what it knows about the terminal.

It bundles stdout (binary), stderr (text), whether each is a terminal, and the environment,
so the rest of the CLI never looks at ``sys`` or ``os.environ`` directly and can be run
in-process against in-memory streams. It never decides what to print.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import BinaryIO, TextIO

__all__ = ["Console"]

_DEFAULT_WIDTH = 80


@dataclass
class Console:
    """The output streams of one run.

    ``out`` receives bodies and heads as bytes; ``err`` receives messages and live progress.
    """

    out: BinaryIO
    err: TextIO
    out_is_tty: bool = False
    err_is_tty: bool = False
    env: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def from_sys(cls) -> Console:
        return cls(
            out=sys.stdout.buffer,
            err=sys.stderr,
            out_is_tty=_isatty(sys.stdout),
            err_is_tty=_isatty(sys.stderr),
            env=os.environ,
        )

    @property
    def no_color(self) -> bool:
        """The user asked for no colours (https://no-color.org: set and not empty)."""
        return bool(self.env.get("NO_COLOR"))

    def err_width(self) -> int:
        """Columns of the terminal behind stderr (80 when unknown)."""
        try:
            return os.get_terminal_size(self.err.fileno()).columns or _DEFAULT_WIDTH
        except (OSError, ValueError, AttributeError):
            return _DEFAULT_WIDTH

    def error(self, message: str) -> None:
        """One line on stderr, prefixed with the program name."""
        line = " ".join(message.split())  # never more than one line
        self.err.write(f"aiosonic: {line}\n")
        self.err.flush()


def _isatty(stream: object) -> bool:
    isatty = getattr(stream, "isatty", None)
    try:
        return bool(isatty()) if isatty is not None else False
    except (OSError, ValueError):
        return False
