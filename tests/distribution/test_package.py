"""The wheel and sdist that ``python -m build`` makes: complete, versioned from one place,
typed, and working once installed away from this checkout.

The build runs without isolation (hatchling from the test environment) and the installed
wheel takes its dependencies from the test environment too, so that no test needs a
package index.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tarfile
import textwrap
import zipfile
from email.parser import Parser
from pathlib import Path

import pytest

import aiosonic

ROOT = Path(__file__).resolve().parents[2]

pytest.importorskip("build")
pytest.importorskip("hatchling")


@pytest.fixture(scope="module")
def dist(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The sdist and wheel as a machine without a C compiler builds them (the compiled
    wheel is built and tested by ``make pytest-compiled``)."""
    out = tmp_path_factory.mktemp("dist")
    built = subprocess.run(
        [sys.executable, "-m", "build", "--no-isolation", "--outdir", str(out), str(ROOT)],
        check=True,
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "CC": "/nonexistent/cc", "AIOSONIC_COMPILE": "auto"},
    )
    assert "aiosonic: pure-Python build (no C compiler ('/nonexistent/cc' not found))" in (
        built.stdout + built.stderr
    )
    return out


def test_a_build_that_must_compile_fails_without_a_compiler(tmp_path: Path) -> None:
    built = subprocess.run(
        [sys.executable, "-m", "build", "--no-isolation", "--wheel", "--outdir",
         str(tmp_path), str(ROOT)],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "CC": "/nonexistent/cc", "AIOSONIC_COMPILE": "1"},
    )
    assert built.returncode != 0
    assert "AIOSONIC_COMPILE=1 but cannot compile: no C compiler" in built.stdout + built.stderr
    assert not list(tmp_path.glob("*.whl"))


def _wheel(dist: Path) -> Path:
    (wheel,) = dist.glob("aiosonic-*.whl")
    return wheel


def test_wheel_has_every_module_the_types_marker_and_metadata(dist: Path) -> None:
    wheel = _wheel(dist)
    assert wheel.name == f"aiosonic-{aiosonic.__version__}-py3-none-any.whl"
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        metadata = Parser().parsestr(
            archive.read(f"aiosonic-{aiosonic.__version__}.dist-info/METADATA").decode()
        )
        entry_points = archive.read(
            f"aiosonic-{aiosonic.__version__}.dist-info/entry_points.txt"
        ).decode()
    tracked = subprocess.run(
        ["git", "ls-files", "aiosonic"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.split()
    assert tracked, "git ls-files found nothing"
    assert set(tracked) <= names
    assert "aiosonic/py.typed" in names
    assert not any("__pycache__" in name or name.startswith("tests/") for name in names)
    assert metadata["Version"] == aiosonic.__version__
    requires = " ".join(metadata.get_all("Requires-Dist") or [])
    for dependency in ("httptools", "wsproto"):
        assert dependency in requires
    # HTTP/2 is our own code (_h2frames, _h2core, _hpack): no h2, hyperframe or hpack at
    # run time (the tests' extra has h2, for the scripted servers).
    runtime = [r for r in metadata.get_all("Requires-Dist") or [] if "extra ==" not in r]
    assert not any(re.match(r"(h2|hyperframe|hpack)\b", r) for r in runtime), runtime
    assert "Typing :: Typed" in (metadata.get_all("Classifier") or [])
    assert "aiosonic = aiosonic.cli.main:main" in entry_points


def test_sdist_carries_sources_tests_and_docs(dist: Path) -> None:
    (sdist,) = dist.glob("aiosonic-*.tar.gz")
    prefix = f"aiosonic-{aiosonic.__version__}/"
    with tarfile.open(sdist) as archive:
        names = {name.removeprefix(prefix) for name in archive.getnames()}
    for required in ("pyproject.toml", "README.md", "LICENSE", "CHANGELOG.md",
                     "aiosonic/__init__.py", "aiosonic/py.typed", "tests/conftest.py"):
        assert required in names, required


def test_installed_wheel_works_outside_the_checkout(dist: Path, tmp_path: Path) -> None:
    target = tmp_path / "site"
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-index",
         "--target", str(target), str(_wheel(dist))],
        check=True,
        capture_output=True,
        timeout=120,
    )
    smoke = textwrap.dedent(
        """
        import asyncio, sys
        import aiosonic
        assert aiosonic.__file__.startswith(sys.argv[1]), aiosonic.__file__

        async def serve(reader, writer):
            await reader.readuntil(b"\\r\\n\\r\\n")
            writer.write(b"HTTP/1.1 200 OK\\r\\nContent-Length: 5\\r\\n\\r\\nhello")
            await writer.drain()
            writer.close()

        async def main():
            server = await asyncio.start_server(serve, "127.0.0.1", 0)
            port = server.sockets[0].getsockname()[1]
            async with aiosonic.HTTPClient() as client:
                response = await client.get(f"http://127.0.0.1:{port}/")
                print(response.status_code, await response.text())
            server.close()
            await server.wait_closed()

        asyncio.run(main())
        """
    )
    env = {"PYTHONPATH": str(target), "PATH": "/usr/bin:/bin", "PYTHONDONTWRITEBYTECODE": "1"}
    run = subprocess.run(
        [sys.executable, "-c", smoke, str(target)],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60,
    )
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == "200 hello"
    cli = subprocess.run(
        [sys.executable, "-m", "aiosonic", "--help"],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60,
    )
    assert cli.returncode == 0 and "usage: aiosonic" in cli.stdout
