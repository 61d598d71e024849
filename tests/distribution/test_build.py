"""Which build the suite runs against: ``make test`` runs it on the pure sources and again
on the compiled wheel, and says which each run must find (``AIOSONIC_EXPECT_BUILD``)."""

from __future__ import annotations

import importlib
import os
import sys
from importlib.machinery import EXTENSION_SUFFIXES
from pathlib import Path

import pytest

import aiosonic

ROOT = Path(__file__).resolve().parents[2]
EXPECTED = os.environ.get("AIOSONIC_EXPECT_BUILD")


def _compiled_modules() -> tuple[str, ...]:
    sys.path.insert(0, str(ROOT))
    try:
        return importlib.import_module("hatch_build").COMPILED  # type: ignore[no-any-return]
    finally:
        sys.path.remove(str(ROOT))


@pytest.mark.skipif(EXPECTED is None, reason="AIOSONIC_EXPECT_BUILD is set by make test")
def test_the_build_under_test_is_the_expected_one() -> None:
    assert EXPECTED in ("pure", "compiled")
    assert aiosonic.COMPILED is (EXPECTED == "compiled")
    for source in _compiled_modules():
        name = source.removesuffix(".py").replace("/", ".")
        module = importlib.import_module(name)
        extension = any(str(module.__file__).endswith(s) for s in EXTENSION_SUFFIXES)
        assert extension is aiosonic.COMPILED, (name, module.__file__)
        if aiosonic.COMPILED:
            assert ROOT / "aiosonic" not in Path(str(module.__file__)).parents
