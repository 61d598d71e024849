"""MkDocs hook: RST's literal-block marker in docstrings reads as a colon on the site.

Our docstrings are prose rendered as Markdown (``docstring_style: null``). A paragraph that
ends with ``::`` introduces an indented block in reStructuredText; Markdown renders that
block as code already but keeps both colons. This turns the ``::`` that ends a rendered
paragraph into ``:``; nothing else is touched.
"""

from __future__ import annotations

from typing import Any


def on_page_content(html: str, page: Any, config: Any, files: Any) -> str:
    return html.replace("::</p>", ":</p>")
