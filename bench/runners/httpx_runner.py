"""Runner for httpx: one ``AsyncClient`` limited to ``concurrency`` pooled connections.

Each request is ``await client.get(url)``, which reads the whole body into ``.content``.
Only the standard library and ``httpx`` are imported here.
"""

from __future__ import annotations

from typing import Any

import _harness
import httpx


async def open_client(opts: _harness.Options) -> tuple[_harness.Fetch, _harness.Close]:
    limits = httpx.Limits(
        max_connections=opts.concurrency, max_keepalive_connections=opts.concurrency
    )
    client = httpx.AsyncClient(limits=limits, timeout=30.0)
    url = opts.url

    async def fetch() -> tuple[int, int]:
        resp = await client.get(url)
        return resp.status_code, len(resp.content)

    return fetch, client.aclose


def library() -> dict[str, Any]:
    return {"name": "httpx", "version": httpx.__version__, "module": httpx.__file__}


if __name__ == "__main__":
    _harness.main(_harness.fetch_measure(open_client), library)
