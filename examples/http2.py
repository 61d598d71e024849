"""HTTP/2: many requests multiplexed over one connection.

    python examples/http2.py https://127.0.0.1:8443/echo [ca.pem]   # TLS: h2 through ALPN
    python examples/http2.py http://127.0.0.1:8000/echo             # cleartext h2c

For https the server's certificate is verified (against ca.pem when given, else the
system's trust store). An http:// URL is spoken to in HTTP/2 with prior knowledge (h2c):
the server must accept that (hypercorn does; nginx needs "listen ... http2" without ssl).
"""

from __future__ import annotations

import asyncio
import os
import ssl
import sys
from collections import Counter

import aiosonic

URL = sys.argv[1] if len(sys.argv) > 1 else os.environ.get("H2_URL", "https://127.0.0.1:8443/")
CA_FILE = sys.argv[2] if len(sys.argv) > 2 else os.environ.get("H2_CA_FILE")


async def main() -> None:
    context = ssl.create_default_context(cafile=CA_FILE) if CA_FILE else None
    # pool_size bounds connections; one HTTP/2 connection carries up to the server's
    # SETTINGS_MAX_CONCURRENT_STREAMS requests at once.
    connector = aiosonic.TCPConnector(pool_size=4)
    async with aiosonic.HTTPClient(connector) as client:

        async def fetch() -> str:
            response = await client.get(URL, http2=True, ssl=context)
            await response.content()
            return response.http_version

        versions = await asyncio.gather(*(fetch() for _ in range(50)))
        print("HTTP versions:", dict(Counter(versions)))


if __name__ == "__main__":
    asyncio.run(main())
