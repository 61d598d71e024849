"""1,000 requests cancelled at random moments leave no slot taken and no socket open."""

from __future__ import annotations

import asyncio
import base64
import json
import random
from collections import Counter

from support.app import payload
from support.faults import tcp_fds_to_port

REQUESTS = 1_000
POOL_SIZE = 16
IN_FLIGHT = 48  # tasks alive at once: two thirds of them wait for a pool slot
STREAM_SIZE = 256 * 1024


async def _one(client, server, kind: str, arg: float | int) -> str:
    if kind == "get":
        response = await client.get(server.url(f"/slow?delay={arg}"))
        data = json.loads(await response.content())
        assert response.status_code == 200
        assert data["query"] == f"delay={arg}"
    elif kind == "post":
        body = payload(int(arg), seed=7)
        response = await client.post(server.url("/echo"), data=body)
        data = json.loads(await response.content())
        assert response.status_code == 200
        assert base64.b64decode(data["body_b64"]) == body
    else:
        response = await client.get(server.url(f"/stream/{STREAM_SIZE}?piece=8192"))
        assert response.status_code == 200
        received = bytearray()
        async for chunk in response.read_chunks():
            received += chunk
        assert bytes(received) == payload(STREAM_SIZE)
    return kind


async def _settle(connector, timeout: float = 2.0) -> bool:
    loop = asyncio.get_running_loop()
    end = loop.time() + timeout
    while not connector.pool.is_all_free():
        if loop.time() > end:
            return False
        await asyncio.sleep(0.01)
    return True


async def test_cancellation_storm(server, make_client):
    rng = random.Random(20261124)
    client, connector = make_client(pool_size=POOL_SIZE)
    outcomes: Counter[str] = Counter()
    unexpected: list[BaseException] = []
    gate = asyncio.Semaphore(IN_FLIGHT)

    async def run() -> None:
        roll = rng.random()
        if roll < 0.45:
            kind, arg = "get", round(rng.uniform(0, 0.02), 4)
        elif roll < 0.8:
            kind, arg = "post", rng.choice((0, 100, 5_000, 70_000))
        else:
            kind, arg = "stream", 0
        # When to cancel: immediately, soon, or late enough to hit the body (or never).
        when = rng.choice(
            (0.0, rng.uniform(0, 0.002), rng.uniform(0, 0.01), rng.uniform(0, 0.04), None)
        )
        task = asyncio.ensure_future(_one(client, server, kind, arg))
        try:
            if when is not None:
                if when:
                    await asyncio.sleep(when)
                else:
                    await asyncio.sleep(0)
                task.cancel()
            await task
            outcomes[f"{kind}-ok"] += 1
        except asyncio.CancelledError:
            outcomes[f"{kind}-cancelled"] += 1
        except Exception as exc:  # AssertionError or AiosonicError: both are bugs here
            unexpected.append(exc)
        finally:
            gate.release()

    runners = []
    for _ in range(REQUESTS):
        await gate.acquire()
        runners.append(asyncio.ensure_future(run()))
    await asyncio.wait_for(asyncio.gather(*runners), 30)

    assert not unexpected, f"{len(unexpected)} unexpected errors, first: {unexpected[0]!r}"
    cancelled = sum(n for key, n in outcomes.items() if key.endswith("cancelled"))
    assert cancelled > REQUESTS // 2, outcomes
    assert await _settle(connector), (
        f"pool not all free after the storm: {connector.pool.free_conns()} of {POOL_SIZE}"
    )
    assert tcp_fds_to_port(server.port) <= POOL_SIZE

    # The client still works at full concurrency, with correct bodies.
    results = await asyncio.wait_for(
        asyncio.gather(
            *(
                _one(client, server, ("get", "post", "stream")[i % 3], 0.01 if i % 3 == 0
                     else 3_000 + i)
                for i in range(POOL_SIZE)
            )
        ),
        10,
    )
    assert len(results) == POOL_SIZE
    assert await _settle(connector)
    assert 0 < tcp_fds_to_port(server.port) <= POOL_SIZE

    await client.close()
    assert tcp_fds_to_port(server.port) == 0
    print(f"\ncancellation storm outcomes: {dict(sorted(outcomes.items()))}")
