"""Runner for pyreqwest: one ``Client`` (Rust reqwest and hyper, on pyreqwest's tokio thread).

Run inside ``bench/.venvs/pyreqwest``. The client is built once with
``ClientBuilder().max_connections(N).pool_max_idle_per_host(N).no_proxy()``: at most N requests
in flight, and every connection they need kept alive. Each request is built and sent with
``client.get(url).build().send()`` and its body read with ``await resp.bytes()`` (a
``pyreqwest.bytes.Bytes``, which has a length and compares equal to ``bytes``). In the realistic
scenario the GET takes ``.query(params).headers(headers)`` and the POST
``.headers(headers).body_json(payload)``.

With ``--http2`` the builder gets ``.http2(True)``, which offers h2 in ALPN and multiplexes
the requests over one connection; ``--cafile`` is added with ``add_root_certificate_pem``.
``resp.version`` (``HTTP/1.1``, ``HTTP/2.0``) is reported as ``1.1`` or ``2``, so the harness
checks the version of every response.

In the ``download`` scenario one connection streams the body: ``build_streamed()`` and
``resp.body_reader.read_chunk()`` until it returns None. The process ends with
``_harness.exit_without_finalizing()`` once its result is printed (pyreqwest 0.15 can abort
while the interpreter finalizes).
Only the standard library and ``pyreqwest`` are imported here.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import _harness
import _realistic
import _transfer
import pyreqwest
from pyreqwest.client import ClientBuilder

_VERSIONS = {"HTTP/1.1": "1.1", "HTTP/2.0": "2", "HTTP/2": "2"}


def _version(resp: Any) -> str:
    text = str(resp.version)
    return _VERSIONS.get(text, text)


def _read_ca(cafile: str) -> bytes:
    """The CA's PEM, read once before the client is built (before anything is measured)."""
    return Path(cafile).read_bytes()


async def open_client(opts: _harness.Options) -> tuple[_harness.Fetch, _harness.Close]:
    if opts.new_conn:
        raise ValueError("the pyreqwest runner keeps connections alive (no --new-conn)")
    builder = (
        ClientBuilder()
        .max_connections(opts.concurrency)
        .pool_max_idle_per_host(opts.concurrency)
        .no_proxy()
    )
    if opts.cafile is not None:
        builder = builder.add_root_certificate_pem(_read_ca(opts.cafile))
    if opts.http2:
        builder = builder.http2(True)
    client = builder.build()

    if opts.workload is not None:
        work = _realistic.load(opts)
        url, headers, params, payload = work.url, work.headers, work.params, work.payload

        async def get() -> tuple[int, _realistic.Body, str]:
            resp = await client.get(url).query(params).headers(headers).build().send()
            return resp.status, await resp.bytes(), _version(resp)

        async def post() -> tuple[int, _realistic.Body, str]:
            resp = await client.post(url).headers(headers).body_json(payload).build().send()
            return resp.status, await resp.bytes(), _version(resp)

        return _realistic.alternate(work, get, post), client.close

    url = opts.url

    async def fetch() -> tuple[int, int, str]:
        resp = await client.get(url).build().send()
        body = await resp.bytes()
        return resp.status, len(body), _version(resp)

    return fetch, client.close


async def open_transfer(opts: _transfer.TransferOptions) -> _transfer.TransferClient:
    """One connection; a download streams with ``build_streamed()`` and ``read_chunk()``."""
    client = ClientBuilder().max_connections(1).no_proxy().build()

    async def download(url: str) -> tuple[int, int]:
        got = 0
        async with client.get(url).build_streamed() as resp:
            reader = resp.body_reader
            while (chunk := await reader.read_chunk()) is not None:
                got += len(chunk)
            return resp.status, got

    return _transfer.TransferClient(download, None, client.close)


def library() -> dict[str, Any]:
    return {"name": "pyreqwest", "version": pyreqwest.__version__, "module": pyreqwest.__file__}


if __name__ == "__main__":
    _transfer.run(_harness.fetch_measure(open_client), open_transfer, library, exit_hard=True)
