"""Drive an ``Auth`` flow over the public client, until the client does it itself.

This is exactly what the client wiring is to do: send what the flow yields, send the
response back in, discard the body of a response the flow answers with another attempt.
"""

from __future__ import annotations

from typing import Any

from aiosonic import HTTPClient
from aiosonic.auth import Auth
from aiosonic.request import Request
from aiosonic.response import HttpResponse


async def drive(
    client: HTTPClient, auth: Auth, url: str, method: str = "GET", data: Any = None
) -> HttpResponse:
    """Send ``method url`` with ``auth``; return the response the flow settles on."""
    flow = auth.auth_flow(Request(method, url))
    request = next(flow)
    while True:
        response = await client.request(
            request.url, request.method, headers=request.headers, data=data
        )
        try:
            request = flow.send(response)
        except StopIteration:
            return response
        except BaseException:
            await response.discard()  # the flow refused the challenge (AuthError)
            raise
        await response.discard()
