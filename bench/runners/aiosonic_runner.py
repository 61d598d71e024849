"""Runner for aiosonic: both this repository's build and upstream aiosonic 1.3.3.

The parent runs this same script twice per round: once with the project's interpreter and
the repository on ``PYTHONPATH`` (client ``aiosonic``), and once with the interpreter of
``bench/.venvs/upstream`` where the released package is installed (client ``upstream``).
The result reports where ``aiosonic`` was imported from, so the parent can check that each
run measured the build it claims to.

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

import aiosonic


def _pool_api() -> str:
    """Which keyword sizes the connection pool: ``pool_size`` or the 1.3.x ``pool_configs``."""
    params = inspect.signature(aiosonic.TCPConnector).parameters
    if "pool_size" not in params and "pool_configs" in params:
        return "pool_configs"
    return "pool_size"


def _connector(size: int, http2: bool) -> Any:
    """A TCPConnector with ``size`` pooled connections, whatever the pool API looks like."""
    if _pool_api() == "pool_configs":
        from aiosonic.pools import PoolConfig

        pools = {":default": PoolConfig(size=size)}
        if http2:
            return aiosonic.TCPConnector(pool_configs=pools, http2=True)
        return aiosonic.TCPConnector(pool_configs=pools)
    return aiosonic.TCPConnector(pool_size=size)


async def open_client(opts: _harness.Options) -> tuple[_harness.Fetch, _harness.Close]:
    connector = _connector(opts.concurrency, opts.http2)
    url = opts.url
    fetch: _harness.Fetch
    if opts.http2:
        client = aiosonic.HTTPClient(connector=connector, http2=True)
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
        "h2": _distribution_version("h2"),
    }


def _distribution_version(name: str) -> str | None:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return None


if __name__ == "__main__":
    _harness.main(_harness.fetch_measure(open_client), library)
