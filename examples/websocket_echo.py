"""A WebSocket client: send text, binary and JSON to an echo server and read the answers.

    python examples/server.py &
    python examples/websocket_echo.py ws://127.0.0.1:8080/ws
"""

from __future__ import annotations

import asyncio
import os
import sys

from aiosonic import MessageType, WebSocketClient

URL = sys.argv[1] if len(sys.argv) > 1 else os.environ.get("WS_URL", "ws://127.0.0.1:8080/ws")


async def main() -> None:
    async with WebSocketClient() as client:
        async with await client.connect(URL, keepalive_interval=20) as ws:
            await ws.send_text("hello")
            print("text:", await ws.receive_text(timeout=5))

            await ws.send_bytes(b"\x00\x01\x02")
            print("bytes:", await ws.receive_bytes(timeout=5))

            await ws.send_json({"op": "ping", "n": 1})
            print("json:", await ws.receive_json(timeout=5))

            for word in ("one", "two", "three"):
                await ws.send_text(word)
            async for message in ws:  # until the server closes, or we break
                assert message.type is MessageType.TEXT
                print("message:", message.data)
                if message.data == "three":
                    break
        # Leaving the block sent a close frame and waited for the server's.
        print("closed with code", ws.close_code)


if __name__ == "__main__":
    asyncio.run(main())
