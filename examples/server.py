"""A local server with every route the examples call (needs aiohttp: ``pip install aiohttp``).

    python examples/server.py            # http://127.0.0.1:8080
    python examples/server.py 9000       # another port
    python examples/basic.py http://127.0.0.1:8080

Routes:

    GET  /get                 the query and request headers as JSON
    POST /post                the JSON or form body it received, as JSON
    GET  /bytes/<n>           n bytes, sent in 64 KiB pieces with a Content-Length
    GET  /lines?n=<n>         n text lines, one write each
    GET  /delay/<seconds>     answers after that many seconds
    GET  /redirect/<n>        302 to /redirect/<n-1>, at 0 to /get
    GET  /cookies/set?k=v     sets the cookies given, then 302 to /cookies
    GET  /cookies             the cookies the request carried, as JSON
    GET  /flaky?key=&fail=    503 (Retry-After: 0) for the first <fail> calls per key, then 200
    POST /upload              a multipart form: its fields and the size of each file
    *    /api/items[/<id>]    a tiny JSON API: list, create, read, delete (for BaseClient)
    GET  /events              Server-Sent Events: ids 1-3, then the stream ends; a
                              reconnection with Last-Event-ID: 3 gets 204 (no more events)
    GET  /ws                  a WebSocket that echoes text and binary messages

It is a demonstration server: it keeps its state in memory and trusts its clients.
"""

from __future__ import annotations

import asyncio
import json
import sys
from collections import Counter
from typing import Any

from aiohttp import BodyPartReader, WSMsgType, web

HOST = "127.0.0.1"
_PIECE = 64 * 1024
_FLAKY: web.AppKey[Counter[str]] = web.AppKey("flaky", Counter)
_ITEMS: web.AppKey[dict[int, dict[str, Any]]] = web.AppKey("items", dict)


async def get(request: web.Request) -> web.Response:
    return web.json_response({"args": dict(request.query), "headers": dict(request.headers)})


async def post(request: web.Request) -> web.Response:
    if request.content_type == "application/json":
        return web.json_response({"json": await request.json()})
    form = await request.post()
    return web.json_response({"form": {key: str(value) for key, value in form.items()}})


async def send_bytes(request: web.Request) -> web.StreamResponse:
    size = int(request.match_info["size"])
    response = web.StreamResponse(headers={"Content-Type": "application/octet-stream"})
    response.content_length = size
    await response.prepare(request)
    piece = b"x" * _PIECE
    sent = 0
    while sent < size:
        chunk = piece[: min(_PIECE, size - sent)]
        await response.write(chunk)
        sent += len(chunk)
    await response.write_eof()
    return response


async def lines(request: web.Request) -> web.StreamResponse:
    response = web.StreamResponse(headers={"Content-Type": "text/plain; charset=utf-8"})
    await response.prepare(request)
    for number in range(1, int(request.query.get("n", "3")) + 1):
        await response.write(f"line {number}\n".encode())
    await response.write_eof()
    return response


async def delay(request: web.Request) -> web.Response:
    await asyncio.sleep(float(request.match_info["seconds"]))
    return web.json_response({"delayed": True})


async def redirect(request: web.Request) -> web.Response:
    left = int(request.match_info["n"])
    target = "/get" if left <= 0 else f"/redirect/{left - 1}"
    raise web.HTTPFound(target)


async def set_cookies(request: web.Request) -> web.Response:
    response = web.HTTPFound("/cookies")
    for name, value in request.query.items():
        response.set_cookie(name, value)
    raise response


async def cookies(request: web.Request) -> web.Response:
    return web.json_response({"cookies": dict(request.cookies)})


async def flaky(request: web.Request) -> web.Response:
    calls = request.app[_FLAKY]
    key = request.query.get("key", "")
    calls[key] += 1
    if calls[key] <= int(request.query.get("fail", "2")):
        return web.json_response(
            {"attempt": calls[key]}, status=503, headers={"Retry-After": "0"}
        )
    return web.json_response({"attempt": calls[key]})


async def upload(request: web.Request) -> web.Response:
    fields: dict[str, str] = {}
    files: dict[str, dict[str, Any]] = {}
    reader = await request.multipart()
    while (part := await reader.next()) is not None:
        if not isinstance(part, BodyPartReader) or part.name is None:
            continue
        if part.filename is None:
            fields[part.name] = await part.text()
            continue
        size = 0
        while chunk := await part.read_chunk(_PIECE):
            size += len(chunk)
        files[part.name] = {"filename": part.filename, "size": size}
    return web.json_response({"fields": fields, "files": files})


async def list_items(request: web.Request) -> web.Response:
    return web.json_response(list(request.app[_ITEMS].values()))


async def create_item(request: web.Request) -> web.Response:
    items = request.app[_ITEMS]
    body = await request.json()
    item: dict[str, Any] = {"id": max(items, default=0) + 1, "name": str(body["name"])}
    items[item["id"]] = item
    return web.json_response(item, status=201)


async def read_item(request: web.Request) -> web.Response:
    item = request.app[_ITEMS].get(int(request.match_info["id"]))
    if item is None:
        return web.json_response({"error": "no such item"}, status=404)
    return web.json_response(item)


async def delete_item(request: web.Request) -> web.Response:
    request.app[_ITEMS].pop(int(request.match_info["id"]), None)
    return web.Response(status=204)


async def events(request: web.Request) -> web.StreamResponse:
    if request.headers.get("Last-Event-ID") == "3":
        return web.Response(status=204)  # the client has everything: stop reconnecting
    response = web.StreamResponse(
        headers={"Content-Type": "text/event-stream", "Cache-Control": "no-cache"}
    )
    await response.prepare(request)
    await response.write(b"retry: 100\n\n")  # reconnect after 100 ms, not 3 s
    for number in range(1, 4):
        data = json.dumps({"n": number})
        await response.write(f"id: {number}\nevent: tick\ndata: {data}\n\n".encode())
    await response.write_eof()
    return response


async def websocket(request: web.Request) -> web.WebSocketResponse:
    ws = web.WebSocketResponse()
    await ws.prepare(request)
    async for message in ws:
        if message.type == WSMsgType.TEXT:
            await ws.send_str(message.data)
        elif message.type == WSMsgType.BINARY:
            await ws.send_bytes(message.data)
    return ws


def build_app() -> web.Application:
    app = web.Application()
    app[_FLAKY] = Counter()
    app[_ITEMS] = {}
    app.router.add_get("/get", get)
    app.router.add_post("/post", post)
    app.router.add_get("/bytes/{size:\\d+}", send_bytes)
    app.router.add_get("/lines", lines)
    app.router.add_get("/delay/{seconds}", delay)
    app.router.add_get("/redirect/{n:\\d+}", redirect)
    app.router.add_get("/cookies/set", set_cookies)
    app.router.add_get("/cookies", cookies)
    app.router.add_get("/flaky", flaky)
    app.router.add_post("/upload", upload)
    app.router.add_get("/api/items", list_items)
    app.router.add_post("/api/items", create_item)
    app.router.add_get("/api/items/{id:\\d+}", read_item)
    app.router.add_delete("/api/items/{id:\\d+}", delete_item)
    app.router.add_get("/events", events)
    app.router.add_get("/ws", websocket)
    return app


def main() -> None:
    port = int(sys.argv[1]) if len(sys.argv) > 1 else 8080
    web.run_app(build_app(), host=HOST, port=port)


if __name__ == "__main__":
    main()
