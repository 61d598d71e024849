"""Which build of aiosonic is running: the compiled one (mypyc, see ``hatch_build.py``) or
the pure-Python one. Both run the same sources; ``COMPILED`` says which."""

from __future__ import annotations

from importlib.machinery import EXTENSION_SUFFIXES

from . import _http11

__all__ = ["COMPILED"]

#: True when the hot modules were compiled (the wheel built with a C compiler at hand).
COMPILED: bool = any(str(_http11.__file__).endswith(suffix) for suffix in EXTENSION_SUFFIXES)
