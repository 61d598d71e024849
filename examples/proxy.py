"""Requests through HTTP and SOCKS proxies.

    python examples/proxy.py http://127.0.0.1:8080/get http://127.0.0.1:3128 socks5h://127.0.0.1:1080

Arguments: the URL to fetch, then one or more proxy URLs: http://[user:pass@]host:port for
an HTTP proxy (https URLs go through a CONNECT tunnel), socks5://, socks5h:// (the proxy
resolves names), socks4:// or socks4a:// for a SOCKS proxy.

To take proxies from the environment instead (HTTP_PROXY, HTTPS_PROXY, ALL_PROXY, NO_PROXY)
create the client with aiosonic.HTTPClient(trust_env=True).
"""

from __future__ import annotations

import asyncio
import os
import sys

import aiosonic
from aiosonic import Proxy
from aiosonic.exceptions import ProxyError

URL = sys.argv[1] if len(sys.argv) > 1 else os.environ.get("TARGET_URL", "https://example.com/")
PROXIES = sys.argv[2:] or [os.environ.get("PROXY_URL", "http://127.0.0.1:3128")]


async def fetch_through(proxy_url: str) -> None:
    proxy = Proxy(proxy_url)  # credentials may be in the URL; repr(proxy) never shows them
    async with aiosonic.HTTPClient(proxy=proxy) as client:
        try:
            response = await client.get(URL)
        except ProxyError as exc:  # the proxy refused (status_code: 407, 403, a SOCKS code...)
            print(f"{proxy_url.split('://')[0]}: refused ({exc.status_code})")
            return
        body = await response.content()
        print(f"{proxy_url.split('://')[0]}: {response.status_code}, {len(body)} bytes")


async def main() -> None:
    for proxy_url in PROXIES:
        await fetch_through(proxy_url)


if __name__ == "__main__":
    asyncio.run(main())
