"""Runner for httpx: one ``AsyncClient`` limited to ``concurrency`` pooled connections.

Each request is ``await client.get(url)``, which reads the whole body into ``.content``; in
the realistic scenario ``client.get(url, params=, headers=)`` and ``client.post(url, json=,
headers=)`` in turn.
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
import _realistic
import _transfer
import httpx


async def open_client(opts: _harness.Options) -> tuple[_harness.Fetch, _harness.Close]:
    # newconn: no keep-alive connections, so every request opens a new one.
    limits = httpx.Limits(
        max_connections=opts.concurrency,
        max_keepalive_connections=0 if opts.new_conn else opts.concurrency,
    )
    context = opts.tls_context()
    if opts.http2 or context is not None:
        client = httpx.AsyncClient(
            limits=limits, timeout=30.0, http2=opts.http2, verify=context or True
        )
    else:
        client = httpx.AsyncClient(limits=limits, timeout=30.0)
    url = opts.url
    if opts.workload is not None:
        work = _realistic.load(opts)
        headers, params, payload = work.headers, work.params, work.payload

        async def get() -> tuple[int, _realistic.Body, str]:
            resp = await client.get(work.url, params=params, headers=headers)
            return resp.status_code, resp.content, resp.http_version.removeprefix("HTTP/")

        async def post() -> tuple[int, _realistic.Body, str]:
            resp = await client.post(work.url, json=payload, headers=headers)
            return resp.status_code, resp.content, resp.http_version.removeprefix("HTTP/")

        return _realistic.alternate(work, get, post), client.aclose

    async def fetch() -> tuple[int, int, str]:
        resp = await client.get(url)
        return resp.status_code, len(resp.content), resp.http_version.removeprefix("HTTP/")

    return fetch, client.aclose


async def open_transfer(opts: _transfer.TransferOptions) -> _transfer.TransferClient:
    """One connection; downloads stream with ``client.stream()`` + ``aiter_raw()``."""
    limits = httpx.Limits(max_connections=1, max_keepalive_connections=1)
    client = httpx.AsyncClient(limits=limits, timeout=httpx.Timeout(60.0))

    async def download(url: str) -> tuple[int, int]:
        got = 0
        async with client.stream("GET", url) as resp:
            async for chunk in resp.aiter_raw():
                got += len(chunk)
            return resp.status_code, got

    async def upload(url: str, data: Any) -> tuple[int, str | None]:
        resp = await client.post(url, content=data)
        return resp.status_code, resp.headers.get("x-received-bytes")

    return _transfer.TransferClient(download, upload, client.aclose)


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
    _transfer.run(_harness.fetch_measure(open_client), open_transfer, library)
