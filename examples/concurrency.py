"""Many requests at once through a bounded connection pool.

    python examples/server.py &
    python examples/concurrency.py http://127.0.0.1:8080
"""

from __future__ import annotations

import asyncio
import os
import sys
from collections import Counter

import aiosonic
from aiosonic import PoolConfig, TCPConnector

BASE_URL = sys.argv[1] if len(sys.argv) > 1 else os.environ.get("BASE_URL", "http://127.0.0.1:8080")


async def fetch(client: aiosonic.HTTPClient, number: int) -> int:
    response = await client.get(f"{BASE_URL}/get", params={"n": str(number)})
    await response.content()  # read to the end: the connection goes back to the pool
    return response.status_code


async def main() -> None:
    # At most 10 connections (so 10 requests in flight); each serves up to 1000 requests.
    # The server of BASE_URL gets its own pool of 4, with idle connections closed after 5 s.
    connector = TCPConnector(
        pool_size=10,
        conn_max_requests=1000,
        pool_configs={BASE_URL: PoolConfig(size=4, max_conn_idle_ms=5000)},
        timeouts=aiosonic.Timeouts(pool_acquire=10),
    )
    async with aiosonic.HTTPClient(connector) as client:
        statuses = await asyncio.gather(*(fetch(client, n) for n in range(200)))
        print("statuses:", dict(Counter(statuses)))
        print("idle:", await client.wait_requests(timeout=5))


if __name__ == "__main__":
    asyncio.run(main())
