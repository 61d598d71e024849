"""The compiled build of this repository's aiosonic, for ``--build compiled``.

``ensure_compiled()`` makes the mypyc build that ``hatch_build.py`` defines, here and for the
benchmark only: ``pip wheel`` of the repository with ``AIOSONIC_COMPILE=1`` (the build fails
rather than falling back to the pure wheel) into ``bench/.run/wheels``, then ``pip install
--no-deps --target`` into ``clients.COMPILED_BUILD`` (``bench/.run/compiled``), which the
``aiosonic`` client then has first on its ``PYTHONPATH``. The build is made once and made
again whenever a source under ``aiosonic/`` differs from the copy the build holds, so a run
never measures older code than the working tree's; it must also hold compiled modules.

It must never touch the repository's own ``build/`` folder (``make test``'s), install into
any interpreter, run a client or measure anything. A build that cannot be made raises
``RuntimeError`` with pip's output, which the setup reports as aiosonic's failure.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from importlib.machinery import EXTENSION_SUFFIXES
from pathlib import Path

from bench.clients import BENCH_DIR, COMPILED_BUILD, REPO_ROOT

WHEELS = BENCH_DIR / ".run" / "wheels"
SOURCES = REPO_ROOT / "aiosonic"


def differing_sources(target: Path = COMPILED_BUILD) -> list[str]:
    """The sources (relative to ``aiosonic/``) whose copy in the build ``target`` is missing
    or not the same."""
    built = target / "aiosonic"
    differing = []
    for source in sorted(SOURCES.rglob("*.py")):
        name = source.relative_to(SOURCES)
        copy = built / name
        if not copy.is_file() or copy.read_bytes() != source.read_bytes():
            differing.append(str(name))
    return differing


def compiled_modules(target: Path = COMPILED_BUILD) -> list[str]:
    """The extension modules of the build ``target`` (empty: it is not compiled)."""
    built = target / "aiosonic"
    if not built.is_dir():
        return []
    return sorted(p.name for p in built.iterdir() if p.name.endswith(tuple(EXTENSION_SUFFIXES)))


def _run(argv: list[str], what: str, env: dict[str, str] | None = None) -> None:
    proc = subprocess.run(argv, capture_output=True, text=True, env=env, check=False)
    if proc.returncode != 0:
        lines = (proc.stdout + proc.stderr).strip().splitlines()[-20:]
        raise RuntimeError(f"{what} failed ({proc.returncode}):\n" + "\n".join(lines))


def ensure_compiled() -> Path:
    """``COMPILED_BUILD`` holding a compiled build of the current sources (built if needed)."""
    if compiled_modules() and not differing_sources():
        return COMPILED_BUILD
    print(f"building the compiled aiosonic into {COMPILED_BUILD.relative_to(REPO_ROOT)} ...")
    for folder in (WHEELS, COMPILED_BUILD):
        shutil.rmtree(folder, ignore_errors=True)
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check"]
    env = {**os.environ, "AIOSONIC_COMPILE": "1"}
    wheel_argv = ["wheel", "--quiet", "--no-deps", "--no-build-isolation"]
    _run([*pip, *wheel_argv, "--wheel-dir", str(WHEELS), str(REPO_ROOT)], "pip wheel", env)
    wheels = sorted(WHEELS.glob("aiosonic-*.whl"))
    if len(wheels) != 1:
        raise RuntimeError(f"expected one aiosonic wheel in {WHEELS}, found {len(wheels)}")
    install = ["install", "--quiet", "--no-deps", "--target", str(COMPILED_BUILD)]
    _run([*pip, *install, str(wheels[0])], "pip install --target")
    if not compiled_modules():
        raise RuntimeError(f"the wheel {wheels[0].name} holds no compiled module")
    changed = differing_sources()
    if changed:
        raise RuntimeError(f"the sources changed while building: {', '.join(changed)}")
    return COMPILED_BUILD
