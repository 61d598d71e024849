"""MkDocs hook: the command line page shows ``aiosonic --help`` as this checkout prints it.

A page line that is exactly ``<!-- aiosonic --help -->`` becomes a text block with the help
of ``aiosonic.cli.args.build_parser()``, formatted 100 columns wide, so the page can never
drift from the options the command really has.
"""

from __future__ import annotations

import os
from typing import Any

MARKER = "<!-- aiosonic --help -->"


def _help() -> str:
    from aiosonic.cli.args import build_parser

    saved = os.environ.get("COLUMNS")
    os.environ["COLUMNS"] = "100"  # argparse wraps to the terminal's width
    try:
        return build_parser().format_help()
    finally:
        if saved is None:
            del os.environ["COLUMNS"]
        else:
            os.environ["COLUMNS"] = saved


def on_page_markdown(markdown: str, page: Any, config: Any, files: Any) -> str:
    if MARKER not in markdown:
        return markdown
    block = "```text\n$ aiosonic --help\n" + _help().rstrip() + "\n```"
    return markdown.replace(MARKER, block)
