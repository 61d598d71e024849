"""Runner for aiohttp: one ``ClientSession`` over a ``TCPConnector(limit=concurrency)``.

Each request is ``async with session.get(url) as resp: await resp.read()``; in the realistic
scenario ``session.get(url, params=, headers=)`` and ``session.post(url, json=, headers=)``
in turn. aiohttp speaks
HTTP/1.1 only, so in the HTTP/2 scenario it runs HTTP/1.1 over TLS (the connector's ``ssl``
context trusts ``--cafile``) with ``concurrency`` connections; ``--http2`` is never passed.
Only the standard library and ``aiohttp`` are imported here.
"""

from __future__ import annotations

from typing import Any

import _harness
import _realistic
import _transfer
import aiohttp


def _version_text(version: Any) -> str:
    return "?" if version is None else f"{version.major}.{version.minor}"


async def open_client(opts: _harness.Options) -> tuple[_harness.Fetch, _harness.Close]:
    context = opts.tls_context()
    # newconn: force_close=True closes every connection after its response.
    extra: dict[str, Any] = {"force_close": True} if opts.new_conn else {}
    if context is None:
        connector = aiohttp.TCPConnector(limit=opts.concurrency, **extra)
    else:
        connector = aiohttp.TCPConnector(limit=opts.concurrency, ssl=context, **extra)
    session = aiohttp.ClientSession(connector=connector)
    url = opts.url
    known: dict[Any, str] = {aiohttp.HttpVersion11: "1.1"}
    if opts.workload is not None:
        work = _realistic.load(opts)
        headers, params, payload = work.headers, work.params, work.payload

        async def get() -> tuple[int, _realistic.Body, str]:
            async with session.get(work.url, params=params, headers=headers) as resp:
                body = await resp.read()
                return resp.status, body, known.get(resp.version) or _version_text(resp.version)

        async def post() -> tuple[int, _realistic.Body, str]:
            async with session.post(work.url, json=payload, headers=headers) as resp:
                body = await resp.read()
                return resp.status, body, known.get(resp.version) or _version_text(resp.version)

        return _realistic.alternate(work, get, post), session.close

    async def fetch() -> tuple[int, int, str]:
        async with session.get(url) as resp:
            body = await resp.read()
            version = resp.version
            return resp.status, len(body), known.get(version) or _version_text(version)

    return fetch, session.close


async def open_transfer(opts: _transfer.TransferOptions) -> _transfer.TransferClient:
    """One connection; downloads stream with ``resp.content.iter_any()``."""
    session = aiohttp.ClientSession(
        connector=aiohttp.TCPConnector(limit=1),
        timeout=aiohttp.ClientTimeout(total=None, sock_read=60),
    )

    async def download(url: str) -> tuple[int, int]:
        got = 0
        async with session.get(url) as resp:
            async for chunk in resp.content.iter_any():
                got += len(chunk)
            return resp.status, got

    async def upload(url: str, data: Any) -> tuple[int, str | None]:
        async with session.post(url, data=data) as resp:
            await resp.read()
            return resp.status, resp.headers.get("X-Received-Bytes")

    return _transfer.TransferClient(download, upload, session.close)


def library() -> dict[str, Any]:
    return {"name": "aiohttp", "version": aiohttp.__version__, "module": aiohttp.__file__}


if __name__ == "__main__":
    _transfer.run(_harness.fetch_measure(open_client), open_transfer, library)
