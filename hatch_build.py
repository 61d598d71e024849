"""The compiled build: mypyc compiles aiosonic's hot modules into the wheel when it can.

Hatchling runs ``CompiledBuild`` for every wheel. With a C compiler, the Python headers and
mypy (a build requirement) at hand, the modules in ``COMPILED`` are compiled by mypyc into
extension modules that sit beside their sources in the wheel (an extension module is
imported before a ``.py`` of the same name), the wheel is tagged for this interpreter and
platform, and it depends on ``mypy_extensions`` (what compiled code imports). Without them
the wheel is the pure-Python one, from the very same sources, and says why in the build
output. Editable installs are never compiled: the sources in the work tree must be what
runs.

``AIOSONIC_COMPILE`` decides: ``auto`` (the default: compile if possible), ``0`` (never),
``1`` (always: a build that cannot compile fails instead of falling back).

The compilation runs in a child process (``python hatch_build.py compile DIR``) in a copy of
the package, so that neither mypyc's setuptools run nor its ``build/`` tree touches the
work tree or the build backend's process.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
import tempfile
from pathlib import Path
from typing import Any

#: The modules every request runs through, in dependency order. A module in this list must
#: hold no async generator (mypyc cannot compile one: ``_upload`` holds the request side's),
#: and a class in it that other code subclasses says so with ``_mypyc.mypyc_attr``.
COMPILED = (
    "aiosonic/_url.py",
    "aiosonic/_interfaces.py",
    "aiosonic/_huffman.py",
    "aiosonic/_hpack.py",
    "aiosonic/_h2frames.py",
    "aiosonic/_h2core.py",
    "aiosonic/_http11.py",
    "aiosonic/_request.py",
    "aiosonic/_routes.py",
    "aiosonic/connection.py",
    "aiosonic/pools.py",
    "aiosonic/_http11_conn.py",
    "aiosonic/_transport.py",
    "aiosonic/_pipeline.py",
)
#: The top-level module holding the code the compiled modules share.
GROUP = "aiosonic"
_MODES = {"auto", "0", "1"}


def compiler_missing() -> str | None:
    """Why this interpreter cannot build extension modules, or None if it can."""
    if sys.implementation.name != "cpython":
        return f"mypyc needs CPython, not {sys.implementation.name}"
    compiler = (os.environ.get("CC") or sysconfig.get_config_var("CC") or "cc").split()[0]
    if shutil.which(compiler) is None:
        return f"no C compiler ({compiler!r} not found)"
    headers = Path(sysconfig.get_paths()["include"]) / "Python.h"
    if not headers.is_file():
        return f"no Python headers ({headers} not found)"
    try:
        import mypyc  # noqa: F401
    except ImportError:
        return "mypy (mypyc) is not installed"
    return None


def compile_into(workdir: Path) -> list[Path]:
    """Compile ``COMPILED`` inside ``workdir`` (a copy of the package); the built files."""
    result = subprocess.run(
        [sys.executable, str(Path(__file__).resolve()), "compile", str(workdir)],
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        raise RuntimeError(f"mypyc failed ({result.returncode}):\n{result.stdout[-4000:]}"
                           f"{result.stderr[-4000:]}")
    suffixes = (".so", ".pyd")
    return sorted(p for p in workdir.rglob("*") if p.suffix in suffixes and "build" not in
                  p.relative_to(workdir).parts)


def _compile_here() -> None:
    """The child process: mypyc and setuptools' build_ext, in place, in the current folder."""
    from mypyc.build import mypycify
    from setuptools import Distribution

    # An isolated build environment has none of the runtime dependencies: their modules
    # are then typed as Any (calls into them are Python calls either way).
    Path("mypy.ini").write_text("[mypy]\nignore_missing_imports = True\n")
    extensions = mypycify(list(COMPILED), opt_level="3", group_name=GROUP)
    distribution = Distribution({"name": "aiosonic-compiled", "ext_modules": extensions})
    command = distribution.get_command_obj("build_ext")
    command.inplace = True
    distribution.run_command("build_ext")


try:
    from hatchling.builders.hooks.plugin.interface import BuildHookInterface
except ImportError:  # the child process needs only the functions above
    BuildHookInterface = object  # type: ignore[assignment,misc]


class CompiledBuild(BuildHookInterface):  # type: ignore[misc,valid-type]
    """Adds the compiled modules to a wheel, or leaves it pure and says why."""

    PLUGIN_NAME = "custom"

    def initialize(self, version: str, build_data: dict[str, Any]) -> None:
        self._workdir: Path | None = None
        if self.target_name != "wheel" or version == "editable":
            return
        mode = os.environ.get("AIOSONIC_COMPILE", "auto").strip().lower() or "auto"
        if mode not in _MODES:
            raise ValueError(f"AIOSONIC_COMPILE must be one of {sorted(_MODES)}, not {mode!r}")
        if mode == "0":
            self.app.display_info("aiosonic: pure-Python build (AIOSONIC_COMPILE=0)")
            return
        why = compiler_missing()
        if why is None:
            workdir = self._workdir = Path(tempfile.mkdtemp(prefix="aiosonic-mypyc-"))
            shutil.copytree(Path(self.root) / "aiosonic", workdir / "aiosonic",
                            ignore=shutil.ignore_patterns("__pycache__", "*.so", "*.pyd"))
            try:
                built = compile_into(workdir)
            except (OSError, RuntimeError) as exc:
                why = str(exc)
        if why is not None:
            if mode == "1":
                raise RuntimeError(f"AIOSONIC_COMPILE=1 but cannot compile: {why}")
            self.app.display_warning(f"aiosonic: pure-Python build ({why})")
            return
        for path in built:
            build_data["force_include"][str(path)] = path.relative_to(workdir).as_posix()
        build_data["pure_python"] = False
        build_data["infer_tag"] = True
        build_data["dependencies"].append("mypy_extensions>=1.0")
        self.app.display_info(f"aiosonic: compiled {len(COMPILED)} modules with mypyc")

    def finalize(self, version: str, build_data: dict[str, Any], artifact_path: str) -> None:
        if self._workdir is not None:
            shutil.rmtree(self._workdir, ignore_errors=True)


def main(argv: list[str]) -> int:
    """``check``: say whether this interpreter can build the compiled modules (exit 1 if
    not); ``compile DIR``: the child process of ``compile_into``."""
    if argv[:1] == ["check"]:
        why = compiler_missing()
        print(why or "a C compiler, the Python headers and mypyc are at hand")
        return 0 if why is None else 1
    if len(argv) == 2 and argv[0] == "compile":
        os.chdir(argv[1])
        _compile_here()
        return 0
    print("usage: python hatch_build.py check | compile DIR", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
