"""Runner for aiosonic: both this repository's build and upstream aiosonic 1.3.3.

The parent runs this same script twice per round: once with the project's interpreter and
the repository on ``PYTHONPATH`` (client ``aiosonic``), and once with the interpreter of
``bench/.venvs/upstream`` where the released package is installed (client ``upstream``).
The result reports where ``aiosonic`` was imported from, so the parent can check that each
run measured the build it claims to.

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


def _connector(size: int) -> Any:
    """A TCPConnector with ``size`` pooled connections, whatever the pool API looks like."""
    if _pool_api() == "pool_configs":
        from aiosonic.pools import PoolConfig

        return aiosonic.TCPConnector(pool_configs={":default": PoolConfig(size=size)})
    return aiosonic.TCPConnector(pool_size=size)


async def open_client(opts: _harness.Options) -> tuple[_harness.Fetch, _harness.Close]:
    connector = _connector(opts.concurrency)
    client = aiosonic.HTTPClient(connector=connector)
    url = opts.url

    async def fetch() -> tuple[int, int]:
        resp = await client.get(url)
        body = await resp.content()
        return resp.status_code, len(body)

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
    }


if __name__ == "__main__":
    _harness.main(_harness.fetch_measure(open_client), library)
