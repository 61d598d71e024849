"""ANSI colours: the palette of the command line and the one function that applies it.

A ``Palette`` maps roles (a header name, a JSON key...) to SGR codes; ``Palette.plain()``
maps every role to nothing, so renderers never test whether colours are on.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Palette"]

RESET = "\x1b[0m"


def _sgr(code: str) -> str:
    return f"\x1b[{code}m"


@dataclass(frozen=True)
class Palette:
    """SGR sequences per role; an empty string means "leave as is"."""

    method: str = _sgr("1;32")
    target: str = _sgr("1;36")
    version: str = _sgr("34")
    ok: str = _sgr("1;32")
    redirect: str = _sgr("1;33")
    error: str = _sgr("1;31")
    reason: str = _sgr("36")
    header_name: str = _sgr("36")
    header_value: str = ""
    key: str = _sgr("1;34")
    string: str = _sgr("32")
    number: str = _sgr("36")
    literal: str = _sgr("35")
    punctuation: str = ""
    notice: str = _sgr("1;33")

    @classmethod
    def plain(cls) -> Palette:
        return cls(**{name: "" for name in cls.__dataclass_fields__})

    @staticmethod
    def paint(text: str, code: str) -> str:
        return f"{code}{text}{RESET}" if code and text else text

    def status(self, status: int) -> str:
        if status < 300:
            return self.ok
        if status < 400:
            return self.redirect
        return self.error
