"""Runner for aiohttp: one ``ClientSession`` over a ``TCPConnector(limit=concurrency)``.

Each request is ``async with session.get(url) as resp: await resp.read()``. aiohttp speaks
HTTP/1.1 only, so in the HTTP/2 scenario it runs HTTP/1.1 over TLS (the connector's ``ssl``
context trusts ``--cafile``) with ``concurrency`` connections; ``--http2`` is never passed.
Only the standard library and ``aiohttp`` are imported here.
"""

from __future__ import annotations

from typing import Any

import _harness
import aiohttp


def _version_text(version: Any) -> str:
    return "?" if version is None else f"{version.major}.{version.minor}"


async def open_client(opts: _harness.Options) -> tuple[_harness.Fetch, _harness.Close]:
    context = opts.tls_context()
    if context is None:
        connector = aiohttp.TCPConnector(limit=opts.concurrency)
    else:
        connector = aiohttp.TCPConnector(limit=opts.concurrency, ssl=context)
    session = aiohttp.ClientSession(connector=connector)
    url = opts.url
    known: dict[Any, str] = {aiohttp.HttpVersion11: "1.1"}

    async def fetch() -> tuple[int, int, str]:
        async with session.get(url) as resp:
            body = await resp.read()
            version = resp.version
            return resp.status, len(body), known.get(version) or _version_text(version)

    return fetch, session.close


def library() -> dict[str, Any]:
    return {"name": "aiohttp", "version": aiohttp.__version__, "module": aiohttp.__file__}


if __name__ == "__main__":
    _harness.main(_harness.fetch_measure(open_client), library)
