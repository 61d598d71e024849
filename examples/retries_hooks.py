"""Retries with RetryPolicy, request/response event hooks, and trace points.

    python examples/server.py &
    python examples/retries_hooks.py http://127.0.0.1:8080
"""

from __future__ import annotations

import asyncio
import os
import sys
import uuid

import aiosonic
from aiosonic import HttpResponse, Request, RetryPolicy, TraceEvent

BASE_URL = sys.argv[1] if len(sys.argv) > 1 else os.environ.get("BASE_URL", "http://127.0.0.1:8080")


async def add_request_id(request: Request) -> None:
    # Request hooks run before every try and may change the request.
    request.headers["X-Request-ID"] = uuid.uuid4().hex


def log_response(response: HttpResponse) -> None:
    # Response hooks see every response, retried ones included.
    print("response:", response.status_code)


def log_trace(event: TraceEvent) -> None:
    # Trace hooks are plain functions, called synchronously with a TraceEvent.
    if event.name == "retry":
        print(f"trace: retry after attempt {event.info['attempt']} ({event.info['reason']})")
    elif event.name == "connection_created":
        print("trace: connection_created", event.info["http_version"])


async def main() -> None:
    policy = RetryPolicy(attempts=4, backoff=0.05, statuses={502, 503, 504})
    async with aiosonic.HTTPClient(
        retry=policy,
        event_hooks={
            "request": [add_request_id],
            "response": [log_response],
            "trace": [log_trace],  # every trace point; or name one: "connection_created"
        },
    ) as client:
        # The server answers 503 twice for this key, then 200.
        key = uuid.uuid4().hex
        response = await client.get(f"{BASE_URL}/flaky", params={"key": key, "fail": "2"})
        print("final:", response.status_code, await response.json())

        # retry= on one request overrides the client's policy: here, no retry at all.
        key = uuid.uuid4().hex
        response = await client.get(
            f"{BASE_URL}/flaky", params={"key": key, "fail": "1"}, retry=RetryPolicy(attempts=1)
        )
        print("without retries:", response.status_code)


if __name__ == "__main__":
    asyncio.run(main())
