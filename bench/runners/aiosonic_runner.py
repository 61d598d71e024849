"""Runner for aiosonic: both this repository's build and upstream aiosonic 1.3.3.

The parent runs this same script twice per round: once with the project's interpreter and
the repository on ``PYTHONPATH`` (client ``aiosonic``), and once with the interpreter of
``bench/.venvs/upstream`` where the released package is installed (client ``upstream``).
The result reports where ``aiosonic`` was imported from, so the parent can check that each
run measured the build it claims to.

With ``--workload`` (the realistic scenario) it sends ``get(url, headers=, params=)`` and
``post(url, json=, headers=)`` in turn, the same calls on both builds.

With ``--http2`` the client is created with ``http2=True`` and every request passes
``ssl=`` a context trusting ``--cafile``. Upstream 1.3.3 multiplexes HTTP/2 streams only
when its connector is created with ``http2=True`` too (``Http2MultiplexPool``), so it gets
that as well; this repository's connector needs nothing extra.

Only the standard library and ``aiosonic`` are imported here.
"""

from __future__ import annotations

import inspect
from importlib import metadata
from typing import Any

import _harness
import _realistic
import _transfer

import aiosonic


def _pool_api() -> str:
    """Which keyword sizes the connection pool: ``pool_size`` or the 1.3.x ``pool_configs``."""
    params = inspect.signature(aiosonic.TCPConnector).parameters
    if "pool_size" not in params and "pool_configs" in params:
        return "pool_configs"
    return "pool_size"


def _connector(size: int, http2: bool, new_conn: bool = False) -> Any:
    """A TCPConnector with ``size`` pooled connections, whatever the pool API looks like.

    ``new_conn``: one request per connection (``conn_max_requests=1``, or the 1.3.x
    ``PoolConfig(max_conn_requests=1)``).
    """
    if _pool_api() == "pool_configs":
        from aiosonic.pools import PoolConfig

        config = PoolConfig(size=size, max_conn_requests=1) if new_conn else PoolConfig(size=size)
        pools = {":default": config}
        if http2:
            return aiosonic.TCPConnector(pool_configs=pools, http2=True)
        return aiosonic.TCPConnector(pool_configs=pools)
    if new_conn:
        return aiosonic.TCPConnector(pool_size=size, conn_max_requests=1)
    return aiosonic.TCPConnector(pool_size=size)


async def open_client(opts: _harness.Options) -> tuple[_harness.Fetch, _harness.Close]:
    connector = _connector(opts.concurrency, opts.http2, opts.new_conn)
    url = opts.url
    fetch: _harness.Fetch
    if opts.workload is not None:
        client = aiosonic.HTTPClient(connector=connector)
        fetch = _realistic_fetch(client, _realistic.load(opts))
    elif opts.http2 or opts.cafile is not None:
        if opts.http2:
            client = aiosonic.HTTPClient(connector=connector, http2=True)
        else:  # HTTP/1.1 over TLS (newconn's TLS variant)
            client = aiosonic.HTTPClient(connector=connector)
        context = opts.tls_context()

        async def fetch() -> tuple[int, int, str]:
            resp = await client.get(url, ssl=context)
            body = await resp.content()
            return resp.status_code, len(body), resp.http_version

    else:
        client = aiosonic.HTTPClient(connector=connector)

        async def fetch() -> tuple[int, int, str]:
            resp = await client.get(url)
            body = await resp.content()
            return resp.status_code, len(body), resp.http_version

    async def close() -> None:
        closer = getattr(client, "close", None) or getattr(client, "aclose", None)
        if closer is not None:
            await closer()
        else:
            await connector.cleanup()

    return fetch, close


def _realistic_fetch(client: Any, work: _realistic.Workload) -> _harness.Fetch:
    """The realistic mix: ``get(url, headers=, params=)`` and ``post(url, json=, headers=)``."""
    url, headers, params, payload = work.url, work.headers, work.params, work.payload

    async def get() -> tuple[int, _realistic.Body, str]:
        resp = await client.get(url, headers=headers, params=params)
        return resp.status_code, await resp.content(), resp.http_version

    async def post() -> tuple[int, _realistic.Body, str]:
        resp = await client.post(url, json=payload, headers=headers)
        return resp.status_code, await resp.content(), resp.http_version

    return _realistic.alternate(work, get, post)


async def open_transfer(opts: _transfer.TransferOptions) -> _transfer.TransferClient:
    """One pooled connection; bodies are streamed with ``read_chunks()`` and counted."""
    connector = _connector(1, False)
    client = aiosonic.HTTPClient(connector=connector)
    from aiosonic.timeout import Timeouts  # both builds have it here

    timeouts = Timeouts(request_timeout=None, sock_read=60)

    # 1.3.x reads the whole body before returning unless asked for stream=True; this
    # repository's client always leaves the body on the connection until it is read.
    streaming = "stream" in inspect.signature(client.request).parameters

    async def download(url: str) -> tuple[int, int]:
        if streaming:
            request: Any = client.request  # 1.3.x's signature: this repository's has no stream
            resp = await request(url, "GET", timeouts=timeouts, stream=True)
        else:
            resp = await client.get(url, timeouts=timeouts)
        got = 0
        async for chunk in resp.read_chunks():
            got += len(chunk)
        return resp.status_code, got

    async def upload(url: str, data: Any) -> tuple[int, str | None]:
        resp = await client.post(url, data=data, timeouts=timeouts)
        await resp.content()
        return resp.status_code, resp.headers.get("x-received-bytes")

    async def close() -> None:
        closer = getattr(client, "close", None) or getattr(client, "aclose", None)
        if closer is not None:
            await closer()
        else:
            await connector.cleanup()

    return _transfer.TransferClient(download, upload, close)


def library() -> dict[str, Any]:
    version = getattr(aiosonic, "__version__", None)
    if version is None:
        try:
            version = metadata.version("aiosonic")
        except metadata.PackageNotFoundError:
            version = "?"
    return {
        "name": "aiosonic",
        "version": str(version),
        "module": aiosonic.__file__,
        "pool_api": _pool_api(),
        "compiled": getattr(aiosonic, "COMPILED", None),  # None: a build without the flag
        "h2": _distribution_version("h2"),
    }


def _distribution_version(name: str) -> str | None:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return None


if __name__ == "__main__":
    _transfer.run(_harness.fetch_measure(open_client), open_transfer, library)
