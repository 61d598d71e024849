"""Timeouts per phase, and catching aiosonic's errors by kind.

    python examples/server.py &
    python examples/timeouts.py http://127.0.0.1:8080
"""

from __future__ import annotations

import asyncio
import os
import sys

import aiosonic
from aiosonic.exceptions import AiosonicError, BaseTimeout, ConnectError, ReadTimeout
from aiosonic.timeout import Timeouts

BASE_URL = sys.argv[1] if len(sys.argv) > 1 else os.environ.get("BASE_URL", "http://127.0.0.1:8080")


async def main() -> None:
    # The connector's timeouts are the default for every request through it.
    connector = aiosonic.TCPConnector(timeouts=Timeouts(sock_connect=2, sock_read=5))
    async with aiosonic.HTTPClient(connector) as client:
        response = await client.get(f"{BASE_URL}/delay/0.1")
        print("in time:", response.status_code)

        # timeouts= on one request replaces the connector's for that request.
        try:
            await client.get(f"{BASE_URL}/delay/2", timeouts=Timeouts(sock_read=0.3))
        except ReadTimeout as exc:
            print("ReadTimeout:", exc)

        try:
            await client.get(f"{BASE_URL}/delay/2", timeouts=Timeouts(request_timeout=0.3))
        except BaseTimeout as exc:  # every timeout; also a builtin TimeoutError
            print(type(exc).__name__ + ":", exc)

        # Nothing listens on port 1: a ConnectError (also a builtin ConnectionError).
        try:
            await client.get("http://127.0.0.1:1/")
        except ConnectError:
            print("ConnectError: nothing listens on 127.0.0.1:1")
        except AiosonicError as exc:  # the root of every error aiosonic raises
            print("other error:", exc)


if __name__ == "__main__":
    asyncio.run(main())
