"""Tests that close the coverage gaps left by the feature suites, one file per module.

The HTTP/2 test servers live in ``tests/http2/h2_servers.py``; that folder has no
``__init__.py`` (a package named like the ``h2`` library would shadow it), so it is put on
``sys.path`` here for ``import h2_servers`` to work when only this folder is collected.
"""

from __future__ import annotations

import sys
from pathlib import Path

_H2_HELPERS = str(Path(__file__).resolve().parents[1] / "http2")
if _H2_HELPERS not in sys.path:
    sys.path.append(_H2_HELPERS)
