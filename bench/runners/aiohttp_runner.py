"""Runner for aiohttp: one ``ClientSession`` over a ``TCPConnector(limit=concurrency)``.

Each request is ``async with session.get(url) as resp: await resp.read()``.
Only the standard library and ``aiohttp`` are imported here.
"""

from __future__ import annotations

from typing import Any

import _harness
import aiohttp


async def open_client(opts: _harness.Options) -> tuple[_harness.Fetch, _harness.Close]:
    session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=opts.concurrency))
    url = opts.url

    async def fetch() -> tuple[int, int]:
        async with session.get(url) as resp:
            body = await resp.read()
            return resp.status, len(body)

    return fetch, session.close


def library() -> dict[str, Any]:
    return {"name": "aiohttp", "version": aiohttp.__version__, "module": aiohttp.__file__}


if __name__ == "__main__":
    _harness.main(_harness.fetch_measure(open_client), library)
