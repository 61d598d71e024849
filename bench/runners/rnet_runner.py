"""Runner for rnet: one ``rnet.Client`` (Rust: a fork of hyper and reqwest, on a tokio thread).

Run inside ``bench/.venvs/rnet``. The client is ``Client(pool_max_size=N,
pool_max_idle_per_host=N, no_proxy=True)``: N connections, all kept alive. Each request is
``await client.get(url)`` and its body is read with ``await resp.bytes()``. In the realistic
scenario: ``client.get(url, query=[...], headers=...)`` (rnet takes the query as a list of
pairs, made once from the parameters) and ``client.post(url, json=..., headers=...)``.

For an https URL the client gets ``verify=Path(--cafile)``; rnet offers h2 in ALPN by default
and multiplexes the requests over one connection, so ``--http2`` needs nothing more.
``resp.version`` (``rnet.Version.HTTP_11``, ``HTTP_2``) is reported as ``1.1`` or ``2``.

In the ``download`` scenario one connection streams the body: ``async with resp.stream()``
and ``async for chunk in`` it. The process ends with ``_harness.exit_without_finalizing()``
once its result is printed (rnet 2.4 can crash while the interpreter finalizes).
Only the standard library and ``rnet`` are imported here.
"""

from __future__ import annotations

from importlib import metadata
from pathlib import Path
from typing import Any

import _harness
import _realistic
import _transfer
import rnet

_HTTP_11, _HTTP_2 = rnet.Version.HTTP_11, rnet.Version.HTTP_2


def _version(resp: Any) -> str:
    # rnet's Version members compare equal but are not hashable: no dict lookup.
    version = resp.version
    if version == _HTTP_11:
        return "1.1"
    return "2" if version == _HTTP_2 else str(version)


async def open_client(opts: _harness.Options) -> tuple[_harness.Fetch, _harness.Close]:
    if opts.new_conn:
        raise ValueError("the rnet runner keeps connections alive (no --new-conn)")
    options: dict[str, Any] = {
        "pool_max_size": opts.concurrency,
        "pool_max_idle_per_host": opts.concurrency,
        "no_proxy": True,
    }
    if opts.cafile is not None:
        options["verify"] = Path(opts.cafile)
    client = rnet.Client(**options)

    async def close() -> None:
        """rnet has no close: its pool is dropped with the client."""

    if opts.workload is not None:
        work = _realistic.load(opts)
        url, headers, payload = work.url, work.headers, work.payload
        query = list(work.params.items())

        async def get() -> tuple[int, _realistic.Body, str]:
            resp = await client.get(url, query=query, headers=headers)
            return resp.status, await resp.bytes(), _version(resp)

        async def post() -> tuple[int, _realistic.Body, str]:
            resp = await client.post(url, json=payload, headers=headers)
            return resp.status, await resp.bytes(), _version(resp)

        return _realistic.alternate(work, get, post), close

    url = opts.url

    async def fetch() -> tuple[int, int, str]:
        resp = await client.get(url)
        body = await resp.bytes()
        return resp.status, len(body), _version(resp)

    return fetch, close


async def open_transfer(opts: _transfer.TransferOptions) -> _transfer.TransferClient:
    """One connection; a download streams with ``async for chunk in resp.stream()``."""
    client = rnet.Client(pool_max_size=1, pool_max_idle_per_host=1, no_proxy=True)

    async def download(url: str) -> tuple[int, int]:
        got = 0
        resp = await client.get(url)
        async with resp.stream() as streamer:
            async for chunk in streamer:
                got += len(chunk)
        return resp.status, got

    async def close() -> None:
        """rnet has no close: its pool is dropped with the client."""

    return _transfer.TransferClient(download, None, close)


def library() -> dict[str, Any]:
    return {"name": "rnet", "version": metadata.version("rnet"), "module": rnet.__file__}


if __name__ == "__main__":
    _transfer.run(_harness.fetch_measure(open_client), open_transfer, library, exit_hard=True)
