"""Runner for httpx: one ``AsyncClient`` limited to ``concurrency`` pooled connections.

Each request is ``await client.get(url)``, which reads the whole body into ``.content``.
With ``--http2`` the client is ``AsyncClient(http2=True, verify=<context trusting
--cafile>)``, which needs the ``h2`` package (``httpx[http2]``); httpx then multiplexes the
requests as streams over its HTTP/2 connection. ``resp.http_version`` ("HTTP/1.1",
"HTTP/2") is reported without its ``HTTP/`` prefix.
Only the standard library and ``httpx`` are imported here.
"""

from __future__ import annotations

from importlib import metadata
from typing import Any

import _harness
import httpx


async def open_client(opts: _harness.Options) -> tuple[_harness.Fetch, _harness.Close]:
    limits = httpx.Limits(
        max_connections=opts.concurrency, max_keepalive_connections=opts.concurrency
    )
    context = opts.tls_context()
    if opts.http2 or context is not None:
        client = httpx.AsyncClient(
            limits=limits, timeout=30.0, http2=opts.http2, verify=context or True
        )
    else:
        client = httpx.AsyncClient(limits=limits, timeout=30.0)
    url = opts.url

    async def fetch() -> tuple[int, int, str]:
        resp = await client.get(url)
        return resp.status_code, len(resp.content), resp.http_version.removeprefix("HTTP/")

    return fetch, client.aclose


def library() -> dict[str, Any]:
    try:
        h2_version: str | None = metadata.version("h2")
    except metadata.PackageNotFoundError:
        h2_version = None
    return {
        "name": "httpx",
        "version": httpx.__version__,
        "module": httpx.__file__,
        "h2": h2_version,
    }


if __name__ == "__main__":
    _harness.main(_harness.fetch_measure(open_client), library)
