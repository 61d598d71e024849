"""GET with query parameters and headers, POST with JSON, redirects and cookies.

    python examples/server.py &
    python examples/basic.py http://127.0.0.1:8080
"""

from __future__ import annotations

import asyncio
import os
import sys

import aiosonic

BASE_URL = sys.argv[1] if len(sys.argv) > 1 else os.environ.get("BASE_URL", "http://127.0.0.1:8080")


async def main() -> None:
    async with aiosonic.HTTPClient(handle_cookies=True) as client:
        response = await client.get(
            f"{BASE_URL}/get", params={"q": "sonic"}, headers={"X-Example": "basic"}
        )
        body = await response.json()
        print("GET", response.status_code, body["args"], body["headers"]["X-Example"])

        response = await client.post(f"{BASE_URL}/post", json={"name": "aiosonic", "fast": True})
        print("POST", response.status_code, (await response.json())["json"])

        response = await client.post(f"{BASE_URL}/post", data={"field": "value"})
        print("FORM", response.status_code, (await response.json())["form"])

        # follow=True follows the redirects; response.history holds the hops.
        response = await client.get(f"{BASE_URL}/redirect/2", follow=True)
        print("REDIRECTS", len(response.history), "->", response.url)

        # handle_cookies=True keeps the cookies a response sets and sends them back.
        response = await client.get(f"{BASE_URL}/cookies/set?flavour=oat", follow=True)
        print("COOKIES", (await response.json())["cookies"])

        response = await client.get(f"{BASE_URL}/api/items/999")
        try:
            response.raise_for_status()
        except aiosonic.HTTPStatusError as exc:
            print("ERROR", exc.status_code)


if __name__ == "__main__":
    asyncio.run(main())
