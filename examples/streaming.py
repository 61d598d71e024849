"""Stream a download with a progress callback, then read a body line by line.

    python examples/server.py &
    python examples/streaming.py http://127.0.0.1:8080
"""

from __future__ import annotations

import asyncio
import os
import sys

import aiosonic

BASE_URL = sys.argv[1] if len(sys.argv) > 1 else os.environ.get("BASE_URL", "http://127.0.0.1:8080")
SIZE = 5 * 1024 * 1024


def show_progress(received: int, total: int | None) -> None:
    # Called as body bytes arrive; total is None when the server does not announce it.
    if total and received == total:
        print(f"progress: {received:,} of {total:,} bytes")


async def main() -> None:
    async with aiosonic.HTTPClient() as client:
        # client.stream() closes the response on the way out, read or not.
        async with client.stream(
            "GET", f"{BASE_URL}/bytes/{SIZE}", download_progress=show_progress
        ) as response:
            received = 0
            pieces = 0
            async for chunk in response.iter_bytes():  # never the whole body in memory
                received += len(chunk)
                pieces += 1
        print(f"downloaded {received:,} bytes in {pieces} pieces")

        async with client.stream("GET", f"{BASE_URL}/lines?n=3") as response:
            async for line in response.iter_lines():
                print("line:", line)

        # read_chunks() is the same stream on a response from get()/request().
        response = await client.get(f"{BASE_URL}/bytes/1000")
        total = 0
        async for chunk in response.read_chunks():
            total += len(chunk)
        print("read_chunks:", total)


if __name__ == "__main__":
    asyncio.run(main())
