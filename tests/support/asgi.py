"""What every ASGI application of the test servers shares: answering hypercorn's lifespan
protocol (start up, then shut down when told)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]


async def run_lifespan(receive: Receive, send: Send) -> None:
    """Answer a ``lifespan`` scope until the server shuts the application down."""
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await send({"type": "lifespan.shutdown.complete"})
            return
