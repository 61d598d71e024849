"""A kept-alive connection the server closes after reading a request, without answering.

Only idempotent requests may be retried on a fresh connection; a POST (or PATCH) must fail
with ``ConnectionDisconnected`` and reach the server exactly once.
"""

from __future__ import annotations

import asyncio
import json

import pytest
from support.raw import RawRequest, read_request, simple_response

from aiosonic.exceptions import ConnectionDisconnected

BODY = b'{"transfer": 100}'


async def _start(raw_server):
    seen: list[RawRequest] = []

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        # Each connection answers its first request and keeps the connection alive, then
        # reads the second one completely and closes without a word.
        first = await read_request(reader)
        if first is None:
            return
        seen.append(first)
        writer.write(simple_response(b"first"))
        await writer.drain()
        second = await read_request(reader)
        if second is None:
            return
        seen.append(second)
        # and return: the server closes the connection

    server = await raw_server(handler=handler)
    return server, seen


@pytest.mark.parametrize("method", ["POST", "PATCH"])
async def test_non_idempotent_request_is_never_replayed(raw_server, make_client, method):
    server, seen = await _start(raw_server)
    client, connector = make_client(pool_size=1)
    warmup = await client.get(server.url("/warmup"))
    assert await warmup.content() == b"first"
    with pytest.raises(ConnectionDisconnected):
        response = await asyncio.wait_for(
            client.request(server.url("/pay"), method, data=BODY), 5
        )
        pytest.fail(f"the {method} got an answer: {response!r}")
    sent = [r for r in seen if r.target == "/pay"]
    assert len(sent) == 1, f"the server saw the {method} {len(sent)} times"
    assert sent[0].method == method
    assert sent[0].body == BODY
    assert server.connections == 1
    assert await connector.pool.wait_all_free(1)


@pytest.mark.parametrize("method", ["GET", "PUT", "DELETE"])
async def test_idempotent_request_is_retried_once(raw_server, make_client, method):
    server, seen = await _start(raw_server)
    client, connector = make_client(pool_size=1)
    warmup = await client.get(server.url("/warmup"))
    assert await warmup.content() == b"first"
    data = BODY if method == "PUT" else None
    response = await asyncio.wait_for(client.request(server.url("/item"), method, data=data), 5)
    assert response.status_code == 200
    assert await response.content() == b"first"  # answered by the fresh connection
    sent = [r for r in seen if r.target == "/item"]
    assert [r.method for r in sent] == [method, method]
    if data is not None:
        assert [r.body for r in sent] == [BODY, BODY]
    assert server.connections == 2
    assert await connector.pool.wait_all_free(1)


async def test_json_post_is_not_replayed_either(raw_server, make_client):
    server, seen = await _start(raw_server)
    client, _ = make_client(pool_size=1)
    await (await client.get(server.url("/warmup"))).content()
    with pytest.raises(ConnectionDisconnected):
        await asyncio.wait_for(client.post(server.url("/pay"), json={"n": 1}), 5)
    sent = [r for r in seen if r.target == "/pay"]
    assert len(sent) == 1
    assert json.loads(sent[0].body) == {"n": 1}
