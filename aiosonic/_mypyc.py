"""The one name the compiled build's sources need from mypyc: ``mypyc_attr``.

In the compiled build (see ``hatch_build.py``) the hot modules are compiled by mypyc, and a
compiled class that code outside them subclasses (the client's pipeline, the transports
that tests and ASGI apps build on, the pools users extend) must say so with
``@mypyc_attr(allow_interpreted_subclasses=True)``. The pure build runs the same sources:
there the decorator comes from ``mypy_extensions`` when it is installed, and is a no-op
otherwise, so the package never needs it at run time.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

__all__ = ["mypyc_attr"]

_T = TypeVar("_T")

try:
    from mypy_extensions import mypyc_attr
except ImportError:  # the pure build, without mypy_extensions installed

    def mypyc_attr(*attrs: str, **kwattrs: object) -> Callable[[_T], _T]:
        return lambda cls: cls
