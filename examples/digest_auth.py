"""HTTP Digest authentication: the first request answers the server's 401 challenge, later
ones to the same server carry credentials at once.

    python examples/digest_auth.py https://httpbin.org/digest-auth/auth/user/passwd user passwd

Arguments: a Digest-protected URL, the user and the password (environment: DIGEST_URL,
DIGEST_USER, DIGEST_PASSWORD).
"""

from __future__ import annotations

import asyncio
import os
import sys

import aiosonic
from aiosonic import DigestAuth, HttpResponse

ARGS = sys.argv[1:] + [None] * 3
URL = ARGS[0] or os.environ.get("DIGEST_URL", "http://127.0.0.1:8080/protected")
USER = ARGS[1] or os.environ.get("DIGEST_USER", "user")
PASSWORD = ARGS[2] or os.environ.get("DIGEST_PASSWORD", "passwd")


def log_response(response: HttpResponse) -> None:
    print("  response:", response.status_code)


async def main() -> None:
    # auth= on the client applies to every request to the origin of the request's URL;
    # auths={"host:port": ...} would pick credentials per host instead.
    auth = DigestAuth(USER, PASSWORD)
    async with aiosonic.HTTPClient(auth=auth, event_hooks={"response": [log_response]}) as client:
        print("first request:")
        response = await client.get(URL)
        print("  final:", response.status_code, await response.json())
        print("second request:")
        response = await client.get(URL)
        print("  final:", response.status_code)


if __name__ == "__main__":
    asyncio.run(main())
