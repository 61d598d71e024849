"""A small typed wrapper around a JSON API with BaseClient.

    python examples/server.py &
    python examples/base_client.py http://127.0.0.1:8080
"""

from __future__ import annotations

import asyncio
import os
import sys
from typing import Any, TypedDict

from aiosonic import BaseClient, HttpResponse, HTTPStatusError

BASE_URL = sys.argv[1] if len(sys.argv) > 1 else os.environ.get("BASE_URL", "http://127.0.0.1:8080")


class Item(TypedDict):
    id: int
    name: str


class ItemsAPI(BaseClient):
    """The demo server's /api/items: every method returns parsed JSON, and a 4xx or 5xx
    answer raises HTTPStatusError (parse_responses; without it a call returns the
    HttpResponse)."""

    base_url = BASE_URL + "/api"
    default_headers = {"Accept": "application/json", "User-Agent": "items-example/1.0"}
    parse_responses = True

    async def create(self, name: str) -> Item:
        item: Item = await self.post("/items", json={"name": name})
        return item

    async def get_item(self, item_id: int) -> Item:
        item: Item = await self.get(f"/items/{item_id}")
        return item

    async def list_items(self) -> list[Item]:
        items: list[Item] = await self.get("/items")
        return items

    async def remove(self, item_id: int) -> None:
        await self.delete(f"/items/{item_id}")

    async def process_response(self, response: HttpResponse) -> Any:
        # A hook you may override: here, an empty 204 becomes None rather than "".
        if response.status_code == 204:
            return None
        return await super().process_response(response)


async def main() -> None:
    async with ItemsAPI() as api:
        first = await api.create("keyboard")
        second = await api.create("mouse")
        print("created:", first["name"], second["name"])
        print("read:", (await api.get_item(first["id"]))["name"])
        await api.remove(first["id"])
        print("names:", sorted(item["name"] for item in await api.list_items()))
        try:
            await api.get_item(first["id"])
        except HTTPStatusError as exc:
            print("gone:", exc.status_code)


if __name__ == "__main__":
    asyncio.run(main())
