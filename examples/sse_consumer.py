"""Consume Server-Sent Events, resuming with Last-Event-ID when the stream ends.

    python examples/server.py &
    python examples/sse_consumer.py http://127.0.0.1:8080/events
"""

from __future__ import annotations

import asyncio
import os
import sys

from aiosonic import SSEClient

URL = sys.argv[1] if len(sys.argv) > 1 else os.environ.get("SSE_URL", "http://127.0.0.1:8080/events")


async def main() -> None:
    # A GET reconnects by default when the stream ends, sending Last-Event-ID; the demo
    # server answers that reconnection with 204, which ends the iteration.
    async with SSEClient() as client, client.connect(URL, max_reconnect_attempts=3) as events:
        async for event in events:
            print(f"event={event.event} id={event.id} data={event.json()}")
        print("last event id:", events.last_event_id)


if __name__ == "__main__":
    asyncio.run(main())
