"""MkDocs hook: publish files that live outside ``docs/`` with the site.

The benchmark chart (``bench/results/chart.png``) and the example scripts (``examples/*.py``)
keep one copy, where ``make bench`` and the example tests use them; this hook adds them to
the build under the same paths, so pages link to them (``../examples/basic.py``) and
``mkdocs build --strict`` checks those links like any other.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from mkdocs.structure.files import File, Files

ROOT = Path(__file__).resolve().parents[2]
PUBLISHED = ("bench/results/chart.png", "examples/*.py")


def on_files(files: Files, config: Any) -> Files:
    for pattern in PUBLISHED:
        for path in sorted(ROOT.glob(pattern)):
            uri = path.relative_to(ROOT).as_posix()
            files.append(File.generated(config, uri, abs_src_path=str(path)))
    return files
